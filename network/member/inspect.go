package member

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ob "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	pb "github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/configblock"
)

// ChannelSummary is what a config block says about the channel, for a
// member to compare with the cards it holds before it joins.
type ChannelSummary struct {
	Channel    string          `json:"channel"`
	Block      uint64          `json:"block"`
	Hash       string          `json:"block_hash"` // SHA-256 of the block header
	Consensus  string          `json:"consensus"`
	Members    []MemberInfo    `json:"members"`
	Consenters []ConsenterInfo `json:"consenters"`
	// Quorum is how many consenters' signatures BlockValidation asks.
	Quorum int `json:"block_validation_quorum"`
}

// MemberInfo is one organisation of the channel: the fingerprints of its
// root certificates and its endpoints.
type MemberInfo struct {
	MSPID     string   `json:"msp_id"`
	Roots     []string `json:"root_cert_sha256"`
	TLSRoots  []string `json:"tls_root_cert_sha256"`
	Anchors   []string `json:"anchor_peers,omitempty"`
	Orderers  []string `json:"orderer_endpoints,omitempty"`
	InOrderer bool     `json:"in_orderer_group"`
}

// InspectBlock summarises a config block.
func InspectBlock(b *cb.Block) (*ChannelSummary, error) {
	cfg, err := configblock.Config(b)
	if err != nil {
		return nil, err
	}
	name, err := blockChannel(b)
	if err != nil {
		return nil, err
	}
	s := &ChannelSummary{Channel: name, Block: b.GetHeader().GetNumber(), Hash: hex.EncodeToString(configblock.HeaderHash(b.Header))}
	og := cfg.ChannelGroup.Groups[configtx.OrdererGroupKey]
	var ct ob.ConsensusType
	if v := og.GetValues()[consensusTypeKey]; v != nil {
		if err := proto.Unmarshal(v.Value, &ct); err != nil {
			return nil, err
		}
	}
	s.Consensus = ct.Type
	cs, err := channel.Consenters(cfg)
	if err == nil {
		for _, c := range cs {
			s.Consenters = append(s.Consenters, consenterInfo(c))
		}
	}
	if p := og.GetPolicies()[blockValidationKey]; p != nil && p.Policy.GetType() == int32(cb.Policy_SIGNATURE) {
		var env cb.SignaturePolicyEnvelope
		if proto.Unmarshal(p.Policy.Value, &env) == nil {
			s.Quorum = int(env.GetRule().GetNOutOf().GetN())
		}
	}
	byMSP := map[string]*MemberInfo{}
	for _, g := range []string{configtx.ApplicationGroupKey, configtx.OrdererGroupKey} {
		for name, org := range cfg.ChannelGroup.Groups[g].GetGroups() {
			m := byMSP[name]
			if m == nil {
				m = &MemberInfo{MSPID: name}
				byMSP[name] = m
				var mc mb.MSPConfig
				var fc mb.FabricMSPConfig
				if v := org.Values["MSP"]; v != nil && proto.Unmarshal(v.Value, &mc) == nil && proto.Unmarshal(mc.Config, &fc) == nil {
					m.MSPID = fc.Name
					for _, r := range fc.RootCerts {
						m.Roots = append(m.Roots, sha(r))
					}
					for _, r := range fc.TlsRootCerts {
						m.TLSRoots = append(m.TLSRoots, sha(r))
					}
				}
			}
			if g == configtx.OrdererGroupKey {
				m.InOrderer = true
				var ep cb.OrdererAddresses
				if v := org.Values["Endpoints"]; v != nil && proto.Unmarshal(v.Value, &ep) == nil {
					m.Orderers = ep.Addresses
				}
			} else {
				var ap pb.AnchorPeers
				if v := org.Values["AnchorPeers"]; v != nil && proto.Unmarshal(v.Value, &ap) == nil {
					for _, a := range ap.AnchorPeers {
						m.Anchors = append(m.Anchors, fmt.Sprintf("%s:%d", a.Host, a.Port))
					}
				}
			}
		}
	}
	for _, m := range byMSP {
		s.Members = append(s.Members, *m)
	}
	slices.SortFunc(s.Members, func(a, b MemberInfo) int { return strings.Compare(a.MSPID, b.MSPID) })
	return s, nil
}

func sha(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// CompareCards lists every difference between the channel and the cards
// a member holds: a card's organisation missing, its roots, anchor peer,
// orderer endpoint or consenter identity other than the card's. No
// difference means the block is what the cards describe.
func (s *ChannelSummary) CompareCards(cards []*Card) []string {
	var diffs []string
	for _, c := range cards {
		i := slices.IndexFunc(s.Members, func(m MemberInfo) bool { return m.MSPID == c.MSPID })
		if i < 0 {
			diffs = append(diffs, c.MSPID+": not in the channel")
			continue
		}
		m := s.Members[i]
		if !slices.Equal(m.Roots, []string{Fingerprint(c.RootCert)}) {
			diffs = append(diffs, c.MSPID+": root certificate differs from the card's")
		}
		if !slices.Equal(m.TLSRoots, []string{Fingerprint(c.TLSRootCert)}) {
			diffs = append(diffs, c.MSPID+": TLS root certificate differs from the card's")
		}
		if !slices.Equal(m.Anchors, []string{c.Peer.String()}) {
			diffs = append(diffs, fmt.Sprintf("%s: anchor peers %v, the card says %s", c.MSPID, m.Anchors, c.Peer))
		}
		if !m.InOrderer || !slices.Equal(m.Orderers, []string{c.Orderer.String()}) {
			diffs = append(diffs, fmt.Sprintf("%s: orderer endpoints %v, the card says %s", c.MSPID, m.Orderers, c.Orderer))
		}
		j := slices.IndexFunc(s.Consenters, func(x ConsenterInfo) bool { return x.MSPID == c.MSPID })
		switch {
		case j < 0:
			diffs = append(diffs, c.MSPID+": runs no consenter")
		case s.Consenters[j].Identity != Fingerprint(c.Orderer.Identity) || s.Consenters[j].Endpoint != c.Orderer.String():
			diffs = append(diffs, fmt.Sprintf("%s: consenter %d is %s with identity %s, the card says %s with %s", c.MSPID,
				s.Consenters[j].ID, s.Consenters[j].Endpoint, short(s.Consenters[j].Identity), c.Orderer, short(Fingerprint(c.Orderer.Identity))))
		}
	}
	return diffs
}

// Describe is the summary in a few lines.
func (s *ChannelSummary) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "channel %s, block %d, hash %s, consensus %s\n", s.Channel, s.Block, s.Hash, s.Consensus)
	for _, m := range s.Members {
		fmt.Fprintf(&b, "member %s: anchor %s, orderer %s, root %s, TLS root %s\n", m.MSPID,
			strings.Join(m.Anchors, ","), strings.Join(m.Orderers, ","), shortAll(m.Roots), shortAll(m.TLSRoots))
	}
	for _, c := range s.Consenters {
		fmt.Fprintf(&b, "consenter %d: %s at %s, identity %s\n", c.ID, c.MSPID, c.Endpoint, short(c.Identity))
	}
	fmt.Fprintf(&b, "block validation: %d of %d consenters\n", s.Quorum, len(s.Consenters))
	return b.String()
}

func shortAll(hs []string) string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = short(h)
	}
	return strings.Join(out, ",")
}

// ConfigAt is a channel's configuration, the config block that carries
// it and the channel's name.
type ConfigAt struct {
	Config  *cb.Config
	Block   uint64
	Channel string
}

// BlockChannel is the channel a config block belongs to.
func BlockChannel(b *cb.Block) (string, error) { return blockChannel(b) }
