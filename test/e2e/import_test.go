//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportThousandRows registers 1,000 weighbridge tickets from a CSV
// file, then imports the same file again: every id is then reported as
// skipped, and nothing is registered twice.
func TestImportThousandRows(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("id,material,mass,location,collected_at,waste_code\n")
	districts := []string{"Kadıköy", "Üsküdar", "Beşiktaş", "Fatih", "Şişli", "Bakırköy", "Ataşehir", "Maltepe"}
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "%s,%s,%d.%03dkg,\"%s, Istanbul\",2026-11-2%dT%02d:%02d:00+03:00,%s\n",
			id(fmt.Sprintf("ticket-%04d", i)), []string{"PET", "HDPE", "PP"}[i%3], 100+i%900, i%1000,
			districts[i%len(districts)], i%6+1, 6+i%12, i%60, []string{"15 01 02", "20 01 39"}[i%2])
	}
	file := filepath.Join(t.TempDir(), "tickets.csv")
	if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	first := env.MustRun(t, "municipality", "batch", "import", file)
	if !strings.Contains(first.Stdout+first.Stderr, "registered 1000") {
		t.Fatalf("first import did not register 1000:\n%s", first)
	}
	second := env.MustRun(t, "municipality", "batch", "import", file)
	out := second.Stdout + second.Stderr
	if !strings.Contains(out, "registered 0") || !strings.Contains(out, "skipped 1000") {
		t.Fatalf("second import did not skip all 1000:\n%s", second)
	}

	// Spot-check one row made it exactly.
	b := getBatch(t, "auditor", id("ticket-0421"))
	if b.InitialMass != 521_421 || b.Material != "HDPE" || b.WasteCode != "20 01 39" {
		t.Errorf("ticket-0421 read back as %+v", b)
	}
}
