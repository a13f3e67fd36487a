package hnsw

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/laiondb/laiondb/internal/hugemem"
	"github.com/laiondb/laiondb/vector"
)

func TestWriteOpen(t *testing.T) {
	ctx := context.Background()
	ix, m, qs, _ := testSet(t, 3000, 20, 32, 10, &Options{Seed: 3, M: 8, EfConstruction: 64})
	path := filepath.Join(t.TempDir(), "vectors.hnsw")
	if err := ix.Write(path); err != nil {
		t.Fatal(err)
	}
	if err := Verify(path); err != nil {
		t.Fatal(err)
	}
	ox, err := Open(path, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ox.Close() })
	if ox.Len() != ix.Len() || ox.Options().M != 8 || ox.Options().Seed != 3 || ox.Fingerprint() != Fingerprint(m) {
		t.Fatalf("reopened index: len %d opts %+v", ox.Len(), ox.Options())
	}
	for _, q := range qs {
		a, err1 := ix.Search(ctx, q, 10, nil)
		b, err2 := ox.Search(ctx, q, 10, nil)
		if err1 != nil || err2 != nil || !slices.Equal(a.Hits, b.Hits) {
			t.Fatalf("search differs after reopen: %v %v", err1, err2)
		}
	}
	// A stray temporary file from a crashed Write does not matter, and a
	// second Write replaces the file.
	os.WriteFile(path+".tmp123", []byte("partial"), 0o644)
	if err := ox.Write(path); err != nil {
		t.Fatal(err)
	}
	if err := Verify(path); err != nil {
		t.Fatal(err)
	}
	// Stale vectors.
	other := clipLike(3000, 32, 99)
	if _, err := Open(path, other); !errors.Is(err, ErrStale) {
		t.Errorf("Open over other vectors: %v, want ErrStale", err)
	}
	if _, err := Open(path, clipLike(10, 16, 1)); !errors.Is(err, vector.ErrDimension) {
		t.Errorf("Open over 16-d vectors: %v, want vector.ErrDimension", err)
	}
	// Incremental Add on an opened (mapped) index.
	more := clipLike(4000, 32, 42) // the first 3000+20 rows equal the test set
	if err := ox.SetVectors(more); err != nil {
		t.Fatal(err)
	}
	if err := ox.Add(ctx, more, vector.Ranges{{Lo: 3000, Hi: 4000}}, nil); err != nil {
		t.Fatal(err)
	}
	if ox.Len() != 4000 {
		t.Fatalf("Len after Add = %d", ox.Len())
	}
	r, err := ox.Search(ctx, more.Row(3500, nil), 1, nil)
	if err != nil || len(r.Hits) != 1 || r.Hits[0].ID != 3500 {
		t.Fatalf("row 3500 not its own nearest neighbour: %+v %v", r, err)
	}
	if err := ox.Write(path); err != nil {
		t.Fatal(err)
	}
	if err := Verify(path); err != nil {
		t.Fatal(err)
	}
}

func TestCorrupt(t *testing.T) {
	ix, m, _, _ := testSet(t, 500, 1, 16, 10, &Options{Seed: 1, M: 4, EfConstruction: 32})
	dir := t.TempDir()
	path := filepath.Join(dir, "good")
	if err := ix.Write(path); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(p, m); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Open = %v, want ErrCorrupt", name, err)
		}
		if err := Verify(p); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Verify = %v, want ErrCorrupt", name, err)
		}
	}
	for _, off := range []int{0, 9 - 1, 13, 33, 50, 100, 121, headerSize, headerSize + 200, len(good) / 2, len(good) - 1} {
		b := slices.Clone(good)
		b[off] ^= 0x10
		check("flip", b)
	}
	for _, n := range []int{0, 10, headerSize, len(good) / 2, len(good) - 1} {
		check("truncated", good[:n])
	}
	check("extended", append(slices.Clone(good), 0))
	// A flipped version is reported as unsupported, not as corrupt.
	b := slices.Clone(good)
	b[8] = 9
	os.WriteFile(filepath.Join(dir, "v9"), b, 0o644)
	if _, err := Open(filepath.Join(dir, "v9"), m); err == nil {
		t.Error("Open of version 9 succeeded")
	}
	if _, err := Open(filepath.Join(dir, "missing"), m); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: %v", err)
	}
}

