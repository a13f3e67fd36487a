package db

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"math/bits"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cespare/xxhash/v2"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/internal/oracle"
	"github.com/laiondb/laiondb/query"
)

// triColumns are the columns the tests index: two string columns and a
// float one, whose text is Python's str() of the value.
var triColumns = []string{"text", "url", "similarity"}

// triStore ingests the oracle's generated parts (captions and URLs with
// 'İ', sigma, the Kelvin sign, long s, spaces at the ends...) into a
// store in dir and returns it with the values needles are cut from.
func triStore(t testing.TB, dir string, parts ...int) (*DB, *oracle.Dataset, []string) {
	t.Helper()
	ds, err := oracle.Generate(filepath.Join(dir, "input"), oracle.Config{Seed: 11, PartRows: parts, Dim: 8})
	if err != nil {
		t.Fatal(err)
	}
	d := openTest(t, filepath.Join(dir, "store"))
	var srcs []Source
	for _, p := range ds.Parts {
		srcs = append(srcs, Source{Metadata: p.Parquet, ImageEmb: p.Npy})
	}
	if _, err := d.Ingest(context.Background(), srcs, nil); err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, r := range ds.Rows {
		for _, s := range []*string{r.Text, r.URL} {
			if s != nil {
				vals = append(vals, *s)
			}
		}
		if r.Similarity != nil {
			vals = append(vals, fmt.Sprint(*r.Similarity))
		}
	}
	return d, ds, vals
}

// scanOnly hides a store's text index from the engine.
type scanOnly struct{ engine.Store }

// compareIndexed runs n random text queries on d through its text index
// and by a scan, and fails on the first answer that differs; it returns
// how many used the index.
func compareIndexed(t *testing.T, d *DB, vals []string, n int, seed uint64) int {
	t.Helper()
	v, err := d.view()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	used := 0
	for i := range n {
		where, lx := enginetest.TextQuery(rng, triColumns, vals)
		qs := []string{"all", "all", "knn(row(3), 10)", "all sample 300 seed 1"}[i%4] + " where " + where
		q, err := query.Parse(qs)
		if err != nil {
			t.Fatalf("%s: %v", qs, err)
		}
		opts := &engine.Options{Rows: 3}
		if lx != nil {
			opts.Lexicons = map[string][]string{"lx": lx}
		}
		plan, err := enginetest.SameAnswer(context.Background(), v, scanOnly{v}, q, opts)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan, "text index:") {
			used++
		}
	}
	return used
}

