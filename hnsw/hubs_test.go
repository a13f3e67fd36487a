package hnsw

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/laiondb/laiondb/vector"
)

// drawLevels draws n rows' levels as an index with M=16 does.
func drawLevels(n int) []uint8 {
	ix := &Index{opts: Options{Seed: 1}, mult: 1 / math.Log(16)}
	levels := make([]uint8, n)
	for i := range levels {
		levels[i] = ix.levelOf(uint32(i))
	}
	return levels
}

// everyHub is the rule before MaxHubs: every node on layer 2 and above.
func everyHub(levels []uint8) []uint32 {
	var ids []uint32
	for id, l := range levels {
		if l != absent && l >= 2 {
			ids = append(ids, uint32(id))
		}
	}
	return ids
}

func TestHubIDs(t *testing.T) {
	for _, n := range []int{0, 1000, 100_000, 1_000_000, 1_100_000, 3_000_000} {
		levels := drawLevels(n)
		for i := 0; i < n; i += 97 {
			levels[i] = absent // rows not in the graph are never hubs
		}
		all := everyHub(levels)
		got := hubIDs(levels, MaxHubs)
		if len(all) <= MaxHubs {
			if !slices.Equal(got, all) {
				t.Fatalf("n=%d: %d hubs, want all %d nodes of layer 2 and above", n, len(got), len(all))
			}
			continue
		}
		if len(got) != MaxHubs || !slices.IsSorted(got) {
			t.Fatalf("n=%d: %d hubs (sorted %v), want %d", n, len(got), slices.IsSorted(got), MaxHubs)
		}
		minLevel := uint8(255)
		for _, id := range got {
			if levels[id] == absent || levels[id] < 2 {
				t.Fatalf("n=%d: hub %d has level %d", n, id, levels[id])
			}
			minLevel = min(minLevel, levels[id])
		}
		// Every node above the lowest hub layer is a hub; that layer's
		// hubs spread over the rows (the last one in the last tenth).
		for id, l := range levels {
			if l != absent && l > minLevel {
				if _, ok := slices.BinarySearch(got, uint32(id)); !ok {
					t.Fatalf("n=%d: node %d of layer %d is not a hub", n, id, l)
				}
			}
		}
		last := -1
		for _, id := range got {
			if levels[id] == minLevel {
				last = int(id)
			}
		}
		if last < n*9/10 {
			t.Fatalf("n=%d: the last hub of layer %d is row %d", n, minLevel, last)
		}
		t.Logf("n=%d: %d hubs (layer %d and above), %d nodes on layer 2 and above", n, len(got), minLevel, len(all))
	}
}

// BenchmarkSeeds measures the fixed cost a seeded search pays before its
// layer-0 search: scoring the hub set's SQ8 codes (512-d) and keeping the
// best DefaultSeeds, with every node of layer 2 and above as hubs (the
// rule before MaxHubs) and with hubIDs, at 100k, 1M and 10M nodes.
func BenchmarkSeeds(b *testing.B) {
	const dim = 512
	r := rand.New(rand.NewPCG(1, 1))
	q := make([]float32, dim)
	for i := range q {
		q[i] = float32(r.NormFloat64())
	}
	for _, n := range []int{100_000, 1_000_000, 10_000_000} {
		levels := drawLevels(n)
		for _, rule := range []struct {
			name string
			ids  []uint32
		}{{"every", everyHub(levels)}, {"bounded", hubIDs(levels, MaxHubs)}} {
			hs := &hubSet{ids: rule.ids, c: vector.SQ8{Dim: dim, Lo: make([]float32, dim), Step: make([]float32, dim), Codes: make([]uint8, len(rule.ids)*dim)}}
			for i := range hs.c.Step {
				hs.c.Step[i] = 1.0 / 255
			}
			for i := range hs.c.Codes {
				hs.c.Codes[i] = uint8(r.IntN(256))
			}
			ix := &Index{dim: dim}
			s := &scratch{approx: true}
			s.qs, s.bias = hs.c.Prepare(q, nil)
			b.Run(fmt.Sprintf("n=%d/hubs=%s", n, rule.name), func(b *testing.B) {
				for b.Loop() {
					ix.seeds(s, hs, q, DefaultSeeds)
				}
				b.ReportMetric(float64(len(rule.ids)), "hubs")
			})
		}
	}
}
