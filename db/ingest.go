package db

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"syscall"

	"github.com/cespare/xxhash/v2"

	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/vector"
)

// Source is one unit of ingest: a metadata parquet file and, optionally,
// the image and text embedding .npy files whose row r is the parquet's row r.
type Source struct {
	// Name identifies the unit in the manifest; re-ingesting a name is a
	// no-op when the files are the same and refused when they differ.
	// Empty means the metadata file's base name.
	Name     string
	Metadata string
	ImageEmb string
	TextEmb  string
}

// IngestOptions tune Ingest. Nil means defaults.
type IngestOptions struct {
	// SkipText leaves text embeddings out of the store.
	SkipText bool
	// Progress, when set, is called from time to time with the rows done
	// and the rows in all sources; never from two goroutines at once.
	Progress func(done, total int64)
	// NoIndex skips adding the new rows to the vector index; searches
	// still find them, by an exact scan, until BuildIndex runs.
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
	// Missing lists expected LAION columns the metadata file lacks.
	Missing []string `json:"missing,omitempty"`
	// Ignored lists nested or repeated columns that were not stored.
	Ignored []string `json:"ignored,omitempty"`
	// Normalized counts vectors scaled to unit norm.
	Normalized int64 `json:"normalized,omitempty"`
}

// embFileRE matches the file names of clip-retrieval embedding folders.
var embFileRE = regexp.MustCompile(`^(metadata|img_emb|text_emb)_(\d+)\.(parquet|npy)$`)

// ExpandPaths turns command-line paths into sources: a .parquet file is a
// metadata-only source; a directory with metadata/ and img_emb/ (and
// optionally text_emb/) folders is a clip-retrieval embedding folder whose
// files pair by their index (plain or zero-padded); any other directory
// contributes its .parquet files. Sources come out in a stable order.
func ExpandPaths(paths []string) ([]Source, error) {
	var out []Source
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("db: %w", err)
		}
		if !fi.IsDir() {
			if filepath.Ext(p) != ".parquet" {
				return nil, fmt.Errorf("%w: %s: expected a .parquet file or a folder (name .npy files with their parquet file)", ErrBadInput, p)
			}
			out = append(out, Source{Metadata: p})
			continue
		}
		if st, err := os.Stat(filepath.Join(p, "metadata")); err == nil && st.IsDir() {
			srcs, err := expandEmbeddingFolder(p)
			if err != nil {
				return nil, err
			}
			out = append(out, srcs...)
			continue
		}
		files, err := filepath.Glob(filepath.Join(p, "*.parquet"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%w: %s: no .parquet files and no metadata/ folder", ErrBadInput, p)
		}
		sort.Strings(files)
		for _, f := range files {
			out = append(out, Source{Metadata: f})
		}
	}
	return out, nil
}

