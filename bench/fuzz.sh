#!/usr/bin/env bash
# bench/fuzz.sh: the long fuzz runs, every harness 10 minutes (FUZZ_SECONDS to change), two
# at a time on this 2-core machine (FUZZ_JOBS), then the sanitizer stress (scripts/sanitize)
# unless FUZZ_NO_SANITIZE=1. One line per harness goes to bench/fuzz-results.txt (and the
# console); bench/README.md ("Fuzzing") records the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
log="${FUZZ_LOG:-bench/fuzz-results.txt}"
{
    echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
    echo "== scripts/fuzz --time ${FUZZ_SECONDS:-600} (FUZZ_JOBS=${FUZZ_JOBS:-2})"
} | tee -a "$log"
status=0
FUZZ_LOG="$log" scripts/fuzz --time "${FUZZ_SECONDS:-600}" "$@" || status=$?
if [[ "${FUZZ_NO_SANITIZE:-0}" != 1 && -x scripts/sanitize ]]; then
    scripts/sanitize --long 2>&1 | tee -a "$log" || status=1
fi
exit $status
