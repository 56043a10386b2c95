// Package report computes the auditor's period statements from the SQL
// projection (client/internal/projection): a site's mass balance over a
// period of at most three months, a plant's post-consumer content per
// material and year as the PPWR counts it, and the batch declarations
// issued and claimed. Every figure carries the transactions behind it,
// and every statement the projection's block height.
//
// The statements are pure reads of the projection; Render writes them as
// a table, JSON, CSV or a self-contained HTML page.
package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// WholePPM is 100% in parts per million.
const WholePPM = 1_000_000

// MaxPeriodMonths is the longest accounting period: ISCC PLUS and
// Implementing Decision (EU) 2026/1425 require mass balance periods of
// at most three months.
const MaxPeriodMonths = 3

// Ref is a transaction behind a figure: where it is on the chain.
type Ref struct {
	Block   int64  `json:"block"`
	TxIndex int64  `json:"txIndex"`
	Tx      string `json:"tx"`
	// At is the transaction's time, UTC.
	At string `json:"at"`
	// Batch is the batch the movement moved, when the figure is one.
	Batch string `json:"batch,omitempty"`
	// Mass is the grams this transaction adds to the figure (negative
	// for a figure that takes away).
	Mass int64 `json:"mass"`
}

// Basis is what every statement says about the data it was made from.
type Basis struct {
	// Height is the channel's height the projection reflects: blocks 0
	// to Height-1 are applied.
	Height int64 `json:"height"`
	// LastTxAt is the time of the last projected transaction, in chain
	// order (a client sets its transaction's time, so a later block may
	// hold an earlier one).
	LastTxAt string `json:"lastTxAt,omitempty"`
	// Generated is when the statement was made (not a ledger fact).
	Generated string `json:"generated"`
}

func basis(ctx context.Context, db *sql.DB, now time.Time) (Basis, error) {
	var b Basis
	if err := db.QueryRowContext(ctx, "SELECT next_block FROM checkpoint WHERE id = 1").Scan(&b.Height); err != nil {
		return b, fmt.Errorf("read the projection's checkpoint: %w", err)
	}
	var last sql.NullString
	// The last in chain order, by the primary key: one index step however
	// long the ledger (MAX(tx_time) would read every row).
	err := db.QueryRowContext(ctx, "SELECT tx_time FROM transactions ORDER BY block DESC, tx_index DESC LIMIT 1").Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("read the last transaction: %w", err)
	}
	b.LastTxAt, b.Generated = last.String, now.UTC().Format(time.RFC3339)
	return b, nil
}

// Period is an accounting period: whole UTC days from From to To,
// both included.
type Period struct {
	From string `json:"from"`
	To   string `json:"to"`
	// start and end bound the period's transactions: start <= at < end,
	// as stock_movements.at text.
	start, end time.Time
}

// ParsePeriod reads --from and --to (YYYY-MM-DD, UTC) and refuses a
// period that ends before it starts or is longer than three months.
func ParsePeriod(from, to string) (Period, error) {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return Period{}, fmt.Errorf("--from %q: want a date, YYYY-MM-DD", from)
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return Period{}, fmt.Errorf("--to %q: want a date, YYYY-MM-DD", to)
	}
	if t.Before(f) {
		return Period{}, fmt.Errorf("the period ends (%s) before it starts (%s)", to, from)
	}
	end := t.AddDate(0, 0, 1)
	if limit := f.AddDate(0, MaxPeriodMonths, 0); end.After(limit) {
		return Period{}, fmt.Errorf("the period %s to %s is longer than three months: a mass balance period may be at most three months (ISCC PLUS; Implementing Decision (EU) 2026/1425); the longest from %s ends %s",
			from, to, from, limit.AddDate(0, 0, -1).Format(time.DateOnly))
	}
	return Period{From: from, To: to, start: f, end: end}, nil
}

// movementTime is stock_movements.at's format (projection.MovementTime).
const movementTime = "2006-01-02T15:04:05.000000000Z"

func at(t time.Time) string { return t.UTC().Format(movementTime) }

// share is the grams of class share ppm in mass, rounded down.
func share(mass, ppm int64) int64 {
	if mass < 0 {
		return -share(-mass, ppm)
	}
	return mass * ppm / WholePPM
}

// Percent prints ppm as a percentage with up to four decimals.
func Percent(ppm int64) string {
	s := fmt.Sprintf("%d.%04d", ppm/10_000, ppm%10_000)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s + "%"
}

// Kg prints grams as kilograms with three decimals.
func Kg(g int64) string {
	sign := ""
	if g < 0 {
		sign, g = "-", -g
	}
	return fmt.Sprintf("%s%d.%03d kg", sign, g/1000, g%1000)
}

func siteName(ctx context.Context, db *sql.DB, site string) (org, name string, err error) {
	err = db.QueryRowContext(ctx, "SELECT org, name FROM sites WHERE id = $1 ORDER BY org LIMIT 1", site).Scan(&org, &name)
	if err == sql.ErrNoRows {
		return "", "", fmt.Errorf("site %s: no organisation lists it in the projection (mtrace site list --org MSP shows an organisation's sites)", site)
	}
	return org, name, err
}
