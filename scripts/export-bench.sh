#!/bin/sh
# laiondb export at 1,000,000 rows: wall time, peak RSS and file size of each
# format, RUNS times (BENCHMARKS.md, "Export"). The store is laiondb demo's
# at 1M rows (500,000 of them with 32-d embeddings), built once in DIR.
#
#   scripts/export-bench.sh            # DIR=/tmp/exp1m RUNS=3
#
# Prints one line a command: query, format (or "query only": laiondb query
# of the same query, for what the export adds), seconds, peak RSS in MB, and
# the file's size in MB.
set -eu
cd "$(dirname "$0")/.."
DIR=${DIR:-/tmp/exp1m}
RUNS=${RUNS:-3}
BIN=$DIR/laiondb
mkdir -p "$DIR"
go build -o "$BIN" ./cmd/laiondb
[ -f "$DIR/demo/store/MANIFEST.json" ] || "$BIN" demo --dir "$DIR/demo" --parts 5 --rows 100000 -q >/dev/null
STORE=$DIR/demo/store

# timed LABEL WHAT COMMAND...: runs COMMAND under /usr/bin/time -v and
# prints LABEL, WHAT, the wall seconds and the peak RSS.
timed() {
	label=$1 what=$2
	shift 2
	/usr/bin/time -v "$@" >/dev/null 2>"$DIR/time.txt"
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}' "$DIR/time.txt")
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$DIR/time.txt")
	printf '%s\t%s\t%s s\t%s MB RSS' "$label" "$what" "$secs" "$rss"
}

# export LABEL FORMAT QUERY: one export, and the file's size.
export1() {
	timed "$1" "$2" "$BIN" export --store "$STORE" --quiet --format "$2" --out "$DIR/out.$2" "$3"
	printf '\t%s MB\n' "$(du -m "$DIR/out.$2" | cut -f1)"
	rm -f "$DIR/out.$2"
}

for run in $(seq "$RUNS"); do
	echo "# run $run"
	timed "all" "query only" "$BIN" query --store "$STORE" "all"
	echo
	timed "knn 500k" "query only" "$BIN" query --store "$STORE" "knn(row(42), 500000)"
	echo
	for f in parquet jsonl csv json; do
		export1 "all" "$f" "all"
	done
	export1 "knn 500k" parquet "knn(row(42), 500000)"
	export1 "knn 500k" csv "knn(row(42), 500000)"
	# Memory against the rows written: the same query path at 100k, 250k
	# and 1M rows.
	for n in 100000 250000 1000000; do
		timed "all limit $n" "query only" "$BIN" query --store "$STORE" "all limit $n"
		echo
		export1 "all limit $n" parquet "all limit $n"
		export1 "all limit $n" csv "all limit $n"
	done
done
