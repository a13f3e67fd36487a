package db

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/vector"
)

// vectorStore ingests rows with the given image vectors (rounded to
// float16, as LAION ships them) and returns the store and the vectors as
// stored.
func vectorStore(t *testing.T, vecs [][]float32) (*DB, [][]float64) {
	t.Helper()
	tmp := t.TempDir()
	dim := len(vecs[0])
	flat := slices.Concat(vecs...)
	h := make([]uint16, len(flat))
	vector.F32ToF16(h, flat)
	stored := make([]float32, len(flat))
	vector.F16ToF32(stored, h)
	if err := npy.WriteFloat16(filepath.Join(tmp, "img.npy"), h, dim); err != nil {
		t.Fatal(err)
	}
	rows := demodata.Rows(1, 0, len(vecs), nil)
	if err := demodata.WriteParquet(filepath.Join(tmp, "meta.parquet"), "clip-retrieval", rows); err != nil {
		t.Fatal(err)
	}
	d := openTest(t, filepath.Join(tmp, "store"))
	src := Source{Metadata: filepath.Join(tmp, "meta.parquet"), ImageEmb: filepath.Join(tmp, "img.npy")}
	if _, err := d.Ingest(context.Background(), []Source{src}, nil); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(vecs))
	for i := range vecs {
		for _, x := range stored[i*dim : (i+1)*dim] {
			out[i] = append(out[i], float64(x))
		}
	}
	return d, out
}

// cosine64 is the cosine of two stored vectors in float64.
func cosine64(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa) / math.Sqrt(bb)
}

func hitRows(res *engine.Result) []uint32 {
	var rows []uint32
	for _, h := range res.Hits {
		rows = append(rows, h.Row)
	}
	return rows
}

