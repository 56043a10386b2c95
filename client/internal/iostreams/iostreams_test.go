package iostreams

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTestStreams(t *testing.T) {
	s, in, out, errOut := Test()
	in.WriteString("typed")
	_, err := s.Out.Write([]byte("to out"))
	require.NoError(t, err)
	_, err = s.ErrOut.Write([]byte("to err"))
	require.NoError(t, err)
	buf := make([]byte, 5)
	n, err := s.In.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "typed", string(buf[:n]))
	assert.Equal(t, "to out", out.String())
	assert.Equal(t, "to err", errOut.String())
	assert.False(t, s.IsTerminal(), "buffers are not terminals")
	assert.False(t, s.IsStderrTerminal())

	s.SetTerminal(true, false)
	assert.True(t, s.IsTerminal())
	assert.False(t, s.IsStderrTerminal())
	s.SetTerminal(false, true)
	assert.False(t, s.IsTerminal())
	assert.True(t, s.IsStderrTerminal())
}

func TestSystemStreams(t *testing.T) {
	s := System()
	assert.Same(t, os.Stdin, s.In)
	assert.Same(t, os.Stdout, s.Out)
	assert.Same(t, os.Stderr, s.ErrOut)
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, isTerminal(f), "a regular file is not a terminal")
	closed, err := os.Create(filepath.Join(t.TempDir(), "closed"))
	require.NoError(t, err)
	closed.Close()
	assert.False(t, isTerminal(closed), "a file that cannot be stat'ed is not a terminal")
}
