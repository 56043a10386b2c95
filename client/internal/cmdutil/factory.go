// Package cmdutil holds what every command shares: the Factory that hands
// out streams, configuration and ledger connections, the global flags,
// flag parsing helpers and the error types that set the exit code.
package cmdutil

import (
	"context"
	"os"
	"time"

	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

// Output formats selected by -o/--output.
const (
	FormatTable = "table"
	FormatJSON  = "json"
)

// Globals are the values of the root command's persistent flags.
type Globals struct {
	Output     string
	Timeout    time.Duration
	ConfigPath string
	Profile    string
	Debug      bool
}

// Connector opens a ledger for a profile.
type Connector func(p *config.Profile, o ledger.Options) (ledger.Ledger, error)

// Factory gives commands their dependencies. Tests build one around
// buffers and a fake ledger (see cmdtest).
type Factory struct {
	IOStreams *iostreams.IOStreams
	Globals   *Globals
	Getenv    config.Getenv
	Connect   Connector
	Version   string
}

// New returns the production factory: the process's streams and
// environment, and the Fabric Gateway connector.
func New(version string) *Factory {
	return &Factory{
		IOStreams: iostreams.System(),
		Globals:   &Globals{Output: FormatTable, Timeout: 30 * time.Second},
		Getenv:    os.Getenv,
		Connect: func(p *config.Profile, o ledger.Options) (ledger.Ledger, error) {
			return ledger.Dial(p, o)
		},
		Version: version,
	}
}

// Profile resolves the config file and the profile chosen by the flags
// and the environment.
func (f *Factory) Profile() (*config.Profile, error) {
	return config.Resolve(f.Globals.ConfigPath, f.Globals.Profile, f.Getenv)
}

// Ledger connects to the ledger as the chosen profile.
func (f *Factory) Ledger(ctx context.Context) (ledger.Ledger, error) {
	return f.LedgerAs(ctx, f.Globals.Profile)
}

// LedgerAs connects to the ledger as the named profile of the config
// file; "" is the profile chosen by $MTRACE_PROFILE or the file's default.
func (f *Factory) LedgerAs(_ context.Context, profile string) (ledger.Ledger, error) {
	p, err := config.Resolve(f.Globals.ConfigPath, profile, f.Getenv)
	if err != nil {
		return nil, err
	}
	o := ledger.Options{
		Timeout:  f.Globals.Timeout,
		Retries:  ledger.DefaultRetries,
		SyncFile: ledger.DefaultSyncFile(f.Getenv),
	}
	if f.Globals.Debug {
		o.Debug = f.IOStreams.ErrOut
	}
	return f.Connect(p, o)
}

// Format returns the validated -o/--output value.
func (f *Factory) Format() (string, error) {
	switch f.Globals.Output {
	case FormatTable, "":
		return FormatTable, nil
	case FormatJSON:
		return FormatJSON, nil
	}
	return "", FlagErrorf("--output: must be table or json, got %q", f.Globals.Output)
}

// LedgerFunc is how a command's Options hold the ledger factory.
type LedgerFunc func(context.Context) (ledger.Ledger, error)

// WithLedger opens the ledger, runs fn and closes it.
func WithLedger(ctx context.Context, open LedgerFunc, fn func(ledger.Ledger) error) error {
	l, err := open(ctx)
	if err != nil {
		return err
	}
	defer l.Close()
	return fn(l)
}

// Timeout returns a context bounded by the --timeout flag, for commands
// that make a single round trip.
func (f *Factory) Timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if f.Globals.Timeout <= 0 {
		return context.WithCancel(ctx)
	}
	// Submit may wait for endorsement, ordering and commit, each bounded by
	// the timeout, and retry; leave room for all of them.
	return context.WithTimeout(ctx, 4*f.Globals.Timeout)
}

// Run is the end of every command's RunE: tests pass runF to receive the
// parsed options instead of running the command; otherwise run gets a
// context bounded by --timeout.
func Run[O any](ctx context.Context, f *Factory, opts *O, runF func(*O) error, run func(context.Context, *O) error) error {
	if runF != nil {
		return runF(opts)
	}
	ctx, cancel := f.Timeout(ctx)
	defer cancel()
	return run(ctx, opts)
}

// RunPaged is Run for commands that follow pages: no bound on the whole
// command, since each call to the network is bounded by --timeout on its
// own and the number of pages grows with the ledger.
func RunPaged[O any](ctx context.Context, runF func(*O) error, opts *O, run func(context.Context, *O) error) error {
	if runF != nil {
		return runF(opts)
	}
	return run(ctx, opts)
}
