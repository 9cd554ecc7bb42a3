#!/usr/bin/env bash
# bench/run.sh: builds release, generates the data (into .build/bench-data, not committed)
# and runs every benchmark in one go. Usage: bench/run.sh [--json]
# Benchmarks measure, they do not check: nothing here fails on a slow figure.
set -euo pipefail
cd "$(dirname "$0")/.."
JSON=()
[[ "${1:-}" == "--json" ]] && JSON=(--json)
DATA=.build/bench-data
CLI=.build/release/strata-cli

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(date -u +%Y-%m-%dT%H:%MZ)"
swift build -c release
mkdir -p "$DATA"
[[ -f $DATA/base.fvecs && -f $DATA/queries.fvecs ]] ||
    "$CLI" bench generate --out "$DATA" --n 100000 --queries 1000 --dim 384 --seed 1

echo "== exact search, built-in store (Swift)"
"$CLI" bench search --base "$DATA/base.fvecs" --queries "$DATA/queries.fvecs" -k 10 "${JSON[@]}"

if python3 -c 'import faiss' 2>/dev/null; then
    echo "== faiss-cpu IndexFlatIP on the same files"
    python3 bench/faiss_compare.py --base "$DATA/base.fvecs" --queries "$DATA/queries.fvecs" -k 10 "${JSON[@]}"
else
    echo "== faiss-cpu not installed (pip install faiss-cpu): comparison skipped"
fi

echo "== engine, Swift API"
"$CLI" bench engine --n 10000,100000 --text-n 10000 "${JSON[@]}"

echo "== engine, C ABI"
cc -O2 -Wall -I include bench/engine_bench.c -L .build/release -lstrata \
    -Wl,-rpath,"$PWD/.build/release" -lm -o .build/engine_bench
.build/engine_bench --n 10000,100000 --text-n 10000 "${JSON[@]}"

echo "== engine, Python"
STRATA_LIBRARY="$PWD/.build/release/libstrata.so" PYTHONPATH=bindings/python \
    python3 bench/python_bench.py --n 10000,100000 --text-n 10000 "${JSON[@]}"
