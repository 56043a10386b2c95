package version

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

func TestVersion(t *testing.T) {
	build := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}},
			Deps:     []*debug.Module{{Path: "github.com/hyperledger/fabric-gateway", Version: "v1.10.0"}},
		}, true
	}
	io, _, out, _ := iostreams.Test()
	require.NoError(t, runVersion(&Options{IO: io, Format: "table", Version: "1.2.3", Build: build}))
	assert.Equal(t, "mtrace 1.2.3 (abc123), "+runtime.Version()+", fabric-gateway v1.10.0\n", out.String())

	out.Reset()
	require.NoError(t, runVersion(&Options{IO: io, Format: "json", Version: "1.2.3", Build: build}))
	assert.JSONEq(t, `{"version":"1.2.3","commit":"abc123","go":"`+runtime.Version()+`","fabricGateway":"v1.10.0"}`, out.String())

	e := cmdtest.New(t)
	require.NoError(t, e.Run(NewCmdVersion(e.F, nil), "version"))
	assert.Contains(t, e.Out.String(), "mtrace test")
	assert.ErrorContains(t, e.Run(NewCmdVersion(e.F, nil), "version", "extra"), "expected no arguments")
}
