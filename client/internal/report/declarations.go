package report

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// Declarations lists the batch declarations issued or claimed at a site
// (or anywhere) within a period, with totals per site.
type Declarations struct {
	Basis
	Site string `json:"site,omitempty"`
	// From and To bound the period (dates, both included); empty for
	// all time.
	From         string        `json:"from,omitempty"`
	To           string        `json:"to,omitempty"`
	Sites        []DeclTotals  `json:"sites"`
	Declarations []Declaration `json:"declarations"`
}

// DeclTotals are one site's declarations of the period: issued there
// (by its organisation, for batches leaving it) and claimed there.
type DeclTotals struct {
	Site          string `json:"site"`
	Issued        int    `json:"issued"`
	IssuedMass    int64  `json:"issuedMass"`
	IssuedPost    int64  `json:"issuedPostConsumer"`
	Claimed       int    `json:"claimed"`
	ClaimedMass   int64  `json:"claimedMass"`
	ClaimedPost   int64  `json:"claimedPostConsumer"`
	Unclaimed     int    `json:"unclaimed"`
	UnclaimedMass int64  `json:"unclaimedMass"`
}

// Declaration is one declaration and the transactions that issued and
// claimed it.
type Declaration struct {
	ID          string `json:"id"`
	Batch       string `json:"batch"`
	Supplier    string `json:"supplier"`
	Site        string `json:"site"`
	Recipient   string `json:"recipient"`
	ClaimSite   string `json:"claimSite,omitempty"`
	Material    string `json:"material"`
	Mass        int64  `json:"mass"`
	PostPpm     int64  `json:"postConsumerPpm"`
	PrePpm      int64  `json:"preConsumerPpm"`
	Model       string `json:"model"`
	Certificate string `json:"certificate,omitempty"`
	IssuedAt    string `json:"issuedAt"`
	Issue       Ref    `json:"issue"`
	ClaimedBy   string `json:"claimedBy,omitempty"`
	ClaimedAt   string `json:"claimedAt,omitempty"`
	Claim       *Ref   `json:"claim,omitempty"`
}

// DeclarationsOf lists the declarations issued or claimed at site (any
// site when empty) from from to to (dates, both included; empty for no
// bound).
func DeclarationsOf(ctx context.Context, db *sql.DB, site, from, to string, now time.Time) (*Declarations, error) {
	r := &Declarations{Site: site, From: from, To: to}
	lo, hi := time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if from != "" {
		t, err := time.Parse(time.DateOnly, from)
		if err != nil {
			return nil, fmt.Errorf("--from %q: want a date, YYYY-MM-DD", from)
		}
		lo = t
	}
	if to != "" {
		t, err := time.Parse(time.DateOnly, to)
		if err != nil {
			return nil, fmt.Errorf("--to %q: want a date, YYYY-MM-DD", to)
		}
		hi = t.AddDate(0, 0, 1)
	}
	if !hi.After(lo) {
		return nil, fmt.Errorf("the period ends (%s) before it starts (%s)", to, from)
	}
	var err error
	if r.Basis, err = basis(ctx, db, now); err != nil {
		return nil, err
	}
	if site != "" {
		if _, _, err := siteName(ctx, db, site); err != nil {
			return nil, err
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT d.id, d.batch_id, d.supplier, d.site, d.recipient, COALESCE(d.claim_site, ''), d.material,
			d.mass, d.post_ppm, d.pre_ppm, d.model, d.certificate, d.issued_at, d.issue_tx,
			COALESCE(i.block, -1), COALESCE(i.tx_index, -1), COALESCE(i.tx_time, ''),
			COALESCE(d.claimed_by, ''), COALESCE(d.claimed_at, ''), COALESCE(d.claim_tx, ''),
			COALESCE(c.block, -1), COALESCE(c.tx_index, -1), COALESCE(c.tx_time, '')
		FROM declarations d
		LEFT JOIN transactions i ON i.tx_id = d.issue_tx
		LEFT JOIN transactions c ON c.tx_id = d.claim_tx
		WHERE $1 = '' OR d.site = $1 OR d.claim_site = $1
		ORDER BY d.issued_at, d.id`, site)
	if err != nil {
		return nil, fmt.Errorf("declarations: %w", err)
	}
	totals := map[string]*DeclTotals{}
	tot := func(s string) *DeclTotals {
		if totals[s] == nil {
			totals[s] = &DeclTotals{Site: s}
		}
		return totals[s]
	}
	in := func(ts string) bool {
		t, err := time.Parse(time.RFC3339Nano, ts)
		return err == nil && !t.Before(lo) && t.Before(hi)
	}
	for rows.Next() {
		var d Declaration
		var claimTx, claimTime string
		var cb, ci int64
		if err := rows.Scan(&d.ID, &d.Batch, &d.Supplier, &d.Site, &d.Recipient, &d.ClaimSite, &d.Material,
			&d.Mass, &d.PostPpm, &d.PrePpm, &d.Model, &d.Certificate, &d.IssuedAt, &d.Issue.Tx,
			&d.Issue.Block, &d.Issue.TxIndex, &d.Issue.At, &d.ClaimedBy, &d.ClaimedAt, &claimTx, &cb, &ci, &claimTime); err != nil {
			rows.Close()
			return nil, err
		}
		d.Issue.Mass = d.Mass
		if claimTx != "" {
			d.Claim = &Ref{Block: cb, TxIndex: ci, Tx: claimTx, At: claimTime, Mass: d.Mass}
		}
		issued, claimed := in(d.IssuedAt) && (site == "" || d.Site == site), d.Claim != nil && in(d.ClaimedAt) && (site == "" || d.ClaimSite == site)
		if !issued && !claimed {
			continue
		}
		if issued {
			t := tot(d.Site)
			t.Issued++
			t.IssuedMass += d.Mass
			t.IssuedPost += share(d.Mass, d.PostPpm)
			if d.Claim == nil {
				t.Unclaimed++
				t.UnclaimedMass += d.Mass
			}
		}
		if claimed {
			t := tot(d.ClaimSite)
			t.Claimed++
			t.ClaimedMass += d.Mass
			t.ClaimedPost += share(d.Mass, d.PostPpm)
		}
		r.Declarations = append(r.Declarations, d)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("declarations: %w", err)
	}
	for _, t := range totals {
		r.Sites = append(r.Sites, *t)
	}
	sort.Slice(r.Sites, func(i, j int) bool { return r.Sites[i].Site < r.Sites[j].Site })
	return r, nil
}
