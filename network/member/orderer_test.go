package member

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/channel/channeltest"
	"github.com/mtrace/mtrace/internal/configblock"
	"github.com/mtrace/mtrace/internal/testport"
)

// fakeNet is the four founders' channel "circular" (and the folders of
// the organisations named besides), every organisation on 127.0.0.1 with
// a peer port of its own and its orderer a channeltest fake that
// presents the orderer's own TLS certificate (so that the admins' TLS
// roots and the channel's trust it, as they would the real one) and
// serves the genesis block.
type fakeNet struct {
	orgs     map[string]*testOrg
	mail     string
	genesis  *cb.Block
	cfg      *cb.Config
	orderers map[string]*channeltest.Orderer // by node name
}

func newFakeNet(t *testing.T, extra ...string) *fakeNet {
	t.Helper()
	nodes := append(slices.Clone(founders), extra...)
	lis := make([]net.Listener, len(nodes))
	for i := range nodes {
		lis[i] = testport.Listen(t)
	}
	orgs, mail := consortiumAt(t, func(i int) (string, Ports) {
		p := DefaultPorts
		p.Orderer = lis[i].Addr().(*net.TCPAddr).Port
		p.Peer = 7061 + 10*i
		return "127.0.0.1", p
	}, nodes...)
	n := &fakeNet{orgs: orgs, mail: mail, orderers: map[string]*channeltest.Orderer{}}
	var err error
	n.genesis, err = Genesis("circular", cardsOf(orgs, founders...))
	require.NoError(t, err)
	n.cfg, err = configblock.Config(n.genesis)
	require.NoError(t, err)
	for i, name := range nodes {
		tlsDir := filepath.Join(orgs[name].OrdererDir(), "tls")
		cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "server.crt"), filepath.Join(tlsDir, "server.key"))
		require.NoError(t, err)
		n.orderers[name] = channeltest.Serve(t, "circular", lis[i], cert)
		if slices.Contains(founders, name) {
			n.orderers[name].AddBlock(proto.Clone(n.cfg).(*cb.Config))
		}
	}
	return n
}

// addKaunas is the update that adds Kaunas, signed by the named founders'
// admins, and the configuration with Kaunas in it.
func (n *fakeNet) addKaunas(t *testing.T, signers ...string) (*UpdateFile, *cb.ConfigUpdate, []Signed, *cb.Config) {
	t.Helper()
	u, err := NewAddMember(n.cfg, "circular", 0, n.orgs["kaunas"].Card)
	require.NoError(t, err)
	path := filepath.Join(n.mail, "add-kaunas.update")
	require.NoError(t, WriteUpdate(path, u))
	u, cu, err := ReadUpdate(path)
	require.NoError(t, err)
	five, err := Genesis("circular", cardsOf(n.orgs, append(slices.Clone(founders), "kaunas")...))
	require.NoError(t, err)
	cfg5, err := configblock.Config(five)
	require.NoError(t, err)
	return u, cu, signAll(t, n.orgs, path, signers...), cfg5
}

// updateOf opens a config update envelope as the orderer does: who
// signed the envelope, and whose signatures the update carries.
func updateOf(t *testing.T, env *cb.Envelope) (cue *cb.ConfigUpdateEnvelope, signers []string) {
	t.Helper()
	var p cb.Payload
	require.NoError(t, proto.Unmarshal(env.Payload, &p))
	var ch cb.ChannelHeader
	require.NoError(t, proto.Unmarshal(p.Header.ChannelHeader, &ch))
	assert.Equal(t, int32(cb.HeaderType_CONFIG_UPDATE), ch.Type)
	assert.Equal(t, "circular", ch.ChannelId)
	cue = &cb.ConfigUpdateEnvelope{}
	require.NoError(t, proto.Unmarshal(p.Data, cue))
	for _, s := range cue.Signatures {
		var hdr cb.SignatureHeader
		require.NoError(t, proto.Unmarshal(s.SignatureHeader, &hdr))
		id, err := mspOf(hdr.Creator)
		require.NoError(t, err)
		signers = append(signers, id)
	}
	slices.Sort(signers)
	return cue, signers
}

