//go:build e2e

// Package identity tests people on the live network: an organisation admin
// registers and enrols a new operator at the recycler with `mtrace
// identity`, who processes a batch and is named on its history; a viewer
// may read but their write is refused at endorsement by role; then the
// operator is revoked, and every member peer refuses their evaluate and
// submit within 60 s, while another recycler operator still commits.
//
// The test leaves a revocation list in the recycler's channel MSP and two
// profiles in the CLI config; neither changes what later tests do. It
// needs the four organisations of network/consortium.yaml (its suite
// avoids harness.Grown, test/internal/harness/suites.go).
package identity

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"go.yaml.in/yaml/v3"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/fabca"
	"github.com/mtrace/mtrace/test/internal/harness"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

var env *testnet.Env

var run = fmt.Sprintf("i%d", time.Now().Unix()%1_000_000)

func id(name string) string { return run + "-" + name }

// TestMain runs the suite on a live network (test/internal/harness).
func TestMain(m *testing.M) { harness.Main(m, "identity", &env) }

// enrol registers name at the recycler's CA with role and enrols it; it
// answers the new profile's name.
func enrol(t *testing.T, name, role string) string {
	t.Helper()
	var reg struct {
		Secret string `json:"secret"`
		Type   string `json:"type"`
	}
	env.JSON(t, &reg, "recycler-admin", "identity", "register", name, "--role", role)
	if reg.Secret == "" || reg.Type != "client" {
		t.Fatalf("register %s answered %+v", name, reg)
	}
	var res struct {
		Profile string           `json:"profile"`
		Role    model.PersonRole `json:"role"`
	}
	env.JSON(t, &res, "recycler", "identity", "enroll", name, "--secret", reg.Secret)
	if res.Profile != "recycler-"+name || string(res.Role) != role {
		t.Fatalf("enroll %s answered %+v", name, res)
	}
	// The secret was good for one enrolment.
	if r := env.Run(t, "recycler", "identity", "enroll", name, "--secret", reg.Secret, "--profile-name", "again-"+name); r.Code == 0 {
		t.Fatalf("a one-time secret enrolled twice:\n%s", r)
	}
	if err := env.Reload(); err != nil {
		t.Fatal(err)
	}
	return res.Profile
}

// as opens a gateway to peer's endpoint (one of testnet.Peers) with the
// identity of profile.
func as(t *testing.T, profile, peer string) (*client.Contract, func()) {
	t.Helper()
	who, at := env.Profiles[profile], env.Profiles[peer]
	gw, done, err := testnet.Connect(testnet.Profile{Endpoint: at.Endpoint, TLSRootCert: at.TLSRootCert, ServerName: at.ServerName,
		MSPID: who.MSPID, Cert: who.Cert, Key: who.Key})
	if err != nil {
		t.Fatalf("connect as %s to %s's peer: %v", profile, peer, err)
	}
	return gw.GetNetwork(who.Channel).GetContract(who.Chaincode), done
}

