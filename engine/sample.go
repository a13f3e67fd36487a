package engine

import (
	"context"
	"math/rand/v2"
	"path/filepath"

	"github.com/cespare/xxhash/v2"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// Source files and samples.
//
// A store's rows come from source files, each file's rows at consecutive
// store positions (Store.Source gives a row's file and its row there).
//
// The sample "sample N [per file] seed S" is drawn with Knuth's selection
// sampling (Algorithm S): the rows of a file (or, without "per file", of
// the store) are visited in order, and row i of m is taken when
// r.Uint64N(m-i) < N-taken, for r a math/rand/v2 PCG generator seeded with
// (S, xxhash64 of the file's base name) — with "per file" — or (S, 0).
// Every set of N rows is equally likely, the rows drawn do not depend on
// the other files of the store or the order of ingest, and the same seed
// on the same files draws the same rows. A file of at most N rows is taken
// whole. A shard of a dataset given its place among all the rows
// (Options.Place) draws the rows of the whole dataset's sample that are
// its own: it runs the generator through the rows before its own, so a
// shard far down a large dataset spends a few seconds a billion rows
// before it reads any.

// fileRange is the rows of one source file, [lo, hi).
type fileRange struct {
	name   string
	lo, hi uint32
}

// sourceFiles returns the source files of s in store order. It asks
// Source about O(log rows) rows per file.
func sourceFiles(s Store) []fileRange {
	n := uint32(s.NumRows())
	var out []fileRange
	for lo := uint32(0); lo < n; {
		name, base := s.Source(lo)
		// same reports whether row lo+k is the k-th row of the file after
		// row lo.
		same := func(k uint32) bool {
			f, fr := s.Source(lo + k)
			return f == name && fr == base+int64(k)
		}
		// Gallop to a k past the file's end, then bisect.
		good, step := uint32(0), uint32(1)
		for lo+good+step < n && same(good+step) {
			good += step
			step *= 2
		}
		bad := min(good+step, n-lo) // first k known (or assumed at n) not in the file
		for bad-good > 1 {
			mid := good + (bad-good)/2
			if same(mid) {
				good = mid
			} else {
				bad = mid
			}
		}
		out = append(out, fileRange{name: name, lo: lo, hi: lo + good + 1})
		lo += good + 1
	}
	return out
}

// drawSample returns the rows of the sample sp of s (see above) and,
// for each file of files, how many of its rows the sample holds. With a
// place, s is a shard of a larger store: a sample of the whole store is
// drawn over all the store's rows, the generator walked through the rows
// of the shards before this one (a few nanoseconds a row), and the rows
// drawn among this shard's are returned.
func drawSample(ctx context.Context, n int, files []fileRange, sp *query.Sample, place *Place) (*vector.Bitset, []int, error) {
	sel := vector.NewBitset(n)
	per := make([]int, len(files))
	// take visits rows [0, m) of a population of m rows in order,
	// drawing min(N, m) of them, and marks those drawn in [from, to) at
	// base + their row less from; it stops at to.
	take := func(r *rand.Rand, m, from, to uint64, base uint32) error {
		want := min(uint64(sp.N), m)
		for i := uint64(0); i < to && want > 0; i++ {
			if i%(1<<16) == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if r.Uint64N(m-i) < want {
				if i >= from {
					sel.Set(base + uint32(i-from))
				}
				want--
			}
		}
		return nil
	}
	if sp.PerFile {
		for _, f := range files {
			r := rand.New(rand.NewPCG(uint64(sp.Seed), xxhash.Sum64String(filepath.Base(f.name))))
			m := uint64(f.hi - f.lo)
			if err := take(r, m, 0, m, f.lo); err != nil {
				return nil, nil, err
			}
		}
	} else {
		m, from := uint64(n), uint64(0)
		if place != nil {
			m, from = uint64(place.Total), uint64(place.Before)
		}
		if err := take(rand.New(rand.NewPCG(uint64(sp.Seed), 0)), m, from, from+uint64(n), 0); err != nil {
			return nil, nil, err
		}
	}
	for i, f := range files {
		for w := f.lo; w < f.hi; w++ {
			if sel.Contains(w) {
				per[i]++
			}
		}
	}
	return sel, per, nil
}
