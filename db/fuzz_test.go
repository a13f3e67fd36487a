package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/laiondb/laiondb/table"
)

// fuzzStore is one store per fuzzing process, reused across iterations
// (opening Badger per input would make each iteration slow); it is
// replaced when it grows large.
var fuzzStore struct {
	sync.Mutex
	d   *DB
	dir string
	n   int
}

// FuzzIngestParquet ingests mutated parquet bytes as a metadata file. It
// must never panic; a refused file wraps ErrBadInput (or is a duplicate of
// an earlier input) and leaves the store as it was; a loaded one adds
// exactly the rows it reports.
func FuzzIngestParquet(f *testing.F) {
	files, _ := filepath.Glob("testdata/hostile/*.parquet")
	for _, p := range files {
		if strings.Contains(p, "huge") {
			continue // 6 MB of caption per iteration is too slow
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	// On tmpfs when there is one: each ingest fsyncs, which is what
	// makes iterations slow on a disk.
	// Fuzz workers are killed rather than cleaned up: remove the
	// directories of workers that are gone.
	old, _ := filepath.Glob("/dev/shm/laiondb-fuzz-*")
	for _, o := range old {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(o), "laiondb-fuzz-%d", &pid); err == nil && syscall.Kill(pid, 0) != nil {
			os.RemoveAll(o)
		}
	}
	tmp := fmt.Sprintf("/dev/shm/laiondb-fuzz-%d", os.Getpid())
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		tmp = f.TempDir()
	} else {
		f.Cleanup(func() { os.RemoveAll(tmp) })
	}
	f.Cleanup(func() {
		if fuzzStore.d != nil {
			fuzzStore.d.Close()
		}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzStore.Lock()
		defer fuzzStore.Unlock()
		fuzzStore.n++
		if fuzzStore.d == nil || fuzzStore.n%2000 == 0 {
			if fuzzStore.d != nil {
				fuzzStore.d.Close()
				os.RemoveAll(fuzzStore.dir)
			}
			fuzzStore.dir = filepath.Join(tmp, fmt.Sprintf("store%d", fuzzStore.n))
			d, err := Open(fuzzStore.dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			fuzzStore.d = d
		}
		d := fuzzStore.d
		if p := os.Getenv("LAIONDB_FUZZ_TRACE"); p != "" {
			os.WriteFile(fmt.Sprintf("%s.%d", p, os.Getpid()), data, 0o644)
		}
		path := filepath.Join(tmp, "in.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		before, err := d.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Ingest(context.Background(), []Source{{Name: fmt.Sprint("in", fuzzStore.n), Metadata: path}}, nil)
		after, merr := d.Manifest()
		if merr != nil {
			t.Fatal(merr)
		}
		if err != nil {
			if !errors.Is(err, ErrBadInput) && !errors.Is(err, ErrDuplicate) {
				t.Fatalf("error does not wrap ErrBadInput: %v", err)
			}
			if !strings.Contains(err.Error(), "in.parquet") {
				t.Fatalf("error does not name the file: %v", err)
			}
			if after.fingerprint() != before.fingerprint() || after.Rows != before.Rows || len(after.Segments) != len(before.Segments) {
				t.Fatalf("refused input changed the store: %d -> %d rows", before.Rows, after.Rows)
			}
			return
		}
		if len(res) != 1 || after.Rows != before.Rows+res[0].Rows || len(after.Segments) != len(before.Segments)+1 {
			t.Fatalf("loaded %+v: rows %d -> %d", res, before.Rows, after.Rows)
		}
		// Every loaded row scans.
		s, _ := d.Snapshot()
		var mu sync.Mutex
		scanned := 0
		cols := after.Segments[len(after.Segments)-1].Columns
		if err := s.Scan(context.Background(), cols[:1], func(b *table.Batch) error {
			mu.Lock()
			scanned += b.Len
			mu.Unlock()
			return nil
		}); err != nil {
			t.Fatalf("scan after loading: %v", err)
		}
		if int64(scanned) != after.Rows {
			t.Fatalf("scanned %d rows, the store has %d", scanned, after.Rows)
		}
	})
}
