#!/bin/bash
# textindex-bench.sh LAIONDB INDEXED PLAIN RUNS QUERY... — time each query on a store with a trigram
# index (INDEXED) and on a copy without one (PLAIN), RUNS times each, interleaved, and print the
# median (min-max) wall time in seconds of the whole 'laiondb query' command (process start and
# store open included), the rows selected, the plan's where step, and the load average before and
# after. Example, on a copy of a 1M-row demo store:
#   scripts/textindex-bench.sh /tmp/tri1m/laiondb /tmp/tri1m/store /tmp/tri1m/plain 5 "all where text contains 'desi'"
set -eu
bin=$1 indexed=$2 plain=$3 runs=$4
shift 4
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
for q in "$@"; do
	declare -A times=()
	for ((i = 0; i < runs; i++)); do
		for s in "$indexed" "$plain"; do
			t0=$(date +%s.%N)
			out=$("$bin" query --store "$s" --format json "$q")
			t1=$(date +%s.%N)
			times[$s]+="$(echo "$t1 - $t0" | bc) "
			if ((i == 0)); then
				echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("  %s: selected %d, where evaluated on %d rows; %s" % (sys.argv[1], r["selected"], r["rows_scanned"], r["plan"].splitlines()[1]))' "$s"
			fi
		done
	done
	for s in "$indexed" "$plain"; do
		echo "${times[$s]}" | python3 -c 'import statistics,sys; t=sorted(float(x) for x in sys.stdin.read().split()); print("%s  %s: %.3fs (%.3f-%.3f), %d runs" % (sys.argv[1], sys.argv[2], statistics.median(t), t[0], t[-1], len(t)))' "$q" "$s"
	done
	unset times
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
