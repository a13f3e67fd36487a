package npy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// addHostileSeeds adds the npy files of the db hostile corpus as seeds
// (testdata/fuzz holds more, and the crashers found so far).
func addHostileSeeds(f *testing.F) {
	files, _ := filepath.Glob("../../db/testdata/hostile/*.npy")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	var buf bytes.Buffer
	WriteHeader(&buf, Float16, 3, 4)
	f.Add(append(buf.Bytes(), make([]byte, 24)...))
}

// FuzzNpyHeader: ReadHeader never panics, accepts only shapes it can
// describe, and what it accepts re-encodes to the same header.
func FuzzNpyHeader(f *testing.F) {
	addHostileSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if h.Rows < 0 || h.Cols < 0 || h.Cols > MaxCols || (h.Rows > 0 && h.Cols == 0) {
			t.Fatalf("accepted shape (%d, %d)", h.Rows, h.Cols)
		}
		if h.DType != Float16 && h.DType != Float32 {
			t.Fatalf("accepted dtype %v", h.DType)
		}
		if h.DataOffset > int64(len(data)) || h.DataOffset < 10 {
			t.Fatalf("data offset %d outside the %d-byte input", h.DataOffset, len(data))
		}
		var buf bytes.Buffer
		if err := WriteHeader(&buf, h.DType, h.Rows, h.Cols); err != nil {
			t.Fatal(err)
		}
		h2, err := ReadHeader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("re-encoded header of %+v does not read back: %v", h, err)
		}
		if h2.DType != h.DType || h2.Rows != h.Rows || h2.Cols != h.Cols {
			t.Fatalf("re-encoded %+v read back as %+v", h, h2)
		}
		if h2.DataOffset != int64(buf.Len()) || h2.DataOffset%64 != 0 {
			t.Fatalf("re-encoded header is %d bytes, data offset %d", buf.Len(), h2.DataOffset)
		}
	})
}

// FuzzNpyOpen: Open never panics; a file it opens has exactly the bytes its
// header says, and every row reads.
func FuzzNpyOpen(f *testing.F) {
	addHostileSeeds(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "x.npy")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		nf, err := Open(path)
		if err != nil {
			return
		}
		defer nf.Close()
		rowBytes := nf.Cols * nf.DType.Size()
		if want := nf.DataOffset + int64(nf.Rows)*int64(rowBytes); want != int64(len(data)) {
			t.Fatalf("opened a %d-byte file whose header needs %d", len(data), want)
		}
		if rowBytes == 0 {
			return
		}
		buf := make([]byte, 7*rowBytes)
		rows := 0
		for {
			n, err := nf.ReadRaw(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("row %d: %v", rows, err)
			}
			rows += n
		}
		if rows != nf.Rows {
			t.Fatalf("read %d rows, header says %d", rows, nf.Rows)
		}
	})
}
