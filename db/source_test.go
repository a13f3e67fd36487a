package db

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/table"
)

// memSegment is a SegmentReader over rows held in memory, read by the
// "test-memory" layout: a layout that reads no parquet, and one that can
// break the reader's contract on request.
type memSegment struct {
	file   string // its provenance: any file, checksummed
	rows   int
	img    *memVectors
	breaks string // "type": a batch with a value of another type; "short": a short batch before the end
}

var memSegments sync.Map // Source.Metadata → *memSegment

func init() {
	mustRegister(Layout{Name: "test-memory", Open: func(s Source, _ SourceOptions) (SegmentReader, error) {
		m, ok := memSegments.Load(s.Metadata)
		if !ok {
			return nil, fmt.Errorf("%w: %s: no such memory segment", ErrBadInput, s.Metadata)
		}
		seg := *m.(*memSegment)
		if seg.img != nil {
			v := *seg.img
			seg.img = &v
		}
		return &seg, nil
	}})
}

func (m *memSegment) Info() SegmentInfo {
	return SegmentInfo{Name: filepath.Base(m.file), Path: m.file, Rows: int64(m.rows),
		Columns: []table.ColumnInfo{{Name: "n", Type: table.TypeInt}, {Name: "text", Type: table.TypeString}}}
}

func (m *memSegment) ReadColumn(i int, emit func(*ColumnBatch) error) error {
	b := NewColumnBatch(m.Info().Columns[i].Type)
	for r := 0; r < m.rows; r++ {
		switch {
		case m.breaks == "type" && r == 7:
			b.AppendFloat(1.5)
		case i == 0:
			b.AppendInt(int64(r))
		case r%3 == 0:
			b.AppendNull()
		default:
			b.AppendString([]byte(fmt.Sprintf("label %d", r%5)))
		}
		if b.Full() || (m.breaks == "short" && b.Len() == 100) {
			if err := emit(b); err != nil {
				return err
			}
			b.Reset()
		}
	}
	if b.Len() > 0 {
		return emit(b)
	}
	return nil
}

func (m *memSegment) Image() VectorReader {
	if m.img == nil {
		return nil
	}
	return m.img
}

func (m *memSegment) Text() VectorReader { return nil }

func (m *memSegment) Provenance() ([]SourceFile, error) {
	sf, err := checksum(m.file)
	sf.Role, sf.Rows = "metadata", int64(m.rows)
	return []SourceFile{sf}, err
}

func (m *memSegment) Close() error { return nil }

// memVectors are float32 vectors: row r is (r+1, 0, ..., 0), not unit-norm.
type memVectors struct {
	path      string
	dim, rows int
	next      int
}

func (v *memVectors) Path() string  { return v.path }
func (v *memVectors) DType() string { return "float32" }
func (v *memVectors) Dim() int      { return v.dim }
func (v *memVectors) Rows() int64   { return int64(v.rows) }
func (v *memVectors) ReadRaw(dst []byte) (int, error) {
	n := min(len(dst)/(4*v.dim), v.rows-v.next)
	if n == 0 {
		return 0, io.EOF
	}
	clear(dst[:n*4*v.dim])
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(dst[i*4*v.dim:], math.Float32bits(float32(v.next+i+1)))
	}
	v.next += n
	return n, nil
}

