//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// epcisEvent is the part of an exported EPCIS event the tests compare.
type epcisEvent map[string]any

type epcisDoc struct {
	Body struct {
		EventList []epcisEvent `json:"eventList"`
	} `json:"epcisBody"`
	Header json.RawMessage `json:"epcisHeader"`
}

// exportDoc runs `mtrace epcis export args...` into a file, checks it
// with `mtrace epcis validate`, and decodes it.
func exportDoc(t *testing.T, net *testnet.Env, profile string, args ...string) (string, epcisDoc) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "export.jsonld")
	net.MustRun(t, profile, append([]string{"epcis", "export", "--file", file}, args...)...)
	var v []struct {
		Valid  bool   `json:"valid"`
		Events int    `json:"events"`
		Error  string `json:"error"`
	}
	net.JSON(t, &v, profile, "epcis", "validate", file)
	if len(v) != 1 || !v[0].Valid {
		t.Fatalf("export %v is not valid EPCIS 2.0: %+v", args, v)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d epcisDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, len(d.Body.EventList), v[0].Events, "events counted by validate")
	return file, d
}

// epcisStory plays a story that uses every kind of event, with ids made
// by p, and returns the product's id: three collections in two time zones;
// handovers with a weighed loss, a rejection and a cancelled offer;
// sorting at a named place; an extrusion with virgin material; a
// certificate; a hold and its release; a print.
func epcisStory(t *testing.T, net *testnet.Env, p func(string) string) string {
	a, b, c := p("col-a"), p("col-b"), p("col-c")
	sorted, f1, f2, vase := p("sorted"), p("spool-1"), p("spool-2"), p("vase")
	for _, col := range []struct{ id, mass, place, at string }{
		{a, "1250kg", "Kadıköy, Istanbul", "2026-11-20T09:30:00+03:00"},
		{b, "980kg", "Üsküdar, Istanbul", "2026-11-20T10:15:00.5+03:00"},
		{c, "500kg", "Berlin-Neukölln Wertstoffhof", "2026-11-19T16:45:00+01:00"},
	} {
		net.MustRun(t, "municipality", "batch", "register", col.id, "--material", "PET", "--mass", col.mass,
			"--location", col.place, "--collected-at", col.at, "--waste-code", "15 01 02")
	}
	net.MustRun(t, "municipality", "batch", "transfer", a, "--to", "RecyclerMSP")
	net.MustRun(t, "recycler", "batch", "accept", a, "--received-mass", "1240kg")
	net.MustRun(t, "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
	net.MustRun(t, "recycler", "batch", "reject", b, "--reason", "wet bales")
	net.MustRun(t, "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
	net.MustRun(t, "municipality", "batch", "cancel", b)
	net.MustRun(t, "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
	net.MustRun(t, "recycler", "batch", "accept", b)
	net.MustRun(t, "municipality", "batch", "transfer", c, "--to", "RecyclerMSP")
	net.MustRun(t, "recycler", "batch", "accept", c)
	net.MustRun(t, "recycler", "batch", "process", "--step", "sorting", "--location", "Tuzla sorting line",
		"--in", a+":1240kg", "--in", b+":980kg", "--in", c+":500kg", "--out", sorted+":PET:sorted:2600kg")
	net.MustRun(t, "recycler", "batch", "process", "--step", "extrusion", "--virgin", "200g",
		"--in", sorted+":2.2kg", "--out", f1+":PET:filament:1kg", "--out", f2+":PET:filament:1kg")
	cert := filepath.Join(t.TempDir(), "lab.txt")
	if err := os.WriteFile(cert, []byte("lab report "+p("")), 0o600); err != nil {
		t.Fatal(err)
	}
	net.MustRun(t, "recycler", "batch", "attach", f1, cert, "--name", "lab certificate", "--uri", "https://lab.example.org/r/"+p("1"))
	net.MustRun(t, "auditor", "batch", "quarantine", f1, "--reason", "moisture to be rechecked")
	net.MustRun(t, "auditor", "batch", "release", f1)
	net.MustRun(t, "recycler", "batch", "transfer", f1, "--to", "MakerMSP")
	net.MustRun(t, "maker", "batch", "accept", f1)
	net.MustRun(t, "maker", "batch", "process", "--step", "printing", "--in", f1+":350g", "--out", vase+":PET:product:310g")
	return vase
}

func steps(evs []epcisEvent) string {
	var s []string
	for _, e := range evs {
		s = append(s, fmt.Sprint(e["bizStep"]))
	}
	return strings.Join(s, ",")
}

// storySteps are the story's events in ledger order, by bizStep.
const storySteps = "collecting,collecting,collecting,shipping,receiving,shipping,receiving,shipping,void_shipping," +
	"shipping,receiving,shipping,receiving,mt:sorting,mt:extrusion,inspecting,holding,mt:releasing,shipping,receiving,mt:printing"

// TestEPCISExportStory exports the story's product, upstream, and the
// whole ledger; both documents pass GS1's schema, and the ledger-wide
// export holds the product's events under the same event IDs.
func TestEPCISExportStory(t *testing.T) {
	vase := epcisStory(t, env, func(s string) string { return id("ep-" + s) })
	_, up := exportDoc(t, env, "auditor", vase)
	evs := up.Body.EventList
	mustEqual(t, steps(evs), storySteps, "the product's provenance, in ledger order")
	col := evs[1]
	mustEqual(t, col["eventTime"], "2026-11-20T10:15:00.5+03:00", "collection time in the collector's offset")
	mustEqual(t, col["eventTimeZoneOffset"], "+03:00", "collection offset")
	mustEqual(t, evs[2]["eventTimeZoneOffset"], "+01:00", "the Berlin collection's offset")
	rec := evs[4]
	mustDeepEqual(t, rec["quantityList"], []any{map[string]any{"epcClass": "urn:mtrace:id:batch/" + id("ep-col-a"), "quantity": 1240.0, "uom": "KGM"}}, "received")
	mustDeepEqual(t, rec["mt:offered"], map[string]any{"quantity": 1250.0, "uom": "KGM"}, "offered")
	mustEqual(t, evs[6]["disposition"], "returned", "the rejection")
	mustEqual(t, evs[6]["mt:reason"], "wet bales", "the rejection's reason")
	ext := evs[14]
	mustEqual(t, ext["type"], "TransformationEvent", "extrusion type")
	mustEqual(t, len(ext["outputQuantityList"].([]any)), 2, "extrusion outputs, the sibling spool included")
	mustDeepEqual(t, ext["mt:virginMass"], map[string]any{"quantity": 0.2, "uom": "KGM"}, "virgin mass")
	if !strings.HasPrefix(fmt.Sprint(ext["transformationID"]), "urn:mtrace:id:process/") {
		t.Errorf("transformationID %v", ext["transformationID"])
	}
	if !strings.Contains(string(up.Header), "Berlin-Neuk") || !strings.Contains(string(up.Header), "Tuzla sorting line") {
		t.Errorf("master data lacks the places: %s", up.Header)
	}

	// Down from one collection: its own events, then every process.
	_, down := exportDoc(t, env, "auditor", id("ep-col-c"), "--down")
	mustEqual(t, steps(down.Body.EventList), "collecting,shipping,receiving,mt:sorting,mt:extrusion,inspecting,holding,mt:releasing,shipping,receiving,mt:printing", "recall export")

	// The whole ledger, under another base; the product's events are in it.
	_, all := exportDoc(t, env, "auditor", "--all", "--base", "https://id.recycling.example.org/")
	byID := map[string]epcisEvent{}
	for _, e := range all.Body.EventList {
		byID[fmt.Sprint(e["eventID"])] = e
	}
	for _, e := range evs {
		got, ok := byID[fmt.Sprint(e["eventID"])]
		if !ok {
			t.Fatalf("the ledger-wide export lacks event %v (%v)", e["eventID"], e["bizStep"])
		}
		mustEqual(t, got["bizStep"], e["bizStep"], "bizStep of "+fmt.Sprint(e["eventID"]))
		mustEqual(t, got["eventTime"], e["eventTime"], "eventTime of "+fmt.Sprint(e["eventID"]))
	}
	mustEqual(t, fmt.Sprint(byID[fmt.Sprint(evs[0]["eventID"])]["mt:actor"]), "https://id.recycling.example.org/org/MunicipalityMSP", "base of the ledger-wide export")
}

// plantDoc is a plant's own document: two collections, their transfer to
// the recycler, and an extrusion, with ids made by p.
func plantDoc(p func(string) string) string {
	return strings.NewReplacer("{C1}", p("C1"), "{C2}", p("C2"), "{F1}", p("F1"), "{E}", p("")).Replace(`{
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"mt": "urn:mtrace:vocab:"}],
  "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-25T16:00:00+03:00",
  "epcisHeader": {"epcisMasterData": {"vocabularyList": [{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
    "vocabularyElementList": [
      {"id": "urn:mtrace:id:place/kadikoy-depot", "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "Kadıköy depot, Istanbul"}]},
      {"id": "urn:mtrace:id:place/tuzla-plant", "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "Tuzla extrusion plant"}]}]}]}},
  "epcisBody": {"eventList": [
    {"type": "ObjectEvent", "eventID": "urn:uuid:{E}c1", "eventTime": "2026-11-25T08:10:00+03:00", "eventTimeZoneOffset": "+03:00",
     "action": "ADD", "bizStep": "collecting", "disposition": "active", "bizLocation": {"id": "urn:mtrace:id:place/kadikoy-depot"},
     "quantityList": [{"epcClass": "urn:mtrace:id:batch/{C1}", "quantity": 640.5, "uom": "KGM"}],
     "ilmd": {"mt:material": "PET", "mt:wasteCode": "15 01 02"}},
    {"type": "ObjectEvent", "eventID": "urn:uuid:{E}c2", "eventTime": "2026-11-25T09:40:00+03:00", "eventTimeZoneOffset": "+03:00",
     "action": "ADD", "bizStep": "collecting", "disposition": "active", "bizLocation": {"id": "urn:mtrace:id:place/kadikoy-depot"},
     "quantityList": [{"epcClass": "urn:mtrace:id:batch/{C2}", "quantity": 359500, "uom": "GRM"}],
     "ilmd": {"mt:material": "PET", "mt:wasteCode": "15 01 02"}},
    {"type": "ObjectEvent", "eventID": "urn:uuid:{E}s1", "eventTime": "2026-11-25T11:00:00+03:00", "eventTimeZoneOffset": "+03:00",
     "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
     "quantityList": [{"epcClass": "urn:mtrace:id:batch/{C1}", "quantity": 640.5, "uom": "KGM"}],
     "sourceList": [{"type": "owning_party", "source": "urn:mtrace:id:org/MunicipalityMSP"}],
     "destinationList": [{"type": "owning_party", "destination": "urn:mtrace:id:org/RecyclerMSP"}]},
    {"type": "ObjectEvent", "eventID": "urn:uuid:{E}s2", "eventTime": "2026-11-25T11:00:00+03:00", "eventTimeZoneOffset": "+03:00",
     "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
     "quantityList": [{"epcClass": "urn:mtrace:id:batch/{C2}"}],
     "sourceList": [{"type": "owning_party", "source": "urn:mtrace:id:org/MunicipalityMSP"}],
     "destinationList": [{"type": "owning_party", "destination": "urn:mtrace:id:org/RecyclerMSP"}]},
    {"type": "ObjectEvent", "eventID": "urn:uuid:{E}r1", "eventTime": "2026-11-25T13:20:00+03:00", "eventTimeZoneOffset": "+03:00",
     "action": "OBSERVE", "bizStep": "receiving", "disposition": "active", "bizLocation": {"id": "urn:mtrace:id:place/tuzla-plant"},
     "quantityList": [{"epcClass": "urn:mtrace:id:batch/{C1}", "quantity": 638, "uom": "KGM"}],
     "destinationList": [{"type": "owning_party", "destination": "urn:mtrace:id:org/RecyclerMSP"}]},
    {"type": "ObjectEvent", "eventID": "urn:uuid:{E}r2", "eventTime": "2026-11-25T13:25:00+03:00", "eventTimeZoneOffset": "+03:00",
     "action": "OBSERVE", "bizStep": "receiving", "disposition": "active",
     "quantityList": [{"epcClass": "urn:mtrace:id:batch/{C2}", "quantity": 359.5, "uom": "KGM"}],
     "destinationList": [{"type": "owning_party", "destination": "urn:mtrace:id:org/RecyclerMSP"}]},
    {"type": "TransformationEvent", "eventID": "urn:uuid:{E}x1", "eventTime": "2026-11-25T15:45:00+03:00", "eventTimeZoneOffset": "+03:00",
     "bizStep": "mt:extrusion", "disposition": "active", "mt:actor": "urn:mtrace:id:org/RecyclerMSP",
     "bizLocation": {"id": "urn:mtrace:id:place/tuzla-plant"},
     "inputQuantityList": [{"epcClass": "urn:mtrace:id:batch/{C1}", "quantity": 638, "uom": "KGM"},
                           {"epcClass": "urn:mtrace:id:batch/{C2}", "quantity": 359.5, "uom": "KGM"}],
     "outputQuantityList": [{"epcClass": "urn:mtrace:id:batch/{F1}", "quantity": 950, "uom": "KGM"}],
     "mt:virginMass": {"quantity": 20, "uom": "KGM"},
     "ilmd": {"mt:outputs": [{"mt:batch": "urn:mtrace:id:batch/{F1}", "mt:material": "PET", "mt:form": "filament"}]}}
  ]}
}`)
}

type captureReport struct {
	Captured int `json:"captured"`
	Skipped  int `json:"skipped"`
	Refused  int `json:"refused"`
	Events   []struct {
		Document int    `json:"document"`
		Index    int    `json:"index"`
		EventID  string `json:"eventId"`
		Result   string `json:"result"`
		Kind     string `json:"kind"`
		Profile  string `json:"profile"`
		Reason   string `json:"reason"`
	} `json:"events"`
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "doc.jsonld")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestEPCISCapturePlant feeds a plant's document into the ledger, each
// event as the organisation that acted, verifies the product, and feeds
// it again: every event is skipped and no block is written.
func TestEPCISCapturePlant(t *testing.T) {
	p := func(s string) string { return id("plant-" + s) }
	f := writeFile(t, plantDoc(p))
	var r captureReport
	env.JSON(t, &r, "municipality", "epcis", "capture", f)
	mustEqual(t, r.Captured, 7, "captured")
	var who []string
	for _, e := range r.Events {
		who = append(who, e.Kind+":"+e.Profile)
	}
	mustEqual(t, strings.Join(who, ","), "register:municipality,register:municipality,offer:municipality,offer:municipality,accept:recycler,accept:recycler,process:recycler", "who submitted each event")

	c1 := getBatch(t, "auditor", p("C1"))
	mustEqual(t, c1.InitialMass, model.Grams(640_500), "640.5 KGM in grams")
	mustEqual(t, c1.TransitLoss, model.Grams(2_500), "weighed loss")
	mustEqual(t, c1.Origin.Collection.Location, "Kadıköy depot, Istanbul", "place from the master data")
	mustEqual(t, c1.Origin.Collection.CollectedAt, "2026-11-25T05:10:00Z", "collection time")
	mustEqual(t, c1.Origin.Collection.ZoneOffset, "+03:00", "collection offset")
	mustEqual(t, getBatch(t, "auditor", p("C2")).InitialMass, model.Grams(359_500), "359500 GRM")
	var v model.Verdict
	env.JSON(t, &v, "maker", "verify", p("F1"))
	if !v.OK {
		t.Fatalf("verify of the captured product: %+v", v.Checks)
	}
	mustEqual(t, len(v.Sources), 2, "collection sources")
	f1 := getBatch(t, "auditor", p("F1"))
	mustEqual(t, f1.Origin.Process.VirginMass, model.Grams(20_000), "virgin mass")
	mustEqual(t, f1.Origin.Process.Location, "Tuzla extrusion plant", "process place")

	before := height(t)
	var again captureReport
	env.JSON(t, &again, "municipality", "epcis", "capture", f)
	mustEqual(t, again.Skipped, 7, "skipped on the rerun")
	mustEqual(t, again.Captured+again.Refused, 0, "nothing else on the rerun")
	mustEqual(t, height(t), before, "block height after the rerun")
}

// TestEPCISCaptureMalformed feeds documents and events that must be
// refused: each is reported with its index, eventID and reason, and
// nothing of it is on the ledger.
func TestEPCISCaptureMalformed(t *testing.T) {
	p := func(s string) string { return id("bad-" + s) }
	good := plantDoc(p)
	// A document GS1's schema refuses: nothing of it is captured.
	bad := strings.Replace(good, `"bizLocation": {"id": "urn:mtrace:id:place/kadikoy-depot"}`, `"bizLocation": "Kadıköy depot"`, 1)
	r := env.Run(t, "municipality", "epcis", "capture", writeFile(t, bad), "-o", "json")
	mustEqual(t, r.Code, 1, "exit code for a refused document")
	var rep captureReport
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatal(err, r)
	}
	mustEqual(t, rep.Refused, 1, "refused documents")
	mustEqual(t, rep.Captured, 0, "captured from an invalid document")
	mustEqual(t, rep.Events[0].Reason, "not captured: not valid against GS1's EPCIS 2.0 schema: at /epcisBody/eventList/0/bizLocation: got string, want object", "reason")
	if res := env.Run(t, "auditor", "batch", "get", p("C1")); res.Code == 0 || !strings.Contains(res.Stderr, "not found") {
		t.Errorf("a batch of the refused document is on the ledger:\n%s", res)
	}

	// Valid documents whose events the mapping or the ledger refuses:
	// a fraction of a gram, a shipment to a stranger, a transformation
	// that makes more than it takes. The events after them still run.
	doc := strings.NewReplacer(
		`"quantity": 359500, "uom": "GRM"`, `"quantity": 359500.5, "uom": "GRM"`,
		`"destination": "urn:mtrace:id:org/RecyclerMSP"}]},
    {"type": "ObjectEvent", "eventID": "urn:uuid:`+p("")+`s2"`, `"destination": "urn:mtrace:id:org/StrangerMSP"}]},
    {"type": "ObjectEvent", "eventID": "urn:uuid:`+p("")+`s2"`,
		`"quantity": 950, "uom": "KGM"}]`, `"quantity": 2000, "uom": "KGM"}]`,
	).Replace(good)
	for _, changed := range []string{"359500.5", "StrangerMSP", `"quantity": 2000`} {
		if strings.Count(doc, changed) != 1 {
			t.Fatalf("the document does not hold %s once", changed)
		}
	}
	before := height(t)
	r = env.Run(t, "municipality", "epcis", "capture", writeFile(t, doc), "-o", "json")
	mustEqual(t, r.Code, 1, "exit code with refused events")
	rep = captureReport{}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatal(err, r)
	}
	got := map[int]string{}
	for _, e := range rep.Events {
		got[e.Index] = e.Result + ": " + e.Reason
		if e.EventID == "" {
			t.Errorf("event %d is reported without its eventID", e.Index)
		}
	}
	wants := map[int]string{
		0: "captured: ",
		1: `refused: quantityList[0]: malformed mass: "359500.5g" is not a whole number of grams`,
		2: "refused: rejected by chaincode: to: StrangerMSP is not a registered participant",
		3: `refused: rejected by chaincode: batch "` + p("C2") + `" not found`,
		4: "refused: rejected by chaincode: batch \"" + p("C1") + "\" has no pending transfer (status active)",
		5: `refused: rejected by chaincode: batch "` + p("C2") + `" not found`,
		6: "refused: rejected by chaincode: outputs: mass balance",
	}
	for i, w := range wants {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("event %d: got %q, want it to start with %q", i, got[i], w)
		}
	}
	// Only the first collection was written, with its capture record.
	mustEqual(t, getBatch(t, "auditor", p("C1")).Status, model.StatusActive, "the one captured collection")
	for _, missing := range []string{p("C2"), p("F1")} {
		if res := env.Run(t, "auditor", "batch", "get", missing); res.Code == 0 {
			t.Errorf("refused batch %s is on the ledger", missing)
		}
	}
	if h := height(t); h > before+1 {
		t.Errorf("the refused events wrote blocks: height %d, was %d (one capture expected)", h, before)
	}
}

