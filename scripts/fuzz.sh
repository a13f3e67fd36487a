#!/bin/sh
# Runs every fuzz target in the repository for SECONDS each (default 90):
#
#	scripts/fuzz.sh [SECONDS]
#
# Targets are found by grepping the tests for `func Fuzz`. New crashers are
# written by go test to <package>/testdata/fuzz/<Target>/; commit them, and
# they run as regression tests in every plain `go test`.
set -eu
secs=${1:-90}
cd "$(dirname "$0")/.."
status=0
for file in $(grep -rl --include='*_test.go' '^func Fuzz' .); do
	pkg=./$(dirname "${file#./}")
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		echo "== $pkg $target (${secs}s)"
		# Minimising an input re-runs it many times; cap it so that slow
		# targets (a store ingest per input) keep fuzzing.
		if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="${secs}s" -fuzzminimizetime=5s "$pkg"; then
			status=1
		fi
	done
done
exit $status
