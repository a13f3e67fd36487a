package db

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// The "img2dataset" layout reads the output folders of img2dataset
// (github.com/rom1504/img2dataset): one {shard}.parquet per shard, beside
// the shard's .tar, .tfrecord or image folder and {shard}_stats.json, with
// the input's url and caption columns (and any save_additional_columns),
// then key, status, error_message, width, height, original_width,
// original_height and, when asked for, exif and a hash (sha256, md5, ...).
//
// A folder is img2dataset output when its first .parquet file (by name) has
// a status column. Each .parquet file is a metadata-only unit named by its
// base name, as the folder's files were named before this layout was
// recognised, so a store that holds them re-ingests them as already there.
// Every column is stored as the file has it; caption is the text column.
//
// Every row is stored, whatever its status: img2dataset writes a row for
// each input URL, and the ones it could not download or resize
// (failed_to_download, failed_to_resize, with error_message) are what an
// auditor counts — `all where status != 'success'` — with their url,
// caption and error_message, and null width and height.
func init() {
	mustRegister(Layout{Name: "img2dataset", Order: 200, Expand: expandImg2dataset,
		Open: func(s Source, o SourceOptions) (SegmentReader, error) {
			return openParquetSegment(s, o, img2datasetColumns)
		}})
}

// img2datasetColumns are the columns img2dataset writes whatever its
// options, under the store's names; a unit lacking one reports it missing.
var img2datasetColumns = []string{"url", "text", "key", "status", "error_message", "width", "height", "original_width", "original_height"}

func expandImg2dataset(p string, fi fs.FileInfo) ([]Source, bool, error) {
	if !fi.IsDir() {
		return nil, false, nil
	}
	files, err := filepath.Glob(filepath.Join(p, "*.parquet"))
	if err != nil || len(files) == 0 {
		return nil, false, nil
	}
	sort.Strings(files)
	if !hasStatusColumn(files[0]) {
		return nil, false, nil
	}
	out := make([]Source, 0, len(files))
	for _, f := range files {
		out = append(out, Source{Metadata: f, Layout: "img2dataset"})
	}
	return out, true, nil
}

// hasStatusColumn reports whether the parquet file at path has a
// top-level status column. A file that cannot be read has none: the
// folder is then left to the next layout, and Ingest says what is wrong
// with the file.
func hasStatusColumn(path string) (found bool) {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	defer func() {
		if recover() != nil { // parquet-go can panic on corrupt footers
			found = false
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pf, err := parquet.OpenFile(f, fi.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return false
	}
	for _, c := range pf.Root().Columns() {
		if c.Leaf() && strings.EqualFold(c.Name(), "status") {
			return true
		}
	}
	return false
}