// freshNetwork brings up a second, empty network beside the test network,
// with its own home and ports, and stops it by PID when the test ends.
// copySites lists on to every site that each organisation lists on from:
// a captured event at a site needs that site on the ledger it is captured
// into, as its organisation does (sites are each organisation's own, added
// by its admin).
func copySites(t *testing.T, from, to *testnet.Env) {
	t.Helper()
	for _, org := range []string{"municipality", "recycler", "maker"} {
		var l model.SiteList
		from.JSON(t, &l, org, "site", "list")
		for _, s := range l.Sites {
			args := []string{"site", "add", s.ID, "--name", s.Name}
			if s.Default {
				args = append(args, "--default")
			}
			to.MustRun(t, org+"-admin", args...)
		}
	}
}

func freshNetwork(t *testing.T) *testnet.Env {
	t.Helper()
	home := filepath.Join(t.TempDir(), "fresh")
	vars := map[string]string{
		"MTRACE_HOME":      home,
		"MTRACE_BASE_PORT": fmt.Sprint(testnet.BasePort() + 300),
		"MTRACE_CONFIG":    filepath.Join(home, "config.yaml"),
	}
	old := map[string]string{}
	for k, v := range vars {
		old[k] = os.Getenv(k)
		t.Setenv(k, v)
	}
	t.Cleanup(func() {
		if out, err := env.Network("down"); err != nil {
			t.Errorf("stop the fresh network: %v\n%s", err, out)
		}
	})
	if out, err := env.Network("up"); err != nil {
		t.Fatalf("fresh network: %v\n%s", err, out)
	}
	fresh, err := testnet.Load()
	if err != nil {
		t.Fatal(err)
	}
	// Commands run without these variables from here on; network.sh down
	// in the cleanup needs them, so set them again there.
	for k, v := range old {
		t.Setenv(k, v)
	}
	t.Cleanup(func() {
		for k, v := range vars {
			os.Setenv(k, v)
		}
	})
	return fresh
}

