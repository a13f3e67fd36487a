package db

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/laiondb/laiondb/internal/atomicfile"
	"github.com/laiondb/laiondb/table"
)

// FormatVersion is the store format this package writes. Open refuses a
// store with a larger version. Version 2 keeps each segment's column blocks
// in a Badger database of its own under meta/ (Segment.Meta); version 1
// kept them all in badger/, which version 2 still reads. Version 3 writes
// column blocks with a checksum per KiB (block.go), and reads the blocks
// of versions 1 and 2, each checked whole.
const FormatVersion = 3

// contentVersion is the version the fingerprint hashes: it changes only when
// what the store answers changes, not with its layout on disk, so a store
// re-ingested by a newer laiondb keeps its fingerprint.
const contentVersion = 1

// manifestName is the manifest's file name in the store directory. The
// manifest is the store's commit point: an ingest is durable once the new
// manifest has been renamed into place, and anything on disk that the
// manifest does not account for is debris of an interrupted ingest.
const manifestName = "MANIFEST.json"

// Manifest describes a store's content. It is written as indented JSON.
type Manifest struct {
	FormatVersion int `json:"format_version"`
	// Dim is the vector dimension, 0 until the first vectors arrive.
	Dim int `json:"dim"`
	// DType is the element type of the vector files: "float16" or "float32".
	DType string `json:"dtype,omitempty"`
	// Model names the CLIP model the image embeddings came from, when known.
	Model string `json:"model,omitempty"`
	// Rows is the number of committed rows.
	Rows int64 `json:"rows"`
	// Columns lists every column in the order first seen.
	Columns []ManifestColumn `json:"columns"`
	// Segments lists the ingested units in row order.
	Segments []Segment `json:"segments"`
	// Indexes lists the vector indexes, at most one of each kind over
	// each space's embeddings (index.go).
	Indexes []IndexInfo `json:"indexes,omitempty"`
	// Index and TextIndex are how manifests written before a store held
	// several vector indexes recorded its index over the image and the
	// text embeddings; readManifest moves them into Indexes.
	Index     *IndexInfo `json:"index,omitempty"`
	TextIndex *IndexInfo `json:"text_index,omitempty"`
	// Trigrams describes the text index (textindex.go), nil when there
	// is none.
	Trigrams *TrigramInfo `json:"trigrams,omitempty"`
	// NextSegment is the id the next segment gets; ids are never reused.
	NextSegment uint32 `json:"next_segment"`
	// Checksum is the SHA-256 of the file's bytes with these 64 hex
	// digits set to zeros, so that a changed byte anywhere is detected.
	Checksum string `json:"checksum"`
}

// zeroSum stands for the checksum while it is computed.
var zeroSum = strings.Repeat("0", 64)

// checksumField finds the checksum's hex digits in the manifest's bytes.
var checksumField = regexp.MustCompile(`"checksum": "([0-9a-f]{64})"`)

// ManifestColumn is one column of the store. The manifest writes its type
// by name, as Type.String() spells it ("string", "int", "float" or
// "bool"), so that the format does not depend on the order of table's
// constants; manifests written before hold the number, which reads too.
type ManifestColumn struct {
	ID   uint16     `json:"id"`
	Name string     `json:"name"`
	Type table.Type `json:"type"`
}

// MarshalJSON writes the column with its type by name.
func (c ManifestColumn) MarshalJSON() ([]byte, error) {
	col := struct {
		ID   uint16 `json:"id"`
		Name string `json:"name"`
		Type any    `json:"type"`
	}{c.ID, c.Name, c.Type.String()}
	if _, ok := columnType(c.Type.String()); !ok {
		col.Type = uint8(c.Type) // no type has no name; keep what was read
	}
	return json.Marshal(col)
}

// UnmarshalJSON reads the column with its type by name, or by number as
// older manifests wrote it.
func (c *ManifestColumn) UnmarshalJSON(b []byte) error {
	var col struct {
		ID   uint16          `json:"id"`
		Name string          `json:"name"`
		Type json.RawMessage `json:"type"`
	}
	if err := json.Unmarshal(b, &col); err != nil {
		return err
	}
	c.ID, c.Name, c.Type = col.ID, col.Name, 0
	if len(col.Type) == 0 || string(col.Type) == "null" {
		return nil
	}
	var name string
	if err := json.Unmarshal(col.Type, &name); err == nil {
		t, ok := columnType(name)
		if !ok {
			return fmt.Errorf("column %s: unknown type %q", col.Name, name)
		}
		c.Type = t
		return nil
	}
	var n uint8 // an older manifest: the number of the type
	if err := json.Unmarshal(col.Type, &n); err != nil {
		return fmt.Errorf("column %s: type %s is neither a name nor a number", col.Name, col.Type)
	}
	c.Type = table.Type(n)
	return nil
}

// columnType returns the column type named name.
func columnType(name string) (table.Type, bool) {
	for t := table.TypeString; t <= table.TypeBool; t++ {
		if t.String() == name {
			return t, true
		}
	}
	return 0, false
}

