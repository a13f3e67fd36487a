package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runBench(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestBenchFlags(t *testing.T) {
	src, _ := filepath.Abs("../../bench")
	code, _, errs := runBench(t, "--src", src, "--gen", "concepts", "--base", "x.npy", "--out", t.TempDir())
	if code == 0 || !strings.Contains(errs, "--gen and --base exclude each other") {
		t.Errorf("--gen with --base: exit %d: %s", code, errs)
	}
	code, _, errs = runBench(t, "--src", src, "--gen", "nope", "--n", "10", "--nq", "1", "--out", t.TempDir())
	if code == 0 || !strings.Contains(errs, `unknown generator "nope"`) {
		t.Errorf("--gen nope: exit %d: %s", code, errs)
	}
}

// TestLaiondbLinksNoTestCode: the laiondb binary links neither the test
// packages and fakes nor the comparison systems; they live in this command.
func TestLaiondbLinksNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../laiondb").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "testing" || strings.Contains(dep, "querytest") || strings.Contains(dep, "enginetest") || strings.Contains(dep, "coder/hnsw") ||
			strings.HasSuffix(dep, "/bench") || strings.Contains(dep, "internal/concepts") {
			t.Errorf("laiondb links %s", dep)
		}
	}
}
