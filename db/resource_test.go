package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/demodata"
)

// Resource errors: a full disk, a read-only store and a missing store give
// clear errors and do no damage. The full and read-only file systems are
// small tmpfs mounts, which needs root (or CAP_SYS_ADMIN); where mount is
// not permitted these tests skip and say so. Note that chmod cannot make a
// store read-only for root, so a read-only remount is used instead.

// mountTmpfs mounts a tmpfs of the given size ("8m") on a fresh directory
// and unmounts it at cleanup; it skips the test when mounting fails.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a size-limited tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount -t tmpfs is not permitted here (%v: %s); skipping", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func remount(t *testing.T, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v: %s", dir, opts, err, out)
	}
}

func checkOK(t *testing.T, d *DB) {
	t.Helper()
	r, err := d.Check(context.Background())
	if err != nil || !r.OK() {
		t.Fatalf("check: %v %v", err, r.Problems)
	}
}

// TestDiskFull fills a 6 MB tmpfs with an ingest. The ingest runs in a
// child process, because Badger writes its tables through mmap and a full
// tmpfs answers that with SIGBUS, which no Go code can recover from. The
// store must survive either way: whole files only, Check OK, and the same
// ingest completes once there is space.
func TestDiskFull(t *testing.T) {
	if os.Getenv("LAIONDB_DISKFULL_STORE") != "" {
		t.Skip("child")
	}
	fs := mountTmpfs(t, "6m")
	tmp := t.TempDir()
	small, err := demodata.EmbeddingFolder(filepath.Join(tmp, "small"), demodata.Config{Seed: 51, Parts: 1, Rows: 300, Dim: 64})
	if err != nil {
		t.Fatal(err)
	}
	// 3 × 8000 rows × 64 × 2 bytes × (image + text) = 6 MB of vectors alone.
	big, err := demodata.EmbeddingFolder(filepath.Join(tmp, "big"), demodata.Config{Seed: 52, Parts: 3, Rows: 8000, Dim: 64})
	if err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(fs, "store")
	d, err := Open(store, nil)
	if err != nil {
		t.Fatalf("open on a 6 MB tmpfs: %v", err)
	}
	ingestPaths(t, d, small.Dir)
	before := storeState(t, d)
	d.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullChild$", "-test.v")
	cmd.Env = append(os.Environ(), "LAIONDB_DISKFULL_STORE="+store, "LAIONDB_DISKFULL_SRC="+big.Dir)
	out, cerr := cmd.CombinedOutput()
	crashed := ""
	switch {
	case strings.Contains(string(out), "INGEST-ERR:"):
		line := string(out)[strings.Index(string(out), "INGEST-ERR:"):]
		line = line[:strings.IndexByte(line, '\n')]
		t.Logf("child: %s", line)
		if !strings.Contains(line, "no space left") {
			t.Errorf("error does not say the disk is full: %s", line)
		}
	case strings.Contains(string(out), "INGEST-OK"):
		t.Fatalf("ingest of 6 MB into a 6 MB file system succeeded:\n%s", out)
	default:
		i := strings.Index(string(out), "signal ")
		if i < 0 {
			i = 0
		}
		crashed = string(out)[i:min(len(out), i+60)]
		t.Logf("child crashed (%v): %s", cerr, crashed)
	}
	// Free space first: on a full tmpfs even opening the store dies of
	// SIGBUS, as Badger replays its log through mmap (reported). Then the
	// store opens with only whole files and checks out.
	remount(t, fs, "size=64m")
	r, err := Open(store, &Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open on the full disk: %v", err)
	}
	checkOK(t, r)
	in, _ := r.Info()
	if (in.Rows-300)%8000 != 0 {
		t.Errorf("rows on reopen = %d: not whole files", in.Rows)
	}
	if in.Rows == 300 {
		if got := storeState(t, r); got != before {
			t.Errorf("store changed by a failed ingest:\n got %s\nwant %s", got, before)
		}
	}
	r.Close()
	// The store opens read-write, and the same ingest completes, without
	// duplicates.
	d = openTest(t, store)
	checkOK(t, d)
	srcs, _ := ExpandPaths([]string{big.Dir})
	if _, err := d.Ingest(context.Background(), srcs, nil); err != nil {
		t.Fatalf("ingest after freeing space: %v", err)
	}
	if st := storeState(t, d); !strings.Contains(st, "rows=24300 segs=4 ") || !strings.Contains(st, "scanned=24300 ") {
		t.Errorf("after completing the ingest: %s", st)
	}
	checkOK(t, d)
	if crashed != "" {
		t.Errorf("on a full disk the ingest crashed the process (%s) instead of refusing with ErrNoSpace", crashed)
	}
}