// TestTrigramIndex builds the text index of a generated store and compares
// random text queries through it with scans; an ingest afterwards indexes
// its segment too, and check passes.
func TestTrigramIndex(t *testing.T) {
	d, _, vals := triStore(t, t.TempDir(), 900, 700, 800)
	var calls []int64
	err := d.BuildTextIndex(context.Background(), &TextIndexOptions{Columns: triColumns, Progress: func(done, total int64) {
		calls = append(calls, done, total)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{900, 7200, 1800, 7200}; !slices.Equal(calls[:4], want) || calls[len(calls)-2] != 7200 {
		t.Errorf("progress %v, want it to start with %v and reach 7200", calls, want)
	}
	m, _ := d.Manifest()
	for _, s := range m.Segments {
		if len(s.Trigrams) != len(triColumns) {
			t.Fatalf("segment %s has %d text index files, want %d", s.Name, len(s.Trigrams), len(triColumns))
		}
	}
	const n = 600
	used := compareIndexed(t, d, vals, n, 1)
	if used < n/5 {
		t.Errorf("only %d of %d queries used the index", used, n)
	}
	rep, err := d.Check(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("check: %v %v", rep.Problems, err)
	}

	// A new segment is indexed by its ingest.
	ds, err := oracle.Generate(filepath.Join(t.TempDir(), "more"), oracle.Config{Seed: 12, PartRows: []int{500}, Dim: 8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ingest(context.Background(), []Source{{Name: "more", Metadata: ds.Parts[0].Parquet, ImageEmb: ds.Parts[0].Npy}}, nil); err != nil {
		t.Fatal(err)
	}
	m, _ = d.Manifest()
	if last := m.Segments[len(m.Segments)-1]; len(last.Trigrams) != len(triColumns) {
		t.Fatalf("the ingested segment has %d text index files, want %d", len(last.Trigrams), len(triColumns))
	}
	compareIndexed(t, d, vals, 100, 2)
}

// TestTextIndexDamage damages an index file, in its directory (found when
// the file is opened) or in its bitmaps (each found when a query reads
// it): check reports it, the store warns once and scans that segment, and
// answers stay those of a scan.
func TestTextIndexDamage(t *testing.T) {
	for _, where := range []string{"directory", "bitmaps"} {
		t.Run(where, func(t *testing.T) {
			dir := t.TempDir()
			d, _, vals := triStore(t, dir, 600, 500)
			if err := d.BuildTextIndex(context.Background(), &TextIndexOptions{Columns: []string{"text"}}); err != nil {
				t.Fatal(err)
			}
			m, _ := d.Manifest()
			f := m.Segments[1].Trigrams[0]
			d.Close()
			path := filepath.Join(dir, "store", filepath.FromSlash(f.File))
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte(trigramMagic)) {
				t.Fatalf("%s is not of the current format", f.File)
			}
			h := len(trigramMagic)
			data := h + 16 + 16*int(binary.LittleEndian.Uint32(b[h+8:]))
			if where == "directory" {
				b[h+16+20] ^= 0x40 // the second entry's end offset
			} else {
				for i := data; i < len(b); i += 64 {
					b[i] ^= 0x40
				}
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			var warned []string
			d, err = Open(filepath.Join(dir, "store"), &Options{Warn: func(s string) { warned = append(warned, s) }})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			rep, err := d.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) != 1 || rep.Problems[0].Where != f.File || !strings.Contains(rep.Problems[0].What, "digest") {
				t.Fatalf("check found %v, want the digest of %s", rep.Problems, f.File)
			}
			compareIndexed(t, d, vals, 200, 3)
			if len(warned) != 1 || !strings.Contains(warned[0], f.File) {
				t.Errorf("warnings %q, want one about %s", warned, f.File)
			}
		})
	}
}

// TestTextIndexResume cancels a build after its first file: the files
// committed stay, the next build writes only the others.
func TestTextIndexResume(t *testing.T) {
	d, _, vals := triStore(t, t.TempDir(), 400, 300, 500)
	ctx, cancel := context.WithCancel(context.Background())
	err := d.BuildTextIndex(ctx, &TextIndexOptions{Columns: []string{"text", "url"}, Progress: func(done, total int64) { cancel() }})
	if err == nil {
		t.Fatal("a cancelled build returned no error")
	}
	m, _ := d.Manifest()
	files := 0
	for _, s := range m.Segments {
		files += len(s.Trigrams)
	}
	if files != 1 || !slices.Equal(m.Trigrams.Columns, []string{"text", "url"}) {
		t.Fatalf("after the cancel: %d files and columns %v, want 1 and [text url]", files, m.Trigrams.Columns)
	}
	first := m.Segments[0].Trigrams[0]
	compareIndexed(t, d, vals, 100, 4) // a partial index answers too
	var total int64
	if err := d.BuildTextIndex(context.Background(), &TextIndexOptions{Progress: func(done, t int64) { total = t }}); err != nil {
		t.Fatal(err)
	}
	if want := int64(2*1200 - 400); total != want {
		t.Errorf("the resumed build indexed %d rows, want %d", total, want)
	}
	m, _ = d.Manifest()
	if m.Segments[0].Trigrams[0] != first {
		t.Errorf("the resumed build rewrote %s", first.File)
	}
}

// TestKillDuringTextIndex kills a child process building the text index at
// random moments: the store must open, check clean and answer as a scan,
// and a build afterwards completes it.
func TestKillDuringTextIndex(t *testing.T) {
	if os.Getenv("LAIONDB_KILL_CHILD") != "" {
		t.Skip("child")
	}
	kills := 4
	if testing.Short() || raceEnabled { // the race run has its own children, 10 times slower
		kills = 2
	}
	dir := t.TempDir()
	d, _, vals := triStore(t, dir, 3000, 3000, 3000, 3000)
	d.Close()
	store := filepath.Join(dir, "store")
	r := rand.New(rand.NewPCG(3, 3))
	for k := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTextIndexChild$")
		cmd.Env = append(os.Environ(), "LAIONDB_KILL_CHILD=1", "LAIONDB_KILL_STORE="+store)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wait := time.Duration(20+r.IntN(400)) * time.Millisecond
		time.Sleep(wait)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		d, err := Open(store, nil)
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", k, err)
		}
		rep, err := d.Check(context.Background())
		if err != nil || !rep.OK() {
			t.Fatalf("kill %d: check: %v %v", k, rep.Problems, err)
		}
		m, _ := d.Manifest()
		files := 0
		for _, s := range m.Segments {
			files += len(s.Trigrams)
		}
		ents, _ := os.ReadDir(filepath.Join(store, trigramDir))
		if len(ents) != files {
			t.Fatalf("kill %d: %d files in %s, the manifest lists %d: debris was left", k, len(ents), trigramDir, files)
		}
		t.Logf("kill %d after %v: %d of %d files committed", k, wait, files, 2*len(m.Segments))
		compareIndexed(t, d, vals, 30, uint64(k))
		d.Close()
	}
	d = openTest(t, store)
	// The columns are named again: on a slow machine every child may have
	// been killed before its first commit recorded them.
	if err := d.BuildTextIndex(context.Background(), &TextIndexOptions{Columns: []string{"text", "url"}}); err != nil {
		t.Fatal(err)
	}
	m, _ := d.Manifest()
	for _, s := range m.Segments {
		if len(s.Trigrams) != 2 {
			t.Fatalf("segment %s has %d files after the build, want 2", s.Name, len(s.Trigrams))
		}
	}
	compareIndexed(t, d, vals, 100, 9)
}

// TestTextIndexChild is the child of TestKillDuringTextIndex.
func TestTextIndexChild(t *testing.T) {
	store := os.Getenv("LAIONDB_KILL_STORE")
	if os.Getenv("LAIONDB_KILL_CHILD") == "" || store == "" {
		t.Skip("run by TestKillDuringTextIndex")
	}
	d, err := Open(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.BuildTextIndex(context.Background(), &TextIndexOptions{Columns: []string{"text", "url"}}); err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// TestTextIndexConcurrent runs text queries from several goroutines on a
// freshly opened store, whose index files open on first use (run it with
// -race).
func TestTextIndexConcurrent(t *testing.T) {
	dir := t.TempDir()
	d, _, vals := triStore(t, dir, 500, 400, 300)
	if err := d.BuildTextIndex(context.Background(), &TextIndexOptions{Columns: []string{"text", "url"}}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d = openTest(t, filepath.Join(dir, "store"))
	errc := make(chan error, 8)
	for g := range 8 {
		go func() {
			v, err := d.view()
			if err != nil {
				errc <- err
				return
			}
			rng := rand.New(rand.NewPCG(uint64(g), 5))
			for range 20 {
				where, lx := enginetest.TextQuery(rng, []string{"text", "url"}, vals)
				q, err := query.Parse("all where " + where)
				if err != nil {
					errc <- err
					return
				}
				opts := &engine.Options{}
				if lx != nil {
					opts.Lexicons = map[string][]string{"lx": lx}
				}
				if _, err := enginetest.SameAnswer(context.Background(), v, scanOnly{v}, q, opts); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

// TestTrigramOldFormats reads files of formats 2 and 1 (Roaring bitmaps
// of rows), written as they were, beside the segment's file of format 3:
// every trigram's rows, taken by units, are the units of format 3; a
// format-1 file's digest is checked at open.
func TestTrigramOldFormats(t *testing.T) {
	dir := t.TempDir()
	d, _, _ := triStore(t, dir, 500)
	if err := d.BuildTextIndex(context.Background(), &TextIndexOptions{Columns: []string{"text"}}); err != nil {
		t.Fatal(err)
	}
	m, _ := d.Manifest()
	seg := &m.Segments[0]
	f3 := seg.Trigrams[0]
	b3, err := os.ReadFile(filepath.Join(dir, "store", filepath.FromSlash(f3.File)))
	if err != nil {
		t.Fatal(err)
	}
	t3, err := parseTrigramFile(b3, &f3, seg, true)
	if err != nil {
		t.Fatal(err)
	}
	if t3.version != 3 || t3.shift != textUnitShift {
		t.Fatalf("a new file is of format %d with units of 2^%d rows", t3.version, t3.shift)
	}
	// Format 2, as writeTrigramFile wrote it before format 3.
	sp, err := d.segmentTrigrams(context.Background(), m, seg, "text", 0)
	if err != nil {
		t.Fatal(err)
	}
	post := map[uint32][]uint32{}
	sp.gather(0, len(sp.keys), func(k uint32, units []uint32) { post[k] = slices.Clone(units) })
	keys := slices.Sorted(maps.Keys(post))
	var body, dir2, dir1 []byte
	for _, k := range keys {
		bm := roaring.BitmapOf(post[k]...)
		bm.RunOptimize()
		b, err := bm.ToBytes()
		if err != nil {
			t.Fatal(err)
		}
		body = append(body, b...)
		e := binary.LittleEndian.AppendUint32(nil, k)
		e = binary.LittleEndian.AppendUint64(e, uint64(len(body)))
		dir1 = append(dir1, e...)
		dir2 = binary.LittleEndian.AppendUint32(append(dir2, e...), crc32.Checksum(b, castagnoli))
	}
	v2 := binary.LittleEndian.AppendUint32([]byte(trigramMagic2), uint32(seg.Rows))
	v2 = binary.LittleEndian.AppendUint32(v2, uint32(len(keys)))
	v2 = binary.LittleEndian.AppendUint32(v2, crc32.Checksum(dir2, castagnoli))
	v2 = append(append(v2, dir2...), body...)
	v1 := binary.LittleEndian.AppendUint32([]byte(trigramMagic1), uint32(seg.Rows))
	v1 = binary.LittleEndian.AppendUint32(v1, uint32(len(keys)))
	v1 = append(append(v1, dir1...), body...)
	for _, old := range [][]byte{v2, v1} {
		f := TrigramFile{File: "old.tri", Size: int64(len(old)), Sum: fmt.Sprintf("%016x", xxhash.Sum64(old))}
		to, err := parseTrigramFile(old, &f, seg, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := to.check(); err != nil {
			t.Fatal(err)
		}
		if len(to.keys)/to.entry != len(t3.keys)/t3.entry {
			t.Fatalf("format %d: %d trigrams, format 3 %d", to.version, len(to.keys)/to.entry, len(t3.keys)/t3.entry)
		}
		for _, k := range keys {
			rows := make([]uint64, to.unitWords())
			units := make([]uint64, t3.unitWords())
			ok1, err1 := to.posting(k, rows)
			ok3, err3 := t3.posting(k, units)
			byUnit := make([]uint64, t3.unitWords())
			n := 0
			for w, x := range rows {
				for ; x != 0; x &= x - 1 {
					u := (w*64 + bits.TrailingZeros64(x)) >> textUnitShift
					if byUnit[u>>6]&(1<<(u&63)) == 0 {
						n++
					}
					byUnit[u>>6] |= 1 << (u & 63)
				}
			}
			if unlisted(n, t3.units) {
				// Not listed: every unit.
				for u := range t3.units {
					byUnit[u>>6] |= 1 << (u & 63)
				}
			}
			if !ok1 || !ok3 || err1 != nil || err3 != nil || !slices.Equal(byUnit, units) {
				t.Fatalf("trigram %06x: format %d %v (%v), format 3 %v (%v)", k, to.version, ok1, err1, ok3, err3)
			}
		}
	}
	f1 := TrigramFile{File: "v1.tri", Size: int64(len(v1)), Sum: fmt.Sprintf("%016x", xxhash.Sum64(v1))}
	v1[len(v1)-1] ^= 1
	if _, err := parseTrigramFile(v1, &f1, seg, false); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("a damaged file of format 1 opened: %v", err)
	}
}

// FuzzTrigramFile opens mutated text index files without their digest
// (as a query does) and reads every posting: errors, never a panic or a
// row outside the segment.
func FuzzTrigramFile(f *testing.F) {
	dir := f.TempDir()
	d, _, _ := triStore(f, dir, 300)
	if err := d.BuildTextIndex(context.Background(), &TextIndexOptions{Columns: []string{"text"}}); err != nil {
		f.Fatal(err)
	}
	m, _ := d.Manifest()
	seg := m.Segments[0]
	tf := seg.Trigrams[0]
	b, err := os.ReadFile(filepath.Join(dir, "store", filepath.FromSlash(tf.File)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := parseTrigramFile(data, &tf, &seg, false)
		if err != nil {
			return
		}
		dst := make([]uint64, tr.unitWords())
		for i := 0; i < len(tr.keys)/tr.entry; i++ {
			clear(dst)
			_, err := tr.posting(binary.LittleEndian.Uint32(tr.keys[i*tr.entry:]), dst)
			if err != nil && bytes.Equal(data, b) {
				t.Fatalf("the undamaged file: %v", err)
			}
		}
	})
}