func mspOf(creator []byte) (string, error) {
	var id mb.SerializedIdentity
	if err := proto.Unmarshal(creator, &id); err != nil {
		return "", err
	}
	return id.Mspid, nil
}

// Submit checks the signatures against the configuration it reads from
// the organisation's own orderer, adds its own admin's, sends the update
// signed by its admin to its orderer and to every other consenter, and
// waits until the configuration shows it.
func TestSubmitSendsASignedUpdateToEveryConsenterAndWaitsForIt(t *testing.T) {
	n := newFakeNet(t, "kaunas")
	u, cu, sigs, cfg5 := n.addKaunas(t, "istanbul", "maker")
	own := n.orderers["recycler"]
	var once sync.Once
	own.OnBroadcast(func(*cb.Envelope) { once.Do(func() { own.AddBlock(cfg5) }) })

	res, err := n.orgs["recycler"].Submit(context.Background(), u, cu, sigs, 10*time.Second)
	require.NoError(t, err)
	assert.False(t, res.AlreadyApplied)
	assert.Equal(t, uint64(1), res.Block, "the config block that holds the update")
	assert.Equal(t, []string{"IstanbulMSP", "MakerMSP", "RecyclerMSP"}, res.Checked.Signers, "its own admin's signature is added")
	assert.Equal(t, "policy /Channel/Application/Admins satisfied (guards /Channel/Application)\n"+
		"policy /Channel/Orderer/Admins satisfied (guards "+joinElements(res.Checked.Needed[1].Elements)+")\n"+
		"signed by admins of: IstanbulMSP, MakerMSP, RecyclerMSP\n", res.Checked.Describe())

	got := own.Received()
	require.NotEmpty(t, got)
	cue, signers := updateOf(t, got[0])
	assert.Equal(t, u.ConfigUpdate, cue.ConfigUpdate, "the update as signed")
	assert.Equal(t, []string{"IstanbulMSP", "MakerMSP", "RecyclerMSP"}, signers)
	// Every consenter gets that same envelope, signed by the submitter's
	// admin (the others best effort, each possibly more than once: the
	// orderer client sends to the channel's other orderers too); Kaunas's
	// orderer, not a consenter yet, gets nothing.
	for _, name := range founders {
		o := n.orderers[name]
		rec := o.Received()
		require.NotEmpty(t, rec, name)
		for _, e := range rec {
			assert.True(t, proto.Equal(got[0], e), "%s received another envelope", name)
		}
		for _, s := range o.Signers() {
			assert.Equal(t, "RecyclerMSP", s, name)
		}
	}
	assert.Empty(t, n.orderers["kaunas"].Received())
}

func joinElements(es []string) string {
	out := ""
	for i, e := range es {
		if i > 0 {
			out += ", "
		}
		out += e
	}
	return out
}

// Submit sends nothing when the signatures do not satisfy the policies,
// and names the organisations whose admins could still sign.
func TestSubmitSendsNothingWithoutEnoughSignatures(t *testing.T) {
	n := newFakeNet(t, "kaunas")
	u, cu, sigs, _ := n.addKaunas(t, "istanbul")
	_, err := n.orgs["recycler"].Submit(context.Background(), u, cu, sigs, time.Second)
	var missing *MissingError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, []string{"IstanbulMSP", "RecyclerMSP"}, missing.Have)
	assert.Equal(t, []string{"CertifierMSP", "MakerMSP"}, missing.Lacking)
	assert.Contains(t, err.Error(), "missing 1 more admin signature(s) from: CertifierMSP, MakerMSP")
	for name, o := range n.orderers {
		assert.Empty(t, o.Received(), name)
	}

	// A bad signature file is named, and nothing is sent either.
	bad := slices.Clone(sigs)
	bad = append(bad, signAll(t, n.orgs, filepath.Join(n.mail, "add-kaunas.update"), "maker")...)
	bad[1].Signature = slices.Clone(bad[1].Signature)
	bad[1].Signature[len(bad[1].Signature)-1] ^= 1
	_, err = n.orgs["recycler"].Submit(context.Background(), u, cu, bad, time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad[1].Path)
	assert.Contains(t, err.Error(), "does not verify")
	for name, o := range n.orderers {
		assert.Empty(t, o.Received(), name)
	}
}

