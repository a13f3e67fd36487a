package db

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/laiondb/laiondb/table"
)

// Source is one unit of ingest, named by paths that its Layout reads: for
// the default layout, a metadata parquet file and, optionally, the image and
// text embedding .npy files whose row r is the parquet's row r.
type Source struct {
	// Name identifies the unit in the manifest; re-ingesting a name is a
	// no-op when the files are the same and refused when they differ.
	// Empty means the metadata file's base name.
	Name     string
	Metadata string
	ImageEmb string
	TextEmb  string
	// Layout names the registered Layout that reads the source;
	// ExpandPaths sets it. Empty means "parquet+npy", the paths as
	// described above. The store does not record it: a unit is known by
	// its name and its files' checksums.
	Layout string
}

// A SegmentReader reads one unit of ingest, which becomes one segment of
// the store: its rows' metadata columns, their image and text vectors, and
// the files they came from. Row r of the segment is row r of each of its
// source files (see Provenance): the store records the files, and a row's
// number in them is its number in the segment.
//
// Ingest opens a reader with its Layout's Open and checks it against
// itself and the store (row counts, dimensions and dtypes of the vectors)
// before it writes anything; then it reads every column once, each kind of
// vector once, and closes it. ReadColumn may be called for different
// columns from several goroutines at once; the other methods are called
// from one goroutine at a time. Errors about the input wrap ErrBadInput and
// name the file and, where one applies, the row.
type SegmentReader interface {
	// Info describes the segment; it does not change while the reader is
	// open.
	Info() SegmentInfo
	// ReadColumn reads the values of column i of Info().Columns in row
	// order into batches of the column's type and calls emit with each
	// full batch (ColumnBatch.Full) and with the last, shorter one if any.
	// Ingest writes each batch as one block and keeps nothing of it, so
	// the reader may Reset and refill the same batch. An error from emit
	// ends the read, and ReadColumn returns it.
	ReadColumn(i int, emit func(*ColumnBatch) error) error
	// Image returns the image embeddings, nil when the segment has none.
	Image() VectorReader
	// Text returns the text embeddings, nil when the segment has none or
	// the reader was opened with SourceOptions.SkipText.
	Text() VectorReader
	// Provenance returns the segment's source files with their roles,
	// absolute paths, sizes, SHA-256 checksums and rows, as the manifest
	// records them (Segment.Files). The first file holds the metadata:
	// it names each row's source, and a unit whose first file has the
	// content of a stored unit's is a duplicate. Ingest calls it once,
	// just before writing the segment: it reads every file.
	Provenance() ([]SourceFile, error)
	// Close releases the reader's files.
	Close() error
}

// SegmentInfo describes a segment a SegmentReader reads.
type SegmentInfo struct {
	// Name is the segment's name in the manifest (Source.Name, or a
	// default the layout documents).
	Name string
	// Path names the unit's main file as the user gave it, in messages.
	Path string
	// Rows is the number of rows, at most 2³²-1.
	Rows int64
	// Columns lists the metadata columns to store, with the store's
	// (canonical, lower-case) names and types, each name once.
	Columns []table.ColumnInfo
	// Missing lists the columns the layout expects that the unit lacks
	// (IngestResult.Missing).
	Missing []string
	// Ignored lists columns of the unit that are not stored
	// (IngestResult.Ignored).
	Ignored []string
}

// A VectorReader yields one kind of embedding (image or text) of a
// segment, vector after vector, as little-endian float16 or float32
// values: vector r belongs to the segment's row r, and is row r of the
// file Path.
type VectorReader interface {
	// Path names the file the vectors are read from, in messages that
	// name a row of it.
	Path() string
	// DType is the element type: "float16" or "float32".
	DType() string
	// Dim is the number of elements of each vector.
	Dim() int
	// Rows is the number of vectors, which must be the segment's rows.
	Rows() int64
	// ReadRaw reads up to len(dst)/(Dim×element size) whole vectors into
	// dst and returns how many it read; 0 and io.EOF after the last.
	ReadRaw(dst []byte) (int, error)
}

