#!/bin/sh
# bench/run.sh — the side-by-side comparison in one command.
#
#   bench/run.sh                          # laiondb-hnsw and hnswlib-cpp, 100k CLIP-like 512-d vectors
#                                         # (internal/synth), 1000 image + 1000 text queries, 3 rounds
#   GEN=concepts bench/run.sh             # the same on internal/concepts, the second generator
#   GEN=concepts ROUNDS=3 N=1000000 BUILD_THREADS=2 bench/run.sh
#                                         # 1M (the build dominates: only the 2-thread one)
#   SYSTEMS=all bench/run.sh              # every system (FAISS, hnswlib-py, coder/hnsw, exact scans)
#                                         # plus the 1M-row text scan
#   SYSTEMS=go bench/run.sh               # Go systems only (no Debian packages needed)
#
# Variables: N, NQ (queries per set), GEN (synth|concepts), ROUNDS (alternating
# fresh-process search rounds after the run; 1: none), SYSTEMS, BUILD_THREADS
# (e.g. 1,2 or 2), EF (an ef sweep replacing the default 10…512, e.g. 10,32,64,128,256,512,768),
# SEED, ROWS (text scan).
#
# Needs Debian's libhnswlib-dev and g++ (and, for FAISS and hnswlib-py, python3-faiss,
# python3-hnswlib, python3-pandas): installed when missing. Writes everything under bench/out (git-ignored):
# run<N>-<GEN>/report.md, run<N>-<GEN>/rounds.json, run<N>-<GEN>/recall-qps.svg,
# run<N>-<GEN>/bench.txt (benchstat input), textscan/report.md.
set -eu
cd "$(dirname "$0")/.."
N=${N:-100000}
NQ=${NQ:-1000}
GEN=${GEN:-synth}
ROUNDS=${ROUNDS:-3}
SYSTEMS=${SYSTEMS:-laiondb-hnsw,hnswlib-cpp}
BUILD_THREADS=${BUILD_THREADS:-1,2}
EF=${EF:-}
SEED=${SEED:-1}
ROWS=${ROWS:-1000000}
OUT=bench/out/run$N-$GEN
mkdir -p bench/out
# The Debian packages the systems asked for need, installed when missing
# (scripts/apt-install.sh: as root or through sudo).
pkgs=
case ",$SYSTEMS," in
*hnswlib-cpp*|*,all,*) [ -f /usr/include/hnswlib/hnswlib.h ] || pkgs="$pkgs libhnswlib-dev g++" ;;
esac
case ",$SYSTEMS," in
*faiss*|*,all,*) /usr/bin/python3 -c 'import faiss' 2>/dev/null || pkgs="$pkgs python3-faiss python3-numpy" ;;
esac
case ",$SYSTEMS," in
*hnswlib-py*|*,all,*) /usr/bin/python3 -c 'import hnswlib, pandas' 2>/dev/null || pkgs="$pkgs python3-hnswlib python3-pandas" ;;
esac
if [ -n "$pkgs" ]; then
	sh scripts/apt-install.sh bench $pkgs
fi
go build -o bench/out/laiondb-bench ./cmd/laiondb-bench
set -- --systems "$SYSTEMS" --gen "$GEN" --n "$N" --nq "$NQ" --seed "$SEED" --rounds "$ROUNDS" \
	--build-threads "$BUILD_THREADS" --out "$OUT"
if [ -n "$EF" ]; then
	set -- "$@" --ef "$EF"
fi
echo "bench/out/laiondb-bench $*" >&2
bench/out/laiondb-bench "$@" | tee "$OUT.txt"
if [ "$SYSTEMS" = all ]; then
	# Text scans: a separate module so that laiondb itself does not link DuckDB.
	(cd bench/textscan && go build -o ../out/textscan-bin . && ../out/textscan-bin --rows "$ROWS" --out ../out/textscan) | tee bench/out/textscan.txt
	echo "text scan report: bench/out/textscan/report.md"
fi
