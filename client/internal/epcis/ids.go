package epcis

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"github.com/mtrace/mtrace/chaincode/model"
	"net/url"
	"strings"
)

// Vocab is the namespace of mtrace's own EPCIS terms. Documents declare it
// as the prefix mt in their @context, so that a non-standard key such as
// mt:fabricTx expands to urn:mtrace:vocab:fabricTx.
const (
	Vocab  = "urn:mtrace:vocab:"
	Prefix = "mt"
)

// ContextURL is the JSON-LD context of EPCIS 2.0.
const ContextURL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// DefaultBase is the identifier base when the consortium sets none.
const DefaultBase = "urn:mtrace:id:"

// EnvBase names the environment variable that sets the base.
const EnvBase = "MTRACE_EPCIS_BASE"

// Base is the absolute URI under which a consortium names its batches,
// organisations, places and processes: <base>batch/<id>, <base>org/<msp>,
// <base>place/<percent-encoded name>, <base>process/<tx>. It ends in "/"
// or ":".
type Base string

// ParseBase checks a base URI.
func ParseBase(s string) (Base, error) {
	if err := CheckURI(s); err != nil {
		return "", fmt.Errorf("identifier base %q: %w", s, err)
	}
	if !strings.HasSuffix(s, "/") && !strings.HasSuffix(s, ":") {
		return "", fmt.Errorf("identifier base %q: must end in / or :", s)
	}
	return Base(s), nil
}

// Batch is the URI of a batch (an EPC class: a lot of material).
func (b Base) Batch(id string) string { return string(b) + "batch/" + escape(id) }

// Org is the URI of a member organisation, by MSP ID.
func (b Base) Org(msp string) string { return string(b) + "org/" + escape(msp) }

// Place is the URI of a place named by free text.
func (b Base) Place(name string) string { return string(b) + "place/" + escape(name) }

// Process is the transformationID of the process transaction tx.
func (b Base) Process(tx string) string { return string(b) + "process/" + escape(tx) }

// Declaration is the URI of a batch declaration, an event's
// certificationInfo.
func (b Base) Declaration(id string) string { return string(b) + "declaration/" + escape(id) }

// Supplier is the URI of a supplier outside the consortium, by name.
func (b Base) Supplier(name string) string { return string(b) + "supplier/" + escape(name) }

// Site is a site's GLN as a GS1 Digital Link URI (application
// identifier 414), an event's business location. The GS1 company
// prefix's length is not known here, so the GLN cannot be written as an
// SGLN URN.
func Site(gln string) string { return siteURI + gln }

const siteURI = "https://id.gs1.org/414/"

// SiteOf is the GLN of a site URI written by Site; ok is false for any
// other URI.
func SiteOf(uri string) (gln string, ok bool) {
	gln, ok = strings.CutPrefix(uri, siteURI)
	return gln, ok && model.CheckGLN("site", gln) == nil
}

// BatchID is the batch id a URI names: the id under this base, or else the
// URI itself (a foreign class id such as urn:epc:class:lgtin:...).
func (b Base) BatchID(uri string) string { return b.local("batch/", uri) }

// MSP is the MSP ID an organisation URI names under this base, or the URI
// itself.
func (b Base) MSP(uri string) string { return b.local("org/", uri) }

// PlaceName is the text a place URI names under this base, or the URI
// itself.
func (b Base) PlaceName(uri string) string { return b.local("place/", uri) }

func (b Base) local(kind, uri string) string {
	rest, ok := strings.CutPrefix(uri, string(b)+kind)
	if !ok {
		return uri
	}
	s, err := url.PathUnescape(rest)
	if err != nil {
		return uri
	}
	return s
}

// escape percent-encodes every byte but the unreserved characters of
// RFC 3986, so that any text becomes one URI segment and comes back whole.
func escape(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			sb.WriteByte(c)
			continue
		}
		fmt.Fprintf(&sb, "%%%02X", c)
	}
	return sb.String()
}

// eventNamespace is the name-based UUID namespace of mtrace's event IDs:
// the RFC 9562 URL namespace applied to Vocab+"event".
var eventNamespace = uuid5(mustUUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8"), Vocab+"event")

// EventID is the stable ID of the event that transaction tx wrote for a
// batch (for a transformation, batch is ""): a name-based (version 5) UUID
// of the two, so the same ledger always exports the same IDs.
func EventID(tx, batch string) string {
	u := uuid5(eventNamespace, tx+"/"+batch)
	return "urn:uuid:" + formatUUID(u)
}

func uuid5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

func mustUUID(s string) [16]byte {
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 {
		panic("epcis: bad UUID " + s)
	}
	var u [16]byte
	copy(u[:], raw)
	return u
}

func formatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ResolveBase picks the identifier base: the flag, then $MTRACE_EPCIS_BASE,
// then DefaultBase.
func ResolveBase(flag string, getenv func(string) string) (Base, error) {
	s := flag
	if s == "" {
		s = getenv(EnvBase)
	}
	if s == "" {
		s = DefaultBase
	}
	return ParseBase(s)
}
