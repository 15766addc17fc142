#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_NAME.c, with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) into build-fuzz and runs each for SECONDS (default 60) on a
# scratch copy of its seed corpus tests/fuzz/corpus/NAME (the checked-in corpus never grows),
# with tests/fuzz/NAME.dict when there is one. Prints one row per harness: executions,
# executions per second, corpus size before and after, crashes.
#   tools/fuzz.sh [SECONDS] [NAME...]
# A crash, leak, timeout, out-of-memory or sanitizer report fails the run; its input is kept
# in out/fuzz/NAME/ with the log. Turn each into a regression input (tests/fuzz/README.md).
# FUZZ_JOBS harnesses run at a time (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang is missing: apt-get install clang (tools/setup.sh installs it)" >&2
  exit 1
fi
if (($#)); then
  names=("$@")
else
  names=()
  for f in tests/fuzz/fuzz_*.c; do
    n=${f##*/fuzz_}
    names+=("${n%.c}")
  done
fi
jobs=${FUZZ_JOBS:-$(nproc)}

t0=$SECONDS
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLT_FUZZ=ON \
  -DCLT_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_all >/dev/null
echo "fuzz.sh: built ${#names[@]} harnesses in $((SECONDS - t0)) s; running each for $seconds s, $jobs at a time"

results=out/fuzz
rm -rf "$results"
mkdir -p "$results"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# halt_on_error and no recovery: the first report stops the harness and keeps the input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

run_one() {
  local name=$1 dict=()
  mkdir -p "$scratch/$name" "$results/$name"
  if [[ -d tests/fuzz/corpus/$name ]]; then cp -r "tests/fuzz/corpus/$name/." "$scratch/$name/"; fi
  ls "$scratch/$name" | wc -l >"$results/$name/seeds"
  [[ -f tests/fuzz/$name.dict ]] && dict=("-dict=tests/fuzz/$name.dict")
  local rc=0
  "build-fuzz/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=25 -rss_limit_mb=2048 -artifact_prefix="$results/$name/" "${dict[@]}" \
    "$scratch/$name" >"$results/$name/log" 2>&1 || rc=$?
  echo "$rc" >"$results/$name/rc"
  ls "$scratch/$name" | wc -l >"$results/$name/corpus"
}

running=0
for name in "${names[@]}"; do
  if [[ ! -x build-fuzz/tests/fuzz/fuzz_$name ]]; then
    echo "fuzz.sh: no harness fuzz_$name" >&2
    exit 1
  fi
  run_one "$name" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
done
wait

status=0
printf '%-14s %12s %9s %15s %8s\n' harness executions exec/s "corpus (seeds)" crashes
for name in "${names[@]}"; do
  log=$results/$name/log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$(find "$results/$name" -maxdepth 1 -type f \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  reports=$(grep -c 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:\|invariant broken' "$log" || true)
  rc=$(cat "$results/$name/rc")
  printf '%-14s %12s %9s %15s %8s\n' "$name" "${execs:-?}" "${rate:-?}" \
    "$(cat "$results/$name/corpus") ($(cat "$results/$name/seeds"))" "$crashes"
  if [[ "$rc" != 0 || "$crashes" != 0 || "$reports" != 0 ]]; then
    status=1
    echo "fuzz.sh: fuzz_$name failed (exit $rc): see $log and the inputs in $results/$name/" >&2
    grep -m5 'ERROR: \|runtime error:\|invariant broken\|SUMMARY' "$log" | sed 's/^/    /' >&2 || true
  fi
done
echo "fuzz.sh: $((SECONDS - t0)) s in all"
exit "$status"