func expandEmbeddingFolder(dir string) ([]Source, error) {
	type trio struct{ meta, img, txt string }
	byIndex := map[int64]*trio{}
	for _, sub := range []string{"metadata", "img_emb", "text_emb"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			if sub == "text_emb" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("%w: %s: %v", ErrBadInput, dir, err)
		}
		for _, e := range ents {
			m := embFileRE.FindStringSubmatch(e.Name())
			if m == nil || m[1] != sub {
				continue
			}
			i, err := strconv.ParseInt(m[2], 10, 64)
			if err != nil {
				continue
			}
			t := byIndex[i]
			if t == nil {
				t = &trio{}
				byIndex[i] = t
			}
			path := filepath.Join(dir, sub, e.Name())
			var slot *string
			switch sub {
			case "metadata":
				slot = &t.meta
			case "img_emb":
				slot = &t.img
			default:
				slot = &t.txt
			}
			if *slot != "" {
				return nil, fmt.Errorf("%w: %s and %s have the same index %d", ErrBadInput, *slot, path, i)
			}
			*slot = path
		}
	}
	idx := make([]int64, 0, len(byIndex))
	for i := range byIndex {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	var out []Source
	for _, i := range idx {
		t := byIndex[i]
		switch {
		case t.meta == "":
			return nil, fmt.Errorf("%w: %s: embeddings with index %d have no metadata/metadata_%d.parquet", ErrBadInput, dir, i, i)
		case t.img == "":
			return nil, fmt.Errorf("%w: %s has no img_emb file with index %d", ErrBadInput, t.meta, i)
		}
		out = append(out, Source{
			Name:     filepath.Base(filepath.Clean(dir)) + "/" + filepath.Base(t.meta),
			Metadata: t.meta, ImageEmb: t.img, TextEmb: t.txt,
		})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s/metadata has no metadata_N.parquet files", ErrBadInput, dir)
	}
	return out, nil
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
		total += p.meta.rows
		if p.img != nil {
			if dim == 0 {
				dim, dimFrom = p.img.Cols, p.src.ImageEmb
			} else if p.img.Cols != dim {
				p.close()
				return results, fmt.Errorf("%w: %s has dimension %d but %s has %d", ErrDimension, p.src.ImageEmb, p.img.Cols, dimFrom, dim)
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
		done += p.meta.rows
		if o.Progress != nil {
			o.Progress(done, total)
		}
		results = append(results, res)
	}
	if !o.NoIndex {
		if err := d.buildIndex(ctx, &o.Index); err != nil {
			return results, err
		}
	}
	return results, nil
}

// prepared is a source whose files are open and checked.
type prepared struct {
	src   Source
	name  string
	files []SourceFile
	meta  *pqFile
	img   *npy.File
	txt   *npy.File
}

func (p *prepared) close() {
	if p.meta != nil {
		p.meta.close()
	}
	if p.img != nil {
		p.img.Close()
	}
	if p.txt != nil {
		p.txt.Close()
	}
}

// prepare opens and checks a source's files before anything is written:
// parquet readable, npy headers consistent with their size, row counts
// equal, dimensions equal to each other and to the store's; with sums, it
// also checksums the files.
func (d *DB) prepare(s Source, skipText, sums bool) (*prepared, error) {
	if s.Metadata == "" {
		return nil, fmt.Errorf("%w: source without a metadata file", ErrBadInput)
	}
	p := &prepared{src: s, name: s.Name}
	if p.name == "" {
		p.name = filepath.Base(s.Metadata)
	}
	if skipText {
		p.src.TextEmb = ""
	}
	var err error
	if p.meta, err = openParquet(s.Metadata); err != nil {
		return nil, err
	}
	open := func(path string) (*npy.File, error) {
		f, err := npy.Open(path)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		if int64(f.Rows) != p.meta.rows {
			f.Close()
			p.close()
			return nil, fmt.Errorf("%w: %s has %d rows but %s has %d: row r of each must be the same sample",
				ErrBadInput, path, f.Rows, s.Metadata, p.meta.rows)
		}
		return f, nil
	}
	if p.src.ImageEmb != "" {
		if p.img, err = open(p.src.ImageEmb); err != nil {
			return nil, err
		}
	}
	if p.src.TextEmb != "" {
		if p.txt, err = open(p.src.TextEmb); err != nil {
			return nil, err
		}
	}
	if p.img != nil && p.txt != nil && p.img.Cols != p.txt.Cols {
		p.close()
		return nil, fmt.Errorf("%w: %s has dimension %d but %s has %d", ErrDimension, p.src.ImageEmb, p.img.Cols, p.src.TextEmb, p.txt.Cols)
	}
	if p.img == nil && p.txt != nil {
		p.close()
		return nil, fmt.Errorf("%w: %s: text embeddings need image embeddings too", ErrBadInput, p.src.TextEmb)
	}
	m, err := d.snapshot()
	if err != nil {
		p.close()
		return nil, err
	}
	if p.img != nil && m.Dim != 0 && p.img.Cols != m.Dim {
		p.close()
		return nil, fmt.Errorf("%w: %s has dimension %d, the store has %d", ErrDimension, p.src.ImageEmb, p.img.Cols, m.Dim)
	}
	for _, f := range []struct{ role, path string }{{"metadata", s.Metadata}, {"img_emb", p.src.ImageEmb}, {"text_emb", p.src.TextEmb}} {
		if f.path == "" || !sums {
			continue
		}
		sf, err := checksum(f.path)
		if err != nil {
			p.close()
			return nil, err
		}
		sf.Role, sf.Rows = f.role, p.meta.rows
		p.files = append(p.files, sf)
	}
	return p, nil
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
	res := IngestResult{Name: p.name, Rows: p.meta.rows, Missing: p.meta.missing(), Ignored: p.meta.skipped}
	for _, s := range m.Segments {
		if s.Name == p.name {
			if sameFiles(s.Files, p.files) {
				res.Skipped = true
				return res, nil
			}
			return res, fmt.Errorf("%w: %s (the store's copy has other checksums; ingest it under another name if it is another file)", ErrConflict, p.name)
		}
		if s.Files[0].SHA256 == p.files[0].SHA256 {
			return res, fmt.Errorf("%w: %s has the same content as %s", ErrDuplicate, p.src.Metadata, s.Name)
		}
	}
	if err := d.checkSpace(p, m); err != nil {
		return res, err
	}
	next := m.clone()
	seg := Segment{ID: m.NextSegment, Name: p.name, Base: m.Rows, Rows: p.meta.rows, Files: p.files,
		HasImage: p.img != nil, HasText: p.txt != nil}
	seg.Stats.Missing = res.Missing
	for _, c := range p.meta.cols {
		mc := next.column(c.name)
		if mc == nil {
			if len(next.Columns) >= math.MaxUint16 {
				return res, fmt.Errorf("%w: %s: too many columns", ErrBadInput, p.src.Metadata)
			}
			next.Columns = append(next.Columns, ManifestColumn{ID: uint16(len(next.Columns)), Name: c.name, Type: c.typ})
		} else {
			mc.Type = widen(mc.Type, c.typ)
		}
	}
	if p.img != nil && next.Dim == 0 {
		next.Dim = p.img.Cols
		next.DType = p.img.DType.String()
	}

	// From here on, failure must undo what was written.
	ok := false
	var img, txt *vecFile
	defer func() {
		if ok {
			return
		}
		d.bdb.DropPrefix(segPrefix(keyBlock, seg.ID))
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
	unitsPerRow := int64(len(p.meta.cols))
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
		progress(units / unitsPerRow)
	}

	if err := d.writeColumns(ctx, p, next, &seg, advance); err != nil {
		return res, err
	}
	if p.img != nil {
		if img, err = d.vectorFile("img", next); err != nil {
			return res, err
		}
		if seg.NormalizedImage, seg.ImageSum, err = writeVectors(ctx, p.img, img, seg.Base, advance); err != nil {
			return res, err
		}
		if p.img.DType.String() != next.DType {
			seg.ConvertedFrom = p.img.DType.String()
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

	// Commit: metadata durable, vectors durable, then the manifest.
	next.Rows += seg.Rows
	next.NextSegment++
	next.Segments = append(next.Segments, seg)
	if err := d.bdb.Sync(); err != nil {
		return res, fmt.Errorf("db: syncing metadata: %w", err)
	}
	for _, v := range []*vecFile{d.imgFile(img), d.txtFile(txt)} {
		if v != nil {
			if err := v.commit(next.Rows); err != nil {
				return res, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := writeManifest(d.dir, next); err != nil {
		return res, fmt.Errorf("db: committing %s: %w", p.name, err)
	}
	ok = true
	// The new rows' norms, computed before the lock; only ingest (one at a
	// time) writes inv.
	var imgInv, txtInv []float32
	if v := d.imgFile(img); v != nil {
		imgInv = v.invNorms(next.Rows)
	}
	if v := d.txtFile(txt); v != nil {
		txtInv = v.invNorms(next.Rows)
	}
	d.mu.Lock()
	d.man = next
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
func (d *DB) writeColumns(ctx context.Context, p *prepared, m *Manifest, seg *Segment, advance func(int64)) error {
	wb := d.bdb.NewWriteBatch()
	defer wb.Cancel()
	var wbMu sync.Mutex
	set := func(k, v []byte) error {
		wbMu.Lock()
		defer wbMu.Unlock()
		return wb.Set(k, v)
	}
	stats := make([]columnStats, len(p.meta.cols))
	errs := make([]error, len(p.meta.cols))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, c := range p.meta.cols {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			colID := m.column(c.name).ID
			stats[i], errs[i] = p.meta.readColumn(c, func(start int, b *colBuilder) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				advance(int64(b.n))
				return set(blockKey(seg.ID, colID, uint32(start)), b.encode())
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("db: writing metadata of %s: %w", p.name, err)
	}
	seg.Stats.Nulls = map[string]int64{}
	seg.Stats.InvalidUTF8 = map[string]int64{}
	for i, c := range p.meta.cols {
		seg.Columns = append(seg.Columns, c.name)
		st := stats[i]
		if st.nulls > 0 {
			seg.Stats.Nulls[c.name] = st.nulls
		}
		if st.invalidUTF8 > 0 {
			seg.Stats.InvalidUTF8[c.name] = st.invalidUTF8
		}
		if st.nsfw != nil {
			seg.Stats.NSFW = st.nsfw
		}
		seg.Stats.SimilarityInvalid += st.simInvalid
	}
	return nil
}

// writeVectors copies an npy file's rows into the store's vector file at
// row base, converting the dtype when it differs, and scaling vectors that
// are not unit-norm. NaN, Inf or an all-zero vector is an error naming the
// file and row. It returns the number of vectors normalised.
func writeVectors(ctx context.Context, src *npy.File, dst *vecFile, base int64, advance func(int64)) (normalized int64, sum string, err error) {
	const chunk = 4096
	dim := src.Cols
	esz := src.DType.Size()
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
		vals := f32[:n*dim]
		if src.DType == npy.Float16 {
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
						return 0, "", fmt.Errorf("%w: %s: row %d, element %d is %v", ErrBadInput, src.Path, row+int64(i), j, x)
					}
				}
				ss = vector.Norm(v) * vector.Norm(v)
			}
			if ss == 0 {
				return 0, "", fmt.Errorf("%w: %s: row %d is an all-zero vector", ErrBadInput, src.Path, row+int64(i))
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
		case !changed && src.DType.String() == dst.dtype:
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
		dim = p.img.Cols
	}
	esz := int64(2)
	if m.DType == "float32" || (m.DType == "" && p.img != nil && p.img.DType == npy.Float32) {
		esz = 4
	}
	for _, f := range []*npy.File{p.img, p.txt} {
		if f != nil {
			need += int64(f.Rows) * int64(dim) * esz
		}
	}
	if p.img != nil {
		need += int64(p.img.Rows) * 160 // graph links at M 16
	}
	if need > free {
		return fmt.Errorf("%w: no space left for %s in %s: it needs about %d MB, %d MB are free",
			ErrNoSpace, p.name, d.dir, need>>20, free>>20)
	}
	return nil
}
