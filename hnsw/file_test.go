package hnsw

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
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
	if _, err := Open(path, clipLike(10, 16, 1)); !errors.Is(err, ErrDimension) {
		t.Errorf("Open over 16-d vectors: %v, want ErrDimension", err)
	}
	// Incremental Add on an opened (mapped) index.
	more := clipLike(4000, 32, 42) // the first 3000+20 rows equal the test set
	if err := ox.SetVectors(more); err != nil {
		t.Fatal(err)
	}
	if err := ox.Add(ctx, more, Ranges{{3000, 4000}}, nil); err != nil {
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
