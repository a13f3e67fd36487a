package main

import (
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain serves the open probe, which runs this binary with --probe-open.
func TestMain(m *testing.M) {
	flag.Parse()
	if *probe != "" {
		probeOpen(*probe)
		return
	}
	if *probeH != "" {
		probeOpenHNSW(*probeH)
		return
	}
	os.Exit(m.Run())
}

// TestSmall runs every phase on 3,000 rows, FAISS included where Debian's
// python3-faiss is installed, and checks the report.
func TestSmall(t *testing.T) {
	if err := exec.Command(*python, "-c", "import faiss").Run(); err != nil {
		t.Skipf("%s cannot import faiss: %v", *python, err)
	}
	*dir, *n, *dim, *nq, *rounds, *sweepArg = t.TempDir(), 3000, 64, 20, 2, "1,4,16"
	*withHNSW, *efSweep = true, "16,64"
	if err := run(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path("report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 16 | 1.0000 |", "At recall@10 ≥ 0.99: laiondb-ivf", "IVF128_HNSW32,PQ32x8np,Refine(SQfp16)",
		"| image | 64 | 1.0000 |", "## laiondb-hnsw"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q:\n%s", want, b)
		}
	}
}
