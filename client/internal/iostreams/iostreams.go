// Package iostreams holds the standard streams a command reads and writes,
// so that tests can swap them for buffers.
package iostreams

import (
	"bytes"
	"io"
	"os"
)

// IOStreams are the input, output and error streams of one invocation.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// errTTY reports whether ErrOut is a terminal (progress bars go there).
	errTTY bool
	outTTY bool
}

// System returns the process's standard streams.
func System() *IOStreams {
	return &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		outTTY: isTerminal(os.Stdout),
		errTTY: isTerminal(os.Stderr),
	}
}

// Test returns streams backed by buffers: in, out and errOut.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsTerminal reports whether standard output is a terminal.
func (s *IOStreams) IsTerminal() bool { return s.outTTY }

// IsStderrTerminal reports whether the error stream is a terminal.
func (s *IOStreams) IsStderrTerminal() bool { return s.errTTY }

// SetTerminal overrides terminal detection, for tests.
func (s *IOStreams) SetTerminal(out, errOut bool) { s.outTTY, s.errTTY = out, errOut }

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
