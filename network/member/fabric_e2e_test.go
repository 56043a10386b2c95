//go:build e2e

package member

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/configblock"

	"github.com/mtrace/mtrace/internal/testport"
)

// fabricBin is the repository's bin/ with the Fabric binaries (make fabric).
func fabricBin(t *testing.T) string {
	dir, err := filepath.Abs("../../bin")
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(dir, "orderer"), "the Fabric binaries (make fabric)")
	return dir
}

// sampleConfig is Fabric's sample configuration folder, from the module
// network/tools pins.
func sampleConfig(t *testing.T) string {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hyperledger/fabric")
	cmd.Dir = "../tools"
	out, err := cmd.Output()
	require.NoError(t, err)
	return filepath.Join(strings.TrimSpace(string(out)), "sampleconfig")
}

func freePorts(t *testing.T) Ports {
	p := func() int {
		l := testport.Listen(t)
		port := l.Addr().(interface{ String() string }).String()
		require.NoError(t, l.Close())
		var n int
		_, err := fmt.Sscanf(port[strings.LastIndex(port, ":")+1:], "%d", &n)
		require.NoError(t, err)
		return n
	}
	return Ports{Peer: p(), Orderer: p(), OrdererAdmin: p(), PeerOps: p(), OrdererOps: p(), CAOps: p(), Chaincode: p()}
}

// startOrderer runs the organisation's orderer from its own folder, as
// its admin would on its host (node config, node start): the
// configuration WriteNodeConfig writes from Fabric's sample, the process
// detached with its PID file; it is stopped by that PID when the test
// ends. Its orderer trusts the TLS roots of the members' cards from the
// start (node start --member).
func startOrderer(t *testing.T, bin, sample string, o *testOrg, members ...*Card) {
	startNode(t, bin, sample, o, NodeOrderer, members...)
}

// startPeer runs the organisation's peer from its own folder.
func startPeer(t *testing.T, bin, sample string, o *testOrg) { startNode(t, bin, sample, o, NodePeer) }

func startNode(t *testing.T, bin, sample string, o *testOrg, node string, members ...*Card) {
	builder, err := filepath.Abs("../builder")
	require.NoError(t, err)
	_, err = o.WriteNodeConfig(NodeFiles{Sample: sample, Builder: builder, Members: members})
	require.NoError(t, err)
	t.Cleanup(func() {
		stopped, err := o.Stop(bin, 10*time.Second, node)
		assert.NoError(t, err)
		assert.Equal(t, []string{node}, stopped, "%s's %s was still running", o.MSPID, node)
		if t.Failed() {
			raw, _ := os.ReadFile(o.LogFile(node))
			t.Logf("%s %s log (tail):\n%s", o.MSPID, node, tail(string(raw), 3000))
		}
	})
	started, err := o.Start(context.Background(), bin, node)
	require.NoError(t, err)
	require.Equal(t, []string{node}, started)
}

// fakePackage writes a chaincode package (metadata.json with a label):
// approving and committing a definition needs its ID, not its code.
func fakePackage(t *testing.T, dir string) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	md := []byte(`{"type":"mtrace-binary","label":"mtrace"}`)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "metadata.json", Mode: 0o644, Size: int64(len(md))}))
	_, err := tw.Write(md)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	p := filepath.Join(dir, "mtrace.tar.gz")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Four members' real orderers join the genesis block Genesis built from
