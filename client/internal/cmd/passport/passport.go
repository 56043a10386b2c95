// Package passport implements `mtrace passport`: write a product's
// passport as a self-contained static page that checks the product's
// provenance proof in the reader's browser, its QR code, and a UNTP
// Digital Product Passport credential signed by the maker's organisation.
package passport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/identity"
	qr "github.com/piglig/go-qr"
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmd/proof/export"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/dpp"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	pp "github.com/mtrace/mtrace/client/internal/passport"
	"github.com/mtrace/mtrace/client/internal/proof"
)

// Generated is where `make build` puts the verifier (verifier.wasm) and
// Go's wasm_exec.js; see assets/README.md.
//
//go:embed assets
var generated embed.FS

//go:embed page.html page.css page.js
var page embed.FS

// Assets returns the embedded verifier and its loader.
func Assets() fs.FS {
	sub, err := fs.Sub(generated, "assets")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// Maker is who signs the passport credential: the profile's organisation,
// its name in the consortium's registry, and its member's key and
// certificate.
type Maker struct {
	MSP, Name string
	Key       *ecdsa.PrivateKey
	Cert      *x509.Certificate
}

// Options are the inputs of one passport.
type Options struct {
	IO *iostreams.IOStreams
	// Collect gathers the proof of a batch from the network.
	Collect func(ctx context.Context, id string) (*proof.Proof, error)
	// Maker returns the signer of the credential.
	Maker func(ctx context.Context) (*Maker, error)
	// Genesis is the genesis hash the page pins (the profile's).
	Genesis string
	// Assets holds verifier.wasm and wasm_exec.js.
	Assets  fs.FS
	Now     func() time.Time
	Version string

	ID  string
	Out string
	// URL is where the page will be served (the QR code's target);
	// empty means the page's file: URL.
	URL string
	// Issuer is the credential's issuer id (a URI, ideally did:web).
	Issuer string
}

// NewCmdPassport builds the command; runF replaces runPassport in tests.
func NewCmdPassport(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Assets: Assets(), Now: time.Now, Version: f.Version}
	opts.Collect = func(ctx context.Context, id string) (*proof.Proof, error) { return export.Collect(ctx, f, id) }
	opts.Maker = func(ctx context.Context) (*Maker, error) { return loadMaker(ctx, f) }
	cmd := &cobra.Command{
		Use:   "passport ID --out DIR [--url URL] [--issuer URI]",
		Short: "Write a product's passport page, with its proof, QR code and signed UNTP credential",
		Long: `Write a product passport to DIR: a static page (index.html and the files
beside it, no server and no outside fetch) that shows the product, its
recycled and virgin shares, where and when its material was collected, each
step and who did it, the documents anchored on it, its provenance graph, and
its proof, which the page checks in the reader's browser with mtrace's own
verifier compiled to WebAssembly. Once checked, the page's root element
carries data-proof="authentic" or "tampered" and data-verdict="holds" or
"fails".

Beside the page: the proof (ID.proof), the page's QR code (qr.png, which
encodes --url, by default the page's file: URL), and a UN Transparency
Protocol 0.6.1 Digital Product Passport (passport.jwt, a W3C Verifiable
Credential signed as vc+jwt with your profile's key and certificate;
passport.json is its content). Host DIR as it is at --url.

The page pins your profile's genesis hash; readers can check against the one
the consortium publishes (docs/how-to/publish-a-passport.md).`,
		Example: `  mtrace -p maker passport VASE-001 --out vase --url https://maker.example/p/vase-001/
  chromium vase/index.html`,
		Args: cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if opts.Out == "" {
				return cmdutil.FlagErrorf("--out is required")
			}
			if opts.URL != "" {
				if u, err := url.Parse(opts.URL); err != nil || u.Scheme == "" {
					return cmdutil.FlagErrorf("--url %q is not an absolute URL", opts.URL)
				}
			}
			p, err := f.Profile()
			if err != nil {
				return err
			}
			opts.Genesis = p.Genesis
			return cmdutil.Run(cmd.Context(), f, opts, runF, runPassport)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "the directory to write the page into")
	cmd.Flags().StringVar(&opts.URL, "url", "", "where the page will be hosted, for the QR code and the credential (default: its file: URL)")
	cmd.Flags().StringVar(&opts.Issuer, "issuer", "", "the credential's issuer id, a URI such as did:web:maker.example (default: from --url, else urn:mtrace:msp:MSPID)")
	return cmd
}

