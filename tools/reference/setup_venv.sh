#!/usr/bin/env bash
# Builds (once) the pinned Python virtual environment of the reference toolchain, outside the
# clone (DESIGN.md §8): ~/.cache/tuna/reference/venv. Idempotent: reinstalls only when
# requirements.txt changed. Building or testing tuna never needs it.
# --current: the peers' newest releases instead (requirements-current.txt, for speed comparisons:
# bench/*/run.sh with PEER=current) in ~/.cache/tuna/reference/venv-current.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="${TUNA_REFERENCE_HOME:-$HOME/.cache/tuna/reference}"
venv="$root/venv"
req="$here/requirements.txt"
if [[ "${1:-}" == "--current" ]]; then
  venv="$root/venv-current"
  req="$here/requirements-current.txt"
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$venv"; exit 0
fi
mkdir -p "$root"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip >&2
PIP_CACHE_DIR="$root/pip-cache" "$venv/bin/pip" install -q -r "$req" >&2
echo "$want" > "$stamp"
echo "$venv"
