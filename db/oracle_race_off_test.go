//go:build !race

package db_test

// oracleDefaultQueries is TestOracle's default number of queries: fewer
// under the race detector, which makes each one several times slower.
const oracleDefaultQueries = 2000
