package statement

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// The statements as their JSON reads (client/internal/report writes
// them; a test outside client/ cannot import it), with only the fields
// that are ledger facts: names and the generation time are left out.
type (
	// Ref is a transaction behind a figure.
	Ref struct {
		Block   int64  `json:"block"`
		TxIndex int64  `json:"txIndex"`
		Tx      string `json:"tx"`
		At      string `json:"at"`
		Batch   string `json:"batch,omitempty"`
		Mass    int64  `json:"mass"`
	}
	// Line is one figure: a kind of movement, with its class.
	Line struct {
		Kind         string `json:"kind"`
		Class        string `json:"originClass,omitempty"`
		Mass         int64  `json:"mass"`
		PostConsumer int64  `json:"postConsumer"`
		PreConsumer  int64  `json:"preConsumer"`
		Refs         []Ref  `json:"transactions"`
	}
	// Point is the balance after a transaction.
	Point struct {
		At      string `json:"at"`
		Balance int64  `json:"balance"`
		Block   int64  `json:"block"`
		Tx      string `json:"tx"`
	}
	// Material is one material's account at the site.
	Material struct {
		Material string  `json:"material"`
		Opening  int64   `json:"opening"`
		Inputs   []Line  `json:"inputs"`
		Outputs  []Line  `json:"outputs"`
		Losses   []Line  `json:"losses"`
		Closing  int64   `json:"closing"`
		Lowest   int64   `json:"lowest"`
		LowestAt *Ref    `json:"lowestAt,omitempty"`
		Negative []Point `json:"negative,omitempty"`
		Series   []Point `json:"series"`
	}
	// Period is the statement's days, both included.
	Period struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	// Balance is a site's mass balance over a period.
	Balance struct {
		Height    int64      `json:"height"`
		Site      string     `json:"site"`
		Period    Period     `json:"period"`
		Negative  bool       `json:"negative"`
		Materials []Material `json:"materials"`
	}
)

// Normal returns b in the order and form the rebuild gives: lines by
// kind and class within each section, their transactions in chain order,
// times in UTC, empty lists as nil. Two statements with the same figures
// are equal once both are normal.
func (b Balance) Normal() Balance {
	b.Materials = normal(b.Materials, func(m *Material) {
		for _, ls := range []*[]Line{&m.Inputs, &m.Outputs, &m.Losses} {
			*ls = normal(*ls, func(l *Line) { l.Refs = normalRefs(l.Refs) })
			slices.SortFunc(*ls, func(x, y Line) int { return cmp.Or(strings.Compare(x.Kind, y.Kind), strings.Compare(x.Class, y.Class)) })
		}
		if m.LowestAt != nil {
			at := *m.LowestAt
			at.At = normalTime(at.At)
			m.LowestAt = &at
		}
		fix := func(p *Point) { p.At = normalTime(p.At) }
		m.Negative, m.Series = normal(m.Negative, fix), normal(m.Series, fix)
	})
	slices.SortFunc(b.Materials, func(x, y Material) int { return strings.Compare(x.Material, y.Material) })
	return b
}

// normal returns a copy of xs with fix applied to each, or nil for none.
func normal[T any](xs []T, fix func(*T)) []T {
	if len(xs) == 0 {
		return nil
	}
	xs = slices.Clone(xs)
	for i := range xs {
		fix(&xs[i])
	}
	return xs
}

// normalRefs returns refs with their times in UTC, in chain order.
func normalRefs(refs []Ref) []Ref {
	refs = normal(refs, func(r *Ref) { r.At = normalTime(r.At) })
	sortRefs(refs)
	return refs
}

