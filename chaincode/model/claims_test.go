package model

import (
	"encoding/json"
	"strings"
	"testing"
)

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// handedOver is a collected batch that the municipality offered and the
// recycler accepted, as its last version reads.
func handedOver() (*Batch, map[string]*SignedTx, func(*testing.T)) {
	city := Actor{MSP: "MunicipalityMSP", Identity: "op1@municipality"}
	rec := Actor{MSP: "RecyclerMSP", Identity: "op@recycler"}
	created := Batch{ID: "B1", Material: "PET", Form: FormWaste, InitialMass: 1000, RemainingMass: 1000, Owner: city.MSP,
		Submitter: city, Status: StatusActive, RecycledContent: FullRecycled, CreatedAt: "t0", CreatedTx: "tx-reg",
		Origin:    Origin{Collection: &Collection{Location: "Kadıköy", CollectedAt: "t0", Collector: city.MSP}},
		UpdatedAt: "t0", LastTx: "tx-reg", UpdatedBy: city}
	offered := created
	offered.Status, offered.LastTx = StatusInTransit, "tx-offer"
	offered.Pending = &Transfer{To: rec.MSP, Mass: 1000, OfferedBy: city, OfferTx: "tx-offer"}
	final := created
	final.Owner, final.LastTx, final.UpdatedBy, final.RemainingMass, final.TransitLoss = rec.MSP, "tx-accept", rec, 990, 10
	final.Handovers = []Handover{{From: city.MSP, To: rec.MSP, Offered: 1000, Received: 990, OfferTx: "tx-offer", AcceptTx: "tx-accept", AcceptedBy: rec}}
	txs := map[string]*SignedTx{}
	fill := func(t *testing.T) {
		txs["tx-reg"] = &SignedTx{ID: "tx-reg", Valid: true, Code: "VALID", Creator: city, Endorsers: []string{"AuditorMSP", "MunicipalityMSP"}, Batches: map[string]json.RawMessage{"B1": mustJSON(t, created)}}
		txs["tx-offer"] = &SignedTx{ID: "tx-offer", Valid: true, Code: "VALID", Creator: city, Endorsers: []string{"MunicipalityMSP", "RecyclerMSP"}, Batches: map[string]json.RawMessage{"B1": mustJSON(t, offered)}}
		txs["tx-accept"] = &SignedTx{ID: "tx-accept", Valid: true, Code: "VALID", Creator: rec, Endorsers: []string{"MunicipalityMSP", "RecyclerMSP"}, Batches: map[string]json.RawMessage{"B1": mustJSON(t, final)}}
	}
	return &final, txs, fill
}

func TestVerifyClaimsHolds(t *testing.T) {
	b, txs, fill := handedOver()
	fill(t)
	c := VerifyClaims(BatchClaims(b, b.CreatedTx), txs)
	if !c.OK || c.Name != CheckSignatures {
		t.Fatalf("honest batch: %+v", c)
	}
	if !strings.Contains(c.Detail, "4 claims in 3 transactions") {
		t.Errorf("detail: %s", c.Detail)
	}
}

