package channel

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel/channeltest"
)

// ordering is a channel with config block 0 holding cfg0, a transaction
// block, config block 2 holding cfg2 and another transaction block,
// served by a fake orderer, and an admin of the municipality connected to
// it.
type ordering struct {
	o          *channeltest.Orderer
	conn       *Orderer
	admin      *configtx.SigningIdentity
	cfg0, cfg2 *cb.Config
}

func newOrdering(t *testing.T) *ordering {
	city, admin := loadOrg(t, "MunicipalityMSP", 25600)
	rec, _ := loadOrg(t, "RecyclerMSP", 25601)
	w := &ordering{o: channeltest.New(t, "circular"), admin: admin, cfg0: channelWith(t, city), cfg2: channelWith(t, city, rec)}
	w.o.AddBlock(w.cfg0)
	w.o.AddBlock(nil)
	w.o.AddBlock(w.cfg2)
	w.o.AddBlock(nil)
	var err error
	w.conn, err = Dial(w.o.Addr, w.o.RootFile, channeltest.ServerName, tls.Certificate{}, "circular", admin)
	require.NoError(t, err)
	t.Cleanup(func() { w.conn.Close() })
	return w
}

// setLastConfig makes block n's metadata name config block last.
func (w *ordering) setLastConfig(t *testing.T, n int, last uint64) {
	w.o.EditBlocks(func(bs []*cb.Block) []*cb.Block {
		bs[n].Metadata.Metadata = channeltest.SignaturesMetadata(t, last)
		return bs
	})
}

func TestOrdererConfig(t *testing.T) {
	w := newOrdering(t)
	cfg, err := w.conn.Config(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(2), cfg.Block, "the newest block names config block 2")
	assert.True(t, proto.Equal(w.cfg2, cfg.Config))
	members, err := Members(cfg.Config)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"MunicipalityMSP", "RecyclerMSP"}, members)
	seeks := w.o.Seeks()
	require.Len(t, seeks, 2, "the newest block, then the config block it names")
	assert.NotNil(t, seeks[0].GetNewest())
	assert.Equal(t, uint64(2), seeks[1].GetSpecified().GetNumber())
	assert.Equal(t, []string{"MunicipalityMSP", "MunicipalityMSP"}, w.o.Signers(), "every request is signed by the identity")

	// When the newest block is the config block, one read is enough.
	w.o.EditBlocks(func(bs []*cb.Block) []*cb.Block { return bs[:3] })
	w.o.Reset()
	cfg, err = w.conn.Config(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(2), cfg.Block)
	assert.Len(t, w.o.Seeks(), 1)
}

func TestOrdererConfigErrors(t *testing.T) {
	w := newOrdering(t)
	// The newest block names a config block the orderer does not have.
	w.o.EditBlocks(func(bs []*cb.Block) []*cb.Block { return bs[:2] })
	w.setLastConfig(t, 1, 7)
	_, err := w.conn.Config(context.Background())
	assert.EqualError(t, err, "deliver: the orderer answered NOT_FOUND")

	// It names a transaction block.
	w.setLastConfig(t, 1, 1)
	_, err = w.conn.Config(context.Background())
	assert.EqualError(t, err, "config block 1: block 1 is not a config block")

	// It names none.
	w.o.EditBlocks(func(bs []*cb.Block) []*cb.Block { bs[1].Metadata = nil; return bs })
	_, err = w.conn.Config(context.Background())
	assert.EqualError(t, err, "block has no signatures metadata")

	// A request for another channel is refused.
	other, err := Dial(w.o.Addr, w.o.RootFile, channeltest.ServerName, tls.Certificate{}, "elsewhere", w.admin)
	require.NoError(t, err)
	defer other.Close()
	_, err = other.Config(context.Background())
	assert.EqualError(t, err, "deliver: the orderer answered BAD_REQUEST")
}

func TestDialChecksTheOrderersCertificate(t *testing.T) {
	w := newOrdering(t)
	_, err := Dial(w.o.Addr, filepath.Join(t.TempDir(), "none.pem"), channeltest.ServerName, tls.Certificate{}, "circular", w.admin)
	assert.ErrorIs(t, err, os.ErrNotExist)
	empty := filepath.Join(t.TempDir(), "empty.pem")
	require.NoError(t, os.WriteFile(empty, []byte("no certificate here"), 0o644))
	_, err = Dial(w.o.Addr, empty, channeltest.ServerName, tls.Certificate{}, "circular", w.admin)
	assert.EqualError(t, err, empty+" holds no certificate")

	// An orderer whose certificate does not name the expected server is
	// never asked anything.
	impostor, err := Dial(w.o.Addr, w.o.RootFile, "orderer2.test", tls.Certificate{}, "circular", w.admin)
	require.NoError(t, err)
	defer impostor.Close()
	_, err = impostor.Config(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deliver: ")
	assert.Empty(t, w.o.Seeks())
	assert.Error(t, impostor.Submit(context.Background(), &cb.Envelope{}))
	assert.Empty(t, w.o.Received())
}

func TestSubmitAndWaitConfig(t *testing.T) {
	w := newOrdering(t)
	kaunas, kaunasAdmin := loadOrg(t, "KaunasMSP", 25604)
	// The orderer orders a successful update as config block 4.
	w.o.OnBroadcast(func(*cb.Envelope) { w.o.AddBlock(channelWith(t, kaunas)) })
	u, err := Compute(w.cfg2, "circular", func(c *configtx.ConfigTx) error { return c.Application().SetOrganization(kaunas) })
	require.NoError(t, err)
	require.NoError(t, u.Sign(w.admin))
	env, err := u.Envelope(w.admin)
	require.NoError(t, err)

	require.NoError(t, w.conn.Submit(context.Background(), env))
	require.Len(t, w.o.Received(), 1)
	assert.True(t, proto.Equal(env, w.o.Received()[0]), "the envelope arrives as sent")
	cfg, err := w.conn.WaitConfig(context.Background(), 2)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), cfg.Block)
	assert.True(t, IsMember(cfg.Config, "KaunasMSP"))

	// A refusal comes back with the orderer's status and reason.
	w.o.Answer(&ab.BroadcastResponse{Status: cb.Status_FORBIDDEN, Info: "implicit policy evaluation failed"})
	err = w.conn.Submit(context.Background(), env)
	var re *RefusedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, cb.Status_FORBIDDEN, re.Status)
	assert.EqualError(t, err, "the orderer refused the update (FORBIDDEN): implicit policy evaluation failed")
	assert.Equal(t, 5, w.o.Blocks(), "nothing was ordered")

	// An envelope signed by someone else than its header says is refused
	// before any policy.
	w.o.Answer(nil)
	forged, err := u.Envelope(kaunasAdmin)
	require.NoError(t, err)
	forged.Signature = env.Signature
	err = w.conn.Submit(context.Background(), forged)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, cb.Status_BAD_REQUEST, re.Status)
	assert.Contains(t, re.Info, "bad envelope signature")

	// No newer configuration: WaitConfig gives up when its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err = w.conn.WaitConfig(ctx, 4)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "the channel configuration is still that of block 4")
}
