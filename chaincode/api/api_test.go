package api

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is an Invoker that remembers the one call it got and answers
// with a JSON value every answer type decodes from.
type recorder struct {
	fn     string
	args   []string
	submit bool
	calls  int
}

func (r *recorder) Submit(_ context.Context, fn string, args ...string) ([]byte, error) {
	r.fn, r.args, r.submit = fn, args, true
	r.calls++
	return []byte("null"), nil
}

func (r *recorder) Evaluate(_ context.Context, fn string, args ...string) ([]byte, error) {
	r.fn, r.args, r.submit = fn, args, false
	r.calls++
	return []byte("null"), nil
}

var (
	ctxType = reflect.TypeFor[context.Context]()
	errType = reflect.TypeFor[error]()
)

// TestClientCallsEveryTransaction checks that Client has one method per
// transaction, named after it, taking its parameters with their types,
// answering its Answer type, submitting writes and evaluating reads.
func TestClientCallsEveryTransaction(t *testing.T) {
	ct := reflect.TypeFor[*Client]()
	methods := map[string]bool{}
	for i := 0; i < ct.NumMethod(); i++ {
		methods[ct.Method(i).Name] = true
	}
	for _, tx := range Transactions {
		t.Run(tx.Name, func(t *testing.T) {
			m, ok := ct.MethodByName(tx.Name)
			require.True(t, ok, "Client has no method %s", tx.Name)
			delete(methods, tx.Name)
			mt := m.Type
			require.Equal(t, len(tx.Params)+2, mt.NumIn(), "receiver, context and %d parameters", len(tx.Params))
			assert.Equal(t, ctxType, mt.In(1))
			for i, p := range tx.Params {
				assert.Equal(t, p.Type, mt.In(i+2), "parameter %s", p.Name)
			}
			if tx.Answer == nil {
				require.Equal(t, 1, mt.NumOut())
			} else {
				require.Equal(t, 2, mt.NumOut())
				assert.Equal(t, tx.Answer, mt.Out(0), "answer type")
			}
			assert.Equal(t, errType, mt.Out(mt.NumOut()-1))

			rec := &recorder{}
			in := []reflect.Value{reflect.ValueOf(New(rec)), reflect.ValueOf(context.Background())}
			for _, p := range tx.Params {
				in = append(in, reflect.Zero(p.Type))
			}
			out := m.Func.Call(in)
			assert.Nil(t, out[len(out)-1].Interface(), "error")
			assert.Equal(t, 1, rec.calls)
			assert.Equal(t, tx.Name, rec.fn)
			assert.Equal(t, tx.Write, rec.submit, "a write is submitted, a read evaluated")
			assert.Len(t, rec.args, len(tx.Params))
		})
	}
	delete(methods, "Invoker")
	assert.Empty(t, methods, "Client methods that are no transaction")
}

func TestNamesAreUniqueAndResultsDecode(t *testing.T) {
	seen := map[string]bool{}
	for _, tx := range Transactions {
		assert.False(t, seen[tx.Name], "%s listed twice", tx.Name)
		seen[tx.Name] = true
		assert.Equal(t, tx.Result == nil, tx.Answer == nil, "%s: a result needs an answer type and back", tx.Name)
		got, ok := Lookup(tx.Name)
		assert.True(t, ok)
		assert.Equal(t, tx.Name, got.Name)
	}
	_, ok := Lookup("BaselinePut")
	assert.False(t, ok, "the benchmark's baseline is no transaction of mtrace")
	assert.Contains(t, Reads(), ReadBatch)
	assert.NotContains(t, Reads(), RegisterBatch)
}

func TestArg(t *testing.T) {
	assert.Equal(t, "IST-001", Arg("IST-001"))
	assert.Equal(t, "42", Arg(42))
	assert.Equal(t, "-7", Arg(int64(-7)))
	assert.Equal(t, `["a","b"]`, Arg([]string{"a", "b"}))
	assert.Equal(t, `{"x":1}`, Arg(map[string]int{"x": 1}))
	assert.Panics(t, func() { Arg(func() {}) })
}

func TestDecodeNamesTheTransaction(t *testing.T) {
	_, err := Decode[int](ReadBatch, []byte("{"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decode answer of ReadBatch")
	n, err := Decode[int](ReadBatch, []byte("7"))
	require.NoError(t, err)
	assert.Equal(t, 7, n)
}
