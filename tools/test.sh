#!/usr/bin/env bash
# Sets up (tools/setup.sh) and runs the whole test suite on the CPU OpenCL
# devices: PoCL, and Mesa rusticl for the *_rusticl copies of the device tests.
# Under CI (CI=true) a skipped test fails the run: CI installs every device,
# so a skip there means the set-up is broken.
#   tools/test.sh [--all] [ctest arguments]
# --all (always under CI) then runs the hardening checks: the sanitizer suite
# (tools/sanitize.sh) and every fuzz harness for 60 s (tools/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
all=0
if [[ "${1:-}" == "--all" ]]; then
  all=1
  shift
fi
[[ "${CI:-}" == "true" ]] && all=1
t0=$SECONDS
tools/setup.sh
times="setup and build: $((SECONDS - t0)) s"
export RUSTICL_ENABLE=${RUSTICL_ENABLE:-llvmpipe}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
t0=$SECONDS
ctest --test-dir build --output-on-failure --parallel "$(nproc)" "$@" 2>&1 | tee "$log" || status=$?
if [[ "${CI:-}" == "true" ]] && grep -q '\*\*\*Skipped\|Not Run' "$log"; then
  echo "test.sh: a test was skipped under CI: the OpenCL devices are not set up" >&2
  exit 1
fi
times+=$'\n'"test suite: $((SECONDS - t0)) s (exit $status)"
if ((all)); then
  part=0
  t0=$SECONDS
  tools/sanitize.sh || part=$?
  times+=$'\n'"sanitizer suite (build and tests): $((SECONDS - t0)) s (exit $part)"
  ((part)) && status=$part
  part=0
  t0=$SECONDS
  tools/fuzz.sh "${FUZZ_SECONDS:-60}" || part=$?
  times+=$'\n'"fuzzers (build and runs): $((SECONDS - t0)) s (exit $part)"
  ((part)) && status=$part
fi
echo "test.sh: times"
echo "$times" | sed 's/^/  /'
exit "$status"
