package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed statement.html
var statementHTML string

var page = template.Must(template.New("statement").Funcs(template.FuncMap{
	"kg": Kg, "pct": Percent, "label": LineLabel, "anchor": anchor, "or": or,
	"chart": chart, "prev": func(h int64) int64 { return h - 1 },
	// idOnce is replaced for each page (see HTML).
	"idOnce": func(string) template.HTMLAttr { return "" },
}).Parse(statementHTML))

// anchor is the id of a transaction's row in the statement's list.
func anchor(tx string) string { return "tx-" + tx }

// HTML writes statement s as one self-contained page: no scripts, no
// outside files; the balance over time as an inline SVG; every figure
// linked to the transactions behind it; a block for the auditor's
// sign-off.
func HTML(w io.Writer, s any) error {
	data := map[string]any{}
	switch v := s.(type) {
	case *Balance:
		data["Kind"], data["B"], data["Basis"] = "balance", v, v.Basis
		data["Title"] = fmt.Sprintf("Mass balance of site %s, %s to %s", v.Site, v.Period.From, v.Period.To)
	case *PPWR:
		data["Kind"], data["P"], data["Basis"] = "ppwr", v, v.Basis
		data["Title"] = fmt.Sprintf("Post-consumer content of plant %s, %d", v.Plant, v.Year)
	case *Declarations:
		data["Kind"], data["D"], data["Basis"] = "declarations", v, v.Basis
		data["Title"] = "Batch declarations" + map[bool]string{true: " at site " + v.Site, false: ""}[v.Site != ""]
	default:
		return fmt.Errorf("no HTML statement for %T", s)
	}
	// A transaction may stand behind several figures or movements; its
	// first row in the page gets its anchor, so every id is unique.
	seen := map[string]bool{}
	t := template.Must(page.Clone()).Funcs(template.FuncMap{"idOnce": func(tx string) template.HTMLAttr {
		if seen[tx] {
			return ""
		}
		seen[tx] = true
		return template.HTMLAttr(`id="` + template.HTMLEscapeString(anchor(tx)) + `"`)
	}})
	return t.Execute(w, data)
}

// palette colours the materials' lines.
var palette = []string{"#1f5fa8", "#b5651d", "#2e7d32", "#6a1b9a", "#00838f", "#5d4037"}

// chart draws each material's balance after every transaction of the
// period as a step line, with the zero line, as inline SVG.
func chart(b *Balance) template.HTML {
	// left leaves room for the axis labels, such as "-12345.678 kg".
	const W, H, pad, left = 760.0, 260.0, 40.0, 100.0
	start, _ := time.Parse(time.DateOnly, b.Period.From)
	end, _ := time.Parse(time.DateOnly, b.Period.To)
	end = end.AddDate(0, 0, 1)
	span := end.Sub(start).Seconds()
	lo, hi := int64(0), int64(1)
	for _, m := range b.Materials {
		for _, v := range append([]int64{m.Opening, m.Closing}, values(m.Series)...) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	x := func(t time.Time) float64 { return left + (W-left-pad)*t.Sub(start).Seconds()/span }
	y := func(v int64) float64 { return H - pad - (H-2*pad)*float64(v-lo)/float64(hi-lo) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="balance over the period">`, W, H, W, H)
	fmt.Fprintf(&sb, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`, left, pad, W-left-pad, H-2*pad)
	fmt.Fprintf(&sb, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#c62828" stroke-dasharray="4 3"/>`, left, W-pad, y(0), y(0))
	fmt.Fprintf(&sb, `<text x="%.0f" y="%.1f" font-size="10" text-anchor="end">0 kg</text>`, left-4, y(0)+3)
	fmt.Fprintf(&sb, `<text x="%.0f" y="%.1f" font-size="10" text-anchor="end">%s</text>`, left-4, y(hi)+3, template.HTMLEscapeString(Kg(hi)))
	if lo < 0 {
		fmt.Fprintf(&sb, `<text x="%.0f" y="%.1f" font-size="10" text-anchor="end">%s</text>`, left-4, y(lo)+3, template.HTMLEscapeString(Kg(lo)))
	}
	fmt.Fprintf(&sb, `<text x="%.0f" y="%.0f" font-size="10">%s</text>`, left, H-pad+14, b.Period.From)
	fmt.Fprintf(&sb, `<text x="%.0f" y="%.0f" font-size="10" text-anchor="end">%s</text>`, W-pad, H-pad+14, b.Period.To)
	for i, m := range b.Materials {
		c := palette[i%len(palette)]
		var pts []string
		px, py := x(start), y(m.Opening)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
		for _, p := range m.Series {
			t, err := time.Parse(movementTime, p.At)
			if err != nil {
				continue
			}
			nx := x(t)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", nx, py))
			py = y(p.Balance)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", nx, py))
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(end), py))
		fmt.Fprintf(&sb, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, c, strings.Join(pts, " "))
		fmt.Fprintf(&sb, `<text x="%.0f" y="%.0f" font-size="11" fill="%s">%s</text>`, left+float64(i)*110, pad-10, c, template.HTMLEscapeString(m.Material))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) // built from numbers and escaped text only
}

func values(ps []Point) []int64 {
	out := make([]int64, len(ps))
	for i, p := range ps {
		out[i] = p.Balance
	}
	return out
}
