package passport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"image/png"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	qr "github.com/piglig/go-qr"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/dpp"
	"github.com/mtrace/mtrace/client/internal/proof"
)

// A proof recorded from a live network (package proof's test data): the
// collection batch IST-KDK-1206013619, whose provenance holds.
const (
	data  = "../../proof/testdata/"
	batch = "IST-KDK-1206013619"
)

var now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

type fixture struct {
	raw     []byte
	genesis string
	maker   *Maker
	roots   *x509.CertPool
	assets  fstest.MapFS
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	raw, err := os.ReadFile(data + "holds.proof")
	require.NoError(t, err)
	g, err := os.ReadFile(data + "genesis.txt")
	require.NoError(t, err)
	// The maker organisation's CA and its member's key, as Fabric CA
	// issues them: ECDSA P-256.
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca.maker.mtrace.local"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, _ := x509.ParseCertificate(der)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err = x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "User1@maker.mtrace.local"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return &fixture{
		raw: raw, genesis: strings.TrimSpace(string(g)),
		maker: &Maker{MSP: "MakerMSP", Name: "Kadıköy Makerspace", Key: key, Cert: cert},
		roots: roots,
		// The real verifier is built by make build; the page only carries
		// these bytes, which the browser test (test/passport) runs.
		assets: fstest.MapFS{
			"verifier.wasm": {Data: []byte("\x00asm fake verifier")},
			"wasm_exec.js":  {Data: []byte("// Go's loader\n")},
		},
	}
}

// run runs `mtrace passport` with the fixture's proof, key and assets.
func (fx *fixture) run(t *testing.T, args ...string) (*cmdtest.Env, error) {
	t.Helper()
	e := cmdtest.New(t)
	cmd := NewCmdPassport(e.F, func(o *Options) error {
		o.Collect = func(_ context.Context, id string) (*proof.Proof, error) {
			if id != batch {
				return nil, errors.New("no such batch")
			}
			return proof.Decode(fx.raw)
		}
		o.Maker = func(context.Context) (*Maker, error) { return fx.maker, nil }
		o.Genesis = fx.genesis
		o.Assets = fx.assets
		o.Now = func() time.Time { return now }
		return runPassport(context.Background(), o)
	})
	return e, e.Run(cmd, append([]string{"passport"}, args...)...)
}

func read(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return b
}

// global decodes a script file written by script().
func global(t *testing.T, src []byte, name string) []byte {
	t.Helper()
	prefix := "window." + name + " = "
	require.True(t, bytes.HasPrefix(src, []byte(prefix)), "%.40s", src)
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(string(src), prefix), ";\n"))
	require.NoError(t, err)
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

func scanQR(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	// The image is a generated code, square to the pixel: read its modules
	// as they are drawn. ZXing's detector, which looks for the code in a
	// photo, misplaces its sampling grid on about 1 in 400 of these clean
	// images and then fails the error correction (seen in this test with
	// temporary folder names); reading the modules directly checks what the
	// code holds.
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	require.NoError(t, err)
	return res.GetText()
}

// TestQRCodesReadBack: the page's code holds its address, for addresses on
// which ZXing's photo detector stumbles too.
func TestQRCodesReadBack(t *testing.T) {
	for _, s := range []string{
		"file:///tmp/TestPassportWritesASelfContainedPage1005226540/001/vase/index.html",
		"file:///tmp/TestPassportWritesASelfContainedPage1008188246/001/vase/index.html",
	} {
		code, err := qr.EncodeText(s, qr.Medium)
		require.NoError(t, err)
		raw, err := code.ToPNGBytes(qr.NewQrCodeImgConfig(8, 4))
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "qr.png")
		require.NoError(t, os.WriteFile(path, raw, 0o644))
		assert.Equal(t, s, scanQR(t, path))
	}
}

