#!/bin/sh
# textindex-fresh.sh LAIONDB STORE [ROUNDS] — time text queries as a user runs them: a fresh
# `laiondb query` process per query (start-up, opening the store and the first reads counted; the
# store's files in the page cache), through the text index and with --scan-text, the two
# alternating, ROUNDS rounds (default 5). Prints one line per run (CPU = user + system seconds,
# from wait4), then per query the median (min–max) of each and of the ratio round by round.
# The queries are $LAIONDB_TRI_QUERIES, one a line, or the essay's.
set -eu
bin=$1
store=$2
rounds=${3:-5}
queries=${LAIONDB_TRI_QUERIES:-"all where text contains 'bhabhi'
all where text contains 'istanbul'
all where text contains 'desi'
all where text lexicon essay2021"}
# cputime CMD...: the user + system CPU seconds of CMD, to the microsecond from wait4 (Python),
# else to the hundredth from the shell's times.
if [ -x /usr/bin/python3 ] && [ -z "${NO_PYTHON:-}" ]; then
	cputime() { /usr/bin/python3 -c 'import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0)
print("%.4f" % (ru.ru_utime + ru.ru_stime)) if status == 0 else sys.exit("failed: %r" % sys.argv[1:])' "$@"; }
else
	# The shell's times: its children's user and system time, before and after.
	# (Written to a file: times in a pipe or $(...) would run in a subshell without children.)
	cputime() {
		times >"$out.t0"
		"$@" >/dev/null
		times >"$out.t1"
		{ tail -n 1 "$out.t0"; tail -n 1 "$out.t1"; } | awk 'function s(x) { split(x, p, "m"); return p[1] * 60 + p[2] }
			NF == 2 { t[++k] = s($1) + s($2) } END { printf "%.2f", t[2] - t[1] }'
	}
fi
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores), $(date -u '+%Y-%m-%d %H:%M UTC')"
out=$(mktemp)
trap 'rm -f "$out" "$out.t0" "$out.t1"' EXIT
echo "$queries" | while IFS= read -r q; do
	[ -n "$q" ] || continue
	for r in $(seq "$rounds"); do
		for via in index scan; do
			flag=""
			[ "$via" = scan ] && flag=--scan-text
			# shellcheck disable=SC2086
			cpu=$(cputime "$bin" query --store "$store" $flag "$q")
			echo "$q	$r	$via	$cpu" | tee -a "$out"
		done
	done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| query | through the index, CPU s | --scan-text, CPU s | scan ÷ index |"
echo "|---|---|---|---|"
awk -F'\t' '
function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ if (!($1 in seen)) { seen[$1] = 1; order[++nq] = $1 } v[$1, $2, $3] = $4; if ($2 > R) R = $2 }
END {
	for (k = 1; k <= nq; k++) {
		q = order[k]
		for (r = 1; r <= R; r++) { a[r] = v[q, r, "index"]; b[r] = v[q, r, "scan"]; c[r] = (a[r] > 0 ? b[r] / a[r] : 0) }
		ai = med(a, R); alo = a[1]; ahi = a[R]; bi = med(b, R); blo = b[1]; bhi = b[R]; ci = med(c, R); clo = c[1]; chi = c[R]
		printf "| `%s` | %.3f (%.3f–%.3f) | %.2f (%.2f–%.2f) | ×%.0f (%.0f–%.0f) |\n", q, ai, alo, ahi, bi, blo, bhi, ci, clo, chi
	}
}' "$out"
