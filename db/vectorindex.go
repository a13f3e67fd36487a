package db

import (
	"context"
	"fmt"
	"sort"

	"github.com/laiondb/laiondb/vector"
)

// VectorIndex is what the store needs of an approximate index over its
// image vectors. The store decides, in one place (view.search), whether a
// search is answered by an exact scan or by the index and with which
// effort; the index answers what it is asked. Implementations are
// registered by kind name (registerIndex), and the manifest records the
// kind and its parameters, so a second kind is one file that adapts its
// package and registers it.
//
// Search, PreferExact, Fingerprint and MemoryBytes must be safe to call
// concurrently with each other and with Add.
type VectorIndex interface {
	// Search returns up to k rows among those o.Allow admits, best first,
	// searching with effort o.Effort. An index that finds part of its
	// file corrupt while it searches (an IVF checks each list the first
	// time it reads it) returns an error wrapping ErrCorrupt: the store
	// then answers by an exact scan and says why.
	Search(ctx context.Context, q []float32, k int, o IndexSearch) (IndexResult, error)
	// PreferExact reports whether scanning the allowed rows exactly is
	// cheaper than searching the index at this effort.
	PreferExact(allowed, effort int) bool
	// Add links rows of m, the store's vectors, into the index.
	Add(ctx context.Context, m vector.Matrix, rows vector.Ranges, progress func(done, total int)) error
	// Calibrate measures, for each k of ks, the smallest effort of
	// o.Efforts at which the lower confidence bound of the recall of the
	// sample queries reaches target (see vector.Calibration), searching
	// among the rows o.Allow admits (nil: all). skip[i], when not
	// negative, is a row left out of query i's answers.
	Calibrate(ctx context.Context, qs [][]float32, skip []int64, ks []int, target float64, o IndexCalibrate) ([]vector.Calibration, error)
	// Write saves the index to path atomically.
	Write(path string) error
	// Fingerprint identifies the vectors the index was built over.
	Fingerprint() uint64
	// Params are the build parameters the manifest records.
	Params() map[string]int
	// MemoryBytes is the memory the index holds.
	MemoryBytes() int64
	// Close releases the index; searches must have finished.
	Close() error
}

// IndexSearch tunes one VectorIndex.Search.
type IndexSearch struct {
	// Effort is the search effort (ef for graphs), chosen by the store.
	Effort int
	// Allow, when not nil, restricts the answer to these rows.
	Allow vector.AllowList
	// Calibration is the version of the calibration that chose Effort
	// (0: this laiondb's, calibrationVersion). An index whose filtered
	// search changed since searches as that version measured it, so that
	// the effort keeps its promise.
	Calibration int
	// Variant, when not "", is how a filtered search runs: one of the
	// variants the index reported (IndexResult.Variant) at the share of
	// rows the planner's costs measured; "" lets the index choose.
	Variant string
}

// IndexCalibrate scopes one VectorIndex.Calibrate.
type IndexCalibrate struct {
	// Efforts are the efforts tried, smallest first.
	Efforts []int
	// Allow, when not nil, restricts the searches to these rows: the
	// calibration of filtered searches.
	Allow vector.AllowList
	// MaxNs, when positive, is the time (nanoseconds of one thread) past
	// which a search is not worth calibrating: an exact scan of the
	// allowed rows answers in less. An index may stop climbing there and
	// say so (vector.Calibration.CappedAt): the IVF does, since its
	// filtered searches read about 1/share as many codes as unfiltered
	// ones; the HNSW climbs its whole ladder.
	MaxNs float64
}

// IndexResult is a VectorIndex's answer.
type IndexResult struct {
	Hits []vector.Hit
	// Exact reports that the hits are the exact answer (an index may scan
	// exactly when a filtered search cannot find k allowed rows).
	Exact bool
	// Scored is the number of vectors scored.
	Scored int
	// Method says how the index answered, for the printed plan.
	Method string
	// Variant names how a filtered search ran, for an index with more
	// than one way ("" otherwise): the HNSW's "two hops" (allowed rows
	// only) or "every neighbour".
	Variant string
}

// indexKind is one registered kind of VectorIndex.
type indexKind struct {
	// file is the index file's name in the store's vectors/ folder.
	file string
	// params are the default build parameters; IndexOptions override them.
	params map[string]int
	// efforts is the ladder of efforts Calibrate tries, smallest first;
	// filterEfforts the ladder for filtered searches.
	efforts, filterEfforts []int
	// name is the kind as people read it ("HNSW"); params describes
	// build parameters ("M 16, efConstruction 200").
	name     string
	describe func(params map[string]int) string
	// effort names the search effort ("ef", "nprobe") and path the
	// search ("graph": "graph search at ef 48"), in plans.
	effort, path string
	// defaultEffort is the effort of a search for k rows when the index
	// has no calibration for the query's kind.
	defaultEffort func(k int) int
	// effortCoversK: a search for k rows searches at an effort of at
	// least k (a graph's candidate list holds the k), which is what the
	// planner prices; an IVF's nprobe is not tied to k.
	effortCoversK bool
	// create returns a new, empty index for the rows of m; a kind that
	// learns from the data (ivf) trains on those rows, which Add then
	// adds.
	create func(ctx context.Context, m vector.Matrix, rows vector.Ranges, params map[string]int) (VectorIndex, error)
	open   func(path string, m vector.Matrix, o openOptions) (VectorIndex, error)
	verify func(path string) error
}

// openOptions are the store's options an index kind's open may use.
type openOptions struct {
	hugePages bool // Options.HugePages
}

var indexKinds = map[string]indexKind{}

// defaultIndexKind is the kind BuildIndex creates, and the kind of indexes
// recorded before the manifest named kinds.
const defaultIndexKind = "hnsw"

// registerIndex makes an index kind available under name.
func registerIndex(name string, k indexKind) { indexKinds[name] = k }

// searched is the effort a search for k rows at effort ef runs at.
func (k indexKind) searched(ef, rows int) int {
	if k.effortCoversK {
		return max(ef, rows)
	}
	return ef
}

// IndexKinds lists the index kinds this laiondb builds and reads, sorted.
func IndexKinds() []string {
	names := make([]string, 0, len(indexKinds))
	for n := range indexKinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// lookupIndex returns the registered kind of that name.
func lookupIndex(name string) (indexKind, error) {
	if name == "" {
		name = defaultIndexKind
	}
	k, ok := indexKinds[name]
	if !ok {
		return indexKind{}, fmt.Errorf("%w: unknown index kind %q (this laiondb knows %v)", ErrCorrupt, name, IndexKinds())
	}
	return k, nil
}

// Describe says what an index is, for people: "HNSW (M 16,
// efConstruction 200)".
func (ix *IndexInfo) Describe() string {
	name := ix.Kind
	if k, err := lookupIndex(ix.Kind); err == nil {
		name = k.name
	}
	return fmt.Sprintf("%s (%s)", name, ix.DescribeParams())
}

// DescribeParams says what the build parameters are, for people: "M 16,
// efConstruction 200".
func (ix *IndexInfo) DescribeParams() string {
	k, err := lookupIndex(ix.Kind)
	if err != nil {
		return fmt.Sprint(ix.Params)
	}
	return k.describe(ix.Params)
}
