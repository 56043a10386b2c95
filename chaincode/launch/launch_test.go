package launch

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writePeerConfig(t *testing.T, pc peerConfig) string {
	t.Helper()
	raw, err := json.Marshal(pc)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "chaincode.json")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	return path
}

func TestConfigureWithTLS(t *testing.T) {
	for _, k := range []string{"CORE_CHAINCODE_ID_NAME", "CORE_PEER_ADDRESS", "CORE_PEER_LOCALMSPID", "CORE_PEER_TLS_ENABLED",
		"CORE_TLS_CLIENT_CERT_FILE", "CORE_TLS_CLIENT_KEY_FILE", "CORE_PEER_TLS_ROOTCERT_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:9999")
	path := writePeerConfig(t, peerConfig{
		ChaincodeID: "mtrace_1:abc", PeerAddress: "127.0.0.1:27110", MSPID: "RecyclerMSP",
		ClientCert: "CERT PEM", ClientKey: "KEY PEM", RootCert: "ROOT PEM",
	})

	dir, err := configure(path)
	require.NoError(t, err)
	assert.Equal(t, filepath.Dir(path), filepath.Dir(dir), "TLS files live in the peer's run folder")
	assert.Equal(t, "mtrace_1:abc", os.Getenv("CORE_CHAINCODE_ID_NAME"))
	assert.Equal(t, "127.0.0.1:27110", os.Getenv("CORE_PEER_ADDRESS"))
	assert.Equal(t, "RecyclerMSP", os.Getenv("CORE_PEER_LOCALMSPID"))
	assert.Equal(t, "true", os.Getenv("CORE_PEER_TLS_ENABLED"))
	_, served := os.LookupEnv("CHAINCODE_SERVER_ADDRESS")
	assert.False(t, served, "under a peer the chaincode must not also serve")
	assert.Equal(t, "127.0.0.1:27110", flag.Lookup("peer.address").Value.String())

	for env, want := range map[string]string{
		"CORE_TLS_CLIENT_CERT_FILE": "CERT PEM", "CORE_TLS_CLIENT_KEY_FILE": "KEY PEM", "CORE_PEER_TLS_ROOTCERT_FILE": "ROOT PEM",
	} {
		f := os.Getenv(env)
		got, err := os.ReadFile(f)
		require.NoError(t, err, env)
		assert.Equal(t, want, string(got), env)
		info, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "%s must be private", env)
	}
}

func TestConfigureWithoutTLS(t *testing.T) {
	t.Setenv("CORE_PEER_TLS_ENABLED", "")
	dir, err := configure(writePeerConfig(t, peerConfig{ChaincodeID: "mtrace_1:abc", PeerAddress: "127.0.0.1:27110"}))
	require.NoError(t, err)
	assert.Empty(t, dir, "no TLS material, no folder")
	assert.Equal(t, "false", os.Getenv("CORE_PEER_TLS_ENABLED"))
}

func TestConfigureRejectsBadConfig(t *testing.T) {
	_, err := configure(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorContains(t, err, "read peer config")

	bad := filepath.Join(t.TempDir(), "chaincode.json")
	require.NoError(t, os.WriteFile(bad, []byte("{not json"), 0o600))
	_, err = configure(bad)
	assert.ErrorContains(t, err, "parse peer config")

	_, err = configure(writePeerConfig(t, peerConfig{PeerAddress: "127.0.0.1:1"}))
	assert.ErrorContains(t, err, "chaincode_id and peer_address are required")
}
