package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
)

//go:embed statement.html
var statementHTML string

var page = template.Must(template.New("statement").Funcs(template.FuncMap{
	"kg": Kg, "pct": Percent, "label": LineLabel, "anchor": anchor, "or": or,
	"chart": chart, "prev": func(h int64) int64 { return h - 1 },
	"txLinks": txLinks,
	// idOnce and txRows are replaced for each page (see HTML).
	"idOnce": func(string) template.HTMLAttr { return "" },
	"txRows": func(Line) template.HTML { return "" },
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
	idOnce := func(tx string) string {
		if seen[tx] {
			return ""
		}
		seen[tx] = true
		return `id="` + template.HTMLEscapeString(anchor(tx)) + `"`
	}
	t := template.Must(page.Clone()).Funcs(template.FuncMap{
		"idOnce": func(tx string) template.HTMLAttr { return template.HTMLAttr(idOnce(tx)) },
		"txRows": func(l Line) template.HTML { return txRows(l, idOnce) },
	})
	return t.Execute(w, data)
}

// txLinks and txRows write what the template's loops over a balance
// line's transactions would, escaped as html/template escapes them, but
// without a template call per field: a figure's list can hold a hundred
// thousand transactions.

// txLinks links each of refs to its row in the list of transactions.
func txLinks(refs []Ref) template.HTML {
	var b strings.Builder
	for _, r := range refs {
		b.WriteString(`<a href="#`)
		b.WriteString(attrURL(anchor(r.Tx)))
		b.WriteString(`">`)
		b.WriteString(text(r.Tx))
		b.WriteString(`</a> `)
	}
	return template.HTML(b.String())
}

// txRows is the list's row of each transaction behind line l; idOnce
// gives the first row of a transaction its anchor.
func txRows(l Line, idOnce func(string) string) template.HTML {
	var b strings.Builder
	label := text(LineLabel(l))
	for _, r := range l.Refs {
		b.WriteString(`<tr `)
		b.WriteString(idOnce(r.Tx))
		b.WriteString(`><td>`)
		b.WriteString(label)
		b.WriteString(`</td><td>`)
		b.WriteString(strconv.FormatInt(r.Block, 10))
		b.WriteString(`</td><td class="txs">`)
		b.WriteString(text(r.Tx))
		b.WriteString(`</td><td>`)
		b.WriteString(text(r.At))
		b.WriteString(`</td><td>`)
		b.WriteString(text(r.Batch))
		b.WriteString(`</td><td class="n">`)
		b.WriteString(text(Kg(r.Mass)))
		b.WriteString("</td></tr>\n")
	}
	return template.HTML(b.String())
}

// text escapes s for an element's text or a quoted attribute's value as
// html/template does: NUL, quotes, '&', '+', '<' and '>' become
// references; nothing else changes (these are ASCII, so never part of a
// longer UTF-8 sequence).
func text(s string) string {
	var b strings.Builder
	done := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case 0:
			r = "\uFFFD"
		case '"':
			r = "&#34;"
		case '&':
			r = "&amp;"
		case '\'':
			r = "&#39;"
		case '+':
			r = "&#43;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		default:
			continue
		}
		b.WriteString(s[done:i])
		b.WriteString(r)
		done = i + 1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// attrURL escapes s for a URL's fragment in a quoted attribute as
// html/template does: every byte but the unreserved (RFC 3986: letters,
// digits, '-', '.', '_', '~') percent-encoded in lower case hex, then
// the value escaped as text.
func attrURL(s string) string {
	var b strings.Builder
	done := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			continue
		}
		b.WriteString(s[done:i])
		fmt.Fprintf(&b, "%%%02x", s[i])
		done = i + 1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return text(b.String())
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
