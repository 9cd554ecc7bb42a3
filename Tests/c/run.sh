#!/usr/bin/env bash
# Tests/c/run.sh: builds and runs the C side of Strata.
#
# Run from the repository root after `swift build`:
#
#     bash Tests/c/run.sh
#
# Environment:
#   STRATA_LIB_DIR     folder holding libstrata.so (default: .build/debug)
#   CC                 C compiler (default: cc)
#   STRATA_C_VALGRIND  if 1, also run the tests under valgrind --leak-check=full
#
# It builds into .build/c/:
#   libstrata-flat.so        examples/plugins/flat_store.c, with only the headers
#   <fixture>.so             each Tests/fixtures/plugins/*.c
#   bad_inputs_table.h       Tests/bad_inputs.json as C, by Tests/c/bad_inputs.py (for test_bad_inputs.c)
#   strata_c_tests           Tests/c/*.c, linked to libstrata.so
#   quickstart               examples/c/quickstart.c
#   kernel_example           examples/c/kernel.c
#   kernel_allocations       Tests/c/standalone/kernel_allocations.c (replaces malloc, so not in the suite)
#   minilm_allocations       Tests/c/standalone/minilm_allocations.c (the same for the minilm embedder,
#                            on the model scripts/setup installs)
# then runs the tests (last line "N passed, M failed") and the quickstart, and
# exits non-zero if anything fails. Extra arguments are passed to the test
# program (test-name substrings to run a subset).
set -euo pipefail

CC="${CC:-cc}"
LIB_DIR="${STRATA_LIB_DIR:-.build/debug}"
OUT=".build/c"

if [[ ! -f include/strata/strata.h ]]; then
    echo "run.sh: run me from the repository root (include/strata/strata.h not found)" >&2
    exit 2
fi
if [[ ! -f "$LIB_DIR/libstrata.so" ]]; then
    echo "run.sh: $LIB_DIR/libstrata.so not found: run \`swift build\` first or set STRATA_LIB_DIR" >&2
    exit 2
fi
LIB_DIR="$(cd "$LIB_DIR" && pwd)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

WARN=(-Wall -Wextra -Werror)

echo "== building the flat plugin (plain C, headers only)"
# The documented command, plus warnings: no libstrata, no extra libraries.
"$CC" -std=c11 -O2 -shared -fPIC -fvisibility=hidden "${WARN[@]}" -I include \
    examples/plugins/flat_store.c -o "$OUT/libstrata-flat.so"
# nm and readelf come with binutils (scripts/setup installs a C toolchain): a missing tool
# fails the run instead of skipping the export checks without a word.
for tool in nm readelf; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: $tool is missing: install binutils (scripts/setup)" >&2; exit 1; }
done
{
    # Linker-made markers (__bss_start, _edata, _end, _init, _fini) are not the plugin's symbols.
    exported="$(nm -D --defined-only "$OUT/libstrata-flat.so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' |
        grep -Ev '^(__bss_start|_edata|_end|_init|_fini)$' | sort -u)"
    if [[ "$exported" != "strata_plugin_entry" ]]; then
        echo "run.sh: libstrata-flat.so must export only strata_plugin_entry, it exports:" >&2
        echo "$exported" >&2
        exit 1
    fi
}

{
    # What other objects can link to: defined GLOBAL or WEAK dynamic symbols. (Swift leaves some
    # type metadata in .dynsym bound LOCAL, which nothing outside can resolve.)
    for lib in "$LIB_DIR/libstrata.so:^strata_" "$LIB_DIR/libstrata-memory.so:^strata_plugin_entry$" \
        "$LIB_DIR/libstrata-sqlite.so:^strata_plugin_entry$" "$LIB_DIR/libstrata-file.so:^strata_plugin_entry$" \
        "$LIB_DIR/libstrata-tensor.so:^strata_plugin_entry$" "$LIB_DIR/libstrata-minilm.so:^strata_plugin_entry$"; do
        file="${lib%%:*}" allowed="${lib#*:}"
        [[ -f "$file" ]] || { echo "run.sh: $file was not built" >&2; exit 1; }
        others="$(readelf -W --dyn-syms "$file" | awk '$5 ~ /^(GLOBAL|WEAK)$/ && $7 != "UND" {print $8}' |
            grep -Ev '^(__bss_start|_edata|_end|_init|_fini)$' | grep -Ev "$allowed" || true)"
        if [[ -n "$others" ]]; then
            echo "run.sh: $(basename "$file") exports symbols beyond $allowed:" >&2
            echo "$others" | head -20 >&2
            exit 1
        fi
        echo "$(basename "$file"): exports only $allowed"
    done
}

