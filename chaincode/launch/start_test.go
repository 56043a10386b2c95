package launch

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type echo struct{ contractapi.Contract }

func (echo) Echo(_ contractapi.TransactionContextInterface, s string) string { return s }

func build() (*contractapi.ContractChaincode, error) { return contractapi.NewChaincode(&echo{}) }

// isolate restores the environment start changes, and keeps the
// chaincode from serving instead of dialling.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{"CORE_CHAINCODE_ID_NAME", "CORE_PEER_ADDRESS", "CORE_PEER_LOCALMSPID", "CORE_PEER_TLS_ENABLED",
		"CORE_TLS_CLIENT_CERT_FILE", "CORE_TLS_CLIENT_KEY_FILE", "CORE_PEER_TLS_ROOTCERT_FILE", "CHAINCODE_SERVER_ADDRESS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	addr := flag.Lookup("peer.address")
	require.NotNil(t, addr, "the shim registers -peer.address")
	old := addr.Value.String()
	t.Cleanup(func() { flag.Set("peer.address", old) })
}

func flags() *flag.FlagSet {
	fs := flag.NewFlagSet("mtrace-cc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func TestStartRefusesBadArguments(t *testing.T) {
	isolate(t)
	err := start(flags(), []string{"-no-such-flag"}, build)
	assert.ErrorContains(t, err, "flag provided but not defined: -no-such-flag")

	err = start(flags(), []string{"-peer-config", filepath.Join(t.TempDir(), "gone.json")}, build)
	assert.ErrorContains(t, err, "read peer config")
}

func TestStartReportsABuildFailure(t *testing.T) {
	isolate(t)
	boom := errors.New("boom")
	err := start(flags(), nil, func() (*contractapi.ContractChaincode, error) { return nil, boom })
	assert.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, "create chaincode: boom")
}

// Without a peer config and without CORE_CHAINCODE_ID_NAME the shim
// refuses to start, before it dials anything.
func TestStartWithoutAPeer(t *testing.T) {
	isolate(t)
	err := start(flags(), nil, build)
	assert.ErrorContains(t, err, "chaincode stopped: 'CORE_CHAINCODE_ID_NAME' must be set")
}

// Under a peer the TLS material is written to a private folder in the
// peer's run folder, and removed when the chaincode stops, whether it
// failed to start or could not be built.
func TestStartRemovesTheTLSFolder(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func() (*contractapi.ContractChaincode, error)
		want  string
	}{
		{"the shim refuses the TLS material", build, "chaincode stopped:"},
		{"the chaincode cannot be built", func() (*contractapi.ContractChaincode, error) { return nil, errors.New("boom") }, "create chaincode: boom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			isolate(t)
			path := writePeerConfig(t, peerConfig{
				ChaincodeID: "mtrace_1:abc", PeerAddress: "127.0.0.1:1", MSPID: "RecyclerMSP",
				ClientCert: "not a certificate", ClientKey: "not a key", RootCert: "not a root",
			})
			err := start(flags(), []string{"-peer-config", path}, c.build)
			require.ErrorContains(t, err, c.want)
			entries, err := os.ReadDir(filepath.Dir(path))
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			assert.Equal(t, []string{"chaincode.json"}, names, "the TLS folder is gone")
			assert.Equal(t, "true", os.Getenv("CORE_PEER_TLS_ENABLED"), "it was configured for TLS")
		})
	}
}

func TestRemoveOnSignalStops(t *testing.T) {
	dir := t.TempDir()
	stop := removeOnSignal(dir)
	stop()
	_, err := os.Stat(dir)
	assert.NoError(t, err, "stopping the watch removes nothing")
}
