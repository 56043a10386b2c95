//go:build e2e

package faults

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/hash"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// snapshot is a batch as JSON, for before/after comparisons.
func snapshot(t *testing.T, c *client.Contract, batchID string) string {
	t.Helper()
	raw, err := c.EvaluateTransaction("ReadBatch", batchID)
	if err != nil {
		t.Fatalf("ReadBatch %s: %s", batchID, testnet.Message(err))
	}
	return string(raw)
}

// still checks that nothing was written: the batches read as before and
// every peer is at the height it was.
func still(t *testing.T, c *client.Contract, before map[string]string, hs map[string]uint64) {
	t.Helper()
	for b, want := range before {
		if got := snapshot(t, c, b); got != want {
			t.Errorf("batch %s changed:\nbefore %s\nafter  %s", b, want, got)
		}
	}
	now, err := env.Heights()
	if err != nil {
		t.Fatal(err)
	}
	for p, h := range hs {
		if now[p] != h {
			t.Errorf("peer %s moved from height %d to %d: something was written", p, h, now[p])
		}
	}
}

// TestAcceptEndorsedByReceiverOnly: while a transfer is pending, the batch
// key needs both organisations' endorsement. A recycler client that pins
// endorsement to its own peer gets its accept ordered, but validation
// refuses it with ENDORSEMENT_POLICY_FAILURE, and the batch is unchanged.
func TestAcceptEndorsedByReceiverOnly(t *testing.T) {
	muni, rec := contract(t, "municipality"), contract(t, "recycler")
	b := id("hostile-sbe")
	mustSubmit(t, muni, "RegisterBatch", registerArgs(b, 12_000)...)
	mustSubmit(t, muni, "OfferTransfer", b, "RecyclerMSP")
	settle(t)
	before := snapshot(t, muni, b)
	tx, _, err := submit(rec, "AcceptTransfer", []string{b, "0"}, client.WithEndorsingOrganizations("RecyclerMSP"))
	if cls := class(err); cls != "commit/ENDORSEMENT_POLICY_FAILURE" {
		t.Fatalf("accept endorsed by RecyclerMSP alone: %s (%s); want commit/ENDORSEMENT_POLICY_FAILURE", cls, testnet.Message(err))
	}
	if got := snapshot(t, muni, b); got != before {
		t.Errorf("batch changed by an invalid transaction:\nbefore %s\nafter  %s", before, got)
	}
	t.Logf("AcceptTransfer endorsed by RecyclerMSP only: tx %s ordered and invalidated with code 10 (%s); batch unchanged", tx, testnet.Message(err))
	// The same accept, endorsed as the policy asks, commits.
	mustSubmit(t, rec, "AcceptTransfer", b, "0")
}

