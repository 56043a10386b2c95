package epcis

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// schemaJSON is GS1's EPCIS 2.0 JSON schema; gs1/SOURCE.md names its source.
//
//go:embed gs1/EPCIS-JSON-Schema.json
var schemaJSON string

// SchemaSource says where the embedded schema comes from.
const SchemaSource = "GS1 EPCIS 2.0 JSON schema (github.com/gs1/EPCIS, commit 2b888befbc071e1c2d388e027b30149b3f51dcef)"

const schemaURL = "https://ref.gs1.org/standards/epcis/epcis-json-schema.json"

// compiled is the schema, compiled once.
var compiled = sync.OnceValues(compileSchema)

func compileSchema() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("epcis schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	// GS1's patterns use negative lookahead, which Go's regexp lacks.
	c.UseRegexpEngine(ecmaRegexp)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "uri", Validate: checkURIFormat})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("epcis schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("epcis schema: %w", err)
	}
	return s, nil
}

// ecmaRegexp compiles a schema pattern with ECMAScript semantics, as JSON
// Schema specifies.
func ecmaRegexp(s string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return ecma{re}, nil
}

type ecma struct{ re *regexp2.Regexp }

func (e ecma) MatchString(s string) bool {
	ok, err := e.re.MatchString(s)
	return err == nil && ok
}

func (e ecma) String() string { return e.re.String() }

// checkURIFormat is the schema's "uri" format: an absolute URI of RFC 3986
// characters only. It refuses spaces and raw non-ASCII characters, which
// net/url accepts but GS1's own validation (ajv-formats) does not.
func checkURIFormat(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	return CheckURI(s)
}

// CheckURI reports whether s is an absolute URI: a scheme, a colon, and
// only RFC 3986 characters, with every % starting a percent-encoding.
func CheckURI(s string) error {
	colon := strings.IndexByte(s, ':')
	if colon < 1 {
		return errors.New("not an absolute URI: no scheme")
	}
	for i := 0; i < colon; i++ {
		c := s[i]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return fmt.Errorf("not an absolute URI: bad scheme %q", s[:colon])
		}
	}
	for i := colon + 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return fmt.Errorf("not a URI: %% not followed by two hex digits at byte %d", i)
			}
			i += 2
		default:
			return fmt.Errorf("not a URI: character %q at byte %d must be percent-encoded", c, i)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// ValidationError is a document that GS1's schema refuses. Error gives the
// first failures on one line; Detail the library's full tree.
type ValidationError struct {
	err *jsonschema.ValidationError
}

func (e *ValidationError) Error() string {
	var leaves []string
	collectLeaves(e.err, &leaves)
	const max = 3
	more := ""
	if len(leaves) > max {
		more = fmt.Sprintf(" (and %d more)", len(leaves)-max)
		leaves = leaves[:max]
	}
	return "not valid against GS1's EPCIS 2.0 schema: " + strings.Join(leaves, "; ") + more
}

// Detail is the library's readable tree of every failure.
func (e *ValidationError) Detail() string { return fmt.Sprintf("%v", e.err) }

var english = message.NewPrinter(language.English)

// collectLeaves lists the innermost failures, each as "at PATH: message",
// skipping the generic allOf/anyOf wrappers above them.
func collectLeaves(e *jsonschema.ValidationError, out *[]string) {
	if len(e.Causes) == 0 {
		loc := "/" + strings.Join(e.InstanceLocation, "/")
		msg := e.ErrorKind.LocalizedString(english)
		*out = append(*out, "at "+loc+": "+msg)
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out)
	}
}

// ValidateValue checks a decoded JSON value (as jsonschema.UnmarshalJSON
// or json.Decoder with UseNumber gives it) against GS1's schema.
func ValidateValue(v any) error {
	s, err := compiled()
	if err != nil {
		return err
	}
	if err := s.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return &ValidationError{err: ve}
		}
		return err
	}
	return nil
}

// Validate reads one JSON document from r and checks it against GS1's
// schema.
func Validate(r io.Reader) error {
	v, err := jsonschema.UnmarshalJSON(r)
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return ValidateValue(v)
}

// Checked is the verdict on one document of a file or stream.
type Checked struct {
	// Index counts the documents of the stream from 1.
	Index  int    `json:"document"`
	Type   string `json:"type,omitempty"`
	Events int    `json:"events"`
	Valid  bool   `json:"valid"`
	Error  string `json:"error,omitempty"`
}

// ValidateStream checks each JSON document of r (one, or several one after
// another) against GS1's schema. It stops at the first text that is not
// JSON, since nothing after it can be read.
func ValidateStream(r io.Reader) ([]Checked, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var out []Checked
	for i := 1; ; i++ {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			if len(out) == 0 {
				return nil, errors.New("no JSON document")
			}
			return out, nil
		} else if err != nil {
			return out, fmt.Errorf("document %d: not JSON: %w", i, err)
		}
		c := Checked{Index: i, Events: countEvents(v)}
		if m, ok := v.(map[string]any); ok {
			c.Type, _ = m["type"].(string)
		}
		if err := ValidateValue(v); err != nil {
			c.Error = err.Error()
		} else {
			c.Valid = true
		}
		out = append(out, c)
	}
}

func countEvents(v any) int {
	m, _ := v.(map[string]any)
	body, _ := m["epcisBody"].(map[string]any)
	list, _ := body["eventList"].([]any)
	if list == nil {
		if qr, ok := body["queryResults"].(map[string]any); ok {
			rb, _ := qr["resultsBody"].(map[string]any)
			list, _ = rb["eventList"].([]any)
		}
	}
	return len(list)
}
