#!/usr/bin/env bash
# `make compare`: ConvEngine and PyTorch on the same layers, back to back in one invocation.
#
#   bash Benchmarks/compare.sh [convbench options...]     (make compare BENCH_ARGS="...")
#
# 0. finds a Python with torch: $PYTHON, or the repository's own .venv-compare/, which
#    Benchmarks/compare-venv.sh creates (and fills with PyTorch's CPU build) the first time;
# 1. runs the already-built .build/release/convbench with the given options, writing its JSON to
#    bench-results/compare-convengine.json, or to the path given with --json (its own table is printed too);
# 2. runs Benchmarks/compare.py on that JSON (same layers, batch and thread counts, Float32) under
#    GLIBC_TUNABLES that keep freed memory mapped, so that PyTorch does not pay page faults on every call;
#    it prints the merged table (ConvEngine ms, PyTorch ms, their ratio, geometric means) and writes the
#    merged rows to bench-results/compare.json ($COMPARE_OUT);
# 3. draws them with .build/release/convchart as bench-results/compare.svg ($COMPARE_CHART).
# Both tables are also saved in bench-results/compare.txt. bench-results/ ($BENCH_OUT) is ignored by git.
#
# Exits 2 if there is no Python with torch (and none could be set up) or a tool is missing; otherwise
# non-zero if either side fails (a verification FAIL of ConvEngine included), after printing what it has.
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=${CONVBENCH:-${SCRATCH:-.build}/release/convbench}
CHART_BIN=${CONVCHART:-${SCRATCH:-.build}/release/convchart}
OUT=${BENCH_OUT:-bench-results}
for tool in "$BIN" "$CHART_BIN"; do
    if [[ ! -x "$tool" ]]; then
        echo "compare: $tool not found; build it with: swift build -c release --product $(basename "$tool")" \
             "(make compare does)" >&2
        exit 2
    fi
done

# convbench's own --json, if given, is the JSON compare.py reads (convbench takes the last --json, so
# adding a second one would silently drop the user's file).
JSON=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
        --json) JSON=${args[i + 1]:-} ;;
        --json=*) JSON=${args[i]#--json=} ;;
        -h | --help) exec "$BIN" --help ;;
    esac
done
mkdir -p "$OUT"
if [[ -z "$JSON" ]]; then
    JSON=$OUT/compare-convengine.json
    args=(--json "$JSON" "${args[@]}")
fi
MERGED=${COMPARE_OUT:-$OUT/compare.json}
SVG=${COMPARE_CHART:-$OUT/compare.svg}
TABLES=$OUT/compare.txt

PY=$(bash Benchmarks/compare-venv.sh) || exit 2

# Never an old file: compare.py must read what this convbench run wrote.
rm -f "$JSON" "$MERGED"
start=$(date +%s)
echo "==> ConvEngine: $BIN ${args[*]}"
"$BIN" "${args[@]}" | tee "$TABLES"
engine_rc=$?
engine_end=$(date +%s)
if [[ ! -s "$JSON" ]]; then
    echo "compare: convbench exited $engine_rc without writing its JSON ($JSON)" >&2
    exit $(( engine_rc == 0 ? 1 : engine_rc ))
fi

echo
echo "==> PyTorch: $PY Benchmarks/compare.py $JSON (GLIBC_TUNABLES set)"
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295 \
    "$PY" Benchmarks/compare.py "$JSON" --out "$MERGED" | tee -a "$TABLES"
torch_rc=$?
end=$(date +%s)
chart_rc=0
if [[ -s "$MERGED" ]]; then
    "$CHART_BIN" "$MERGED" "$SVG"
    chart_rc=$?
fi
echo
echo "==> compare: ConvEngine $((engine_end - start)) s, PyTorch $((end - engine_end)) s, total $((end - start)) s"
echo "==> compare: tables $TABLES, JSON $JSON and $MERGED, chart $SVG"

if (( engine_rc != 0 )); then
    echo "compare: convbench exited $engine_rc (see FAIL rows above)" >&2
    exit "$engine_rc"
fi
(( torch_rc != 0 )) && exit "$torch_rc"
exit "$chart_rc"
