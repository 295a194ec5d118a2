#!/usr/bin/env bash
# `make compare`: ConvEngine and PyTorch on the same layers, back to back in one invocation.
#
#   bash Benchmarks/compare.sh [convbench options...]     (make compare BENCH_ARGS="...")
#
# 1. runs the already-built .build/release/convbench with the given options, writing its JSON to a
#    temporary file (its own table is printed too);
# 2. runs Benchmarks/compare.py on that JSON (same layers, batch and thread counts, Float32) under
#    GLIBC_TUNABLES that keep freed memory mapped, so that PyTorch does not pay page faults on every call;
# 3. compare.py prints the merged table: ConvEngine ms, PyTorch ms, their ratio, geometric means.
#
# Python: $PYTHON if set, else /work/venv-torch/bin/python if present, else python3. Without an importable
# torch it says how to install it and exits 2. Exits non-zero if either side fails (a verification FAIL of
# ConvEngine included), after printing what it has.
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=${CONVBENCH:-${SCRATCH:-.build}/release/convbench}
if [[ -n "${PYTHON:-}" ]]; then
    PY=$PYTHON
elif [[ -x /work/venv-torch/bin/python ]]; then
    PY=/work/venv-torch/bin/python
else
    PY=python3
fi

if ! "$PY" -c 'import torch' 2>/dev/null; then
    cat >&2 <<MSG
compare: PyTorch is not importable with '$PY', so there is nothing to compare with.
Install the CPU build in a virtual environment and point PYTHON at it, for example:
    python3 -m venv ~/venv-torch
    ~/venv-torch/bin/pip install 'torch==2.13.0+cpu'
    PYTHON=~/venv-torch/bin/python make compare
MSG
    exit 2
fi
if [[ ! -x "$BIN" ]]; then
    echo "compare: $BIN not found; build it with: swift build -c release --product convbench (make compare does)" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/convbench-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s)
echo "==> ConvEngine: $BIN $*"
"$BIN" --json "$tmp/convengine.json" "$@"
engine_rc=$?
engine_end=$(date +%s)
if [[ ! -s "$tmp/convengine.json" ]]; then
    echo "compare: convbench exited $engine_rc without writing its JSON" >&2
    exit $(( engine_rc == 0 ? 1 : engine_rc ))
fi

echo
echo "==> PyTorch: $PY Benchmarks/compare.py (GLIBC_TUNABLES set)"
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295 \
    "$PY" Benchmarks/compare.py "$tmp/convengine.json" ${COMPARE_OUT:+--out "$COMPARE_OUT"}
torch_rc=$?
end=$(date +%s)
echo
echo "==> compare: ConvEngine $((engine_end - start)) s, PyTorch $((end - engine_end)) s, total $((end - start)) s"

if (( engine_rc != 0 )); then
    echo "compare: convbench exited $engine_rc (see FAIL rows above)" >&2
    exit "$engine_rc"
fi
exit "$torch_rc"