// ordererConfig reads the channel configuration from the orderer of the
// profile's orderer section, as the profile's identity.
func ordererConfig(t *testing.T, profile string) (*channel.Config, error) {
	t.Helper()
	raw, err := os.ReadFile(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Profiles map[string]struct {
			Orderer struct {
				Endpoint    string `yaml:"endpoint"`
				TLSRootCert string `yaml:"tlsRootCert"`
				ServerName  string `yaml:"serverName"`
				TLSCert     string `yaml:"tlsCert"`
				TLSKey      string `yaml:"tlsKey"`
			} `yaml:"orderer"`
		} `yaml:"profiles"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	o, p := cfg.Profiles[profile].Orderer, env.Profiles[profile]
	if o.Endpoint == "" {
		t.Fatalf("profile %s has no orderer section", profile)
	}
	id, err := fabca.LoadIdentity(p.Cert, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := channel.Dial(o.Endpoint, o.TLSRootCert, o.ServerName, cert, p.Channel,
		&configtx.SigningIdentity{Certificate: id.Cert, PrivateKey: id.Key, MSPID: p.MSPID})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return conn.Config(ctx)
}

func process(in, out string) string {
	raw, _ := json.Marshal(model.ProcessRequest{Step: model.StepSorting,
		Inputs:  []model.ProcessInput{{ID: in, Mass: 1}},
		Outputs: []model.ProcessOutput{{ID: out, Material: model.PET, Form: model.FormSorted, Mass: 1}}})
	return string(raw)
}

func serial(t *testing.T, profile string) string {
	t.Helper()
	raw, err := os.ReadFile(env.Profiles[profile].Cert)
	if err != nil {
		t.Fatal(err)
	}
	c, err := fabca.ParseCert(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.Text(16)
}

// denied reports whether err is a peer's refusal of the creator itself.
func denied(err error) bool {
	return err != nil && strings.Contains(testnet.Message(err), "access denied: channel [")
}

func TestPeopleAndRevocation(t *testing.T) {
	operator, viewer := enrol(t, id("op"), "operator"), enrol(t, id("view"), "viewer")

	// A batch the recycler holds.
	flakes, sorted := id("W1"), id("S1")
	env.MustRun(t, "municipality", "batch", "register", flakes, "--material", "PET", "--mass", "100kg",
		"--location", "Hervanta", "--collected-at", "2026-11-20T09:30:00+02:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "transfer", flakes, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", flakes)

	// The new operator processes it, and the history names them.
	env.MustRun(t, operator, "batch", "process", "--step", "sorting", "--in", flakes+":10kg", "--out", sorted+":PET:sorted:10kg")
	var hist []model.HistoryEntry
	env.JSON(t, &hist, "auditor", "history", sorted)
	if len(hist) != 1 || hist[0].Batch.UpdatedBy != (model.Actor{MSP: "RecyclerMSP", Identity: id("op"), EnrollmentID: id("op"), Role: model.PersonOperator}) {
		t.Fatalf("the history of %s does not name the operator: %+v", sorted, hist)
	}
	if text := env.MustRun(t, "auditor", "history", sorted).Stdout; !strings.Contains(text, id("op")) || !strings.Contains(text, "operator") {
		t.Fatalf("the history table does not show the person:\n%s", text)
	}

	// The viewer reads, but every peer refuses their write at endorsement,
	// naming the role; nothing is written.
	env.MustRun(t, viewer, "batch", "get", sorted)
	want := fmt.Sprintf(`caller %s (RecyclerMSP) has mtrace.role "viewer", which may only read; Process needs operator or admin`, id("view"))
	r := env.Run(t, viewer, "batch", "process", "--step", "sorting", "--in", flakes+":1kg", "--out", id("V1")+":PET:sorted:1kg")
	if r.Code == 0 || !strings.Contains(r.Stderr, "rejected by chaincode: "+want) {
		t.Fatalf("the viewer's write was not refused by role:\n%s", r)
	}
	c, done := as(t, viewer, "maker")
	_, err := c.Submit("Process", client.WithArguments(process(flakes, id("V2"))))
	done()
	var ee *client.EndorseError
	if !errors.As(err, &ee) || !strings.Contains(testnet.Message(err), want) {
		t.Fatalf("through the maker's peer, the viewer's write was not refused at endorsement by role: %v", testnet.Message(err))
	}
	var b model.Batch
	env.JSON(t, &b, "auditor", "batch", "get", flakes)
	if b.RemainingMass != 90*model.Kilogram {
		t.Fatalf("%s has %s left after the refused writes, want 90 kg", flakes, b.RemainingMass)
	}

	// Before the revocation, the operator may read and write on every
	// member peer, so the refusals below are the revocation's doing.
	contracts := map[string]*client.Contract{}
	for _, p := range testnet.Peers {
		c, done := as(t, operator, p)
		defer done()
		contracts[p] = c
		if _, err := c.EvaluateTransaction("ReadBatch", sorted); err != nil {
			t.Fatalf("before revocation, the operator cannot read on %s's peer: %s", p, testnet.Message(err))
		}
	}
	if _, err := contracts["auditor"].Submit("Process", client.WithArguments(process(flakes, id("P0")))); err != nil {
		t.Fatalf("before revocation, the operator cannot write through the auditor's peer: %s", testnet.Message(err))
	}

	// The orderers deliver blocks to the operator, too.
	if _, err := ordererConfig(t, operator); err != nil {
		t.Fatalf("before revocation, the orderer refuses the operator: %v", err)
	}

	// Revoke.
	revSerial := serial(t, operator)
	start := time.Now()
	var rev struct {
		Revoked     []string `json:"revoked"`
		ConfigBlock uint64   `json:"configBlock"`
		Changed     bool     `json:"changed"`
		Channel     []string `json:"revokedInChannel"`
	}
	env.JSON(t, &rev, "recycler-admin", "identity", "revoke", id("op"), "--reason", "key compromise")
	returned := time.Now()
	if !slices.Equal(rev.Revoked, []string{revSerial}) || !rev.Changed || !slices.Contains(rev.Channel, revSerial) {
		t.Fatalf("revoke answered %+v, want serial %s revoked in the channel", rev, revSerial)
	}
	m, err := env.Membership()
	if err != nil {
		t.Fatal(err)
	}
	if m.ConfigBlock != rev.ConfigBlock {
		t.Fatalf("the orderer's last config block is %d, revoke reported %d", m.ConfigBlock, rev.ConfigBlock)
	}

	// Within 60 s every member peer refuses the operator's evaluate and
	// submit. A write that still gets through before then is harmless
	// (one gram each); any other error is a failure of the test.
	type probe struct{ peer, op string }
	refused := map[probe]time.Duration{}
	n := 0
	for len(refused) < 2*len(testnet.Peers) {
		if time.Since(returned) > 60*time.Second {
			t.Fatalf("60 s after the revocation, only these refuse the operator: %v", refused)
		}
		for _, p := range testnet.Peers {
			if _, ok := refused[probe{p, "evaluate"}]; !ok {
				_, err := contracts[p].EvaluateTransaction("ReadBatch", sorted)
				switch {
				case denied(err):
					refused[probe{p, "evaluate"}] = time.Since(start)
				case err != nil:
					t.Fatalf("evaluate on %s's peer failed for another reason: %s", p, testnet.Message(err))
				}
			}
			if _, ok := refused[probe{p, "submit"}]; !ok {
				n++
				_, err := contracts[p].Submit("Process", client.WithArguments(process(flakes, fmt.Sprintf("%s-%d", id("P"), n))))
				switch {
				case denied(err) && errors.As(err, &ee):
					refused[probe{p, "submit"}] = time.Since(start)
				case err != nil:
					t.Fatalf("submit through %s's peer failed for another reason: %s", p, testnet.Message(err))
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	var last time.Duration
	for _, p := range testnet.Peers {
		e, s := refused[probe{p, "evaluate"}], refused[probe{p, "submit"}]
		t.Logf("%-12s evaluate refused %5.2f s, submit refused %5.2f s after revoke started", p, e.Seconds(), s.Seconds())
		last = max(last, e, s)
	}
	took := fmt.Sprintf("revocation took effect on all %d member peers %.2f s after `mtrace identity revoke` started (the command itself took %.2f s; config block %d)",
		len(testnet.Peers), last.Seconds(), returned.Sub(start).Seconds(), rev.ConfigBlock)
	t.Log(took)
	fmt.Println(took)

	// The orderer refuses them too.
	if _, err := ordererConfig(t, operator); err == nil || !strings.Contains(err.Error(), "FORBIDDEN") {
		t.Fatalf("after revocation, the orderer delivers to the operator: %v", err)
	}

	// It stays refused, and the CLI says why.
	for _, p := range testnet.Peers {
		if _, err := contracts[p].EvaluateTransaction("ReadBatch", sorted); !denied(err) {
			t.Fatalf("%s's peer accepts the revoked operator again: %v", p, testnet.Message(err))
		}
	}
	for _, args := range [][]string{
		{"batch", "get", sorted},
		{"batch", "process", "--step", "sorting", "--in", flakes + ":1kg", "--out", id("P-cli") + ":PET:sorted:1kg"},
	} {
		r := env.Run(t, operator, args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "the channel does not accept this identity: its certificate is revoked") {
			t.Fatalf("the CLI does not say the identity is refused:\n%s", r)
		}
	}

	// Another recycler operator still commits.
	other := "recycler-deniz"
	if _, ok := env.Profiles[other]; !ok {
		other = "recycler"
	}
	after := id("S2")
	env.MustRun(t, other, "batch", "process", "--step", "sorting", "--in", flakes+":5kg", "--out", after+":PET:sorted:5kg")
	env.JSON(t, &b, "auditor", "batch", "get", after)
	if b.Owner != "RecyclerMSP" || b.Submitter.Role != model.PersonOperator || b.Submitter.EnrollmentID == id("op") {
		t.Fatalf("%s was not made by another recycler operator: %+v", after, b.Submitter)
	}

	// The CA lists the operator's certificate as revoked.
	var ids []struct {
		Name         string `json:"name"`
		Certificates []struct {
			Serial string `json:"serial"`
			State  string `json:"state"`
		} `json:"certificates"`
	}
	env.JSON(t, &ids, "recycler-admin", "identity", "list")
	found := false
	for _, i := range ids {
		for _, c := range i.Certificates {
			if c.Serial == revSerial {
				found = i.Name == id("op") && c.State == "revoked"
			}
		}
	}
	if !found {
		t.Fatalf("identity list does not show %s's certificate %s as revoked: %+v", id("op"), revSerial, ids)
	}
}
