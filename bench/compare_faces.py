#!/usr/bin/env python3
"""bench/compare_faces.py: the engine benchmark through Swift, C and Python, interleaved.

On a shared 2-core VM the memory bandwidth alone moves by 2x between minutes, so three faces run
one after another measure the machine as much as the ABI. This script runs the three faces in
turn for several rounds (Swift, C, Python, Swift, C, Python, ...) and keeps, per face and per
measurement, the best figure over the rounds; the ratios C / Swift and Python / Swift are taken
from those bests. Run after `swift build -c release` and after compiling .build/engine_bench
(bench/run.sh does both):

    python3 bench/compare_faces.py [--rounds 3] [--n 10000,100000] [--text-n 10000] [--seconds 2] [--json]

A measurement, not a test: it exits 0 whatever the figures.
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, ".build", "release")


def faces(args) -> dict[str, list[str]]:
    common = ["--n", args.n, "--text-n", str(args.text_n), "--seconds", str(args.seconds), "--json"]
    return {
        "swift": [os.path.join(RELEASE, "strata-cli"), "bench", "engine", *common],
        "c": [os.path.join(ROOT, ".build", "engine_bench"), *common],
        "python": [sys.executable, os.path.join(ROOT, "bench", "python_bench.py"), *common],
    }


def run_face(command: list[str]) -> list[dict]:
    env = dict(os.environ)
    env["STRATA_LIBRARY"] = os.path.join(RELEASE, "libstrata.so")
    env["PYTHONPATH"] = os.path.join(ROOT, "bindings", "python")
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)["results"]


def better(unit: str, a: float, b: float) -> float:
    """The better of two figures: lower for costs (ns/call), higher for rates."""
    return min(a, b) if unit.startswith("ns") else max(a, b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", default="10000,100000")
    parser.add_argument("--text-n", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    best: dict[tuple[str, int], dict[str, float]] = {}
    units: dict[tuple[str, int], str] = {}
    order: list[tuple[str, int]] = []
    for round_index in range(args.rounds):
        for face, command in faces(args).items():
            if not args.json:
                print(f"round {round_index + 1}/{args.rounds}: {face}", file=sys.stderr, flush=True)
            for row in run_face(command):
                key = (row["measurement"], int(row["n"]))
                if key not in units:
                    units[key] = row["unit"]
                    order.append(key)
                seen = best.setdefault(key, {})
                seen[face] = better(row["unit"], seen[face], row["value"]) if face in seen else row["value"]

    rows = []
    for key in order:
        values = best[key]
        swift = values.get("swift")
        row = {"measurement": key[0], "n": key[1], "unit": units[key], **values}
        for face in ("c", "python"):
            if swift and face in values:
                row[f"{face}_over_swift"] = round(values[face] / swift, 3)
        rows.append(row)

    if args.json:
        print(json.dumps({"rounds": args.rounds, "results": rows}, indent=2))
        return
    print(f"best of {args.rounds} interleaved rounds per face")
    print(f"{'measurement':28} {'n':>7} {'Swift':>12} {'C ABI':>12} {'Python':>12} {'C/Swift':>8} {'Py/Swift':>8}  unit")
    for row in rows:
        def cell(face: str) -> str:
            return f"{row[face]:12.1f}" if face in row else f"{'-':>12}"

        def ratio(face: str) -> str:
            return f"{row[face + '_over_swift']:8.3f}" if face + "_over_swift" in row else f"{'-':>8}"

        print(f"{row['measurement']:28} {row['n']:7d} {cell('swift')} {cell('c')} {cell('python')} "
              f"{ratio('c')} {ratio('python')}  {row['unit']}")


if __name__ == "__main__":
    main()