# Each plugin carries the note the loader reads before loading it (plugin.h); libstrata.so,
# the host, carries none.
for plugin in memory sqlite file tensor minilm; do
    readelf -n "$LIB_DIR/libstrata-$plugin.so" | grep -q "Strata" ||
        { echo "run.sh: libstrata-$plugin.so carries no Strata plugin note" >&2; exit 1; }
done
if readelf -n "$LIB_DIR/libstrata.so" | grep -q "Strata"; then
    echo "run.sh: libstrata.so carries a plugin note" >&2; exit 1
fi
echo "plugin notes: in each plugin, not in libstrata.so"

echo "== building the fixture plugins"
for source in Tests/fixtures/plugins/*.c; do
    name="$(basename "$source" .c)"
    "$CC" -std=c11 -O2 -shared -fPIC -fvisibility=hidden "${WARN[@]}" -I include "$source" -o "$OUT/$name.so"
done

echo "== building the C tests"
# The one table of bad inputs, Tests/bad_inputs.json, in the form test_bad_inputs.c includes.
python3 Tests/c/bad_inputs.py Tests/bad_inputs.json > "$OUT/bad_inputs_table.h"
"$CC" -std=c11 "${WARN[@]}" -g -pthread -I include -I "$OUT" Tests/c/*.c \
    -L "$LIB_DIR" -lstrata -Wl,-rpath,"$LIB_DIR" -lm -o "$OUT/strata_c_tests"

echo "== building the quickstart and the kernel example"
"$CC" -std=c11 "${WARN[@]}" -I include examples/c/quickstart.c \
    -L "$LIB_DIR" -lstrata -Wl,-rpath,"$LIB_DIR" -o "$OUT/quickstart"
"$CC" -std=c11 "${WARN[@]}" -I include examples/c/kernel.c \
    -L "$LIB_DIR" -lstrata -Wl,-rpath,"$LIB_DIR" -lm -o "$OUT/kernel_example"
"$CC" -std=c11 "${WARN[@]}" -I include Tests/c/standalone/kernel_allocations.c \
    -L "$LIB_DIR" -lstrata -Wl,-rpath,"$LIB_DIR" -o "$OUT/kernel_allocations"
"$CC" -std=c11 "${WARN[@]}" -I include Tests/c/standalone/minilm_allocations.c -ldl -o "$OUT/minilm_allocations"

echo "== running the C tests"
status=0
log="$OUT/strata_c_tests.log"
"$OUT/strata_c_tests" --plugins "$OUT" "$@" 2>&1 | tee "$log" || status=$?
summary="$(tail -n 1 "$log")"
if [[ ! "$summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    echo "run.sh: the tests did not finish (last line: \"$summary\", exit $status)" >&2
    exit 1
fi
if [[ "${BASH_REMATCH[2]}" != 0 || $status -ne 0 ]]; then
    echo "run.sh: C tests failed: $summary" >&2
    exit 1
fi

if [[ "${STRATA_C_VALGRIND:-0}" == 1 ]]; then
    echo "== running the C tests under valgrind"
    # Only "definitely lost" counts as an error: the Swift runtime keeps metadata caches
    # ("possibly lost" / "still reachable") for the life of the process.
    valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 \
        "$OUT/strata_c_tests" --plugins "$OUT" "$@"
fi

echo "== running the quickstart"
"$OUT/quickstart"
echo "== running the kernel example"
"$OUT/kernel_example"
echo "== checking that kernel steps allocate nothing once warm"
OPENBLAS_NUM_THREADS=1 "$OUT/kernel_allocations"
echo "== checking that minilm embed calls allocate nothing once warm"
"$OUT/minilm_allocations" "$LIB_DIR/libstrata-minilm.so" \
    "${STRATA_MINILM_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/strata/models/all-MiniLM-L6-v2}"

echo "== C side: all good ($summary)"
