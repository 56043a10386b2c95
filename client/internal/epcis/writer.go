package epcis

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// Master data types and attributes (CBV 2.0).
const (
	VTypeBusinessLocation = "urn:epcglobal:epcis:vtype:BusinessLocation"
	AttrName              = "urn:epcglobal:cbv:mda#name"
)

// Writer streams one EPCISDocument: the events as they come, then the
// header with the master data of every place the events named. JSON
// objects are unordered, so the header may follow the body; only the
// place names stay in memory, not the events.
type Writer struct {
	w      *bufio.Writer
	n      int
	places map[string]string
	err    error
}

// NewWriter starts a document created at the given time.
func NewWriter(w io.Writer, created time.Time) *Writer {
	x := &Writer{w: bufio.NewWriterSize(w, 64<<10), places: map[string]string{}}
	ctx, _ := json.Marshal([]any{ContextURL, map[string]string{Prefix: Vocab}})
	x.printf(`{"@context":%s,"type":"EPCISDocument","schemaVersion":"2.0","creationDate":%q,"epcisBody":{"eventList":[`,
		ctx, created.UTC().Format(time.RFC3339Nano))
	return x
}

func (x *Writer) printf(format string, args ...any) {
	if x.err == nil {
		_, x.err = fmt.Fprintf(x.w, format, args...)
	}
}

// Write adds one event.
func (x *Writer) Write(e *Event) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return fmt.Errorf("encode event %s: %w", e.EventID, err)
	}
	if x.n > 0 {
		x.printf(",")
	}
	x.printf("\n%s", bytes.TrimRight(buf.Bytes(), "\n"))
	x.n++
	for uri, name := range e.places {
		x.places[uri] = name
	}
	return x.err
}

// Count is the number of events written.
func (x *Writer) Count() int { return x.n }

// Close writes the header and ends the document.
func (x *Writer) Close() error {
	x.printf("\n]}")
	if len(x.places) > 0 {
		uris := make([]string, 0, len(x.places))
		for u := range x.places {
			uris = append(uris, u)
		}
		slices.Sort(uris)
		els := make([]VocabularyElement, len(uris))
		for i, u := range uris {
			els[i] = VocabularyElement{ID: u, Attributes: []Attribute{{ID: AttrName, Attribute: x.places[u]}}}
		}
		h := Header{MasterData: &MasterData{VocabularyList: []Vocabulary{{Type: VTypeBusinessLocation, Elements: els}}}}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(h); err != nil {
			return err
		}
		x.printf(`,"epcisHeader":%s`, bytes.TrimRight(buf.Bytes(), "\n"))
	}
	x.printf("}\n")
	if x.err != nil {
		return x.err
	}
	return x.w.Flush()
}

// Header is an EPCIS header with master data.
type Header struct {
	MasterData *MasterData `json:"epcisMasterData,omitempty"`
}

// MasterData lists vocabularies.
type MasterData struct {
	VocabularyList []Vocabulary `json:"vocabularyList"`
}

// Vocabulary is the master data of one vocabulary type.
type Vocabulary struct {
	Type     string              `json:"type"`
	Elements []VocabularyElement `json:"vocabularyElementList"`
}

// VocabularyElement is one identifier's master data.
type VocabularyElement struct {
	ID         string      `json:"id"`
	Attributes []Attribute `json:"attributes,omitempty"`
}

// Attribute is one master data attribute.
type Attribute struct {
	ID        string `json:"id"`
	Attribute any    `json:"attribute"`
}
