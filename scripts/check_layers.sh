#!/usr/bin/env bash
# Fails when an #include in src/<layer>/ points to a layer above it (cmake/check_includes.cmake;
# the layer list is cmake/layers.cmake). The same check runs as the CTest test check_layers.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec cmake -DTUNA_SOURCE_DIR="$root" -P "$root/cmake/check_includes.cmake"
