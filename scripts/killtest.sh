#!/bin/sh
# killtest.sh [N] — kill ingests and index builds with SIGKILL N times (default 50) at random
# moments; after each kill the store must open (read-only and read-write), pass 'check', hold only
# whole files, and a final re-run must complete it without duplicates. See TestKillDuringIngest.
set -eu
cd "$(dirname "$0")/.."
LAIONDB_KILLS=${1:-50} go test -count=1 -run '^TestKillDuringIngest$' -v ./db/ | grep -E 'kill|survived|^ok|FAIL'
