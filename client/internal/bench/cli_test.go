package bench

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeMTrace is a stand-in for the mtrace binary: it appends its
// arguments to $FAKE_MTRACE_LOG, fails (status 3, "boom" on stderr) when
// they contain $FAKE_MTRACE_FAIL, and answers `batch list -o json` with
// an empty page whose bookmark names the config file and the page; on a
// config file named short.yaml the first page is the last.
const fakeMTrace = `#!/bin/sh
printf '%s\n' "$*" >> "$FAKE_MTRACE_LOG"
cfg=$(basename "$2" .yaml)
if [ -n "$FAKE_MTRACE_FAIL" ]; then
	case "$*" in *"$FAKE_MTRACE_FAIL"*) echo boom >&2; exit 3;; esac
fi
case "$*" in
*"batch list -o json --page "*)
	n=${*##*--page $cfg-}
	echo "{\"batches\":[],\"bookmark\":\"$cfg-$((n+1))\"}";;
*"batch list -o json")
	if [ "$cfg" = short ]; then echo '{"batches":[],"bookmark":""}'; else echo "{\"batches\":[],\"bookmark\":\"$cfg-1\"}"; fi;;
esac
`

// fakeCLI writes the fake mtrace into a temporary directory and returns
// its path and the log of its runs.
func fakeCLI(t *testing.T) (string, func() []string) {
	dir := t.TempDir()
	bin, log := filepath.Join(dir, "mtrace"), filepath.Join(dir, "runs.log")
	require.NoError(t, os.WriteFile(bin, []byte(fakeMTrace), 0o755))
	t.Setenv("FAKE_MTRACE_LOG", log)
	t.Setenv("FAKE_MTRACE_FAIL", "")
	return bin, func() []string {
		raw, err := os.ReadFile(log)
		require.NoError(t, err)
		return strings.Split(strings.TrimSpace(string(raw)), "\n")
	}
}

// pageToken follows the bookmarks to the page asked for, on the network
// asked for; a list too short for it is an error.
func TestPageToken(t *testing.T) {
	bin, runs := fakeCLI(t)
	c := &cliRunner{mtrace: bin, profile: "municipality", configs: [2]string{"/n/empty.yaml", "/n/city.yaml"}}
	tok, err := c.pageToken(context.Background(), 1, 4)
	require.NoError(t, err)
	assert.Equal(t, "city-3", tok)
	assert.Equal(t, []string{
		"--config /n/city.yaml -p municipality batch list -o json",
		"--config /n/city.yaml -p municipality batch list -o json --page city-1",
		"--config /n/city.yaml -p municipality batch list -o json --page city-2",
	}, runs())
	tok, err = c.pageToken(context.Background(), 0, 1)
	require.NoError(t, err)
	assert.Empty(t, tok, "page 1 needs no token")

	c.configs[0] = "/n/short.yaml"
	_, err = c.pageToken(context.Background(), 0, 3)
	assert.EqualError(t, err, "batch list on /n/short.yaml has only 1 pages, want 3")
}

