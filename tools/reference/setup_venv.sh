#!/usr/bin/env bash
# Builds (once) the pinned Python virtual environment of the reference toolchain, outside the
# clone (DESIGN.md §8): ~/.cache/tuna/reference/venv. Idempotent: reinstalls only when
# requirements.txt changed. Building or testing tuna never needs it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="${TUNA_REFERENCE_HOME:-$HOME/.cache/tuna/reference}"
venv="$root/venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$venv"; exit 0
fi
mkdir -p "$root"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip >&2
PIP_CACHE_DIR="$root/pip-cache" "$venv/bin/pip" install -q -r "$here/requirements.txt" >&2
echo "$want" > "$stamp"
echo "$venv"
