package db

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/query"
)

// f16 widens a float16 bit pattern to float64 by its definition, without
// package vector's conversion.
func f16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * frac * math.Pow(2, -24)
	case 31:
		if frac == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}

// spaceFixture is a store of two clip-retrieval parts (image and text
// embeddings) and one metadata-only part, with the vectors as the source
// files hold them, in float64.
type spaceFixture struct {
	d        *DB
	img, txt [][]float64 // nil for rows without vectors
}

func newSpaceFixture(t *testing.T) *spaceFixture {
	t.Helper()
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 31, Parts: 2, Rows: 400, Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "meta"), demodata.Config{Seed: 31, Parts: 1, Rows: 300}); err != nil {
		t.Fatal(err)
	}
	f := &spaceFixture{d: openTest(t, filepath.Join(tmp, "store"))}
	ingestPaths(t, f.d, emb.Dir, filepath.Join(tmp, "meta"))
	read := func(path string) [][]float64 {
		a, err := npy.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		out := make([][]float64, a.Rows)
		for i := range out {
			out[i] = make([]float64, a.Cols)
			for j := range out[i] {
				out[i][j] = f16(a.F16[i*a.Cols+j])
			}
		}
		return out
	}
	m, _ := f.d.Manifest()
	for _, s := range m.Segments {
		for _, file := range s.Files {
			switch file.Role {
			case "img_emb":
				f.img = append(f.img, read(file.Path)...)
			case "text_emb":
				f.txt = append(f.txt, read(file.Path)...)
			}
		}
		if !s.HasImage {
			f.img = append(f.img, make([][]float64, s.Rows)...)
			f.txt = append(f.txt, make([][]float64, s.Rows)...)
		}
	}
	if len(f.img) != 1100 || len(f.txt) != 1100 {
		t.Fatalf("fixture: %d image and %d text rows", len(f.img), len(f.txt))
	}
	return f
}

func cos64(a, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	return dot / (math.Sqrt(na) * math.Sqrt(nb))
}

// bruteKNN64 is the k nearest rows of space to q, best first, ties by row.
func bruteKNN64(space [][]float64, q []float64, k int) []int {
	type hit struct {
		row   int
		score float64
	}
	var hs []hit
	for r, v := range space {
		if v != nil {
			hs = append(hs, hit{r, cos64(q, v)})
		}
	}
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].score != hs[j].score {
			return hs[i].score > hs[j].score
		}
		return hs[i].row < hs[j].row
	})
	var out []int
	for _, h := range hs[:min(k, len(hs))] {
		out = append(out, h.row)
	}
	return out
}

// TestSearchSpaces: every pairing of image and text embeddings, against a
// brute-force search over the source files' vectors.
func TestSearchSpaces(t *testing.T) {
	f := newSpaceFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		q      string
		row, k int
		target [][]float64 // the space the target embedding comes from
		space  [][]float64 // the space searched
	}{
		{"knn(row(5), 10)", 5, 10, f.img, f.img},
		{"knn(row(5), 10) in text", 5, 10, f.img, f.txt},
		{"knn(row(5).text, 10)", 5, 10, f.txt, f.img},
		{"knn(row(5).text, 10) in text", 5, 10, f.txt, f.txt},
		{"knn(row(5).image, 10) in image", 5, 10, f.img, f.img},
		{"knn(row(620).text, 25) in text", 620, 25, f.txt, f.txt},
	} {
		row, k := c.row, c.k
		want := bruteKNN64(c.space, c.target[row], k)
		res, err := f.d.Query(ctx, c.q, &engine.Options{Rows: k, Exact: true})
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		var got []int
		for _, h := range res.Hits {
			got = append(got, int(h.Row))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: rows %v, brute force %v", c.q, got, want)
		}
		for i, h := range res.Hits {
			if w := cos64(c.target[row], c.space[h.Row]); math.Abs(float64(h.Score)-w) > engine.ScoreTolerance {
				t.Errorf("%s: hit %d (row %d) scores %v, cosine %v", c.q, i, h.Row, h.Score, w)
				break
			}
		}
	}
	// Rows without text embeddings are never selected in text; a
	// metadata-only row has no embedding to search from.
	res, err := f.d.Query(ctx, "within([1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0], -1) in text", nil)
	if err != nil || res.Selected != 800 {
		t.Errorf("within(..., -1) in text: %d rows, %v (want the 800 with text embeddings)", res.Selected, err)
	}
	if _, err := f.d.Query(ctx, "knn(row(900).text, 5)", nil); err == nil {
		t.Error("a row without a text embedding gave a target")
	}
	// The canonical form keeps the space.
	res, err = f.d.Query(ctx, "knn(row(5).text, 3) in text", nil)
	if err != nil || res.Query != "knn(row(5).text, 3) in text" {
		t.Errorf("canonical form %q, %v", res.Query, err)
	}
}

