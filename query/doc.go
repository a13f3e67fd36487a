// Package query is laiondb's audit query language: its lexer, parser and
// syntax tree, and, in this comment, its manual ('laiondb help query'
// prints it). It imports only the standard library (and the small
// internal/godoc, to print this manual) and knows nothing of storage: a
// parsed Query names
// columns, lexicons and search targets, and package engine resolves those
// names against a store, runs the query and computes the statistics below;
// package output prints them as a table, JSON or CSV.
//
// # Queries
//
// A query names a source of rows, optionally filters them, and reports the
// contamination statistics of the rows it selected:
//
//	knn('beautiful', 100) where nsfw = 'UNLIKELY'
//	all where text contains 'desi'
//	all where any lexicon essay2021 by license
//	within(row(42), 0.3) where not text has word 'aunty' limit 1000
//	knn('desi', 100) post where nsfw = 'UNLIKELY'
//	knn('desi', 100) in text
//	knn(row(42).text, 20)
//
// # Grammar
//
// Keywords and column names are case-insensitive; strings are not.
//
//	query     = source [ sample ] [ "where" expr ] [ "limit" int ]
//	            [ "post" "where" expr ] [ "by" byitem { "," byitem } ]
//	            [ "sweep" column [ "at" "(" number { "," number } ")" ] ] .
//	source    = ( "all" | "scan" ) [ "(" ")" ]
//	          | "knn" "(" target "," int ")" [ "in" space ] [ dedup ]
//	          | "within" "(" target "," number ")" [ "in" space ] [ dedup ] .
//	dedup     = "dedup" [ number ] .            // (0, 1]; 0.94 when absent
//	sample    = "sample" int [ "per" "file" ] [ "seed" int ] . // after all only
//	space     = "image" | "text" .          // the rows' embeddings searched; image by default
//	target    = string                      // a text, through the CLIP text encoder
//	          | "image" "(" string ")"      // an image file, through the CLIP image encoder
//	          | "row" "(" int ")" [ "." space ] // an embedding of the row at this store position
//	          | ( "id" | "sample" ) "(" int ")" [ "." space ] // an embedding of the row with this SAMPLE_ID
//	          | ( "rows" | "ids" ) "(" "file" "(" string ")" ")" [ "." space ] // seeds: rows listed in a file
//	          | "vector" "(" string ")"     // the one vector of an .npy file (1-D or one row)
//	          | "[" number { "," number } "]" . // an inline vector
//	expr      = and { "or" and } .
//	and       = unary { "and" unary } .
//	unary     = "not" unary | "(" expr ")" | predicate .
//	predicate = column cmp literal
//	          | column [ "not" ] "in" "(" literal { "," literal } ")"
//	          | column [ "not" ] "in" "file" "(" string [ "," "'url'" ] ")"
//	          | column "is" [ "not" ] "null"
//	          | field ( "contains" | "~" ) string
//	          | field "has" "word" string
//	          | field "matches" string
//	          | field "lexicon" name .
//	byitem    = column | "domain" "(" column ")" | "file" .
//	cmp       = "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" .
//	field     = column | "any" .
//	column    = ident | quoted-ident .
//	name      = ident | quoted-ident .
//	literal   = string | number | "true" | "false" .
//
// Lexically, an ident is [A-Za-z_][A-Za-z0-9_]*; a quoted-ident is
// "double-quoted" (for column names that are keywords or hold other
// characters, with "" for a quote); a string is 'single-quoted', with a
// doubled quote for a quote and no other escapes, so regular expressions
// need no doubled backslashes; a number is an optionally signed decimal
// integer or float (100, -0.5, 1e-3; +5, .5 and 5. are numbers too). The
// words and, or, not, in, is, null, where, limit, post, by, contains, has,
// matches, lexicon, true and false are reserved: a column so named is
// written quoted ("limit"). Lexicon names are case-insensitive:
//
//	text contains 'it''s'
//	text matches '\bdesi\b'
//	"limit" >= 1e-3
//
// Precedence: not binds tighter than and, which binds tighter than or.
// Parse returns a *Query whose String method is the canonical, fully
// parenthesised form: "a=1 and b=2 or c=3" prints as
// "((a = 1 and b = 2) or c = 3)", and the canonical form parses back to
// itself.
//
// # Sources
//
// all (or scan) is every row, in store order.
//
// knn(T, K) is the K rows nearest to the target T by cosine similarity,
// best first. With "where P", it is the K nearest rows among those that
// satisfy P — never fewer than K when K such rows exist: P is evaluated on
// every row first and passed to the search as an allow-list.
// With "post where P" it is the global top K, then the rows that satisfy P:
// what a UI that filters after the search shows. Both may be combined.
//
// within(T, S) is every row whose cosine similarity to T is at least S,
// best first, with an exact count.
//
// # Near-duplicates in an answer
//
// knn(T, K) dedup t drops, going down the ranking, each row whose cosine
// with a row kept before it is at least t (0.94, clip-retrieval's
// threshold, when t is not given), and keeps going until K rows are
// kept: the search is repeated with 4 times as many candidates as often
// as needed, so the answer holds K rows, none a near-duplicate of a better
// one, whenever the store has them. within(T, S) dedup t applies the same
// rule to every row at or above S. where restricts the candidates first;
// limit and post where apply to the rows kept. The rule is greedy, so a
// row's fate depends only on the rows above it (clip-retrieval drops
// every row connected to a better one through a chain of near-copies; a
// row whose only near-copy was itself dropped is kept here). The result
// counts the rows dropped (deduped). Cosines between rows are those of
// the stored vectors, computed in float64 and rounded to float32. dedup
// does not apply to a seed set, whose answer lists each row once already.
//
//	knn('beautiful', 100) dedup where nsfw = 'UNLIKELY'
//	within(row(7), 0.5) dedup 0.9
//
// # Seed sets
//
// rows(file('seeds.txt')) names the rows at the store positions the file
// lists, and ids(file('ids.txt')) the rows whose SAMPLE_ID it lists (every
// row holding a listed ID): one value a line, a trailing CR dropped, empty
// lines skipped, repeats ignored. A search from a seed set is the review
// queue of an audit that starts from confirmed rows: each seed is
// searched on its own, among the rows other than the seeds (and
// satisfying where), and the answers are merged. knn(rows(...), K) is the
// union of each seed's K nearest rows; within(rows(...), S) the union of
// the rows at least S from some seed. A row reached from several seeds
// appears once, with its best score, and the result lists, for each row,
// the seeds that reached it. limit, post where, the statistics and the
// order (best score first, then store position) apply to the union. A
// line that is not an integer, a position past the store, a SAMPLE_ID
// that no row holds, a seed without an embedding in the space named, and
// a file with no seeds are errors that name the file and line:
//
//	knn(rows(file('confirmed.txt')), 100) where nsfw != 'NSFW'
//	within(ids(file('seed-ids.txt')).text, 0.9) in text
//
// # Embedding spaces
//
// A clip-retrieval folder and LAION-400M's release hold two embeddings per
// row: the image's and the caption's (CLIP's image and text encoders map
// both into one space). A search compares the target with the rows' image
// embeddings, or, with "in text", with their text embeddings; a row
// target names the row's image embedding, or, with ".text", its text
// embedding. So every pairing is a query:
//
//	knn('beautiful', 100)              // text → images (the default)
//	knn('beautiful', 100) in text      // text → captions
//	knn(row(7), 10) in text            // image → captions
//	knn(row(7).text, 10)               // caption → images
//	knn(row(7).text, 10) in text       // caption → captions
//
// Rows without an embedding in the space searched are never selected.
// Searches in text use the index over the text embeddings when the store
// has one ('laiondb index --space text', calibrated like the image index),
// else they scan exactly.
// "in image" and ".image" name the default and print as nothing in the
// canonical form.
//
// Scores are the cosine of the vectors as stored (float16 rows are not
// exactly unit length, so each is divided by its own norm, and the target
// is normalised), for every kind of target, in exact scans and graph
// searches alike: a row scores 1 against itself. They are computed in
// float32 and lie within engine.ScoreTolerance (1e-6) of the cosine
// computed in float64; within reports how many rows lie that close to its
// threshold (near_threshold), since rounding, not the data, decides their
// side. Equal scores are ordered by store position, except that a row(N) or
// id(N) target comes first among the rows that tie with it: knn(row(7), 1)
// is row 7 even when row 5 holds the same vector.
//
// limit N keeps the first N selected rows (in store order for all, best
// first otherwise); post where is applied after limit.
//
// by c1, c2 reports the value counts of more label-like columns. A by
// lists at most 1,000 values, most frequent first (laiondb query
// --groups); the others are summed, with how many there are. Every count
// is exact however many values a column holds: past a memory budget the
// values are counted from temporary files.
// by domain(url) counts the hosts of the URLs instead: what Python 3.11's
// urllib.parse.urlsplit(url).hostname gives (lower case, no port, no
// user), with null for a URL without one ("img.example.com/a.jpg" has
// none: no "//"). Where Python raises ValueError (a '[' without ']'),
// the host is the rest of the netloc. A column named domain stays
// reachable as by domain, or by "domain".
//
// by file reports, for each source file, the selected rows as a share of
// the file's rows, with the Wilson 95% interval, and the pooled share of
// all files; after a sample, the shares are of the rows the sample drew
// from each file. A column named file is by "file".
//
// sample N per file seed S draws, before where, a uniform random sample of
// N rows of each source file (a file of at most N rows whole), and sample N
// seed S one of N rows of the store; the seed is 0 when not given. The
// draw is Knuth's selection sampling, with a math/rand/v2 PCG generator
// seeded with (S, xxhash64 of the file's base name) for each file, or
// (S, 0) for the store, as package engine describes: the same seed on the
// same files draws the same rows, whatever else the store holds. where,
// the statistics and by file then apply to the sample, so rates per file
// with their intervals are one query ("Into the LAION's Den" drew 100,000
// rows of each of 160 files with a fixed seed):
//
//	all sample 100000 per file seed 42 where any lexicon essay2021 by file
//
// laiondb compare (audit.CompareRates) sets two such results side by side:
// the difference of the pooled rates with Newcombe's interval, and
// Welch's t-test across files.
//
// sweep c at (t1, t2, ...) reports, for each threshold t, how many selected
// rows a filter c >= t keeps and drops, split by NSFW value and counting
// the rows the essay2021 lexicon flags (in text or url); rows whose c is
// null or NaN are counted apart, as neither. Without "at" the thresholds
// are 0.26, 0.28, 0.3 and 0.32 (LAION-400M cut at 0.3, LAION-5B's English
// part at 0.28, DataComp at 0.25). c is any numeric column: the released
// similarity, or pair_cos, the cosine recomputed from the stored
// embeddings:
//
//	knn('beautiful', 100) sweep similarity
//	all where text contains 'aunty' sweep pair_cos at (0.25, 0.3)
//
// A sweep of similarity on a store with both embeddings also compares the
// released score with pair_cos, row by row: how many differ by more than
// 0.01, and the rows whose similarity is not a cosine at all (null, NaN,
// 6016.0) with the cosine recomputed for them.
//
// # Predicates and nulls
//
// Comparisons work on any column: strings compare byte-wise and
// case-sensitively (nsfw = 'UNLIKELY' does not match 'unlikely'); numbers
// compare numerically whatever their spelling, with = and with in alike:
// on a float column 1 and 1.0 are the same literal, and on an int column
// width in (1.0) matches 1 while width in (1.5) matches nothing (a string
// column against a number is an error).
//
// in file('path') tests a column against a list file, one value a line
// (a trailing CR dropped, empty lines skipped, duplicates ignored): URLs,
// SAMPLE_IDs, LAION's hash values, removal lists of millions of entries.
// Strings compare as exact bytes; file('path', 'url') compares URLs after
// lower-casing their scheme and host and dropping one trailing slash, on
// both sides. On a numeric column every line must be a number (an error
// names the file and line). The result's notes say how many distinct values
// the list held and how they were compared. The path is read by the
// process that runs the query.
//
//	all where url in file('removed.txt') by nsfw
//	all where sample_id not in file('kept-ids.txt')
//
// Float32 columns (LAION-5B's punsafe and pwatermark) are widened exactly to
// float64 at ingest: comparisons and text use the float64 value, so a
// float32 0.1 is 0.10000000149011612 (Python's str(float(x))).
//
// The text predicates work on any column, formatting non-string values as
// Python's str() does, and, with the field any, on text or url:
//
//   - contains (or ~): case-insensitive substring, exactly Python's
//     pattern.lower() in str(value).lower(), the test the 2021 essay used.
//     It is a substring test, so 'design' contains 'desi', 'unisex' and
//     'sussex' contain 'sex', and 'screenshot ' contains 'hot '. Lowering
//     follows Python 3's str.lower(), including 'İ' → "i̇" and the final
//     sigma rule.
//   - has word: case-insensitive whole word: the lowered pattern occurs with
//     no letter, digit or underscore right before or after it. An empty
//     pattern is an error.
//   - matches: an RE2 regular expression (Go's regexp) on the value as
//     stored; write (?i) for case-insensitivity. RE2 has no lookaround,
//     backreferences, atomic groups or possessive quantifiers; a pattern
//     that uses one is an error that names it.
//   - lexicon: true when the value contains any of the lexicon's keywords,
//     each as contains does. The built-in lexicon essay2021 is the essay's
//     check_nsfw list: "porn", "hot ", "adult", "xxx", "sex", "fuck",
//     " rape " (note the spaces). Other lexicons come from
//     engine.Options.Lexicons, e.g. loaded with engine.LoadLexiconFile; a
//     keyword that is empty or only white space is an error, since it
//     would flag every row.
//
// A store may keep a trigram index of some columns ('laiondb index --text
// text,url'). It never changes an answer: it only narrows the rows the
// text predicates are evaluated on to candidates, the rows whose lowered
// text (str() lowered by str.lower(), in UTF-8) holds every trigram (three
// consecutive bytes) of the lowered needle, of one of the lexicon's
// keywords, or of the literals every match of a regular expression must
// contain (with (?i), of each of their case-folded forms: s, S and ſ
// lower differently). An and uses the index when either side can, an or
// only when both can, a not never. A needle or keyword shorter than three bytes after
// lowering, or a regular expression with no such literal ('[a-z]+'),
// means a scan. The plan shows which: "text index: 30441 candidates of
// 1000000 rows; fetch them, ..." or "scan ... (scan: needle shorter than
// 3 bytes)"; when the candidates are more than 1/8 of the rows (1/32 for
// a store that can only fetch rows one by one), fetching them costs more
// than a scan, and the plan says "scan: the text index's N candidates are
// more than 1/8 of the M rows". laiondb query --explain asks the index
// without running the query, and prints the candidate count and what
// evaluating where on them costs against a scan.
//
// Logic is SQL's three-valued logic: a predicate on a null value (or a
// NaN float) is unknown, never true; not unknown is unknown, so neither
// "text contains 'x'" nor "not text contains 'x'" selects a row whose text
// is null. "x is null" and "x is not null" are always true or false.
// false and unknown is false; true or unknown is true. Rows are selected
// only when the predicate is true. A NaN float is missing, as pandas' isna
// says: "x is null" is true for it, every other predicate on it is
// unknown, and in nsfw and by counts it falls in the null bucket (the
// similarity statistics still count null and NaN apart, both among the
// invalid values).
//
// # Statistics
//
// engine.Run reports, for the selected rows: the count; rows scanned and
// whether the answer is exact; the plan and the store's fingerprint; counts
// of every nsfw value (null is its own bucket); for each lexicon (essay2021
// and every lexicon in engine.Options.Lexicons) the rows flagged in text,
// in url and in either, with share and Wilson 95% interval, per-keyword
// counts and the cross-tab against nsfw; the distribution of the similarity
// column (min, quartiles by linear interpolation, max, rows below 0.3) with
// invalid values (null, NaN, > 1, < -1) counted apart; and for knn and
// within the score range and the number of rows asked for and returned.
// Rows themselves (text, url) appear only when engine.Options.Rows asks for
// them.
package query
