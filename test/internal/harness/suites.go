// Package harness runs mtrace's end-to-end suites on a live network.
//
// Suites, below, is the one place that declares them: in the order
// scripts/test.sh runs them on one shared network, each with what it leaves
// on that network (Leaves) and what it cannot run after (Avoids). Check
// proves the order keeps every suite's needs, and a unit test proves every
// end-to-end package under test/ is declared, so a new suite is one entry
// here and a TestMain of one line:
//
//	func TestMain(m *testing.M) { harness.Main(m, "trust", &env) }
//
// Main brings a test network up, or reuses the one scripts/test.sh brought
// up, refuses a network that carries a mark the suite avoids, records the
// marks the suite leaves, and runs the suite. A suite declared Own brings
// its own network (harness.Main(m, "consortium", nil)): Main only runs it.
package harness

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Mark is something a suite leaves on the network it runs on that a later
// suite may not tolerate.
type Mark string

// The marks suites leave.
const (
	// Forged: a forged record, flagged by verify's signatures check, is on
	// the ledger; `mtrace audit` of the whole ledger fails from then on.
	Forged Mark = "forged-record"
	// Grown: the consortium is no longer the four founding organisations
	// of network/consortium.yaml (one joined, and may have left again).
	Grown Mark = "grown-consortium"
)

// Marks lists every mark, for validation.
var Marks = []Mark{Forged, Grown}

// Suite is one end-to-end suite.
type Suite struct {
	// Name is the suite's folder under test/, which holds its Go package,
	// or, for a Script, the suite's name.
	Name string
	// About says in a few words what the suite tests.
	About string
	// Script, when set, is a program (a path in the repository) that
	// scripts/test.sh runs instead of go test.
	Script string
	// Timeout bounds the suite's go test run (DefaultTimeout when 0).
	Timeout time.Duration
	// Fresh asks for a network of its own: scripts/test.sh purges the
	// shared network and brings a new one up before the suite.
	Fresh bool
	// Own says the suite brings its own network and stops it (the
	// consortium suite: one host per member in network namespaces), so
	// it neither uses nor touches the shared one: scripts/test.sh runs it
	// apart, harness.Main brings no network up and loads none, and the
	// marks of the shared network are nothing to it (it has no Fresh,
	// Leaves or Avoids).
	Own bool
	// Leaves lists the marks the suite leaves on the network.
	Leaves []Mark
	// Avoids lists the marks the suite cannot run after: a network that
	// carries one of them is refused.
	Avoids []Mark
}

// DefaultTimeout bounds a suite's go test run when it names no timeout.
const DefaultTimeout = 20 * time.Minute

// Founders is Avoids for a suite that assumes the four founding
// organisations; Audits for one that also audits the whole ledger.
var (
	Founders = []Mark{Grown}
	Audits   = []Mark{Grown, Forged}
)