// A ColumnBatch holds consecutive values of one column of one type, at
// most BlockRows of them: what Ingest writes as one block of the store. A
// SegmentReader fills it and hands it to Ingest. A batch whose values do
// not match its type is refused, and so is a zero ColumnBatch, which has
// no type: make batches with NewColumnBatch.
type ColumnBatch struct{ b colBuilder }

// BlockRows is the number of values in a full ColumnBatch.
const BlockRows = blockRows

// NewColumnBatch returns an empty batch for values of type t.
func NewColumnBatch(t table.Type) *ColumnBatch { return &ColumnBatch{b: *newColBuilder(t)} }

// Type returns the type of the batch's values.
func (c *ColumnBatch) Type() table.Type { return c.b.typ }

// Len returns the number of values in the batch.
func (c *ColumnBatch) Len() int { return c.b.n }

// Full reports whether the batch holds BlockRows values, and so must be
// emitted before more are appended.
func (c *ColumnBatch) Full() bool { return c.b.n >= BlockRows }

// Reset empties the batch, keeping its type and memory.
func (c *ColumnBatch) Reset() { c.b.reset() }

// AppendNull appends a null.
func (c *ColumnBatch) AppendNull() { c.b.appendNull() }

// AppendString appends a copy of s to a table.TypeString batch; s need not
// be valid UTF-8.
func (c *ColumnBatch) AppendString(s []byte) { c.b.appendString(s) }

// AppendInt appends v to a table.TypeInt batch.
func (c *ColumnBatch) AppendInt(v int64) { c.b.appendInt(v) }

// AppendFloat appends v to a table.TypeFloat batch.
func (c *ColumnBatch) AppendFloat(v float64) { c.b.appendFloat(v) }

// AppendBool appends v to a table.TypeBool batch.
func (c *ColumnBatch) AppendBool(v bool) { c.b.appendBool(v) }

// wellFormed reports whether b's values agree with its type and length:
// every append went to the slice of the batch's type.
func (b *colBuilder) wellFormed() bool {
	if len(b.nulls) != b.n {
		return false
	}
	ints, flts, bools, strs := 0, 0, 0, 0
	switch b.typ {
	case table.TypeString:
		strs = b.n
	case table.TypeInt:
		ints = b.n
	case table.TypeFloat:
		flts = b.n
	case table.TypeBool:
		bools = b.n
	default:
		return false
	}
	offs := 0
	if b.typ == table.TypeString {
		offs = strs + 1
	}
	return len(b.off) == offs && len(b.ints) == ints && len(b.flts) == flts && len(b.bools) == bools
}

// SourceOptions tell a Layout's Open how its source will be ingested.
type SourceOptions struct {
	// SkipText leaves the text embeddings out: not opened, not checked,
	// not recorded (IngestOptions.SkipText).
	SkipText bool
}

// A Layout is one way ingestible files are laid out on disk, such as LAION
// metadata parts or a clip-retrieval embedding folder. It recognises its
// paths and lists their units (Expand), and opens each unit as a
// SegmentReader (Open). Each of this package's layouts is one file,
// source_*.go, that registers it with RegisterLayout from an init
// function: adding a layout edits nothing else.
type Layout struct {
	// Name identifies the layout; Source.Layout refers to it.
	Name string
	// Order places the layout among the others when ExpandPaths tries
	// them: lowest first, ties by Name. A layout that recognises a
	// special kind of folder must come before "laion-parts" (1000), which
	// takes any folder.
	Order int
	// Expand is given a path and its os.Stat. If the path is the
	// layout's, it returns ok and the path's units in a stable order,
	// with Source.Layout set to Name, or an error saying why the path is
	// unusable. If not, it returns !ok and ExpandPaths tries the next
	// layout. Nil means the layout reads only sources built by hand.
	Expand func(path string, fi fs.FileInfo) (srcs []Source, ok bool, err error)
	// Recurse makes ExpandPaths also walk the subfolders of a folder the
	// layout claimed, offering each to the layouts again (the layout takes
	// only the folder's own files).
	Recurse bool
	// Open opens a source of this layout for reading. It checks what it
	// can without reading the files through (they exist and parse; the
	// vector files have the metadata's rows); its errors wrap ErrBadInput
	// and name the file.
	Open func(src Source, opts SourceOptions) (SegmentReader, error)
}

