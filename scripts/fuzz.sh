#!/usr/bin/env bash
# Builds tuna's libFuzzer targets (fuzz/, clang with ASan + UBSan) and runs a campaign on each:
# N executions on a working corpus seeded from fuzz/corpus/<name>/, with the target's dictionary
# (fuzz/dict/<name>.dict), then minimises fuzz/corpus/<name>/ (-merge=1 by edge coverage) and
# prints per target: executions, exec/s, crashes, corpus size. One fuzzing process at a time,
# under `nice -n 19`. Not here: the CTest replays of the corpora (fuzz/CMakeLists.txt).
#
# The minimised corpus: the named files of fuzz/corpus/<name>/ (seeds, crash reproducers) stay;
# the files libFuzzer named by their SHA-1 are replaced by the fewest inputs of the old corpus and
# the working corpus that reach every edge the named files do not (-use_counters=0: edges, not hit
# counts, so the committed corpus stays a few hundred files).
#
#   scripts/fuzz.sh [--runs N] [--max-time S] [--timeout S] [--build-dir DIR] [--no-merge]
#                   [--merge-only] [--build-only] [-j N] [TARGET...]
#
# --runs N       executions per target (default 10000000)
# --max-time S   stop a target after S seconds even if N is not reached (default: no cap)
# --timeout S    an input running longer than S seconds is a hang: artifact, stop (default 60;
#                raise it on a loaded machine, where nice 19 can stretch a 7 s ASan unit past 60)
# --build-dir    the clang build (default build-fuzz); configured here when it has no cache
# --no-merge     leave fuzz/corpus/ unchanged
# --merge-only   only minimise fuzz/corpus/<name>/ with what the working corpus holds (no fuzzing)
# --build-only   install clang, configure and build; run nothing
# -j N           build jobs (default 2)
# TARGET         fuzz_safetensors, fuzz_gguf, ... or their corpus names (gguf); default all,
#                the fast ones first
#
# Working corpora, crash artifacts, logs and a running total of executions per target stay in
# <build-dir>/fuzz-work/<name>/ (so a later run continues the campaign). A crash stops that
# target's run; the input is in <build-dir>/fuzz-work/<name>/artifacts/ (reproduce it with
# `<build-dir>/bin/<target> FILE`; minimise it with `-minimize_crash=1 -runs=100000 FILE`).
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(fuzz_adapter_config fuzz_safetensors fuzz_train_config fuzz_data_rows
  fuzz_tokenizer fuzz_tokenizer_text fuzz_gguf fuzz_chat_template)
runs=10000000
max_time=0
unit_timeout=60
build_dir=build-fuzz
merge=1
merge_only=0
build_only=0
jobs=2
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --max-time) max_time="$2"; shift 2 ;;
    --timeout) unit_timeout="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-merge) merge=0; shift ;;
    --merge-only) merge_only=1; shift ;;
    --build-only) build_only=1; shift ;;
    -j) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("fuzz_${1#fuzz_}"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  [ -f "fuzz/$t.cpp" ] || { echo "fuzz.sh: no target $t (fuzz/$t.cpp)" >&2; exit 2; }
done

# clang with libFuzzer (Debian/Ubuntu's clang package ships it).
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz.sh: installing clang"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang
fi
probe=$(mktemp -d)
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  > "$probe/p.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2>"$probe/err"; then
  cat "$probe/err" >&2
  echo "fuzz.sh: clang++ cannot link libFuzzer (install the clang runtime, e.g. libclang-rt-dev)" >&2
  rm -rf "$probe"
  exit 1
fi
rm -rf "$probe"

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  launcher=()
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  generator=()
  command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DTUNA_FUZZ=ON "${launcher[@]}"
fi
nice -n 19 cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}"
[ "$build_only" -eq 0 ] || exit 0

# Targets that read paths (fuzz_data_rows) write their input to a file per execution: on tmpfs
# that costs no disk I/O.
fuzz_tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && fuzz_tmp=/dev/shm

