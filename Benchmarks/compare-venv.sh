#!/usr/bin/env bash
# The Python that `make compare` runs PyTorch with: prints its path on stdout (everything else on stderr).
#
#   PY=$(bash Benchmarks/compare-venv.sh) || exit
#
# - $PYTHON, if set, is used as it is: it must import torch (exit 2 otherwise; nothing is installed into it).
# - Otherwise the repository's own virtual environment, .venv-compare/ ($COMPARE_VENV to put it elsewhere;
#   ignored by git), made on first use with `python3 -m venv` ($PYTHON3 to use another interpreter) and
#   reused while its Python imports torch. Into it goes PyTorch's CPU build, trying in turn:
#     1. torch==2.13.0+cpu, the build behind the published numbers, from pip's configured sources
#        (a find-links folder or an index that has it);
#     2. the same from PyTorch's CPU-only wheel index (short timeout: it may be unreachable);
#     3. plain torch==2.13.0 from the default index (on Linux that may be the larger CUDA build, which runs
#        on the CPU just the same).
#   and numpy (compare.py does not use it, but torch warns on import without it). It prints which torch it
#   got and how long the setup took.
set -uo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.13.0
CPU_INDEX=https://download.pytorch.org/whl/cpu

if [[ -n "${PYTHON:-}" ]]; then
    if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
        echo "compare: PYTHON=$PYTHON cannot import torch; unset PYTHON to let make compare set up .venv-compare," \
             "or install torch into that Python" >&2
        exit 2
    fi
    echo "$PYTHON"
    exit 0
fi

VENV=${COMPARE_VENV:-.venv-compare}
PY=$VENV/bin/python
if [[ -x "$PY" ]] && "$PY" -c 'import numpy, torch' 2>/dev/null; then
    echo "$PY"
    exit 0
fi

start=$(date +%s)
if [[ ! -x "$PY" ]]; then
    echo "compare: creating the virtual environment $VENV (once; later runs reuse it)" >&2
    if ! "${PYTHON3:-python3}" -m venv "$VENV" >&2; then
        echo "compare: '${PYTHON3:-python3} -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)," \
             "or set PYTHON to a Python that has torch" >&2
        rm -rf "$VENV"
        exit 2
    fi
fi

pip_install() { "$PY" -m pip install --disable-pip-version-check "$@" >&2; }

echo "compare: installing PyTorch's CPU build into $VENV" >&2
if pip_install "torch==$TORCH_VERSION+cpu" numpy; then
    source="torch==$TORCH_VERSION+cpu from pip's configured sources"
elif echo "compare: trying PyTorch's CPU wheel index $CPU_INDEX" >&2 &&
     pip_install --timeout 20 --retries 1 --extra-index-url "$CPU_INDEX" "torch==$TORCH_VERSION+cpu" numpy; then
    source="torch==$TORCH_VERSION+cpu from $CPU_INDEX"
elif echo "compare: trying plain torch==$TORCH_VERSION" >&2 && pip_install "torch==$TORCH_VERSION" numpy; then
    source="torch==$TORCH_VERSION from the default index (not the +cpu build the published numbers use)"
else
    echo "compare: could not install torch into $VENV (see pip's messages above); set PYTHON to a Python" \
         "that has torch, or fix the network and run make compare again" >&2
    exit 2
fi
if ! version=$("$PY" -c 'import numpy, torch; print(torch.__version__)' 2>&1); then
    echo "compare: torch was installed but does not import: $version" >&2
    exit 2
fi
echo "compare: $VENV ready in $(( $(date +%s) - start )) s: torch $version ($source)" >&2
echo "$PY"
