package engine

import (
	"context"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// Hit is one vector search result: a store row and its inner product with
// the query vector (cosine similarity for unit-norm vectors).
type Hit struct {
	Row   uint32  `json:"row"`
	Score float32 `json:"score"`
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
	// Index forces the vector index for a k-NN search (for programs that
	// embed the store and choose the path themselves): no exact scan
	// because the candidates are few or a scan looks cheaper; a store
	// without a usable index answers with an error. Exact wins over it;
	// range searches (Within) are always exact.
	Index bool
	// IndexKind, when not empty, names the kind of index that must answer
	// a k-NN search ("hnsw", "ivf"), among the store's indexes over the
	// search's space; it implies Index.
	IndexKind string
	// Ef, when above 0, is the index's effort for this search (HNSW's
	// candidate list size, IVF's lists probed), instead of the store's
	// calibrated one: for the index IndexKind names, or the store's
	// default kind when it names none.
	Ef int
	// Image reports that Vec is an image embedding (targets image(), row()
	// and id()). A store may search such queries more narrowly than text
	// queries, which lie far from the images they match; inline vectors
	// and vector files count as text.
	Image bool
	// Space is the embeddings the search compares Vec with: the rows'
	// image embeddings (the zero value) or their text embeddings. Rows
	// without an embedding in that space are never returned.
	Space query.Space
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

// RowScanner is a Store that reads some rows block by block: where is
// evaluated on the text index's candidates (or a sample's rows) through it,
// on every core, when the store has it, and through Fetch otherwise.
type RowScanner interface {
	// ScanRows calls fn, as Scan does, with batches holding the named
	// columns of the rows of rows (a set over NumRows), each batch's Rows
	// listing its rows in ascending order; every row of the set comes in
	// exactly one batch.
	ScanRows(ctx context.Context, rows *vector.Bitset, cols []string, fn func(*table.Batch) error) error
}

// ScoreTolerance is the precision of a search score: the cosine of the
// stored vectors, computed in float32, is within it of the cosine computed
// in float64.
const ScoreTolerance = 1e-6

// Store is what a query runs against. Package db implements it; tests use
// the in-memory one of package enginetest. Implementations must be safe for
// concurrent use.
type Store interface {
	// Columns lists the store's columns.
	Columns() []table.ColumnInfo
	// NumRows is the number of rows (store positions 0..NumRows-1).
	NumRows() int
	// Fingerprint identifies the store's content: equal fingerprints mean
	// equal data, so equal queries give equal answers.
	Fingerprint() string
	// Scan calls fn with consecutive batches covering every row, holding
	// the named columns. fn may be called from several goroutines at
	// once, each with its own batch; the batch is valid only during the call.
	Scan(ctx context.Context, cols []string, fn func(*table.Batch) error) error
	// Fetch returns the named columns of the given rows, in that order.
	Fetch(ctx context.Context, rows []uint32, cols []string) (*table.Batch, error)
	// Vector resolves a knn or range target to a unit-norm query vector;
	// a row target names the row's embedding in t.Space.
	Vector(ctx context.Context, t query.Target) ([]float32, error)
	// Search returns the K rows nearest to req.Vec among req.Allow (all
	// rows with a vector when nil).
	Search(ctx context.Context, req SearchRequest) (SearchResult, error)
	// Within returns every row whose score is at least req.MinScore,
	// among req.Allow; always exact.
	Within(ctx context.Context, req SearchRequest) (SearchResult, error)
	// VectorRows returns the rows that have an embedding in space sp, as a
	// new set of NumRows rows; it is empty when the store holds no
	// embeddings there.
	VectorRows(sp query.Space) *vector.Bitset
	// Source names the file a row came from and its row number in that file.
	Source(row uint32) (file string, fileRow int64)
}
