// Package hnsw is laiondb's vector index: an HNSW graph (Malkov &
// Yashunin, "Efficient and robust approximate nearest neighbor search using
// Hierarchical Navigable Small World graphs") over the store's vectors, an
// exact scan, and the planner that chooses between them. It knows nothing
// of metadata: rows are uint32 store row numbers, and filters arrive as an
// vector.AllowList of rows (vector.Bitset satisfies it).
//
// # Using it
//
//	ix, err := hnsw.New(dim, nil)                  // or hnsw.Open(path, vectors)
//	err = ix.Add(ctx, vectors, rows, progress)     // parallel, cancellable, incremental
//	res, err := ix.Search(ctx, q, k, &hnsw.SearchOptions{Allow: bitset})
//	err = ix.Write(path)                           // atomic
//	err = hnsw.Verify(path)                        // laiondb check
//
// Exact and ExactRange scan a vec.Matrix directly (every core, bounded
// heaps, cancellable); Index.Range is the exact range search over the rows
// in the graph. Every result is sorted by score descending, then row
// ascending, so the same query on the same store gives the same answer.
// Similarity is the inner product (cosine for the unit-norm CLIP vectors).
//
// # Graph
//
// Standard HNSW as in hnswlib: a node's level is floor(-ln(u)/ln(M)), with
// u drawn from a hash of (Options.Seed, row), so levels do not depend on
// insertion order or scheduling; layer 0 holds 2M links per node and the
// upper layers M; insertion runs the ef-bounded layer search with
// EfConstruction and keeps M neighbours chosen by the neighbour-selection
// heuristic (a candidate is kept only if it is closer to the new node than
// to every neighbour kept so far), and a full neighbour list is re-pruned
// with the same heuristic. Search descends greedily to layer 0 and runs the
// layer search with EfSearch.
//
// The graph is four flat arrays and no pointers or maps: levels (1 byte per
// row), layer-0 links (2M uint32 per row, unused slots 0xFFFFFFFF),
// upper-layer offsets (uint32 per row) and upper-layer links (level*M uint32
// for the ~1/M rows above layer 0). At M=16 that is 128 bytes of layer-0
// links plus about 9 bytes per row, ~137 bytes in all; the same arrays are
// the file sections, so an opened index uses the file's pages in place.
//
// # Vectors are not copied
//
// The index reads the caller's vector.Matrix, normally the store's
// memory-mapped float16 vector file, and scores a float32 query against a
// float16 row with the F16C/FMA kernel of package vector: a float16 row is
// half the bytes a graph hop pulls from memory, and a float32 copy would
// double the RAM.
//
// Searches do not traverse the float16 rows either, by default: Add keeps
// SQ8 codes of every row (one byte per component, per-dimension ranges;
// vector.SQ8), and the graph search scores them, then re-ranks its best
// max(8k, 64) candidates by their exact float16 scores, so hits carry
// exact scores. The codes are what a search keeps hot; the float16 rows are
// read only to build and to re-rank. Options.NoSQ8 and SearchOptions.NoSQ8
// turn the codes off. A code is scored against the query rounded to 16
// bits, in integers (vector.SQ8Query). While the layer search scores a
// node's unvisited neighbours it prefetches the next neighbour's codes (or
// row), as hnswlib does. A process that answers many searches opens the
// index with OpenOptions.HugePages, which copies the layer-0 links and the
// codes into 2 MiB pages: fewer page walks per node visited. MemoryBytes counts the graph and the codes (the float16 rows stay
// in the caller's file); BENCHMARKS.md gives the measured speed, recall and
// memory beside hnswlib's.
//
// # Choosing ef
//
// Recall at a given ef depends on the data, its size and the query: text
// queries, which sit in CLIP's text cone far from the images they match,
// need a far larger ef than image queries. SearchOptions.Seeds replaces the
// greedy descent through layers 2 and 1 by beam searches (16 on layer 2,
// ef/2 within [16, 128] on layer 1) and starts the layer-0 search from
// their best nodes: several starting points near the query, found at a
// cost that grows with the number of layers, not the number of rows
// (BenchmarkSeeding). Index.Calibrate measures, against exact
// scans, the smallest ef of EfLadder at which a lower confidence bound of
// the recall of a sample of queries (mean per-query recall minus two
// standard errors) reaches a target; the store (package db) runs it at
// every index build with its own image and text embeddings, and searches
// at the calibrated ef.
//
// # Building and concurrency
//
// Add links rows on Options.Workers goroutines (default GOMAXPROCS), as
// hnswlib does: per-node striped mutexes guard the neighbour lists while a
// build runs, and a global lock is held only while a node that raises the
// top level is inserted. Searches during an Add copy neighbour lists under
// the node locks; when no Add runs they read the arrays without locking.
// The switch between the two modes happens under the write side of an
// RWMutex, which is otherwise held only while arrays are resized. Adds are
// serialised, rows already in the graph are skipped, and a cancelled Add
// keeps the rows it finished, so ingest can simply call Add again. A build
// on one worker is deterministic; parallel builds differ in tie-breaking
// and link order only. Neighbour ids are bounds-checked on every hop, so a
// damaged graph cannot make Search panic.
//
// # Choosing between graph and exact scan
//
// Search answers by the exact scan when SearchOptions.Exact is set or
// PlanExact says the scan is cheaper: a graph search admitting a fraction
// s of the rows into its results computes about visitsPerEf·ef/s scores
// (it keeps expanding until it holds ef allowed rows), each
// graphCostRatio times the cost of a score in the sequential, parallel
// scan, while the scan of the allowed rows costs one score per allowed
// row. The scan wins below allowed = sqrt(graphCostRatio·visitsPerEf·ef·n).
// The constants come from BenchmarkSearch and BenchmarkFilteredSearch:
// an unfiltered search scores about 300 + visitsPerEf·ef vectors with
// visitsPerEf = 16, and a graph score costs about graphCostRatio = 4 times
// a score in the scan of a sparse allow-list. The same rule sends tiny
// indexes (n < 64·ef) to the scan. A caller that has already weighed the
// two sets SearchOptions.Planned: package db does, with costs its index
// build measured on the store (the rule above, with fixed constants, is
// for programs that use this package alone), and Calibrate searches as it.
//
// Above the cutoff the graph search runs with only allowed rows entering
// its result list, and the list fills only after ef allowed rows, so the
// effective search effort grows as 1/s by itself (this is how ef adapts to
// the filter). How it moves past disallowed rows depends on the share
// (SearchOptions.Traverse): at half the rows allowed it scores them and
// walks through them like any other; below TwoHopShare (an eighth) it
// scores allowed rows only, passing over a disallowed neighbour unscored
// to the allowed rows among its own neighbours (ACORN-1's expansion, on
// the ordinary graph). At a tenth of 1M CLIP-like rows allowed that scores
// a quarter as many rows for about the same recall at the same ef, in a
// little over half the time; with too few allowed rows two links away (TwoHopReach)
// the walk loses its way, and the search scores every neighbour again.
// The search has a
// budget of max(allowed, 4·visitsPerEf·ef) scores, about four times
// what it needs at the cutoff; if it runs out, or finds
// fewer than k allowed rows, the exact scan answers instead. Result.Path
// says which of graph, exact and fallback answered, and Result.Exact
// whether the hits are guaranteed to be the true top k.
//
// # On disk
//
// See "Index Format" in file.go: a 128-byte header (dimension, counts, M,
// efConstruction, efSearch, seed, entry point, the fingerprint of the
// vectors the graph was built over, a checksum per section and one of the
// header) followed by the four graph arrays and the SQ8 codes, 64-byte
// aligned (version 2; version 1 files, without codes, still open, and get
// codes at their next Add). Open memory-maps
// the file and uses the arrays in place after checking the checksums
// (xxhash64, a sequential pass over the mapping) and a few structural
// invariants; a mismatch is ErrCorrupt, and vectors whose Fingerprint
// differs from the recorded one are ErrStale (rebuild). Write replaces the
// file atomically (temporary file, fsync, rename, fsync of the directory).
// The first Add after Open copies the arrays to the heap.
package hnsw
