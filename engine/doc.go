// Package engine runs audit queries: it plans a parsed query (package
// query) against a Store, evaluates its predicates, asks the store for
// vector searches, and computes the contamination statistics of the rows
// it selected. The manual of the language, and of what a query reports, is
// package query's documentation.
//
// NewPlan checks a query against the store's columns and the lexicons of
// Options and compiles its predicates; Plan.Run runs it and returns a
// Result; Run does both. Predicates are evaluated batch by batch, a column
// at a time, in SQL's three-valued logic, with text lowered as Python's
// str.lower() does. Package output prints a Result as a table, JSON or CSV.
//
// Package db implements Store over an on-disk store; package enginetest
// holds an in-memory Store for tests and examples. Rows arrive as
// table.Batch values, and row sets are vector.Bitset values.
//
// # Statistics
//
// Each statistic of a Result is one accumulator in its own stat_*.go file,
// in the manner of expvar vars or Prometheus collectors: it adds the
// selected rows of a batch, merges with another accumulator of the same
// statistic, and writes its part of the Result. Every goroutine of a scan
// has its own accumulators, merged at the end, so that rows split among
// accumulators give the statistic of all of them: what will make sharded
// execution exact. A new statistic is a new file that registers itself,
// and the field of Result it writes.
package engine
