package query

import (
	"context"

	"github.com/laiondb/laiondb/vector"
)

// Type is the type of a stored column as the query language sees it.
type Type uint8

// Column types. Parquet int32/int64 columns are TypeInt, float/double are
// TypeFloat; any other parquet type is stored as its text form (TypeString).
const (
	TypeString Type = iota + 1
	TypeInt
	TypeFloat
	TypeBool
)

// String returns the type's name as info prints it.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeFloat:
		return "float"
	case TypeBool:
		return "bool"
	}
	return "unknown"
}

// ColumnInfo describes one column of the store. Names are lower case: the
// store maps TEXT and caption to "text", URL to "url", SAMPLE_ID to
// "sample_id", NSFW to "nsfw", and lower-cases every other name.
type ColumnInfo struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Strings is a column of strings laid out as one byte slice and n+1 offsets:
// value i is Data[Off[i]:Off[i+1]].
type Strings struct {
	Data []byte
	Off  []uint32
}

// Len reports the number of values.
func (s *Strings) Len() int {
	if len(s.Off) == 0 {
		return 0
	}
	return len(s.Off) - 1
}

// At returns value i. The slice aliases Data and must not be modified.
func (s *Strings) At(i int) []byte { return s.Data[s.Off[i]:s.Off[i+1]] }

// Column holds the values of one column for the rows of a Batch. Exactly the
// slice that matches Type is set. Null, when non-nil, marks null values;
// a nil Null means no value is null.
type Column struct {
	Type  Type
	Null  []bool
	Str   Strings
	Int   []int64
	Float []float64
	Bool  []bool
}

// IsNull reports whether value i is null.
func (c *Column) IsNull(i int) bool { return c.Null != nil && c.Null[i] }

// Missing reports whether value i is missing: null, or NaN in a float
// column. "is null" and the null bucket of label counts test Missing, as
// pandas' isna does; the similarity statistics count null and NaN apart.
func (c *Column) Missing(i int) bool {
	return c.IsNull(i) || (c.Type == TypeFloat && c.Float[i] != c.Float[i])
}

// Batch is a set of rows with the columns a query asked for. Scans deliver
// consecutive store rows (Rows is nil and row i is Start+i); fetches deliver
// the rows listed in Rows, in that order.
type Batch struct {
	Start uint32
	Rows  []uint32
	Len   int
	// Cols maps a lower-case column name to its values. A column the store
	// does not have is absent; a column some source files lack is present
	// with those rows null.
	Cols map[string]*Column
}

// Row returns the store row position of batch row i.
func (b *Batch) Row(i int) uint32 {
	if b.Rows != nil {
		return b.Rows[i]
	}
	return b.Start + uint32(i)
}

// Hit is one vector search result: a store row and its inner product with
// the query vector (cosine similarity for unit-norm vectors).
type Hit struct {
	Row   uint32  `json:"row"`
	Score float32 `json:"score"`
}

// TargetKind says what a knn or range target names.
type TargetKind uint8

// Target kinds.
const (
	TargetText     TargetKind = iota + 1 // a text, through the CLIP text encoder
	TargetImage                          // an image file, through the CLIP image encoder
	TargetRow                            // a stored row's own image embedding, by store position
	TargetSampleID                       // a stored row's own image embedding, by SAMPLE_ID
	TargetVector                         // an inline vector
	TargetNpy                            // a vector read from an .npy file (first row)
)

// Target is the resolved argument of knn or a range source.
type Target struct {
	Kind     TargetKind
	Text     string    // TargetText
	Path     string    // TargetImage, TargetNpy
	Row      uint32    // TargetRow
	SampleID int64     // TargetSampleID
	Vec      []float32 // TargetVector
}

// SearchRequest asks the store for nearest neighbours.
type SearchRequest struct {
	Vec []float32
	// K is the number of neighbours wanted (Search only).
	K int
	// MinScore is the threshold of a range search (Within only): every row
	// whose score is >= MinScore.
	MinScore float32
	// Allow, when non-nil, restricts the answer to rows in the set.
	Allow *vector.Bitset
	// Exact forces an exact scan.
	Exact bool
	// Image reports that Vec is an image embedding (targets image(), row()
	// and id()). A store may search such queries more narrowly than text
	// queries, which lie far from the images they match; inline vectors
	// and vector files count as text.
	Image bool
}

// IsImage reports whether the target's vector is an image embedding.
func (k TargetKind) IsImage() bool {
	return k == TargetImage || k == TargetRow || k == TargetSampleID
}

// SearchResult is the answer of Search or Within, sorted by score
// descending, ties by row ascending.
type SearchResult struct {
	Hits []Hit
	// Exact reports whether Hits is guaranteed to be the exact answer.
	Exact bool
	// Method says how the answer was computed, e.g. "exact scan of 1000
	// vectors" or "hnsw ef=64"; it goes into the printed plan.
	Method string
	// Scanned is the number of vectors whose score was computed.
	Scanned int
	// NearThreshold counts, for a range search, the rows whose score lies
	// within ScoreTolerance of the threshold on either side: float32
	// rounding, not the data, decides whether they are in.
	NearThreshold int
}

// ScoreTolerance is the precision of a search score: the cosine of the
// stored vectors, computed in float32, is within it of the cosine computed
// in float64.
const ScoreTolerance = 1e-6

// Store is what a query runs against. Package db implements it; tests use an
// in-memory fake. Implementations must be safe for concurrent use.
type Store interface {
	// Columns lists the store's columns.
	Columns() []ColumnInfo
	// NumRows is the number of rows (store positions 0..NumRows-1).
	NumRows() int
	// Fingerprint identifies the store's content: equal fingerprints mean
	// equal data, so equal queries give equal answers.
	Fingerprint() string
	// Scan calls fn with consecutive batches covering every row, holding
	// the named columns. fn may be called from several goroutines at
	// once, each with its own batch; the batch is valid only during the call.
	Scan(ctx context.Context, cols []string, fn func(*Batch) error) error
	// Fetch returns the named columns of the given rows, in that order.
	Fetch(ctx context.Context, rows []uint32, cols []string) (*Batch, error)
	// Vector resolves a knn or range target to a unit-norm query vector.
	Vector(ctx context.Context, t Target) ([]float32, error)
	// Search returns the K rows nearest to req.Vec among req.Allow (all
	// rows with a vector when nil).
	Search(ctx context.Context, req SearchRequest) (SearchResult, error)
	// Within returns every row whose score is at least req.MinScore,
	// among req.Allow; always exact.
	Within(ctx context.Context, req SearchRequest) (SearchResult, error)
	// Source names the file a row came from and its row number in that file.
	Source(row uint32) (file string, fileRow int64)
}
