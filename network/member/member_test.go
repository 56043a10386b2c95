package member

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	ob "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/configblock"
	"github.com/mtrace/mtrace/network/pki"
)

var founders = []string{"istanbul", "recycler", "maker", "certifier"}

func cardsOf(orgs map[string]*testOrg, nodes ...string) []*Card {
	var cs []*Card
	for _, n := range nodes {
		cs = append(cs, orgs[n].Card)
	}
	return cs
}

func TestInitRefusesBadSettingsAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []Settings{
		{MSPID: "", Node: "kaunas", Role: "collector", Name: "K", Host: "10.0.0.1"},
		{MSPID: "KaunasMSP", Node: "Kaunas", Role: "collector", Name: "K", Host: "10.0.0.1"},
		{MSPID: "KaunasMSP", Node: "kaunas", Role: "banker", Name: "K", Host: "10.0.0.1"},
		{MSPID: "KaunasMSP", Node: "kaunas", Role: "collector", Name: " ", Host: "10.0.0.1"},
		{MSPID: "KaunasMSP", Node: "kaunas", Role: "collector", Name: "K", Host: "not a host"},
		{MSPID: "KaunasMSP", Node: "kaunas", Role: "collector", Name: "K", Host: "10.0.0.1", Ports: Ports{Peer: 7050}},
	} {
		_, err := Init(dir, s)
		assert.Error(t, err, "%+v", s)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is written for bad settings")
}

