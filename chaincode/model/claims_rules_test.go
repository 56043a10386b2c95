package model

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heldFlakes is a derived batch: the recycler made F from A in tx-p, an
// auditor quarantined it in tx-q and the recycler anchored a document on
// it in tx-d. It returns the process record, the batch as it reads now
// (without CreatedTx, as a batch of contract 0.2.0 would) and every
// transaction, honest.
func heldFlakes(t *testing.T) (*Process, *Batch, map[string]*SignedTx) {
	t.Helper()
	recycler := Actor{MSP: "RecyclerMSP", Identity: "op@recycler", EnrollmentID: "op", Role: PersonOperator}
	auditor := Actor{MSP: "AuditorMSP", Identity: "aud@auditor", EnrollmentID: "aud", Role: PersonOperator}
	p := &Process{Derivation: Derivation{Step: StepShredding, Tx: "tx-p", By: recycler, At: "t1",
		Inputs: []Take{{ID: "A", Mass: 100}}, Loss: 10}, Outputs: []Take{{ID: "F", Mass: 90}}, RecycledContent: FullRecycled}
	made := Batch{ID: "F", Material: PET, Form: FormFlakes, InitialMass: 90, RemainingMass: 90, Owner: recycler.MSP,
		Submitter: recycler, Status: StatusActive, Origin: Origin{Process: &p.Derivation}, RecycledContent: FullRecycled,
		CreatedAt: "t1", UpdatedAt: "t1", LastTx: "tx-p", UpdatedBy: recycler, Format: CurrentFormat}
	held := made
	held.Status, held.LastTx, held.UpdatedBy, held.UpdatedAt = StatusQuarantined, "tx-q", auditor, "t2"
	held.Quarantine = &Quarantine{By: auditor, ByRole: HeldByAuditor, Reason: "contaminated", At: "t2", Tx: "tx-q", PreviousStatus: StatusActive}
	final := held
	final.LastTx, final.UpdatedBy, final.UpdatedAt = "tx-d", recycler, "t3"
	final.Documents = []Document{{Name: "lab report", SHA256: strings.Repeat("c", 64), AnchoredBy: recycler, AnchoredAt: "t3", Tx: "tx-d"}}
	txs := map[string]*SignedTx{
		"tx-p": {ID: "tx-p", Valid: true, Code: "VALID", Creator: recycler, Endorsers: []string{"AuditorMSP", "RecyclerMSP"},
			Batches: map[string]json.RawMessage{"F": mustJSON(t, made)}, Processes: map[string]json.RawMessage{"tx-p": mustJSON(t, p)}},
		"tx-q": {ID: "tx-q", Valid: true, Code: "VALID", Creator: auditor, Endorsers: []string{"AuditorMSP", "RecyclerMSP"},
			Batches: map[string]json.RawMessage{"F": mustJSON(t, held)}},
		"tx-d": {ID: "tx-d", Valid: true, Code: "VALID", Creator: recycler, Endorsers: []string{"RecyclerMSP"},
			Batches: map[string]json.RawMessage{"F": mustJSON(t, final)}},
	}
	return p, &final, txs
}

func TestBatchClaimsOfADerivedBatch(t *testing.T) {
	p, b, txs := heldFlakes(t)
	cs := BatchClaims(b, "tx-p")
	var what []string
	for _, c := range cs {
		what = append(what, c.What+"@"+c.Tx)
	}
	assert.Equal(t, []string{"processor@tx-p", "quarantine by@tx-q", "document anchored by@tx-d", "last writer@tx-d"}, what)
	assert.Equal(t, p.By, cs[0].Actor, "the processor is the derivation's actor")
	assert.Equal(t, []string{"RecyclerMSP"}, cs[0].Endorsers)
	assert.Equal(t, []string{"AuditorMSP"}, cs[1].Endorsers, "an auditor's quarantine needs the auditor's endorsement")

	c := VerifyClaims(cs, txs)
	require.True(t, c.OK, "%+v", c)
	assert.Equal(t, "4 claims in 3 transactions match their creators, endorsers and writes", c.Detail)

	// The evidence makes the same claims, plus the process record's.
	ev := Evidence{Batches: []Batch{*b}, Processes: []Process{*p}}
	ecs := ev.Claims(nil)
	require.Len(t, ecs, 5)
	assert.Equal(t, "process record tx-p", ecs[4].Subject)
	assert.True(t, VerifyClaims(ecs, txs).OK)
}

// A collected batch of contract 0.2.0 does not name its creating
// transaction: the evidence's claims take it from the history.
func TestEvidenceClaimsCreatedTx(t *testing.T) {
	b, txs, fill := handedOver()
	fill(t)
	old := *b
	old.CreatedTx = ""
	cs := (&Evidence{Batches: []Batch{old}}).Claims(map[string]string{"B1": "tx-reg"})
	assert.Equal(t, "tx-reg", cs[0].Tx)
	// CreatedTx on the batch wins over the history.
	assert.Equal(t, "tx-reg", (&Evidence{Batches: []Batch{*b}}).Claims(map[string]string{"B1": "tx-other"})[0].Tx)
	// With neither, the collection names no transaction, and fails.
	got := VerifyClaims((&Evidence{Batches: []Batch{old}}).Claims(nil), txs)
	assert.False(t, got.OK)
	assert.Contains(t, got.Detail, `batch "B1" claims collector MunicipalityMSP but names no transaction`)
}

