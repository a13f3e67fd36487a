// Package vector holds what every vector search in laiondb shares: the
// matrix of float16 or float32 rows (memory-mapped by the store), the inner
// product kernels (AVX2 and F16C where the CPU has them), SQ8 codes,
// allow-lists of rows (Bitset, Ranges, And), hits, and the exact scans
// (Exact for the k best rows, ExactRange for every row above a score) that
// answer whenever an index is not asked for or not good enough.
//
// Scores are inner products with the query; a Matrix that carries its
// rows' inverse norms (Matrix.Inv) makes them cosines. Ties rank the lower
// row first, so an exact scan gives the same answer on every run.
//
// The package imports only the standard library and
// github.com/x448/float16; package hnsw builds its graph on it, package db
// scans the store with it, and programs outside the module can use it on
// LAION's .npy embeddings directly.
package vector
