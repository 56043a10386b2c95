package member

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel"
)

// UpdateFormat names the update file's format and version.
const UpdateFormat = "mtrace-update/1"

// Update kinds.
const (
	AddMember    = "add-member"
	RemoveMember = "remove-member"
)

// An UpdateFile is a proposed channel configuration update, as the admins
// mail it to each other to sign: the marshalled ConfigUpdate, its
// SHA-256 (which every signature names), what it changes, and the config
// block it was computed from.
type UpdateFile struct {
	Format  string `json:"format"`
	Channel string `json:"channel"`
	// Kind and Member say what the proposer meant: add-member or
	// remove-member, and the organisation's MSP ID.
	Kind   string `json:"kind"`
	Member string `json:"member"`
	// BaseBlock is the number of the config block the update was computed
	// from; the update applies to that configuration only.
	BaseBlock uint64 `json:"base_config_block"`
	// Result is what the channel looks like after the update, read from
	// the update itself: a signer reads it before signing.
	Result Result `json:"result"`
	SHA256 string `json:"config_update_sha256"`
	// ConfigUpdate is the marshalled common.ConfigUpdate (base64 in the
	// JSON file).
	ConfigUpdate []byte `json:"config_update"`
}

// Result is the part of the channel an update sets: the application
// members and the consenters after it. A list the update does not set is
// empty.
type Result struct {
	Members    []string        `json:"members,omitempty"`
	Consenters []ConsenterInfo `json:"consenters,omitempty"`
}

// ConsenterInfo is one consenter as a person compares it with a card.
type ConsenterInfo struct {
	ID       uint32 `json:"id"`
	MSPID    string `json:"msp_id"`
	Endpoint string `json:"endpoint"`
	// Identity is the SHA-256 of the orderer's enrolment certificate (PEM
	// bytes), as `inspect` prints it for a card.
	Identity string `json:"identity_sha256"`
}

func consenterInfo(c *cb.Consenter) ConsenterInfo {
	sum := sha256.Sum256(c.Identity)
	return ConsenterInfo{ID: c.Id, MSPID: c.MspId, Endpoint: fmt.Sprintf("%s:%d", c.Host, c.Port), Identity: hex.EncodeToString(sum[:])}
}

// Fingerprint is the SHA-256 of a PEM certificate's bytes, as the result
// of an update and inspect print a consenter's identity.
func Fingerprint(pem string) string {
	sum := sha256.Sum256([]byte(pem))
	return hex.EncodeToString(sum[:])
}

// resultOf reads the result from a ConfigUpdate's write set.
func resultOf(u *cb.ConfigUpdate) (Result, error) {
	var r Result
	ws := u.GetWriteSet()
	if app := ws.GetGroups()[configtx.ApplicationGroupKey]; app != nil && len(app.Groups) > 0 {
		for k := range app.Groups {
			r.Members = append(r.Members, k)
		}
		slices.Sort(r.Members)
	}
	if og := ws.GetGroups()[configtx.OrdererGroupKey]; og != nil && og.Values[orderersKey] != nil {
		var o cb.Orderers
		if err := proto.Unmarshal(og.Values[orderersKey].Value, &o); err != nil {
			return r, fmt.Errorf("Orderer/Orderers: %w", err)
		}
		for _, c := range o.ConsenterMapping {
			r.Consenters = append(r.Consenters, consenterInfo(c))
		}
	}
	return r, nil
}

// newUpdate computes the update from cfg to edit's result.
func newUpdate(cfg *cb.Config, channelID string, base uint64, kind, member string, edit func(*configtx.ConfigTx) error) (*UpdateFile, error) {
	u, err := channel.Compute(cfg, channelID, edit)
	if err != nil {
		return nil, err
	}
	var cu cb.ConfigUpdate
	if err := proto.Unmarshal(u.Marshaled, &cu); err != nil {
		return nil, err
	}
	r, err := resultOf(&cu)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(u.Marshaled)
	return &UpdateFile{Format: UpdateFormat, Channel: channelID, Kind: kind, Member: member, BaseBlock: base,
		Result: r, SHA256: hex.EncodeToString(sum[:]), ConfigUpdate: u.Marshaled}, nil
}

// NewAddMember proposes adding the card's organisation to the channel
// whose configuration in force is cfg (from config block base): to the
// Application group with its anchor peer, to the Orderer group with its
// orderer's endpoint, and its orderer to the consenters, the
// BlockValidation policy changed with them.
func NewAddMember(cfg *cb.Config, channelID string, base uint64, card *Card) (*UpdateFile, error) {
	if channel.IsMember(cfg, card.MSPID) {
		return nil, fmt.Errorf("%s is already a member of the channel", card.MSPID)
	}
	cs, err := channel.Consenters(cfg)
	if err != nil {
		return nil, err
	}
	var next uint32
	for _, c := range cs {
		if c.MspId == card.MSPID {
			return nil, fmt.Errorf("%s already runs consenter %d", card.MSPID, c.Id)
		}
		if fmt.Sprintf("%s:%d", c.Host, c.Port) == card.Orderer.String() {
			return nil, fmt.Errorf("consenter %d (%s) already listens at %s", c.Id, c.MspId, card.Orderer)
		}
		next = max(next, c.Id)
	}
	m, err := card.MSP()
	if err != nil {
		return nil, err
	}
	return newUpdate(cfg, channelID, base, AddMember, card.MSPID, func(c *configtx.ConfigTx) error {
		if err := c.Application().SetOrganization(channel.MemberOrg(m, card.Peer.Host, card.Peer.Port)); err != nil {
			return err
		}
		if err := c.Orderer().SetOrganization(channel.OrdererOrg(m, card.Orderer.String())); err != nil {
			return err
		}
		og := c.UpdatedConfig().ChannelGroup.Groups[configtx.OrdererGroupKey]
		return channel.SetConsenters(og, append(slices.Clone(cs), consenter(card, next+1)))
	})
}

