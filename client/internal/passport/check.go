package passport

import (
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/proof"
)

// The page's answers, as its root element's data-proof and data-verdict
// attributes carry them.
const (
	Authentic = "authentic"
	Tampered  = "tampered"
	HoldsWord = "holds"
	FailsWord = "fails"
)

// Result is the outcome of checking a proof for the page: both answers,
// the checks behind them, the height and time the proof speaks for, and
// the page's facts and checks rendered (HTML) from what the proof makes
// authentic. Facts is empty when the proof is not authentic: nothing in
// it can then be shown as proven.
type Result struct {
	Batch   string `json:"batch"`
	Proof   string `json:"proof"`   // Authentic or Tampered
	Verdict string `json:"verdict"` // HoldsWord or FailsWord
	Head    uint64 `json:"head"`
	Height  uint64 `json:"height"`
	Time    string `json:"time,omitempty"`
	Genesis string `json:"genesis"`
	// Summary is one sentence that says both answers.
	Summary string `json:"summary"`
	// Checks and Facts are HTML fragments for the page.
	Checks string `json:"checks"`
	Facts  string `json:"facts,omitempty"`
	// Report is the verifier's report itself.
	Report *proof.Report `json:"-"`
	// Facts of the product, when the proof is authentic.
	Product *Facts `json:"-"`
}

// Check verifies a proof file against the pinned genesis hash (hex) and
// renders the page's parts from it.
func Check(raw []byte, genesis string) *Result {
	r := proof.Verify(raw, genesis)
	res := &Result{Batch: r.Batch, Proof: Tampered, Verdict: FailsWord, Head: r.Head, Genesis: genesis, Report: r}
	if !r.Time.IsZero() {
		res.Time = r.Time.UTC().Format(time.RFC3339)
	}
	if r.Authentic {
		res.Proof = Authentic
		res.Height = r.Head + 1
		if r.Holds() {
			res.Verdict = HoldsWord
		}
	}
	var problems []string
	if r.Authentic {
		f, err := factsOf(raw, r.Batch)
		if err != nil {
			// Authentic records that do not render are a fault of this
			// program, not of the proof; say so rather than hide it.
			problems = append(problems, err.Error())
		} else {
			res.Product = f
			html, err := f.HTML()
			if err != nil {
				problems = append(problems, err.Error())
			}
			res.Facts = string(html)
		}
	}
	res.Summary = summary(res)
	html, err := checksHTML(res, problems)
	if err != nil {
		html = template.HTML(template.HTMLEscapeString(err.Error()))
	}
	res.Checks = string(html)
	return res
}

// factsOf reads the records of an authentic proof: every state answer
// carries the same signed records, so the first is theirs.
func factsOf(raw []byte, batch string) (*Facts, error) {
	p, err := proof.Decode(raw)
	if err != nil {
		return nil, err
	}
	if len(p.State) == 0 {
		return nil, fmt.Errorf("the proof holds no records")
	}
	payload, err := p.State[0].ResponsePayload()
	if err != nil {
		return nil, err
	}
	var ev model.Evidence
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decode the records: %w", err)
	}
	return Build(&ev, batch)
}

func summary(r *Result) string {
	if r.Proof != Authentic {
		return "The proof is NOT authentic: it is not what the channel's orderers and peers signed, so it proves nothing about this product."
	}
	v := "holds"
	if r.Verdict != HoldsWord {
		v = "does NOT hold"
	}
	return fmt.Sprintf("The proof is authentic, and the provenance of %s %s as of block %d (height %d), %s.",
		r.Batch, v, r.Head, r.Height, strings.Replace(r.Time, "T", " ", 1))
}

// HTML renders the facts as the page's main sections.
func (f *Facts) HTML() (template.HTML, error) {
	svg, err := f.Graph.SVG()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = factsTmpl.Execute(&b, struct {
		*Facts
		SVG template.HTML
	}{f, svg})
	return template.HTML(b.String()), err
}

func checksHTML(r *Result, problems []string) (template.HTML, error) {
	var b strings.Builder
	var verdict []model.Check
	if r.Report.Verdict != nil && r.Proof == Authentic {
		verdict = r.Report.Verdict.Checks
	}
	err := checksTmpl.Execute(&b, struct {
		*Result
		Proof    []model.Check
		Verdict  []model.Check
		Problems []string
	}{r, r.Report.Checks, verdict, problems})
	return template.HTML(b.String()), err
}

var factsTmpl = template.Must(template.New("facts").Parse(`<section class="product">
<h2>{{.Batch}}</h2>
<p class="what">{{.Material}} {{.Form}}, {{.Mass}}, made by <b>{{.Maker}}</b> ({{.MadeBy}}) on {{.MadeAt}}{{if ne .Status "active"}}; status: <b>{{.Status}}</b>{{end}}</p>
<div class="shares" aria-label="Recycled and virgin shares">
<div class="bar"><span class="recycled" style="width: {{.RecycledWidth}}%"></span></div>
<p><b class="rc">{{.Recycled}}</b> post-consumer recycled · <b class="vc">{{.Virgin}}</b> virgin</p>
</div>
</section>
<section class="sources">
<h2>Where the material was collected</h2>
<table><thead><tr><th>Batch</th><th>Place</th><th>Collected</th><th>By</th><th>Waste code</th><th>Mass</th></tr></thead><tbody>
{{range .Sources}}<tr><td>{{.ID}}</td><td>{{.Location}}</td><td>{{.CollectedAt}}</td><td>{{.Collector}} ({{.Person}})</td><td>{{or .WasteCode "–"}}</td><td>{{.Mass}} {{.Material}}</td></tr>
{{end}}</tbody></table>
</section>
<section class="steps">
<h2>How it was made, and who did each step</h2>
<ol>
{{range .Steps}}<li><span class="when">{{.When}}</span> <b>{{.What}}</b>{{if .Where}} at {{.Where}}{{end}} by {{.Org}} ({{.Person}})<br><span class="detail">{{.Detail}}</span></li>
{{end}}</ol>
</section>
<section class="documents">
<h2>Documents</h2>
{{if .Documents}}<ul>
{{range .Documents}}<li>{{if .URI}}<a href="{{.URI}}">{{.Name}}</a>{{else}}{{.Name}}{{end}} on {{.Batch}}, anchored by {{.Org}} ({{.Person}}) on {{.At}}<br><code>SHA-256 {{.SHA256}}</code></li>
{{end}}</ul>{{else}}<p>No documents are anchored on this product or its material.</p>{{end}}
</section>
<section class="graph">
<h2>Provenance graph</h2>
<div class="svg">{{.SVG}}</div>
</section>
`))

var checksTmpl = template.Must(template.New("checks").Parse(`<p class="summary">{{.Summary}}</p>
{{range .Problems}}<p class="problem">{{.}}</p>
{{end}}<h3>Is the proof authentic?</h3>
<ul class="checks">
{{range .Proof}}<li class="{{if .OK}}ok{{else}}fail{{end}}"><b>{{if .OK}}ok{{else}}FAIL{{end}}</b> <code>{{.Name}}</code> {{.Detail}}</li>
{{end}}</ul>
<h3>Does the provenance hold?</h3>
{{if .Verdict}}<ul class="checks">
{{range .Verdict}}<li class="{{if .OK}}ok{{else}}fail{{end}}"><b>{{if .OK}}ok{{else}}FAIL{{end}}</b> <code>{{.Name}}</code> {{.Detail}}</li>
{{end}}</ul>{{else}}<p class="fail">Not established: the proof is not authentic.</p>{{end}}
`))
