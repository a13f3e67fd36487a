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
// The index reads the caller's vec.Matrix, normally the store's
// memory-mapped float16 vector file, and scores a float32 query against a
// float16 row with the F16C/FMA kernel of internal/vec. Measured
// (BenchmarkDot in internal/vec; AMD EPYC, Go 1.26): a 512-d float16 dot
// product takes ~23 ns and a float32 one ~33-43 ns, so float16 is not slower
// to score, and it halves the bytes each random graph hop pulls from memory
// (1 KiB vs 2 KiB per 512-d row). A float32 copy would double the RAM and
// the memory traffic for nothing.
//
// Searches do not traverse the float16 rows either, by default: Add keeps
// SQ8 codes of every row (one byte per component, per-dimension ranges;
// vec.SQ8), 512 bytes at 512-d, and the graph search scores them, then
// re-ranks its best max(8k, 64) candidates by their exact float16 scores,
// so hits carry exact scores. In cache the AVX2 SQ8 kernel is slower than
// the float16 one (~30 ns against ~23 ns at 512-d; BenchmarkDotQ8,
// BenchmarkDot), but a graph hop is a cache miss, and it reads half the
// bytes. Measured on 1M CLIP-like 512-d rows, 200 queries per kind, one
// thread, the same graph (BENCHMARKS.md): recall@10 was the same with and
// without the codes at every ef measured from 32 to 2048, and re-ranking
// 4k, 8k or all ef candidates gave the same recall; a text query at ef
// 1536 took 4.9-7.7 ms against 9.2 ms over float16 rows, and an image
// query at ef 128 0.7-0.9 ms against 0.7-2.1 ms. In the same-run
// comparison with hnswlib at 1M, laiondb answered text queries at
// recall@10 0.99 at 1.66 times hnswlib's rate. The codes are what a search
// keeps hot; the float16 rows are read only to build and to re-rank (8k
// rows a query). Options.NoSQ8 and SearchOptions.NoSQ8 turn the codes off.
// While the layer search scores a node's unvisited neighbours it prefetches
// the next neighbour's codes (or row), as hnswlib does.
//
// RAM per vector is therefore ~137 bytes of graph plus 512 bytes of codes,
// with the store's float16 row (1 KiB, kept anyway for exact scans) in the
// page cache as far as memory allows, against ~2.3 KiB for hnswlib (float32
// row, links, label and per-node lock; 2,296 bytes measured at 1M by the
// bench harness).
//
// # Choosing ef
//
// Recall at a given ef depends on the data, its size and the query: on 1M
// CLIP-like rows image queries reach recall@10 0.99 at ef 32-64, text
// queries (which sit in CLIP's text cone, far from the images they match)
// need ef 1,500-2,000. SearchOptions.Seeds also starts the layer-0 search
// from the best hub nodes (rows on layer 2 and above, scored from a packed
// copy), which raised text recall@10 at 1M from 0.84 to 0.91 at ef 256.
// Index.Calibrate measures, against exact scans, the smallest ef of
// EfLadder at which a lower confidence bound of the recall of a sample of
// queries (mean per-query recall minus two standard errors) reaches a
// target; the store (package db) runs it at every index build with 500 of
// its own image and 500 of its text embeddings, and searches at the
// calibrated ef.
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
// Measured on 100k CLIP-like 512-d rows (BenchmarkSearch,
// BenchmarkFilteredSearch; 2-core AMD EPYC shared with other jobs, so
// absolute times are inflated but ratios taken in the same run hold): an
// unfiltered search scores ~300 + 16·ef vectors (1173 at ef=64, 2240 at
// 128, 4164 at 256), so visitsPerEf = 16; a graph score cost ~450 ns
// (filtered, 50% allowed: 1.45 ms for 3227 scores) against ~100 ns per
// allowed row for the exact scan of a sparse allow-list (1%: 97 µs for
// 1000 rows; 3%: 295 µs for 3031), so graphCostRatio = 4. At n = 100k and
// the default ef = 96 the cutoff is ~25k allowed rows; in that run the
// scan of a 10% list took 2.1 ms against 4.6 ms for the graph search, and
// of a 50% list 19 ms against 1.4 ms. At 1M rows the cutoff is ~78k
// (7.8%). The same rule sends tiny indexes (n < 64·ef) to the scan.
//
// Above the cutoff the graph search runs with only allowed rows entering
// its result list: it still walks through disallowed rows, and the list
// fills only after ef allowed rows, so the effective search effort grows
// as 1/s by itself (this is how ef adapts to the filter). The search has a
// budget of max(allowed, 4·visitsPerEf·ef) scores, about four times
// what it needs at the cutoff; if it runs out, or finds
// fewer than k allowed rows, the exact scan answers instead. Result.Path
// says which of graph, exact and fallback answered, and Result.Exact
// whether the hits are guaranteed to be the true top k.
//
// # Measured
//
// 100k CLIP-like 512-d float16 rows (seeded generator in gen_test.go;
// random-pair cosine mean 0.40), M=16, efConstruction=200, 1000 held-out
// queries, one query goroutine, go test -bench 'Search$' on the shared
// 2-core EPYC (load average 5-9 from other jobs during the run):
//
//	ef   recall@10  mean µs  p50 µs   scores/query
//	 32   0.956       286     193       671
//	 64   0.985       330     309      1173
//	 96   0.991       438     416      1705   (DefaultEfSearch)
//	128   0.995       649     636      2240
//	256   0.999      1161    1074      4164
//
// Debian python3-hnswlib 0.6.2 (generic build, not -march=native) on the
// same vectors and queries, in the same load, M=16, efC=200: recall@10
// 0.986 / 0.993 / 0.996 at ef 64 / 96 / 128 with 1005 / 723 / 399 queries
// per second through Python (~1.0 / 1.4 / 2.5 ms per query); 2-thread build
// 225 s against 148 s for Add on 2 workers. These are one noisy run each;
// bench/ holds the controlled side-by-side comparison.
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
