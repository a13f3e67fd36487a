package db

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"github.com/dgraph-io/badger/v4"

	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// IngestOptions tune Ingest. Nil means defaults.
type IngestOptions struct {
	// SkipText leaves text embeddings out of the store.
	SkipText bool
	// Progress, when set, is called from time to time with the rows done
	// and the rows in all sources; never from two goroutines at once.
	Progress func(done, total int64)
	// NoIndex skips adding the new rows to the vector index and the new
	// segments to the text index; searches still find them, by an exact
	// scan, until BuildIndex (BuildTextIndex) runs.
	NoIndex bool
	// Index sets the parameters of a new index and its progress callback.
	Index IndexOptions
}

// IngestResult reports what happened to one source.
type IngestResult struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
	// Skipped is true when the source was already in the store.
	Skipped bool `json:"skipped,omitempty"`
	// Missing lists the columns the source's layout expects that it
	// lacks (for LAION metadata: text, url, nsfw, similarity, width,
	// height, license).
	Missing []string `json:"missing,omitempty"`
	// Ignored lists nested or repeated columns that were not stored.
	Ignored []string `json:"ignored,omitempty"`
	// Normalized counts vectors scaled to unit norm.
	Normalized int64 `json:"normalized,omitempty"`
}

// Ingest adds the sources to the store, one at a time. Each source is
// atomic: it is either wholly in the store, or (after an error, a cancelled
// ctx or a crash) not at all. A source whose name and files are already in
// the store is skipped; one whose name is there with different files is
// refused with ErrConflict, and one whose files are there under another
// name with ErrDuplicate. The results of the sources done so far are
// returned with any error.
func (d *DB) Ingest(ctx context.Context, srcs []Source, opts *IngestOptions) ([]IngestResult, error) {
	if d.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	var o IngestOptions
	if opts != nil {
		o = *opts
	}
	d.ingestMu.Lock()
	defer d.ingestMu.Unlock()
	var results []IngestResult
	// Check every source's files (schemas, npy headers, row counts,
	// dimensions) before writing anything, and count the rows; the files
	// are opened again, and checksummed, one source at a time.
	var total int64
	dim, dimFrom := 0, ""
	for _, s := range srcs {
		p, err := d.prepare(s, o.SkipText, false)
		if err != nil {
			return results, err
		}
		total += p.info.Rows
		if p.img != nil {
			if dim == 0 {
				dim, dimFrom = p.img.Dim(), p.img.Path()
			} else if p.img.Dim() != dim {
				p.close()
				return results, fmt.Errorf("%w: %s has dimension %d but %s has %d", ErrDimension, p.img.Path(), p.img.Dim(), dimFrom, dim)
			}
		}
		p.close()
	}
	var done int64
	for _, s := range srcs {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		p, err := d.prepare(s, o.SkipText, true)
		if err != nil {
			return results, err
		}
		res, err := d.ingestOne(ctx, p, func(n int64) {
			if o.Progress != nil {
				o.Progress(done+n, total)
			}
		})
		p.close()
		if err != nil {
			return results, err
		}
		done += p.info.Rows
		if o.Progress != nil {
			o.Progress(done, total)
		}
		results = append(results, res)
	}
	if err := d.mergeMetas(ctx); err != nil {
		return results, fmt.Errorf("%w (every source is committed; the next ingest merges again)", err)
	}
	if !o.NoIndex {
		// A store with a text index indexes the new segments too.
		if err := d.buildTextIndex(ctx, TextIndexOptions{}); err != nil {
			return results, err
		}
		if err := d.buildIndex(ctx, &o.Index); err != nil {
			return results, err
		}
		// A store with an index over its text embeddings keeps it up to
		// date too.
		if m, err := d.snapshot(); err == nil && len(m.IndexesOf(query.SpaceText)) > 0 {
			to := o.Index
			to.Space, to.Kind, to.Rebuild = query.SpaceText, "", false
			if err := d.buildIndex(ctx, &to); err != nil {
				return results, err
			}
		}
	}
	return results, nil
}