// memSource registers a memory segment of rows rows backed by a file of
// its own, and returns its source.
func memSource(t *testing.T, dir string, seg memSegment) Source {
	t.Helper()
	seg.file = filepath.Join(dir, t.Name()+fmt.Sprint(seg.rows, seg.breaks)+".mem")
	if err := os.MkdirAll(filepath.Dir(seg.file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seg.file, []byte(seg.file), 0o644); err != nil {
		t.Fatal(err)
	}
	memSegments.Store(seg.file, &seg)
	return Source{Metadata: seg.file, Layout: "test-memory"}
}

// TestSegmentReaderContract ingests through a reader that is not parquet,
// and through readers that break the contract: those are refused and
// leave the store as it was.
func TestSegmentReaderContract(t *testing.T) {
	tmp := t.TempDir()
	d := openTest(t, filepath.Join(tmp, "store"))
	const rows = 2*BlockRows + 1000
	good := memSource(t, tmp, memSegment{rows: rows, img: &memVectors{path: "mem-img", dim: 4, rows: rows}})
	res, err := d.Ingest(context.Background(), []Source{good}, &IngestOptions{NoIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Rows != rows || res[0].Normalized != rows-1 {
		t.Fatalf("results %+v", res)
	}
	m, _ := d.Manifest()
	if m.Dim != 4 || m.DType != "float32" || !m.Segments[0].HasImage || m.Segments[0].Stats.Nulls["text"] != (rows+2)/3 {
		t.Errorf("manifest: dim %d %s, segment %+v", m.Dim, m.DType, m.Segments[0])
	}
	r, err := d.Query(context.Background(), fmt.Sprintf("all where n >= %d and text = 'label 1'", rows-1000), &engine.Options{Rows: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := rows - 1000; i < rows; i++ {
		if i%3 != 0 && i%5 == 1 {
			want++
		}
	}
	if r.Selected != want || len(r.Rows) != 1 || r.Rows[0].FileRow != int64(r.Rows[0].Row) {
		t.Errorf("query: selected %d, rows %+v", r.Selected, r.Rows)
	}

	before := storeState(t, d)
	for _, c := range []struct {
		seg  memSegment
		err  error
		want string
	}{
		{memSegment{rows: 500, breaks: "type"}, ErrBadInput, "not all of the column's type"},
		{memSegment{rows: BlockRows + 500, breaks: "short"}, ErrBadInput, "batches must be full"},
		{memSegment{rows: 500, img: &memVectors{path: "mem-img-499", dim: 4, rows: 499}}, ErrBadInput, "mem-img-499 has 499 rows"},
		{memSegment{rows: 500, img: &memVectors{path: "mem-img-dim8", dim: 8, rows: 500}}, ErrDimension, "the store has 4"},
	} {
		src := memSource(t, tmp, c.seg)
		_, err := d.Ingest(context.Background(), []Source{src}, nil)
		if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %v with %q", c.seg, err, c.err, c.want)
		}
		if got := storeState(t, d); got != before {
			t.Errorf("%+v changed the store:\n got %s\nwant %s", c.seg, got, before)
		}
	}
	if _, err := d.Ingest(context.Background(), []Source{{Metadata: "x", Layout: "no-such-layout"}}, nil); !errors.Is(err, ErrBadInput) {
		t.Errorf("unknown layout: %v", err)
	}
	if err := RegisterLayout(Layout{Name: "laion-parts", Open: func(Source, SourceOptions) (SegmentReader, error) { return nil, nil }}); err == nil {
		t.Error("a second laion-parts layout was registered")
	}
}

// TestExpandPathsLayouts: each kind of path goes to its layout, in the
// registered order.
func TestExpandPathsLayouts(t *testing.T) {
	tmp := t.TempDir()
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 1, Parts: 2, Rows: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 1, Parts: 2, Rows: 10, Dim: 8}); err != nil {
		t.Fatal(err)
	}
	// An embedding folder with parquet files of its own is still one.
	if err := os.WriteFile(filepath.Join(tmp, "emb", "stray.parquet"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	srcs, err := ExpandPaths([]string{filepath.Join(tmp, "parts"), filepath.Join(tmp, "emb"), filepath.Join(tmp, "parts", "part-00001.snappy.parquet")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range srcs {
		got = append(got, fmt.Sprintf("%s %s %s", s.Layout, s.Name, filepath.Base(s.Metadata)))
	}
	want := []string{
		"laion-parts  part-00000.snappy.parquet", "laion-parts  part-00001.snappy.parquet",
		"clip-retrieval emb/metadata_0.parquet metadata_0.parquet", "clip-retrieval emb/metadata_1.parquet metadata_1.parquet",
		"laion-parts  part-00001.snappy.parquet",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ExpandPaths:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []string{filepath.Join(tmp, "emb", "img_emb", "img_emb_0.npy"), t.TempDir()} {
		if _, err := ExpandPaths([]string{bad}); !errors.Is(err, ErrBadInput) {
			t.Errorf("ExpandPaths(%s): %v", bad, err)
		}
	}
	// laion-parts, which takes any folder, is tried last.
	ls := registeredLayouts()
	for i := 1; i < len(ls); i++ {
		if a, b := ls[i-1], ls[i]; a.Order > b.Order || (a.Order == b.Order && a.Name >= b.Name) {
			t.Errorf("layouts out of order: %s (%d) before %s (%d)", a.Name, a.Order, b.Name, b.Order)
		}
	}
	last := slices.IndexFunc(ls, func(l Layout) bool { return l.Name == "laion-parts" })
	for _, l := range ls[last+1:] {
		if l.Expand != nil {
			t.Errorf("layout %s is tried after laion-parts", l.Name)
		}
	}
}

// TestZeroDimensionOnEmptyStore: vectors of dimension 0 are refused, not a
// division by zero, when the store has no dimension yet to compare with.
func TestZeroDimensionOnEmptyStore(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "store"))
	src := Source{Metadata: filepath.Join(hostileDir, "zero-rows.parquet"), ImageEmb: filepath.Join(hostileDir, "dim0-zero-rows.npy")}
	if _, err := ingestNoPanic(d, src); !errors.Is(err, ErrDimension) || !strings.Contains(err.Error(), "dim0-zero-rows.npy") {
		t.Errorf("err = %v, want ErrDimension naming the file", err)
	}
}