func TestVerifyClaimsNamesEachForgery(t *testing.T) {
	cases := []struct {
		name   string
		forge  func(map[string]*SignedTx)
		expect string
	}{
		{"registered by another organisation", func(m map[string]*SignedTx) {
			m["tx-reg"].Creator = Actor{MSP: "MakerMSP", Identity: "op@maker"}
			m["tx-reg"].Endorsers = []string{"MakerMSP"}
		}, `batch "B1" claims collector MunicipalityMSP but tx tx-reg was created by MakerMSP and endorsed by MakerMSP only`},
		{"another person of the same organisation", func(m map[string]*SignedTx) {
			m["tx-reg"].Creator.Identity = "op2@municipality"
		}, `batch "B1" claims collector MunicipalityMSP (op1@municipality) but tx tx-reg was created by op2@municipality (MunicipalityMSP)`},
		{"accepted without the sender's endorsement", func(m map[string]*SignedTx) {
			m["tx-accept"].Endorsers = []string{"MakerMSP", "RecyclerMSP"}
		}, `batch "B1" claims receiver RecyclerMSP but tx tx-accep… was created by RecyclerMSP and endorsed by MakerMSP, RecyclerMSP (MunicipalityMSP did not endorse)`},
		{"invalid transaction", func(m map[string]*SignedTx) {
			m["tx-offer"].Valid, m["tx-offer"].Code = false, "ENDORSEMENT_POLICY_FAILURE"
		}, `batch "B1" claims offerer MunicipalityMSP but tx tx-offer is invalid (ENDORSEMENT_POLICY_FAILURE)`},
		{"missing transaction", func(m map[string]*SignedTx) { delete(m, "tx-accept") },
			`batch "B1" claims receiver RecyclerMSP but tx tx-accep… is not on the channel`},
		{"bad signature", func(m map[string]*SignedTx) {
			m["tx-reg"].Problems = []string{"endorsement 0: signature of peer0 does not verify"}
		},
			`tx tx-reg does not verify: endorsement 0: signature of peer0 does not verify`},
		{"a creation that wrote another mass", func(m map[string]*SignedTx) {
			var w Batch
			_ = json.Unmarshal(m["tx-reg"].Batches["B1"], &w)
			w.InitialMass = 2000
			m["tx-reg"].Batches["B1"], _ = json.Marshal(w)
		}, `batch "B1" claims collector MunicipalityMSP but tx tx-reg did not write the batch as it was created`},
		{"a transaction that never wrote the batch", func(m map[string]*SignedTx) { m["tx-offer"].Batches = nil },
			`batch "B1" claims offerer MunicipalityMSP but tx tx-offer did not write the batch`},
		{"current version is not what the last transaction wrote", func(m map[string]*SignedTx) {
			var w Batch
			_ = json.Unmarshal(m["tx-accept"].Batches["B1"], &w)
			w.RemainingMass = 500
			m["tx-accept"].Batches["B1"], _ = json.Marshal(w)
		}, `batch "B1" claims last writer RecyclerMSP but tx tx-accep… did not write this version`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, txs, fill := handedOver()
			fill(t)
			c.forge(txs)
			got := VerifyClaims(BatchClaims(b, b.CreatedTx), txs)
			if got.OK || !strings.Contains(got.Detail, c.expect) {
				t.Fatalf("got %+v\nwant a failure containing %q", got, c.expect)
			}
		})
	}
}

func TestProcessClaims(t *testing.T) {
	p := &Process{Derivation: Derivation{Step: StepExtrusion, Tx: "tx-p", By: Actor{MSP: "RecyclerMSP", Identity: "op"}, Inputs: []Take{{ID: "A", Mass: 10}}},
		Outputs: []Take{{ID: "F", Mass: 9}}, RecycledContent: FullRecycled}
	tx := &SignedTx{ID: "tx-p", Valid: true, Creator: p.By, Endorsers: []string{"AuditorMSP", "RecyclerMSP"}, Processes: map[string]json.RawMessage{"tx-p": mustJSON(t, p)}}
	if c := VerifyClaims(ProcessClaims(p), map[string]*SignedTx{"tx-p": tx}); !c.OK {
		t.Fatalf("honest record: %+v", c)
	}
	rewritten := *p
	rewritten.Outputs = []Take{{ID: "F", Mass: 18}}
	if c := VerifyClaims(ProcessClaims(&rewritten), map[string]*SignedTx{"tx-p": tx}); c.OK || !strings.Contains(c.Detail, "process record tx-p claims processor RecyclerMSP but tx tx-p wrote a different record") {
		t.Fatalf("rewritten record: %+v", c)
	}
}

