package member

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writePackage(t *testing.T, files map[string]string) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	p := filepath.Join(t.TempDir(), "cc.tar.gz")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

func TestPackageIDIsTheLabelAndTheFilesHash(t *testing.T) {
	p := writePackage(t, map[string]string{"metadata.json": `{"type":"mtrace-binary","label":"mtrace"}`, "code.tar.gz": "x"})
	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	sum := sha256.Sum256(raw)
	id, err := PackageID(p)
	require.NoError(t, err)
	assert.Equal(t, "mtrace:"+hex.EncodeToString(sum[:]), id)

	_, err = PackageID(writePackage(t, map[string]string{"code.tar.gz": "x"}))
	assert.ErrorContains(t, err, "no metadata.json")
	_, err = PackageID(writePackage(t, map[string]string{"metadata.json": `{"type":"x"}`}))
	assert.ErrorContains(t, err, "no label")
	notGz := filepath.Join(t.TempDir(), "x")
	require.NoError(t, os.WriteFile(notGz, []byte("plain"), 0o644))
	_, err = PackageID(notGz)
	assert.ErrorContains(t, err, "not a chaincode package")
}

func TestDefinitionFiles(t *testing.T) {
	good := Definition{Format: DefinitionFormat, Channel: "circular", Name: "mtrace", Version: "3f2a", Sequence: 2,
		PackageID: "mtrace:" + hex.EncodeToString(make([]byte, 32)), SignaturePolicy: "OR('AMSP.peer','BMSP.peer')"}
	f := filepath.Join(t.TempDir(), "mtrace-2.chaincode")
	require.NoError(t, WriteDefinition(f, &good))
	got, err := ReadDefinition(f)
	require.NoError(t, err)
	assert.Equal(t, good, *got)
	assert.Contains(t, got.lifecycleArgs(), "--signature-policy")

	for name, edit := range map[string]func(*Definition){
		"sequence 0":       func(d *Definition) { d.Sequence = 0 },
		"bad name":         func(d *Definition) { d.Name = "my cc" },
		"short package ID": func(d *Definition) { d.PackageID = "mtrace:abc" },
		"no label":         func(d *Definition) { d.PackageID = ":" + hex.EncodeToString(make([]byte, 32)) },
		"version space":    func(d *Definition) { d.Version = "1 2" },
		"no channel":       func(d *Definition) { d.Channel = "" },
	} {
		d := good
		edit(&d)
		bad := filepath.Join(t.TempDir(), "bad.chaincode")
		assert.Error(t, WriteDefinition(bad, &d), name)
		assert.NoFileExists(t, bad, name)
	}
}

func TestCommitReadinessNamesTheMissing(t *testing.T) {
	members := []string{"AMSP", "BMSP", "CMSP", "DMSP", "EMSP"}
	_, err := readiness(members, map[string]bool{"AMSP": true, "CMSP": true, "DMSP": false})
	var na *NotApprovedError
	require.ErrorAs(t, err, &na)
	assert.Equal(t, 3, na.Need)
	assert.Equal(t, []string{"AMSP", "CMSP"}, na.Approved)
	assert.Equal(t, []string{"BMSP", "DMSP", "EMSP"}, na.Missing)
	assert.Contains(t, err.Error(), "1 more needed from: BMSP, DMSP, EMSP")
	ok, err := readiness(members, map[string]bool{"AMSP": true, "CMSP": true, "EMSP": true, "ZMSP": true})
	require.NoError(t, err)
	assert.Equal(t, []string{"AMSP", "CMSP", "EMSP"}, ok, "an approval by an organisation not in the channel does not count")
}

func TestFindStringReadsThePackageIDOfAnApproval(t *testing.T) {
	// The shape `peer lifecycle chaincode queryapproved -O json` prints:
	// the package ID inside the source's oneof.
	out := []byte(`{"sequence":2,"version":"1","endorsement_plugin":"escc","validation_plugin":"vscc",
		"source":{"Type":{"LocalPackage":{"package_id":"mtrace:4a5b"}}}}`)
	var v any
	require.NoError(t, json.Unmarshal(out, &v))
	assert.Equal(t, "mtrace:4a5b", findString(v, "package_id"))
	assert.Equal(t, "", findString(v, "label"), "a key that is not there")
	assert.Equal(t, "b", findString([]any{map[string]any{"x": 1}, map[string]any{"k": "b"}}, "k"), "in a list")
	assert.Equal(t, "", findString(map[string]any{"k": 3.0}, "k"), "a value that is no string")
}

func TestParseChainInfoReadsTheHeightGetinfoPrints(t *testing.T) {
	h, err := parseChainInfo([]byte("2026-12-06 07:33:08.534 UTC 0001 INFO [channelCmd] InitCmdFactory -> Endorser and orderer connections initialized\n" +
		`Blockchain info: {"height":25,"currentBlockHash":"3q2+7w==","previousBlockHash":"AAEC"}` + "\n"))
	require.NoError(t, err)
	assert.Equal(t, uint64(25), h)
	for _, out := range []string{"", "Blockchain info: {}", "Blockchain info: not json", `{"height":3}`} {
		_, err := parseChainInfo([]byte(out))
		assert.ErrorContains(t, err, "no height", "%q", out)
	}
}

// Both ways the peer CLI reports that its transaction did not reach the
// peer in time count as a time-out, after which submitVia tries the other
// consenters; a refusal does not.
func TestTimedOut(t *testing.T) {
	assert.True(t, timedOut([]byte("Error: timed out waiting for txid on all peers")))
	assert.True(t, timedOut([]byte("Error: error receiving from deliver filtered at 10.219.19.2:7051: rpc error: code = DeadlineExceeded desc = context finished before block retrieved: context deadline exceeded")))
	assert.False(t, timedOut([]byte("Error: proposal failed with status: 500 - attempted to redefine the current committed sequence")))
}
