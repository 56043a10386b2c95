package netns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// A Mailbox is a folder of the lab, outside every host's home, through
// which hosts hand each other files the way people would mail them: a host
// puts a file from its home, another takes a copy into its own. It is the
// only thing the lab gives hosts to share.
type Mailbox struct {
	name string
	dir  string
}

var letterRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Mailbox returns the lab's mailbox called name, creating its folder the
// first time. It fails the test on error.
func (l *Lab) Mailbox(name string) *Mailbox {
	l.t.Helper()
	if !nameRE.MatchString(name) {
		l.t.Fatalf("netns: mailbox name %q: use 1 to 31 lower-case letters, digits and dashes, starting with a letter", name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := l.boxes[name]; m != nil {
		return m
	}
	m := &Mailbox{name: name, dir: filepath.Join(l.dir, "mail", name)}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		l.t.Fatalf("netns: mailbox %s: %v", name, err)
	}
	l.boxes[name] = m
	return m
}

// Dir is the mailbox's folder.
func (m *Mailbox) Dir() string { return m.dir }

// Put copies the regular file src of from's home (a path relative to the
// home) into the mailbox as letter, replacing a letter of that name.
func (m *Mailbox) Put(from *Host, src, letter string) error {
	if !letterRE.MatchString(letter) {
		return fmt.Errorf("netns: mailbox %s: letter name %q: use letters, digits, dots, dashes and underscores", m.name, letter)
	}
	path, err := inHome(from, src)
	if err != nil {
		return err
	}
	data, mode, err := readRegular(path)
	if err != nil {
		return fmt.Errorf("netns: %s puts %s in mailbox %s: %w", from.name, src, m.name, err)
	}
	if err := writeAtomic(filepath.Join(m.dir, letter), data, mode); err != nil {
		return fmt.Errorf("netns: %s puts %s in mailbox %s: %w", from.name, src, m.name, err)
	}
	return nil
}

// Take copies letter from the mailbox into to's home as dst (relative to
// the home), making the folders on the way. The letter stays in the
// mailbox for the other hosts it is meant for.
func (m *Mailbox) Take(to *Host, letter, dst string) error {
	if !letterRE.MatchString(letter) {
		return fmt.Errorf("netns: mailbox %s: letter name %q: use letters, digits, dots, dashes and underscores", m.name, letter)
	}
	path, err := inHome(to, dst)
	if err != nil {
		return err
	}
	data, mode, err := readRegular(filepath.Join(m.dir, letter))
	if err != nil {
		return fmt.Errorf("netns: %s takes %s from mailbox %s: %w", to.name, letter, m.name, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("netns: %s takes %s from mailbox %s: %w", to.name, letter, m.name, err)
	}
	if err := writeAtomic(path, data, mode); err != nil {
		return fmt.Errorf("netns: %s takes %s from mailbox %s: %w", to.name, letter, m.name, err)
	}
	return nil
}

// List returns the names of the letters in the mailbox, sorted.
func (m *Mailbox) List() ([]string, error) {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return nil, fmt.Errorf("netns: mailbox %s: %w", m.name, err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// inHome resolves rel inside h's home, refusing a path that leaves it.
func inHome(h *Host, rel string) (string, error) {
	if rel == "" || filepath.IsAbs(rel) || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("netns: %q is not a path inside %s's home", rel, h.name)
	}
	return filepath.Join(h.Home(), rel), nil
}

// readRegular reads a regular file, refusing symbolic links and folders so
// that a letter cannot carry something from outside the sender's home.
func readRegular(path string) ([]byte, fs.FileMode, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, errors.New(path + " is not a regular file")
	}
	data, err := os.ReadFile(path)
	return data, fi.Mode().Perm(), err
}
