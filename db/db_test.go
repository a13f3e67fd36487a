package db

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// openTest opens a fresh store in a temporary directory.
func openTest(t testing.TB, dir string) *DB {
	t.Helper()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func ingestPaths(t testing.TB, d *DB, paths ...string) []IngestResult {
	t.Helper()
	srcs, err := ExpandPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Ingest(context.Background(), srcs, nil)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return res
}

func TestIngestLAION400MAndInfo(t *testing.T) {
	tmp := t.TempDir()
	paths, parts, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 1, Parts: 3, Rows: 1500})
	if err != nil {
		t.Fatal(err)
	}
	d := openTest(t, filepath.Join(tmp, "store"))
	res := ingestPaths(t, d, filepath.Join(tmp, "parts"))
	if len(res) != 3 || res[0].Rows != 1500 || len(res[0].Missing) != 0 {
		t.Fatalf("results = %+v", res)
	}
	in, err := d.Info()
	if err != nil {
		t.Fatal(err)
	}
	// Brute force over what the fixture wrote.
	nsfw := map[string]int64{}
	var nullText, badUTF8, simInvalid int64
	for _, rows := range parts {
		for _, r := range rows {
			if r.NSFW == nil {
				nsfw["(null)"]++
			} else {
				nsfw[*r.NSFW]++
			}
			if r.Text == nil {
				nullText++
			} else if !utf8.ValidString(*r.Text) {
				badUTF8++
			}
			if r.Similarity != nil && (math.IsNaN(*r.Similarity) || *r.Similarity > 1 || *r.Similarity < -1) {
				simInvalid++
			}
		}
	}
	if in.Rows != 4500 {
		t.Errorf("rows = %d, want 4500", in.Rows)
	}
	got := map[string]int64{}
	for _, v := range in.NSFW {
		if v.Null {
			v.Value = "(null)"
		}
		got[v.Value] = v.Count
	}
	if len(got) != len(nsfw) {
		t.Errorf("nsfw values = %v, want %v", got, nsfw)
	}
	for k, n := range nsfw {
		if got[k] != n {
			t.Errorf("nsfw %q = %d, want %d", k, got[k], n)
		}
	}
	if simInvalid == 0 || in.SimilarityInvalid != simInvalid {
		t.Errorf("similarity invalid = %d, want %d (>0)", in.SimilarityInvalid, simInvalid)
	}
	for _, c := range in.Columns {
		switch c.Name {
		case "text":
			if c.Nulls != nullText || c.InvalidUTF8 != badUTF8 || nullText == 0 || badUTF8 == 0 {
				t.Errorf("text: nulls %d invalid %d, want %d %d", c.Nulls, c.InvalidUTF8, nullText, badUTF8)
			}
		case "sample_id":
			if c.Type != "int" || c.Nulls != 0 {
				t.Errorf("sample_id column = %+v", c)
			}
		}
	}
	if len(in.Columns) != 8 {
		t.Errorf("columns = %+v", in.Columns)
	}

	// Every value reads back in row order through Scan.
	s, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]*string, 4500)
	ids := make([]int64, 4500)
	err = s.Scan(context.Background(), []string{"TEXT", "sample_id"}, func(b *table.Batch) error {
		tc, ic := b.Cols["text"], b.Cols["sample_id"]
		for i := 0; i < b.Len; i++ {
			r := b.Row(i)
			if !tc.IsNull(i) {
				v := string(tc.Str.At(i))
				texts[r] = &v
			}
			ids[r] = ic.Int[i]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, rows := range parts {
		for i, r := range rows {
			g := p*1500 + i
			if (r.Text == nil) != (texts[g] == nil) || (r.Text != nil && *r.Text != *texts[g]) || ids[g] != r.SampleID {
				t.Fatalf("row %d: text %v id %d, want %v %d", g, texts[g], ids[g], r.Text, r.SampleID)
			}
		}
	}
	// Fetch returns rows in the order asked, across segments.
	b, err := s.Fetch(context.Background(), []uint32{4499, 0, 1500, 3}, []string{"sample_id", "nsfw"})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{parts[2][1499].SampleID, parts[0][0].SampleID, parts[1][0].SampleID, parts[0][3].SampleID}
	for i, w := range want {
		if b.Cols["sample_id"].Int[i] != w {
			t.Errorf("fetch %d: id %d, want %d", i, b.Cols["sample_id"].Int[i], w)
		}
	}
	// ScanRows gives each row of a set once, with its values, across
	// segments; rows outside the set are not read.
	rs, ok := s.(engine.RowScanner)
	if !ok {
		t.Fatal("the snapshot is not an engine.RowScanner")
	}
	for _, every := range []int{1, 7, 1499, 4500} {
		set := vector.NewBitset(4500)
		for r := 0; r < 4500; r += every {
			set.Set(uint32(r))
		}
		set.Set(1499)
		set.Set(1500)
		seen := vector.NewBitset(4500)
		var mu sync.Mutex
		err := rs.ScanRows(context.Background(), set, []string{"TEXT", "sample_id"}, func(b *table.Batch) error {
			mu.Lock()
			defer mu.Unlock()
			tc, ic := b.Cols["text"], b.Cols["sample_id"]
			for i := 0; i < b.Len; i++ {
				r := b.Row(i)
				if !set.Contains(r) || seen.Contains(r) {
					return fmt.Errorf("row %d: in the set %v, seen before %v", r, set.Contains(r), seen.Contains(r))
				}
				seen.Set(r)
				if tc.IsNull(i) != (texts[r] == nil) || (texts[r] != nil && string(tc.Str.At(i)) != *texts[r]) || ic.Int[i] != ids[r] {
					return fmt.Errorf("row %d: text %q id %d, want %v %d", r, tc.Str.At(i), ic.Int[i], texts[r], ids[r])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("every %d: %v", every, err)
		}
		if seen.Count() != set.Count() {
			t.Errorf("every %d: %d rows scanned, want %d", every, seen.Count(), set.Count())
		}
	}
	if f, r := s.Source(1501); filepath.Base(f) != "part-00001.snappy.parquet" || r != 1 {
		t.Errorf("Source(1501) = %s, %d", f, r)
	}

	// Re-ingest is a no-op; the same name with other content is refused.
	res = ingestPaths(t, d, paths[1])
	if !res[0].Skipped {
		t.Errorf("re-ingest not skipped: %+v", res)
	}
	other := filepath.Join(tmp, "other", filepath.Base(paths[1]))
	os.MkdirAll(filepath.Dir(other), 0o755)
	if err := demodata.WriteParquet(other, "laion400m", parts[0][:10]); err != nil {
		t.Fatal(err)
	}
	srcs, _ := ExpandPaths([]string{other})
	if _, err := d.Ingest(context.Background(), srcs, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("same name, other file: err = %v, want ErrConflict", err)
	}
	// The same content under another name would duplicate rows.
	if _, err := d.Ingest(context.Background(), []Source{{Name: "copy", Metadata: paths[0]}}, nil); !errors.Is(err, ErrDuplicate) {
		t.Errorf("same file, other name: err = %v, want ErrDuplicate", err)
	}
	if in2, _ := d.Info(); in2.Rows != 4500 {
		t.Errorf("rows after refused ingests = %d", in2.Rows)
	}
}

func TestEmbeddingFolderAndExactSearch(t *testing.T) {
	for _, f32 := range []bool{false, true} {
		tmp := t.TempDir()
		emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 2, Parts: 2, Rows: 700, Dim: 48, Float32: f32, PadIndex: f32})
		if err != nil {
			t.Fatal(err)
		}
		d := openTest(t, filepath.Join(tmp, "store"))
		ingestPaths(t, d, emb.Dir)
		in, _ := d.Info()
		wantType := "float16"
		if f32 {
			wantType = "float32"
		}
		if in.Rows != 1400 || in.Vectors.Image != 1400 || in.Vectors.Text != 1400 || in.Vectors.Dim != 48 || in.Vectors.DType != wantType {
			t.Fatalf("info = %+v", in.Vectors)
		}
		all := append(append([]float32(nil), emb.Image[0]...), emb.Image[1]...)
		q := append([]float32(nil), all[777*48:778*48]...)
		res, err := d.Search(context.Background(), engine.SearchRequest{Vec: q, K: 10, Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		brute := bruteKNN(all, 48, q, 10, nil)
		if len(res.Hits) != 10 || !res.Exact {
			t.Fatalf("hits = %v", res)
		}
		for i := range brute {
			if res.Hits[i].Row != brute[i].Row || math.Abs(float64(res.Hits[i].Score-brute[i].Score)) > 1e-4 {
				t.Fatalf("hit %d = %v, want %v", i, res.Hits[i], brute[i])
			}
		}
		// With an allow-list: the 10 nearest among the allowed rows.
		allow := vector.NewBitset(1400)
		for r := uint32(0); r < 1400; r += 7 {
			allow.Set(r)
		}
		res, err = d.Search(context.Background(), engine.SearchRequest{Vec: q, K: 10, Allow: allow, Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		brute = bruteKNN(all, 48, q, 10, allow)
		for i := range brute {
			if res.Hits[i].Row != brute[i].Row {
				t.Fatalf("allowed hit %d = %v, want %v", i, res.Hits[i], brute[i])
			}
		}
		// Metadata-only rows added later never show up in searches.
		paths, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 3, Parts: 1, Rows: 300})
		if err != nil {
			t.Fatal(err)
		}
		ingestPaths(t, d, paths...)
		res, err = d.Search(context.Background(), engine.SearchRequest{Vec: q, K: 2000})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != 1400 {
			t.Errorf("search over store with metadata-only rows returned %d hits, want 1400", len(res.Hits))
		}
		// A row's own embedding finds itself first.
		s, _ := d.Snapshot()
		v, err := s.Vector(context.Background(), query.Target{Kind: query.TargetRow, Row: 777})
		if err != nil {
			t.Fatal(err)
		}
		res, _ = d.Search(context.Background(), engine.SearchRequest{Vec: v, K: 1})
		if res.Hits[0].Row != 777 {
			t.Errorf("self search = %v", res.Hits)
		}
		if _, err := s.Vector(context.Background(), query.Target{Kind: query.TargetRow, Row: 1450}); err == nil {
			t.Errorf("vector of a metadata-only row: no error")
		}
		if _, err := s.Vector(context.Background(), query.Target{Kind: query.TargetText, Text: "beautiful"}); !errors.Is(err, ErrNoModel) {
			t.Errorf("text target without model: %v", err)
		}
	}
}

// bruteKNN is the k nearest rows of all by the store's score: q's inner
// product with each row divided by the row's norm, in float64.
func bruteKNN(all []float32, dim int, q []float32, k int, allow *vector.Bitset) []engine.Hit {
	var hits []engine.Hit
	for r := 0; r < len(all)/dim; r++ {
		if allow != nil && !allow.Contains(uint32(r)) {
			continue
		}
		var s, n float64
		for j := 0; j < dim; j++ {
			s += float64(all[r*dim+j]) * float64(q[j])
			n += float64(all[r*dim+j]) * float64(all[r*dim+j])
		}
		hits = append(hits, engine.Hit{Row: uint32(r), Score: float32(s / math.Sqrt(n))})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Row < hits[j].Row
	})
	return hits[:min(k, len(hits))]
}

// TestInfoEmptyAndNullNSFW: info keeps the empty label and null apart, as
// query does, and counts a file without the column as null.
func TestInfoEmptyAndNullNSFW(t *testing.T) {
	tmp := t.TempDir()
	rows := demodata.Rows(3, 0, 10, nil)
	empty, other, unsure := "", "(null)", "UNSURE"
	for i := range rows {
		switch i % 5 {
		case 0, 1:
			rows[i].NSFW = &empty
		case 2:
			rows[i].NSFW = nil
		case 3:
			rows[i].NSFW = &other // a real value that looks like the null bucket
		case 4:
			rows[i].NSFW = &unsure
		}
	}
	if err := demodata.WriteParquet(filepath.Join(tmp, "a.parquet"), "laion400m", rows); err != nil {
		t.Fatal(err)
	}
	d := openTest(t, filepath.Join(tmp, "store"))
	ingestPaths(t, d, filepath.Join(tmp, "a.parquet"))
	in, err := d.Info()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range in.NSFW {
		got = append(got, fmt.Sprintf("%q/%v=%d", v.Value, v.Null, v.Count))
	}
	// By count, then values before null, then by value.
	want := []string{`""/false=4`, `"(null)"/false=2`, `"UNSURE"/false=2`, `""/true=2`}
	if !slices.Equal(got, want) {
		t.Errorf("nsfw = %v, want %v", got, want)
	}
	var b strings.Builder
	if err := in.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^ +"" +4 `).MatchString(b.String()) || !regexp.MustCompile(`(?m)^ +\(null\) +2 `).MatchString(b.String()) {
		t.Errorf("info text does not show \"\" and (null) apart:\n%s", b.String())
	}
	res, err := d.Query(context.Background(), "all where nsfw = ''", nil)
	if err != nil || res.Selected != 4 {
		t.Errorf("query nsfw = '': %v, %+v", err, res)
	}
}
