//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Sites with valid GS1 check digits.
const (
	depotGLN    = "8690000000012"
	plantGLN    = "8690000000029"
	annexGLN    = "8690000000036"
	workshopGLN = "6410000000018"
)

// TestSitesPurchasesAndDeclarations drives contract 0.6.0 through the
// CLI on the live network: organisations' admins list their sites; the
// municipality registers post- and pre-consumer collections at its depot;
// the recycler registers material bought in from a factory (its
// weighbridge ticket hashed and anchored) and by CSV; a blend carries the
// mass-weighted post- and pre-consumer shares; a declaration issued with
// the shipment is claimed once by the maker, every other claim refused
// with nothing written; verify shows the purchase as the recycler's own
// claim and the declaration; the EPCIS export carries it as
// certificationInfo.
func TestSitesPurchasesAndDeclarations(t *testing.T) {
	post, pre, buy, pel := id("s-post"), id("s-pre"), id("s-buy"), id("s-pel")
	decl := id("s-decl")

	// 1. Sites: an admin's act, for its own organisation only.
	if r := env.Run(t, "recycler", "site", "add", plantGLN, "--name", "Gebze plant"); r.Code == 0 || !strings.Contains(r.Stderr, "not an admin identity") {
		t.Fatalf("an operator added a site: exit %d\n%s", r.Code, r)
	}
	env.MustRun(t, "recycler-admin", "site", "add", plantGLN, "--name", "Gebze plant", "--default")
	env.MustRun(t, "recycler-admin", "site", "add", annexGLN, "--name", "Dilovası annex")
	env.MustRun(t, "municipality-admin", "site", "add", depotGLN, "--name", "Kadıköy depot", "--default")
	env.MustRun(t, "maker-admin", "site", "add", workshopGLN, "--name", "Moda workshop", "--default")
	var sites model.SiteList
	env.JSON(t, &sites, "auditor", "site", "list", "--org", "RecyclerMSP")
	if d, ok := sites.DefaultSite(); !ok || d.ID != plantGLN {
		t.Fatalf("the recycler's default site: %+v", sites)
	}
	if _, ok := sites.Lookup(annexGLN); !ok {
		t.Fatalf("the recycler's annex is not listed: %+v", sites)
	}

	// 2. Collections at the depot, post- and pre-consumer.
	var b model.Batch
	env.JSON(t, &b, "municipality", "batch", "register", post, "--material", "PET", "--mass", "600kg",
		"--location", "Kadıköy, Istanbul", "--collected-at", "2026-11-20T09:30:00+03:00", "--waste-code", "15 01 02")
	mustEqual(t, b.Site, depotGLN, "site of a collection (the default)")
	mustEqual(t, *b.Shares, model.Shares{PostConsumer: model.WholePPM}, "shares of a municipal collection")
	env.JSON(t, &b, "municipality", "batch", "register", pre, "--material", "PET", "--mass", "100kg",
		"--location", "Tuzla, Istanbul", "--collected-at", "2026-11-20T10:00:00+03:00", "--waste-code", "07 02 13",
		"--origin-class", "pre-consumer", "--site", depotGLN)
	mustEqual(t, *b.Shares, model.Shares{PreConsumer: model.WholePPM}, "shares of a pre-consumer collection")
	if r := env.Run(t, "municipality", "batch", "register", id("s-elsewhere"), "--material", "PET", "--mass", "1kg",
		"--location", "x", "--collected-at", "2026-11-20T10:00:00+03:00", "--waste-code", "15 01 02", "--site", plantGLN); r.Code == 0 ||
		!strings.Contains(r.Stderr, "site 8690000000029 is not a site of MunicipalityMSP") {
		t.Fatalf("a collection at another organisation's site: exit %d\n%s", r.Code, r)
	}

	// 3. The recycler buys in scrap from a factory outside the consortium.
	ticket := filepath.Join(t.TempDir(), "wb-0042.txt")
	if err := os.WriteFile(ticket, []byte("Weighbridge ticket WB-0042, gross 14.3 t, tare 12.0 t, net 2.3 t"), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(ticket)
	sum := sha256.Sum256(raw)
	ticketSHA := hex.EncodeToString(sum[:])
	if r := env.Run(t, "municipality", "purchase", "register", id("s-buy-x"), "--material", "PET", "--mass", "1t",
		"--supplier", "x", "--origin-class", "pre-consumer", "--received-at", "2026-11-19T14:00:00+03:00",
		"--ticket", "x", "--ticket-file", ticket); r.Code == 0 || !strings.Contains(r.Stderr, "recycler only") {
		t.Fatalf("a collector registered a purchase: exit %d\n%s", r.Code, r)
	}
	env.JSON(t, &b, "recycler", "purchase", "register", buy, "--material", "PET", "--mass", "300kg",
		"--supplier", "Akdeniz Ambalaj A.Ş.", "--supplier-id", "TR-VKN-1234567890", "--origin-class", "pre-consumer",
		"--received-at", "2026-11-19T14:00:00+03:00", "--ticket", "WB-0042", "--ticket-file", ticket, "--site", annexGLN)
	if p := b.Origin.Purchase; p == nil || p.Supplier != "Akdeniz Ambalaj A.Ş." || p.Purchaser != "RecyclerMSP" || p.TicketSHA256 != ticketSHA || p.Site != annexGLN {
		t.Fatalf("bought-in batch: origin %+v", b.Origin)
	}
	mustEqual(t, b.Site, annexGLN, "site of the purchase")
	mustEqual(t, *b.Shares, model.Shares{PreConsumer: model.WholePPM}, "shares of pre-consumer scrap")
	if len(b.Documents) != 1 || b.Documents[0].SHA256 != ticketSHA {
		t.Fatalf("the weighbridge ticket is not anchored: %+v", b.Documents)
	}

	// ... and by CSV: one good row, one malformed; a rerun skips the good one.
	csv := filepath.Join(t.TempDir(), "purchases.csv")
	body := "id,material,mass,supplier,origin_class,received_at,ticket,ticket_sha256,site\n" +
		id("s-csv-1") + ",PET,1.5t,Marmara Toplama,post-consumer,2026-11-19T15:00:00+03:00,WB-0043," + ticketSHA + "," + plantGLN + "\n" +
		id("s-csv-2") + ",PET,1t,Marmara Toplama,virgin,2026-11-19T15:00:00+03:00,WB-0044," + ticketSHA + ",\n"
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	type imported struct {
		Registered, Skipped, Failed int
	}
	var res imported
	r := env.Run(t, "recycler", "purchase", "import", csv, "-o", "json")
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || r.Code != 1 || res != (imported{Registered: 1, Failed: 1}) {
		t.Fatalf("purchase import: exit %d, %+v (%v)\n%s", r.Code, res, err, r)
	}
	r = env.Run(t, "recycler", "purchase", "import", csv, "-o", "json")
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || res != (imported{Skipped: 1, Failed: 1}) {
		t.Fatalf("purchase import rerun: %+v (%v)\n%s", res, err, r)
	}
	mustEqual(t, getBatch(t, "auditor", id("s-csv-1")).Origin.Purchase.Supplier, "Marmara Toplama", "supplier of the imported purchase")

	// 4. The collections reach the recycler's plant; a blend of 600 kg
	// post-consumer, 100 kg and 300 kg pre-consumer and 200 kg virgin.
	for _, w := range []string{post, pre} {
		env.MustRun(t, "municipality", "batch", "transfer", w, "--to", "RecyclerMSP")
	}
	if r := env.Run(t, "recycler", "batch", "accept", post, "--site", depotGLN); r.Code == 0 || !strings.Contains(r.Stderr, "not a site of RecyclerMSP") {
		t.Fatalf("a receipt at another organisation's site: exit %d\n%s", r.Code, r)
	}
	env.JSON(t, &b, "recycler", "batch", "accept", post, "--site", plantGLN)
	if len(b.Handovers) != 1 || b.Handovers[0].Site != plantGLN || b.Site != plantGLN {
		t.Fatalf("receipt site: batch at %q, handovers %+v", b.Site, b.Handovers)
	}
	env.MustRun(t, "recycler", "batch", "accept", pre)
	mustEqual(t, getBatch(t, "recycler", pre).Site, plantGLN, "the receiver's default site")
	var outs []model.Batch
	env.JSON(t, &outs, "recycler", "batch", "process", "--step", "extrusion", "--site", plantGLN,
		"--in", post+":600kg", "--in", pre+":100kg", "--in", buy+":300kg", "--virgin", "200kg",
		"--out", pel+":PET:pellets:1150kg")
	if len(outs) != 1 || outs[0].Shares == nil || *outs[0].Shares != (model.Shares{PostConsumer: 500_000, PreConsumer: 333_333}) || outs[0].Site != plantGLN {
		t.Fatalf("the blend's shares: %+v", outs)
	}
	mustEqual(t, outs[0].RecycledContent, int64(5000), "recycledContentBp is the post-consumer share")

	// 5. A declaration with the shipment to the maker, claimed once.
	env.MustRun(t, "recycler", "batch", "transfer", pel, "--to", "MakerMSP")
	if r := env.Run(t, "maker", "declaration", "issue", decl, "--batch", pel, "--model", "mass-balance"); r.Code == 0 || !strings.Contains(r.Stderr, "is not the owner") {
		t.Fatalf("the recipient issued the declaration: exit %d\n%s", r.Code, r)
	}
	var d model.Declaration
	env.JSON(t, &d, "recycler", "declaration", "issue", decl, "--batch", pel, "--model", "mass-balance", "--certificate", "ISCC-PLUS-Cert-TR-1234")
	want := model.Shares{PostConsumer: 500_000, PreConsumer: 333_333}
	if d.Supplier != "RecyclerMSP" || d.Recipient != "MakerMSP" || d.Mass != 1_150_000 || d.Shares != want || d.Site != plantGLN || d.Claim != nil {
		t.Fatalf("issued declaration: %+v", d)
	}
	if r := env.Run(t, "recycler", "declaration", "issue", id("s-decl-2"), "--batch", pel, "--model", "segregated"); r.Code == 0 || !strings.Contains(r.Stderr, "already has declaration") {
		t.Fatalf("a second declaration for one transfer: exit %d\n%s", r.Code, r)
	}
	if r := env.Run(t, "maker", "declaration", "claim", decl); r.Code == 0 || !strings.Contains(r.Stderr, "has not accepted the transfer") {
		t.Fatalf("a claim before the batch arrived: exit %d\n%s", r.Code, r)
	}
	env.MustRun(t, "maker", "batch", "accept", pel)
	for _, p := range []string{"auditor", "recycler", "municipality"} {
		if r := env.Run(t, p, "declaration", "claim", decl); r.Code == 0 || !strings.Contains(r.Stderr, "was issued to MakerMSP") {
			t.Fatalf("%s claimed the maker's declaration: exit %d\n%s", p, r.Code, r)
		}
	}
	env.JSON(t, &d, "maker", "declaration", "claim", decl)
	if d.Claim == nil || d.Claim.By.MSP != "MakerMSP" || d.Claim.Site != workshopGLN {
		t.Fatalf("claim: %+v", d.Claim)
	}
	first := d.Claim.Tx
	if r := env.Run(t, "maker", "declaration", "claim", decl); r.Code == 0 || !strings.Contains(r.Stderr, "was claimed already by MakerMSP") {
		t.Fatalf("a second claim: exit %d\n%s", r.Code, r)
	}
	env.JSON(t, &d, "auditor", "declaration", "get", decl)
	mustEqual(t, d.Claim.Tx, first, "the refused claims wrote nothing")

	// 6. Verify, trusting no single node: the purchase is the recycler's
	// own claim, both shares recomputed, the declaration agrees.
	r = env.MustRun(t, "maker", "verify", pel)
	t.Logf("mtrace verify %s:\n%s", pel, r.Stdout)
	for _, s := range []string{
		"Provenance of " + pel + " holds",
		"Recycled shares: post-consumer 50%, pre-consumer 33.3333%",
		"Bought in from outside the consortium (1; each the purchaser's own signed claim):",
		"Akdeniz Ambalaj A.Ş. (TR-VKN-1234567890)",
		"Declarations (1):",
		"ISCC-PLUS-Cert-TR-1234",
	} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("verify output lacks %q", s)
		}
	}
	for _, c := range []string{model.CheckCollected, model.CheckRecycledContent, model.CheckSignatures, model.CheckDeclared} {
		if !containsCheck(r.Stdout, c) {
			t.Errorf("verify does not pass check %s", c)
		}
	}
	var v model.Verdict
	env.JSON(t, &v, "auditor", "verify", pel)
	if !v.OK || len(v.Declarations) != 1 || v.Declarations[0].ID != decl || v.Declarations[0].Claim == nil {
		t.Fatalf("verify -o json: ok %v, declarations %+v", v.OK, v.Declarations)
	}
	kinds := map[string]int{}
	for _, s := range v.Sources {
		kinds[s.Kind]++
	}
	if kinds[model.SourceCollection] != 2 || kinds[model.SourcePurchase] != 1 {
		t.Fatalf("verify sources by kind: %v", kinds)
	}

	// 7. The EPCIS export carries the declaration as certificationInfo.
	file, doc := exportDoc(t, env, "auditor", pel)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var events struct {
		Body struct {
			EventList []struct {
				CertificationInfo string `json:"certificationInfo"`
				Declaration       string `json:"mt:declaration"`
				BizLocation       *struct {
					ID string `json:"id"`
				} `json:"bizLocation"`
				Supplier string `json:"mt:supplier"`
			} `json:"eventList"`
		} `json:"epcisBody"`
	}
	if err := json.Unmarshal(raw, &events); err != nil {
		t.Fatal(err)
	}
	declared, sited, supplied := 0, 0, 0
	for _, e := range events.Body.EventList {
		if e.Declaration == decl && e.CertificationInfo == "urn:mtrace:id:declaration/"+decl {
			declared++
		}
		if e.BizLocation != nil && e.BizLocation.ID == "https://id.gs1.org/414/"+plantGLN {
			sited++
		}
		if e.Supplier == "Akdeniz Ambalaj A.Ş." {
			supplied++
		}
	}
	if declared < 2 || sited == 0 || supplied != 1 {
		t.Fatalf("EPCIS export of %s (%d events): %d carry the declaration (want the issue and the receipt), %d at the plant, %d name the supplier",
			pel, len(doc.Body.EventList), declared, sited, supplied)
	}
}

// containsCheck reports whether verify's table shows check c as ok.
func containsCheck(out, c string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "ok" && f[1] == c {
			return true
		}
	}
	return false
}
