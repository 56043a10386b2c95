package model

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// story builds an honest ledger: MunicipalityMSP collects A (1000 kg) and
// B (500 kg); A goes to RecyclerMSP, arriving as 990 kg; the recycler
// extrudes it with 10 kg virgin into F1 (900 kg) and F2 (80 kg), losing
// 20 kg; F1 goes to MakerMSP intact.
func story() ([]Batch, Registry) {
	muni := Actor{MSP: "MunicipalityMSP", Identity: "u"}
	rec := Actor{MSP: "RecyclerMSP", Identity: "u"}
	maker := Actor{MSP: "MakerMSP", Identity: "u"}
	collected := func(id string, m Grams) Batch {
		return Batch{ID: id, Form: FormWaste, InitialMass: m, RemainingMass: m, Owner: muni.MSP, Submitter: muni,
			Status: StatusActive, Origin: Origin{Collection: &Collection{Collector: muni.MSP}}, RecycledContent: FullRecycled, Format: CurrentFormat}
	}
	a, b := collected("A", 1000*Kilogram), collected("B", 500*Kilogram)
	a.Handovers = []Handover{{From: muni.MSP, To: rec.MSP, Offered: 1000 * Kilogram, Received: 990 * Kilogram, AcceptedBy: rec}}
	a.TransitLoss = 10 * Kilogram
	a.Owner = rec.MSP
	a.TakenMass, a.Takes = 990*Kilogram, 1
	a.RemainingMass = 0
	a.Status = StatusConsumed
	proc := &Derivation{Step: StepExtrusion, Tx: "p1", By: rec, Inputs: []Take{{ID: "A", Mass: 990 * Kilogram}},
		VirginMass: 10 * Kilogram, Loss: 20 * Kilogram}
	derived := func(id string, m Grams) Batch {
		return Batch{ID: id, Form: FormFilament, InitialMass: m, RemainingMass: m, Owner: rec.MSP, Submitter: rec,
			Status: StatusActive, Origin: Origin{Process: proc}, Format: CurrentFormat}
	}
	f1, f2 := derived("F1", 900*Kilogram), derived("F2", 80*Kilogram)
	f1.Handovers = []Handover{{From: rec.MSP, To: maker.MSP, Offered: 900 * Kilogram, Received: 900 * Kilogram, AcceptedBy: maker}}
	f1.Owner = maker.MSP
	reg := Registry{Participants: []Participant{
		{MSP: muni.MSP, Role: RoleCollector}, {MSP: rec.MSP, Role: RoleRecycler},
		{MSP: maker.MSP, Role: RoleMaker}, {MSP: "AuditorMSP", Role: RoleAuditor},
	}}
	return []Batch{f2, f1, b, a}, reg
}

func TestAuditHonestLedger(t *testing.T) {
	bs, reg := story()
	r := Audit(bs, reg)
	assert.True(t, r.OK, "violations: %v", r.Violations)
	assert.Empty(t, r.Violations)
	assert.Equal(t, 4, r.Batches)
	assert.Equal(t, 1500*Kilogram, r.Registered)
	assert.Equal(t, 10*Kilogram, r.Virgin)
	assert.Equal(t, 1480*Kilogram, r.Remaining)
	assert.Equal(t, 10*Kilogram, r.TransitLoss)
	assert.Equal(t, 20*Kilogram, r.ProcessLoss, "the process is counted once, not once per output")

	require.Len(t, r.Orgs, 4)
	assert.Equal(t, OrgBalance{MSP: "AuditorMSP", Registry: true}, r.Orgs[0])
	assert.Equal(t, OrgBalance{MSP: "MakerMSP", Received: 900 * Kilogram, OnHand: 900 * Kilogram, Registry: true}, r.Orgs[1])
	assert.Equal(t, OrgBalance{MSP: "MunicipalityMSP", Registered: 1500 * Kilogram, Shipped: 1000 * Kilogram, OnHand: 500 * Kilogram, Registry: true}, r.Orgs[2])
	assert.Equal(t, OrgBalance{MSP: "RecyclerMSP", Received: 1000 * Kilogram, TransitLoss: 10 * Kilogram, Produced: 980 * Kilogram,
		Shipped: 900 * Kilogram, Taken: 990 * Kilogram, Virgin: 10 * Kilogram, ProcessLoss: 20 * Kilogram, OnHand: 80 * Kilogram, Registry: true}, r.Orgs[3])

	// Input order does not matter.
	bs[0], bs[3] = bs[3], bs[0]
	assert.Equal(t, r, Audit(bs, reg))
}

func find(bs []Batch, id string) *Batch {
	for i := range bs {
		if bs[i].ID == id {
			return &bs[i]
		}
	}
	panic(id)
}

