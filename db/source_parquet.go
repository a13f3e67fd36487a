package db

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/table"
)

// The "parquet+npy" layout reads sources built by hand (Source.Layout
// empty): a parquet metadata file with optional .npy embedding files whose
// row r is its row r, as `laiondb ingest FILE --img-emb --text-emb` pairs
// them. Its reader, parquetSegment, also serves the other layouts whose
// units are such files.
func init() {
	mustRegister(Layout{Name: defaultLayout, Open: func(s Source, o SourceOptions) (SegmentReader, error) {
		return openParquetSegment(s, o, expectedColumns)
	}})
}

// parquetSegment reads a unit made of a parquet metadata file and
// optional image and text .npy files of the same rows.
type parquetSegment struct {
	src      Source // TextEmb cleared when the text embeddings are skipped
	info     SegmentInfo
	meta     *pqFile
	img, txt *npy.File
}

// openParquetSegment opens s's files and checks that the .npy files have
// the parquet file's rows. want lists the columns the layout expects, for
// SegmentInfo.Missing. With opts.SkipText, s.TextEmb is not opened.
func openParquetSegment(s Source, opts SourceOptions, want []string) (*parquetSegment, error) {
	if s.Metadata == "" {
		return nil, fmt.Errorf("%w: source without a metadata file", ErrBadInput)
	}
	p := &parquetSegment{src: s}
	if opts.SkipText {
		p.src.TextEmb = ""
	}
	var err error
	if p.meta, err = openParquet(s.Metadata); err != nil {
		return nil, err
	}
	open := func(path string) (*npy.File, error) {
		f, err := npy.Open(path)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		if int64(f.Rows) != p.meta.rows {
			f.Close()
			p.Close()
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
	p.info = SegmentInfo{Name: s.Name, Path: s.Metadata, Rows: p.meta.rows, Ignored: p.meta.skipped}
	if p.info.Name == "" {
		p.info.Name = filepath.Base(s.Metadata)
	}
	for _, c := range p.meta.cols {
		p.info.Columns = append(p.info.Columns, table.ColumnInfo{Name: c.name, Type: c.typ})
	}
	p.info.Missing = missingColumns(p.info.Columns, want)
	return p, nil
}

func (p *parquetSegment) Info() SegmentInfo { return p.info }

func (p *parquetSegment) ReadColumn(i int, emit func(*ColumnBatch) error) error {
	if i < 0 || i >= len(p.meta.cols) {
		return fmt.Errorf("db: %s has no column %d", p.meta.path, i)
	}
	return p.meta.readColumn(p.meta.cols[i], emit)
}

func (p *parquetSegment) Image() VectorReader {
	if p.img == nil {
		return nil
	}
	return npyVectors{p.img}
}

func (p *parquetSegment) Text() VectorReader {
	if p.txt == nil {
		return nil
	}
	return npyVectors{p.txt}
}

func (p *parquetSegment) Provenance() ([]SourceFile, error) {
	var files []SourceFile
	for _, f := range []struct{ role, path string }{{"metadata", p.src.Metadata}, {"img_emb", p.src.ImageEmb}, {"text_emb", p.src.TextEmb}} {
		if f.path == "" {
			continue
		}
		sf, err := checksum(f.path)
		if err != nil {
			return nil, err
		}
		sf.Role, sf.Rows = f.role, p.meta.rows
		files = append(files, sf)
	}
	return files, nil
}

func (p *parquetSegment) Close() error {
	var errs []error
	if p.meta != nil {
		errs = append(errs, p.meta.close())
	}
	if p.img != nil {
		errs = append(errs, p.img.Close())
	}
	if p.txt != nil {
		errs = append(errs, p.txt.Close())
	}
	return errors.Join(errs...)
}

// npyVectors reads an .npy file's rows as vectors.
type npyVectors struct{ f *npy.File }

func (v npyVectors) Path() string                    { return v.f.Path }
func (v npyVectors) DType() string                   { return v.f.DType.String() }
func (v npyVectors) Dim() int                        { return v.f.Cols }
func (v npyVectors) Rows() int64                     { return int64(v.f.Rows) }
func (v npyVectors) ReadRaw(dst []byte) (int, error) { return v.f.ReadRaw(dst) }
