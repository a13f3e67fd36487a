#!/bin/sh
# textindex-bench.sh STORE [COUNT] — time text queries on STORE (a store with a trigram index:
# 'laiondb index --store STORE --text text') through the index and by a scan of the same store,
# in one process, so that neither start-up nor opening the store is counted (BenchmarkTextQuery in
# db/textindex_timing_test.go), COUNT rounds of $LAIONDB_TRI_RUNS runs (default 3; COUNT default 5),
# with the load average before and after. The queries are $LAIONDB_TRI_QUERIES, one a line, or the benchmark's defaults.
# Summarise with: benchstat -col /via OUT   (or read the ns/op columns).
set -eu
cd "$(dirname "$0")/.."
store=$(realpath "$1")
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores), $(date -u '+%Y-%m-%d %H:%M UTC'), $(go version)"
LAIONDB_TRI_STORE=$store go test -run '^$' -bench '^BenchmarkTextQuery$' -benchtime "${LAIONDB_TRI_RUNS:-3}x" -count "${2:-5}" ./db/
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
