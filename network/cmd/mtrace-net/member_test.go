package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePeer is a peer CLI that records each run as one line, "MSP ID,
// peer address, arguments", and answers `channel list` with no channel
// and everything else with success, or with out and rc from the files
// answer.<subcommand>.out/.rc (the subcommand is list or join for peer
// channel, querycommitted or install for peer lifecycle chaincode), or
// from answer.<subcommand>@<peer address>.out/.rc for one peer.
const fakePeer = `#!/bin/sh
dir=@DIR@
printf '%s %s %s\n' "$CORE_PEER_LOCALMSPID" "$CORE_PEER_ADDRESS" "$*" >>"$dir/runs"
if [ "$1" = lifecycle ]; then k=$3; else k=$2; fi
a="$dir/answer.$k"
[ -f "$a@$CORE_PEER_ADDRESS.rc" ] && a="$a@$CORE_PEER_ADDRESS"
[ -f "$a.out" ] && cat "$a.out"
[ -f "$a.rc" ] && exit "$(cat "$a.rc")"
exit 0
`

func withFakePeer(t *testing.T, e *env) (runs func() []string) {
	dir := t.TempDir()
	e.peer = filepath.Join(dir, "peer")
	require.NoError(t, os.WriteFile(e.peer, []byte(strings.ReplaceAll(fakePeer, "@DIR@", dir)), 0o755))
	return func() []string {
		raw, err := os.ReadFile(filepath.Join(dir, "runs"))
		if os.IsNotExist(err) {
			return nil
		}
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		slices.Sort(lines)
		return lines
	}
}

func TestJoinPeerJoinsEveryOrganisationsPeerAsItsAdmin(t *testing.T) {
	e := enrolled(t)
	_, err := run(t, e, "genesis")
	require.NoError(t, err)
	runs := withFakePeer(t, e)
	t.Setenv("FABRIC_CFG_PATH", "")
	out, err := run(t, e, "join", "peer")
	require.NoError(t, err)
	assert.Equal(t, "/config", strings.TrimPrefix(os.Getenv("FABRIC_CFG_PATH"), e.home), "the peer CLI reads the network's core.yaml")
	genesis := filepath.Join(e.home, "artifacts", "circular.block")
	assert.Equal(t, []string{
		"AuditorMSP 127.0.0.1:27103 channel join -b " + genesis, "AuditorMSP 127.0.0.1:27103 channel list",
		"MakerMSP 127.0.0.1:27102 channel join -b " + genesis, "MakerMSP 127.0.0.1:27102 channel list",
		"MunicipalityMSP 127.0.0.1:27100 channel join -b " + genesis, "MunicipalityMSP 127.0.0.1:27100 channel list",
		"RecyclerMSP 127.0.0.1:27101 channel join -b " + genesis, "RecyclerMSP 127.0.0.1:27101 channel list",
	}, runs(), "each organisation's admin joins its own peer from the genesis block")
	for _, n := range []string{"municipality", "recycler", "maker", "auditor"} {
		assert.Contains(t, out, "peer "+n+" joined circular\n")
	}
}

func TestJoinPeerLeavesAJoinedPeerAndNamesAFailure(t *testing.T) {
	e := enrolled(t)
	_, err := run(t, e, "genesis")
	require.NoError(t, err)
	runs := withFakePeer(t, e)
	dir := filepath.Dir(e.peer)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "answer.list.out"), []byte("Channels peers has joined:\ncircular\n"), 0o644))
	out, err := run(t, e, "join", "peer", "maker")
	require.NoError(t, err)
	assert.Empty(t, out, "nothing to do, nothing said")
	assert.Equal(t, []string{"MakerMSP 127.0.0.1:27102 channel list"}, runs())

	require.NoError(t, os.Remove(filepath.Join(dir, "answer.list.out")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "answer.join.rc"), []byte("1"), 0o644))
	_, err = run(t, e, "join", "peer", "maker", "auditor")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "maker: peer [channel join")
	assert.Contains(t, err.Error(), "auditor: peer [channel join")
}

func TestMemberStepsRefuseBeforeActing(t *testing.T) {
	e := network(t)
	runs := withFakePeer(t, e)
	_, err := run(t, e, "join", "peer", "kaunas")
	assert.EqualError(t, err, "no organisation kaunas in the consortium file")
	_, err = run(t, e, "join", "orderer")
	assert.ErrorContains(t, err, "circular.block: no such file")
	_, err = run(t, e, "bootstrap")
	assert.ErrorContains(t, err, "not enrolled yet")
	_, err = run(t, e, "fetch-config")
	assert.ErrorContains(t, err, `required flag(s) "out" not set`)
	assert.Empty(t, runs(), "no peer CLI run")
}

// An orderer that does not answer its admin endpoint fails its own
// organisation's join, named, and not the others'.
func TestJoinOrdererNamesEachOrdererThatFailed(t *testing.T) {
	e := enrolled(t)
	_, err := run(t, e, "genesis")
	require.NoError(t, err)
	e.base = 31900 // nothing listens on the orderers' admin ports 31910-31913
	_, err = run(t, e, "join", "orderer", "recycler", "auditor", "--timeout", "5s")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "recycler: the orderer's admin endpoint: ")
	assert.Contains(t, err.Error(), "auditor: the orderer's admin endpoint: ")
	assert.NotContains(t, err.Error(), "maker")
}
