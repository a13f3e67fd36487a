#!/bin/sh
# textindex-100m.sh DIR [PARTS] — issue 16's measurement at LAION scale (run 2026-12-06: BENCHMARKS.md): build a store
# of PARTS (default 100) metadata parts of 1,000,000 LAION-like captions each (bench.GenerateTextRows,
# seed = part number: 0.6% 'desi' words, 2.5% 'design' words, 1% other scripts; no embeddings), then
# the trigram index of TEXT, and time text queries through the index and by a scan.
#
# Needs about 60 GB of disk at 100 parts (parquet ~4 GB, store ~12 GB, index ~7.6 GB at the 76
# bytes/row measured at 1M rows) and, for the index build, memory for the postings of one segment
# (~330 MB at 1M rows). Prints, in order: ingest time, index build time and peak memory
# (/usr/bin/time -v), index bytes per row, and BenchmarkTextQuery (scripts/textindex-bench.sh),
# with the load average beside each step. Resumable: re-running skips parts and segments done.
set -eu
dir=$(realpath -m "$1")
parts=${2:-100}
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
	"github.com/laiondb/laiondb/demodata"
)

func main() {
	dir := os.Args[1]
	parts, _ := strconv.Atoi(os.Args[2])
	for p := range parts {
		path := filepath.Join(dir, fmt.Sprintf("part-%05d.parquet", p))
		if _, err := os.Stat(path); err == nil {
			continue
		}
		t := bench.GenerateTextRows(1000000, uint64(p+1))
		rows := make([]demodata.Row, len(t.Text))
		for i := range rows {
			rows[i].SampleID = int64(p)*1000000 + int64(i)
			if !t.TextNull[i] {
				rows[i].Text = &t.Text[i]
			}
			if !t.NSFWNull[i] {
				rows[i].NSFW = &t.NSFW[i]
			}
		}
		if err := demodata.WriteParquet(path+".tmp", "laion400m", rows); err != nil {
			panic(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			panic(err)
		}
	}
}
GO
load() { echo "# load $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores), $(date -u '+%H:%M UTC')"; }
load
go run ./bench/out/gen100m "$dir/parts" "$parts"
load
/usr/bin/time -v "$dir/laiondb" ingest --store "$dir/store" "$dir/parts" 2>&1 | grep -E 'ingested|Elapsed|Maximum resident'
load
/usr/bin/time -v "$dir/laiondb" index --store "$dir/store" --text text 2>&1 | grep -E 'text index|^[0-9.]+s$|Elapsed|Maximum resident|User time'
load
LAIONDB_TRI_QUERIES="all where text contains 'desi'
all where text has word 'desi'
all where text matches '(?i)\\bdesi\\b'
all where text contains 'istanbul'
all where text lexicon essay2021" LAIONDB_TRI_RUNS=1 scripts/textindex-bench.sh "$dir/store" 3