// A migration's version was written by an admin of another organisation;
// the owner's endorsement is what the rules require of it.
func TestVerifyClaimsOfAMigration(t *testing.T) {
	b, txs, fill := handedOver()
	fill(t)
	adm := Actor{MSP: "MunicipalityMSP", Identity: "Admin@municipality"}
	b.LastTx, b.UpdatedBy, b.Format = "tx-migrate", adm, CurrentFormat
	b.Event = Event{Name: EvBatchesMigrated}
	txs["tx-migrate"] = &SignedTx{ID: "tx-migrate", Valid: true, Code: "VALID", Creator: adm,
		Endorsers: []string{"MakerMSP", "RecyclerMSP"}, Batches: map[string]json.RawMessage{"B1": mustJSON(t, b)}}
	if c := VerifyClaims(BatchClaims(b, b.CreatedTx), txs); !c.OK {
		t.Fatalf("migrated batch endorsed by its owner: %+v", c)
	}
	txs["tx-migrate"].Endorsers = []string{"MakerMSP", "MunicipalityMSP"}
	c := VerifyClaims(BatchClaims(b, b.CreatedTx), txs)
	if c.OK || !strings.Contains(c.Detail, "RecyclerMSP did not endorse") {
		t.Fatalf("a migration the owner did not endorse passed: %+v", c)
	}
}

// A take has no key-level policy of its own: the process's own
// transaction must have written it as it reads, and a take another
// transaction wrote, or changed since, fails.
func TestTakeClaims(t *testing.T) {
	p := &Process{Derivation: Derivation{Step: StepExtrusion, Tx: "tx-p", By: Actor{MSP: "RecyclerMSP", Identity: "op"}, Inputs: []Take{{ID: "A", Mass: 10}}},
		Outputs: []Take{{ID: "F", Mass: 9}}, RecycledContent: FullRecycled}
	take := Take{ID: "F", Mass: 10, Tx: "tx-p", Handovers: 1, At: "t1"}
	tx := &SignedTx{ID: "tx-p", Valid: true, Creator: p.By, Endorsers: []string{"AuditorMSP", "RecyclerMSP"},
		Processes: map[string]json.RawMessage{"tx-p": mustJSON(t, p)}, Takes: map[string]json.RawMessage{"A": mustJSON(t, take)}}
	txs := map[string]*SignedTx{"tx-p": tx}
	ev := Evidence{Processes: []Process{*p}, Takes: []TakeOf{{Parent: "A", Take: take}}}
	if c := VerifyClaims(ev.Claims(nil), txs); !c.OK || !strings.Contains(c.Detail, "2 claims in 1 transactions") {
		t.Fatalf("honest take: %+v", c)
	}

	cases := []struct {
		name   string
		take   Take
		txs    map[string]*SignedTx
		expect string
	}{
		{"custody count rewritten", Take{ID: "F", Mass: 10, Tx: "tx-p", Handovers: 0, At: "t1"}, txs,
			`take of batch "A" by process tx-p claims processor RecyclerMSP but tx tx-p wrote a different take`},
		{"written by the forger's own transaction", take, map[string]*SignedTx{"tx-p": {ID: "tx-p", Valid: true, Creator: p.By,
			Endorsers: []string{"AuditorMSP", "RecyclerMSP"}, Processes: tx.Processes}},
			`take of batch "A" by process tx-p claims processor RecyclerMSP but tx tx-p did not write the take`},
		{"process transaction of another organisation", take, map[string]*SignedTx{"tx-p": {ID: "tx-p", Valid: true,
			Creator: Actor{MSP: "MakerMSP", Identity: "op"}, Endorsers: []string{"MakerMSP", "RecyclerMSP"}, Takes: tx.Takes}},
			`take of batch "A" by process tx-p claims processor RecyclerMSP but tx tx-p was created by MakerMSP`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := VerifyClaims(TakeClaims("A", c.take, p), c.txs)
			if got.OK || !strings.Contains(got.Detail, c.expect) {
				t.Fatalf("got %+v\nwant a failure containing %q", got, c.expect)
			}
		})
	}

	// A take migrated from a contract before 0.3.0: the process's
	// transaction wrote it into the parent's children list.
	legacy := &SignedTx{ID: "tx-p", Valid: true, Creator: p.By, Endorsers: []string{"AuditorMSP", "RecyclerMSP"},
		Batches: map[string]json.RawMessage{"A": json.RawMessage(`{"id":"A","children":[{"id":"Z","mass":1,"tx":"tx-o"},{"id":"F","mass":10,"tx":"tx-p","handovers":1}]}`)}}
	if c := VerifyClaims(TakeClaims("A", take, p), map[string]*SignedTx{"tx-p": legacy}); !c.OK {
		t.Fatalf("migrated take: %+v", c)
	}
	forged := take
	forged.Mass = 11
	if c := VerifyClaims(TakeClaims("A", forged, p), map[string]*SignedTx{"tx-p": legacy}); c.OK || !strings.Contains(c.Detail, "wrote a different take") {
		t.Fatalf("migrated take with another mass: %+v", c)
	}
	legacy.Batches["A"] = json.RawMessage(`{"id":"A","children":[{"id":"Z","mass":1,"tx":"tx-o"}]}`)
	if c := VerifyClaims(TakeClaims("A", take, p), map[string]*SignedTx{"tx-p": legacy}); c.OK || !strings.Contains(c.Detail, "did not write the take") {
		t.Fatalf("migrated take its process never listed: %+v", c)
	}

	// A take whose process record is missing makes no claim here; Verify
	// reports the record missing.
	orphan := Evidence{Takes: []TakeOf{{Parent: "A", Take: take}}}
	if cs := orphan.Claims(nil); len(cs) != 0 {
		t.Fatalf("claims of an orphan take: %+v", cs)
	}
}

