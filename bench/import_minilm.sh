#!/usr/bin/env bash
# bench/import_minilm.sh BIN LABEL [JSONL]: `strata import` of a JSONL file (default: 10,000 short
# memories made by bench/import_memories.py into /tmp/bench-import/memories-10k.jsonl) into a fresh
# SQLite store that embeds with minilm; prints memories/s and the load average before the run.
#
#   swift build -c release --product strata-cli && swift build -c release --product strata-sqlite \
#     && swift build -c release --product strata-minilm
#   python3 bench/import_memories.py /tmp/bench-import/memories-10k.jsonl
#   bench/import_minilm.sh .build/release/strata-cli now
set -euo pipefail
bin="$1"; label="$2"; file="${3:-/tmp/bench-import/memories-10k.jsonl}"
dir="$(mktemp -d "${TMPDIR:-/tmp}/strata-import-XXXX")"
chmod 700 "$dir"
printf '{"store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db"}}, "embedder": {"backend": "minilm", "plugin": "minilm"}}\n' > "$dir/strata.json"
chmod 600 "$dir/strata.json"
load="$(cut -d' ' -f1 /proc/loadavg)"
start=$(date +%s.%N)
"$bin" import "$file" --dir "$dir" > "$dir/out.txt"
end=$(date +%s.%N)
python3 -c "import sys; s=float(sys.argv[1]); n=int(sys.argv[4]); print(f'{sys.argv[2]}: {n/s:.0f} memories/s ({s:.1f} s), load before {sys.argv[3]}')" "$(echo "$end - $start" | bc)" "$label" "$load" "$(grep -c . "$file")"
cat "$dir/out.txt"
rm -rf "$dir"
