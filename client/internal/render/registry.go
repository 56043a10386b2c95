package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Registry prints the member organisations, then the open proposals.
func Registry(w io.Writer, r *model.Registry, now time.Time) error {
	t := NewTable(w)
	t.Row("MSP", "ROLE", "NAME")
	for _, p := range r.Participants {
		t.Row(p.MSP, string(p.Role), p.Name)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "\n%d members; a change applies with the approvals of %d. Last change: tx %s by %s (%s) at %s\n",
		len(r.Participants), r.Majority(), r.LastTx, r.UpdatedBy.Identity, r.UpdatedBy.MSP, r.UpdatedAt); err != nil {
		return err
	}
	if len(r.Proposals) == 0 {
		_, err := fmt.Fprintln(w, "No open proposals.")
		return err
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	return Proposals(w, r, now)
}

// Proposals prints the registry's open proposals, one line each, with the
// approvals they have and need, and whether they have expired at now.
func Proposals(w io.Writer, r *model.Registry, now time.Time) error {
	t := NewTable(w)
	t.Row("ID", "CHANGE", "PROPOSED BY", "APPROVED BY", "VOTES", "REJECTED BY", "EXPIRES")
	for i := range r.Proposals {
		p := &r.Proposals[i]
		by := make([]string, len(p.Approvals))
		for j, a := range p.Approvals {
			by[j] = a.By.MSP
		}
		against := make([]string, len(p.Rejections))
		for j, a := range p.Rejections {
			against[j] = a.By.MSP
		}
		exp := p.ExpiresAt
		if p.Expired(now) {
			exp += " (expired)"
		}
		t.Row(p.ID, p.Change.String(), p.ProposedBy.MSP, Or(strings.Join(by, ", "), "-"),
			fmt.Sprintf("%d/%d", p.Votes(r), r.Majority()), rejected(against, p.Against(r), r.Majority()), exp)
	}
	return t.Flush()
}

// rejected names the organisations that voted against a proposal, with
// their count among members and the majority that closes it.
func rejected(by []string, n, majority int) string {
	if len(by) == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d/%d)", strings.Join(by, ", "), n, majority)
}