// An update the channel already has is not sent again; one computed from
// a configuration that changed since is refused before it is sent.
func TestSubmitAppliedOrStale(t *testing.T) {
	n := newFakeNet(t, "kaunas")
	u, cu, sigs, cfg5 := n.addKaunas(t, "istanbul", "maker")
	own := n.orderers["recycler"]
	own.AddBlock(cfg5)
	res, err := n.orgs["recycler"].Submit(context.Background(), u, cu, sigs, time.Second)
	require.NoError(t, err)
	assert.True(t, res.AlreadyApplied)
	assert.Equal(t, uint64(1), res.Block)
	assert.Empty(t, own.Received())

	changed := proto.Clone(n.cfg).(*cb.Config)
	changed.ChannelGroup.Groups["Application"].Version++
	own.AddBlock(changed)
	_, err = n.orgs["recycler"].Submit(context.Background(), u, cu, sigs, time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was computed from config block 0, but the channel's configuration has changed since (/Channel/Application; config block 2 is in force)")
	assert.Empty(t, own.Received())
}

// The orderer's refusal comes back as it is; an orderer that takes the
// update but never shows it makes Submit give up after the wait; an
// orderer that cannot be reached is named.
func TestSubmitFailures(t *testing.T) {
	n := newFakeNet(t, "kaunas")
	u, cu, sigs, _ := n.addKaunas(t, "istanbul", "maker")
	h := n.orgs["recycler"]
	own := n.orderers["recycler"]

	own.Answer(&ab.BroadcastResponse{Status: cb.Status_FORBIDDEN, Info: "implicit policy evaluation failed"})
	_, err := h.Submit(context.Background(), u, cu, sigs, time.Second)
	var refused *channel.RefusedError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, cb.Status_FORBIDDEN, refused.Status)
	assert.Contains(t, err.Error(), "implicit policy evaluation failed")

	own.Answer(nil)
	res, err := h.Submit(context.Background(), u, cu, sigs, 300*time.Millisecond)
	require.ErrorContains(t, err, "the orderer took the update but its configuration does not show it after 300ms")
	assert.Equal(t, []string{"IstanbulMSP", "MakerMSP", "RecyclerMSP"}, res.Checked.Signers)

	ctx, cancel := context.WithCancel(context.Background())
	own.OnBroadcast(func(*cb.Envelope) { cancel() })
	_, err = h.Submit(ctx, u, cu, sigs, time.Minute)
	assert.ErrorContains(t, err, "context canceled")

	// Kaunas's orderer serves no block of the channel.
	_, err = n.orgs["kaunas"].Submit(context.Background(), u, cu, sigs, time.Second)
	assert.ErrorContains(t, err, "the channel's configuration from KaunasMSP's orderer")

	gone := *h.Home
	gone.Ports.Orderer = freePort(t) // nothing listens there
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = gone.Submit(ctx, u, cu, sigs, time.Second)
	assert.ErrorContains(t, err, "the channel's configuration from RecyclerMSP's orderer")

	noAdmin := *h.Home
	noAdmin.Dir = t.TempDir()
	_, err = noAdmin.Submit(context.Background(), u, cu, sigs, time.Second)
	assert.Error(t, err, "an organisation folder without the admin's identity")
}

// participation is a fake of an orderer's channel participation API on
// the organisation's admin port, behind the orderer's own TLS
// certificate, that requires a TLS client certificate from the
// organisation's TLS CA, as the orderer's admin endpoint does.
type participation struct {
	mu      sync.Mutex
	joined  map[string]ChannelInfo
	blocks  [][]byte // the config blocks posted
	clients []string // the client certificate's common name, per request
	refuse  string   // when set, joins are refused with this message
	broken  bool     // when set, every request fails with 500
}