func TestPassportWritesASelfContainedPage(t *testing.T) {
	fx := newFixture(t)
	dir := filepath.Join(t.TempDir(), "vase")
	e, err := fx.run(t, batch, "--out", dir)
	require.NoError(t, err)
	assert.Contains(t, e.Out.String(), "Wrote the passport of "+batch+" to "+dir)
	assert.Contains(t, e.Out.String(), "The proof is authentic, and the provenance of "+batch+" holds as of block")

	// The proof, as a file and as the page's script, byte for byte the
	// same, and one that verifies.
	proofFile := read(t, dir, batch+".proof")
	assert.Equal(t, proofFile, global(t, read(t, dir, "proof.js"), "mtraceProof"))
	assert.True(t, proof.Verify(proofFile, fx.genesis).Holds())

	// The verifier, gzipped in a script; Go's loader beside it.
	zr, err := gzip.NewReader(bytes.NewReader(global(t, read(t, dir, "verifier.js"), "mtraceVerifier")))
	require.NoError(t, err)
	wasm, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, fx.assets["verifier.wasm"].Data, wasm)
	assert.Equal(t, fx.assets["wasm_exec.js"].Data, read(t, dir, "wasm_exec.js"))
	js := string(read(t, dir, "passport.js"))
	assert.Contains(t, js, "window.mtraceVerify")
	assert.NotContains(t, js, "fetch(", "the page must open from disk, where fetch() is refused")

	// The page: the pinned genesis, the facts from the verified records,
	// the graph, the scripts by relative path, nothing from outside.
	html := string(read(t, dir, "index.html"))
	var missing []string
	for _, want := range []string{
		`<html lang="en" data-genesis="` + fx.genesis + `">`,
		"<h2>" + batch + "</h2>",
		"100%</b> post-consumer recycled", "0%</b> virgin",
		"<td>Kadıköy, Istanbul</td><td>2026-11-20 09:30 &#43;03:00</td><td>MunicipalityMSP (ayse)</td><td>15 01 02</td><td>1250 kg PET</td>",
		"<b>collected</b> at Kadıköy, Istanbul by MunicipalityMSP (ayse)",
		"<b>handed over</b> by RecyclerMSP (User1@recycler.mtrace.local)",
		"<svg", "Provenance graph",
		`<script src="wasm_exec.js"></script>`, `<script src="verifier.js"></script>`, `<script src="proof.js"></script>`, `<script src="passport.js"></script>`,
		`href="` + batch + `.proof"`, `href="passport.jwt"`,
		"Kadıköy Makerspace",
	} {
		if !strings.Contains(html, want) {
			missing = append(missing, want)
		}
	}
	assert.Empty(t, missing, "index.html lacks these")
	for _, outside := range []string{`src="http`, `href="http`, `url(`, "@import", "fetch("} {
		assert.False(t, strings.Contains(html, outside), "the page loads something from outside: %s", outside)
	}

	// The QR code links to the page.
	assert.Equal(t, "file://"+filepath.ToSlash(filepath.Join(dir, "index.html")), scanQR(t, filepath.Join(dir, "qr.png")))

	// The credential, signed by the maker, names the proof by its hash.
	c, err := dpp.Verify(strings.TrimSpace(string(read(t, dir, "passport.jwt"))), fx.roots, "urn:mtrace:msp:MakerMSP")
	require.NoError(t, err)
	sum := sha256.Sum256(proofFile)
	assert.Equal(t, hex.EncodeToString(sum[:]), c.Subject.Claims[0].Evidence.Digest)
	assert.Equal(t, 1.0, c.Subject.Circularity.RecycledContent)
	assert.True(t, c.Subject.Claims[0].Conformance)
	assert.Equal(t, "Kadıköy Makerspace", c.Issuer.Name)
	assert.Equal(t, batch, c.Subject.Product.BatchNumber)
	assert.Equal(t, "2026-12-06T12:00:00Z", c.ValidFrom)
	assert.Contains(t, string(read(t, dir, "passport.json")), `"recycledContent": 1`)
	matchesUNTPSchema(t, read(t, dir, "passport.json"))
}

