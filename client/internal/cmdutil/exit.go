package cmdutil

// ExitError ends the program with Code, without another message: the
// command has already said why (proof verify: 1 when a proof is authentic
// but its provenance does not hold, 3 when it is not authentic).
type ExitError struct {
	Code   int
	Reason string
}

func (e *ExitError) Error() string { return e.Reason }
