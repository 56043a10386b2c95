package epcis

import (
	"io"
	"os"
)

// Open opens a named document file; "-" is in, standard input.
func Open(name string, in io.Reader) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(in), nil
	}
	return os.Open(name)
}
