package verify

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
	"github.com/mtrace/mtrace/client/internal/proof"
	"github.com/mtrace/mtrace/internal/configblock"
)

const data = "../../proof/testdata/"

// recorded returns a Collect that answers as the default one would with
// the recorded proof name (its blocks stripped of the metadata no one
// signed, the validity flags kept) and the genesis hash of its channel,
// and records the batch asked for.
func recorded(t *testing.T, name string, asked *string) func(context.Context, ledger.Ledger, string) (*proof.Proof, string, error) {
	t.Helper()
	raw, err := os.ReadFile(data + name)
	require.NoError(t, err)
	g, err := os.ReadFile(data + "genesis.txt")
	require.NoError(t, err)
	return func(_ context.Context, _ ledger.Ledger, id string) (*proof.Proof, string, error) {
		*asked = id
		p, err := proof.Decode(raw)
		if err != nil {
			return nil, "", err
		}
		return p, strings.TrimSpace(string(g)), p.StripKeepFlags()
	}
}

// channelConfig answers the channel's configuration as the config block
// in force at the head of the recorded proof name holds it.
func channelConfig(t *testing.T, name string) func([]string) ([]byte, error) {
	t.Helper()
	raw, err := os.ReadFile(data + name)
	require.NoError(t, err)
	p, err := proof.Decode(raw)
	require.NoError(t, err)
	var b common.Block
	require.NoError(t, proto.Unmarshal(p.Configs[len(p.Configs)-1], &b))
	cfg, err := configblock.Config(&b)
	require.NoError(t, err)
	out, err := proto.Marshal(cfg)
	require.NoError(t, err)
	return func([]string) ([]byte, error) { return out, nil }
}

func runSigned(t *testing.T, e *cmdtest.Env, collect func(context.Context, ledger.Ledger, string) (*proof.Proof, string, error), args ...string) error {
	t.Helper()
	cmd := NewCmdVerify(e.F, func(o *Options) error {
		o.Collect = collect
		return runVerify(context.Background(), o)
	})
	return e.Run(cmd, args...)
}

func TestVerifySignedHolds(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On(ledgertest.ChannelConfig, channelConfig(t, "holds.proof"))
	var asked string
	err := runSigned(t, e, recorded(t, "holds.proof", &asked), "verify", "IST-KDK-1206013619", "-o", "json")
	var v model.Verdict
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &v), "%v %s", err, e.Out.String())
	require.NoError(t, err, "%+v", v.Checks)
	assert.Equal(t, "IST-KDK-1206013619", asked)
	assert.True(t, v.OK)
	names := map[string]bool{}
	for _, c := range v.Checks {
		names[c.Name] = true
		assert.True(t, c.OK, "%s: %s", c.Name, c.Detail)
	}
	for _, n := range []string{model.CheckCollected, model.CheckNotQuarantined, proof.CheckState, proof.CheckValidity} {
		assert.True(t, names[n], "the verdict has the %s check", n)
	}
	assert.False(t, names[proof.CheckFormat], "the proof's format check is not the batch's")
	require.Len(t, e.Fake.Calls(), 1, "every block read came from the proof")
	assert.Equal(t, ledgertest.ChannelConfig, e.Fake.Calls()[0].Fn)
}

func TestVerifySignedQuarantinedFails(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On(ledgertest.ChannelConfig, channelConfig(t, "quarantined.proof"))
	var asked string
	err := runSigned(t, e, recorded(t, "quarantined.proof", &asked), "verify", "IST-KDK-1206013619")
	require.ErrorIs(t, err, cmdutil.ErrSilent, "a failed verification exits 1 without another message")
	out := e.Out.String()
	assert.Contains(t, out, "Provenance of IST-KDK-1206013619 DOES NOT HOLD")
	var failed []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "FAIL" {
			failed = append(failed, f[1])
		}
	}
	assert.Equal(t, []string{model.CheckNotQuarantined}, failed, "only the quarantine fails:\n%s", out)
}

func TestVerifySignedForgedFlagFails(t *testing.T) {
	// The caller's peer serves a block whose validity flags mark every
	// transaction invalid; the peers' signed answers say otherwise.
	e := cmdtest.New(t)
	e.Fake.On(ledgertest.ChannelConfig, channelConfig(t, "holds.proof"))
	var asked string
	honest := recorded(t, "holds.proof", &asked)
	forged := func(ctx context.Context, l ledger.Ledger, id string) (*proof.Proof, string, error) {
		p, g, err := honest(ctx, l, id)
		if err != nil {
			return nil, "", err
		}
		var b common.Block
		if err := proto.Unmarshal(p.Blocks[0], &b); err != nil {
			return nil, "", err
		}
		flags := b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
		for i := range flags {
			flags[i] = byte(peer.TxValidationCode_MVCC_READ_CONFLICT)
		}
		p.Blocks[0], err = proto.Marshal(&b)
		return p, g, err
	}
	err := runSigned(t, e, forged, "verify", "IST-KDK-1206013619", "-o", "json")
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	var v model.Verdict
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &v))
	assert.False(t, v.OK)
	for _, c := range v.Checks {
		if c.Name == proof.CheckValidity {
			assert.False(t, c.OK, "the forged flag fails the validity check: %s", c.Detail)
			return
		}
	}
	t.Fatalf("no validity check in %+v", v.Checks)
}

func TestVerifySignedErrors(t *testing.T) {
	var asked string
	holds := recorded(t, "holds.proof", &asked)
	for _, c := range []struct {
		name    string
		collect func(context.Context, ledger.Ledger, string) (*proof.Proof, string, error)
		config  bool
		want    string
	}{
		{"no other organisation", func(context.Context, ledger.Ledger, string) (*proof.Proof, string, error) {
			return nil, "", errors.New("no peer of another organisation confirms the records")
		}, true, "no peer of another organisation confirms the records"},
		{"records that do not decode", func(ctx context.Context, l ledger.Ledger, id string) (*proof.Proof, string, error) {
			p, g, err := holds(ctx, l, id)
			if err == nil {
				p.State[0].Payload = []byte("\xff")
			}
			return p, g, err
		}, true, "decode response"},
		{"no channel configuration", holds, false, "signatures check: read channel configuration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := cmdtest.New(t)
			if c.config {
				e.Fake.On(ledgertest.ChannelConfig, channelConfig(t, "holds.proof"))
			}
			err := runSigned(t, e, c.collect, "verify", "IST-KDK-1206013619")
			assert.ErrorContains(t, err, c.want)
			assert.NotErrorIs(t, err, cmdutil.ErrSilent)
			assert.Empty(t, e.Out.String(), "no verdict")
			assert.True(t, e.Fake.Closed)
		})
	}
}

func TestVerifyCollectsAsTheProfile(t *testing.T) {
	// The default Collect loads the profile's identity before it asks
	// any peer: the test profile's certificate is not one.
	e := cmdtest.New(t)
	err := e.Run(NewCmdVerify(e.F, nil), "verify", "CUP-1")
	assert.ErrorContains(t, err, "profile municipality: certificate ")
	assert.Empty(t, e.Fake.Calls())
	assert.True(t, e.Fake.Closed)
}
