package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/demodata"
)

// TestDiff builds an old store of three LAION parts and a new one with
// known rows removed and others added, and diffs them by SAMPLE_ID and by
// URL.
func TestDiff(t *testing.T) {
	tmp := t.TempDir()
	mk := func(name string, parts [][]demodata.Row) string {
		dir := filepath.Join(tmp, name)
		os.MkdirAll(dir, 0o755)
		var paths []string
		for i, rows := range parts {
			p := filepath.Join(dir, fmt.Sprintf("part-%05d.parquet", i))
			if err := demodata.WriteParquet(p, "laion400m", rows); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
		store := filepath.Join(tmp, name+"-store")
		d, err := db.Open(store, nil)
		if err != nil {
			t.Fatal(err)
		}
		srcs, err := db.ExpandPaths(paths)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Ingest(context.Background(), srcs, nil); err != nil {
			t.Fatal(err)
		}
		d.Close()
		return store
	}
	var oldParts, newParts [][]demodata.Row
	removed := map[int64]bool{}
	removedNSFW := map[string]int{}
	for p := range 3 {
		rows := demodata.Rows(5, p, 400, nil)
		oldParts = append(oldParts, rows)
		var kept []demodata.Row
		for i, r := range rows {
			if p == 1 && i%10 == 3 || p == 2 && i < 7 {
				removed[r.SampleID] = true
				k := "<null>"
				if r.NSFW != nil {
					k = *r.NSFW
				}
				removedNSFW[k]++
				continue
			}
			kept = append(kept, r)
		}
		newParts = append(newParts, kept)
	}
	added := demodata.Rows(5, 9, 25, nil) // sample ids 9,000,000+
	newParts = append(newParts, added)
	oldStore, newStore := mk("old", oldParts), mk("new", newParts)
	open := func(dir string) *db.DB {
		d, err := db.Open(dir, &db.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	o, _ := open(oldStore).Snapshot()
	n, _ := open(newStore).Snapshot()
	r, err := audit.Diff(context.Background(), o, n, &audit.DiffOptions{KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Old.Only != len(removed) || r.New.Only != 25 || r.Common != 1200-len(removed) || r.Old.Rows != 1200 {
		t.Fatalf("diff: old only %d (want %d), new only %d (want 25), common %d", r.Old.Only, len(removed), r.New.Only, r.Common)
	}
	for _, l := range r.Old.ByNSFW {
		k := l.Value
		if l.Null {
			k = "<null>"
		}
		if removedNSFW[k] != l.Count {
			t.Errorf("removed rows with nsfw %q: %d, want %d", k, l.Count, removedNSFW[k])
		}
	}
	if len(r.Old.ByFile) != 2 || r.Old.ByFile[0].Rows != 40 || r.Old.ByFile[1].Rows != 7 {
		t.Errorf("removed by file: %+v", r.Old.ByFile)
	}
	if len(r.Old.OnlyRows) != len(removed) || r.Old.OnlyRows[0] != 403 {
		t.Errorf("removed rows: %v", r.Old.OnlyRows[:3])
	}
	// By URL: demodata URLs embed the SAMPLE_ID, so the same rows differ
	// (rows with a null URL share one key).
	ru, err := audit.Diff(context.Background(), o, n, &audit.DiffOptions{Key: []string{"url"}})
	if err != nil {
		t.Fatal(err)
	}
	if ru.New.Only != 25-nullURLs(added) || ru.Old.DuplicateKeys == 0 && nullURLs(oldParts[0]) > 1 {
		t.Errorf("by url: %+v", ru)
	}
	if _, err := audit.Diff(context.Background(), o, n, &audit.DiffOptions{Key: []string{"nosuch"}}); err == nil {
		t.Error("a missing key column gave no error")
	}
}

func nullURLs(rows []demodata.Row) int {
	n := 0
	for _, r := range rows {
		if r.URL == nil {
			n++
		}
	}
	return n
}
