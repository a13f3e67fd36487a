package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/engine"
)

var compareFlags struct {
	store, other storeFlags
	model        modelFlags
	format       string
}

func init() {
	register(&command{
		name:    "compare",
		summary: "compare two selections' rates by source file: the difference of the pooled rates and Welch's t-test",
		usage: "[--store DIR] [--other DIR] [--format table|json] QUERY_A [QUERY_B]\n\n" +
			"Runs QUERY_A on --store and QUERY_B (QUERY_A when not given) on --other (--store when not\n" +
			"given); each query needs \"by file\". Prints each side's pooled rate with its Wilson interval,\n" +
			"the difference A - B with Newcombe's 95% interval, and Welch's t-test of the files' rates:\n" +
			"  laiondb compare --store l400m --other l2b \\\n" +
			"    \"all sample 100000 per file seed 42 where any lexicon essay2021 by file\"",
		flags: func(fs *pflag.FlagSet) {
			f := &compareFlags
			f.store.add(fs)
			fs.StringVar(&f.other.dir, "other", "", "the store QUERY_B runs on (default: --store)")
			f.model.add(fs)
			fs.StringVar(&f.format, "format", "table", "output format: table or json")
		},
		run: runCompare,
	})
}

func runCompare(e *env, fs *pflag.FlagSet) error {
	f := &compareFlags
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return usageErrorf("want QUERY_A and, optionally, QUERY_B (quote them), got %d arguments", fs.NArg())
	}
	if f.format != "table" && f.format != "json" {
		return usageErrorf("--format %q: want table or json", f.format)
	}
	qa, qb := fs.Arg(0), fs.Arg(0)
	if fs.NArg() == 2 {
		qb = fs.Arg(1)
	}
	if fs.NArg() == 1 && f.other.dir == "" {
		return usageErrorf("one query on one store compares it with itself: give QUERY_B or --other DIR")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	run := func(s *storeFlags, q string) (*engine.Result, error) {
		st, err := s.openAudit(e, &laiondb.Options{ReadOnly: true, Model: f.model.dir, Vocab: f.model.vocab, ORTLib: f.model.ortLib})
		if err != nil {
			return nil, err
		}
		defer st.Close()
		return st.Query(ctx, q, nil)
	}
	ra, err := run(&f.store, qa)
	if err != nil {
		return err
	}
	other := &f.store
	if f.other.dir != "" {
		other = &f.other
	}
	rb, err := run(other, qb)
	if err != nil {
		return err
	}
	c, err := audit.CompareRates(ra, rb)
	if err != nil {
		return err
	}
	if f.format == "json" {
		return writeJSON(e.stdout, c)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	pct := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 3, 64) + "%" }
	fmt.Fprintf(tw, "\tquery\tfiles\tselected\tof\trate\t95%% CI (Wilson)\tfiles' mean\tfiles' sd\n")
	for _, s := range []struct {
		name string
		r    audit.RateSide
	}{{"A", c.A}, {"B", c.B}} {
		p := s.r.Pooled
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t[%s, %s]\t%s\t%s\n", s.name, s.r.Query, s.r.Files, p.Count, p.Of,
			pct(p.Share), pct(p.Lo), pct(p.Hi), pct(s.r.Mean), pct(s.r.SD))
	}
	fmt.Fprintf(tw, "A - B\t%s\t[%s, %s] (Newcombe's hybrid score interval, 95%%)\n", pct(c.Difference), pct(c.Lo), pct(c.Hi))
	if w := c.Welch; w != nil {
		fmt.Fprintf(tw, "Welch's t\tt = %.4f\tdf = %.2f\tp = %.4g (two-sided; each file one observation)\n", w.T, w.DF, w.P)
	} else {
		fmt.Fprintf(tw, "Welch's t\t%s\n", c.WelchNote)
	}
	return tw.Flush()
}