// Balance rebuilds the mass balance of site over the days from to to
// (YYYY-MM-DD, UTC, both included) from the transactions in blocks below
// height, as the report states it (docs/reference/report-formats.md):
// per material the opening stock (every movement before the period), the
// period's movements as lines by kind and origin class, a process that
// took and made only this material here as the virgin mass it added and
// the mass it lost, the closing stock, the balance after each
// transaction, the lowest and every point below zero.
func (c *Chain) Balance(ctx context.Context, site, from, to string, height int64) (Balance, error) {
	start, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return Balance{}, err
	}
	end, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return Balance{}, err
	}
	end = end.AddDate(0, 0, 1)
	moves, err := c.at(ctx, site, height, func(move) bool { return true })
	if err != nil {
		return Balance{}, err
	}
	out := Balance{Height: height, Site: site, Period: Period{From: from, To: to}}
	type account struct {
		Material
		lines   map[string]*Line // section/kind/class
		running int64
	}
	accounts := map[string]*account{}
	get := func(m string) *account {
		if accounts[m] == nil {
			accounts[m] = &account{Material: Material{Material: m}, lines: map[string]*Line{}}
		}
		return accounts[m]
	}
	line := func(a *account, section, kind, class string) *Line {
		k := section + "/" + kind + "/" + class
		if a.lines[k] == nil {
			a.lines[k] = &Line{Kind: kind, Class: class}
		}
		return a.lines[k]
	}
	var period []placedMove
	for _, m := range moves {
		if m.At.Before(start) {
			get(m.material).Opening += m.delta
		} else if m.At.Before(end) {
			period = append(period, m)
		}
	}
	for _, a := range accounts {
		a.running, a.Lowest = a.Opening, a.Opening
	}
	simple := map[string]bool{}
	for _, m := range period {
		if m.kind == processIn || m.kind == processOut {
			simple[m.tx] = c.simple(m.tx, site)
		}
	}
	shown := map[string]bool{}
	for i, m := range period {
		a := get(m.material)
		a.running += m.delta
		switch {
		case (m.kind == processIn || m.kind == processOut) && simple[m.tx]:
			if shown[m.tx] {
				break
			}
			shown[m.tx] = true
			p := c.processes[m.tx]
			r := Ref{Block: m.Block, TxIndex: m.Index, Tx: m.tx, At: Time(m.At)}
			if p.VirginMass > 0 {
				l := line(a, "in", virgin, "")
				l.Mass += int64(p.VirginMass)
				r.Mass = int64(p.VirginMass)
				l.Refs = append(l.Refs, r)
			}
			if p.Loss > 0 {
				l := line(a, "loss", processLoss, "")
				l.Mass += int64(p.Loss)
				r.Mass = -int64(p.Loss)
				l.Refs = append(l.Refs, r)
			}
		default:
			section, mass := "in", m.delta
			if m.delta < 0 {
				section, mass = "out", -m.delta
			}
			l := line(a, section, m.kind, m.class)
			l.Mass += mass
			l.PostConsumer += share(mass, m.shares.PostConsumer)
			l.PreConsumer += share(mass, m.shares.PreConsumer)
			l.Refs = append(l.Refs, ref(m, m.delta))
		}
		// A point per transaction, for each material it moved here.
		if i+1 < len(period) && period[i+1].tx == m.tx {
			continue
		}
		for j := i; j >= 0 && period[j].tx == m.tx; j-- {
			b := get(period[j].material)
			if n := len(b.Series); n > 0 && b.Series[n-1].Tx == m.tx {
				continue
			}
			pt := Point{At: Time(m.At), Balance: b.running, Block: m.Block, Tx: m.tx}
			b.Series = append(b.Series, pt)
			if b.running < b.Lowest || b.LowestAt == nil && b.running == b.Lowest {
				b.Lowest = b.running
				b.LowestAt = &Ref{Block: m.Block, TxIndex: m.Index, Tx: m.tx, At: Time(m.At)}
			}
			if b.running < 0 {
				b.Negative = append(b.Negative, pt)
			}
		}
	}
	for _, a := range accounts {
		a.Closing = a.running
		if a.Opening < 0 && len(a.Negative) == 0 {
			a.Negative = []Point{{At: Time(start), Balance: a.Opening}}
		}
		if a.Opening == 0 && a.Closing == 0 && len(a.Series) == 0 {
			continue
		}
		if len(a.Negative) > 0 {
			out.Negative = true
		}
		for k, l := range a.lines {
			switch k[:strings.Index(k, "/")] {
			case "in":
				a.Inputs = append(a.Inputs, *l)
			case "out":
				a.Outputs = append(a.Outputs, *l)
			default:
				a.Losses = append(a.Losses, *l)
			}
		}
		out.Materials = append(out.Materials, a.Material)
	}
	return out.Normal(), nil
}

// simple reports whether process tx took and made only one material,
// all of it at site, and changed the stock there by the virgin mass it
// added less the mass it lost: the statement shows such a process as
// those two figures.
func (c *Chain) simple(tx, site string) bool {
	p, ok := c.processes[tx]
	if !ok {
		return false
	}
	var sum int64
	material := ""
	for _, m := range c.moves {
		if m.tx != tx || (m.kind != processIn && m.kind != processOut) {
			continue
		}
		if m.site != site || material != "" && m.material != material {
			return false
		}
		material = m.material
		sum += m.delta
	}
	return sum == int64(p.VirginMass)-int64(p.Loss)
}
