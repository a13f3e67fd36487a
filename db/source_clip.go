package db

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// The "clip-retrieval" layout reads the embedding folders clip-retrieval
// writes: metadata/metadata_N.parquet, img_emb/img_emb_N.npy and
// optionally text_emb/text_emb_N.npy, paired by N (plain or zero-padded).
// Each N is a unit named FOLDER/metadata_N.parquet.
func init() {
	mustRegister(Layout{Name: "clip-retrieval", Order: 100, Expand: expandClipRetrieval,
		Open: func(s Source, o SourceOptions) (SegmentReader, error) {
			return openParquetSegment(s, o, expectedColumns)
		}})
}

// embFileRE matches the file names of clip-retrieval embedding folders.
var embFileRE = regexp.MustCompile(`^(metadata|img_emb|text_emb)_(\d+)\.(parquet|npy)$`)

func expandClipRetrieval(p string, fi fs.FileInfo) ([]Source, bool, error) {
	if !fi.IsDir() {
		return nil, false, nil
	}
	if st, err := os.Stat(filepath.Join(p, "metadata")); err != nil || !st.IsDir() {
		return nil, false, nil
	}
	srcs, err := expandEmbeddingFolder(p)
	return srcs, true, err
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
			Metadata: t.meta, ImageEmb: t.img, TextEmb: t.txt, Layout: "clip-retrieval",
		})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s/metadata has no metadata_N.parquet files", ErrBadInput, dir)
	}
	return out, nil
}
