#!/bin/sh
# bench/run.sh — the whole side-by-side comparison in one command.
#
#   bench/run.sh                 # 100k CLIP-like 512-d vectors, 1000 image + 1000 text queries
#   N=1000000 bench/run.sh       # the 1M option (hours: builds dominate; see BENCHMARKS.md)
#   SYSTEMS=go bench/run.sh      # Go systems only (no Debian packages needed)
#
# Needs Debian's python3-faiss, python3-hnswlib, python3-pandas, libhnswlib-dev
# and g++ for the external systems. Writes everything under bench/out (git-ignored):
# run<N>/report.md, run<N>/recall-qps.svg, run<N>/bench.txt (benchstat input),
# textscan/report.md.
set -eu
cd "$(dirname "$0")/.."
N=${N:-100000}
NQ=${NQ:-1000}
SYSTEMS=${SYSTEMS:-all}
ROWS=${ROWS:-1000000}
OUT=bench/out/run$N
mkdir -p bench/out
go build -o bench/out/laiondb ./cmd/laiondb
bench/out/laiondb bench --systems "$SYSTEMS" --n "$N" --nq "$NQ" --out "$OUT" | tee "$OUT.txt"
# Text scans: a separate module so that laiondb itself does not link DuckDB.
(cd bench/textscan && go build -o ../out/textscan-bin . && ../out/textscan-bin --rows "$ROWS" --out ../out/textscan) | tee bench/out/textscan.txt
echo "reports: $OUT/report.md bench/out/textscan/report.md; plot: $OUT/recall-qps.svg"