// their cards and become BFT consenters; their peers join; a chaincode
// definition file is approved by each organisation through its own peer
// and committed once a majority has (refused before, naming who is
// missing).
func TestRealNodesFoundTheChannel(t *testing.T) {
	bin, sample := fabricBin(t), sampleConfig(t)
	orgs, mail := consortiumAt(t, func(int) (string, Ports) { return "127.0.0.1", freePorts(t) },
		"istanbul", "recycler", "maker", "certifier")
	var cards []*Card
	for _, o := range orgs {
		cards = append(cards, o.Card)
	}
	for _, o := range orgs {
		startOrderer(t, bin, sample, o, cards...)
	}
	b, err := Genesis("circular", cards)
	require.NoError(t, err)
	f := filepath.Join(mail, "genesis.block")
	require.NoError(t, WriteBlock(f, b))
	raw, err := os.ReadFile(f)
	require.NoError(t, err)
	ctx := context.Background()
	for _, o := range orgs {
		var err error
		for range 50 { // the admin endpoint comes up with the orderer
			if _, _, err = o.JoinOrderer(ctx, b, raw); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		require.NoError(t, err, o.MSPID)
		_, joined, err := o.JoinOrderer(ctx, b, raw)
		require.NoError(t, err)
		require.False(t, joined, "a second join leaves the orderer as it is")
	}
	for _, o := range orgs {
		require.Eventually(t, func() bool {
			info, ok, err := o.OrdererChannel(ctx, "circular")
			return err == nil && ok && info.ConsensusRelation == "consenter" && info.Status == "active"
		}, 30*time.Second, 200*time.Millisecond, "%s's orderer is an active consenter", o.MSPID)
	}

	// The peers join, each through its own admin.
	t.Setenv("FABRIC_CFG_PATH", sample)
	for _, o := range orgs {
		startPeer(t, bin, sample, o)
	}
	for _, o := range orgs {
		var joined bool
		require.Eventually(t, func() bool {
			joined, err = o.JoinPeer(ctx, filepath.Join(bin, "peer"), f)
			return err == nil
		}, 30*time.Second, 500*time.Millisecond, "%s's peer joins: %v", o.MSPID, err)
		assert.True(t, joined)
		joined, err = o.JoinPeer(ctx, filepath.Join(bin, "peer"), f)
		require.NoError(t, err)
		assert.False(t, joined, "a second join leaves the peer as it is")
	}

	// A chaincode definition as a file: approved by each organisation
	// through its own peer, committed once a majority has.
	pkg := fakePackage(t, mail)
	id, err := PackageID(pkg)
	require.NoError(t, err)
	d := &Definition{Format: DefinitionFormat, Channel: "circular", Name: "mtrace", Version: "1", Sequence: 1, PackageID: id}
	df := filepath.Join(mail, "mtrace-1.chaincode")
	require.NoError(t, WriteDefinition(df, d))
	d, err = ReadDefinition(df)
	require.NoError(t, err)
	peerBin := filepath.Join(bin, "peer")
	for _, n := range []string{"istanbul", "maker"} {
		already, err := orgs[n].Approve(ctx, peerBin, d)
		require.NoError(t, err, n)
		assert.False(t, already)
	}
	already, err := orgs["maker"].Approve(ctx, peerBin, d)
	require.NoError(t, err)
	assert.True(t, already, "approving twice is a no-op")
	_, err = orgs["istanbul"].Commit(ctx, peerBin, d)
	var na *NotApprovedError
	require.ErrorAs(t, err, &na)
	assert.Equal(t, []string{"IstanbulMSP", "MakerMSP"}, na.Approved)
	assert.Equal(t, []string{"CertifierMSP", "RecyclerMSP"}, na.Missing)
	_, err = orgs["certifier"].Approve(ctx, peerBin, d)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ap, err := orgs["istanbul"].Approvals(ctx, peerBin, d)
		return err == nil && ap["CertifierMSP"]
	}, 30*time.Second, 500*time.Millisecond)
	already, err = orgs["istanbul"].Commit(ctx, peerBin, d)
	require.NoError(t, err)
	assert.False(t, already)
	for _, o := range orgs {
		require.Eventually(t, func() bool {
			v, seq, err := o.Committed(ctx, peerBin, d)
			return err == nil && v == "1" && seq == 1
		}, 30*time.Second, 500*time.Millisecond, "%s's peer has the definition", o.MSPID)
	}
	already, err = orgs["recycler"].Commit(ctx, peerBin, d)
	require.NoError(t, err)
	assert.True(t, already, "committing twice says it is committed")
}

