// Package duckcheck holds one test: that a parquet file laiondb export
// writes reads in DuckDB with the row count, column types and NSFW counts
// laiondb reports. It is a module of its own (like bench/textscan) so that
// the main module, and the laiondb binary, do not link DuckDB; its go.mod
// points at the checkout with a replace directive. Run it with
//
//	cd internal/duckcheck && go test ./...
//
// (make test does). LAIONDB_NO_DUCKDB=1 skips it, and nothing else does.
package duckcheck
