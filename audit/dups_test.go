package audit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/vector"
)

// TestDuplicates plants groups of equal URLs (and null URLs) and checks the
// counts, the histogram and the drop list against a row-by-row count.
func TestDuplicates(t *testing.T) {
	const n = 20000
	r := rand.New(rand.NewPCG(4, 4))
	urls := make([]string, n)
	null := make([]bool, n)
	for i := range urls {
		switch x := r.IntN(100); {
		case x < 2:
			null[i] = true
		case x < 30:
			urls[i] = fmt.Sprintf("https://dup.example/%d.jpg", r.IntN(500)) // many small groups
		default:
			urls[i] = fmt.Sprintf("https://uniq.example/%d.jpg", i)
		}
	}
	s := enginetest.New(n).AddStrings("url", urls, null)
	s.BatchSize = 1000
	rep, err := audit.Duplicates(context.Background(), s, &audit.DupsOptions{KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var drop []uint32
	for i, u := range urls {
		k := "v" + u
		if null[i] {
			k = "null"
		}
		if seen[k] > 0 {
			drop = append(drop, uint32(i))
		}
		seen[k]++
	}
	sizes := map[int]int{}
	groups := 0
	for _, c := range seen {
		if c > 1 {
			sizes[c]++
			groups++
		}
	}
	if rep.Keys != len(seen) || rep.Groups != groups || rep.Duplicates != len(drop) || !slices.Equal(rep.Drop, drop) {
		t.Errorf("keys %d groups %d duplicates %d; want %d %d %d", rep.Keys, rep.Groups, rep.Duplicates, len(seen), groups, len(drop))
	}
	for _, g := range rep.Sizes {
		if sizes[g.Size] != g.Groups {
			t.Errorf("groups of %d rows: %d, want %d", g.Size, g.Groups, sizes[g.Size])
		}
	}
	if len(rep.Sizes) != len(sizes) || len(rep.Largest) != 10 || rep.Largest[0].Rows < rep.Largest[9].Rows {
		t.Errorf("sizes %v, largest %v", rep.Sizes, rep.Largest)
	}

	// The even rows only: each dropped row keeps its key's first even row.
	sel := vector.NewBitset(n)
	for i := 0; i < n; i += 2 {
		sel.Set(uint32(i))
	}
	rep, err = audit.Duplicates(context.Background(), s, &audit.DupsOptions{Selection: sel, KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]uint32{}
	drop = nil
	var kept []uint32
	for i := 0; i < n; i += 2 {
		k := "v" + urls[i]
		if null[i] {
			k = "null"
		}
		if f, ok := first[k]; ok {
			drop, kept = append(drop, uint32(i)), append(kept, f)
		} else {
			first[k] = uint32(i)
		}
	}
	if rep.Rows != n/2 || rep.StoreRows != n || rep.Keys != len(first) || !slices.Equal(rep.Drop, drop) || !slices.Equal(rep.Kept, kept) {
		t.Errorf("even rows: %d rows of %d, %d keys, %d dropped; want %d, %d, %d", rep.Rows, rep.StoreRows, rep.Keys, len(rep.Drop), n/2, len(first), len(drop))
	}
}