// loadMaker reads the profile's key and certificate and the
// organisation's name from the registry.
func loadMaker(ctx context.Context, f *cmdutil.Factory) (*Maker, error) {
	p, err := f.Profile()
	if err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(p.Cert)
	if err != nil {
		return nil, fmt.Errorf("profile %s: certificate: %w", p.Name, err)
	}
	cert, err := identity.CertificateFromPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("profile %s: certificate %s: %w", p.Name, p.Cert, err)
	}
	keyPEM, err := os.ReadFile(p.Key)
	if err != nil {
		return nil, fmt.Errorf("profile %s: private key: %w", p.Name, err)
	}
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("profile %s: private key %s: %w", p.Name, p.Key, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("profile %s: the key is not ECDSA", p.Name)
	}
	m := &Maker{MSP: p.MSPID, Name: p.MSPID, Key: ec, Cert: cert}
	err = cmdutil.WithLedger(ctx, f.Ledger, func(l ledger.Ledger) error {
		reg, err := api.New(l).GetRegistry(ctx)
		if err != nil {
			return err
		}
		if pt, ok := reg.Lookup(p.MSPID); ok && pt.Name != "" {
			m.Name = pt.Name
		}
		return nil
	})
	return m, err
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func runPassport(ctx context.Context, opts *Options) error {
	wasm, err := fs.ReadFile(opts.Assets, "verifier.wasm")
	if err != nil {
		return errors.New("this mtrace was built without the passport verifier (assets/verifier.wasm): build it with 'make build'")
	}
	loader, err := fs.ReadFile(opts.Assets, "wasm_exec.js")
	if err != nil {
		return errors.New("this mtrace was built without Go's wasm_exec.js: build it with 'make build'")
	}
	if opts.Genesis == "" {
		return errors.New("the profile pins no genesis hash: the page would have nothing to check the proof against")
	}
	p, err := opts.Collect(ctx, opts.ID)
	if err != nil {
		return err
	}
	if err := p.Strip(); err != nil {
		return err
	}
	if err := p.Compact(); err != nil {
		return err
	}
	raw, err := p.Encode()
	if err != nil {
		return err
	}
	// The same check the page runs: refuse to publish a proof that is not
	// authentic (a peer served something the orderers did not sign).
	res := pp.Check(raw, opts.Genesis)
	if res.Proof != pp.Authentic {
		var failed []string
		for _, c := range res.Report.Checks {
			if !c.OK {
				failed = append(failed, c.Name+": "+c.Detail)
			}
		}
		return fmt.Errorf("the proof of %s is not authentic, so no passport was written: %s", opts.ID, strings.Join(failed, "; "))
	}
	maker, err := opts.Maker(ctx)
	if err != nil {
		return err
	}

	dir, err := filepath.Abs(opts.Out)
	if err != nil {
		return err
	}
	pageURL := opts.URL
	if pageURL == "" {
		pageURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "index.html"))}).String()
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	proofFile := "product.proof"
	if safeName.MatchString(p.Batch) {
		proofFile = p.Batch + ".proof"
	}
	sum := sha256.Sum256(raw)
	now := opts.Now().UTC().Truncate(time.Second)

	issuer := opts.Issuer
	if issuer == "" {
		issuer = defaultIssuer(base, maker.MSP)
	}
	f := res.Product
	var steps []string
	seen := map[string]bool{}
	for _, s := range f.Steps {
		if !seen[s.What] && s.What != "handed over" && s.What != "quarantined" {
			seen[s.What] = true
			steps = append(steps, s.What)
		}
	}
	product := *base
	product.Fragment = p.Batch
	cred, err := dpp.New(dpp.Input{
		ID:        rel(base, "passport.jwt"),
		ProductID: product.String(),
		Issuer:    dpp.Party{ID: issuer, Name: maker.Name},
		Batch:     p.Batch, Name: fmt.Sprintf("%s (%s %s)", p.Batch, f.Material, f.Form),
		Description: fmt.Sprintf("%s %s made by %s from material traced to %d collection(s)", f.Material, f.Form, f.Maker, len(f.Sources)),
		Material:    f.Material, MassGrams: int64(f.MassGrams), RecycledBp: f.RecycledBp,
		Holds: res.Verdict == pp.HoldsWord, Made: f.Made, Issued: now, Steps: steps,
		PassportURL: pageURL, ProofURL: rel(base, proofFile), ProofSHA256: hex.EncodeToString(sum[:]),
		ProofHead: p.Head,
	})
	if err != nil {
		return err
	}
	token, err := dpp.Sign(cred, maker.Key, []*x509.Certificate{maker.Cert})
	if err != nil {
		return err
	}
	credJSON, err := json.MarshalIndent(cred, "", "  ")
	if err != nil {
		return err
	}

	zipped, err := gz(wasm)
	if err != nil {
		return err
	}
	css, _ := page.ReadFile("page.css")
	js, _ := page.ReadFile("page.js")
	var html bytes.Buffer
	tmpl := template.Must(template.ParseFS(page, "page.html"))
	err = tmpl.Execute(&html, map[string]any{
		"Genesis": opts.Genesis, "Batch": p.Batch, "CSS": template.CSS(css),
		"IssuerName": maker.Name, "Issued": now.Format("2006-01-02"),
		"Facts":     template.HTML(res.Facts), // rendered by html/template from the verified records
		"ProofFile": proofFile, "ProofSize": len(raw), "ProofSHA256": hex.EncodeToString(sum[:]),
		"Version": opts.Version,
	})
	if err != nil {
		return err
	}
	code, err := qr.EncodeText(pageURL, qr.Medium)
	if err != nil {
		return fmt.Errorf("QR code: %w", err)
	}
	png, err := code.ToPNGBytes(qr.NewQrCodeImgConfig(8, 4))
	if err != nil {
		return fmt.Errorf("QR code: %w", err)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{proofFile, raw},
		{"proof.js", script("mtraceProof", raw)},
		{"verifier.js", script("mtraceVerifier", zipped)},
		{"wasm_exec.js", loader},
		{"passport.js", js},
		{"passport.jwt", []byte(token + "\n")},
		{"passport.json", append(credJSON, '\n')},
		{"qr.png", png},
		{"index.html", html.Bytes()},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("write passport: %w", err)
		}
	}
	fmt.Fprintf(opts.IO.Out, "Wrote the passport of %s to %s (index.html, %s, qr.png for %s, passport.jwt signed by %s)\n",
		p.Batch, dir, proofFile, pageURL, maker.Name)
	fmt.Fprintln(opts.IO.Out, res.Summary)
	return nil
}

// rel is the URL of a file beside the page.
func rel(base *url.URL, name string) string {
	return base.ResolveReference(&url.URL{Path: name}).String()
}

// defaultIssuer names the organisation: did:web of the page's host when
// it is served over HTTPS, else a URN of its MSP ID.
func defaultIssuer(base *url.URL, msp string) string {
	if base.Scheme == "https" && base.Host != "" {
		return "did:web:" + strings.ReplaceAll(base.Host, ":", "%3A")
	}
	return "urn:mtrace:msp:" + msp
}

// script is a JavaScript file that sets a global to data in base64: the
// page loads it with a <script> tag, which browsers allow from file: URLs
// where they refuse fetch().
func script(name string, data []byte) []byte {
	return fmt.Appendf(nil, "window.%s = %q;\n", name, base64.StdEncoding.EncodeToString(data))
}

func gz(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
