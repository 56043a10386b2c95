package contract

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-contract-api-go/v2/metadata"
	"github.com/hyperledger/fabric-contract-api-go/v2/serializer"
)

// contract-api checks that a call has enough arguments, but silently drops
// surplus ones, reads "" as 0 for a number, and echoes a malformed argument
// whole, over several lines, in its error. A caller who sends one argument
// too many has made a mistake we must not guess around, and an error must
// stay one readable line even when the argument is a megabyte. The hooks
// below close those gaps before any transaction code runs.

// maxErrorLen bounds the length of an argument error's message.
const maxErrorLen = 300

// arities maps each transaction of c to its number of arguments, found by
// reflection so that it can never disagree with the methods themselves.
func arities(c any) map[string]int {
	ctxType := reflect.TypeOf((*contractapi.TransactionContextInterface)(nil)).Elem()
	t := reflect.TypeOf(c)
	out := map[string]int{}
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		// In: receiver, transaction context, then the arguments.
		if m.Type.NumIn() >= 2 && m.Type.In(1) == ctxType {
			out[m.Name] = m.Type.NumIn() - 2
		}
	}
	return out
}

// checkArity returns a BeforeTransaction hook that refuses calls with the
// wrong number of arguments, naming the function and both counts.
func checkArity(arity map[string]int) func(contractapi.TransactionContextInterface) error {
	return func(ctx contractapi.TransactionContextInterface) error {
		fn, params := ctx.GetStub().GetFunctionAndParameters()
		fn = fn[strings.LastIndex(fn, ":")+1:]
		want, ok := arity[fn]
		if !ok || len(params) == want {
			return nil // unknown functions are contract-api's to refuse
		}
		return fmt.Errorf("%s takes %d argument%s, got %d", fn, want, plural(want), len(params))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// argSerializer is contract-api's JSON serializer with stricter numbers and
// errors that stay on one short line.
type argSerializer struct {
	serializer.JSONSerializer
}

// FromString converts one argument, refusing an empty string for a number.
func (s *argSerializer) FromString(v string, t reflect.Type, p *metadata.ParameterMetadata, c *metadata.ComponentMetadata) (reflect.Value, error) {
	if v == "" && isNumber(t) {
		return reflect.Value{}, fmt.Errorf("must be a whole number, got an empty string")
	}
	rv, err := s.JSONSerializer.FromString(v, t, p, c)
	if err != nil {
		return rv, fmt.Errorf("%s", oneLine(err.Error()))
	}
	return rv, nil
}

func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// oneLine folds a message onto one line and clips it to maxErrorLen bytes,
// on a rune boundary.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxErrorLen {
		return s
	}
	cut := maxErrorLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d bytes in all)", len(s))
}