// TestScoresAreCosine: scores are the cosine of the stored vectors, not
// their dot product, so a vector whose norm is off by less than ingest's
// renormalisation threshold neither wins a k-NN place nor crosses a range
// threshold it should not.
func TestScoresAreCosine(t *testing.T) {
	d, stored := vectorStore(t, [][]float32{{1, 0}, {0.6054, 0.8072}, {0.602, 0.7985}})
	ctx := context.Background()
	// By dot product row 1 (0.6055) beats row 2 (0.6021); by cosine row 2
	// (0.60205) beats row 1 (0.60006).
	c1, c2 := cosine64(stored[0], stored[1]), cosine64(stored[0], stored[2])
	if !(c2 > c1) {
		t.Fatalf("fixture: cos(0,2) = %v should exceed cos(0,1) = %v", c2, c1)
	}
	res, err := d.Query(ctx, "knn(row(0), 2)", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := hitRows(res); !slices.Equal(got, []uint32{0, 2}) {
		t.Errorf("knn(row(0), 2) = %v, want [0 2]", got)
	}
	for _, h := range res.Hits {
		if want := cosine64(stored[0], stored[h.Row]); math.Abs(float64(h.Score)-want) > engine.ScoreTolerance {
			t.Errorf("score of row %d = %.9f, cosine %.9f", h.Row, h.Score, want)
		}
	}
	// Every target kind scores the same way: a row against itself is 1.
	for _, q := range []string{"knn(row(1), 1)", "knn(row(2), 3)", "within(row(1), 0.99)"} {
		res, err := d.Query(ctx, q, nil)
		if err != nil || len(res.Hits) == 0 {
			t.Fatalf("%s: %v", q, err)
		}
		if h := res.Hits[0]; math.Abs(float64(h.Score)-1) > engine.ScoreTolerance {
			t.Errorf("%s: the target row scores %.9f against itself", q, h.Score)
		}
	}
	res, err = d.Query(ctx, "knn([0.6054, 0.8072], 1)", nil)
	if err != nil || res.Hits[0].Row != 1 || math.Abs(float64(res.Hits[0].Score)-1) > 1e-3 {
		t.Errorf("inline vector: %v %+v", err, res.Hits)
	}
	// within counts exactly the rows whose float64 cosine reaches the
	// threshold: row 1 is at 0.60006 and stays out of 0.601.
	for _, tt := range []struct {
		thr  float64
		want []uint32
	}{{0.601, []uint32{0, 2}}, {0.6, []uint32{0, 2, 1}}, {c2, nil}} {
		res, err := d.Query(ctx, "within(row(0), "+formatThreshold(tt.thr)+")", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == nil {
			// A threshold at row 2's own cosine: row 2 is in the band of
			// float32 rounding, and the output says so.
			if res.Search.NearThreshold != 1 {
				t.Errorf("within at cos(0,2): near_threshold = %d, want 1", res.Search.NearThreshold)
			}
			continue
		}
		if got := hitRows(res); !slices.Equal(got, tt.want) || res.Search.NearThreshold != 0 {
			t.Errorf("within(row(0), %v) = %v (near %d), want %v", tt.thr, got, res.Search.NearThreshold, tt.want)
		}
	}
}

func formatThreshold(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// TestSelfFirstAmongTies: a row target comes first among the rows that tie
// with it (its exact duplicates), and a duplicate never displaces it.
func TestSelfFirstAmongTies(t *testing.T) {
	a := []float32{0.6, 0.8, 0}
	d, _ := vectorStore(t, [][]float32{{1, 0, 0}, {0, 0, 1}, a, {0, 1, 0}, a, a, {0.8, 0.6, 0}})
	ctx := context.Background()
	for _, tt := range []struct {
		q    string
		want []uint32
	}{
		{"knn(row(4), 1)", []uint32{4}},
		{"knn(row(4), 3)", []uint32{4, 2, 5}},
		{"knn(row(5), 2)", []uint32{5, 2}},
		{"knn(row(2), 3)", []uint32{2, 4, 5}},
		{"within(row(5), 0.99)", []uint32{5, 2, 4}},
	} {
		for _, exact := range []bool{false, true} {
			res, err := d.Query(ctx, tt.q, &engine.Options{Exact: exact})
			if err != nil {
				t.Fatalf("%s: %v", tt.q, err)
			}
			if got := hitRows(res); !slices.Equal(got, tt.want) {
				t.Errorf("%s (exact %v) = %v, want %v", tt.q, exact, got, tt.want)
			}
		}
	}
}

// writeNpyRaw writes an .npy file with the given dtype and shape literal.
func writeNpyRaw(t *testing.T, path, descr, shape string, data []byte) {
	t.Helper()
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	h += strings.Repeat(" ", (64-(10+len(h)+1)%64)%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	b = append(append(b, h...), data...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVectorTargetFiles: vector('q.npy') takes what np.save writes for one
// embedding: a one-dimensional array (emb[i]) or one row, float16, float32
// or float64; a file of several vectors is an error naming how many.
func TestVectorTargetFiles(t *testing.T) {
	d, _ := vectorStore(t, [][]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}})
	dir := t.TempDir()
	f64 := func(xs ...float64) []byte {
		var b []byte
		for _, x := range xs {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
		return b
	}
	f32 := func(xs ...float32) []byte {
		var b []byte
		for _, x := range xs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		return b
	}
	writeNpyRaw(t, filepath.Join(dir, "1d-f64.npy"), "<f8", "(3,)", f64(0, 1, 0))
	writeNpyRaw(t, filepath.Join(dir, "1d-f16.npy"), "<f2", "(3,)", []byte{0, 0, 0, 0, 0, 0x3c}) // 0, 0, 1
	writeNpyRaw(t, filepath.Join(dir, "row-f32.npy"), "<f4", "(1, 3)", f32(1, 0, 0))
	writeNpyRaw(t, filepath.Join(dir, "rows-f32.npy"), "<f4", "(2, 3)", f32(1, 0, 0, 0, 1, 0))
	for name, want := range map[string]uint32{"1d-f64.npy": 1, "1d-f16.npy": 2, "row-f32.npy": 0} {
		res, err := d.Query(context.Background(), fmt.Sprintf("knn(vector('%s'), 1)", filepath.Join(dir, name)), nil)
		if err != nil || len(res.Hits) != 1 || res.Hits[0].Row != want {
			t.Errorf("%s: %v %+v, want row %d", name, err, res, want)
		}
	}
	_, err := d.Query(context.Background(), fmt.Sprintf("knn(vector('%s'), 1)", filepath.Join(dir, "rows-f32.npy")), nil)
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "holds 2 vectors") {
		t.Errorf("a file of two vectors: %v", err)
	}
}
