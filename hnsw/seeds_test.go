package hnsw

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/laiondb/laiondb/internal/synth"
	"github.com/laiondb/laiondb/vector"
)

// beamSeeds returns at most k seeds, distinct rows of the upper layers,
// with their true scores, best first, the same on every call, never the
// row the search skips.
func TestBeamSeeds(t *testing.T) {
	const n, dim = 6000, 48
	m := clipLike(n, dim, 11)
	ix, err := New(dim, &Options{Seed: 1, EfConstruction: 64, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(context.Background(), m, nil, nil); err != nil {
		t.Fatal(err)
	}
	epID, top, _ := ix.entry()
	if top < 2 {
		t.Fatalf("top layer %d: the test needs layers 2 and 1", top)
	}
	qs := clipLike(40, dim, 12)
	for i := 0; i < qs.Len(); i++ {
		q := qs.Row(i, nil)
		for _, ef := range []int{10, 64, 1000} {
			for _, skip := range []int64{-1, int64(epID), int64(i * 131 % n)} {
				s := ix.getScratch()
				s.skip, s.hasSkip = uint32(skip), skip >= 0
				ep := cand{ix.score(s, q, epID), epID}
				best, seeds, scored := ix.beamSeeds(s, q, ep, top, ef, DefaultSeeds, SeedBeam, false)
				got := slices.Clone(seeds)
				if skip == int64(epID) {
					// Nothing is reachable from a skipped entry point.
					if len(got) != 1 || best != ep {
						t.Fatalf("skipped entry point: best %v, seeds %v", best, got)
					}
					ix.putScratch(s)
					continue
				}
				if len(got) == 0 || len(got) > DefaultSeeds || best != got[0] || scored <= 0 {
					t.Fatalf("ef %d: best %v, %d seeds, %d scored", ef, best, len(got), scored)
				}
				seen := map[uint32]bool{}
				for j, c := range got {
					if seen[c.id] || ix.levels[c.id] == absent || ix.levels[c.id] < 1 {
						t.Fatalf("seed %d: row %d (level %d, seen %v)", j, c.id, ix.levels[c.id], seen[c.id])
					}
					seen[c.id] = true
					if s.hasSkip && c.id == s.skip {
						t.Fatalf("seed %d is the skipped row %d", j, c.id)
					}
					if want := m.Dot(q, int(c.id)); c.score != want {
						t.Fatalf("seed %d: score %v, true %v", j, c.score, want)
					}
					if j > 0 && (c.score > got[j-1].score || c.score == got[j-1].score && c.id < got[j-1].id) {
						t.Fatalf("seeds out of order at %d: %v", j, got)
					}
				}
				_, again, _ := ix.beamSeeds(s, q, ep, top, ef, DefaultSeeds, SeedBeam, false)
				if !slices.Equal(got, again) {
					t.Fatalf("ef %d: seeds differ between calls", ef)
				}
				ix.putScratch(s)
			}
		}
	}
}

// seedGraph builds the upper layers of an HNSW graph of n rows of the
// synth set (M=16, efConstruction 200): the rows of the full graph that
// reach layer 1 (about n/16), built with every level raised by one, so
// that its layers 1 and up are laid out as the full graph's. Seeding
// reads nothing else, and this costs n/16 insertions instead of n.
func seedGraph(b *testing.B, n int, g *synth.Generator) *Index {
	full := &Index{opts: Options{Seed: 1}, mult: 1 / math.Log(16)}
	var ids []int
	for id := range n {
		if full.levelOf(uint32(id)) >= 1 {
			ids = append(ids, id)
		}
	}
	m := vector.Matrix{Dim: 512, F16: make([]uint16, len(ids)*512)}
	vector.F32ToF16(m.F16, g.BaseRowsAt(ids))
	ix, err := New(512, &Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	ix.levelShift = 1
	t0 := time.Now()
	if err := ix.Add(context.Background(), m, nil, nil); err != nil {
		b.Fatal(err)
	}
	b.Logf("n=%d: %d rows on layer 1 and above, built in %v", n, len(ids), time.Since(t0).Round(time.Second))
	return ix
}

// BenchmarkSeeding measures the fixed cost a seeded search (DefaultSeeds)
// pays before its layer-0 search: the greedy descent to layer 3 and the
// beams of layers 2 and 1, on the upper layers of graphs of 100k, 1M and
// 10M synth rows (seedGraph), for 1,000 image and 1,000 text queries, at
// a layer-0 ef of 32 (layer-1 beam 16) and 256 (beam 128). It reports
// the time and the nodes scored per query. The 10M graph takes minutes
// to build; pick sizes with -bench 'Seeding/n=1000000'.
func BenchmarkSeeding(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			g := synth.New(synth.Config{Seed: 1, N: n})
			ix := seedGraph(b, n, g)
			epID, top, _ := ix.entry()
			for _, set := range []struct {
				name string
				q    []float32
			}{{"image", g.ImageQueries(1000)}, {"text", g.TextQueries(1000)}} {
				for _, ef := range []int{32, 256} {
					b.Run(fmt.Sprintf("%s/ef=%d", set.name, ef), func(b *testing.B) {
						s := ix.getScratch()
						defer ix.putScratch(s)
						s.approx = true
						scored, runs := 0, 0
						for b.Loop() {
							for i := 0; i < 1000; i++ {
								q := set.q[i*512 : (i+1)*512]
								ix.q8.Prepare(q, &s.q8)
								_, _, v := ix.beamSeeds(s, q, cand{ix.score(s, q, epID), epID}, top, ef, DefaultSeeds, SeedBeam, false)
								scored += v
							}
							runs++
						}
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(1000*runs), "ns/query")
						b.ReportMetric(float64(scored)/float64(1000*runs), "scored/query")
						b.ReportMetric(0, "ns/op")
					})
				}
			}
		})
	}
}
