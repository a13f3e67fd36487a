#!/bin/bash
# Issue 24's filtered table: laiondb (BenchmarkFilteredKNN: the planner's
# choice, the exact scan, the graph) against FAISS (Flat + IDSelectorArray,
# HNSW + IDSelectorBitmap) on the same rows, queries and allow-lists, one
# thread, the two alternated over ROUNDS rounds, then the table.
#
#   scripts/filtered-vs-faiss.sh STORE EMBDIR ROWS [ROUNDS] [OUT]
#
# STORE is an indexed store made by laiondb demo (--dim 512), EMBDIR the
# img_emb folder it was ingested from, ROWS its rows with embeddings. The
# FAISS HNSW index is built once (2 threads) into OUT and reused.
set -euo pipefail
store=$1 emb=$2 rows=$3 rounds=${4:-3} out=${5:-bench/out/filtered-$3}
mkdir -p "$out"
go build -o "$out/laiondb" ./cmd/laiondb
go test -c -o "$out/db.test" ./db
if [ ! -s "$out/widths.csv" ]; then
	"$out/laiondb" export --store "$store" -q --format csv --columns row,width --out "$out/widths.csv" "all where width is not null"
fi
run_go() {
	echo "round $1: laiondb (load $(cut -d' ' -f1 /proc/loadavg))" >&2
	LAIONDB_FILTER_STORE=$store LAIONDB_FILTER_ROWS=$rows "$out/db.test" -test.run '^$' -test.bench FilteredKNN \
		-test.benchtime 1000x -test.cpu 1 > "$out/laiondb-$1.txt"
}
run_py() {
	echo "round $1: faiss (load $(cut -d' ' -f1 /proc/loadavg))" >&2
	/usr/bin/python3 bench/drivers/faiss_filtered.py --emb "$emb" --widths "$out/widths.csv" \
		--index "$out/faiss-hnsw.index" --rows "$rows" --out "$out/faiss-$1.json"
}
for r in $(seq "$rounds"); do
	if ((r % 2)); then run_go "$r"; run_py "$r"; else run_py "$r"; run_go "$r"; fi
done
/usr/bin/python3 bench/drivers/filtered_table.py "$out" | tee "$out/table.md"
