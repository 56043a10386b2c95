package cmdutil

import (
	"errors"
	"fmt"
)

// ErrSilent makes the program exit 1 without printing anything more: the
// command has already said why (a failed verify or audit).
var ErrSilent = errors.New("silent error")

// SilentError is a failure the command has already reported on its output.
type SilentError struct{ Reason string }

func (e *SilentError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrSilent) true.
func (e *SilentError) Is(target error) bool { return target == ErrSilent }

// FlagError is a mistake in the command line: main prints it with a hint
// to run --help.
type FlagError struct{ err error }

func (e *FlagError) Error() string { return e.err.Error() }
func (e *FlagError) Unwrap() error { return e.err }

// FlagErrorf builds a FlagError.
func FlagErrorf(format string, a ...any) error {
	return &FlagError{err: fmt.Errorf(format, a...)}
}
