// Package db is the embeddable laiondb store: Open a store directory, Ingest
// LAION parquet metadata and CLIP embedding files into it, search and query
// it, Close it.
//
// A store directory holds Badger (the row metadata, stored column by column
// in blocks), the vector files (memory-mapped, float16 or float32), and a
// manifest that records the format version, the vector dimension and dtype,
// and every ingested file with its size, checksum and row count.
package db
