package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/table"
)

// The hostile corpus lives in testdata/hostile (regenerate it with
// `go run gen.go` there). Every file is ingested into a store holding good
// data. A file is either refused — with ErrBadInput or ErrDimension, an
// error naming the file (and the row where one applies), and the store
// exactly as it was — or it loads, with what is odd about it counted in
// info; either way Check finds nothing wrong and nothing panics.

const hostileDir = "testdata/hostile"

type outcome int

const (
	refuse outcome = iota
	load
	either // bit flips in compressed pages: parquet has no page checksums here
)

type hostileCase struct {
	meta, img, txt string // file names in testdata/hostile; meta "" means a fresh good 16-row file
	want           outcome
	err            error    // for refuse
	msg            []string // substrings of the error, besides the file's name
	check          func(t *testing.T, d *DB, res []IngestResult)
	// manifestBug marks files whose load leaves a manifest that does not
	// reopen (see TestHostileManifestNonUTF8); they run there.
	manifestBug bool
}

func hostileCases() []hostileCase {
	var cs []hostileCase
	refuseMeta := func(name string, msg ...string) {
		cs = append(cs, hostileCase{meta: name, want: refuse, err: ErrBadInput, msg: msg})
	}
	refuseImg := func(name string, err error, msg ...string) {
		cs = append(cs, hostileCase{img: name, want: refuse, err: err, msg: msg})
	}
	// Parquet: empty, truncated, bit-flipped, footers that lie.
	refuseMeta("empty.parquet", "not a readable parquet")
	refuseMeta("magic-only.parquet", "not a readable parquet")
	refuseMeta("trunc-head.parquet", "not a readable parquet")
	refuseMeta("trunc-half.parquet", "not a readable parquet")
	refuseMeta("trunc-last-byte.parquet", "not a readable parquet")
	refuseMeta("trunc-no-footer.parquet")
	refuseMeta("flip-head-magic.parquet", "not a readable parquet")
	refuseMeta("flip-tail-magic.parquet", "not a readable parquet")
	refuseMeta("flip-footer-len.parquet", "not a readable parquet")
	refuseMeta("flip-footer-len-low.parquet", "not a readable parquet")
	refuseMeta("flip-footer-start.parquet", "not a readable parquet")
	refuseMeta("flip-footer-mid.parquet", "not a readable parquet")
	refuseMeta("flip-footer-end.parquet", "not a readable parquet")
	// This flip lands in a value the reader does not need.
	cs = append(cs, hostileCase{meta: "flip-footer-quarter.parquet", want: either, err: ErrBadInput})
	// parquet-go writes page CRCs: flipped page headers and data are
	// caught, naming the column and the row.
	for _, col := range []string{"caption", "nsfw", "similarity"} {
		refuseMeta("flip-"+col+"-page-header.parquet", "near row 0")
		refuseMeta("flip-"+col+"-page-data.parquet", "near row 0")
	}
	refuseMeta("rows-lie-more.parquet", "1000")
	refuseMeta("rows-lie-fewer.parquet", "3")
	refuseMeta("rows-lie-negative.parquet", "-5")
	// Parquet: schemas.
	refuseMeta("dup-columns.parquet", `"TEXT"`, `"caption"`, `"text"`)
	refuseMeta("dup-case.parquet", `"url"`, `"URL"`)
	refuseMeta("nested-only.parquet", "no flat columns")
	cs = append(cs,
		hostileCase{meta: "nested.parquet", want: load, check: func(t *testing.T, d *DB, res []IngestResult) {
			if got := strings.Join(res[0].Ignored, ","); got != "m,reps,size,tags" && got != "reps,size,tags" {
				// m is the types file's; here: tags (list), reps (repeated), size (group)
				if !strings.Contains(got, "tags") || !strings.Contains(got, "reps") || !strings.Contains(got, "size") {
					t.Errorf("ignored = %q, want tags, reps and size", got)
				}
			}
			if r := lookup(t, d, "url", "https://n/7", "text"); r == nil || r["text"] != "nested 7" {
				t.Errorf("row https://n/7: %v", r)
			}
		}},
		hostileCase{meta: "types.parquet", want: load, check: checkTypes},
		hostileCase{meta: "huge-caption.parquet", want: load, check: func(t *testing.T, d *DB, res []IngestResult) {
			r := lookup(t, d, "url", "https://h/1", "text")
			if s, _ := r["text"].(string); len(s) != 5<<20 {
				t.Errorf("huge caption has %d bytes, want %d", len(s), 5<<20)
			}
			in, _ := d.Info()
			if c := nsfwCount(in, "NSFW"); c < 1 {
				t.Errorf("nsfw counts %+v", in.NSFW)
			}
		}},
		hostileCase{meta: "non-utf8.parquet", want: load, manifestBug: true, check: func(t *testing.T, d *DB, res []IngestResult) {
			s := d.mustSegment(t, res[0].Name)
			// caf\xe9, \xc3\x28, surrogate, overlong; url \xff\xfe; NSFW NS\x80FW.
			if s.Stats.InvalidUTF8["text"] != 4 || s.Stats.InvalidUTF8["url"] != 1 || s.Stats.InvalidUTF8["nsfw"] != 1 {
				t.Errorf("invalid UTF-8 counts %v", s.Stats.InvalidUTF8)
			}
			if s.Stats.Nulls["text"] != 1 || s.Stats.Nulls["url"] != 1 || s.Stats.Nulls["nsfw"] != 1 {
				t.Errorf("null counts %v", s.Stats.Nulls)
			}
			in, _ := d.Info()
			// Invalid UTF-8 is shown Go-quoted: JSON (the manifest) cannot hold it.
			if nsfwCount(in, `"NS\x80FW"`) != 1 || nsfwCount(in, "UNLIKELY\x00") != 1 {
				t.Errorf("odd NSFW values not counted under their own value: %+v", in.NSFW)
			}
			if r := lookup(t, d, "url", "https://u/0", "text"); r["text"] != "caf\xe9" {
				t.Errorf("non-UTF-8 caption read back as %q", r["text"])
			}
			if _, err := d.Query(context.Background(), "all where text contains 'caf'", nil); err != nil {
				t.Errorf("query over non-UTF-8 text: %v", err)
			}
		}},
		hostileCase{meta: "zero-rows.parquet", want: load, check: func(t *testing.T, d *DB, res []IngestResult) {
			if res[0].Rows != 0 {
				t.Errorf("rows = %d", res[0].Rows)
			}
		}},
		hostileCase{meta: "type-conflict.parquet", want: load, check: func(t *testing.T, d *DB, res []IngestResult) {
			// similarity arrives as a string: the column widens to string
			// and the earlier float values read back as their text.
			r := lookup(t, d, "text", "conflict 1", "similarity", "width", "key")
			if r["similarity"] != "high" || r["width"] != "false" || r["key"] != "1" {
				t.Errorf("widened row: %v", r)
			}
			res2, err := d.Query(context.Background(), "all where width = 'true'", nil)
			if err != nil || res2.Selected != 8 {
				t.Errorf("width = 'true': %v, %+v", err, res2)
			}
		}},
		hostileCase{meta: "odd-names.parquet", want: load, manifestBug: true},
	)
	// Metadata with fewer rows than its embeddings.
	cs = append(cs, hostileCase{meta: "meta15.parquet", img: "img16.npy", want: refuse, err: ErrBadInput,
		msg: []string{"img16.npy has 16 rows", "meta15.parquet has 15"}})
	// npy headers that lie, and files that are not npy.
	refuseImg("npy-empty.npy", ErrBadInput, "magic")
	refuseImg("npy-magic-only.npy", ErrBadInput)
	refuseImg("npy-not-npy.npy", ErrBadInput, "no \\x93NUMPY magic")
	refuseImg("npy-shape-more.npy", ErrBadInput, "(17, 8)", "needs")
	refuseImg("npy-shape-fewer.npy", ErrBadInput, "(15, 8)")
	refuseImg("npy-shape-wide.npy", ErrBadInput, "(16, 16)")
	refuseImg("npy-shape-reshaped.npy", ErrBadInput, "32 rows", "16")
	refuseImg("npy-shape-3d.npy", ErrBadInput, "two-dimensional")
	refuseImg("npy-shape-1d.npy", ErrBadInput, "two-dimensional")
	refuseImg("npy-shape-negative.npy", ErrBadInput, "bad shape")
	refuseImg("npy-shape-overflow.npy", ErrBadInput)
	refuseImg("npy-shape-zero-rows-huge-dim.npy", ErrBadInput)
	refuseImg("npy-shape-text.npy", ErrBadInput, "bad shape")
	refuseImg("npy-dtype-f8.npy", ErrBadInput, "<f8")
	refuseImg("npy-dtype-bigendian.npy", ErrBadInput, ">f2")
	refuseImg("npy-dtype-int32.npy", ErrBadInput, "<i4")
	refuseImg("npy-dtype-object.npy", ErrBadInput, "|O")
	refuseImg("npy-dtype-struct.npy", ErrBadInput)
	refuseImg("npy-fortran.npy", ErrBadInput, "fortran")
	refuseImg("npy-fortran-bad.npy", ErrBadInput, "fortran")
	refuseImg("npy-missing-key.npy", ErrBadInput, "lacks")
	refuseImg("npy-extra-key.npy", ErrBadInput, `"x"`)
	refuseImg("npy-not-dict.npy", ErrBadInput, "not a dict")
	refuseImg("npy-unterminated.npy", ErrBadInput)
	refuseImg("npy-hlen-long.npy", ErrBadInput)
	refuseImg("npy-hlen-short.npy", ErrBadInput)
	refuseImg("npy-hlen-zero.npy", ErrBadInput)
	refuseImg("npy-hlen-beyond.npy", ErrBadInput)
	refuseImg("npy-v2-hlen-huge.npy", ErrBadInput, "too large")
	refuseImg("npy-version-9.npy", ErrBadInput, "version 9")
	refuseImg("npy-truncated-data.npy", ErrBadInput, "needs")
	refuseImg("npy-trailing-data.npy", ErrBadInput, "needs")
	cs = append(cs, hostileCase{img: "npy-v3.npy", want: load})
	// Values.
	refuseImg("f16-nan.npy", ErrBadInput, "row 5", "element 3", "NaN")
	refuseImg("f16-nan-payload.npy", ErrBadInput, "row 15", "element 7", "NaN")
	refuseImg("f16-inf.npy", ErrBadInput, "row 9", "element 0", "+Inf")
	refuseImg("f16-neginf.npy", ErrBadInput, "row 0", "element 1", "-Inf")
	refuseImg("f16-negzero-row.npy", ErrBadInput, "row 2", "all-zero")
	refuseImg("f32-snan.npy", ErrBadInput, "row 7", "element 2", "NaN")
	for _, n := range []string{"f16-subnormal-rows.npy", "f16-max.npy", "f16-mixed-sign-max.npy", "f32-max.npy"} {
		cs = append(cs, hostileCase{img: n, want: load, check: checkUnitVectors})
	}
	// Dimensions.
	refuseImg("dim16.npy", ErrDimension, "dimension 16", "store has 8")
	refuseImg("dim4.npy", ErrDimension, "dimension 4", "store has 8")
	cs = append(cs, hostileCase{img: "img16.npy", txt: "dim4.npy", want: refuse, err: ErrDimension, msg: []string{"img16.npy", "dimension 8", "dim4.npy", "4"}})
	cs = append(cs, hostileCase{txt: "img16.npy", want: refuse, err: ErrBadInput, msg: []string{"need image embeddings"}})
	cs = append(cs, hostileCase{meta: "zero-rows.parquet", img: "dim0-zero-rows.npy", want: refuse, err: ErrDimension})
	cs = append(cs, hostileCase{meta: "zero-rows.parquet", img: "npy-shape-zero-rows-huge-dim.npy", want: refuse, err: ErrBadInput})
	return cs
}

