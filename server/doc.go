// Package server serves laiondb stores read-only over HTTP: the routes of
// clip-retrieval's back end (clip_retrieval/clip_back.py), so that scripts
// and papers that call ClipClient(url=".../knn-service", indice_name=...)
// can point at a local store; laiondb's own JSON API; Prometheus metrics;
// and an audit page that shows numbers before rows.
//
// # Routes
//
//	GET  /healthz        "ok" (no token needed)
//	GET  /metrics        request counts by route and status, latency histograms by route
//	GET  /indices-list   the index names, as clip-retrieval lists them
//	POST /knn-service    clip-retrieval's search (below)
//	POST /metadata       {"ids": [...], "indice_name": ...} -> [{"id", "metadata": {...}}]
//	POST /api/query      {"query", "index", "rows", "columns", "exact"} -> the JSON of 'laiondb query --format json'
//	POST /api/audit      {"terms", "index", "k", "filter"} -> the report of 'laiondb audit --format json' (no row text)
//	POST /api/export     {"query", "index", "format", "shape", "columns"} -> the file 'laiondb export' writes
//	GET  /               the audit page (no data in it; it asks for the token)
//
// An id is a store row position. Errors are {"error": "..."} with a 4xx
// status for what the request got wrong (400, 401 without the token, 413
// for a body too large), 504 when a query outruns Options.Timeout, and
// 500 only for the server's own failures.
//
// # clip-retrieval's fields
//
// POST /knn-service takes clip-retrieval's request as ClipClient sends it,
// and answers its bare list, in score order, of {"id", "similarity"}
// with the metadata columns (url, caption, NSFW by default) on the first
// num_images:
//
//	field                   here
//	text                    encoded by the server's CLIP model (--model)
//	image                   base64 image, encoded by the CLIP image tower
//	image_url               refused unless a local path and --allow-files: the server never downloads
//	embedding_input         a query vector
//	modality                image (default) or text: which embeddings are searched
//	num_images              required; how many results carry metadata
//	num_result_ids          K (default num_images)
//	indice_name             the store (default: the first)
//	deduplicate             dedup 0.94 (see package query: greedy, and K rows kept)
//	use_safety_model        ignored, named in the X-Laiondb-Ignored header (no safety model;
//	use_violence_detector   clip-retrieval ignores these too when it has none): filter on the
//	aesthetic_score/_weight store's NSFW column with "where" instead
//	use_mclip               true is a 400: no multilingual model
//
// and laiondb's optional extensions: "where" (a predicate of the query
// language, applied before the top K, so num_result_ids rows come back
// whenever that many match), "threshold" (every row at cosine >= t, at most
// num_result_ids), "exact" (force an exact scan) and "count_only"
// ({"count", "exact", "plan"}).
//
// # Security and limits
//
// Nothing writes to a store, and nothing reads a file a request names: a
// query with in file(...), rows(file(...)), ids(file(...)), image(...)
// or vector(...) is refused unless Options.AllowFiles (laiondb serve
// --allow-files), which also lets image_url name a local file. Options.Token, when set, is required as a
// bearer token by every route but /healthz and the page; the laiondb
// command refuses to listen beyond loopback without one. Request bodies,
// K and ids lists, returned rows and query time are bounded (Options);
// a query stops when its client goes away. A store that another process
// ingests into is opened again, after its commit, by the next request
// that checks it (Options.Refresh); requests under way finish on the old
// copy.
//
// # Scans and searches
//
// A request that reads every row of a store (a query over all, an audit,
// an export of all) waits for one of Options.ScanSlots (one by default)
// and then runs in the background lane of package internal/lane: between
// blocks of rows it gives way, for at most lane.MaxPause at a time, to the
// short requests running (searches, lookups). So a filtered knn is not
// held behind statistics over a million rows: BENCHMARKS.md, "The server
// under load", measures both.
package server
