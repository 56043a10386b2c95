//go:build js && wasm

// Command mtrace-wasm is the proof verifier of the passport page: the
// same Go code as `mtrace proof verify` (packages proof and passport),
// compiled to WebAssembly (GOOS=js GOARCH=wasm). `make build` builds it
// into client/internal/cmd/passport/assets, from where mtrace embeds it
// in every passport page it writes.
//
// It defines one JavaScript function,
//
//	mtraceVerify(proof Uint8Array, genesis string) string
//
// which returns the passport.Result as JSON, and then waits for calls.
package main

import (
	"encoding/json"
	"syscall/js"

	"github.com/mtrace/mtrace/client/internal/passport"
)

func main() {
	js.Global().Set("mtraceVerify", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 2 {
			return `{"proof":"tampered","verdict":"fails","summary":"mtraceVerify takes a proof and a genesis hash"}`
		}
		raw := make([]byte, args[0].Get("length").Int())
		js.CopyBytesToGo(raw, args[0])
		out, err := json.Marshal(passport.Check(raw, args[1].String()))
		if err != nil {
			return `{"proof":"tampered","verdict":"fails","summary":"the verifier could not encode its result"}`
		}
		return string(out)
	}))
	select {}
}
