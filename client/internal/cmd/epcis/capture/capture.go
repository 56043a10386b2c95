// Package capture implements `mtrace epcis capture`: turn the events of
// EPCIS 2.0 JSON-LD documents from other systems into ledger
// transactions, once each.
package capture

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/epcis"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one capture.
type Options struct {
	IO     *iostreams.IOStreams
	Format string
	Base   epcis.Base
	Files  []string

	// Chosen is the profile the command runs as; Config is the file it
	// comes from, searched for a profile of each event's organisation.
	Chosen   func() (*config.Profile, error)
	Config   func() (*config.File, error)
	LedgerAs func(ctx context.Context, profile string) (ledger.Ledger, error)
	// After is how a retry waits (time.After when nil).
	After func(time.Duration) <-chan time.Time
}

// Results of one event.
const (
	Captured = "captured"
	Skipped  = "skipped"
	Refused  = "refused"
)

// Outcome is what became of one event, or of a document that could not
// be read (Index -1).
type Outcome struct {
	File     string `json:"file"`
	Document int    `json:"document"`
	Index    int    `json:"index"`
	EventID  string `json:"eventId,omitempty"`
	Result   string `json:"result"`
	Kind     string `json:"kind,omitempty"`
	Profile  string `json:"profile,omitempty"`
	Tx       string `json:"tx,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Report is the JSON output: counts, then every outcome in order.
type Report struct {
	Captured int       `json:"captured"`
	Skipped  int       `json:"skipped"`
	Refused  int       `json:"refused"`
	Events   []Outcome `json:"events"`
}

// NewCmdCapture builds the command; runF replaces runCapture in tests.
func NewCmdCapture(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Chosen: f.Profile, LedgerAs: f.LedgerAs,
		Config: func() (*config.File, error) {
			path, err := config.FindPath(f.Globals.ConfigPath, f.Getenv)
			if err != nil {
				return nil, err
			}
			return config.Load(path)
		}}
	var base string
	cmd := &cobra.Command{
		Use:   "capture FILE...",
		Short: "Record the events of EPCIS 2.0 documents from other systems on the ledger",
		Long: `Read EPCIS 2.0 JSON-LD documents (one per FILE, or several one after another;
- reads standard input), check each against GS1's schema, and submit each
event as the ledger transaction it maps to, in document order:

  collecting ObjectEvent (ADD)   register a batch (ilmd mt:material, mt:wasteCode)
  shipping / void_shipping       offer a batch to the destination's owning party / cancel
  receiving                      accept (the quantity is what arrived); returned: reject
  holding / mt:releasing         quarantine (mt:reason) / release
  inspecting with mt:document    anchor a document
  TransformationEvent            process (bizStep mt:<step>, ilmd mt:outputs)

Each event is submitted by the organisation that acted (mt:actor, else the
shipping source or receiving destination, else your profile), with the first
profile of the config file for that organisation. The event's eventID is
recorded in the same transaction, under that organisation, with a digest of
the event, so a rerun skips what was captured: an event is skipped only when
the organisation's record holds the same event. Another organisation's
capture under the same eventID does not matter; a different event that this
organisation captured under the ID is refused, naming that transaction. An
event that cannot be mapped, or that the ledger refuses, is listed with its
index, eventID and reason, and writes nothing. Exits 1 if any was refused.`,
		Example: `  mtrace epcis capture plant.jsonld
  mtrace epcis export --all | mtrace -p recycler epcis capture - -o json`,
		Args: cmdutil.MinimumArgs(1, "at least one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if opts.Base, err = epcis.ResolveBase(base, f.Getenv); err != nil {
				return cmdutil.FlagErrorf("--base: %w", err)
			}
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return runCapture(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "identifier base URI of this ledger's batches, organisations and places (default $MTRACE_EPCIS_BASE, then "+epcis.DefaultBase+")")
	return cmd
}

// capturer holds one ledger connection per profile used.
type capturer struct {
	opts    *Options
	chosen  *config.Profile
	file    *config.File
	ledgers map[string]ledger.Ledger
	report  Report
}

func runCapture(ctx context.Context, opts *Options) error {
	chosen, err := opts.Chosen()
	if err != nil {
		return err
	}
	file, err := opts.Config()
	if err != nil {
		return err
	}
	c := &capturer{opts: opts, chosen: chosen, file: file, ledgers: map[string]ledger.Ledger{}}
	if opts.After == nil {
		opts.After = time.After
	}
	defer func() {
		for _, l := range c.ledgers {
			l.Close()
		}
	}()
	for _, name := range opts.Files {
		if err := c.captureFile(ctx, name); err != nil {
			c.add(Outcome{File: name, Index: -1, Result: Refused, Reason: err.Error()})
		}
	}
	if opts.IO.IsStderrTerminal() {
		fmt.Fprint(opts.IO.ErrOut, "\r\033[K")
	}
	if err := c.print(); err != nil {
		return err
	}
	if c.report.Refused > 0 {
		return &cmdutil.SilentError{Reason: fmt.Sprintf("%d event(s) refused", c.report.Refused)}
	}
	return nil
}

func (c *capturer) captureFile(ctx context.Context, name string) error {
	r, err := epcis.Open(name, c.opts.IO.In)
	if err != nil {
		return err
	}
	defer r.Close()
	return c.opts.Base.ReadDocuments(r, func(d epcis.Captured) error {
		if d.Err != nil {
			c.add(Outcome{File: name, Document: d.Index, Index: -1, Result: Refused, Reason: "not captured: " + d.Err.Error()})
			return nil
		}
		for _, it := range d.Items {
			if c.opts.IO.IsStderrTerminal() {
				fmt.Fprintf(c.opts.IO.ErrOut, "\r\033[Kcapturing %s: document %d, event %d of %d", name, d.Index, it.Index+1, len(d.Items))
			}
			o := Outcome{File: name, Document: d.Index, Index: it.Index, EventID: it.EventID}
			c.add(c.capture(ctx, it, o))
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	})
}

// capture submits one event, unless it is refused or already captured.
func (c *capturer) capture(ctx context.Context, it epcis.Item, o Outcome) Outcome {
	refuse := func(reason string) Outcome { o.Result, o.Reason = Refused, reason; return o }
	if it.Refused != "" {
		return refuse(it.Refused)
	}
	o.Kind = string(it.Request.Kind)
	profile, err := c.profileFor(it.Actor)
	if err != nil {
		return refuse(err.Error())
	}
	o.Profile = profile
	l, err := c.ledger(ctx, profile)
	if err != nil {
		return refuse(err.Error())
	}
	digest := it.Request.Digest()
	// A record of the event is this organisation's own (the chaincode
	// keeps one per organisation): it is a rerun only when it holds the
	// same event.
	known := func(rec model.Captured) Outcome {
		o.Tx = rec.Tx
		switch rec.Digest {
		case digest:
			o.Result, o.Reason = Skipped, "already captured"
		case "":
			o.Result, o.Reason = Skipped, "already captured (recorded before contract 0.5.0, which kept no digest to compare)"
		default:
			o.Result, o.Reason = Refused, fmt.Sprintf("event ID %s was already captured by %s in tx %s with different content (digest %s, this event's %s)",
				it.EventID, rec.By.MSP, rec.Tx, short(rec.Digest), short(digest))
		}
		return o
	}
	if rec, err := api.New(l).GetCapture(ctx, it.EventID); err == nil {
		return known(rec)
	} else if !strings.Contains(err.Error(), "not captured") {
		return refuse(err.Error())
	}
	err = api.New(l).Capture(ctx, *it.Request)
	// The previous event of the document committed on this profile's
	// peer, but the other organisation's peer that also endorses may not
	// have that block yet, and then refuses an event that follows from it
	// (a cancel of the offer just captured). A refusal by the chaincode is
	// tried again a few times, a moment apart, before it counts.
	for wait := 250 * time.Millisecond; err != nil && strings.Contains(err.Error(), "rejected by chaincode") && wait <= 2*time.Second; wait *= 2 {
		select {
		case <-ctx.Done():
			return refuse(ctx.Err().Error())
		case <-c.opts.After(wait):
		}
		err = api.New(l).Capture(ctx, *it.Request)
	}
	if err != nil {
		if strings.Contains(err.Error(), "was already captured") {
			if rec, qerr := api.New(l).GetCapture(ctx, it.EventID); qerr == nil {
				return known(rec)
			}
		}
		return refuse(err.Error())
	}
	o.Result = Captured
	if rec, err := api.New(l).GetCapture(ctx, it.EventID); err == nil {
		o.Tx = rec.Tx
	}
	return o
}

// short abbreviates a digest for messages.
func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// profileFor picks the profile that acts for an organisation: the chosen
// one if it is that organisation's, else the first of the file's that is.
func (c *capturer) profileFor(msp string) (string, error) {
	if msp == "" || msp == c.chosen.MSPID {
		return c.chosen.Name, nil
	}
	for _, n := range c.file.Names() {
		if c.file.Profiles[n].MSPID == msp {
			return n, nil
		}
	}
	return "", fmt.Errorf("the event was made by %s, and %s has no profile of that organisation", msp, c.file.Path)
}

func (c *capturer) ledger(ctx context.Context, profile string) (ledger.Ledger, error) {
	if l, ok := c.ledgers[profile]; ok {
		return l, nil
	}
	l, err := c.opts.LedgerAs(ctx, profile)
	if err != nil {
		return nil, err
	}
	c.ledgers[profile] = l
	return l, nil
}

func (c *capturer) add(o Outcome) {
	switch o.Result {
	case Captured:
		c.report.Captured++
	case Skipped:
		c.report.Skipped++
	default:
		c.report.Refused++
	}
	c.report.Events = append(c.report.Events, o)
}

func (c *capturer) print() error {
	r := c.report
	if r.Events == nil {
		r.Events = []Outcome{}
	}
	if c.opts.Format == cmdutil.FormatJSON {
		return render.JSON(c.opts.IO.Out, r)
	}
	out := c.opts.IO.Out
	for _, o := range r.Events {
		where := o.File
		if o.Document > 0 {
			where += fmt.Sprintf(": document %d", o.Document)
		}
		if o.Index >= 0 {
			where += fmt.Sprintf(", event %d (%s)", o.Index, or(o.EventID, "no eventID"))
		}
		switch o.Result {
		case Captured:
			fmt.Fprintf(out, "%s: captured: %s as %s, tx %s\n", where, o.Kind, o.Profile, o.Tx)
		case Skipped:
			fmt.Fprintf(out, "%s: skipped: already captured by tx %s\n", where, o.Tx)
		default:
			fmt.Fprintf(out, "%s: refused: %s\n", where, o.Reason)
		}
	}
	_, err := fmt.Fprintf(out, "Captured %d, skipped %d, refused %d\n", r.Captured, r.Skipped, r.Refused)
	return err
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
