#!/usr/bin/env bash
# Builds everything (libtuna, the CLI, every test binary, the fuzz replay drivers) with
# AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ (-DTUNA_SANITIZE=ON) and runs the
# test suite under it at the lowest priority; it does not touch build/. Extra arguments go to
# ctest (e.g. `scripts/sanitize.sh -R 'test_core|test_io'` for a subset). Summary on the last line.
# JOBS (default 2) sets the build and ctest parallelism; TUNA_ASAN_BUILD the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TUNA_ASAN_BUILD:-build-asan}
jobs=${JOBS:-2}
start=$(date +%s)

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
[ -f models/gemma-3-270m-q4_k_m.gguf ] || scripts/fetch_model.sh
nice -n 19 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTUNA_SANITIZE=ON \
  -DTUNA_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
nice -n 19 ninja -C "$build" -j"$jobs"
built=$(date +%s)

# Every finding ends the process (abort / non-zero exit), so it fails its test; the CLI tests run
# the sanitized tuna binary, which inherits these settings. No suppressions are needed
# (docs/reliability.md); the tests add allocator_may_return_null=1 (tests/CMakeLists.txt).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export OMP_WAIT_POLICY=passive
log="$build/sanitize-ctest.log"
status=0
nice -n 19 ctest --test-dir "$build" -j"$jobs" --output-on-failure "$@" 2>&1 | tee "$log" ||
  status=$?
end=$(date +%s)
summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log" | tail -1 || true)
echo "sanitize: ${summary:-no ctest summary} (ASan+UBSan; build $((built - start)) s," \
  "tests $((end - built)) s, total $((end - start)) s)"
exit "$status"
