package ivf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/vector"
)

// TestWriteOpen: an index written and opened answers as it did, can be
// added to, and any flipped byte or missing tail is ErrCorrupt.
func TestWriteOpen(t *testing.T) {
	m, img, txt := testSet(t, 3000, 64, 10)
	ctx := context.Background()
	ix, err := Train(ctx, m, all(3000), Config{Lists: 16, Sub: 16, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(ctx, m, vector.Ranges{{Lo: 0, Hi: 2000}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ivf")
	if err := ix.Write(path); err != nil {
		t.Fatal(err)
	}
	back, err := Open(path, m)
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != 2000 || fmt.Sprint(back.cent, back.pq, back.ids, back.codes) != fmt.Sprint(ix.cent, ix.pq, ix.ids, ix.codes) {
		t.Fatal("the opened index differs from the written one")
	}
	same := func(a, b *Index) {
		t.Helper()
		for _, q := range append(img, txt...) {
			ra, err := a.Search(ctx, q, 10, Search{NProbe: 3, Rerank: 30})
			if err != nil {
				t.Fatal(err)
			}
			rb, err := b.Search(ctx, q, 10, Search{NProbe: 3, Rerank: 30})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ra) != fmt.Sprint(rb) {
				t.Fatalf("the opened index answers %v, the written one %v", rb, ra)
			}
		}
	}
	same(ix, back)
	// Adding to both keeps them equal; the opened one's lists are copied,
	// not written over.
	for _, x := range []*Index{ix, back} {
		if err := x.Add(ctx, m, vector.Ranges{{Lo: 2000, Hi: 3000}}); err != nil {
			t.Fatal(err)
		}
	}
	same(ix, back)

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A flipped byte in the header or the head fails the open; one in a
	// list's rows or codes fails the first read of that list: a search
	// probing every list, and Verify.
	for _, at := range []int{0, 9, 20, 30, 48, 60, headerSize, headerSize + 100, len(b) / 2, len(b) - 9, len(b) - 1} {
		bad := append([]byte(nil), b...)
		bad[at] ^= 0x10
		x, err := decode(bad, "bad")
		if err == nil {
			_, err = x.Search(ctx, img[0], 10, Search{NProbe: x.Lists()})
			if err2 := x.checkAll(); !errors.Is(err2, ErrCorrupt) {
				t.Errorf("byte %d flipped: checkAll %v, want ErrCorrupt", at, err2)
			}
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("byte %d flipped: %v, want ErrCorrupt", at, err)
		}
	}
	for _, n := range []int{0, 10, headerSize, len(b) - 8, len(b) - 1} {
		if _, err := decode(b[:n], "cut"); !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
	// A corrupt list fails an Add that grows it, and a Write: it is
	// never copied into memory or written under a new checksum.
	bad := append([]byte(nil), b...)
	bad[len(b)-1] ^= 0x10
	x, err := decode(bad, "bad")
	if err != nil {
		t.Fatal(err)
	}
	x.m = m
	if err := x.Write(filepath.Join(t.TempDir(), "copy")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Write of a corrupt list: %v", err)
	}
	if err := x.Add(ctx, m, vector.Ranges{{Lo: 2000, Hi: 3000}}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Add to a corrupt list: %v", err)
	}
	if _, err := Open(path, vector.Matrix{Dim: 32}); err == nil {
		t.Error("opened over rows of another dimension")
	}
	// The file covers the 3000 rows of m: fewer rows, or other rows, are
	// stale; more rows (added since) are not.
	if _, err := Open(path, m.Slice(0, 2999)); !errors.Is(err, ErrStale) {
		t.Errorf("opened over fewer rows: %v", err)
	}
	other, _, _ := testSet(t, 3000, 64, 1)
	other.F16 = append([]uint16(nil), m.F16...)
	other.F16[2999*64] ^= 1
	if _, err := Open(path, other); !errors.Is(err, ErrStale) {
		t.Errorf("opened over a changed last row: %v", err)
	}
	more, _, _ := testSet(t, 3500, 64, 1)
	copy(more.F16, m.F16)
	if _, err := Open(path, more); err != nil {
		t.Errorf("opened over rows added since: %v", err)
	}
	if err := Verify(path); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// TestRowPastCovered: a list holding a row past the last row the file
// says it indexes, or an end past the rows covered, is ErrCorrupt, even
// with every checksum right.
func TestRowPastCovered(t *testing.T) {
	m, _, _ := testSet(t, 500, 16, 1)
	ix := build(t, m, Config{Lists: 4, Sub: 4, Seed: 1, Iters: 2})
	path := filepath.Join(t.TempDir(), "ivf")
	ix.end = 499 // row 499 is in a list
	if err := ix.Write(path); err != nil {
		t.Fatal(err)
	}
	if err := Verify(path); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "past the 499 rows indexed") {
		t.Errorf("Verify: %v", err)
	}
	ix.end, ix.covered = 500, 499
	if err := ix.Write(path); err != nil {
		t.Fatal(err)
	}
	if err := Verify(path); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "end 500 of 499 covered") {
		t.Errorf("Verify: %v", err)
	}
}

// FuzzDecode: whatever the bytes, decode returns an index or ErrCorrupt,
// checking its lists finds them sound or ErrCorrupt, and nothing panics.
func FuzzDecode(f *testing.F) {
	m, _, _ := testSet(f, 300, 16, 1)
	ix := build(f, m, Config{Lists: 4, Sub: 4, Seed: 1, Iters: 2})
	path := filepath.Join(f.TempDir(), "ivf")
	if err := ix.Write(path); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:headerSize])
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := decode(b, "fuzz")
		if err == nil {
			err = x.checkAll()
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%v, not ErrCorrupt", err)
		}
	})
}
