#!/bin/sh
# peak-anon.sh CMD [ARG...] — run CMD and print the peak anonymous and file-backed resident memory of
# its process (RssAnon, RssFile in /proc/PID/status), sampled each second, and its wall time.
# /usr/bin/time's "maximum resident set size" adds the pages of files the process maps (a store's
# Badger value logs), which the kernel can reclaim; the anonymous part is what a machine must hold.
set -u
t0=$(date +%s)
"$@" &
pid=$!
amax=0
fmax=0
while kill -0 "$pid" 2>/dev/null; do
	a=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null)
	f=$(awk '/^RssFile/ {print $2}' "/proc/$pid/status" 2>/dev/null)
	[ -n "$a" ] && [ "$a" -gt "$amax" ] && amax=$a
	[ -n "$f" ] && [ "$f" -gt "$fmax" ] && fmax=$f
	sleep 1
done
wait "$pid"
rc=$?
echo "peak RssAnon $((amax / 1024)) MB, peak RssFile $((fmax / 1024)) MB (sampled each second); wall $(($(date +%s) - t0)) s; exit $rc" >&2
exit $rc