// TestSQ8File checks that the SQ8 codes survive Write and Open, that an
// incremental Add extends them, and that a version 1 file (no codes) still
// opens and gets codes at its next Add.
func TestSQ8File(t *testing.T) {
	ctx := context.Background()
	ix, m, qs, truth := testSet(t, 3000, 30, 32, 10, &Options{Seed: 3, M: 8, EfConstruction: 64})
	if ix.q8 == nil || ix.q8.Len() != 3000 {
		t.Fatalf("no SQ8 codes after Add")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sq8.hnsw")
	if err := ix.Write(path); err != nil {
		t.Fatal(err)
	}
	ox, err := Open(path, m)
	if err != nil {
		t.Fatal(err)
	}
	defer ox.Close()
	if ox.q8 == nil || !slices.Equal(ox.q8.Codes, ix.q8.Codes) || !slices.Equal(ox.q8.Lo, ix.q8.Lo) || !slices.Equal(ox.q8.Step, ix.q8.Step) {
		t.Fatal("SQ8 codes differ after reopen")
	}
	// Exact scores on the hits, and recall close to the float16 traversal.
	var with, without [][]vector.Hit
	for _, q := range qs {
		a, _ := ox.Search(ctx, q, 10, &SearchOptions{Ef: 12})
		b, _ := ox.Search(ctx, q, 10, &SearchOptions{Ef: 12, NoSQ8: true})
		for _, h := range a.Hits {
			if h.Score != m.Dot(q, int(h.ID)) {
				t.Fatalf("hit %+v: score is not exact (%v)", h, m.Dot(q, int(h.ID)))
			}
		}
		with, without = append(with, a.Hits), append(without, b.Hits)
	}
	rw, ro := recallAt(10, with, truth), recallAt(10, without, truth)
	t.Logf("recall@10 at ef 12: SQ8 traversal %.3f, float16 %.3f", rw, ro)
	if rw < ro-0.02 {
		t.Errorf("SQ8 traversal recall %.3f, float16 %.3f", rw, ro)
	}
	more := clipLike(4000, 32, 42)
	if err := ox.SetVectors(more); err != nil {
		t.Fatal(err)
	}
	if err := ox.Add(ctx, more, vector.Ranges{{Lo: 3000, Hi: 4000}}, nil); err != nil {
		t.Fatal(err)
	}
	if ox.q8.Len() != 4000 || !slices.Equal(ox.q8.Codes[:3000*32], ix.q8.Codes) {
		t.Fatalf("codes not extended: %d rows", ox.q8.Len())
	}

	// A version 1 file: written without codes, version 1 header, no
	// padding after the last of its four sections.
	plain, _, _, _ := testSet(t, 3000, 1, 32, 10, &Options{Seed: 3, M: 8, EfConstruction: 64, NoSQ8: true})
	if plain.q8 != nil {
		t.Fatal("NoSQ8 index has codes")
	}
	if err := plain.Write(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	lens := sectionLens(3000, 16, len(plain.upper), 32, false)
	_, size := layout(lens, 1)
	b = b[:size]
	b[8] = 1
	binary.LittleEndian.PutUint64(b[112:], 0)
	binary.LittleEndian.PutUint64(b[120:], xxhash.Sum64(b[:120]))
	v1 := filepath.Join(dir, "v1.hnsw")
	os.WriteFile(v1, b, 0o644)
	if err := Verify(v1); err != nil {
		t.Fatal(err)
	}
	o1, err := Open(v1, m)
	if err != nil {
		t.Fatal(err)
	}
	defer o1.Close()
	if o1.q8 != nil || o1.Len() != 3000 {
		t.Fatalf("version 1 file: codes %v, len %d", o1.q8 != nil, o1.Len())
	}
	if r, err := o1.Search(ctx, qs[0], 10, &SearchOptions{Ef: 64}); err != nil || len(r.Hits) != 10 {
		t.Fatalf("search of a version 1 index: %v", err)
	}
	if err := o1.Add(ctx, m, nil, nil); err != nil || o1.q8 == nil || o1.q8.Len() != 3000 {
		t.Fatalf("Add on a version 1 index: %v, codes %v", err, o1.q8 != nil)
	}
}

// TestHugeSections: an index opened with its links and codes copied into
// huge-page memory answers exactly as from the file mapping, keeps
// working after an Add moves them to the heap, and releases them at Close.
func TestHugeSections(t *testing.T) {
	ctx := context.Background()
	ix, m, qs, _ := testSet(t, 3000, 30, 32, 10, &Options{Seed: 3, M: 8, EfConstruction: 64})
	path := filepath.Join(t.TempDir(), "huge.hnsw")
	if err := ix.Write(path); err != nil {
		t.Fatal(err)
	}
	open := func(min int) *Index {
		defer func(old int) { minHuge = old }(minHuge)
		minHuge = min
		ox, err := OpenWith(path, m, &OpenOptions{HugePages: true})
		if err != nil {
			t.Fatal(err)
		}
		return ox
	}
	mapped, huge := open(1<<40), open(0)
	defer mapped.Close()
	plain, err := Open(path, m)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if mapped.mapped.huge != nil || plain.mapped.huge != nil {
		t.Fatal("copied below minHuge, or without HugePages")
	}
	if hugemem.On() != (huge.mapped.huge != nil) {
		t.Fatalf("transparent huge pages %v, copy made %v", hugemem.On(), huge.mapped.huge != nil)
	}
	if !slices.Equal(huge.links0, ix.links0) || !slices.Equal(huge.q8.Codes, ix.q8.Codes) {
		t.Fatal("copied sections differ from the index")
	}
	for _, q := range qs {
		for _, ef := range []int{10, 64} {
			a, _ := mapped.Search(ctx, q, 10, &SearchOptions{Ef: ef, Seeds: DefaultSeeds})
			b, _ := huge.Search(ctx, q, 10, &SearchOptions{Ef: ef, Seeds: DefaultSeeds})
			if !slices.Equal(a.Hits, b.Hits) || a.Scored != b.Scored {
				t.Fatalf("ef %d: mapped %v (%d scored), huge pages %v (%d)", ef, a.Hits, a.Scored, b.Hits, b.Scored)
			}
		}
	}
	more := clipLike(3500, 32, 42)
	if err := huge.SetVectors(more); err != nil {
		t.Fatal(err)
	}
	if err := huge.Add(ctx, more, vector.Ranges{{Lo: 3000, Hi: 3500}}, nil); err != nil {
		t.Fatal(err)
	}
	if huge.q8.Len() != 3500 || !slices.Equal(huge.q8.Codes[:3000*32], ix.q8.Codes) || huge.mapped != nil {
		t.Fatalf("after Add: %d codes, mapping %v", huge.q8.Len(), huge.mapped != nil)
	}
	if r, err := huge.Search(ctx, qs[0], 10, &SearchOptions{Ef: 32, Seeds: DefaultSeeds}); err != nil || len(r.Hits) != 10 {
		t.Fatalf("search after Add: %v", err)
	}
	if err := huge.Close(); err != nil {
		t.Fatal(err)
	}
	again := open(0)
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}
