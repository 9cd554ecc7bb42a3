#!/usr/bin/env bash
# bench/run.sh: builds release, generates the data (into .build/bench-data, not committed)
# and runs every benchmark in one go. Usage: bench/run.sh [--json]
# Benchmarks measure, they do not check: nothing here fails on a slow figure.
# The peers (faiss-cpu, chromadb) come from PyPI; missing ones are installed first.
set -euo pipefail
cd "$(dirname "$0")/.."
JSON=()
[[ "${1:-}" == "--json" ]] && JSON=(--json)
DATA=.build/bench-data
CLI=.build/release/strata-cli

scripts/setup --python
for peer in faiss:faiss-cpu chromadb:chromadb; do
    python3 -c "import ${peer%%:*}" 2>/dev/null || python3 -m pip install -q "${peer#*:}"
done

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(date -u +%Y-%m-%dT%H:%MZ)"
swift build -c release
mkdir -p "$DATA"
[[ -f $DATA/base.fvecs && -f $DATA/queries.fvecs ]] ||
    "$CLI" bench generate --out "$DATA" --n 100000 --queries 1000 --dim 384 --seed 1

echo "== exact search, built-in store (Swift)"
"$CLI" bench search --base "$DATA/base.fvecs" --queries "$DATA/queries.fvecs" -k 10 "${JSON[@]}"

echo "== faiss-cpu IndexFlatIP on the same files"
python3 bench/faiss_compare.py --base "$DATA/base.fvecs" --queries "$DATA/queries.fvecs" -k 10 "${JSON[@]}"

echo "== engine through Swift, the C ABI and Python, interleaved (best of 3 rounds each)"
cc -O2 -Wall -I include bench/engine_bench.c -L .build/release -lstrata \
    -Wl,-rpath,"$PWD/.build/release" -lm -o .build/engine_bench
python3 bench/compare_faces.py --rounds 3 "${JSON[@]}"

echo "== the same engine work through the Swift API and the C ABI, in one process (alternating windows)"
"$CLI" bench abi --n 10000,100000 --text-n 10000 "${JSON[@]}"

echo "== persistent stores next to Chroma (100k x 384, durable ingest, recall with and without a 10% filter)"
python3 bench/persist_bench.py --data "$DATA" --n 100000 --queries 200 "${JSON[@]}"

echo "== memory kernels next to the same modules in PyTorch eager, and against the sgemm bound (issue 5)"
# torch is a peer for this benchmark only, never a dependency of the product: it lives in its own
# venv (with the system's numpy and cffi). PyPI has no CPU-only torch wheel: the default one
# brings ~5 GB of CUDA libraries (nvidia-*), unused on CPU.
VENV=.build/bench-venv
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    python3 -m venv --system-site-packages "$VENV"
    "$VENV/bin/python" -m pip install -q torch
fi
STRATA_LIBRARY="$PWD/.build/release/libstrata.so" "$VENV/bin/python" bench/kernel_bench.py "${JSON[@]}"