func TestInitAndEnrolAreIdempotent(t *testing.T) {
	orgs, _ := consortium(t, "kaunas")
	h := orgs["kaunas"].Home
	before, err := os.ReadFile(filepath.Join(h.AdminDir(), "msp", "signcerts", "Admin@"+h.Domain+"-cert.pem"))
	require.NoError(t, err)
	again, err := Init(h.Dir, h.Settings)
	require.NoError(t, err, "init again with the same settings")
	n, err := again.Enrol(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing enrolled twice")
	after, err := os.ReadFile(filepath.Join(h.AdminDir(), "msp", "signcerts", "Admin@"+h.Domain+"-cert.pem"))
	require.NoError(t, err)
	assert.Equal(t, before, after)

	other := h.Settings
	other.Host = "10.9.9.9"
	_, err = Init(h.Dir, other)
	assert.ErrorContains(t, err, "already holds other settings")
}

func TestTheCardHoldsPublicMaterialThatFitsTogether(t *testing.T) {
	orgs, _ := consortium(t, "kaunas")
	o := orgs["kaunas"]
	c, err := ReadCard(o.CardFile)
	require.NoError(t, err)
	assert.Equal(t, "KaunasMSP", c.MSPID)
	assert.Equal(t, "10.77.0.1:7050", c.Orderer.String())
	id, err := pemCert([]byte(c.Orderer.Identity))
	require.NoError(t, err)
	assert.Equal(t, []string{"orderer"}, id.Subject.OrganizationalUnit, "the orderer is enrolled with type orderer")
	tlsCert, err := pemCert([]byte(c.Orderer.TLSCert))
	require.NoError(t, err)
	require.NoError(t, tlsCert.VerifyHostname("10.77.0.1"), "the host address is in the orderer's TLS certificate")
	require.NoError(t, tlsCert.VerifyHostname(o.OrdererHost()))
	raw, err := os.ReadFile(o.CardFile)
	require.NoError(t, err)
	assert.False(t, HoldsPrivateKey(raw))
	keys, err := Keys(filepath.Dir(o.CardFile))
	require.NoError(t, err)
	assert.Empty(t, keys)
}

// edit rewrites a card file's JSON through f and returns the bytes.
func editCard(t *testing.T, path string, f func(map[string]any)) []byte {
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	f(m)
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

func TestACardWithAPrivateKeyOrThatDoesNotFitIsRefused(t *testing.T) {
	orgs, _ := consortium(t, "kaunas", "leuven")
	o := orgs["kaunas"]
	key, err := os.ReadFile(filepath.Join(o.AdminDir(), "msp", "keystore", "priv_sk"))
	require.NoError(t, err)
	peerCert, err := os.ReadFile(filepath.Join(o.PeerDir(), "msp", "signcerts", o.PeerHost()+"-cert.pem"))
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		edit func(map[string]any)
		want string
	}{
		"a key in a known field":        {func(m map[string]any) { m["admin_cert"] = m["admin_cert"].(string) + string(key) }, "private key"},
		"a key in an extra field":       {func(m map[string]any) { m["admin_key"] = string(key) }, "private key"},
		"an extra field":                {func(m map[string]any) { m["comment"] = "hello" }, "unknown field"},
		"a peer as admin":               {func(m map[string]any) { m["admin_cert"] = string(peerCert) }, "not admin"},
		"another org's admin":           {func(m map[string]any) { m["admin_cert"] = orgs["leuven"].Card.AdminCert }, "admin_cert"},
		"an orderer TLS cert elsewhere": {func(m map[string]any) { m["orderer"].(map[string]any)["host"] = "10.66.6.6" }, "orderer.tls_cert"},
		"no node OUs":                   {func(m map[string]any) { m["node_ous"] = false }, "node_ous"},
		"another format":                {func(m map[string]any) { m["format"] = "mtrace-member/0" }, "format"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.member.json")
			require.NoError(t, os.WriteFile(bad, editCard(t, o.CardFile, tc.edit), 0o644))
			_, err := ReadCard(bad)
			require.Error(t, err)
			assert.Contains(t, err.Error(), bad, "the error names the file")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestGenesisIsABFTChannelOfTheCards(t *testing.T) {
	orgs, _ := consortium(t, founders...)
	b, err := Genesis("circular", cardsOf(orgs, founders...))
	require.NoError(t, err)
	shuffled, err := Genesis("circular", cardsOf(orgs, "maker", "certifier", "recycler", "istanbul"))
	require.NoError(t, err)
	assert.True(t, proto.Equal(b, shuffled), "the same cards make the same block, in any order")

	s, err := InspectBlock(b)
	require.NoError(t, err)
	assert.Equal(t, "circular", s.Channel)
	assert.Equal(t, "BFT", s.Consensus)
	assert.Len(t, s.Members, 4)
	assert.Len(t, s.Consenters, 4)
	assert.Equal(t, 3, s.Quorum, "4 consenters tolerate 1 fault: quorum 3")
	assert.Empty(t, s.CompareCards(cardsOf(orgs, founders...)))
	assert.Contains(t, s.Describe(), "consenter 4: RecyclerMSP")

	cfg, err := configblock.Config(b)
	require.NoError(t, err)
	var ct ob.ConsensusType
	require.NoError(t, proto.Unmarshal(cfg.ChannelGroup.Groups["Orderer"].Values["ConsensusType"].Value, &ct))
	assert.Equal(t, ob.ConsensusType_STATE_NORMAL, ct.State)
	var caps cb.Capabilities
	require.NoError(t, proto.Unmarshal(cfg.ChannelGroup.Values["Capabilities"].Value, &caps))
	assert.Contains(t, caps.Capabilities, "V3_0")
	for _, p := range []string{"LifecycleEndorsement", "Endorsement", "Admins"} {
		assert.Contains(t, cfg.ChannelGroup.Groups["Application"].Policies, p)
	}

	// A founder holding a card that differs from the block sees it.
	other, _ := consortium(t, "istanbul")
	diffs := s.CompareCards([]*Card{other["istanbul"].Card})
	assert.NotEmpty(t, diffs)
	assert.Contains(t, strings.Join(diffs, "\n"), "IstanbulMSP: root certificate differs")

	_, err = Genesis("circular", []*Card{orgs["maker"].Card, orgs["maker"].Card})
	assert.ErrorContains(t, err, "share the msp MakerMSP")
	_, err = Genesis("circular", nil)
	assert.Error(t, err)
}

func TestGenesisBlockFileRoundTrip(t *testing.T) {
	orgs, mail := consortium(t, founders...)
	b, err := Genesis("circular", cardsOf(orgs, founders...))
	require.NoError(t, err)
	f := filepath.Join(mail, "genesis.block")
	require.NoError(t, WriteBlock(f, b))
	got, err := ReadBlock(f)
	require.NoError(t, err)
	assert.True(t, proto.Equal(b, got))
	// A block whose data was changed on the way is refused.
	raw, err := os.ReadFile(f)
	require.NoError(t, err)
	i := bytes.Index(raw, []byte("IstanbulMSP"))
	require.Positive(t, i)
	raw[i] = 'J'
	require.NoError(t, os.WriteFile(f, raw, 0o644))
	_, err = ReadBlock(f)
	assert.ErrorContains(t, err, "data hash")
}

// channel4 is the four founders' channel configuration and their folders.
func channel4(t *testing.T, extra ...string) (map[string]*testOrg, string, *cb.Config) {
	orgs, mail := consortium(t, append(slices.Clone(founders), extra...)...)
	b, err := Genesis("circular", cardsOf(orgs, founders...))
	require.NoError(t, err)
	cfg, err := configblock.Config(b)
	require.NoError(t, err)
	return orgs, mail, cfg
}

// signAll has each named organisation's admin sign the update file at
// path, as each would on its own host, and returns the signature files.
func signAll(t *testing.T, orgs map[string]*testOrg, path string, nodes ...string) []Signed {
	var out []Signed
	for _, n := range nodes {
		u, _, err := ReadUpdate(path)
		require.NoError(t, err)
		s, err := orgs[n].Sign(u)
		require.NoError(t, err)
		f := SignatureName(path, orgs[n].MSPID)
		require.NoError(t, WriteSignature(f, s))
		got, err := ReadSignature(f)
		require.NoError(t, err)
		out = append(out, Signed{Path: f, SignatureFile: got})
	}
	return out
}

func TestAddMemberNeedsAMajorityOfAdminsAndNamesWhoIsMissing(t *testing.T) {
	orgs, mail, cfg := channel4(t, "kaunas")
	u, err := NewAddMember(cfg, "circular", 0, orgs["kaunas"].Card)
	require.NoError(t, err)
	assert.Equal(t, []string{"CertifierMSP", "IstanbulMSP", "KaunasMSP", "MakerMSP", "RecyclerMSP"}, u.Result.Members)
	require.Len(t, u.Result.Consenters, 5)
	assert.Equal(t, ConsenterInfo{ID: 5, MSPID: "KaunasMSP", Endpoint: "10.77.0.5:7050", Identity: Fingerprint(orgs["kaunas"].Card.Orderer.Identity)}, u.Result.Consenters[4])
	path := filepath.Join(mail, "add-kaunas.update")
	require.NoError(t, WriteUpdate(path, u))
	u, cu, err := ReadUpdate(path)
	require.NoError(t, err)
	assert.Contains(t, u.Describe(), "consenter 5: KaunasMSP at 10.77.0.5:7050")

	needed, err := NeededPolicies(cfg, cu)
	require.NoError(t, err)
	var paths []string
	for _, n := range needed {
		paths = append(paths, n.Path)
	}
	assert.Equal(t, []string{"/Channel/Application/Admins", "/Channel/Orderer/Admins"}, paths)
	assert.Contains(t, needed[1].Elements, "/Channel/Orderer/Orderers")
	assert.Contains(t, needed[1].Elements, "/Channel/Orderer/BlockValidation")

	sigs := signAll(t, orgs, path, "istanbul", "maker")
	_, err = Check(cfg, u, cu, sigs, time.Now())
	var missing *MissingError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, "/Channel/Application/Admins", missing.Policy)
	assert.Equal(t, 3, missing.Need)
	assert.Equal(t, []string{"IstanbulMSP", "MakerMSP"}, missing.Have)
	assert.Equal(t, []string{"CertifierMSP", "RecyclerMSP"}, missing.Lacking)
	assert.Contains(t, err.Error(), "missing 1 more admin signature(s) from: CertifierMSP, RecyclerMSP")
	assert.Contains(t, err.Error(), "/Channel/Orderer/Admins", "both policies are named")

	sigs = append(sigs, signAll(t, orgs, path, "recycler")...)
	c, err := Check(cfg, u, cu, sigs, time.Now())
	require.NoError(t, err)
	assert.Equal(t, []string{"IstanbulMSP", "MakerMSP", "RecyclerMSP"}, c.Signers)
}

func TestBadSignaturesAreNamedByFile(t *testing.T) {
	orgs, mail, cfg := channel4(t, "kaunas", "leuven")
	add := func(card string) (*UpdateFile, *cb.ConfigUpdate, string) {
		u, err := NewAddMember(cfg, "circular", 0, orgs[card].Card)
		require.NoError(t, err)
		path := filepath.Join(mail, "add-"+card+".update")
		require.NoError(t, WriteUpdate(path, u))
		u, cu, err := ReadUpdate(path)
		require.NoError(t, err)
		return u, cu, path
	}
	u, cu, path := add("kaunas")
	_, _, otherPath := add("leuven")
	good := signAll(t, orgs, path, "istanbul", "maker", "recycler")

	t.Run("a signature for another update", func(t *testing.T) {
		other := signAll(t, orgs, otherPath, "certifier")
		_, err := Check(cfg, u, cu, append(slices.Clone(good), other...), time.Now())
		require.Error(t, err)
		assert.Contains(t, err.Error(), other[0].Path)
		assert.Contains(t, err.Error(), "signs another update")
	})
	t.Run("a signature relabelled for this update", func(t *testing.T) {
		other := signAll(t, orgs, otherPath, "certifier")
		other[0].Update = u.SHA256
		_, err := Check(cfg, u, cu, append(slices.Clone(good), other...), time.Now())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "does not verify")
	})
	t.Run("a signature by a non-admin", func(t *testing.T) {
		peer := &Home{Dir: orgs["certifier"].Dir, Settings: orgs["certifier"].Settings}
		s := signAs(t, peer, peer.PeerDir(), u)
		_, err := Check(cfg, u, cu, append(slices.Clone(good), s), time.Now())
		require.Error(t, err)
		assert.Contains(t, err.Error(), s.Path)
		assert.Contains(t, err.Error(), "not an admin of CertifierMSP")
	})
	t.Run("a signature by an organisation not in the channel", func(t *testing.T) {
		s := signAll(t, orgs, path, "kaunas")
		_, err := Check(cfg, u, cu, append(slices.Clone(good), s...), time.Now())
		require.Error(t, err)
		assert.Contains(t, err.Error(), s[0].Path)
		assert.Contains(t, err.Error(), "KaunasMSP, which is not an organisation of channel circular")
	})
	t.Run("a signature by an impostor's CA under a member's MSP ID", func(t *testing.T) {
		impostor, _ := consortium(t, "istanbul")
		s := signAll(t, impostor, path, "istanbul")
		_, err := Check(cfg, u, cu, append(slices.Clone(good[1:]), s...), time.Now())
		require.Error(t, err)
		assert.Contains(t, err.Error(), s[0].Path)
		assert.Contains(t, err.Error(), "is not valid in IstanbulMSP")
	})
	t.Run("a key inside the update's bytes", func(t *testing.T) {
		key, err := os.ReadFile(filepath.Join(orgs["kaunas"].AdminDir(), "msp", "keystore", "priv_sk"))
		require.NoError(t, err)
		bad := *u
		bad.ConfigUpdate = append(slices.Clone(u.ConfigUpdate), key...)
		f := filepath.Join(t.TempDir(), "bad.update")
		require.NoError(t, WriteUpdate(f, &bad))
		_, _, err = ReadUpdate(f)
		assert.ErrorIs(t, err, ErrPrivateKey)
	})
	t.Run("a signature whose file names another organisation", func(t *testing.T) {
		s := signAll(t, orgs, path, "certifier")
		s[0].MSPID = "IstanbulMSP"
		_, err := Check(cfg, u, cu, append(slices.Clone(good), s...), time.Now())
		assert.ErrorContains(t, err, "signature header says CertifierMSP")
	})
}

// signAs signs u with the identity in dir/msp (the peer's, say) and
// writes the signature file.
func signAs(t *testing.T, h *Home, dir string, u *UpdateFile) Signed {
	// Sign reads the admin folder; point a copy of the home at the peer's.
	tmp := t.TempDir()
	admin := (&Home{Dir: tmp, Settings: h.Settings}).AdminDir()
	require.NoError(t, os.MkdirAll(admin, 0o755))
	require.NoError(t, os.Symlink(filepath.Join(dir, "msp"), filepath.Join(admin, "msp")))
	s, err := (&Home{Dir: tmp, Settings: h.Settings}).Sign(u)
	require.NoError(t, err)
	f := filepath.Join(t.TempDir(), "peer.sig")
	require.NoError(t, WriteSignature(f, s))
	return Signed{Path: f, SignatureFile: s}
}

func TestATamperedUpdateFileIsRefused(t *testing.T) {
	orgs, mail, cfg := channel4(t, "kaunas", "leuven")
	u, err := NewAddMember(cfg, "circular", 0, orgs["kaunas"].Card)
	require.NoError(t, err)
	path := filepath.Join(mail, "add.update")
	require.NoError(t, WriteUpdate(path, u))
	sigs := signAll(t, orgs, path, "istanbul", "maker", "recycler")

	// Someone swaps in the update that adds Leuven instead, keeping the file's hash.
	other, err := NewAddMember(cfg, "circular", 0, orgs["leuven"].Card)
	require.NoError(t, err)
	tampered := *u
	tampered.ConfigUpdate = other.ConfigUpdate
	require.NoError(t, WriteUpdate(path, &tampered))
	_, _, err = ReadUpdate(path)
	assert.ErrorContains(t, err, path)
	assert.ErrorContains(t, err, "does not match its hash")

	// ... and fixes the hash: the result no longer matches.
	tampered.SHA256 = other.SHA256
	require.NoError(t, WriteUpdate(path, &tampered))
	_, _, err = ReadUpdate(path)
	assert.ErrorContains(t, err, "result does not match")

	// ... and the result too: the signatures are for another update.
	tampered.Result, tampered.Member = other.Result, other.Member
	require.NoError(t, WriteUpdate(path, &tampered))
	tu, tcu, err := ReadUpdate(path)
	require.NoError(t, err, "a whole update file reads")
	_, err = Check(cfg, tu, tcu, sigs, time.Now())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signs another update")

	// A key in an update file is refused.
	raw, err := os.ReadFile(filepath.Join(orgs["kaunas"].AdminDir(), "msp", "keystore", "priv_sk"))
	require.NoError(t, err)
	bad := filepath.Join(mail, "key.update")
	require.NoError(t, os.WriteFile(bad, raw, 0o644))
	_, _, err = ReadUpdate(bad)
	assert.ErrorIs(t, err, ErrPrivateKey)
}

func TestAppliedAndStale(t *testing.T) {
	orgs, _, cfg := channel4(t, "kaunas")
	u, err := NewAddMember(cfg, "circular", 0, orgs["kaunas"].Card)
	require.NoError(t, err)
	var cu cb.ConfigUpdate
	require.NoError(t, proto.Unmarshal(u.ConfigUpdate, &cu))
	done, err := u.Applied(cfg)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Empty(t, Stale(cfg, &cu))

	// The configuration with Kaunas in it: the update is applied there.
	five, err := Genesis("circular", cardsOf(orgs, append(slices.Clone(founders), "kaunas")...))
	require.NoError(t, err)
	cfg5, err := configblock.Config(five)
	require.NoError(t, err)
	done, err = u.Applied(cfg5)
	require.NoError(t, err)
	assert.True(t, done)

	_, err = NewAddMember(cfg5, "circular", 0, orgs["kaunas"].Card)
	assert.ErrorContains(t, err, "already a member")

	// A configuration changed since: the update is stale.
	cfg.ChannelGroup.Groups["Application"].Version++
	assert.Equal(t, "/Channel/Application", Stale(cfg, &cu))
}

func TestRemoveMember(t *testing.T) {
	orgs, mail, cfg := channel4(t)
	u, err := NewRemoveMember(cfg, "circular", 0, "MakerMSP")
	require.NoError(t, err)
	assert.Equal(t, []string{"CertifierMSP", "IstanbulMSP", "RecyclerMSP"}, u.Result.Members)
	require.Len(t, u.Result.Consenters, 3)
	path := filepath.Join(mail, "remove-maker.update")
	require.NoError(t, WriteUpdate(path, u))
	u, cu, err := ReadUpdate(path)
	require.NoError(t, err)
	_, err = Check(cfg, u, cu, signAll(t, orgs, path, "istanbul", "recycler", "certifier"), time.Now())
	require.NoError(t, err)
	_, err = NewRemoveMember(cfg, "circular", 0, "KaunasMSP")
	assert.ErrorContains(t, err, "not a member")
}

func TestForeignKeysFindsAnotherOrganisationsKey(t *testing.T) {
	orgs, mail := consortium(t, "kaunas", "leuven")
	k := orgs["kaunas"]
	got, err := ForeignKeys(k.Dir, k.MSPID)
	require.NoError(t, err)
	assert.Empty(t, got, "an organisation's own folder holds only its own keys")
	all, err := Keys(k.Dir)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(all), 6, "admin, peer, orderer: enrolment and TLS keys, the registrars'")

	// Leuven's admin key lands in Kaunas's folder (mailed by mistake).
	raw, err := os.ReadFile(filepath.Join(orgs["leuven"].AdminDir(), "msp", "keystore", "priv_sk"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(k.Dir, "from-leuven.pem"), raw, 0o600))
	got, err = ForeignKeys(k.Dir, k.MSPID)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "from-leuven.pem", got[0].Path)
	assert.Equal(t, "", got[0].Owner, "no certificate in Kaunas's folder names the key: reported, owner unknown")
	got, err = ForeignKeys(k.Dir, k.MSPID, orgs["leuven"].Card)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "LeuvenMSP", got[0].Owner, "Leuven's card names it")

	// With Leuven's card in the folder, the key's owner is known.
	cardRaw, err := os.ReadFile(filepath.Join(mail, "leuven.member.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(k.Dir, "leuven.member.json"), cardRaw, 0o644))
	got, err = ForeignKeys(k.Dir, k.MSPID)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "LeuvenMSP", got[0].Owner)
	assert.Equal(t, "leuven.member.json", got[0].Cert)

	// Inside a JSON string, too.
	esc, err := json.Marshal(map[string]string{"key": string(raw)})
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(k.Dir, "from-leuven.pem")))
	require.NoError(t, os.WriteFile(filepath.Join(k.Dir, "note.json"), esc, 0o600))
	got, err = ForeignKeys(k.Dir, k.MSPID)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "note.json", got[0].Path)
	assert.Equal(t, "LeuvenMSP", got[0].Owner)
}

