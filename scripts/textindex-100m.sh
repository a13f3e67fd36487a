#!/bin/sh
# textindex-100m.sh DIR [PARTS] [ROWS] — issue 16's measurement at LAION scale (BENCHMARKS.md, "Text
# index at 100M rows"): build a store of PARTS (default 100) metadata parts of ROWS (default
# 1,000,000) LAION-like rows each (bench.GenerateLAIONRows, seed = part number + 1: captions of 75
# bytes and URLs of 88 bytes on average, 'bhabhi' in 0.05% of captions, the essay's keywords in ~4%,
# NSFW labels with odd values and nulls; no embeddings), then the trigram index of TEXT and URL,
# and time the essay's queries through the index and by a scan, and `by` over URLs and domains.
#
# Needs, at 100 parts, about 60 GB of disk (parquet ~10 GB, store ~25 GB, index ~9.5 GB at the
# 95 bytes a row measured at 10M rows, temporary files of `by url`) and, for the index build,
# memory for the postings of one segment (~1.5 GB). Prints, in order, each step's output with
# its wall and CPU time and peak RSS (/usr/bin/time -v) and the load average: generation, ingest,
# index build (text, then url), index bytes, BenchmarkTextQuery (scripts/textindex-bench.sh:
# index against scan, in one process; scripts/textindex-fresh.sh: the same, a process per query,
# 3 rounds), then in fresh processes: a query through the index and the
# same with --scan-text, the whole store's statistics (`all`: NSFW labels, the essay's lexicon in
# TEXT and URL and its cross-tab against NSFW), `all by domain(url)` and `all by url`.
# Resumable: re-running skips parts and segments done. bench/scale_test.go runs it on 1M rows.
set -eu
dir=$(realpath -m "$1")
parts=${2:-100}
rows=${3:-1000000}
cd "$(dirname "$0")/.."
mkdir -p "$dir/parts" bench/out/gen100m
go build -o "$dir/laiondb" ./cmd/laiondb
# The generator: one parquet part per seed, written by demodata as LAION-400M's layout.
cat > bench/out/gen100m/main.go <<'GO'
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/laiondb/laiondb/bench"
)

func main() {
	dir := os.Args[1]
	parts, _ := strconv.Atoi(os.Args[2])
	rows, _ := strconv.Atoi(os.Args[3])
	var text, url int64
	for p := range parts {
		path := filepath.Join(dir, fmt.Sprintf("part-%05d.parquet", p))
		if _, err := os.Stat(path); err == nil {
			continue
		}
		t := bench.GenerateLAIONRows(rows, uint64(p+1))
		for i := range t.Text {
			text += int64(len(t.Text[i]))
			url += int64(len(t.URL[i]))
		}
		if err := t.Parquet(path+".tmp", int64(p)*int64(rows)); err != nil {
			panic(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			panic(err)
		}
	}
	fmt.Printf("generated: TEXT %d bytes, URL %d bytes (parts made by this run)\n", text, url)
}
GO
load() { echo "# load $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores), $(date -u '+%H:%M UTC')"; }
if [ -x /usr/bin/time ]; then
	timed() { /usr/bin/time -v "$@" 2>&1 | grep -vE '^\s+(Average|Exit|File system|Major|Minor|Page size|Percent|Signals|Socket|Swaps|Voluntary|Involuntary|Command)'; }
else
	timed() { echo "# not timed: no /usr/bin/time (Debian package time)"; "$@" 2>&1; }
fi
l="$dir/laiondb"
s="$dir/store"
load
timed go run ./bench/out/gen100m "$dir/parts" "$parts" "$rows"
du -sb "$dir/parts"
load
timed "$l" ingest --store "$s" "$dir/parts"
du -sb "$s"
load
timed "$l" index --store "$s" --text text
load
timed "$l" index --store "$s" --text url
du -sb "$s/textidx"
load
LAIONDB_TRI_QUERIES="all where text contains 'bhabhi'
all where text contains 'istanbul'
all where text contains 'desi'
all where text lexicon essay2021" LAIONDB_TRI_RUNS=1 scripts/textindex-bench.sh "$s" 3
load
sh scripts/textindex-fresh.sh "$l" "$s" 3
for q in "all where text contains 'istanbul'" "all where text contains 'bhabhi'"; do
	load
	timed "$l" query --store "$s" "$q"
	load
	timed "$l" query --store "$s" --scan-text "$q"
done
load
timed "$l" query --store "$s" "all"
load
timed "$l" query --store "$s" --groups 20 --temp-dir "$dir" "all by domain(url)"
load
timed "$l" query --store "$s" --groups 10 --temp-dir "$dir" "all by url"
load