func TestHostileInput(t *testing.T) {
	runHostile(t, func(c hostileCase) bool { return !c.manifestBug })
}

// TestHostileManifestNonUTF8 loads files with non-UTF-8 NSFW values and
// column names, then reopens the store.
func TestHostileManifestNonUTF8(t *testing.T) {
	d := runHostile(t, func(c hostileCase) bool { return c.manifestBug })
	dir := d.Dir()
	d.Close()
	d2, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if r, err := d2.Check(context.Background()); err != nil || !r.OK() {
		t.Fatalf("check after reopen: %v %v", err, r.Problems)
	}
}

func runHostile(t *testing.T, pick func(hostileCase) bool) *DB {
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 31, Parts: 1, Rows: 100, Dim: 8})
	if err != nil {
		t.Fatal(err)
	}
	d := openTest(t, filepath.Join(tmp, "store"))
	ingestPaths(t, d, emb.Dir)
	t.Cleanup(func() {
		// The store reopens and still checks out after everything.
		if t.Failed() || t.Skipped() || strings.Contains(t.Name(), "NonUTF8") {
			return
		}
		d.Close()
		d2 := openTest(t, filepath.Join(tmp, "store"))
		if r, err := d2.Check(context.Background()); err != nil || !r.OK() {
			t.Errorf("check after reopen: %v %v", err, r.Problems)
		}
	})
	for i, c := range hostileCases() {
		if !pick(c) {
			continue
		}
		name := strings.TrimSuffix(c.meta+"+"+c.img+"+"+c.txt, "+")
		t.Run(strings.Trim(name, "+"), func(t *testing.T) {
			src := Source{Name: fmt.Sprintf("case%02d", i)}
			path := func(n string) string {
				if n == "" {
					return ""
				}
				return filepath.Join(hostileDir, n)
			}
			src.Metadata, src.ImageEmb, src.TextEmb = path(c.meta), path(c.img), path(c.txt)
			if c.meta == "" {
				// A good 16-row metadata file of its own, so that loads
				// are not refused as duplicates of each other.
				src.Metadata = filepath.Join(tmp, fmt.Sprintf("meta-%02d.parquet", i))
				if err := demodata.WriteParquet(src.Metadata, "clip-retrieval", demodata.Rows(uint64(1000+i), 0, 16, nil)); err != nil {
					t.Fatal(err)
				}
			}
			before := storeState(t, d)
			rowsBefore := d.mustRows(t)
			res, err := ingestNoPanic(d, src)
			switch {
			case err != nil && c.want == load:
				t.Fatalf("refused a file that should load: %v", err)
			case err == nil && c.want == refuse:
				t.Fatalf("loaded a file that should be refused: %+v", res)
			case err != nil:
				if !errors.Is(err, c.err) {
					t.Errorf("err = %v, want %v", err, c.err)
				}
				named := false
				for _, f := range []string{c.meta, c.img, c.txt} {
					named = named || (f != "" && strings.Contains(err.Error(), f))
				}
				if !named {
					t.Errorf("error %q names none of the files", err)
				}
				for _, m := range c.msg {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error %q does not mention %q", err, m)
					}
				}
				if got := storeState(t, d); got != before {
					t.Errorf("store changed by a refused file:\n got %s\nwant %s", got, before)
				}
				t.Logf("refused: %v", err)
			default:
				if len(res) != 1 || res[0].Skipped {
					t.Fatalf("results %+v", res)
				}
				if got := d.mustRows(t); got != rowsBefore+res[0].Rows {
					t.Errorf("rows %d after loading %d onto %d", got, res[0].Rows, rowsBefore)
				}
				if st := storeState(t, d); !strings.Contains(st, fmt.Sprintf("scanned=%d ", rowsBefore+res[0].Rows)) {
					t.Errorf("state after load: %s", st)
				}
				if c.check != nil {
					c.check(t, d, res)
				}
				t.Logf("loaded %d rows (ignored %v, normalized %d)", res[0].Rows, res[0].Ignored, res[0].Normalized)
			}
			r, err := d.Check(context.Background())
			if err != nil || !r.OK() {
				t.Fatalf("check: %v %v", err, r.Problems)
			}
		})
	}
	return d
}

