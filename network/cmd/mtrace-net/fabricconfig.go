package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// fabricConfigCommand writes the peers' and orderers' base configuration
// into HOME/config: Fabric's own sample orderer.yaml and core.yaml (from
// the Fabric module that network/tools pins), core.yaml with the mtrace
// external builder in place of the sample's chaincode-as-a-service entry
// (environment variables cannot express that list). Every other setting
// is an environment variable network.sh gives each node.
func fabricConfigCommand(e *env) *cobra.Command {
	var tools, builder string
	cmd := &cobra.Command{
		Use:   "fabric-config --tools DIR --builder DIR",
		Short: "Write HOME/config/orderer.yaml and core.yaml (with the mtrace external builder) from Fabric's sample configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			goList := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hyperledger/fabric")
			goList.Dir = tools
			out, err := goList.Output()
			if err != nil {
				return fmt.Errorf("locating the Fabric module (sampleconfig) from %s: %w", tools, err)
			}
			sample := filepath.Join(strings.TrimSpace(string(out)), "sampleconfig")
			dir := filepath.Join(e.home, "config")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			orderer, err := os.ReadFile(filepath.Join(sample, "orderer.yaml"))
			if err != nil {
				return err
			}
			core, err := os.ReadFile(filepath.Join(sample, "core.yaml"))
			if err != nil {
				return err
			}
			if core, err = withBuilder(core, builder); err != nil {
				return err
			}
			for name, raw := range map[string][]byte{"orderer.yaml": orderer, "core.yaml": core} {
				if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tools, "tools", "", "the tools module's folder (network/tools)")
	cmd.Flags().StringVar(&builder, "builder", "", "the external builder's folder (network/builder)")
	_ = cmd.MarkFlagRequired("tools")
	_ = cmd.MarkFlagRequired("builder")
	return cmd
}

// withBuilder replaces the entries of core.yaml's
// chaincode.externalBuilders list with the mtrace binary builder at path,
// which passes MTRACE_HOME and MTRACE_PEER to the chaincode.
func withBuilder(core []byte, path string) ([]byte, error) {
	var out bytes.Buffer
	found, skip := false, false
	for _, line := range strings.SplitAfter(string(core), "\n") {
		if skip && strings.HasPrefix(line, "    ") {
			continue
		}
		skip = false
		out.WriteString(line)
		if strings.TrimRight(line, "\n") == "  externalBuilders:" {
			found, skip = true, true
			fmt.Fprintf(&out, "    - name: mtrace-binary\n      path: %s\n      propagateEnvironment:\n        - MTRACE_HOME\n        - MTRACE_PEER\n", path)
		}
	}
	if !found {
		return nil, errors.New("core.yaml has no chaincode.externalBuilders list to patch")
	}
	return out.Bytes(), nil
}
