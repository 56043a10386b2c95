package proofnet

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func TestPinnedAnswersFromTheProof(t *testing.T) {
	rec := recorded(t, "holds.proof")
	l := ledgertest.New()
	l.On(ledgertest.BlockByTxID, func([]string) ([]byte, error) { return []byte("from the peer"), nil })
	l.On(ledgertest.Block, func([]string) ([]byte, error) { return []byte("from the peer"), nil })
	pl := Pinned(l, rec)
	ctx := context.Background()

	for _, raw := range append(append([][]byte{}, rec.Configs...), rec.Blocks...) {
		b, err := decode(raw)
		require.NoError(t, err)
		got, err := pl.Block(ctx, b.GetHeader().GetNumber())
		require.NoError(t, err)
		assert.Equal(t, raw, got, "block %d is the proof's", b.GetHeader().GetNumber())
		for _, id := range txIDs(b) {
			got, err := pl.BlockByTxID(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, raw, got, "tx %s is in the proof's block", id)
		}
	}
	assert.Empty(t, l.Calls(), "what the proof holds is not asked of the peer")

	got, err := pl.BlockByTxID(ctx, "not-in-the-proof")
	require.NoError(t, err)
	assert.Equal(t, []byte("from the peer"), got)
	got, err = pl.Block(ctx, rec.Head+1)
	require.NoError(t, err)
	assert.Equal(t, []byte("from the peer"), got)
	got, err = pl.Block(ctx, ledger.NewestBlock)
	require.NoError(t, err)
	assert.Equal(t, []byte("from the peer"), got, "the newest block is the peer's, not the proof's head")
	assert.Len(t, l.Calls(), 3)
	assert.Equal(t, "mtrace", pl.Chaincode(), "everything else is the ledger's")
}

func TestNewSignerErrors(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := identityFiles(t, dir, "caller")
	junk := pemFile(t, dir+"/junk.pem", "CERTIFICATE", []byte("junk"))
	for _, c := range []struct {
		cert, key, want string
	}{
		{dir + "/none.pem", key, "profile p: certificate: "},
		{junk, key, "profile p: certificate " + junk},
		{cert, dir + "/none.pem", "profile p: private key: "},
		{cert, junk, "profile p: private key " + junk},
	} {
		_, err := NewSigner(&config.Profile{Name: "p", MSPID: "MakerMSP", Cert: c.cert, Key: c.key})
		assert.ErrorContains(t, err, c.want)
	}
	s, err := NewSigner(&config.Profile{Name: "p", MSPID: "MakerMSP", Cert: cert, Key: key})
	require.NoError(t, err)
	assert.Contains(t, string(s.Creator), "MakerMSP", "the creator names the organisation")
}

func TestDialEndorserErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := DialEndorser(&config.Profile{Name: "p", TLSRootCert: dir + "/none.pem", Endpoint: "127.0.0.1:1"})
	assert.ErrorContains(t, err, "profile p: TLS root certificate: ")
	_, key, _ := identityFiles(t, dir, "x")
	_, err = DialEndorser(&config.Profile{Name: "p", TLSRootCert: key, Endpoint: "127.0.0.1:1"})
	assert.ErrorContains(t, err, "no PEM certificate in it")

	// A collector needs its own identity and peer.
	_, err = NewCollector(ledgertest.New(), &config.Profile{Name: "p", Cert: dir + "/none.pem"})
	assert.ErrorContains(t, err, "profile p: certificate: ")
}