// ingestNoPanic ingests one source, turning a panic into a test-visible
// error with its stack.
func ingestNoPanic(d *DB, src Source) (res []IngestResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC: %v\n%s", r, debug.Stack())
			panic(err)
		}
	}()
	return d.Ingest(context.Background(), []Source{src}, nil)
}

func (d *DB) mustRows(t testing.TB) int64 {
	t.Helper()
	in, err := d.Info()
	if err != nil {
		t.Fatal(err)
	}
	return in.Rows
}

func (d *DB) mustSegment(t testing.TB, name string) Segment {
	t.Helper()
	m, err := d.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Segments {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no segment %s", name)
	return Segment{}
}

func nsfwCount(in *Info, v string) int64 {
	for _, c := range in.NSFW {
		if c.Value == v {
			return c.Count
		}
	}
	return 0
}

// lookup scans the store for the row whose string column key equals val
// and returns the named columns' values (string, int64, float64, bool or
// nil for null); nil when no row matches.
func lookup(t *testing.T, d *DB, key, val string, cols ...string) map[string]any {
	t.Helper()
	s, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var out map[string]any
	err = s.Scan(context.Background(), append([]string{key}, cols...), func(b *table.Batch) error {
		kc := b.Cols[key]
		for i := 0; i < b.Len; i++ {
			if kc.IsNull(i) || kc.Type != table.TypeString || string(kc.Str.At(i)) != val {
				continue
			}
			row := map[string]any{}
			for _, name := range cols {
				c := b.Cols[name]
				switch {
				case c == nil || c.IsNull(i):
					row[name] = nil
				case c.Type == table.TypeString:
					row[name] = string(c.Str.At(i))
				case c.Type == table.TypeInt:
					row[name] = c.Int[i]
				case c.Type == table.TypeFloat:
					row[name] = c.Float[i]
				case c.Type == table.TypeBool:
					row[name] = c.Bool[i]
				}
			}
			mu.Lock()
			out = row
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkTypes(t *testing.T, d *DB, res []IngestResult) {
	m, _ := d.Manifest()
	types := map[string]table.Type{}
	for _, c := range m.Columns {
		types[c.Name] = c.Type
	}
	t.Logf("column types: %v", types)
	for name, want := range map[string]table.Type{"flag": table.TypeBool, "f32": table.TypeFloat, "u32": table.TypeInt,
		"i8": table.TypeInt, "i16": table.TypeInt, "fixed": table.TypeString, "i96": table.TypeString, "blob": table.TypeString} {
		if types[name] != want {
			t.Errorf("column %s has type %v, want %v", name, types[name], want)
		}
	}
	// Unsigned values above the int64 range must not come back negative.
	r := lookup(t, d, "text", "typed 0", "u32", "u64", "i8", "i16", "flag", "f32", "fixed", "i96", "ts", "day", "dec", "optf")
	t.Logf("typed 0: %q", r)
	if r["u32"] != int64(4294967295) {
		t.Errorf("u32 max read back as %v", r["u32"])
	}
	if r["u64"] != "18446744073709551615" && r["u64"] != float64(18446744073709551615) {
		t.Errorf("u64 max read back as %v", r["u64"])
	}
	if r["i8"] != int64(0) || r["flag"] != true {
		t.Errorf("i8/flag read back as %v/%v", r["i8"], r["flag"])
	}
}

// checkUnitVectors checks that every vector of the store is finite and
// unit-norm after a file of extreme values was normalised.
func checkUnitVectors(t *testing.T, d *DB, res []IngestResult) {
	q := make([]float32, 8)
	for j := 0; j < 8; j++ {
		q[j] = 1
		sr, err := d.Search(context.Background(), engine.SearchRequest{Vec: q, K: 3, Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range sr.Hits {
			if h.Score > 1.01 || h.Score != h.Score {
				t.Errorf("score %v for e_%d: a vector is not unit-norm", h.Score, j)
			}
		}
		q[j] = 0
	}
}