// prepared is a source whose reader is open and checked.
type prepared struct {
	r     SegmentReader
	info  SegmentInfo
	img   VectorReader
	txt   VectorReader
	files []SourceFile // with sums
}

func (p *prepared) close() { p.r.Close() }

// prepare opens a source's reader and checks it before anything is
// written: its layout checks its files (parquet readable, npy headers
// consistent with their size and row counts equal, for the parquet
// layouts); prepare checks what every layout must satisfy, vector
// dimensions equal to each other and to the store's among them. With
// sums, it also gets the files' checksums.
func (d *DB) prepare(s Source, skipText, sums bool) (*prepared, error) {
	r, err := openSource(s, SourceOptions{SkipText: skipText})
	if err != nil {
		return nil, err
	}
	p := &prepared{r: r, info: r.Info(), img: r.Image(), txt: r.Text()}
	if err := d.checkReader(p); err != nil {
		p.close()
		return nil, err
	}
	if sums {
		if p.files, err = r.Provenance(); err != nil {
			p.close()
			return nil, err
		}
		if len(p.files) == 0 {
			p.close()
			return nil, fmt.Errorf("%w: %s: the reader names no source files", ErrBadInput, p.info.Path)
		}
	}
	return p, nil
}

// MaxRows is the most rows one store holds: rows are numbered in 32 bits
// (allow-lists, hits and the index name them so). LAION-5B's 5.85B rows
// take more than one store; its own three subsets (laion2B-en,
// laion2B-multi, laion1B-nolang) each fit in one.
const MaxRows = math.MaxUint32

// checkRowLimit refuses a source of add rows that would take a store of
// have rows past MaxRows, before anything is written: past it, row numbers
// would wrap and answers would name the wrong rows.
func checkRowLimit(have, add int64, path string) error {
	if have+add > MaxRows {
		return fmt.Errorf("%w: %s: its %d rows would take the store to %d rows, past the %d one store holds (rows are numbered in 32 bits); ingest it into another store", ErrBadInput, path, add, have+add, int64(MaxRows))
	}
	return nil
}

// checkReader checks what an opened reader says of its segment.
func (d *DB) checkReader(p *prepared) error {
	in := &p.info
	if in.Rows < 0 || in.Rows > math.MaxUint32 {
		return fmt.Errorf("%w: %s: %d rows", ErrBadInput, in.Path, in.Rows)
	}
	seen := map[string]bool{}
	for _, c := range in.Columns {
		switch {
		case seen[c.Name]:
			return fmt.Errorf("%w: %s: the reader declares column %q twice", ErrBadInput, in.Path, c.Name)
		case c.Type < table.TypeString || c.Type > table.TypeBool:
			return fmt.Errorf("%w: %s: the reader declares column %q of unknown type %d", ErrBadInput, in.Path, c.Name, c.Type)
		}
		seen[c.Name] = true
	}
	for _, v := range []VectorReader{p.img, p.txt} {
		if v == nil {
			continue
		}
		if dt := v.DType(); dt != "float16" && dt != "float32" {
			return fmt.Errorf("%w: %s: vectors of type %q (float16 and float32 are supported)", ErrBadInput, v.Path(), dt)
		}
		if v.Dim() < 0 || v.Dim() > npy.MaxCols {
			return fmt.Errorf("%w: %s: vectors of dimension %d", ErrBadInput, v.Path(), v.Dim())
		}
		if v.Rows() != in.Rows {
			return fmt.Errorf("%w: %s has %d rows but %s has %d: row r of each must be the same sample",
				ErrBadInput, v.Path(), v.Rows(), in.Path, in.Rows)
		}
	}
	if p.img != nil && p.txt != nil && p.img.Dim() != p.txt.Dim() {
		return fmt.Errorf("%w: %s has dimension %d but %s has %d", ErrDimension, p.img.Path(), p.img.Dim(), p.txt.Path(), p.txt.Dim())
	}
	if p.img == nil && p.txt != nil {
		return fmt.Errorf("%w: %s: text embeddings need image embeddings too", ErrBadInput, p.txt.Path())
	}
	m, err := d.snapshot()
	if err != nil {
		return err
	}
	if p.img != nil && m.Dim != 0 && p.img.Dim() != m.Dim {
		return fmt.Errorf("%w: %s has dimension %d, the store has %d", ErrDimension, p.img.Path(), p.img.Dim(), m.Dim)
	}
	if p.img != nil && p.img.Dim() == 0 {
		return fmt.Errorf("%w: %s has dimension 0", ErrDimension, p.img.Path())
	}
	return nil
}

