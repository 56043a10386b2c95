package harness

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// marksFile holds, in a network's home, the marks the suites run on it
// left: one "MARK SUITE" line each. `network.sh down --purge` deletes it
// with the network.
const marksFile = "suite-marks"

// Begin is the start of suite s on the network in home: it refuses a
// network that carries a mark s avoids, naming the suite that left it,
// then records the marks s leaves (before the suite runs: a suite that
// fails half-way may have left them too).
func Begin(home string, s Suite) error {
	left, err := ReadMarks(home)
	if err != nil {
		return err
	}
	for _, m := range s.Avoids {
		if by, ok := left[m]; ok {
			return fmt.Errorf("suite %s cannot run on the network in %s: suite %s left a %s on it, which %s avoids; run %s on a fresh network (scripts/network.sh down --purge), or before %s (test/internal/harness/suites.go)",
				s.Name, home, by, m, s.Name, s.Name, by)
		}
	}
	if len(s.Leaves) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(home, marksFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("record the marks of suite %s: %w", s.Name, err)
	}
	for _, m := range s.Leaves {
		if _, err := fmt.Fprintf(f, "%s %s\n", m, s.Name); err != nil {
			f.Close()
			return fmt.Errorf("record the marks of suite %s: %w", s.Name, err)
		}
	}
	return f.Close()
}

// ReadMarks returns the marks recorded on the network in home, each with
// the first suite that left it.
func ReadMarks(home string) (map[Mark]string, error) {
	out := map[Mark]string{}
	f, err := os.Open(filepath.Join(home, marksFile))
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m, by, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok || !slices.Contains(Marks, Mark(m)) {
			return nil, fmt.Errorf("%s: malformed line %q", f.Name(), sc.Text())
		}
		if _, dup := out[Mark(m)]; !dup {
			out[Mark(m)] = by
		}
	}
	return out, sc.Err()
}
