#!/usr/bin/env bash
# Sets up (tools/setup.sh) and runs the whole test suite on the CPU OpenCL
# devices: PoCL, and Mesa rusticl for the *_rusticl copies of the device tests.
# Under CI (CI=true) a skipped test fails the run: CI installs every device,
# so a skip there means the set-up is broken.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
export RUSTICL_ENABLE=${RUSTICL_ENABLE:-llvmpipe}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
ctest --test-dir build --output-on-failure "$@" 2>&1 | tee "$log" || status=$?
if [[ "${CI:-}" == "true" ]] && grep -q '\*\*\*Skipped\|Not Run' "$log"; then
  echo "test.sh: a test was skipped under CI: the OpenCL devices are not set up" >&2
  exit 1
fi
exit "$status"