func TestAuditCorruptions(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func([]Batch, *Registry) []Batch
		want    []string
	}{
		{"negative mass", func(bs []Batch, _ *Registry) []Batch {
			b := find(bs, "B")
			b.RemainingMass = -5
			return bs
		}, []string{
			`batch "B": remaining mass -5 g is negative`,
		}},
		{"missing parent", func(bs []Batch, _ *Registry) []Batch {
			out := bs[:0]
			for _, b := range bs {
				if b.ID != "A" {
					out = append(out, b)
				}
			}
			return out
		}, []string{`batch "F1": parent "A" does not exist`, `batch "F2": parent "A" does not exist`}},
		{"unregistered owner", func(bs []Batch, _ *Registry) []Batch {
			find(bs, "B").Owner = "EvilMSP"
			return bs
		}, []string{`batch "B": owner EvilMSP is not a registered organisation`}},
		{"created from nothing", func(bs []Batch, _ *Registry) []Batch {
			b := find(bs, "F2")
			b.InitialMass += 200 * Kilogram
			b.RemainingMass += 200 * Kilogram
			return bs
		}, []string{`mass conservation: 1500 kg registered + 10 kg virgin != 1710 kg accounted (200 kg created from nothing)`}},
		{"mass vanished", func(bs []Batch, _ *Registry) []Batch {
			find(bs, "B").RemainingMass -= 1
			return bs
		}, []string{`mass conservation: 1500 kg registered + 10 kg virgin != 1509.999 kg accounted (1 g unaccounted for)`,
			`organisation MunicipalityMSP: flows account for 500 kg on hand, but it holds 499.999 kg`}},
		{"remaining above initial", func(bs []Batch, _ *Registry) []Batch {
			find(bs, "F2").RemainingMass = 81 * Kilogram
			return bs
		}, []string{`batch "F2": remaining mass 81 kg exceeds its initial mass 80 kg`}},
		{"taken total forged", func(bs []Batch, _ *Registry) []Batch {
			find(bs, "A").TakenMass = 900 * Kilogram
			return bs
		}, []string{`batch "A": processes took 990 kg from it, but it records 900 kg taken`}},
		{"old stored format", func(bs []Batch, _ *Registry) []Batch {
			find(bs, "B").Format = 0
			return bs
		}, []string{`batch "B": migration pending: stored in the format of contract 0.2.0 (format 0); an admin must migrate it (mtrace migrate)`}},
		{"format of contract 0.5.0", func(bs []Batch, _ *Registry) []Batch {
			find(bs, "B").Format = 1
			return bs
		}, []string{`batch "B": migration pending: stored in the format of contract 0.3.0 to 0.5.0 (format 1); an admin must migrate it (mtrace migrate)`}},
		{"format of contract 0.6.0", func(bs []Batch, _ *Registry) []Batch {
			find(bs, "B").Format = 2
			return bs
		}, []string{`batch "B": migration pending: stored in the format of contract 0.6.0 (format 2); an admin must migrate it (mtrace migrate)`}},
		{"unknown stored format", func(bs []Batch, _ *Registry) []Batch {
			find(bs, "B").Format = CurrentFormat + 1
			return bs
		}, []string{fmt.Sprintf(`batch "B": stored format %d, which this contract does not know`, CurrentFormat+1)}},
		{"no origin", func(bs []Batch, _ *Registry) []Batch {
			find(bs, "B").Origin = Origin{}
			return bs
		}, []string{`batch "B": has neither a collection nor a process origin`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, reg := story()
			bs = tt.corrupt(bs, &reg)
			r := Audit(bs, reg)
			assert.False(t, r.OK)
			for _, w := range tt.want {
				assert.Contains(t, r.Violations, w)
			}
		})
	}
}

// TestAuditAuditorHolds lists the holds in force, and flags a process or
// a handover that used a batch after an auditor's hold on it: something
// only a dishonest witness lets commit.
func TestAuditAuditorHolds(t *testing.T) {
	bs, reg := story()
	aud := Actor{MSP: "AuditorMSP"}
	a, f1, b := find(bs, "A"), find(bs, "F1"), find(bs, "B")
	a.Origin.Collection.CollectedAt = "2026-11-20T08:00:00Z"
	a.Handovers[0].AcceptedAt = "2026-11-20T09:00:00Z"
	f1.Origin.Process.At = "2026-11-20T10:00:00Z"
	f1.Handovers[0].AcceptedAt = "2026-11-20T12:00:00Z"

	// Holds placed after every use: listed, no violation.
	a.Holds = []Hold{{Batch: "A", By: aud, Reason: "lab", At: "2026-11-20T11:00:00Z", Tx: "h1"}}
	b.Holds = []Hold{{Batch: "B", By: aud, Reason: "sample", At: "2026-11-20T11:00:00Z", Tx: "h2"}}
	r := Audit(bs, reg)
	assert.True(t, r.OK, "violations: %v", r.Violations)
	require.Len(t, r.Holds, 2)

	// A hold on A before the process that took from it, and one on F1
	// before its handover.
	a.Holds[0].At = "2026-11-20T09:30:00Z"
	f1.Holds = []Hold{{Batch: "F1", By: aud, Reason: "lab", At: "2026-11-20T11:30:00Z", Tx: "h3"}}
	r = Audit(bs, reg)
	assert.False(t, r.OK)
	assert.Contains(t, r.Violations, `batch "A": process p1 took 990 kg from it at 2026-11-20T10:00:00Z, while auditor AuditorMSP's hold of 2026-11-20T09:30:00Z (tx h1) was in force`)
	assert.Contains(t, r.Violations, `batch "F1": handed over to MakerMSP at 2026-11-20T12:00:00Z, while auditor AuditorMSP's hold of 2026-11-20T11:30:00Z (tx h3) was in force`)
	assert.Len(t, r.Violations, 2, "the process is reported once, not once per output")
}

func TestFormatContract(t *testing.T) {
	assert.Equal(t, "0.2.0", FormatContract(0))
	assert.Equal(t, "0.3.0 to 0.5.0", FormatContract(TakesFormat))
	assert.Equal(t, "0.6.0", FormatContract(2))
	assert.Equal(t, "0.7.0 or later", FormatContract(OwnerStatusFormat))
}
