package audit

import (
	"errors"
	"fmt"
	"math"

	"github.com/laiondb/laiondb/engine"
)

// RateComparison sets two selections' rates side by side: query A's rows
// (for example a sample of LAION-400M's files) against query B's (of
// LAION-2B-en's), each with "by file". It answers both questions an
// audit asks of two rates: is the pooled rate different (the difference
// with its 95% interval), and do the files' rates differ beyond their
// spread from file to file (Welch's t-test, each file one observation).
type RateComparison struct {
	A RateSide `json:"a"`
	B RateSide `json:"b"`
	// Difference is A's pooled share minus B's; Lo and Hi bound it with
	// Newcombe's hybrid score interval (his method 10: the Wilson 95%
	// intervals of the two shares combined), which keeps its coverage
	// near 0 and 1 where the plain Wald interval does not.
	Difference float64 `json:"difference"`
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	// Welch is the t-test of the files' shares; nil when a side has
	// fewer than two files with a defined share, or both sides' shares
	// do not vary (WelchNote says which).
	Welch     *WelchTest `json:"welch,omitempty"`
	WelchNote string     `json:"welch_note,omitempty"`
}

// RateSide is one side of a comparison.
type RateSide struct {
	Query       string `json:"query"`
	Fingerprint string `json:"fingerprint"`
	Population  string `json:"population"`
	// Pooled is the selected rows of all files of the population.
	Pooled engine.Proportion `json:"pooled"`
	// Files is the number of files with a defined share (rows in the
	// population); Empty those without.
	Files int `json:"files"`
	Empty int `json:"empty_files,omitempty"`
	// Mean and SD are the mean and sample standard deviation of the
	// files' shares.
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
}

// WelchTest is Welch's unequal-variances t-test of two samples' means.
type WelchTest struct {
	T float64 `json:"t"`
	// DF is the Welch–Satterthwaite degrees of freedom.
	DF float64 `json:"df"`
	// P is the two-sided p-value, from Student's t distribution with DF
	// degrees of freedom.
	P float64 `json:"p"`
}

// CompareRates compares the rates by file of a and b, results of queries
// with "by file" (on one store or two).
func CompareRates(a, b *engine.Result) (*RateComparison, error) {
	for _, r := range []*engine.Result{a, b} {
		if r == nil || r.Files == nil {
			q := ""
			if r != nil {
				q = r.Query
			}
			return nil, fmt.Errorf("compare: %q has no rates by file: add \"by file\" to the query", q)
		}
	}
	c := &RateComparison{}
	var shares [2][]float64
	for i, r := range []*engine.Result{a, b} {
		side := RateSide{Query: r.Query, Fingerprint: r.Fingerprint, Population: r.Files.Population, Pooled: r.Files.Pooled}
		for _, f := range r.Files.Files {
			if !f.Rate.Defined() {
				side.Empty++
				continue
			}
			shares[i] = append(shares[i], f.Rate.Share)
		}
		side.Files = len(shares[i])
		side.Mean, side.SD = meanSD(shares[i])
		if i == 0 {
			c.A = side
		} else {
			c.B = side
		}
	}
	pa, pb := &c.A.Pooled, &c.B.Pooled
	if !pa.Defined() || !pb.Defined() {
		return nil, errors.New("compare: a side's population is empty: no share to compare")
	}
	c.Difference = pa.Share - pb.Share
	c.Lo = c.Difference - math.Hypot(pa.Share-pa.Lo, pb.Hi-pb.Share)
	c.Hi = c.Difference + math.Hypot(pa.Hi-pa.Share, pb.Share-pb.Lo)
	c.Welch, c.WelchNote = welch(shares[0], shares[1])
	return c, nil
}

// meanSD returns the mean and the sample standard deviation (n-1) of xs;
// the deviation is 0 for fewer than two values.
func meanSD(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	m := sum / float64(len(xs))
	if len(xs) < 2 {
		return m, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(xs)-1))
}

// welch runs Welch's t-test on x and y, or says why it cannot.
func welch(x, y []float64) (*WelchTest, string) {
	if len(x) < 2 || len(y) < 2 {
		return nil, fmt.Sprintf("Welch's test needs two files or more with rows on each side (%d and %d)", len(x), len(y))
	}
	mx, sx := meanSD(x)
	my, sy := meanSD(y)
	vx, vy := sx*sx/float64(len(x)), sy*sy/float64(len(y))
	if vx+vy == 0 {
		return nil, "the files' shares do not vary on either side: Welch's t is undefined"
	}
	t := (mx - my) / math.Sqrt(vx+vy)
	df := (vx + vy) * (vx + vy) / (vx*vx/float64(len(x)-1) + vy*vy/float64(len(y)-1))
	return &WelchTest{T: t, DF: df, P: studentTwoSided(t, df)}, ""
}

// studentTwoSided is P(|T| >= |t|) for Student's t with df degrees of
// freedom: the regularized incomplete beta I_{df/(df+t²)}(df/2, 1/2).
func studentTwoSided(t, df float64) float64 {
	return regIncBeta(df/2, 0.5, df/(df+t*t))
}

// regIncBeta is the regularized incomplete beta function I_x(a, b),
// evaluated by its continued fraction (modified Lentz), on the side of
// x where the fraction converges fast.
func regIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x > (a+1)/(a+b+2) {
		return 1 - regIncBeta(b, a, 1-x)
	}
	return front * betaFraction(a, b, x) / a
}

// betaFraction evaluates the continued fraction of the incomplete beta
// function to double precision.
func betaFraction(a, b, x float64) float64 {
	const tiny = 1e-300
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	// step applies one term of the fraction and returns its factor.
	step := func(num float64) float64 {
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		return d * c
	}
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		h *= step(fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm)))              // the even step
		del := step(-(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))) // the odd step
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return h
}
