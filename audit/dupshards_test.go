package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/vector"
)

// dupsStore is a store whose URLs and texts repeat within and across any
// cut of its rows, with null URLs.
func dupsStore(n int, seed uint64) *enginetest.Store {
	r := rand.New(rand.NewPCG(seed, seed))
	urls, texts := make([]string, n), make([]string, n)
	null := make([]bool, n)
	for i := range urls {
		switch x := r.IntN(100); {
		case x < 2:
			null[i] = true
		case x < 40:
			urls[i] = fmt.Sprintf("https://dup.example/%d.jpg", r.IntN(300))
		default:
			urls[i] = fmt.Sprintf("https://uniq.example/%d.jpg", i)
		}
		texts[i] = fmt.Sprintf("caption %d", r.IntN(3))
	}
	s := enginetest.New(n).AddStrings("url", urls, null).AddStrings("text", texts, nil)
	s.BatchSize = 700
	return s
}

// dupsPartials writes the dups partial of each shard [cut[i], cut[i+1])
// of whole, the rows counted being those of sel (nil: all).
func dupsPartials(t *testing.T, whole *enginetest.Store, cut []int, key []string, sel *vector.Bitset, where string) ([][]byte, []engine.Store) {
	t.Helper()
	var files [][]byte
	var stores []engine.Store
	for i := 0; i+1 < len(cut); i++ {
		shard := whole.Rows(cut[i], cut[i+1])
		stores = append(stores, shard)
		var local *vector.Bitset
		if sel != nil {
			local = vector.NewBitset(cut[i+1] - cut[i])
			for r := cut[i]; r < cut[i+1]; r++ {
				if sel.Contains(uint32(r)) {
					local.Set(uint32(r - cut[i]))
				}
			}
		}
		var buf bytes.Buffer
		p, err := audit.WriteDupsPartial(context.Background(), &buf, shard, &audit.DupsOptions{Key: key, Selection: local, Where: where}, i+1, len(cut)-1)
		if err != nil {
			t.Fatal(err)
		}
		if p.Rows > 0 && p.Keys == 0 {
			t.Fatalf("shard %d: %+v", i+1, p)
		}
		files = append(files, buf.Bytes())
	}
	return files, stores
}

func mergeDupsBytes(files [][]byte) (*audit.DupsReport, error) {
	var fs []audit.DupsFile
	for i := len(files) - 1; i >= 0; i-- { // any order
		fs = append(fs, audit.DupsFile{Name: fmt.Sprintf("shard-%d.dups", i+1), R: bytes.NewReader(files[i])})
	}
	return audit.MergeDups(fs)
}

// TestDupsPartials cuts a store into 1, 2, 5 and 17 shards (some empty),
// writes each shard's distinct keys and merges them: the report equals
// Duplicates' on the whole store, byte for byte in JSON, with the union's
// fingerprint; for one and two key columns, every row or the even rows.
func TestDupsPartials(t *testing.T) {
	const n = 6000
	whole := dupsStore(n, 21)
	even := vector.NewBitset(n)
	for i := 0; i < n; i += 2 {
		even.Set(uint32(i))
	}
	cuts := map[int][]int{1: {0, n}, 2: {0, 2345, n}, 5: {0, 10, 1500, 1500, 4000, n}}
	for k := range 17 {
		cuts[17] = append(cuts[17], k*n/17)
	}
	cuts[17] = append(cuts[17], n)
	for _, tc := range []struct {
		key   []string
		sel   *vector.Bitset
		where string
	}{{[]string{"url"}, nil, ""}, {[]string{"url", "text"}, nil, ""}, {[]string{"url"}, even, "row is even"}} {
		want, err := audit.Duplicates(context.Background(), whole, &audit.DupsOptions{Key: tc.key, Selection: tc.sel, Where: tc.where})
		if err != nil {
			t.Fatal(err)
		}
		if want.Groups < 100 || len(want.Largest) != 10 {
			t.Fatalf("%v: %d groups: a poor test", tc.key, want.Groups)
		}
		for shards, cut := range cuts {
			files, stores := dupsPartials(t, whole, cut, tc.key, tc.sel, tc.where)
			got, err := mergeDupsBytes(files)
			if err != nil {
				t.Fatalf("%v, %d shards: %v", tc.key, shards, err)
			}
			u, _ := engine.NewUnion(stores...)
			if got.Fingerprint != u.Fingerprint() {
				t.Errorf("%v, %d shards: fingerprint %s, the union's %s", tc.key, shards, got.Fingerprint, u.Fingerprint())
			}
			w := *want
			w.Fingerprint = got.Fingerprint
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(&w)
			if !bytes.Equal(gj, wj) {
				t.Errorf("%v where %q, %d shards: merged\n%s\nthe store's\n%s", tc.key, tc.where, shards, gj, wj)
			}
		}
	}
}