// foreignIdentity makes an ECDSA CA that no channel member knows and a
// client certificate from it, and writes them to dir.
func foreignIdentity(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca.recycler.mtrace.local", Organization: []string{"recycler.mtrace.local"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "User1@recycler.mtrace.local", OrganizationalUnit: []string{"client"}},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// TestForeignCertificateAuthority: a client whose certificate comes from
// a CA outside the channel, claiming MSP ID RecyclerMSP, can neither read
// nor write; nothing is written.
func TestForeignCertificateAuthority(t *testing.T) {
	muni := contract(t, "municipality")
	b := id("hostile-foreign")
	mustSubmit(t, muni, "RegisterBatch", registerArgs(b, 9_000)...)
	mustSubmit(t, muni, "OfferTransfer", b, "RecyclerMSP")
	before := map[string]string{b: snapshot(t, muni, b)}
	hs, err := env.Heights()
	if err != nil {
		t.Fatal(err)
	}

	p := env.Profiles["recycler"]
	p.Cert, p.Key = foreignIdentity(t, t.TempDir())
	gw, done, err := testnet.Connect(p)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer done()
	c := gw.GetNetwork(p.Channel).GetContract(p.Chaincode)

	_, err = c.EvaluateTransaction("ReadBatch", b)
	if err == nil {
		t.Fatal("a foreign identity read a batch")
	}
	t.Logf("evaluate as a foreign RecyclerMSP identity refused: %s: %s", status.Code(err), testnet.OneLine(testnet.Message(err), 220))
	if !strings.Contains(testnet.Message(err), "access denied") {
		t.Errorf("evaluate refusal does not say access denied: %s", testnet.Message(err))
	}
	if strings.Contains(testnet.Message(err), `"id"`) {
		t.Errorf("the refusal carries batch data: %s", testnet.Message(err))
	}
	// AcceptTransfer is what the real recycler may do with this batch, so
	// only the identity can be the reason for a refusal.
	_, _, err = submit(c, "AcceptTransfer", []string{b, "0"})
	if err == nil {
		t.Fatal("a foreign identity accepted a transfer")
	}
	t.Logf("submit as a foreign RecyclerMSP identity refused: %s: %s", class(err), testnet.OneLine(testnet.Message(err), 220))
	if !strings.HasPrefix(class(err), "endorse/") || !strings.Contains(testnet.Message(err), "access denied") {
		t.Errorf("submit was not refused at proposal validation: %s: %s", class(err), testnet.Message(err))
	}
	_, _, err = submit(c, "RegisterBatch", registerArgs(id("hostile-foreign-new"), 1_000))
	if err == nil {
		t.Fatal("a foreign identity registered a batch")
	}
	if _, found := readBatch(t, muni, id("hostile-foreign-new")); found {
		t.Error("a foreign identity's batch exists")
	}
	still(t, muni, before, hs)
}

// TestClientWithoutTLS: a client that speaks plaintext gRPC to a peer is
// refused before any call reaches the gateway.
func TestClientWithoutTLS(t *testing.T) {
	hs, err := env.Heights()
	if err != nil {
		t.Fatal(err)
	}
	p := env.Profiles["municipality"]
	conn, err := grpc.NewClient(p.Endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	idn, sign, err := testnet.Signer(p.MSPID, p.Cert, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := client.Connect(idn, client.WithSign(sign), client.WithHash(hash.SHA256), client.WithClientConnection(conn),
		client.WithEvaluateTimeout(10*time.Second), client.WithEndorseTimeout(10*time.Second),
		client.WithSubmitTimeout(10*time.Second), client.WithCommitStatusTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	c := gw.GetNetwork(p.Channel).GetContract(p.Chaincode)
	_, err = c.EvaluateTransaction("GetRegistry")
	if code := status.Code(err); code != codes.Unavailable {
		t.Fatalf("plaintext evaluate: %v (code %s); want Unavailable", err, code)
	}
	t.Logf("plaintext evaluate refused: %s: %s", status.Code(err), testnet.OneLine(testnet.Message(err), 220))
	_, _, err = submit(c, "RegisterBatch", registerArgs(id("hostile-plain"), 1_000))
	if code := status.Code(err); code != codes.Unavailable {
		t.Fatalf("plaintext submit: %v (code %s); want Unavailable", err, code)
	}
	t.Logf("plaintext submit refused: %s: %s", class(err), testnet.OneLine(testnet.Message(err), 220))
	still(t, contract(t, "municipality"), nil, hs)
}

// TestAuditorPowers: the auditor cannot register, offer, accept, reject,
// cancel, process or change the registry; it can quarantine any batch,
// release its own hold (which the owner cannot), and attach documents.
func TestAuditorPowers(t *testing.T) {
	muni, aud := contract(t, "municipality"), contract(t, "auditor")
	held, pending := id("aud-held"), id("aud-pending")
	mustSubmit(t, muni, "RegisterBatch", registerArgs(held, 30_000)...)
	mustSubmit(t, muni, "RegisterBatch", registerArgs(pending, 20_000)...)
	mustSubmit(t, muni, "OfferTransfer", pending, "RecyclerMSP")
	settle(t)
	before := map[string]string{held: snapshot(t, muni, held), pending: snapshot(t, muni, pending)}
	hs, err := env.Heights()
	if err != nil {
		t.Fatal(err)
	}
	self, _ := json.Marshal(model.ChangeRequest{Action: model.ActionSet, MSP: "AuditorMSP", Role: model.RoleCollector, Name: "Auditor"})
	refused := []struct {
		fn   string
		args []string
	}{
		{"RegisterBatch", registerArgs(id("aud-new"), 1_000)},
		{"OfferTransfer", []string{held, "RecyclerMSP"}},
		{"AcceptTransfer", []string{pending, "0"}},
		{"RejectTransfer", []string{pending, "not ours"}},
		{"CancelTransfer", []string{pending}},
		{"Process", processArgs(held, id("aud-out"), 1_000)},
		{"ProposeChange", []string{string(self)}},
	}
	for _, r := range refused {
		_, _, err := submit(aud, r.fn, r.args)
		msg := testnet.Message(err)
		if err == nil {
			t.Errorf("auditor %s committed", r.fn)
			continue
		}
		if !strings.HasPrefix(class(err), "endorse/") || !strings.Contains(msg, "auditor") && !strings.Contains(msg, "AuditorMSP") {
			t.Errorf("auditor %s: %s: %q; want a refusal at endorsement naming the auditor", r.fn, class(err), msg)
		}
		t.Logf("auditor %s refused: %s", r.fn, testnet.OneLine(msg, 220))
	}
	if _, found := readBatch(t, muni, id("aud-new")); found {
		t.Error("the auditor's batch exists")
	}
	still(t, muni, before, hs)

	// Quarantine, then the owner may not release the auditor's hold. The
	// hold is under a key of its own (contract 0.5.0): the batch's stored
	// status is unchanged, its effective status quarantined.
	mustSubmit(t, aud, "Quarantine", held, "lab check of contamination")
	settle(t)
	b, _ := readBatch(t, muni, held)
	if b.EffectiveStatus() != model.StatusQuarantined || len(b.Holds) != 1 || b.Holds[0].By.MSP != "AuditorMSP" {
		t.Fatalf("after the auditor's quarantine: status %s, holds %+v", b.EffectiveStatus(), b.Holds)
	}
	_, _, err = submit(muni, "Release", []string{held})
	if err == nil || !strings.Contains(testnet.Message(err), "only AuditorMSP may release it") {
		t.Errorf("owner released the auditor's hold: %s: %s", class(err), testnet.Message(err))
	}
	mustSubmit(t, aud, "Release", held)
	sha := strings.Repeat("ab", 32)
	mustSubmit(t, aud, "AttachDocument", held, "lab report", sha, "https://lab.example/r/1")
	settle(t)
	b, _ = readBatch(t, muni, held)
	if b.EffectiveStatus() != model.StatusActive || len(b.AuditorDocuments) != 1 || b.AuditorDocuments[0].SHA256 != sha {
		t.Errorf("after release and attach: status %s, auditor documents %+v", b.EffectiveStatus(), b.AuditorDocuments)
	}
	t.Logf("auditor quarantined %s, the owner could not release it, the auditor released it and attached a document", held)
	audit(t)
}
