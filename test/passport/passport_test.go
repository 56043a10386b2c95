//go:build e2e

// Package passport tests `mtrace passport` as a person would use it: a
// maker exports the passport of a product made on the live network, opens
// the page from disk in headless Chromium, which checks the proof with the
// WebAssembly verifier and shows both answers; a tampered proof and a
// page whose text was edited show the failure, and after a quarantine the
// page says the proof is authentic but the provenance does not hold. The
// QR code is scanned back, and the UNTP credential verifies with go-jose
// against the maker's CA certificate. Screenshots go to
// $MTRACE_HOME/passport/.
package passport

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/test/internal/harness"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

var env *testnet.Env

var run = fmt.Sprintf("pp%d", time.Now().Unix()%1_000_000)

func id(name string) string { return run + "-" + name }

func TestMain(m *testing.M) { harness.Main(m, "passport", &env) }

// product makes a vase from two collections, as the demo does.
func product(t *testing.T) (vase, usk string) {
	k, u := id("KDK"), id("USK")
	flakes, spool, vase := id("FLK"), id("FIL"), id("VASE")
	env.MustRun(t, "municipality", "batch", "register", k, "--material", "PET", "--mass", "1250kg", "--location", "Kadıköy, Istanbul", "--collected-at", "2026-11-20T09:30:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "register", u, "--material", "PET", "--mass", "980kg", "--location", "Üsküdar, Istanbul", "--collected-at", "2026-11-20T10:15:00+03:00", "--waste-code", "15 01 02")
	for _, b := range []string{k, u} {
		env.MustRun(t, "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
		env.MustRun(t, "recycler", "batch", "accept", b)
	}
	env.MustRun(t, "recycler", "batch", "process", "--step", "shredding", "--in", k+":1250kg", "--in", u+":980kg", "--out", flakes+":PET:flakes:2200kg")
	env.MustRun(t, "recycler", "batch", "process", "--step", "extrusion", "--in", flakes+":1.1kg", "--out", spool+":PET:filament:1kg")
	env.MustRun(t, "recycler", "batch", "transfer", spool, "--to", "MakerMSP")
	env.MustRun(t, "maker", "batch", "accept", spool)
	env.MustRun(t, "maker", "batch", "process", "--step", "printing", "--in", spool+":350g", "--out", vase+":PET:product:310g")
	return vase, u
}

// shots is the test's output folder for screenshots.
func shots() string { return filepath.Join(env.Home, "passport") }

func scanQR(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	// A generated code, square to the pixel: its modules are read as drawn
	// (ZXing's photo detector misreads about 1 in 400 such clean images).
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	require.NoError(t, err, "the QR code does not scan")
	return res.GetText()
}

// makerCAs are the maker organisation's CA certificates, from the
// network's crypto material.
func makerCAs(t *testing.T) *x509.CertPool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(env.Home, "crypto", "*", "maker*", "msp", "cacerts", "*.pem"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "the maker's CA certificate under %s/crypto", env.Home)
	pool := x509.NewCertPool()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		require.True(t, pool.AppendCertsFromPEM(raw), f)
	}
	return pool
}

// verifyCredential checks passport.jwt with go-jose's own verifier: a
// compact JWS, ES256, typ vc+jwt, whose x5c certificate chains to the
// maker's CA, signed by that certificate's key. It returns the payload.
func verifyCredential(t *testing.T, token string, roots *x509.CertPool) ([]byte, error) {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, err
	}
	h := jws.Signatures[0].Protected
	if h.ExtraHeaders["typ"] != "vc+jwt" {
		return nil, fmt.Errorf("typ %v", h.ExtraHeaders["typ"])
	}
	chains, err := h.Certificates(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, err
	}
	return jws.Verify(chains[0][0].PublicKey)
}

