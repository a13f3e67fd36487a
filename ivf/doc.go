// Package ivf is an inverted-file index over a store's embeddings that
// keeps little in memory: a coarse quantiser (unit centres found by
// spherical k-means) sends each vector to its nearest list, and the list
// holds the vector's row and a product-quantised code of its residual
// (Config.Sub bytes). A search scores the centres, reads the codes of the
// NProbe nearest lists through a lookup table per query, keeps the Rerank
// best estimates and scores those exactly on the store's own float16 rows
// (vector.Matrix), which stay in the store's memory-mapped file.
//
// Past 1,024 lists the centres come in two levels: about √L groups, each
// with its share of the lists, so that training and assigning a row cost
// about √L inner products instead of L (coarse.go).
//
// For inner products the residual's table does not depend on the list
// (q·x = q·c + q·(x−c)), so one table per query serves every list. With
// Sub = 32, a vector costs 36 bytes in memory (its code and its row
// number) plus its share of the centres.
//
// A search's time goes to three reads. The centres: the lists are chosen
// with 8-bit copies of them (4 MB at 8,192 lists of 512 dimensions, a
// quarter of the float32 ones; an AVX2 loop, centres8_amd64.s) among a
// margin of extra lists, which are then scored with the float32 ones
// (centres8.go). The codes of the probed lists: summed by an assembly loop
// on amd64 (pq_amd64.s, two instructions a table entry). The re-ranked
// rows: each row's first line asked for 32 rows before it is scored. The
// best estimates are kept by a threshold and a quickselect, which most
// rows leave after one comparison.
//
// Write saves an index to a file that Open maps and uses in place: it
// checks the centres and codewords at open and each list the first time it
// is read, and asks the kernel for the pages a search needs at once, so a
// large index opens in the time it takes to read its centres (file.go).
//
// The answers are approximate; NProbe and Rerank trade time for recall.
// Probing every list with Rerank at least the rows read gives the exact
// answer.
package ivf