func newParticipation(t *testing.T, h *Home) *participation {
	t.Helper()
	p := &participation{joined: map[string]ChannelInfo{}}
	p.start(t, h, testport.Listen(t))
	return p
}

// start serves p on lis, and points h's admin port at it.
func (p *participation) start(t *testing.T, h *Home, lis net.Listener) {
	t.Helper()
	tlsDir := filepath.Join(h.OrdererDir(), "tls")
	cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "server.crt"), filepath.Join(tlsDir, "server.key"))
	require.NoError(t, err)
	ca, err := os.ReadFile(filepath.Join(tlsDir, "ca.crt"))
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(ca))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	_ = srv.Listener.Close()
	srv.Listener = lis
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: roots, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	h.Ports.OrdererAdmin = srv.Listener.Addr().(*net.TCPAddr).Port
}

func (p *participation) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients = append(p.clients, r.TLS.PeerCertificates[0].Subject.CommonName)
	if p.broken {
		http.Error(w, "internal trouble", http.StatusInternalServerError)
		return
	}
	const base = "/participation/v1/channels"
	switch {
	case r.Method == http.MethodGet && len(r.URL.Path) > len(base)+1 && r.URL.Path[:len(base)+1] == base+"/":
		info, ok := p.joined[r.URL.Path[len(base)+1:]]
		if !ok {
			http.Error(w, `{"error":"channel does not exist"}`, http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(info)
	case r.Method == http.MethodPost && r.URL.Path == base:
		f, _, err := r.FormFile("config-block")
		if err != nil {
			http.Error(w, `{"error":"no config-block"}`, http.StatusBadRequest)
			return
		}
		raw, _ := io.ReadAll(f)
		p.blocks = append(p.blocks, raw)
		if p.refuse != "" {
			http.Error(w, `{"error":"`+p.refuse+`"}`, http.StatusMethodNotAllowed)
			return
		}
		var b cb.Block
		name := "?"
		if proto.Unmarshal(raw, &b) == nil {
			name, _ = blockChannel(&b)
		}
		info := ChannelInfo{Name: name, ConsensusRelation: "consenter", Status: "onboarding", Height: 1}
		p.joined[name] = info
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(info)
	default:
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
	}
}

// JoinOrderer posts the config block to the orderer's channel
// participation API as the admin, unless the orderer has the channel.
func TestJoinOrdererPostsTheBlockOnce(t *testing.T) {
	orgs, _ := consortiumAt(t, func(int) (string, Ports) { return "127.0.0.1", DefaultPorts }, "kaunas")
	h := orgs["kaunas"].Home
	p := newParticipation(t, h)
	ctx := context.Background()
	b, err := Genesis("circular", []*Card{orgs["kaunas"].Card})
	require.NoError(t, err)
	raw, err := proto.Marshal(b)
	require.NoError(t, err)

	_, ok, err := h.OrdererChannel(ctx, "circular")
	require.NoError(t, err)
	assert.False(t, ok, "not joined yet")

	info, joined, err := h.JoinOrderer(ctx, b, raw)
	require.NoError(t, err)
	assert.True(t, joined)
	assert.Equal(t, ChannelInfo{Name: "circular", ConsensusRelation: "consenter", Status: "onboarding", Height: 1}, info)
	require.Len(t, p.blocks, 1)
	assert.Equal(t, raw, p.blocks[0], "the block as given")

	info, joined, err = h.JoinOrderer(ctx, b, raw)
	require.NoError(t, err)
	assert.False(t, joined, "an orderer that has the channel is left as it is")
	assert.Equal(t, "circular", info.Name)
	assert.Len(t, p.blocks, 1)
	for _, c := range p.clients {
		assert.Equal(t, "Admin@"+h.Domain, c, "every request presents the admin's TLS client certificate")
	}

	got, ok, err := h.OrdererChannel(ctx, "circular")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, info, got)
}