// A fifth member joins a running BFT channel by the file exchange: the
// update made by one founder from the latest config block, signed by the
// founders' admins one file each, refused while too few have signed,
// ordered by the real orderers once a majority has, its orderer joined
// with the new config block; resubmitting says it is applied.
func TestRealOrderersAddAMemberByFiles(t *testing.T) {
	bin, sample := fabricBin(t), sampleConfig(t)
	orgs, mail := consortiumAt(t, func(int) (string, Ports) { return "127.0.0.1", freePorts(t) },
		"istanbul", "recycler", "maker", "certifier", "kaunas")
	var cards []*Card
	for _, n := range founders {
		cards = append(cards, orgs[n].Card)
	}
	var all []*Card
	for _, o := range orgs {
		all = append(all, o.Card)
	}
	for _, o := range orgs {
		startOrderer(t, bin, sample, o, all...)
	}
	b, err := Genesis("circular", cards)
	require.NoError(t, err)
	raw, err := proto.Marshal(b)
	require.NoError(t, err)
	ctx := context.Background()
	for _, n := range founders {
		var err error
		for range 50 {
			if _, _, err = orgs[n].JoinOrderer(ctx, b, raw); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		require.NoError(t, err)
	}
	ist := orgs["istanbul"]
	var latest *cb.Block
	require.Eventually(t, func() bool {
		o, err := ist.Orderer("circular")
		if err != nil {
			return false
		}
		defer o.Close()
		latest, err = o.ConfigBlock(ctx)
		return err == nil
	}, 30*time.Second, 500*time.Millisecond)
	cfg, err := configblock.Config(latest)
	require.NoError(t, err)
	u, err := NewAddMember(cfg, "circular", latest.Header.Number, orgs["kaunas"].Card)
	require.NoError(t, err)
	path := filepath.Join(mail, "add-kaunas.update")
	require.NoError(t, WriteUpdate(path, u))
	u, cu, err := ReadUpdate(path)
	require.NoError(t, err)

	// Istanbul submits with Maker's signature and its own: 2 of 4.
	sigs := signAll(t, orgs, path, "maker")
	_, err = ist.Submit(ctx, u, cu, sigs, 30*time.Second)
	var missing *MissingError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, []string{"IstanbulMSP", "MakerMSP"}, missing.Have)
	assert.Equal(t, []string{"CertifierMSP", "RecyclerMSP"}, missing.Lacking)

	sigs = append(sigs, signAll(t, orgs, path, "certifier")...)
	res, err := ist.Submit(ctx, u, cu, sigs, 60*time.Second)
	require.NoError(t, err)
	assert.False(t, res.AlreadyApplied)
	assert.Equal(t, []string{"CertifierMSP", "IstanbulMSP", "MakerMSP"}, res.Checked.Signers)

	again, err := orgs["recycler"].Submit(ctx, u, cu, sigs, time.Second)
	require.NoError(t, err)
	assert.True(t, again.AlreadyApplied, "a second submission finds the update applied")

	// Kaunas joins its orderer with the config block that added it.
	o, err := ist.Orderer("circular")
	require.NoError(t, err)
	newest, err := o.ConfigBlock(ctx)
	require.NoError(t, o.Close())
	require.NoError(t, err)
	s, err := InspectBlock(newest)
	require.NoError(t, err)
	assert.Len(t, s.Consenters, 5)
	assert.Equal(t, 4, s.Quorum, "5 consenters: f=1, quorum ceil(7/2)=4")
	assert.Empty(t, s.CompareCards([]*Card{orgs["kaunas"].Card}))
	nraw, err := proto.Marshal(newest)
	require.NoError(t, err)
	k := orgs["kaunas"]
	for range 50 {
		if _, _, err = k.JoinOrderer(ctx, newest, nraw); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, ok, err := k.OrdererChannel(ctx, "circular")
		return err == nil && ok && info.ConsensusRelation == "consenter" && info.Status == "active" && info.Height >= newest.Header.Number+1
	}, 60*time.Second, 500*time.Millisecond, "Kaunas's orderer catches up as an active consenter")

	// Maker leaves: 5 consenters become 4, signed by 3 of the 5.
	o, err = ist.Orderer("circular")
	require.NoError(t, err)
	latest, err = o.ConfigBlock(ctx)
	require.NoError(t, o.Close())
	require.NoError(t, err)
	cfg, err = configblock.Config(latest)
	require.NoError(t, err)
	rm, err := NewRemoveMember(cfg, "circular", latest.Header.Number, "MakerMSP")
	require.NoError(t, err)
	rmPath := filepath.Join(mail, "remove-maker.update")
	require.NoError(t, WriteUpdate(rmPath, rm))
	rm, rcu, err := ReadUpdate(rmPath)
	require.NoError(t, err)
	_, err = ist.Submit(ctx, rm, rcu, signAll(t, orgs, rmPath, "kaunas"), 30*time.Second)
	require.ErrorAs(t, err, &missing, "2 of 5")
	assert.Equal(t, []string{"CertifierMSP", "MakerMSP", "RecyclerMSP"}, missing.Lacking)
	_, err = ist.Submit(ctx, rm, rcu, signAll(t, orgs, rmPath, "kaunas", "recycler"), 60*time.Second)
	require.NoError(t, err)
	o, err = ist.Orderer("circular")
	require.NoError(t, err)
	newest, err = o.ConfigBlock(ctx)
	require.NoError(t, o.Close())
	require.NoError(t, err)
	s, err = InspectBlock(newest)
	require.NoError(t, err)
	assert.Len(t, s.Consenters, 4)
	assert.Equal(t, 3, s.Quorum)
	assert.False(t, slices.ContainsFunc(s.Members, func(m MemberInfo) bool { return m.MSPID == "MakerMSP" }))

	// No member's folder holds another's key.
	for _, o := range orgs {
		fk, err := ForeignKeys(o.Dir, o.MSPID)
		require.NoError(t, err)
		assert.Empty(t, fk, o.MSPID)
	}
}
