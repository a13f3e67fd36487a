// Package db is the embeddable laiondb store: Open a store directory, Ingest
// LAION parquet metadata and CLIP embedding files into it, Search and Query
// it, Close it.
//
//	d, err := db.Open("audit.db", nil)
//	srcs, err := db.ExpandPaths([]string{"laion400m-meta/", "laion2B-en/"})
//	_, err = d.Ingest(ctx, srcs, nil)
//	res, err := d.Query(ctx, "all where text contains 'desi'", nil)
//
// # Sources
//
// Ingest reads each unit through a SegmentReader, the interface this
// package declares for source formats: a segment's columns as ColumnBatch
// values, its image and text vectors (VectorReader), and its files with
// their checksums. A Layout recognises a kind of path for ExpandPaths and
// opens its units; each is one file of this package that registers itself:
// clip-retrieval embedding folders (source_clip.go), img2dataset output
// folders (source_img2dataset.go), LAION metadata parts and other parquet
// files (source_laion.go), and a parquet file paired with .npy files by
// hand (source_parquet.go). The manifest records units by name and files,
// not by layout.
//
// # Store directory
//
//	MANIFEST.json     format version, dimension, dtype, model, columns, and every
//	                  ingested file with its size, sha256 and rows: the commit point
//	LOCK              the writer's flock: one writer at a time (readers take none)
//	meta/             the metadata, column by column, in Badger databases that
//	                  never change once committed: s00000007 holds segment 7,
//	                  s00000000-00000031 segments 0 to 31 merged
//	badger/           format-1 stores: the metadata of their older segments
//	vectors/img.f16   image embeddings of every row, row r at r×dim×2 (.f32: ×4)
//	vectors/txt.f16   text embeddings, laid out the same way
//	vectors/img.hnsw  the HNSW graph over the image embeddings with their SQ8
//	                  codes (package hnsw); the manifest records the rows it
//	                  covers and its calibration (see Calibration)
//	vectors/img.ivf   the IVF index over the image embeddings (package ivf):
//	                  lists, codewords and each row's 32-byte code, when built
//	                  (IndexOptions.Kind "ivf")
//	vectors/txt.hnsw  the same over the text embeddings, when built
//	vectors/txt.ivf   (IndexOptions.Space); the manifest lists every index
//	                  with its kind, space, rows covered and calibration
//
// Rows are numbered 0..Rows-1 in ingest order; each ingested unit (a
// metadata parquet file with its embedding files) is a segment holding a
// contiguous range of rows, and every row keeps its source file and row
// number in that file.
//
// Each segment's blocks are in the database its manifest entry names
// (Segment.Meta). Badger keys are 'b' segment:u32 column:u16 start:u32 (big-endian), each
// holding a block of up to 32768 consecutive rows of one column of one
// segment: a type byte, the row count, an optional null map, then the values
// (strings as offsets and bytes; ints and floats as 8-byte little-endian
// values). Scans read the blocks they need in parallel; fetches of single
// rows read one block per column.
//
// Rows without vectors (metadata-only files) are holes in the vector files,
// which cost no disk; the manifest says which segments have vectors.
//
// # Atomicity
//
// An ingest writes a segment's blocks into a new database and its vectors
// past the committed rows, closes the database and syncs the vectors, then
// replaces the manifest (write, fsync, rename, fsync the directory). A crash
// or error before the rename leaves debris that the next read-write Open
// removes: databases the manifest does not list, vector bytes past the
// committed rows. So the store always holds whole files, and running the
// same ingest again completes it without duplicates.
//
// At the end of an ingest, the newest databases are merged into one (see
// mergeRun: as far back as each older one is no larger than the newer ones
// together), so a store keeps a logarithmic number of them. A merge is a
// commit of its own; the databases merged away are removed when no process
// reads them any more.
//
// # Concurrency
//
// A DB is safe for concurrent use. Reads (Search, Query, Snapshot) see the
// store as of their start; an ingest running at the same time becomes
// visible only when it commits.
//
// Across processes, one writer may have the store open and any number of
// readers (Options.ReadOnly) too: a reader opens the databases and vector
// rows the manifest lists, which the writer never changes, and sees the
// store as the last commit before its Open left it. A reader that needs
// later commits opens the store again.
package db
