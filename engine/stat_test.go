package engine

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/laiondb/laiondb/table"
)

// mergeBatch returns a batch of n random rows with the columns the
// statistics read: text and nsfw with nulls, url, similarity with nulls,
// NaN and values out of range, and an int column.
func mergeBatch(rng *rand.Rand, n int) *table.Batch {
	words := []string{"design", "Desi", "screenshot ", "unisex", "a rape case", "HOT dog", "porn",
		"İstanbul", "ΟΔΟΣ", "cat", "xxx", "adult", "aunty", "Σ", "the", "6016"}
	nsfws := []string{"UNLIKELY", "UNLIKELY", "UNSURE", "NSFW", "None", ""}
	str := func(null float64, gen func() string) *table.Column {
		c := &table.Column{Type: table.TypeString, Null: make([]bool, n)}
		c.Str.Off = []uint32{0}
		for i := range n {
			if rng.Float64() < null {
				c.Null[i] = true
			} else {
				c.Str.Data = append(c.Str.Data, gen()...)
			}
			c.Str.Off = append(c.Str.Off, uint32(len(c.Str.Data)))
		}
		return c
	}
	caption := func() string {
		s := ""
		for j := range 1 + rng.IntN(5) {
			if j > 0 {
				s += " "
			}
			s += words[rng.IntN(len(words))]
		}
		return s
	}
	sim := &table.Column{Type: table.TypeFloat, Null: make([]bool, n), Float: make([]float64, n)}
	width := &table.Column{Type: table.TypeInt, Int: make([]int64, n)}
	for i := range n {
		switch x := rng.IntN(20); x {
		case 0:
			sim.Null[i] = true
		case 1:
			sim.Float[i] = math.NaN()
		case 2:
			sim.Float[i] = 6016
		case 3:
			sim.Float[i] = -2
		default:
			sim.Float[i] = 0.2 + 0.2*rng.Float64()
		}
		width.Int[i] = int64(64 * rng.IntN(4))
	}
	return &table.Batch{Len: n, Cols: map[string]*table.Column{
		"text": str(0.05, caption),
		"url": str(0.02, func() string {
			return []string{"http://x/", "https://IMG.x.org/", "//cdn.y/", "x.org/"}[rng.IntN(4)] + caption()
		}),
		"nsfw":       str(0.05, func() string { return nsfws[rng.IntN(len(nsfws))] }),
		"similarity": sim,
		"width":      width,
	}}
}

// TestStatsMerge checks that the statistics are exact when rows are split
// among accumulators, as shards will split them: the selected rows of each
// batch dealt at random between two sets of accumulators, then merged, give
// the Result that one set given every selected row gives.
func TestStatsMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sch := &schema{
		cols: map[string]table.Type{"text": table.TypeString, "url": table.TypeString, "nsfw": table.TypeString,
			"similarity": table.TypeFloat, "width": table.TypeInt},
		lexicons: []*lexicon{newLexicon(BuiltinLexicon, Essay2021), newLexicon("mine", []string{"desi", " aunty", "Σ"})},
		by:       []byItem{{col: "width"}, {col: "similarity"}, {col: "nsfw"}, {col: "url", fn: "domain"}},
	}
	sts := planStats(sch)
	one, two := newStats(sts), [2]stats{newStats(sts), newStats(sts)}
	ec := newEvalCtx()
	for k := range 40 {
		b := mergeBatch(rng, 1+rng.IntN(300))
		ec.reset(b)
		// From dense to sparse selections, so that text is tested both
		// lowered for the whole batch and row by row.
		density := []float64{1, 0.9, 0.5, 0.1, 0.01}[k%5]
		sel, part := make([]uint64, ec.nw), [2][]uint64{make([]uint64, ec.nw), make([]uint64, ec.nw)}
		for i := range b.Len {
			if rng.Float64() < density {
				setBit(sel, i)
				setBit(part[rng.IntN(2)], i)
			}
		}
		one.add(ec, sel)
		two[0].add(ec, part[0])
		two[1].add(ec, part[1])
	}
	two[0].merge(two[1])
	var want, got Result
	one.write(&want)
	two[0].write(&got)
	if !reflect.DeepEqual(want, got) {
		w, _ := json.MarshalIndent(want, "", " ")
		g, _ := json.MarshalIndent(got, "", " ")
		t.Fatalf("merged statistics differ:\n%s\nwant:\n%s", g, w)
	}
	// The data exercise every statistic.
	if want.Selected == 0 || want.NSFW == nil || len(want.By) != 4 || len(want.By[3].Values) < 2 || want.Similarity == nil || want.Similarity.Invalid == 0 ||
		len(want.Lexicons) != 2 || want.Lexicons[1].Either.Count == 0 || len(want.Lexicons[0].ByNSFW) == 0 {
		t.Fatalf("the test data miss a statistic: %+v", want)
	}
}
