// Package export writes the rows a query selected to a file: every row,
// not the first 10,000 that clip-retrieval's web page caps a download at,
// as parquet, JSONL, CSV or JSON, with where each row came from.
//
//	res, err := engine.Run(ctx, s, q, nil) // s: one snapshot of a store
//	sum, err := export.Write(ctx, s, res, w, &export.Options{Format: export.Parquet})
//
// 'laiondb export QUERY --out FILE' is this, with the file replaced
// atomically: a failed or interrupted export leaves no partial file.
//
// # Rows
//
// Write takes the result of a query run on the same snapshot of the store
// (engine.Result; the fingerprints must match) and writes exactly the rows
// it selected, res.Selected of them, or fails: a knn or within search best
// first, with its score (the cosine, float32) and rank (1 for the best);
// an all query in store order. limit and post where are the query's: the
// rows written are the rows counted. Rows are fetched and encoded a chunk
// at a time (Options.ChunkRows, 65,536 by default), so an export's memory
// is bounded by a chunk and not by the selection; the context is checked
// between chunks. WriteRows writes a list of rows in the same way, without
// scores (the CLI's dups --drop and diff --removed files).
//
// # Shapes
//
// The rows shape (the default) has the columns
//
//	row        int64    the store position (what row(N) names)
//	file       string   the source file the row was ingested from
//	file_row   int64    the row's number in that file, from 0
//	score      float32  knn and within only: the cosine to the target
//	rank       int64    knn and within only: 1, 2, ... best first
//
// then every column of the store in its order, except the columns the
// store computes (table.ColumnInfo.Computed: pair_cos), which are not part
// of the dataset and which ingest refuses. Options.Columns picks columns
// instead, in any order, pair_cos included; a name the store has means the
// store's column, so a store that holds a column named row (an export
// ingested back) is exported with Columns, and the default refuses it.
//
// The img2dataset shape is the two columns url and caption (the store's
// text), the input img2dataset downloads with
//
//	img2dataset --input_format parquet --url_col url --caption_col caption ...
//
// The clipsubset shape is clip-retrieval's clipsubset.json: a JSON array
// of objects with url, caption, NSFW, id (the store position) and, for
// searches, similarity (the score); clipsubset.go cites the clip-retrieval
// code it follows. Both shapes need the store's url and text columns.
//
// # Formats
//
// Parquet: one file with a flat schema in the columns' order; int64 is
// INT64, float64 DOUBLE, float32 FLOAT, bool BOOLEAN, string BYTE_ARRAY
// with the String logical type; the store's columns are optional (nulls
// stay null, NaN stays NaN), the added ones required. Snappy pages, a row
// group per chunk, and key-value metadata laiondb.query,
// laiondb.fingerprint and laiondb.exact. laiondb ingests it back with its
// types (row, file and file_row become ordinary columns), and DuckDB reads
// it with the same rows and types (TestRoundTrip and internal/duckcheck).
//
// JSONL: one object a line, keys in the columns' order. JSON: one array
// of such objects, laid out as JSON.stringify(rows, null, 2) lays it out.
// Nulls are null; so are NaN and infinite floats, which JSON lacks
// (counted in Summary.NonFinite). Floats are written in the shortest form
// that reads back to the same float64 (float32 for scores).
//
// CSV: a header line, then a line a row (encoding/csv: a field holding a
// comma, a quote or a line break is quoted). Nulls are empty cells; so
// are empty strings, which CSV cannot tell from nulls (counted in
// Summary.EmptyStrings). NaN and infinities are NaN, +Inf and -Inf; bools
// true and false.
//
// Strings must be UTF-8 in parquet and JSON: each byte of a stored string
// that is not part of valid UTF-8 (LAION's captions hold some) is written
// as U+FFFD there, and CSV writes the bytes as they are; Summary.NotUTF8
// counts the strings. The Summary also says the query, its plan, whether
// the selection is exact, the store's fingerprint, the columns with their
// null counts, and the rows and bytes written.
package export
