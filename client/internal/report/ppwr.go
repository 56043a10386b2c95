package report

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// PPWR is a plant's post-consumer content per material over a calendar
// year, as Article 7 of the PPWR (Regulation (EU) 2025/40) counts it: an
// average per manufacturing plant and year, of post-consumer material
// only. It covers what the plant's processes made there that year.
type PPWR struct {
	Basis
	Plant     string     `json:"plant"`
	PlantName string     `json:"plantName"`
	Org       string     `json:"org"`
	Year      int        `json:"year"`
	Materials []PPWRLine `json:"materials"`
}

// PPWRLine is one material's output: how much was made, the grams of
// post- and pre-consumer material in it (from each output's shares,
// rounded down per output), and the post-consumer average in ppm
// (rounded down). Only the post-consumer figure counts for the PPWR;
// pre-consumer is shown apart, as EN 15343 and RecyClass report it.
type PPWRLine struct {
	Material        string `json:"material"`
	Outputs         int    `json:"outputs"`
	Mass            int64  `json:"mass"`
	PostConsumer    int64  `json:"postConsumer"`
	PreConsumer     int64  `json:"preConsumer"`
	PostConsumerPpm int64  `json:"postConsumerPpm"`
	Refs            []Ref  `json:"transactions"`
}

// PPWROf computes plant's post-consumer content in year.
func PPWROf(ctx context.Context, db *sql.DB, plant string, year int, now time.Time) (*PPWR, error) {
	if year < 2000 || year > 9998 {
		return nil, fmt.Errorf("--year %d: want a year such as 2026", year)
	}
	r := &PPWR{Plant: plant, Year: year}
	var err error
	if r.Basis, err = basis(ctx, db, now); err != nil {
		return nil, err
	}
	if r.Org, r.PlantName, err = siteName(ctx, db, plant); err != nil {
		return nil, err
	}
	start := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	moves, err := queryMoves(ctx, db, 0, `SELECT block, tx_index, seq, tx_id, at, material, batch_id, kind, delta, post_ppm, pre_ppm, origin_class, ref
		FROM stock_movements WHERE site = $1 AND kind = 'process_out' AND at >= $2 AND at < $3 ORDER BY block, tx_index, seq`,
		plant, at(start), at(start.AddDate(1, 0, 0)))
	if err != nil {
		return nil, fmt.Errorf("outputs: %w", err)
	}
	byMat := map[string]*PPWRLine{}
	for _, mv := range moves {
		l := byMat[mv.material]
		if l == nil {
			l = &PPWRLine{Material: mv.material}
			byMat[mv.material] = l
		}
		l.Outputs++
		l.Mass += mv.delta
		l.PostConsumer += share(mv.delta, mv.post)
		l.PreConsumer += share(mv.delta, mv.pre)
		l.Refs = append(l.Refs, Ref{Block: mv.block, TxIndex: mv.index, Tx: mv.tx, At: mv.at, Batch: mv.batch, Mass: mv.delta})
	}
	for _, l := range byMat {
		if l.Mass > 0 {
			l.PostConsumerPpm = l.PostConsumer * WholePPM / l.Mass
		}
		r.Materials = append(r.Materials, *l)
	}
	sort.Slice(r.Materials, func(i, j int) bool { return r.Materials[i].Material < r.Materials[j].Material })
	return r, nil
}