func TestBatchClaimsOfADerivedBatchForged(t *testing.T) {
	cases := []struct {
		name   string
		forge  func(t *testing.T, b *Batch, txs map[string]*SignedTx)
		expect string
	}{
		{"quarantine reason rewritten", func(t *testing.T, b *Batch, _ map[string]*SignedTx) {
			b.Quarantine.Reason = "routine"
		}, `batch "F" claims quarantine by AuditorMSP but tx tx-q did not write this quarantine`},
		{"quarantine claimed by the auditor, made by the recycler", func(t *testing.T, _ *Batch, txs map[string]*SignedTx) {
			txs["tx-q"].Creator = Actor{MSP: "RecyclerMSP", Identity: "op@recycler"}
		}, `claims quarantine by AuditorMSP but tx tx-q was created by RecyclerMSP and endorsed by AuditorMSP, RecyclerMSP`},
		{"document hash swapped", func(t *testing.T, b *Batch, _ map[string]*SignedTx) {
			b.Documents[0].SHA256 = strings.Repeat("d", 64)
		}, `claims document anchored by RecyclerMSP but tx tx-d did not write document dddd`},
		{"derivation's virgin mass raised", func(t *testing.T, b *Batch, _ map[string]*SignedTx) {
			d := *b.Origin.Process
			d.VirginMass = 50
			b.Origin.Process = &d
		}, `claims processor RecyclerMSP but tx tx-p did not write the batch as it was created`},
		{"creating transaction wrote garbage", func(t *testing.T, _ *Batch, txs map[string]*SignedTx) {
			txs["tx-p"].Batches["F"] = json.RawMessage(`"not a batch"`)
		}, `claims processor RecyclerMSP but tx tx-p wrote something that is not a batch`},
		{"nobody endorsed", func(t *testing.T, _ *Batch, txs map[string]*SignedTx) {
			txs["tx-d"].Endorsers = nil
		}, `tx tx-d was created by RecyclerMSP and endorsed by nobody (RecyclerMSP did not endorse)`},
		{"last version rewritten", func(t *testing.T, b *Batch, _ map[string]*SignedTx) {
			b.RemainingMass = 80
		}, `claims last writer RecyclerMSP but tx tx-d did not write this version`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, b, txs := heldFlakes(t)
			c.forge(t, b, txs)
			got := VerifyClaims(BatchClaims(b, "tx-p"), txs)
			if got.OK || !strings.Contains(got.Detail, c.expect) {
				t.Fatalf("got %+v\nwant a failure containing %q", got, c.expect)
			}
		})
	}
}

func TestVerifyClaimsReportsEachProblemOnce(t *testing.T) {
	// Two claims on the same missing transaction with the same words make
	// one problem.
	c := Claim{Subject: `batch "X"`, What: "processor", Tx: "tx-gone", Actor: Actor{MSP: "RecyclerMSP"}}
	got := VerifyClaims([]Claim{c, c}, nil)
	require.False(t, got.OK)
	assert.Equal(t, 1, strings.Count(got.Detail, "tx-gone"), got.Detail)
	assert.Equal(t, CheckSignatures, got.Name)

	ok := VerifyClaims(nil, nil)
	assert.True(t, ok.OK, "no claims, nothing forged")
	assert.Equal(t, "0 claims in 0 transactions match their creators, endorsers and writes", ok.Detail)
}

func TestProcessClaimsOfAMissingOrBrokenRecord(t *testing.T) {
	p, _, txs := heldFlakes(t)
	delete(txs["tx-p"].Processes, "tx-p")
	got := VerifyClaims(ProcessClaims(p), txs)
	assert.Contains(t, got.Detail, "process record tx-p claims processor RecyclerMSP but tx tx-p did not write the record")
	txs["tx-p"].Processes["tx-p"] = json.RawMessage(`[1,2]`)
	got = VerifyClaims(ProcessClaims(p), txs)
	assert.Contains(t, got.Detail, "wrote a different record")
}