// Since contract 0.4.0 a record names the person and their mtrace.role;
// both must be the transaction creator's, as its certificate says.
func TestVerifyClaimsPersonAndRole(t *testing.T) {
	ayse := Actor{MSP: "MunicipalityMSP", Identity: "ayse", EnrollmentID: "ayse", Role: PersonOperator}
	p := &Process{Derivation: Derivation{Step: StepSorting, Tx: "tx-p", By: ayse, Inputs: []Take{{ID: "A", Mass: 10}}},
		Outputs: []Take{{ID: "S", Mass: 10}}, RecycledContent: FullRecycled}
	tx := func(creator Actor) map[string]*SignedTx {
		return map[string]*SignedTx{"tx-p": {ID: "tx-p", Valid: true, Creator: creator, Endorsers: []string{"AuditorMSP", "MunicipalityMSP"},
			Processes: map[string]json.RawMessage{"tx-p": mustJSON(t, p)}}}
	}
	if c := VerifyClaims(ProcessClaims(p), tx(ayse)); !c.OK {
		t.Fatalf("honest record: %+v", c)
	}
	viewer := ayse
	viewer.Role = PersonViewer
	if c := VerifyClaims(ProcessClaims(p), tx(viewer)); c.OK || !strings.Contains(c.Detail, `claims processor MunicipalityMSP (ayse, mtrace.role "operator") but tx tx-p was created with mtrace.role "viewer"`) {
		t.Fatalf("a viewer's transaction recorded as an operator's: %+v", c)
	}
	mehmet := ayse
	mehmet.EnrollmentID = "mehmet"
	if c := VerifyClaims(ProcessClaims(p), tx(mehmet)); c.OK || !strings.Contains(c.Detail, "(person ayse) but tx tx-p was created by mehmet (MunicipalityMSP)") {
		t.Fatalf("another person's transaction: %+v", c)
	}
	// A record from before 0.4.0 names neither; the organisation and
	// common name are still checked.
	old := *p
	old.By = Actor{MSP: "MunicipalityMSP", Identity: "ayse"}
	if c := VerifyClaims(ProcessClaims(&old), map[string]*SignedTx{"tx-p": {ID: "tx-p", Valid: true, Creator: viewer,
		Endorsers: []string{"AuditorMSP", "MunicipalityMSP"}, Processes: map[string]json.RawMessage{"tx-p": mustJSON(t, &old)}}}); !c.OK {
		t.Fatalf("record before 0.4.0: %+v", c)
	}
}

