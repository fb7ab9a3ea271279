#!/usr/bin/env bash
# Regenerates every reference golden (DESIGN.md §4): builds/reuses the pinned venv
# (~/.cache/tuna/reference/venv, see setup_venv.sh), then runs the generators with its python.
# Usage: tools/reference/regenerate.sh [make_goldens.py arguments, e.g. --only gemma3]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$("$here/setup_venv.sh")"
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 CUDA_VISIBLE_DEVICES=""
exec "$venv/bin/python" "$here/make_goldens.py" "$@"
