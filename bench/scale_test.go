package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestScaleScript runs scripts/textindex-100m.sh, issue 16's 100M-row
// measurement, on one part of 1,000,000 rows, and checks what it prints:
// every step ran, the index and the scan select the same rows, and the
// `by` queries list their groups.
func TestScaleScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds laiondb and a 1M-row store (about a minute)")
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "scripts/textindex-100m.sh", dir, "1", "1000000")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	os.WriteFile(filepath.Join(dir, "out.txt"), out, 0o644)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{
		"ingested 1000000 rows",
		"text index of text: 1 of 1 segments",
		"text index of url: 1 of 1 segments",
		"by domain(url)",
		"by url",
		"| `all where text contains 'bhabhi'` |", // scripts/textindex-fresh.sh's table
	} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in the output:\n%s", want, s)
		}
	}
	// BenchmarkTextQuery: the same rows through the index and by a scan.
	bench := regexp.MustCompile(`BenchmarkTextQuery/q=(\S+)/via=(index|scan)\S*\s.*\s([0-9.]+) rows`)
	rows := map[string]map[string]string{}
	for _, m := range bench.FindAllStringSubmatch(s, -1) {
		if rows[m[1]] == nil {
			rows[m[1]] = map[string]string{}
		}
		if prev, ok := rows[m[1]][m[2]]; ok && prev != m[3] {
			t.Errorf("%s via %s: %s rows, then %s", m[1], m[2], prev, m[3])
		}
		rows[m[1]][m[2]] = m[3]
	}
	if len(rows) != 4 {
		t.Errorf("%d benchmarked queries, want 4:\n%s", len(rows), s)
	}
	for q, via := range rows {
		if via["index"] == "" || via["index"] != via["scan"] {
			t.Errorf("%s: %s rows through the index, %s by a scan", q, via["index"], via["scan"])
		}
	}
	// The fresh-process queries, with and without --scan-text: the same
	// selected rows, four times (two queries, two ways).
	sel := regexp.MustCompile(`(?m)^selected\s+(\d+) rows`).FindAllStringSubmatch(s, -1)
	if len(sel) < 5 || sel[0][1] != sel[1][1] || sel[2][1] != sel[3][1] || sel[0][1] != "0" || sel[2][1] == "0" {
		t.Errorf("selected rows of the fresh queries: %v", sel)
	}
}