// An orderer answers /healthz before its admin endpoint listens: the
// join waits for the endpoint.
func TestJoinOrdererWaitsForTheAdminEndpoint(t *testing.T) {
	orgs, _ := consortiumAt(t, func(int) (string, Ports) { return "127.0.0.1", DefaultPorts }, "kaunas")
	h := orgs["kaunas"].Home
	b, err := Genesis("circular", []*Card{orgs["kaunas"].Card})
	require.NoError(t, err)
	raw, err := proto.Marshal(b)
	require.NoError(t, err)
	port := freePort(t)
	h.Ports.OrdererAdmin = port
	late := *h
	p := &participation{joined: map[string]ChannelInfo{}}
	time.AfterFunc(500*time.Millisecond, func() {
		if lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			p.start(t, &late, lis)
		}
	})
	_, joined, err := h.JoinOrderer(context.Background(), b, raw)
	require.NoError(t, err)
	assert.True(t, joined)
	p.mu.Lock()
	defer p.mu.Unlock()
	assert.Len(t, p.blocks, 1)
}

func TestJoinOrdererFailures(t *testing.T) {
	orgs, _ := consortiumAt(t, func(int) (string, Ports) { return "127.0.0.1", DefaultPorts }, "kaunas")
	h := orgs["kaunas"].Home
	p := newParticipation(t, h)
	ctx := context.Background()
	b, err := Genesis("circular", []*Card{orgs["kaunas"].Card})
	require.NoError(t, err)
	raw, err := proto.Marshal(b)
	require.NoError(t, err)

	p.refuse = "cannot join: channel already exists"
	_, joined, err := h.JoinOrderer(ctx, b, raw)
	assert.False(t, joined)
	assert.EqualError(t, err, `the orderer refused to join circular (405 Method Not Allowed): {"error":"cannot join: channel already exists"}`)

	p.broken = true
	_, _, err = h.JoinOrderer(ctx, b, raw)
	assert.EqualError(t, err, "the orderer's admin endpoint answered 500 Internal Server Error: internal trouble")
	_, _, err = h.OrdererChannel(ctx, "circular")
	assert.ErrorContains(t, err, "answered 500")

	// A block that is not a config block is refused before anything is sent.
	sent := len(p.clients)
	_, _, err = h.JoinOrderer(ctx, &cb.Block{Header: &cb.BlockHeader{}, Data: &cb.BlockData{Data: [][]byte{[]byte("x")}}}, []byte("x"))
	assert.Error(t, err)
	assert.Len(t, p.clients, sent)

	// Nothing listens: the endpoint is named, once the time an orderer
	// may take to open it has passed.
	adminStartup = 300 * time.Millisecond
	t.Cleanup(func() { adminStartup = 20 * time.Second })
	down := *h
	down.Ports.OrdererAdmin = freePort(t)
	start := time.Now()
	_, _, err = down.OrdererChannel(ctx, "circular")
	assert.ErrorContains(t, err, "the orderer's admin endpoint")
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "refused connections are tried again for a while")

	// Without the admin's TLS client certificate nothing is asked.
	bare := *h
	bare.Dir = t.TempDir()
	_, _, err = bare.OrdererChannel(ctx, "circular")
	assert.ErrorContains(t, err, "the admin's TLS client certificate")
	_, _, err = bare.JoinOrderer(ctx, b, raw)
	assert.ErrorContains(t, err, "the admin's TLS client certificate")
	assert.Len(t, p.clients, sent)

	// An admin endpoint with a certificate the organisation's TLS CA did
	// not sign is not trusted.
	other := testport.NewTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("a request reached an endpoint the admin does not trust")
	}))
	impostor := *h
	impostor.Ports.OrdererAdmin = other.Listener.Addr().(*net.TCPAddr).Port
	_, _, err = impostor.OrdererChannel(ctx, "circular")
	require.Error(t, err)
	var ce *tls.CertificateVerificationError
	assert.True(t, errors.As(err, &ce), "%v", err)
}
