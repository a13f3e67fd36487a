package engine

import (
	"sort"

	"github.com/laiondb/laiondb/table"
)

// This file is the frame of the statistics. Each statistic lives in its
// own stat_*.go file: an init function that registers it, choosing from
// the store's columns what the plan computes; its accumulator, which
// implements stat; and the type of its part of the Result. Adding a
// statistic is adding such a file, and the field of Result it writes.

// stat accumulates one statistic of the selected rows, in the manner of an
// expvar.Var or a Prometheus collector. A plan makes one accumulator per
// statistic for each goroutine of a scan, and merges them at the end: rows
// split among accumulators, by batch or within a batch, and merged give the
// statistic of all the rows added to one. That is what makes sharded
// execution exact.
type stat interface {
	// Add accumulates the selected rows of a batch.
	Add(s *selection)
	// Merge adds what o accumulated. o comes from the same statistic of
	// the same plan and is not used afterwards.
	Merge(o stat)
	// Write writes the statistic into its part of res.
	Write(res *Result)
}

// selection is what a statistic adds: a batch with its selected rows
// marked. The batch's columns, as stored and as lowered text, come from ec
// (ec.b, ec.n rows); ec's scratch bitsets may be pushed, and popped again,
// during Add.
type selection struct {
	ec    *evalCtx
	sel   []uint64 // the selected batch rows, one bit each
	count int      // how many
}

// statistic is one statistic of a plan: how the plan describes it, the
// columns it reads, and a maker of accumulators.
type statistic struct {
	// desc is its entry in the plan's statistics line ("" for none).
	desc string
	// cols are the columns Add reads.
	cols []string
	new  func() stat
}

// schema is what a plan's statistics are chosen from.
type schema struct {
	cols     map[string]table.Type // the store's columns
	lexicons []*lexicon            // essay2021, then Options.Lexicons by name
	by       []byItem              // the columns (or domains of columns) named by "by"
	sweep    *sweepSpec            // the sweep clause, resolved, or nil
	// byFile asks for the rates by source file of files, the store's
	// source files (read when by file or sample needs them).
	byFile bool
	files  []fileRange
	// notes say why a statistic the reader may expect is not computed.
	notes []string
	opts  *Options // the plan's (nil in some tests: the defaults)
}

// byItem is one entry of "by": a column, or with fn "domain" the hosts of
// the URLs it holds.
type byItem struct {
	col, fn string
}

// has returns name if the store has that column, "" if not.
func (s *schema) has(name string) string {
	if _, ok := s.cols[name]; ok {
		return name
	}
	return ""
}

// statKind is a kind of statistic, as registered.
type statKind struct {
	order int
	plan  func(*schema) []statistic
}

// statKinds are the registered kinds, by order.
var statKinds []statKind

// register adds a kind of statistic: plan returns the statistics of that
// kind a plan computes (none when the store lacks their columns). order
// places them in the plan's statistics line and in the order of writing
// the Result: a statistic whose Write reads another's part of the Result
// comes after it.
func register(order int, plan func(*schema) []statistic) {
	statKinds = append(statKinds, statKind{order, plan})
	sort.SliceStable(statKinds, func(i, j int) bool { return statKinds[i].order < statKinds[j].order })
}

// planStats returns the statistics of a plan, in order.
func planStats(s *schema) []statistic {
	var out []statistic
	for _, k := range statKinds {
		out = append(out, k.plan(s)...)
	}
	return out
}

// stats is one goroutine's accumulators, one per statistic of a plan.
type stats []stat

// newStats returns fresh accumulators for the statistics sts.
func newStats(sts []statistic) stats {
	ss := make(stats, len(sts))
	for i, st := range sts {
		ss[i] = st.new()
	}
	return ss
}

// add accumulates the rows of ec's batch that are set in sel.
func (ss stats) add(ec *evalCtx, sel []uint64) {
	s := &selection{ec: ec, sel: sel, count: popcount(sel)}
	if s.count == 0 {
		return
	}
	for _, st := range ss {
		st.Add(s)
	}
}

// merge adds what o, made for the same plan, accumulated.
func (ss stats) merge(o stats) {
	for i, st := range ss {
		st.Merge(o[i])
	}
}

// discard drops what the statistics keep outside memory (a by's
// temporary files), for a query that ends without writing them.
func (ss stats) discard() {
	for _, st := range ss {
		if d, ok := st.(interface{ discard() }); ok {
			d.discard()
		}
	}
}

// write writes every statistic into res. A statistic that can fail (one
// that wrote temporary files) says so through an err method.
func (ss stats) write(res *Result) error {
	for _, st := range ss {
		st.Write(res)
		if f, ok := st.(interface{ err() error }); ok {
			if err := f.err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// number returns value i of a numeric column (int or float) as a float64.
func number(c *table.Column, i int) float64 {
	if c.Type == table.TypeInt {
		return float64(c.Int[i])
	}
	return c.Float[i]
}