// TestDiskFullChild is the child of TestDiskFull.
func TestDiskFullChild(t *testing.T) {
	store := os.Getenv("LAIONDB_DISKFULL_STORE")
	if store == "" {
		t.Skip("run by TestDiskFull")
	}
	d, err := Open(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srcs, _ := ExpandPaths([]string{os.Getenv("LAIONDB_DISKFULL_SRC")})
	if _, err := d.Ingest(context.Background(), srcs, nil); err != nil {
		fmt.Printf("INGEST-ERR: %v\n", err)
		return
	}
	fmt.Println("INGEST-OK")
}

func TestReadOnlyStore(t *testing.T) {
	fs := mountTmpfs(t, "32m")
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 53, Parts: 2, Rows: 300, Dim: 32})
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := ExpandPaths([]string{emb.Dir})
	store := filepath.Join(fs, "store")
	d, err := Open(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ingest(context.Background(), srcs[:1], nil); err != nil {
		t.Fatal(err)
	}
	want := storeState(t, d)
	d.Close()
	remount(t, fs, "ro")
	ro := true
	t.Cleanup(func() {
		if ro {
			remount(t, fs, "rw")
		}
	})
	// A writer is refused with a clear error.
	if d, err := Open(store, nil); err == nil {
		d.Close()
		t.Fatal("read-write open of a store on a read-only file system succeeded")
	} else if !strings.Contains(err.Error(), "read-only file system") || !strings.Contains(err.Error(), store) {
		t.Errorf("read-write open: %v", err)
	} else {
		t.Logf("read-write open: %v", err)
	}
	// Creating a store there is refused too.
	if _, err := Open(filepath.Join(fs, "new"), nil); err == nil || !strings.Contains(err.Error(), "read-only file system") {
		t.Errorf("creating a store on a read-only file system: %v", err)
	}
	// A reader works and sees the store as it was.
	r, err := Open(store, &Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open on a read-only file system: %v", err)
	}
	if got := storeState(t, r); got != want {
		t.Errorf("read-only view:\n got %s\nwant %s", got, want)
	}
	checkOK(t, r)
	if _, err := r.Query(context.Background(), "all where text contains 'desi'", nil); err != nil {
		t.Errorf("query on a read-only file system: %v", err)
	}
	r.Close()
	// Writable again: the store opens, checks out and takes the rest.
	remount(t, fs, "rw")
	ro = false
	d = openTest(t, store)
	if got := storeState(t, d); got != want {
		t.Errorf("after remount:\n got %s\nwant %s", got, want)
	}
	checkOK(t, d)
	if _, err := d.Ingest(context.Background(), srcs, nil); err != nil {
		t.Fatal(err)
	}
	checkComplete(t, d, 600)
}

func TestMissingStore(t *testing.T) {
	tmp := t.TempDir()
	// Read-only open of a store that does not exist.
	if _, err := Open(filepath.Join(tmp, "nope"), &Options{ReadOnly: true}); !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing store, read-only: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tmp, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a read-only open created the store directory")
	}
	// A store path under a regular file.
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err := Open(filepath.Join(file, "store"), nil); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("store under a file: %v", err)
	}
	if _, err := Open(file, nil); err == nil {
		t.Errorf("a regular file opened as a store")
	} else {
		t.Logf("regular file as store: %v", err)
	}
	// The store directory removed while open: the ingest fails clearly,
	// and nothing is recreated half-way.
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 54, Parts: 1, Rows: 200, Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(tmp, "store")
	d := openTest(t, store)
	ingestPaths(t, d, emb.Dir)
	// Missing input files are bad input naming the file; the store is unchanged.
	before := storeState(t, d)
	if _, err := d.Ingest(context.Background(), []Source{{Metadata: filepath.Join(tmp, "gone.parquet")}}, nil); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "gone.parquet") {
		t.Errorf("missing metadata file: %v", err)
	}
	if got := storeState(t, d); got != before {
		t.Errorf("store changed:\n got %s\nwant %s", got, before)
	}
	meta := filepath.Join(emb.Dir, "metadata", "metadata_0.parquet")
	if _, err := d.Ingest(context.Background(), []Source{{Name: "x", Metadata: meta, ImageEmb: filepath.Join(tmp, "gone.npy")}}, nil); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "gone.npy") {
		t.Errorf("missing npy file: %v", err)
	}
}
