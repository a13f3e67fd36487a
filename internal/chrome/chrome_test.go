package chrome

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fake writes a stand-in for Chromium: a shell script that counts its runs
// in dir/runs and then runs body.
func fake(t *testing.T, dir, body string) string {
	t.Helper()
	bin := filepath.Join(dir, "chromium")
	script := "#!/bin/sh\necho x >> " + filepath.Join(dir, "runs") + "\n" + body + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func runs(t *testing.T, dir string) int {
	b, _ := os.ReadFile(filepath.Join(dir, "runs"))
	return strings.Count(string(b), "x")
}

// TestRunRetriesCrashes: a Chromium killed by a signal is run again (up to
// three times); one that exits with a status is not.
func TestRunRetriesCrashes(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	for _, tt := range []struct {
		name, body string
		runs       int
		ok         bool
	}{
		{"crash once", `[ "$(wc -l < ` + "$0.runs" + `)" -ge 2 ] || kill -SEGV $$; echo page`, 2, true},
		{"crash always", `echo dying >&2; kill -SEGV $$`, 3, false},
		{"exit 1", `echo bad flag >&2; exit 1`, 1, false},
		{"fine", `echo page`, 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			body := strings.ReplaceAll(tt.body, "$0.runs", filepath.Join(dir, "runs"))
			out, err := Run(fake(t, dir, body), dir, "http://127.0.0.1:9/", 100, 100)
			if got := runs(t, dir); got != tt.runs {
				t.Errorf("%d runs, want %d", got, tt.runs)
			}
			if tt.ok != (err == nil) || tt.ok && strings.TrimSpace(string(out)) != "page" {
				t.Errorf("out %q, err %v", out, err)
			}
			if !tt.ok && tt.name != "crash always" && !strings.Contains(err.Error(), "bad flag") {
				t.Errorf("the error does not end with Chromium's stderr: %v", err)
			}
			if tt.name == "crash always" && !strings.Contains(err.Error(), "dying") {
				t.Errorf("the error does not end with Chromium's stderr: %v", err)
			}
		})
	}
}