// tamperProof rewrites the page's proof.js with one byte of a block
// flipped, as someone who edits the hosted files would.
func tamperProof(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, "proof.js")
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	const prefix = "window.mtraceProof = "
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(string(src), prefix), ";\n"))
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	var p map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &p))
	var blocks [][]byte
	require.NoError(t, json.Unmarshal(p["blocks"], &blocks))
	last := blocks[len(blocks)-1]
	last[len(last)/2] ^= 0x01
	p["blocks"], err = json.Marshal(blocks)
	require.NoError(t, err)
	raw, err = json.Marshal(p)
	require.NoError(t, err)
	out := fmt.Sprintf("%s%q;\n", prefix, base64.StdEncoding.EncodeToString(raw))
	require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
}

func TestPassportInTheBrowser(t *testing.T) {
	vase, usk := product(t)
	env.MustRun(t, "maker", "verify", vase)

	root := filepath.Join(t.TempDir(), "www")
	dir := filepath.Join(root, "vase")
	const url = "https://passports.kadikoy-makerspace.example/vase/"
	r := env.MustRun(t, "maker", "passport", vase, "--out", dir, "--url", url)
	assert.Contains(t, r.Stdout, "The proof is authentic, and the provenance of "+vase+" holds")
	for _, f := range []string{"index.html", "proof.js", "verifier.js", "wasm_exec.js", "passport.js", vase + ".proof", "passport.jwt", "passport.json", "qr.png"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}

	// The QR code scans back to where the maker hosts the page.
	assert.Equal(t, url, scanQR(t, filepath.Join(dir, "qr.png")))

	// The credential verifies against the maker's CA, names the proof
	// file by its SHA-256 and carries the recycled content; a changed
	// claim does not verify.
	token, err := os.ReadFile(filepath.Join(dir, "passport.jwt"))
	require.NoError(t, err)
	roots := makerCAs(t)
	payload, err := verifyCredential(t, strings.TrimSpace(string(token)), roots)
	require.NoError(t, err)
	var cred struct {
		Issuer  struct{ ID, Name string } `json:"issuer"`
		Subject struct {
			Claims []struct {
				Conformance bool `json:"conformance"`
				Evidence    struct {
					URL    string `json:"linkURL"`
					Digest string `json:"hashDigest"`
				} `json:"conformityEvidence"`
			} `json:"conformityClaim"`
			Circularity struct {
				RecycledContent float64 `json:"recycledContent"`
			} `json:"circularityScorecard"`
		} `json:"credentialSubject"`
	}
	require.NoError(t, json.Unmarshal(payload, &cred))
	proofRaw, err := os.ReadFile(filepath.Join(dir, vase+".proof"))
	require.NoError(t, err)
	sum := sha256.Sum256(proofRaw)
	assert.Equal(t, hex.EncodeToString(sum[:]), cred.Subject.Claims[0].Evidence.Digest)
	assert.Equal(t, url+vase+".proof", cred.Subject.Claims[0].Evidence.URL)
	assert.True(t, cred.Subject.Claims[0].Conformance)
	assert.Equal(t, 1.0, cred.Subject.Circularity.RecycledContent)
	assert.Equal(t, "did:web:passports.kadikoy-makerspace.example", cred.Issuer.ID)
	parts := strings.Split(strings.TrimSpace(string(token)), ".")
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	changed := bytes.Replace(claims, []byte(`"recycledContent":1`), []byte(`"recycledContent":0.5`), 1)
	require.NotEqual(t, claims, changed)
	_, err = verifyCredential(t, parts[0]+"."+base64.RawURLEncoding.EncodeToString(changed)+"."+parts[2], roots)
	assert.Error(t, err, "a credential with a changed claim verified")

	// The same proof file checks offline with the CLI.
	assert.Equal(t, 0, env.Run(t, "maker", "proof", "verify", filepath.Join(dir, vase+".proof")).Code)

	// A tampered copy of the page's proof, and a copy whose text was
	// edited to claim another collection place.
	tampered := filepath.Join(root, "tampered")
	copyDir(t, dir, tampered)
	tamperProof(t, tampered)
	edited := filepath.Join(root, "edited")
	copyDir(t, dir, edited)
	html, err := os.ReadFile(filepath.Join(edited, "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(html), "Üsküdar, Istanbul")
	html = bytes.ReplaceAll(html, []byte("Üsküdar, Istanbul"), []byte("Paris, France"))
	require.NoError(t, os.WriteFile(filepath.Join(edited, "index.html"), html, 0o644))

	b := startBrowser(t)

	t.Run("honest", func(t *testing.T) {
		p := b.open(t, filepath.Join(dir, "index.html"), filepath.Join(shots(), "honest.png"))
		assert.Equal(t, "authentic", p.Proof)
		assert.Equal(t, "holds", p.Verdict)
		assert.Contains(t, p.AnswerProof, "authentic")
		assert.Contains(t, p.AnswerVerdict, "holds")
		assert.Regexp(t, `As of block \d+ \(height \d+\), 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC`, p.AsOf)
		for _, c := range []string{"genesis", "config-chain", "block-hash", "data-hash", "orderer-signature", "transactions", "validity", "state",
			"collection-origin", "mass-balance", "custody", "not-quarantined", "recycled-content", "signatures"} {
			assert.Regexp(t, `(?m)^ok\s+`+c+` `, p.Checks, "check %s", c)
		}
		assert.NotContains(t, p.Checks, "FAIL")
		for _, want := range []string{vase, "100% post-consumer recycled", "0% virgin", "Kadıköy, Istanbul", "Üsküdar, Istanbul",
			"2026-11-20 09:30 +03:00", "shredding", "extrusion", "printing", "MakerMSP", "RecyclerMSP", "MunicipalityMSP", usk} {
			assert.Contains(t, p.Facts, want)
		}
		assert.Empty(t, p.Warning)
	})
	t.Run("tampered proof", func(t *testing.T) {
		p := b.open(t, filepath.Join(tampered, "index.html"), filepath.Join(shots(), "tampered.png"))
		assert.Equal(t, "tampered", p.Proof)
		assert.Equal(t, "fails", p.Verdict)
		assert.Contains(t, p.AnswerProof, "NOT authentic")
		assert.Regexp(t, `(?m)^FAIL\s+(data-hash|block-hash|orderer-signature) `, p.Checks)
		assert.Contains(t, p.Warning, "NOT authentic")
	})
	t.Run("edited page", func(t *testing.T) {
		// The page's text claims Paris, but once checked it shows what the
		// proof's signed records say.
		p := b.open(t, filepath.Join(edited, "index.html"), filepath.Join(shots(), "edited.png"))
		assert.Equal(t, "authentic", p.Proof)
		assert.Contains(t, p.Facts, "Üsküdar, Istanbul")
		assert.NotContains(t, p.Facts, "Paris")
	})
	t.Run("quarantined", func(t *testing.T) {
		env.MustRun(t, "auditor", "batch", "quarantine", usk, "--reason", "contamination reported at the sorting line")
		held := filepath.Join(root, "held")
		r := env.MustRun(t, "maker", "passport", vase, "--out", held)
		assert.Contains(t, r.Stdout, "does NOT hold")
		assert.Equal(t, "file://"+filepath.Join(held, "index.html"), scanQR(t, filepath.Join(held, "qr.png")))
		p := b.open(t, filepath.Join(held, "index.html"), filepath.Join(shots(), "quarantined.png"))
		assert.Equal(t, "authentic", p.Proof)
		assert.Equal(t, "fails", p.Verdict)
		assert.Regexp(t, `(?m)^FAIL\s+not-quarantined .*`+usk, p.Checks)
		assert.Contains(t, p.Facts, "quarantined")
		assert.Contains(t, p.Warning, "does not hold")
	})
}
