// Package table is the row vocabulary shared by the store (package db) and
// the query engine (package engine): column types, columns of values, and
// batches of rows. It imports only the standard library.
//
// A store hands the engine its rows as a Batch: consecutive rows for scans,
// listed rows for fetches, each column laid out as one slice of values
// (strings as one byte slice and offsets) with an optional null map.
package table
