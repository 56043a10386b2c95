package contract

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAritiesMatchTheMethods(t *testing.T) {
	a := arities(&Contract{})
	assert.Equal(t, 1, a["RegisterBatch"])
	assert.Equal(t, 2, a["OfferTransfer"])
	assert.Equal(t, 4, a["AttachDocument"])
	assert.Equal(t, 0, a["GetRegistry"])
	assert.NotContains(t, a, "GetName", "contract-api's own methods are not transactions")
}

func TestSurplusAndMissingArgumentsRefused(t *testing.T) {
	w := newWorld(t)
	w.register("C1", kg(100))
	w.fail(w.mun, "OfferTransfer takes 2 arguments, got 3", "OfferTransfer", "C1", "RecyclerMSP", "MakerMSP")
	w.fail(w.mun, "OfferTransfer takes 2 arguments, got 1", "OfferTransfer", "C1")
	w.fail(w.mun, "RegisterBatch takes 1 argument, got 2", "RegisterBatch", regReq("C2", kg(1)), "extra")
	w.queryFail(w.aud, "GetRegistry takes 0 arguments, got 1", "GetRegistry", "extra")
	w.queryFail(w.aud, "ReadBatch takes 1 argument, got 2", "mtrace:ReadBatch", "C1", "C1")
}

func TestEmptyNumberRefused(t *testing.T) {
	w := newWorld(t)
	w.register("C1", kg(100))
	w.ok(w.mun, nil, "OfferTransfer", "C1", "RecyclerMSP")
	w.fail(w.rec, "must be a whole number, got an empty string", "AcceptTransfer", "C1", "")
}

func TestArgumentErrorsStayShortAndOnOneLine(t *testing.T) {
	w := newWorld(t)
	huge := `{"id":"` + strings.Repeat("x", 1<<20)
	for _, arg := range []string{
		huge, // not JSON at all, and a megabyte of it
		`{"step":"sorting","inputs":null,"outputs":null}`, // schema errors come over several lines
		`"just a string"`,
	} {
		r := w.invoke(w.rec, "Process", arg)
		require.NotEqual(t, int32(200), r.Status)
		assert.NotContains(t, r.Message, "\n", "one line: %q", r.Message)
		assert.Less(t, len(r.Message), 600, "short: %.200q", r.Message)
		assert.NotEmpty(t, r.Message)
	}
}

func TestOneLine(t *testing.T) {
	assert.Equal(t, "a b c", oneLine("a\n  b\tc"))
	long := strings.Repeat("é", 400) // two bytes a rune
	got := oneLine(long)
	assert.True(t, strings.HasSuffix(got, "... (800 bytes in all)"), got)
	assert.True(t, strings.HasPrefix(got, strings.Repeat("é", 150)))
}
