package db

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/engine"
)

// TestNormsFile: an ingest stores its rows' inverse norms beside the
// vectors; an open reads them, and a missing, short, overlong or
// mismatching file is repaired by a writer and worked around by a reader,
// with the same answers throughout.
func TestNormsFile(t *testing.T) {
	d, all, srcs := ivfStore(t, 2, 3000, &Options{})
	ctx := context.Background()
	if _, err := d.Ingest(ctx, srcs, &IngestOptions{NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	dir := d.dir
	q := all[1234*64 : 1235*64]
	search := func(db *DB) string {
		t.Helper()
		res, err := db.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true, Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(res.Hits)
	}
	want := search(d)
	d.Close()
	path := filepath.Join(dir, "vectors", "img.inv")
	good, err := os.ReadFile(path)
	if err != nil || len(good) != 4*6000 {
		t.Fatalf("norms file: %d bytes, %v", len(good), err)
	}
	for _, tc := range []struct {
		name string
		file []byte // nil: no file
	}{
		{"missing", nil},
		{"short", good[:4*2500]},
		{"overlong", append(append([]byte(nil), good...), 1, 2, 3, 4, 5, 6, 7, 8)},
		{"a sampled row changed", func() []byte { b := append([]byte(nil), good...); b[4*(3000*32/64)] ^= 1; return b }()},
	} {
		for _, readOnly := range []bool{true, false} {
			os.Remove(path)
			if tc.file != nil {
				if err := os.WriteFile(path, tc.file, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Open(dir, &Options{ReadOnly: readOnly})
			if err != nil {
				t.Fatal(err)
			}
			if got := search(r); got != want {
				t.Errorf("%s, read-only %v: %s, want %s", tc.name, readOnly, got, want)
			}
			r.Close()
			b, _ := os.ReadFile(path)
			switch {
			case !readOnly && !bytes.Equal(b, good):
				t.Errorf("%s: the writer left a norms file of %d bytes, not the %d of the ingest", tc.name, len(b), len(good))
			case readOnly && !bytes.Equal(b, tc.file):
				t.Errorf("%s: a reader changed the norms file", tc.name)
			}
		}
	}
	// A norm changed at a row the open does not check: check finds it.
	bad := append([]byte(nil), good...)
	bad[4*1501] ^= 1
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := r.Check(ctx)
	if err != nil || rep.OK() || rep.Problems[0].Where != "img.inv" || !strings.Contains(rep.Problems[0].What, "row 1501: inverse norm") {
		t.Errorf("check of a changed norm: %v %+v", err, rep)
	}
}