func checksum(path string) (SourceFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return SourceFile{}, fmt.Errorf("db: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return SourceFile{}, fmt.Errorf("db: reading %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return SourceFile{Path: abs, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// sameFiles reports whether two file lists have the same roles and contents.
func sameFiles(a, b []SourceFile) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Role != b[i].Role || a[i].SHA256 != b[i].SHA256 || a[i].Size != b[i].Size {
			return false
		}
	}
	return true
}

// ingestOne writes one prepared source and commits it.
func (d *DB) ingestOne(ctx context.Context, p *prepared, progress func(int64)) (IngestResult, error) {
	m, err := d.snapshot()
	if err != nil {
		return IngestResult{}, err
	}
	res := IngestResult{Name: p.info.Name, Rows: p.info.Rows, Missing: p.info.Missing, Ignored: p.info.Ignored}
	for _, s := range m.Segments {
		if s.Name == p.info.Name {
			if sameFiles(s.Files, p.files) {
				res.Skipped = true
				return res, nil
			}
			return res, fmt.Errorf("%w: %s (the store's copy has other checksums; ingest it under another name if it is another file)", ErrConflict, p.info.Name)
		}
		if s.Files[0].SHA256 == p.files[0].SHA256 {
			return res, fmt.Errorf("%w: %s has the same content as %s", ErrDuplicate, p.info.Path, s.Name)
		}
	}
	if err := checkRowLimit(m.Rows, p.info.Rows, p.info.Path); err != nil {
		return res, err
	}
	if err := d.checkSpace(p, m); err != nil {
		return res, err
	}
	next := m.clone()
	next.FormatVersion = FormatVersion
	seg := Segment{ID: m.NextSegment, Name: p.info.Name, Base: m.Rows, Rows: p.info.Rows, Files: p.files,
		HasImage: p.img != nil, HasText: p.txt != nil, Meta: newMetaName(m.NextSegment)}
	seg.Stats.Missing = res.Missing
	for _, c := range p.info.Columns {
		if c.Name == PairCosColumn {
			return res, fmt.Errorf("%w: %s has a column %s, the name of the column laiondb computes (the cosine of each row's image and text embeddings); rename it", ErrBadInput, p.info.Path, PairCosColumn)
		}
		mc := next.column(c.Name)
		if mc == nil {
			if len(next.Columns) >= math.MaxUint16 {
				return res, fmt.Errorf("%w: %s: too many columns", ErrBadInput, p.info.Path)
			}
			next.Columns = append(next.Columns, ManifestColumn{ID: uint16(len(next.Columns)), Name: c.Name, Type: c.Type})
		} else {
			mc.Type = widen(mc.Type, c.Type)
		}
	}
	if p.img != nil && next.Dim == 0 {
		next.Dim = p.img.Dim()
		next.DType = p.img.DType()
	}

	// From here on, failure must undo what was written.
	ok := false
	var img, txt *vecFile
	pm, err := d.beginMeta(seg.Meta)
	if err != nil {
		return res, err
	}
	defer func() {
		if ok {
			return
		}
		d.discard(pm)
		for _, v := range []*vecFile{img, txt} {
			if v != nil {
				v.rollback(m.Rows)
				if v != d.imgFile(nil) && v != d.txtFile(nil) {
					v.close() // opened for this ingest
				}
			}
		}
	}()

	var progMu sync.Mutex
	var units int64
	unitsPerRow := int64(len(p.info.Columns))
	if p.img != nil {
		unitsPerRow++
	}
	if p.txt != nil {
		unitsPerRow++
	}
	advance := func(n int64) { // called from several goroutines
		progMu.Lock()
		defer progMu.Unlock()
		units += n
		progress(units / max(unitsPerRow, 1))
	}

	if err := d.writeColumns(ctx, pm.w, p, next, &seg, advance); err != nil {
		return res, err
	}
	if p.img != nil {
		if img, err = d.vectorFile("img", next); err != nil {
			return res, err
		}
		if seg.NormalizedImage, seg.ImageSum, err = writeVectors(ctx, p.img, img, seg.Base, advance); err != nil {
			return res, err
		}
		if p.img.DType() != next.DType {
			seg.ConvertedFrom = p.img.DType()
		}
		res.Normalized += seg.NormalizedImage
	}
	if p.txt != nil {
		if txt, err = d.vectorFile("txt", next); err != nil {
			return res, err
		}
		if seg.NormalizedText, seg.TextSum, err = writeVectors(ctx, p.txt, txt, seg.Base, advance); err != nil {
			return res, err
		}
		res.Normalized += seg.NormalizedText
	}

	// Commit: vectors durable, metadata durable, then the manifest.
	rows := next.Rows + seg.Rows
	for _, v := range []*vecFile{d.imgFile(img), d.txtFile(txt)} {
		if v != nil {
			if err := v.commit(rows); err != nil {
				return res, err
			}
		}
	}
	if p.img != nil && p.txt != nil {
		mc := next.column(PairCosColumn)
		if mc == nil {
			if len(next.Columns) >= math.MaxUint16 {
				return res, fmt.Errorf("%w: %s: too many columns", ErrBadInput, p.info.Path)
			}
			next.Columns = append(next.Columns, ManifestColumn{ID: uint16(len(next.Columns)), Name: PairCosColumn, Type: table.TypeFloat})
			mc = &next.Columns[len(next.Columns)-1]
		}
		if err := writePairCos(ctx, pm.w, &seg, mc.ID, d.imgFile(img).matrix(rows), d.txtFile(txt).matrix(rows)); err != nil {
			return res, err
		}
		seg.Columns = append(seg.Columns, PairCosColumn)
	}
	next.Rows = rows
	next.NextSegment++
	next.Segments = append(next.Segments, seg)
	// Readers open the database read-only once the manifest lists it, and
	// it never changes again.
	if err := d.seal(pm); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	// The new rows' norms, computed before the lock and stored before the
	// manifest commits the rows; only ingest (one at a time) writes inv.
	var imgInv, txtInv []float32
	if v := d.imgFile(img); v != nil {
		imgInv = v.invNorms(next.Rows)
		if err := v.saveNorms(imgInv, len(v.inv)); err != nil {
			return res, err
		}
	}
	if v := d.txtFile(txt); v != nil {
		txtInv = v.invNorms(next.Rows)
		if err := v.saveNorms(txtInv, len(v.inv)); err != nil {
			return res, err
		}
	}
	if err := writeManifest(d.dir, next); err != nil {
		return res, fmt.Errorf("db: committing %s: %w", p.info.Name, err)
	}
	ok = true
	d.mu.Lock()
	d.man = next
	metas := maps.Clone(d.metas) // views hold the old map
	metas[seg.Meta] = pm.r
	d.metas = metas
	if img != nil {
		d.img = img
	}
	if txt != nil {
		d.txt = txt
	}
	if d.img != nil {
		d.img.inv = imgInv
	}
	if d.txt != nil {
		d.txt.inv = txtInv
	}
	d.mu.Unlock()
	return res, nil
}

func (d *DB) imgFile(v *vecFile) *vecFile {
	if v != nil {
		return v
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.img
}

func (d *DB) txtFile(v *vecFile) *vecFile {
	if v != nil {
		return v
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.txt
}

// vectorFile returns the store's open vector file of that name, creating
// it (holes for the rows so far) when this is its first ingest.
func (d *DB) vectorFile(name string, m *Manifest) (*vecFile, error) {
	d.mu.RLock()
	v := d.img
	if name == "txt" {
		v = d.txt
	}
	d.mu.RUnlock()
	if v != nil {
		return v, nil
	}
	committed := m.Rows
	return openVecFile(vecPath(d.dir, name, m.DType), m.DType, m.Dim, committed, false)
}

// writeColumns writes the metadata columns as blocks, two columns at a time.
func (d *DB) writeColumns(ctx context.Context, bdb *badger.DB, p *prepared, m *Manifest, seg *Segment, advance func(int64)) error {
	wb := newBlockBatch(bdb)
	defer wb.Cancel()
	var wbMu sync.Mutex
	set := func(k, v []byte) error {
		wbMu.Lock()
		defer wbMu.Unlock()
		return wb.Set(k, v)
	}
	cols := p.info.Columns
	stats := make([]columnStats, len(cols))
	errs := make([]error, len(cols))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, c := range cols {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			colID := m.column(c.Name).ID
			st := newColumnStats(c.Name)
			var start int64
			err := p.r.ReadColumn(i, func(cb *ColumnBatch) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				if cb == nil || cb.b.n == 0 {
					return nil
				}
				b := &cb.b
				switch {
				case b.typ != c.Type || !b.wellFormed():
					return fmt.Errorf("%w: %s: column %s: the reader gave a batch whose values are not all of the column's type %s", ErrBadInput, p.info.Path, c.Name, c.Type)
				case b.n > blockRows || start%blockRows != 0:
					return fmt.Errorf("%w: %s: column %s: the reader gave a batch of %d rows at row %d of %d (batches must be full but for the last)", ErrBadInput, p.info.Path, c.Name, b.n, start, p.info.Rows)
				}
				st.add(c.Name, b)
				advance(int64(b.n))
				k := blockKey(seg.ID, colID, uint32(start))
				start += int64(b.n)
				return set(k, b.encode())
			})
			if err == nil && start != p.info.Rows {
				err = fmt.Errorf("%w: %s: column %s has %d values, the segment has %d rows", ErrBadInput, p.info.Path, c.Name, start, p.info.Rows)
			}
			stats[i], errs[i] = st, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("db: writing metadata of %s: %w", p.info.Name, err)
	}
	seg.Stats.Nulls = map[string]int64{}
	seg.Stats.InvalidUTF8 = map[string]int64{}
	for i, c := range cols {
		seg.Columns = append(seg.Columns, c.Name)
		st := stats[i]
		if st.nulls > 0 {
			seg.Stats.Nulls[c.Name] = st.nulls
		}
		if st.invalidUTF8 > 0 {
			seg.Stats.InvalidUTF8[c.Name] = st.invalidUTF8
		}
		if st.nsfw != nil {
			seg.Stats.NSFW = st.nsfw
		}
		seg.Stats.SimilarityInvalid += st.simInvalid
	}
	return nil
}

// columnStats is what writing a column learns for info.
type columnStats struct {
	nulls       int64
	invalidUTF8 int64
	nsfw        map[string]int64 // for the nsfw column: each value's count
	simInvalid  int64
}

func newColumnStats(name string) columnStats {
	var st columnStats
	if name == "nsfw" {
		st.nsfw = map[string]int64{}
	}
	return st
}

// add counts a batch of the named column: nulls, invalid UTF-8 strings,
// the nsfw column's values (null under ""), similarity values that are
// NaN, > 1 or < -1.
func (st *columnStats) add(name string, b *colBuilder) {
	for i := 0; i < b.n; i++ {
		if b.nulls[i] {
			st.nulls++
			if st.nsfw != nil {
				st.nsfw[""]++
			}
			continue
		}
		switch b.typ {
		case table.TypeString:
			s := b.data[b.off[i]:b.off[i+1]]
			if !utf8.Valid(s) {
				st.invalidUTF8++
			}
			if st.nsfw != nil {
				st.nsfw[textKey(string(s))]++
			}
		case table.TypeFloat:
			if f := b.flts[i]; name == "similarity" && (math.IsNaN(f) || f > 1 || f < -1) {
				st.simInvalid++
			}
		}
	}
}

// writeVectors copies a reader's vectors into the store's vector file at
// row base, converting the dtype when it differs, and scaling vectors that
// are not unit-norm. NaN, Inf or an all-zero vector is an error naming the
// file and row. It returns the number of vectors normalised.
func writeVectors(ctx context.Context, src VectorReader, dst *vecFile, base int64, advance func(int64)) (normalized int64, sum string, err error) {
	const chunk = 4096
	dim := src.Dim()
	esz := 4
	if src.DType() == "float16" {
		esz = 2
	}
	raw := make([]byte, chunk*dim*esz)
	h16 := make([]uint16, chunk*dim)
	f32 := make([]float32, chunk*dim)
	out := make([]byte, 0, chunk*dim*elemSize(dst.dtype))
	h := xxhash.New()
	row := int64(0)
	for {
		if err := ctx.Err(); err != nil {
			return 0, "", err
		}
		n, err := src.ReadRaw(raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, "", fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		if n <= 0 || n > chunk || row+int64(n) > src.Rows() {
			return 0, "", fmt.Errorf("%w: %s: the reader gave %d vectors at row %d of %d", ErrBadInput, src.Path(), n, row, src.Rows())
		}
		vals := f32[:n*dim]
		if src.DType() == "float16" {
			for j := range h16[:n*dim] {
				h16[j] = binary.LittleEndian.Uint16(raw[2*j:])
			}
			vector.F16ToF32(vals, h16[:n*dim])
		} else {
			for j := range vals {
				vals[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			}
		}
		changed := false
		for i := 0; i < n; i++ {
			v := vals[i*dim : (i+1)*dim]
			ss := float64(vector.Dot(v, v))
			if math.IsNaN(ss) || math.IsInf(ss, 0) {
				for j, x := range v {
					if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
						return 0, "", fmt.Errorf("%w: %s: row %d, element %d is %v", ErrBadInput, src.Path(), row+int64(i), j, x)
					}
				}
				ss = vector.Norm(v) * vector.Norm(v)
			}
			if ss == 0 {
				return 0, "", fmt.Errorf("%w: %s: row %d is an all-zero vector", ErrBadInput, src.Path(), row+int64(i))
			}
			// float16 rounding leaves CLIP's unit vectors within ~1e-3 of 1.
			if math.Abs(math.Sqrt(ss)-1) > 1e-2 {
				normalized++
				changed = true
				vector.Normalize(v)
			}
		}
		out = out[:0]
		switch {
		case !changed && src.DType() == dst.dtype:
			out = append(out, raw[:n*dim*esz]...)
		case dst.dtype == "float16":
			vector.F32ToF16(h16[:n*dim], vals)
			for _, x := range h16[:n*dim] {
				out = binary.LittleEndian.AppendUint16(out, x)
			}
		default:
			for _, x := range vals {
				out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
			}
		}
		if err := dst.writeRows(base+row, out); err != nil {
			return 0, "", err
		}
		h.Write(out)
		row += int64(n)
		advance(int64(n))
	}
	if row != src.Rows() {
		return 0, "", fmt.Errorf("%w: %s: the reader gave %d vectors, not %d", ErrBadInput, src.Path(), row, src.Rows())
	}
	return normalized, fmt.Sprintf("%016x", h.Sum64()), nil
}

// checkSpace refuses an ingest that would not fit on the store's file
// system. Badger writes through memory-mapped files, and a write into a
// full one kills the process (SIGBUS) instead of failing, so the store
// checks first. The estimate is generous: four times the metadata file
// (decoded text, Badger's log and tables), the vectors, and the index's
// links.
func (d *DB) checkSpace(p *prepared, m *Manifest) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.dir, &st); err != nil {
		return nil // no figure to check against
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	need := 4*p.files[0].Size + 1<<20
	dim := m.Dim
	if p.img != nil {
		dim = p.img.Dim()
	}
	esz := int64(2)
	if m.DType == "float32" || (m.DType == "" && p.img != nil && p.img.DType() == "float32") {
		esz = 4
	}
	for _, f := range []VectorReader{p.img, p.txt} {
		if f != nil {
			need += f.Rows() * int64(dim) * esz
		}
	}
	if p.img != nil {
		need += p.img.Rows() * 160 // graph links at M 16
	}
	if need > free {
		return fmt.Errorf("%w: no space left for %s in %s: it needs about %d MB, %d MB are free",
			ErrNoSpace, p.info.Name, d.dir, need>>20, free>>20)
	}
	return nil
}
