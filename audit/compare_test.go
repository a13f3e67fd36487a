package audit_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

func fileRates(t *testing.T, s engine.Store, q string) *engine.Result {
	t.Helper()
	res, err := engine.Run(context.Background(), s, query.MustParse(q), nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

// TestCompareRatesAgainstSciPy checks the difference of pooled rates
// (Newcombe's interval, from Wilson intervals computed in Python) and
// Welch's t-test (scipy.stats.ttest_ind with equal_var=False) against
// SciPy, on samples of two generated stores.
func TestCompareRatesAgainstSciPy(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3 (make test installs it with SciPy: scripts/install-oracle.sh)")
	}
	a := enginetest.Generate(5000, 0, 11)
	a.FileRows = 400
	b := enginetest.Generate(7000, 0, 12)
	b.FileRows = 1000
	for _, tc := range [][2]string{
		{`all sample 150 per file seed 3 where nsfw = 'UNLIKELY' by file`, `all sample 150 per file seed 3 where nsfw = 'UNLIKELY' by file`},
		{`all where text contains 'a' by file`, `all sample 90 per file seed 1 where width < 300 by file`},
	} {
		ra, rb := fileRates(t, a, tc[0]), fileRates(t, b, tc[1])
		c, err := audit.CompareRates(ra, rb)
		if err != nil {
			t.Fatal(err)
		}
		type side struct {
			K, N   int
			Shares []float64
		}
		in := [2]side{}
		for i, r := range []*engine.Result{ra, rb} {
			in[i] = side{r.Files.Pooled.Count, r.Files.Pooled.Of, nil}
			for _, f := range r.Files.Files {
				in[i].Shares = append(in[i].Shares, float64(f.Rate.Count)/float64(f.Rate.Of))
			}
		}
		js, _ := json.Marshal(in)
		cmd := exec.Command(py, "-c", `
import json, math, sys
from scipy import stats
a, b = json.loads(sys.argv[1])
z = stats.norm.ppf(0.975)
def wilson(k, n):
    p = k / n
    c = (p + z*z/(2*n)) / (1 + z*z/n)
    h = z * math.sqrt(p*(1-p)/n + z*z/(4*n*n)) / (1 + z*z/n)
    return p, c - h, c + h
p1, l1, u1 = wilson(a["K"], a["N"])
p2, l2, u2 = wilson(b["K"], b["N"])
d = p1 - p2
r = stats.ttest_ind(a["Shares"], b["Shares"], equal_var=False)
print(json.dumps([d, d - math.hypot(p1-l1, u2-p2), d + math.hypot(u1-p1, p2-l2), float(r.statistic), float(r.pvalue)]))
`, string(js))
		out, err := cmd.Output()
		if err != nil {
			if strings.Contains(err.Error(), "exit status") {
				t.Fatalf("python: %v: %s", err, out)
			}
			t.Fatal(err)
		}
		var want [5]float64
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		got := [5]float64{c.Difference, c.Lo, c.Hi, c.Welch.T, c.Welch.P}
		for i, name := range []string{"difference", "lo", "hi", "t", "p"} {
			if math.Abs(got[i]-want[i]) > 1e-9*max(1, math.Abs(want[i])) {
				t.Errorf("%s vs %s: %s = %.15g, SciPy %.15g", tc[0], tc[1], name, got[i], want[i])
			}
		}
		if c.A.Files != 13 || c.B.Files != 7 {
			t.Errorf("files %d and %d, want 13 and 7", c.A.Files, c.B.Files)
		}
	}
}

// TestCompareRatesRefuses: a result without by file, and a side whose
// files do not vary, are said, not computed into a wrong number.
func TestCompareRatesRefuses(t *testing.T) {
	s := enginetest.Generate(3000, 0, 1)
	s.FileRows = 1000
	with := fileRates(t, s, `all sample 10 per file seed 1 by file`)
	if _, err := audit.CompareRates(with, fileRates(t, s, `all`)); err == nil || !strings.Contains(err.Error(), "by file") {
		t.Errorf("no by file: %v", err)
	}
	c, err := audit.CompareRates(with, with)
	if err != nil {
		t.Fatal(err)
	}
	// Every file's share is 1 (the sample, no where): no variance.
	if c.Welch != nil || !strings.Contains(c.WelchNote, "do not vary") || c.Difference != 0 {
		t.Errorf("constant shares: %+v", c)
	}
}
