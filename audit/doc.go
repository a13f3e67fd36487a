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
package audit
