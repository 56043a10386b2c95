package epcis

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGS1Examples validates every example document of GS1's repository
// (testdata/gs1-examples/SOURCE.md): the validator must accept what GS1's
// own validation accepts.
func TestGS1Examples(t *testing.T) {
	var files []string
	err := filepath.WalkDir("testdata/gs1-examples", func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".jsonld") {
			files = append(files, p)
		}
		return err
	})
	require.NoError(t, err)
	require.Len(t, files, 47)
	for _, p := range files {
		t.Run(strings.TrimPrefix(p, "testdata/gs1-examples/"), func(t *testing.T) {
			f, err := os.Open(p)
			require.NoError(t, err)
			defer f.Close()
			if err := Validate(f); err != nil {
				var ve *ValidationError
				if errors.As(err, &ve) {
					t.Fatalf("%v\n%s", err, ve.Detail())
				}
				t.Fatal(err)
			}
		})
	}
}

// TestValidateRefuses checks that the validator is not a rubber stamp:
// each document breaks one rule of the schema that mtrace relies on.
func TestValidateRefuses(t *testing.T) {
	valid := `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
	"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-20T09:30:00Z",
	"epcisBody":{"eventList":[{"type":"ObjectEvent","eventTime":"2026-11-20T09:30:00+03:00",
	"eventTimeZoneOffset":"+03:00","action":"ADD","bizStep":"collecting",
	"quantityList":[{"epcClass":"urn:mtrace:id:batch/PET-1","quantity":1250,"uom":"KGM"}],
	"readPoint":{"id":"urn:mtrace:id:place/Kad%C4%B1k%C3%B6y"}}]}}`
	require.NoError(t, Validate(strings.NewReader(valid)))
	tests := []struct{ name, from, to, want string }{
		{"plain text read point", `"readPoint":{"id":"urn:mtrace:id:place/Kad%C4%B1k%C3%B6y"}`, `"readPoint":"Kadıköy, Istanbul"`, "/epcisBody/eventList/0/readPoint"},
		{"space in a URI", `place/Kad%C4%B1k%C3%B6y`, `place/Kadıköy Istanbul`, "/epcisBody/eventList/0/readPoint/id"},
		{"XML bizStep", `"bizStep":"collecting"`, `"bizStep":"urn:epcglobal:cbv:bizstep:collecting"`, "/epcisBody/eventList/0/bizStep"},
		{"bare extension key", `"action":"ADD"`, `"action":"ADD","fabricTx":"abc"`, "fabricTx"},
		{"extra key in a quantity", `"uom":"KGM"`, `"uom":"KGM","grams":1250000`, "/epcisBody/eventList/0/quantityList/0"},
		{"bad unit", `"uom":"KGM"`, `"uom":"kilogram"`, "/epcisBody/eventList/0/quantityList/0/uom"},
		{"no time-zone offset", `"eventTimeZoneOffset":"+03:00",`, ``, "eventTimeZoneOffset"},
		{"string quantity", `"quantity":1250`, `"quantity":"1250"`, "/epcisBody/eventList/0/quantityList/0/quantity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(valid, tt.from, tt.to, 1)
			require.NotEqual(t, valid, doc)
			err := Validate(strings.NewReader(doc))
			require.Error(t, err)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Contains(t, err.Error()+ve.Detail(), tt.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
	assert.ErrorContains(t, Validate(strings.NewReader(`{"type":`)), "not JSON")
}

func TestCheckURI(t *testing.T) {
	for _, ok := range []string{"urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "https://id.example.org/a/b?c=d#e", "ni:///sha-256;abc-_", "mt:extrusion", "urn:x:K%C4%B1"} {
		assert.NoError(t, CheckURI(ok), ok)
	}
	for _, bad := range []string{"", "no-scheme", ":x", "1ab:x", "urn:a b", "urn:Kadıköy", "urn:50%", "urn:%zz", "urn:a\"b"} {
		assert.Error(t, CheckURI(bad), bad)
	}
}