// defaultLayout reads sources whose Layout is empty.
const defaultLayout = "parquet+npy"

var layouts struct {
	sync.RWMutex
	list []Layout // in ExpandPaths order
}

// RegisterLayout makes a layout available to ExpandPaths and Ingest. It
// fails if the layout has no Name or no Open, or if its name is taken.
// It is safe to call from several goroutines, typically from init.
func RegisterLayout(l Layout) error {
	if l.Name == "" || l.Open == nil {
		return fmt.Errorf("db: RegisterLayout: a layout needs a Name and an Open function")
	}
	layouts.Lock()
	defer layouts.Unlock()
	for _, x := range layouts.list {
		if x.Name == l.Name {
			return fmt.Errorf("db: RegisterLayout: layout %q is already registered", l.Name)
		}
	}
	layouts.list = append(layouts.list, l)
	sort.SliceStable(layouts.list, func(i, j int) bool {
		a, b := layouts.list[i], layouts.list[j]
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.Name < b.Name
	})
	return nil
}

// mustRegister registers one of this package's layouts from init; it
// fails only if two of them share a name, which every test would show.
func mustRegister(l Layout) {
	if err := RegisterLayout(l); err != nil {
		panic(err)
	}
}

// registeredLayouts returns the layouts in ExpandPaths order.
func registeredLayouts() []Layout {
	layouts.RLock()
	defer layouts.RUnlock()
	return append([]Layout(nil), layouts.list...)
}

// openSource opens s with its layout's reader.
func openSource(s Source, opts SourceOptions) (SegmentReader, error) {
	name := s.Layout
	if name == "" {
		name = defaultLayout
	}
	for _, l := range registeredLayouts() {
		if l.Name == name {
			return l.Open(s, opts)
		}
	}
	return nil, fmt.Errorf("%w: %s: unknown layout %q", ErrBadInput, s.Metadata, s.Layout)
}

// Shard returns the k-th (from 1) of m consecutive groups of srcs, as even
// in count as can be: sources [(k-1)·n/m, k·n/m) of n. Stores ingested from
// the m groups of a dataset's sources, queried in order (Union) or merged
// from their partial results (engine.MergePartials), answer as the store
// of all of them.
func Shard(srcs []Source, k, m int) ([]Source, error) {
	if m < 1 || k < 1 || k > m {
		return nil, fmt.Errorf("%w: shard %d of %d: want 1 <= k <= m", ErrBadInput, k, m)
	}
	n := len(srcs)
	if m > n {
		return nil, fmt.Errorf("%w: %d shards of %d sources: each shard needs a source", ErrBadInput, m, n)
	}
	return srcs[(k-1)*n/m : k*n/m], nil
}

// SourceRows returns the number of rows the source s holds, as its
// reader says before reading any row (a parquet footer, an npy header):
// for a shard's place among a dataset's rows (engine.Place), counted
// before any store is built.
func SourceRows(s Source) (int64, error) {
	r, err := openSource(s, SourceOptions{SkipText: true})
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return r.Info().Rows, nil
}

// ExpandPaths turns command-line paths into sources. Each path is offered
// to the registered layouts in order (see Layout), and the first that
// recognises it lists its units: a directory with metadata/ and img_emb/
// (and optionally text_emb/) folders is a clip-retrieval embedding folder
// whose files pair by their index (plain or zero-padded); a directory
// whose first .parquet file has a status column is img2dataset output; a
// .parquet file is a metadata-only source, and any other directory
// contributes its .parquet files and, walked in name order, its
// subfolders, each offered to the layouts again. Sources come out in a
// stable order. Expand also lists the files left out.
func ExpandPaths(paths []string) ([]Source, error) {
	e, err := Expand(paths)
	if err != nil {
		return nil, err
	}
	return e.Sources, nil
}