// The Fabric CA server keeps its idemix revocation key (SEC 1 under a
// "PRIVATE KEY" label) with no certificate, beside its public key: that
// key is the organisation's own; the same key elsewhere is of unknown owner.
func TestKeysOfTheCAWithoutACertificate(t *testing.T) {
	orgs, _ := consortium(t, "kaunas")
	k := orgs["kaunas"]
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	ca := pki.ServerDir(k.Dir, k.CA())
	require.NoError(t, os.MkdirAll(filepath.Join(ca, "msp", "keystore"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(ca, "msp", "keystore", "IssuerRevocationPrivateKey"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(ca, "IssuerRevocationPublicKey"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644))
	got, err := ForeignKeys(k.Dir, k.MSPID)
	require.NoError(t, err)
	assert.Empty(t, got)

	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "stray"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	got, err = ForeignKeys(other, k.MSPID)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "", got[0].Owner)
}

// A config block in a folder names the organisations' roots: a key whose
// certificate one of them issued is that organisation's.
func TestKeysKnowTheOwnersFromAConfigBlock(t *testing.T) {
	orgs, _ := consortium(t, "kaunas", "leuven")
	b, err := Genesis("circular", cardsOf(orgs, "kaunas", "leuven"))
	require.NoError(t, err)
	dir := t.TempDir()
	l := orgs["leuven"]
	for src, dst := range map[string]string{
		filepath.Join(l.AdminDir(), "msp", "keystore", "priv_sk"):                      "admin.key",
		filepath.Join(l.AdminDir(), "msp", "signcerts", "Admin@"+l.Domain+"-cert.pem"): "admin.crt",
	} {
		raw, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, dst), raw, 0o600))
	}
	got, err := Keys(dir)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, Key{Path: "admin.key"}, got[0], "no root in the folder: the owner is unknown")

	require.NoError(t, WriteBlock(filepath.Join(dir, "genesis.block"), b))
	got, err = Keys(dir)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, Key{Path: "admin.key", Owner: "LeuvenMSP", Cert: "admin.crt"}, got[0])
	ch, err := BlockChannel(b)
	require.NoError(t, err)
	assert.Equal(t, "circular", ch)
}