// ledgerBound drops what depends on the ledger's own transactions.
func ledgerBound(evs []epcisEvent) []epcisEvent {
	out := make([]epcisEvent, len(evs))
	for i, e := range evs {
		c := epcisEvent{}
		for k, v := range e {
			c[k] = v
		}
		for _, k := range []string{"eventID", "recordTime", "mt:fabricTx", "transformationID"} {
			delete(c, k)
		}
		if c["bizStep"] != "collecting" {
			delete(c, "eventTime")
		}
		out[i] = c
	}
	return out
}

// TestEPCISRoundTrip exports the story's product, captures the export
// into a fresh network, and exports it there: the events are the same but
// for their IDs, record times, Fabric transactions, transformation IDs
// and the times of the events that are not collections (each is the time
// of the new ledger's own transaction), and verify gives the same verdict.
func TestEPCISRoundTrip(t *testing.T) {
	vase := epcisStory(t, env, func(s string) string { return id("rt-" + s) })
	file, before := exportDoc(t, env, "auditor", vase)
	var vBefore model.Verdict
	env.JSON(t, &vBefore, "maker", "verify", vase)

	fresh := freshNetwork(t)
	copySites(t, env, fresh)
	var r captureReport
	fresh.JSON(t, &r, "municipality", "epcis", "capture", file)
	mustEqual(t, r.Captured, len(before.Body.EventList), "captured into the fresh network")
	var again captureReport
	fresh.JSON(t, &again, "municipality", "epcis", "capture", file)
	mustEqual(t, again.Skipped, len(before.Body.EventList), "skipped on a second capture")

	_, after := exportDoc(t, fresh, "auditor", vase)
	b, a := ledgerBound(before.Body.EventList), ledgerBound(after.Body.EventList)
	mustEqual(t, len(a), len(b), "events after the round trip")
	for i := range b {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Errorf("event %d differs after the round trip:\n before %v\n after  %v", i, b[i], a[i])
		}
	}
	mustEqual(t, string(after.Header), string(before.Header), "master data")
	for i := range before.Body.EventList {
		if before.Body.EventList[i]["eventID"] == after.Body.EventList[i]["eventID"] {
			t.Errorf("event %d kept its ID across ledgers, but its transaction is new", i)
		}
	}
	var vAfter model.Verdict
	fresh.JSON(t, &vAfter, "maker", "verify", vase)
	mustDeepEqual(t, vAfter, vBefore, "verify verdict after the round trip")
}
