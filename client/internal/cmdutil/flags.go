package cmdutil

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
)

// ParseMass parses the value of a mass flag, naming the flag on error.
func ParseMass(flag, s string) (model.Grams, error) {
	g, err := model.ParseMass(s)
	if err != nil {
		return 0, FlagErrorf("%s: %w", flag, err)
	}
	return g, nil
}

// ExactArgs is cobra.ExactArgs with a message that names what is missing.
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return FlagErrorf("%s: expected %s, got %d argument(s)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// MinimumArgs is cobra.MinimumNArgs with a message that names what is
// missing.
func MinimumArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return FlagErrorf("%s: expected %s, got %d argument(s)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// MarshalArg encodes a request struct as the JSON string argument the
// contract expects.
//
// Deprecated: commands call the chaincode through api.Client, which
// encodes its arguments; only mtrace bench, which is leaving client/,
// still uses MarshalArg.
func MarshalArg(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // only model types are passed; they always marshal
	}
	return string(data)
}

// AddGlobalFlags binds the persistent flags every command accepts.
func AddGlobalFlags(cmd *cobra.Command, g *Globals) {
	fs := cmd.PersistentFlags()
	fs.StringVarP(&g.Output, "output", "o", FormatTable, "output format: table or json")
	fs.DurationVar(&g.Timeout, "timeout", g.Timeout, "timeout for each call to the network")
	fs.StringVar(&g.ConfigPath, "config", "", "config file (default $MTRACE_CONFIG, then $XDG_CONFIG_HOME/mtrace/config.yaml)")
	fs.StringVarP(&g.Profile, "profile", "p", "", "connection profile (default $MTRACE_PROFILE, then the file's defaultProfile)")
	fs.BoolVar(&g.Debug, "debug", false, "print the gateway's raw errors")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &FlagError{err: err} })
}