// compareCLI runs each command once untimed on each network, then runs
// times in alternating order, and compares the medians.
func TestCompareCLIRuns(t *testing.T) {
	bin, runs := fakeCLI(t)
	c := &cliRunner{mtrace: bin, profile: "municipality", configs: [2]string{"/n/empty.yaml", "/n/city.yaml"}}
	var log bytes.Buffer
	res, err := compareCLI(context.Background(), c, 3, &logWriter{out: &log})
	require.NoError(t, err)
	assert.Equal(t, CLI, res.Scenario)
	assert.Equal(t, 3, res.Runs)
	assert.Equal(t, "municipality", res.Profile)
	var names []string
	for _, cmp := range res.Commands {
		names = append(names, cmp.Command)
		assert.Equal(t, 3, cmp.Empty.Runs, cmp.Command)
		assert.Equal(t, 3, cmp.City.Runs, cmp.Command)
		for _, s := range []CLIStats{cmp.Empty, cmp.City} {
			assert.Positive(t, s.Min, cmp.Command)
			assert.LessOrEqual(t, s.Min, s.Median, cmp.Command)
			assert.LessOrEqual(t, s.Median, s.P90, cmp.Command)
			assert.LessOrEqual(t, s.P90, s.Max, cmp.Command)
		}
		assert.Equal(t, math.Round(cmp.City.Median/cmp.Empty.Median*1000)/1000, cmp.Ratio, cmp.Command)
		assert.Equal(t, cmp.Ratio <= MaxRatio, cmp.Within, cmp.Command)
	}
	assert.Equal(t, []string{"batch get", "batch list (first page)", "batch list (page 5)", "batch list --owner --status", "history",
		"trace (100 batches)", "verify (100 batches, signatures)"}, names)
	assert.Equal(t, []string{"batch", "list", "--owner", "MunicipalityMSP", "--status", "consumed"}, res.Commands[3].Args)
	assert.Equal(t, []string{"batch", "list", "--page", "city-4"}, res.Commands[2].Args, "the city's own token")

	// Per command: one untimed run on each, then empty-city, city-empty,
	// empty-city; every run as the profile, with the network's config.
	lines := runs()
	require.Len(t, lines, 2*(ProbeListPage-1)+7*2*(1+3))
	var order []string
	for _, l := range lines {
		require.Contains(t, l, " -p municipality ")
		if strings.HasSuffix(l, " history "+ProbeHistory) {
			cfg, _, _ := strings.Cut(strings.TrimPrefix(l, "--config /n/"), ".yaml")
			order = append(order, cfg)
		}
		if strings.Contains(l, "batch list --page ") {
			cfg, _, _ := strings.Cut(strings.TrimPrefix(l, "--config /n/"), ".yaml")
			assert.True(t, strings.HasSuffix(l, "--page "+cfg+"-4"), "each network's token on its own: %s", l)
		}
	}
	assert.Equal(t, []string{"empty", "city", "empty", "city", "city", "empty", "empty", "city"}, order)
	assert.Contains(t, log.String(), "cli: history")

	// A failing command is an error that names it, its network and its
	// standard error.
	t.Setenv("FAKE_MTRACE_FAIL", "trace")
	_, err = compareCLI(context.Background(), c, 1, &logWriter{out: io.Discard})
	assert.ErrorContains(t, err, "mtrace [trace "+ProbeRoot+"] on /n/empty.yaml: exit status 3: boom")
}

// runCity's cli scenario runs the given mtrace against --against (the
// empty network) and the config file, and prints a table.
func TestRunCityCLI(t *testing.T) {
	bin, runs := fakeCLI(t)
	var out bytes.Buffer
	o := &Options{Out: &out, Log: io.Discard, Format: "table", Scenarios: []string{CLI}, Runs: 2, MTrace: bin,
		Collector: "municipality", Against: "/n/empty.yaml", configFile: "/n/city.yaml",
		Open: func(string, string) (Client, string, func() error, error) {
			t.Fatal("the cli scenario opens no gateway")
			return nil, "", nil, nil
		}}
	require.NoError(t, runCity(context.Background(), o))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 1+7)
	assert.Equal(t, []string{"COMMAND", "EMPTY_MS", "EMPTY_P90", "CITY_MS", "CITY_P90", "RATIO"}, strings.Fields(lines[0]))
	assert.True(t, strings.HasPrefix(lines[1], "batch get "), lines[1])
	assert.Len(t, runs(), 2*(ProbeListPage-1)+7*2*(1+2))

	t.Setenv("FAKE_MTRACE_FAIL", "history")
	assert.ErrorContains(t, runCity(context.Background(), o), "cli: mtrace [history "+ProbeHistory+"] on /n/empty.yaml")
}