# ASan's defaults let a long campaign's memory grow without bound in a target with deep,
# input-dependent recursion (fuzz_train_config: 1.6 GB after 2 M executions, while the same code
# without ASan stays at 6 MB): every distinct allocation stack is kept for good, plus a 256 MB
# quarantine. Shorter recorded stacks and a smaller quarantine keep it flat; a caller's own
# ASAN_OPTIONS wins.
export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=8:quarantine_size_mb=32}"

summary=()
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  work="$build_dir/fuzz-work/$name"
  mkdir -p "$work/corpus" "$work/artifacts" "fuzz/corpus/$name"
  cp -n "fuzz/corpus/$name/"* "$work/corpus/" 2>/dev/null || true
  args=(-runs="$runs" -print_final_stats=1 -timeout="$unit_timeout" -rss_limit_mb=4096
    -artifact_prefix="$work/artifacts/")
  [ "$max_time" -gt 0 ] && args+=(-max_total_time="$max_time")
  [ -f "fuzz/dict/$name.dict" ] && args+=(-dict="fuzz/dict/$name.dict")
  # Text through three tokenizers (with a streaming decode): tokenizer bugs show in short texts.
  [ "$name" = tokenizer_text ] && args+=(-max_len=512)
  rc=0 secs=0 execs=0 rate=0
  if [ "$merge_only" -eq 0 ]; then
    echo "== $t: ${args[*]} $work/corpus (log: $work/fuzz.log)"
    start=$(date +%s)
    set +e
    TMPDIR="$fuzz_tmp" nice -n 19 "$build_dir/bin/$t" "${args[@]}" "$work/corpus" \
      >"$work/fuzz.log" 2>&1
    rc=$?
    set -e
    secs=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
    execs=${execs:-0}
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -1)
    rate=${rate:-0}
  fi
  total=$(( $(cat "$work/total_execs" 2>/dev/null || echo 0) + execs ))
  echo "$total" > "$work/total_execs"
  crashes=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | wc -l)
  if [ "$rc" -ne 0 ]; then
    echo "!! $t exited $rc after $execs executions; see $work/fuzz.log and $work/artifacts/"
    grep -m3 -E 'ERROR|BUG|SUMMARY|deadly signal' "$work/fuzz.log" || true
  fi
  if [ "$merge" -eq 1 ]; then
    merged="$work/merged"
    rm -rf "$merged"
    mkdir -p "$merged"
    find "fuzz/corpus/$name" -maxdepth 1 -type f -regextype posix-extended \
      ! -regex '.*/[0-9a-f]{40}' -exec cp {} "$merged/" \;
    if nice -n 19 "$build_dir/bin/$t" -merge=1 -use_counters=0 -timeout=60 -rss_limit_mb=4096 \
      -artifact_prefix="$work/artifacts/" "$merged" "fuzz/corpus/$name" "$work/corpus" \
      >"$work/merge.log" 2>&1; then
      find "fuzz/corpus/$name" -maxdepth 1 -type f -regextype posix-extended \
        -regex '.*/[0-9a-f]{40}' -delete
      find "$merged" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' \
        -exec cp {} "fuzz/corpus/$name/" \;
    else
      echo "!! $t: merge failed, see $work/merge.log"
    fi
  fi
  files=$(find "fuzz/corpus/$name" -type f | wc -l)
  kib=$(du -sk --apparent-size "fuzz/corpus/$name" | cut -f1)
  summary+=("$(printf '%-20s %12s %12s %9s %7s %5s %8s %7s' "$t" "$execs" "$total" "$rate" "${secs}s" \
    "$crashes" "$files" "${kib}K")")
done

echo
printf '%-20s %12s %12s %9s %7s %5s %8s %7s\n' target executions total exec/s time crash \
  corpus size
for line in "${summary[@]}"; do echo "$line"; done
