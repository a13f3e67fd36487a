#!/bin/sh
# oracle.sh runs the differential test (TestOracle in ./db: laiondb's
# answers against the Python oracle, internal/oracle/oracle.py) longer than
# the default 2,000 queries of go test:
#
#	scripts/oracle.sh [QUERIES [SEED]]      (default 50000 queries, seed 7)
#
# which is
#
#	LAIONDB_ORACLE_QUERIES=50000 LAIONDB_ORACLE_SEED=7 go test -run TestOracle ./db
#
# with the oracle's packages installed first. LAIONDB_ORACLE_VERBOSE=1
# prints every disagreeing query, not only the first few; the summary at
# the end groups them by kind, with minimised examples.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-oracle.sh
export LAIONDB_ORACLE_QUERIES="${1:-50000}"
export LAIONDB_ORACLE_SEED="${2:-7}"
echo "oracle: $LAIONDB_ORACLE_QUERIES queries, seed $LAIONDB_ORACLE_SEED"
exec go test -count=1 -timeout 3h -run '^TestOracle$' ./db