// Expansion is what Expand found under some paths.
type Expansion struct {
	// Sources are the units to ingest, in a stable order.
	Sources []Source
	// Skipped are the files under the given folders that no source
	// reads, in name order, each with the reason.
	Skipped []Skip
}

// Skip is a file Expand leaves out, and why.
type Skip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Expand is ExpandPaths, and also lists every file under the given folders
// that no source reads: a README, a .csv, an .npy without its metadata, a
// .parquet of a clip-retrieval folder without a partner. A path, or a
// folder tree, that yields no source is an error.
func Expand(paths []string) (*Expansion, error) {
	e := &Expansion{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("db: %w", err)
		}
		srcs, err := expandPath(p, fi)
		if err != nil {
			return nil, err
		}
		if len(srcs) == 0 {
			return nil, fmt.Errorf("%w: %s: no .parquet files and no metadata/ folder, here or in its subfolders", ErrBadInput, p)
		}
		e.Sources = append(e.Sources, srcs...)
		if fi.IsDir() {
			skipped, err := skippedFiles(p, srcs)
			if err != nil {
				return nil, err
			}
			e.Skipped = append(e.Skipped, skipped...)
		}
	}
	return e, nil
}

func expandPath(p string, fi fs.FileInfo) ([]Source, error) {
	for _, l := range registeredLayouts() {
		if l.Expand == nil {
			continue
		}
		srcs, ok, err := l.Expand(p, fi)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if l.Recurse && fi.IsDir() {
			ents, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrBadInput, p, err)
			}
			for _, ent := range ents { // ReadDir sorts by name
				if !ent.IsDir() {
					continue
				}
				sub := filepath.Join(p, ent.Name())
				sfi, err := os.Stat(sub)
				if err != nil {
					return nil, fmt.Errorf("db: %w", err)
				}
				more, err := expandPath(sub, sfi)
				if err != nil {
					return nil, err
				}
				// A unit found in a subfolder is named by its path below
				// the folder given, so that a/part-0.parquet and
				// b/part-0.parquet are two files, not one name twice.
				for i := range more {
					if more[i].Name == "" {
						more[i].Name = filepath.Join(ent.Name(), filepath.Base(more[i].Metadata))
					} else if !strings.HasPrefix(more[i].Name, ent.Name()+"/") {
						more[i].Name = filepath.Join(ent.Name(), more[i].Name)
					}
				}
				srcs = append(srcs, more...)
			}
		}
		return srcs, nil
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s: expected a .parquet file or a folder (name .npy files with their parquet file)", ErrBadInput, p)
	}
	return nil, fmt.Errorf("%w: %s: no layout recognises this folder", ErrBadInput, p)
}

// skippedFiles lists the regular files under dir that no source reads.
func skippedFiles(dir string, srcs []Source) ([]Skip, error) {
	used := map[string]bool{}
	for _, s := range srcs {
		for _, f := range []string{s.Metadata, s.ImageEmb, s.TextEmb} {
			if f != "" {
				used[filepath.Clean(f)] = true
			}
		}
	}
	var out []Skip
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBadInput, path, err)
		}
		if d.IsDir() || used[filepath.Clean(path)] {
			return nil
		}
		reason := "not a .parquet or .npy file"
		switch filepath.Ext(path) {
		case ".npy":
			reason = "an .npy file without its metadata parquet (name it with --img-emb/--text-emb)"
		case ".parquet":
			reason = "a .parquet file that its folder's layout does not read (no partner files, or not in metadata/)"
		}
		if !d.Type().IsRegular() {
			reason = "not a regular file"
		}
		out = append(out, Skip{Path: path, Reason: reason})
		return nil
	})
	return out, err
}

// missingColumns lists the names in want that cols lacks.
func missingColumns(cols []table.ColumnInfo, want []string) []string {
	var out []string
	for _, w := range want {
		found := false
		for _, c := range cols {
			found = found || c.Name == w
		}
		if !found {
			out = append(out, w)
		}
	}
	return out
}