// Segment is one ingested unit: a metadata parquet file with the embedding
// files whose rows pair with it, occupying store rows [Base, Base+Rows).
type Segment struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
	Base int64  `json:"base"`
	Rows int64  `json:"rows"`
	// Columns lists the store columns the metadata file has; the others
	// are null in this segment.
	Columns []string `json:"columns"`
	// Files are the source files with their sizes and checksums.
	Files []SourceFile `json:"files"`
	// HasImage and HasText say whether the rows have image and text
	// embeddings.
	HasImage bool `json:"has_image"`
	HasText  bool `json:"has_text"`
	// Normalized counts image and text vectors that were not unit-norm and
	// were scaled to unit norm at ingest.
	NormalizedImage int64 `json:"normalized_image,omitempty"`
	NormalizedText  int64 `json:"normalized_text,omitempty"`
	// ImageSum and TextSum are xxhash64 digests of the segment's bytes in
	// the vector files, for check.
	ImageSum string `json:"image_sum,omitempty"`
	TextSum  string `json:"text_sum,omitempty"`
	// ConvertedFrom is set when the vectors arrived in another dtype than
	// the store's and were converted ("float32" → float16 store).
	ConvertedFrom string `json:"converted_from,omitempty"`
	// Stats are per-column statistics of this segment's rows.
	Stats SegmentStats `json:"stats"`
	// Trigrams are the segment's text index files, one per indexed
	// column (textindex.go).
	Trigrams []TrigramFile `json:"trigrams,omitempty"`
	// Meta is the Badger database holding the segment's column blocks, a
	// path relative to the store ("meta/s00000003"); empty means badger/,
	// where format-1 stores keep every segment.
	Meta string `json:"meta,omitempty"`
}

// SourceFile is one file a segment was read from.
type SourceFile struct {
	Role   string `json:"role"` // "metadata", "img_emb" or "text_emb"
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Rows   int64  `json:"rows"`
}

// SegmentStats counts what info reports about a segment.
type SegmentStats struct {
	// Nulls counts null values per column name.
	Nulls map[string]int64 `json:"nulls,omitempty"`
	// InvalidUTF8 counts string values per column that are not valid UTF-8.
	InvalidUTF8 map[string]int64 `json:"invalid_utf8,omitempty"`
	// NSFW counts each value of the nsfw column; null is counted under "".
	NSFW map[string]int64 `json:"nsfw,omitempty"`
	// SimilarityInvalid counts similarity values that are NaN, > 1 or < -1.
	SimilarityInvalid int64 `json:"similarity_invalid,omitempty"`
	// Missing lists the expected LAION columns the file lacks.
	Missing []string `json:"missing,omitempty"`
}

func (m *Manifest) column(name string) *ManifestColumn {
	for i := range m.Columns {
		if m.Columns[i].Name == name {
			return &m.Columns[i]
		}
	}
	return nil
}

// clone returns a deep copy of the parts that ingest changes.
func (m *Manifest) clone() *Manifest {
	c := *m
	c.Columns = append([]ManifestColumn(nil), m.Columns...)
	c.Segments = append([]Segment(nil), m.Segments...)
	c.Indexes = append([]IndexInfo(nil), m.Indexes...)
	return &c
}

// fingerprint hashes what determines query answers: the format, dimension,
// and each segment's files and rows, in order.
func (m *Manifest) fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "laiondb %d dim=%d dtype=%s\n", contentVersion, m.Dim, m.DType)
	for _, s := range m.Segments {
		fmt.Fprintf(h, "%s %d %d\n", s.Name, s.Base, s.Rows)
		for _, f := range s.Files {
			fmt.Fprintf(h, " %s %s %d\n", f.Role, f.SHA256, f.Rows)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// segmentOf returns the index of the segment holding row r.
func (m *Manifest) segmentOf(r int64) int {
	return sort.Search(len(m.Segments), func(i int) bool {
		return m.Segments[i].Base+m.Segments[i].Rows > r
	})
}

func readManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	loc := checksumField.FindSubmatchIndex(b)
	if loc == nil {
		return nil, fmt.Errorf("%w: %s has no checksum", ErrCorrupt, filepath.Join(dir, manifestName))
	}
	zeroed := append([]byte(nil), b...)
	copy(zeroed[loc[2]:loc[3]], zeroSum)
	sum := sha256.Sum256(zeroed)
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, filepath.Join(dir, manifestName), err)
	}
	if m.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("%w: %s has format version %d; this laiondb reads up to %d — upgrade laiondb",
			ErrVersion, dir, m.FormatVersion, FormatVersion)
	}
	if hex.EncodeToString(sum[:]) != string(b[loc[2]:loc[3]]) {
		return nil, fmt.Errorf("%w: %s: checksum mismatch (the file was changed or damaged)", ErrCorrupt, filepath.Join(dir, manifestName))
	}
	if m.FormatVersion < 1 {
		return nil, fmt.Errorf("%w: %s: format version %d", ErrCorrupt, filepath.Join(dir, manifestName), m.FormatVersion)
	}
	for _, seg := range m.Segments {
		if seg.Meta != "" && !metaNameRE.MatchString(seg.Meta) {
			return nil, fmt.Errorf("%w: %s: segment %s has metadata in %q, not a database under %s/", ErrCorrupt, filepath.Join(dir, manifestName), seg.Name, seg.Meta, metaDir)
		}
	}
	if err := m.upgradeIndexes(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, filepath.Join(dir, manifestName), err)
	}
	return &m, nil
}

// metaNameRE matches the names of segment databases (see newMetaName and
// mergedMetaName).
var metaNameRE = regexp.MustCompile(`^meta/[a-z0-9-]+$`)

// writeManifest replaces the manifest atomically: write a temporary file,
// fsync it, rename it over the old one, fsync the directory.
func writeManifest(dir string, m *Manifest) error {
	m.Checksum = zeroSum
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	loc := checksumField.FindSubmatchIndex(b)
	sum := sha256.Sum256(b)
	m.Checksum = hex.EncodeToString(sum[:])
	copy(b[loc[2]:loc[3]], m.Checksum)
	return atomicfile.Write(filepath.Join(dir, manifestName), func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// textKey returns s as a manifest string: itself when it is valid UTF-8,
// else its Go-quoted form (JSON cannot hold invalid UTF-8 and would
// replace it, merging distinct values).
func textKey(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strconv.Quote(s)
}