// TestPairCos: pair_cos equals the cosine of the source files' two
// embeddings of each row, is null for rows without them, and works in
// where and in the statistics like any column.
func TestPairCos(t *testing.T) {
	f := newSpaceFixture(t)
	ctx := context.Background()
	s, err := f.d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]uint32, 1100)
	for i := range rows {
		rows[i] = uint32(i)
	}
	b, err := s.Fetch(ctx, rows, []string{PairCosColumn})
	if err != nil {
		t.Fatal(err)
	}
	c := b.Cols[PairCosColumn]
	over := 0
	for r := range rows {
		if f.img[r] == nil {
			if !c.IsNull(r) {
				t.Fatalf("row %d: no embeddings, pair_cos %v", r, c.Float[r])
			}
			continue
		}
		want := cos64(f.img[r], f.txt[r])
		if c.IsNull(r) || math.Abs(c.Float[r]-want) > 1e-12 {
			t.Fatalf("row %d: pair_cos %v (null %v), want %v", r, c.Float[r], c.IsNull(r), want)
		}
		if want >= 0.3 {
			over++
		}
	}
	res, err := f.d.Query(ctx, "all where pair_cos >= 0.3", nil)
	if err != nil || res.Selected != over {
		t.Fatalf("pair_cos >= 0.3: %d rows, %v; want %d", res.Selected, err, over)
	}
	res, err = f.d.Query(ctx, "all where pair_cos is null", nil)
	if err != nil || res.Selected != 300 {
		t.Fatalf("pair_cos is null: %d rows, %v; want the 300 metadata-only rows", res.Selected, err)
	}
}

// TestTextIndex builds the index over the text embeddings, searches it in
// text against exact scans, keeps it up to date across an ingest, and
// checks it.
func TestTextIndex(t *testing.T) {
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 41, Parts: 2, Rows: 5000, Dim: 16, Fine: 100})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "store")
	d := openTest(t, dir)
	all, err := ExpandPaths([]string{emb.Dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.Ingest(ctx, all[:1], nil); err != nil {
		t.Fatal(err)
	}
	if err := d.BuildIndex(ctx, &IndexOptions{Space: query.SpaceText}); err != nil {
		t.Fatal(err)
	}
	m, _ := d.Manifest()
	if textIndex(m) == nil || textIndex(m).Rows != 5000 || textIndex(m).Calibration == nil || len(textIndex(m).Calibration.Text) == 0 {
		t.Fatalf("text index: %+v", textIndex(m))
	}
	if _, err := os.Stat(filepath.Join(dir, "vectors", "txt.hnsw")); err != nil {
		t.Fatal(err)
	}
	// The next ingest extends it.
	if _, err := d.Ingest(ctx, all[1:], nil); err != nil {
		t.Fatal(err)
	}
	m, _ = d.Manifest()
	if textIndex(m).Rows != 10000 || imageIndex(m) == nil || imageIndex(m).Rows != 10000 {
		t.Fatalf("after an ingest: text index %d rows, image index %+v", textIndex(m).Rows, imageIndex(m))
	}
	d.Close()
	r, err := Open(dir, &Options{ReadOnly: true, ExactUpTo: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	found, want := 0, 0
	for row := 0; row < 10000; row += 500 {
		q := fmt.Sprintf("knn(row(%d).text, 10) in text", row)
		// Forced: on 10,000 rows the planner may find a scan as cheap.
		res, err := r.Query(ctx, q, &engine.Options{Index: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Search.Method, "hnsw") {
			t.Fatalf("%s: method %q, want the text index", q, res.Search.Method)
		}
		ex, err := r.Query(ctx, q, &engine.Options{Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		in := map[uint32]bool{}
		for _, h := range ex.Hits {
			in[h.Row] = true
		}
		for _, h := range res.Hits {
			if in[h.Row] {
				found++
			}
		}
		want += len(ex.Hits)
	}
	if recall := float64(found) / float64(want); recall < 0.95 {
		t.Errorf("text index recall@10 %.3f against exact scans", recall)
	}
	rep, err := r.Check(ctx)
	if err != nil || !rep.OK() {
		t.Errorf("check: %+v %v", rep, err)
	}
	in, err := r.Info()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	in.WriteText(&sb)
	if !strings.Contains(sb.String(), "text index") {
		t.Errorf("info does not show the text index:\n%s", sb.String())
	}
}
