package statement

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
)

type (
	// PPWRLine is one material's output at a plant in a year.
	PPWRLine struct {
		Material        string `json:"material"`
		Outputs         int    `json:"outputs"`
		Mass            int64  `json:"mass"`
		PostConsumer    int64  `json:"postConsumer"`
		PreConsumer     int64  `json:"preConsumer"`
		PostConsumerPpm int64  `json:"postConsumerPpm"`
		Refs            []Ref  `json:"transactions"`
	}
	// PPWR is a plant's post-consumer content per material over a year.
	PPWR struct {
		Height    int64      `json:"height"`
		Plant     string     `json:"plant"`
		Year      int        `json:"year"`
		Materials []PPWRLine `json:"materials"`
	}
)

// Normal returns p with its lines by material and their transactions in
// chain order, as Balance.Normal does for a balance.
func (p PPWR) Normal() PPWR {
	p.Materials = normal(p.Materials, func(l *PPWRLine) { l.Refs = normalRefs(l.Refs) })
	slices.SortFunc(p.Materials, func(x, y PPWRLine) int { return strings.Compare(x.Material, y.Material) })
	return p
}

// PPWR rebuilds the PPWR line of plant for year (UTC) from the
// transactions in blocks below height: per material, every output the
// processes at plant made that year, its mass and its post- and
// pre-consumer grams (each output's shares, rounded down per output),
// and the post-consumer average in ppm, rounded down.
func (c *Chain) PPWR(ctx context.Context, plant string, year int, height int64) (PPWR, error) {
	start := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(1, 0, 0)
	moves, err := c.at(ctx, plant, height, func(m move) bool { return m.kind == processOut })
	if err != nil {
		return PPWR{}, err
	}
	out := PPWR{Height: height, Plant: plant, Year: year}
	byMat := map[string]*PPWRLine{}
	for _, m := range moves {
		if m.At.Before(start) || !m.At.Before(end) {
			continue
		}
		l := byMat[m.material]
		if l == nil {
			l = &PPWRLine{Material: m.material}
			byMat[m.material] = l
		}
		l.Outputs++
		l.Mass += m.delta
		l.PostConsumer += share(m.delta, m.shares.PostConsumer)
		l.PreConsumer += share(m.delta, m.shares.PreConsumer)
		l.Refs = append(l.Refs, ref(m, m.delta))
	}
	for _, l := range byMat {
		if l.Mass > 0 {
			l.PostConsumerPpm = l.PostConsumer * model.WholePPM / l.Mass
		}
		out.Materials = append(out.Materials, *l)
	}
	return out.Normal(), nil
}
