package db

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/demodata"
)

// checkStore builds a small store and returns its directory, closed.
func checkStore(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 8, Parts: 2, Rows: 300, Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "store")
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ingestPaths(t, d, emb.Dir)
	d.Close()
	return dir
}

func runCheck(t *testing.T, dir string) (*CheckReport, error) {
	t.Helper()
	d, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Check(context.Background())
}

func flip(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += int64(len(b))
	}
	b[off] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	dir := checkStore(t)
	r, err := runCheck(t, dir)
	if err != nil || !r.OK() || r.Rows != 600 || r.Vectors != 1200 || r.Blocks == 0 {
		t.Fatalf("clean store: %+v, %v", r, err)
	}

	t.Run("vector byte", func(t *testing.T) {
		dir := checkStore(t)
		flip(t, filepath.Join(dir, "vectors", "img.f16"), 450*16*2+3)
		r, err := runCheck(t, dir)
		if err != nil || r.OK() || !strings.Contains(r.Problems[0].What, "digest") {
			t.Fatalf("report %+v, %v", r, err)
		}
	})
	t.Run("text vector byte", func(t *testing.T) {
		dir := checkStore(t)
		flip(t, filepath.Join(dir, "vectors", "txt.f16"), 7)
		if r, err := runCheck(t, dir); err != nil || r.OK() {
			t.Fatalf("report %+v, %v", r, err)
		}
	})
	t.Run("manifest byte", func(t *testing.T) {
		dir := checkStore(t)
		b, _ := os.ReadFile(filepath.Join(dir, manifestName))
		i := bytes.Index(b, []byte(`"rows": 300`))
		flip(t, filepath.Join(dir, manifestName), int64(i+9))
		if _, err := runCheck(t, dir); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("column block byte", func(t *testing.T) {
		dir := checkStore(t)
		// Find a caption in Badger's files and damage it.
		var hit string
		var off int
		filepath.Walk(filepath.Join(dir, metaDir), func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() || hit != "" {
				return nil
			}
			b, _ := os.ReadFile(p)
			if i := bytes.Index(b, []byte("https://img")); i >= 0 {
				hit, off = p, i+3
			}
			return nil
		})
		if hit == "" {
			t.Fatal("no url bytes found in the metadata databases")
		}
		flip(t, hit, int64(off))
		r, err := runCheck(t, dir)
		if err == nil && r.OK() {
			t.Fatalf("damage in %s not detected", filepath.Base(hit))
		}
		if err == nil && !strings.Contains(r.Problems[0].What, "checksum") {
			t.Errorf("problem = %v", r.Problems)
		}
	})
}