// TestDupsPartialsRefused: a merge refuses a missing shard, a shard twice,
// other keys or predicates, another format, and files damaged anywhere,
// naming them; a shard cannot write the rows a dedup drops.
func TestDupsPartialsRefused(t *testing.T) {
	whole := dupsStore(3000, 22)
	cut := []int{0, 1000, 2000, 3000}
	files, _ := dupsPartials(t, whole, cut, []string{"url"}, nil, "")
	other, _ := dupsPartials(t, whole, cut, []string{"url", "text"}, nil, "")
	where, _ := dupsPartials(t, whole, cut, []string{"url"}, nil, "nsfw = 'NSFW'")
	if _, err := mergeDupsBytes(files); err != nil {
		t.Fatal(err)
	}
	// The records start after the magic line and the header line.
	body := bytes.IndexByte(files[1][len("laiondb dups partial\n"):], '\n') + len("laiondb dups partial\n") + 1
	damaged := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(files[1])) }
	for _, tc := range []struct {
		files [][]byte
		want  string
	}{
		{files[:2], "missing: 3"},
		{[][]byte{files[0], files[1], files[1], files[2]}, "shard 2 of 3 given twice"},
		{[][]byte{files[0], other[1], files[2]}, "counts keys"},
		{[][]byte{files[0], where[1], files[2]}, "counts the rows where"},
		{nil, "nothing to merge"},
		{[][]byte{files[0], []byte("{}"), files[2]}, "not a dups partial"},
		{[][]byte{files[0], damaged(func(b []byte) []byte { return bytes.Replace(b, []byte(`"format":1`), []byte(`"format":9`), 1) }), files[2]}, "format 9"},
		{[][]byte{files[0], damaged(func(b []byte) []byte { b[body+17]++; return b }), files[2]}, "do not match their digest"},
		{[][]byte{files[0], damaged(func(b []byte) []byte { return b[:len(b)-5] }), files[2]}, "truncated"},
		{[][]byte{files[0], damaged(func(b []byte) []byte { return append(b, 0) }), files[2]}, "bytes past"},
		{[][]byte{files[0], damaged(func(b []byte) []byte { copy(b[body:body+24], b[body+24:body+48]); return b }), files[2]}, "out of order"},
		{[][]byte{files[0], damaged(func(b []byte) []byte { return bytes.Replace(b, []byte(`"shards":3`), []byte(`"shards":4`), 1) }), files[2]}, "shard 2 of 4"},
	} {
		_, err := mergeDupsBytes(tc.files)
		if !errors.Is(err, audit.ErrDupsPartial) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error with %q, got %v", tc.want, err)
		}
	}
	if _, err := audit.WriteDupsPartial(context.Background(), &bytes.Buffer{}, whole, &audit.DupsOptions{KeepRows: true}, 1, 1); !errors.Is(err, audit.ErrDupsPartial) {
		t.Errorf("KeepRows in a partial: %v", err)
	}
}

// FuzzMergeDups: a dups partial file as found on disk, however damaged,
// merges with the other shards' or is refused, without a panic; whatever
// merges counts no more rows than the shards hold.
func FuzzMergeDups(f *testing.F) {
	whole := dupsStore(900, 23)
	var files [][]byte
	for k := 0; k < 3; k++ {
		var buf bytes.Buffer
		if _, err := audit.WriteDupsPartial(context.Background(), &buf, whole.Rows(k*300, (k+1)*300), nil, k+1, 3); err != nil {
			f.Fatal(err)
		}
		files = append(files, buf.Bytes())
	}
	f.Add(files[1])
	f.Fuzz(func(t *testing.T, mid []byte) {
		r, err := mergeDupsBytes([][]byte{files[0], mid, files[2]})
		if err == nil && (r.Rows > r.StoreRows || r.Duplicates >= r.Rows && r.Rows > 0) {
			t.Fatalf("merged %d rows of %d with %d duplicates", r.Rows, r.StoreRows, r.Duplicates)
		}
	})
}