func TestTakeClaimsOfBrokenWrites(t *testing.T) {
	p, _, _ := heldFlakes(t)
	take := Take{ID: "F", Mass: 100, Tx: "tx-p", At: "t1"}
	tx := func(takes, batches map[string]json.RawMessage) map[string]*SignedTx {
		return map[string]*SignedTx{"tx-p": {ID: "tx-p", Valid: true, Creator: p.By, Endorsers: []string{"RecyclerMSP"}, Takes: takes, Batches: batches}}
	}
	cases := []struct {
		name   string
		txs    map[string]*SignedTx
		expect string
	}{
		{"take that is not JSON of a take", tx(map[string]json.RawMessage{"A": json.RawMessage(`"x"`)}, nil), "wrote a different take"},
		{"legacy parent that is not an object", tx(nil, map[string]json.RawMessage{"A": json.RawMessage(`[]`)}), "did not write the take"},
		{"legacy parent with another id", tx(nil, map[string]json.RawMessage{"A": json.RawMessage(`{"children":[{"id":"G","mass":100,"tx":"tx-p"}]}`)}), "wrote a different take"},
		{"legacy parent with another custody count", tx(nil, map[string]json.RawMessage{"A": json.RawMessage(`{"children":[{"id":"F","mass":100,"tx":"tx-p","handovers":2}]}`)}), "wrote a different take"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := VerifyClaims(TakeClaims("A", take, p), c.txs)
			assert.False(t, got.OK)
			assert.Contains(t, got.Detail, c.expect)
		})
	}
	ok := VerifyClaims(TakeClaims("A", take, p), tx(nil, map[string]json.RawMessage{"A": json.RawMessage(`{"children":[{"id":"F","mass":100,"tx":"tx-p"}]}`)}))
	assert.True(t, ok.OK, "%+v", ok)
}

func TestShortTx(t *testing.T) {
	assert.Equal(t, "", ShortTx(""))
	assert.Equal(t, "12345678", ShortTx("12345678"))
	assert.Equal(t, "12345678…", ShortTx("123456789"))
}

func TestEvidenceGraphAndVerify(t *testing.T) {
	g, recs, tk := upstream(), records(), takes()
	var ev Evidence
	for _, id := range []string{"C1", "C2", "P1"} {
		ev.Batches = append(ev.Batches, *g[id])
	}
	for _, p := range recs {
		ev.Processes = append(ev.Processes, *p)
	}
	for ref, t := range tk {
		ev.Takes = append(ev.Takes, TakeOf{Parent: ref.Parent, Take: t})
	}
	slices.SortFunc(ev.Takes, func(a, b TakeOf) int { return strings.Compare(a.Parent, b.Parent) })

	batches, procs, takes := ev.Graph()
	assert.Equal(t, g, batches)
	assert.Equal(t, recs, procs)
	assert.Equal(t, tk, takes)
	// The maps point into the evidence.
	batches["P1"].Owner = "Changed"
	assert.Equal(t, "Changed", ev.Batches[2].Owner)
	ev.Batches[2].Owner = "RecyclerMSP"

	assert.Equal(t, Verify("P1", g, recs, tk, ""), ev.Verify("P1", ""))
	v := ev.Verify("P1", "")
	assert.True(t, v.OK, "%+v", v.Checks)

	// Evidence without the parents' takes fails the check that needs them.
	ev.Takes = nil
	v = ev.Verify("P1", "")
	assert.False(t, v.OK)

	empty := Evidence{}
	b, p, tks := empty.Graph()
	assert.Empty(t, b)
	assert.Empty(t, p)
	assert.Empty(t, tks)
	assert.False(t, empty.Verify("P1", "").OK, "no evidence, no provenance")
}

func TestSignedTxWrote(t *testing.T) {
	key := func(parts ...string) string { return "\x00" + strings.Join(parts, "\x00") + "\x00" }
	tx := &SignedTx{ID: "T1"}
	tx.Wrote(key("batch", "B1"), []byte(`{"id":"B1"}`))
	tx.Wrote(key("process", "T1"), []byte(`{"tx":"T1"}`))
	tx.Wrote(key("take", "P1", "20261201T000000.000000000Z", "T1"), []byte(`1`))
	tx.Wrote(key("take", "P2", "20261201T000000.000000000Z", "T0"), []byte(`2`))
	tx.Wrote(key("hold", "B1", "T1"), []byte(`3`))
	tx.Wrote(key("hold", "B2", "T0"), []byte(`4`))
	tx.Wrote(key("doc", "B1", "T1"), []byte(`5`))
	tx.Wrote(key("held", "B1", "T1"), []byte(`6`))
	tx.Wrote(key("registry"), []byte(`7`))
	tx.Wrote("plain", []byte(`8`))
	tx.Wrote("\x00batch\x00B9", []byte(`9`))
	assert.Equal(t, map[string]json.RawMessage{"B1": []byte(`{"id":"B1"}`)}, tx.Batches)
	assert.Equal(t, map[string]json.RawMessage{"T1": []byte(`{"tx":"T1"}`)}, tx.Processes)
	assert.Equal(t, map[string]json.RawMessage{"P1": []byte(`1`)}, tx.Takes, "only the take the transaction made")
	assert.Equal(t, map[string]json.RawMessage{"B1": []byte(`3`)}, tx.Holds, "only the hold the transaction placed")
	assert.Equal(t, map[string]json.RawMessage{"B1": []byte(`5`)}, tx.Documents)
}
