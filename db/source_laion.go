package db

import (
	"io/fs"
	"path/filepath"
	"sort"
)

// The "laion-parts" layout reads LAION-400M metadata parts, and any other
// parquet files: a .parquet file is a metadata-only unit named by its base
// name, and a folder contributes each of its .parquet files (ExpandPaths
// walks its subfolders too). It takes any folder, so it comes last.
func init() {
	mustRegister(Layout{Name: "laion-parts", Order: 1000, Expand: expandParquetParts, Recurse: true,
		Open: func(s Source, o SourceOptions) (SegmentReader, error) {
			return openParquetSegment(s, o, expectedParts)
		}})
}

// expectedParts are the columns of a LAION-400M metadata part: the LAION
// columns and its SAMPLE_ID (clip-retrieval metadata has none).
var expectedParts = append([]string{"sample_id"}, expectedColumns...)

func expandParquetParts(p string, fi fs.FileInfo) ([]Source, bool, error) {
	if !fi.IsDir() {
		if filepath.Ext(p) != ".parquet" {
			return nil, false, nil
		}
		return []Source{{Metadata: p, Layout: "laion-parts"}}, true, nil
	}
	files, err := filepath.Glob(filepath.Join(p, "*.parquet"))
	if err != nil {
		return nil, true, err
	}
	sort.Strings(files)
	out := make([]Source, 0, len(files))
	for _, f := range files {
		out = append(out, Source{Metadata: f, Layout: "laion-parts"})
	}
	return out, true, nil
}