// TestVerifyClaimsAuditorHold: an auditor's hold and document, read with
// the batch, are held against the transactions that wrote their keys; the
// batch's own version is compared without them.
func TestVerifyClaimsAuditorHold(t *testing.T) {
	b, txs, fill := handedOver()
	fill(t)
	aud := Actor{MSP: "AuditorMSP", Identity: "op@auditor"}
	h := Hold{Batch: "B1", By: aud, Reason: "lab: PVC", At: "t5", Tx: "tx-hold", Event: Event{Name: EvBatchQuarantined, TxID: "tx-hold"}}
	d := AuditorDocument{Batch: "B1", Document: Document{Name: "lab", SHA256: strings.Repeat("ab", 32), AnchoredBy: aud, AnchoredAt: "t6", Tx: "tx-doc"}}
	b.Holds, b.AuditorDocuments = []Hold{h}, []AuditorDocument{d}
	txs["tx-hold"] = &SignedTx{ID: "tx-hold", Valid: true, Code: "VALID", Creator: aud, Endorsers: []string{"AuditorMSP", "MakerMSP"}, Holds: map[string]json.RawMessage{"B1": mustJSON(t, h)}}
	txs["tx-doc"] = &SignedTx{ID: "tx-doc", Valid: true, Code: "VALID", Creator: aud, Endorsers: []string{"AuditorMSP", "MakerMSP"}, Documents: map[string]json.RawMessage{"B1": mustJSON(t, d)}}
	if c := VerifyClaims(BatchClaims(b, b.CreatedTx), txs); !c.OK {
		t.Fatalf("honest hold: %s", c.Detail)
	}

	// A hold forged by the owner and a colluding witness in the auditor's
	// name fails: the creator is not the auditor.
	txs["tx-hold"].Creator = Actor{MSP: "RecyclerMSP", Identity: "op@recycler"}
	c := VerifyClaims(BatchClaims(b, b.CreatedTx), txs)
	if c.OK || !strings.Contains(c.Detail, `batch "B1" claims auditor's hold by AuditorMSP but tx tx-hold was created by RecyclerMSP`) {
		t.Errorf("forged creator: %s", c.Detail)
	}
	txs["tx-hold"].Creator = aud

	// A hold that says something else than what the transaction wrote.
	b.Holds[0].Reason = "nothing to see"
	c = VerifyClaims(BatchClaims(b, b.CreatedTx), txs)
	if c.OK || !strings.Contains(c.Detail, "wrote a different hold") {
		t.Errorf("altered hold: %s", c.Detail)
	}
	b.Holds[0].Reason = h.Reason

	// A hold moved by MigrateBatches from the batch: its transaction wrote
	// the batch with the same quarantine.
	delete(txs["tx-hold"].Holds, "B1")
	held := *b
	held.Holds, held.AuditorDocuments = nil, nil
	held.Quarantine = &Quarantine{By: aud, ByRole: HeldByAuditor, Reason: h.Reason, At: h.At, Tx: "tx-hold", PreviousStatus: StatusActive}
	txs["tx-hold"].Batches = map[string]json.RawMessage{"B1": mustJSON(t, held)}
	if c := VerifyClaims(BatchClaims(b, b.CreatedTx), txs); !c.OK {
		t.Fatalf("migrated hold: %s", c.Detail)
	}

	// A document claimed by a transaction that wrote none.
	txs["tx-doc"].Documents = nil
	c = VerifyClaims(BatchClaims(b, b.CreatedTx), txs)
	if c.OK || !strings.Contains(c.Detail, "did not write the document") {
		t.Errorf("missing document: %s", c.Detail)
	}
}
