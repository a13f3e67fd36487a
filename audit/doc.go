// Package audit runs the 2021 essay's audit of a store in one call: for
// each search term, the CLIP search with and without the NSFW pre-filter
// and the plain-text views, side by side, with their NSFW labels and
// lexicon shares, and a check of the vector index against an exact scan.
// Report writes the result as a table, JSON or CSV, and as a
// self-contained folder (report.md, report.html with SVG charts,
// results.json) that shows no row text and no image.
//
// The audit asks its store only for query answers, through the Querier
// interface this package declares; *laiondb.Store and *db.DB satisfy it.
//
// # Views
//
// For each term T, with K and the filter F of Options:
//
//	knn           knn('T', K)                      the CLIP search (text encoder)
//	knn filtered  knn('T', K) where F              the same among rows passing F
//	contains      all where text contains 'T'      Python's substring test, as the essay did
//	word          all where text has word 'T'      whole word, case-insensitive
//
// Each view reports its selected rows, their NSFW values, the share the
// essay2021 lexicon flags in text or url with its 95% Wilson interval, and
// its top domains; the CLIP views of a store with a similarity column also
// sweep it (sweep similarity: what cuts at 0.26 ... 0.32 keep and drop).
// When the index answered the knn view approximately, Run repeats it by an
// exact scan and reports the overlap (Term.IndexRecall), so a difference
// between the filtered and unfiltered views can be told apart from the
// index's error. Views a store cannot answer (filtered without an nsfw
// column, text views without a text column) are left out.
//
// # Store-level operations
//
// The audits that followed the essay work on engine.Store snapshots:
//
//   - Diff compares two stores by a key: the rows one holds and the other
//     lacks (removals such as Re-LAION-5B's).
//   - Duplicates counts exact duplicates by a key (url, url and text, any
//     columns): groups of rows sharing it, the rows a dedup drops (each
//     group's rows after its first), the histogram of group sizes. Over
//     shards on several machines, WriteDupsPartial writes each shard's
//     distinct keys (as 128-bit hashes, with counts and first rows) and
//     MergeDups gives the report of the store of all of them.
//   - NearDuplicates counts near-duplicate embeddings: rows joined when
//     their cosine is at least a threshold (clip-retrieval's 0.94 by
//     default) as the store scores it from either row, grouped as
//     connected components, each group represented by its lowest row. Its
//     exact method scores every pair once (from the lower row, with the
//     pairs just below the threshold rescored from the other) by exact
//     range searches that share passes over the vectors; its index method
//     keeps each row's K nearest rows at or above the threshold and
//     measures its pair recall against exact range searches for a seeded
//     sample of rows. The report says which method ran, whether the answer
//     is exact, and what was scanned.
//
// Both duplicate counts take a selection of rows (laiondb dups --where
// makes one from a predicate) and can return the drop list with the row
// each dropped row's group keeps.
package audit