// Suites are the end-to-end suites, in the order scripts/test.sh runs them
// on one network. Check proves this order keeps every suite's Avoids.
var Suites = []Suite{
	{Name: "e2e", About: "the CLI on the live network: the story, events, EPCIS, negatives", Timeout: 30 * time.Minute, Avoids: Founders},
	{Name: "faults", About: "nodes killed under load, races, hostile clients, malformed calls", Timeout: 30 * time.Minute, Avoids: Audits},
	{Name: "proof", About: "verify trusting no single node, proof files checked offline, a peer serving altered blocks", Avoids: Audits},
	{Name: "passport", About: "the product passport page checked in headless Chromium, honest and tampered; its QR code and credential", Avoids: Audits},
	{Name: "projection", About: "mtrace project into SQLite and PostgreSQL: killed mid-stream, resumed, equal to a rebuild and to the chain; period statements rebuilt from the chain", Timeout: 15 * time.Minute},
	{Name: "demo", About: "make demo's story (scripts/demo.sh), then its quarterly balance and PPWR line rebuilt from the chain", Avoids: Audits},
	{Name: "upgrade", About: "contract 0.2.0 to this one, in place, then a whole-ledger audit", Avoids: Audits},
	{Name: "trust", About: "dishonest members running a forged chaincode; audit --since finds a forgery after a checkpoint", Leaves: []Mark{Forged}, Avoids: Audits},
	{Name: "identity", About: "people, roles and revocation through the channel configuration", Timeout: 10 * time.Minute, Avoids: Founders},
	// On a peer without the validation fix these attacks halt every peer
	// for good, so only addorg (which needs no audit) runs after them.
	{Name: "liveness", About: "a hostile member's replayed and crafted envelopes sent straight to an orderer; the network keeps committing", Avoids: Founders},
	{Name: "addorg", About: "a fifth organisation joins the consortium, and leaves", Leaves: []Mark{Grown}},
	{Name: "consortium", About: "five members on five hosts (network namespaces) exchanging only files: BFT channel, the story, a fifth member, an orderer killed, the leader frozen, a host cut off", Timeout: 30 * time.Minute, Own: true},
	// migrate brings its own network: the previous release's, on base+500.
	{Name: "migrate", About: "the previous release's Raft network moved to BFT in place, story kept", Timeout: 30 * time.Minute, Own: true},
}

// Lookup returns the declared suite of that name.
func Lookup(name string) (Suite, bool) {
	i := slices.IndexFunc(Suites, func(s Suite) bool { return s.Name == name })
	if i < 0 {
		return Suite{}, false
	}
	return Suites[i], true
}

// Check proves that suites, run in order on one network, keep every
// suite's needs: no suite runs after one that left a mark it avoids,
// unless a Fresh suite came between (or is the suite itself). It also
// refuses unknown marks, empty or repeated names and suites without a
// description.
func Check(suites []Suite) error {
	var errs []error
	seen := map[string]bool{}
	for i, s := range suites {
		switch {
		case s.Name == "" || strings.ContainsAny(s.Name, " \t/"):
			errs = append(errs, fmt.Errorf("suite %d: name %q must be a folder name", i, s.Name))
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("suite %s: declared twice", s.Name))
		}
		seen[s.Name] = true
		if s.About == "" {
			errs = append(errs, fmt.Errorf("suite %s: About is empty", s.Name))
		}
		if s.Timeout < 0 {
			errs = append(errs, fmt.Errorf("suite %s: negative timeout", s.Name))
		}
		for _, m := range slices.Concat(s.Leaves, s.Avoids) {
			if !slices.Contains(Marks, m) {
				errs = append(errs, fmt.Errorf("suite %s: unknown mark %q", s.Name, m))
			}
		}
		if s.Own {
			if s.Fresh || len(s.Leaves) > 0 || len(s.Avoids) > 0 {
				errs = append(errs, fmt.Errorf("suite %s brings its own network: Fresh, Leaves and Avoids concern the shared one", s.Name))
			}
			if s.Script != "" {
				errs = append(errs, fmt.Errorf("suite %s: a script suite cannot bring its own network", s.Name))
			}
			continue
		}
		// Walk back to the last fresh network: every suite run on it
		// before this one must leave nothing this one avoids.
		if s.Fresh {
			continue
		}
		for j := i - 1; j >= 0; j-- {
			for _, m := range suites[j].Leaves {
				if slices.Contains(s.Avoids, m) {
					errs = append(errs, fmt.Errorf("suite %s runs after %s, which leaves %s, a mark %s avoids: move %s before %s, or make it Fresh",
						s.Name, suites[j].Name, m, s.Name, s.Name, suites[j].Name))
				}
			}
			if suites[j].Fresh {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// Target is what scripts/test.sh runs for the suite: its script, or the
// Go packages of its folder.
func (s Suite) Target() string {
	if s.Script != "" {
		return s.Script
	}
	return "./test/" + s.Name + "/..."
}

// Limit is the suite's go test timeout.
func (s Suite) Limit() time.Duration {
	if s.Timeout == 0 {
		return DefaultTimeout
	}
	return s.Timeout
}
