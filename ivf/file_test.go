package ivf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	for _, at := range []int{0, 9, 20, 30, 60, headerSize, headerSize + 100, len(b) / 2, len(b) - 9, len(b) - 1} {
		bad := append([]byte(nil), b...)
		bad[at] ^= 0x10
		if _, err := decode(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("byte %d flipped: %v, want ErrCorrupt", at, err)
		}
	}
	for _, n := range []int{0, 10, headerSize, len(b) - 8, len(b) - 1} {
		if _, err := decode(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
	if _, err := Open(path, vector.Matrix{Dim: 32}); err == nil {
		t.Error("opened over rows of another dimension")
	}
}

// FuzzDecode: whatever the bytes, decode returns an index or ErrCorrupt,
// and never panics.
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
		if _, err := decode(b); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%v, not ErrCorrupt", err)
		}
	})
}
