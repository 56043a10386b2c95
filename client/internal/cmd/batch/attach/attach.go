// Package attach implements `mtrace batch attach`: anchor a document's
// SHA-256 on a batch. The file itself never leaves this machine.
package attach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

// Options are the inputs of one attachment.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
	File   string
	Name   string
	URI    string
}

// NewCmdAttach builds the command; runF replaces runAttach in tests.
func NewCmdAttach(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:   "attach ID FILE [--name NAME] [--uri URI]",
		Short: "Anchor a document's SHA-256 on a batch (owner or auditor)",
		Long: `Hash FILE locally with SHA-256 and anchor the digest on the batch, so that
anyone holding the same file can later prove it was recorded
(mtrace verify ID --document FILE). Only the digest, the name and the
optional URI go on the ledger.`,
		Example: `  mtrace batch attach FIL-1 lab-report.pdf
  mtrace -p auditor batch attach FIL-1 audit.pdf --name "2026 audit" --uri https://example.org/audit.pdf`,
		Args: cmdutil.ExactArgs(2, "a batch ID and a file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID, opts.File = args[0], args[1]
			if opts.Name == "" {
				opts.Name = filepath.Base(opts.File)
			}
			if err := model.CheckText("--name", opts.Name, true); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			if err := model.CheckText("--uri", opts.URI, false); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runAttach)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "document name (default: the file's base name)")
	cmd.Flags().StringVar(&opts.URI, "uri", "", "where the document can be fetched")
	return cmd
}

// HashFile returns the lower-case hex SHA-256 of the file at path.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func runAttach(ctx context.Context, opts *Options) error {
	sum, err := HashFile(opts.File)
	if err != nil {
		return err
	}
	return cmdutil.SubmitBatch(ctx, opts.Ledger, cmdutil.BatchWrite{
		IO: opts.IO, Format: opts.Format, ID: opts.ID,
		Write: func(ctx context.Context, c *api.Client) error {
			return c.AttachDocument(ctx, opts.ID, opts.Name, sum, opts.URI)
		},
		Summary: func(b *model.Batch) string {
			return fmt.Sprintf("Anchored %s (sha256 %s) on %s (tx %s)", opts.Name, sum, b.ID, b.LastTx)
		},
	})
}