// matchesUNTPSchema checks a credential against the UNTP 0.6.1 DPP schema
// (package dpp's test data, GPL-3.0), with format assertions.
func matchesUNTPSchema(t *testing.T, raw []byte) {
	t.Helper()
	f, err := os.Open("../../dpp/testdata/untp-0.6.1/untp-dpp-schema.json")
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("untp-dpp-schema.json", doc))
	s, err := c.Compile("untp-dpp-schema.json")
	require.NoError(t, err)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.NoError(t, s.Validate(v), "the written credential does not match the UNTP 0.6.1 DPP schema")
}

func TestPassportURL(t *testing.T) {
	fx := newFixture(t)
	dir := t.TempDir()
	_, err := fx.run(t, batch, "--out", dir, "--url", "https://maker.example/p/ist/")
	require.NoError(t, err)
	assert.Equal(t, "https://maker.example/p/ist/", scanQR(t, filepath.Join(dir, "qr.png")))
	c, err := dpp.Verify(strings.TrimSpace(string(read(t, dir, "passport.jwt"))), fx.roots, "did:web:maker.example")
	require.NoError(t, err)
	assert.Equal(t, "https://maker.example/p/ist/"+batch+".proof", c.Subject.Claims[0].Evidence.URL)
	assert.Equal(t, "https://maker.example/p/ist/passport.jwt", c.ID)
	assert.Equal(t, "https://maker.example/p/ist/#"+batch, c.Subject.Product.ID)
	matchesUNTPSchema(t, read(t, dir, "passport.json"))

	_, err = fx.run(t, batch, "--out", t.TempDir(), "--url", "https://maker.example/p/ist/", "--issuer", "did:web:maker.example:kadikoy")
	require.NoError(t, err)
}

func TestPassportRefusesWhatItCannotStandBehind(t *testing.T) {
	t.Run("a proof that is not authentic", func(t *testing.T) {
		fx := newFixture(t)
		fx.genesis = strings.Repeat("0", 64) // another channel's genesis
		dir := filepath.Join(t.TempDir(), "out")
		_, err := fx.run(t, batch, "--out", dir)
		require.ErrorContains(t, err, "is not authentic, so no passport was written: genesis:")
		assert.NoDirExists(t, dir)
	})
	t.Run("a tampered proof", func(t *testing.T) {
		fx := newFixture(t)
		p, err := proof.Decode(fx.raw)
		require.NoError(t, err)
		b := p.Blocks[len(p.Blocks)-1]
		b[len(b)/2] ^= 1
		fx.raw, err = p.Encode()
		require.NoError(t, err)
		dir := filepath.Join(t.TempDir(), "out")
		_, err = fx.run(t, batch, "--out", dir)
		require.ErrorContains(t, err, "is not authentic")
		assert.NoDirExists(t, dir)
	})
	t.Run("built without the verifier", func(t *testing.T) {
		fx := newFixture(t)
		delete(fx.assets, "verifier.wasm")
		dir := filepath.Join(t.TempDir(), "out")
		_, err := fx.run(t, batch, "--out", dir)
		require.ErrorContains(t, err, "make build")
		assert.NoDirExists(t, dir)
	})
	t.Run("no genesis pinned", func(t *testing.T) {
		fx := newFixture(t)
		fx.genesis = ""
		_, err := fx.run(t, batch, "--out", t.TempDir())
		require.ErrorContains(t, err, "no genesis hash")
	})
	t.Run("flags", func(t *testing.T) {
		fx := newFixture(t)
		_, err := fx.run(t, batch)
		require.ErrorContains(t, err, "--out is required")
		_, err = fx.run(t, batch, "--out", t.TempDir(), "--url", "maker.example/p")
		require.ErrorContains(t, err, "not an absolute URL")
		_, err = fx.run(t, "NOPE", "--out", t.TempDir())
		require.ErrorContains(t, err, "no such batch")
	})
}