// NewRemoveMember proposes removing an organisation from the channel:
// from the Application and Orderer groups, and its orderer from the
// consenters (BlockValidation with them).
func NewRemoveMember(cfg *cb.Config, channelID string, base uint64, mspID string) (*UpdateFile, error) {
	if !channel.IsMember(cfg, mspID) {
		return nil, fmt.Errorf("%s is not a member of the channel", mspID)
	}
	cs, err := channel.Consenters(cfg)
	if err != nil {
		return nil, err
	}
	left := slices.DeleteFunc(slices.Clone(cs), func(c *cb.Consenter) bool { return c.MspId == mspID })
	if len(left) == 0 {
		return nil, fmt.Errorf("%s runs the channel's last consenter", mspID)
	}
	return newUpdate(cfg, channelID, base, RemoveMember, mspID, func(c *configtx.ConfigTx) error {
		c.Application().RemoveOrganization(mspID)
		c.Orderer().RemoveOrganization(mspID)
		og := c.UpdatedConfig().ChannelGroup.Groups[configtx.OrdererGroupKey]
		return channel.SetConsenters(og, left)
	})
}

// WriteUpdate writes an update file.
func WriteUpdate(path string, u *UpdateFile) error {
	raw, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(raw, '\n'), 0o644)
}

// ReadUpdate reads an update file and checks that it is whole: its hash
// is its update's, and what it says the update does is what the update
// does. A file changed on the way fails here, naming the file.
func ReadUpdate(path string) (*UpdateFile, *cb.ConfigUpdate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	u, cu, err := parseUpdate(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return u, cu, nil
}

func parseUpdate(raw []byte) (*UpdateFile, *cb.ConfigUpdate, error) {
	if HoldsPrivateKey(raw) {
		return nil, nil, ErrPrivateKey
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var u UpdateFile
	if err := dec.Decode(&u); err != nil {
		return nil, nil, fmt.Errorf("not an update file: %w", err)
	}
	if u.Format != UpdateFormat {
		return nil, nil, fmt.Errorf("format %q: expected %q", u.Format, UpdateFormat)
	}
	if HoldsPrivateKey(u.ConfigUpdate) {
		return nil, nil, fmt.Errorf("config_update: %w", ErrPrivateKey)
	}
	sum := sha256.Sum256(u.ConfigUpdate)
	if hex.EncodeToString(sum[:]) != u.SHA256 {
		return nil, nil, fmt.Errorf("the update does not match its hash (%s): the file was changed after it was made", short(u.SHA256))
	}
	var cu cb.ConfigUpdate
	if err := proto.Unmarshal(u.ConfigUpdate, &cu); err != nil {
		return nil, nil, fmt.Errorf("config_update: %w", err)
	}
	if cu.ChannelId != u.Channel {
		return nil, nil, fmt.Errorf("the update is for channel %q, the file says %q", cu.ChannelId, u.Channel)
	}
	r, err := resultOf(&cu)
	if err != nil {
		return nil, nil, err
	}
	if !resultEqual(r, u.Result) {
		return nil, nil, errors.New("the file's result does not match what its update sets: the file was changed after it was made")
	}
	if err := u.kindMatches(r); err != nil {
		return nil, nil, err
	}
	return &u, &cu, nil
}

func resultEqual(a, b Result) bool {
	return slices.Equal(a.Members, b.Members) && slices.Equal(a.Consenters, b.Consenters)
}

// kindMatches checks that the update does what its kind says for its
// member.
func (u *UpdateFile) kindMatches(r Result) error {
	in := slices.Contains(r.Members, u.Member)
	cons := slices.ContainsFunc(r.Consenters, func(c ConsenterInfo) bool { return c.MSPID == u.Member })
	switch u.Kind {
	case AddMember:
		if !in || !cons {
			return fmt.Errorf("an add-member update for %s that does not make it a member and a consenter", u.Member)
		}
	case RemoveMember:
		if in || cons || r.Members == nil {
			return fmt.Errorf("a remove-member update for %s that does not remove it", u.Member)
		}
	default:
		return fmt.Errorf("kind %q: expected %s or %s", u.Kind, AddMember, RemoveMember)
	}
	return nil
}

// Applied reports whether cfg already has the update's result for its
// member: for add-member, the member and its consenter are there; for
// remove-member, neither is.
func (u *UpdateFile) Applied(cfg *cb.Config) (bool, error) {
	cs, err := channel.Consenters(cfg)
	if err != nil {
		return false, err
	}
	member := channel.IsMember(cfg, u.Member)
	cons := slices.ContainsFunc(cs, func(c *cb.Consenter) bool { return c.MspId == u.Member })
	if u.Kind == AddMember {
		return member && cons, nil
	}
	return !member && !cons, nil
}

// Describe is the update in a few lines, for a signer to read.
func (u *UpdateFile) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "update %s to channel %s: %s %s (computed from config block %d)\n", short(u.SHA256), u.Channel, u.Kind, u.Member, u.BaseBlock)
	fmt.Fprintf(&b, "members after: %s\n", strings.Join(u.Result.Members, ", "))
	for _, c := range u.Result.Consenters {
		fmt.Fprintf(&b, "consenter %d: %s at %s, identity sha256 %s\n", c.ID, c.MSPID, c.Endpoint, c.Identity)
	}
	return b.String()
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
