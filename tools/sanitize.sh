#!/usr/bin/env bash
# The sanitizer suite: the whole test suite (every CTest test: PoCL, rusticl, Oclgrind and
# the fuzz-harness replays included) built with AddressSanitizer and
# UndefinedBehaviorSanitizer in ./build-asan. Any sanitizer report fails its test.
#   tools/sanitize.sh [ctest arguments]       (tools/test.sh --all runs it after the suite)
# Leaks inside the OpenCL drivers and the ICD loader are suppressed by
# tests/sanitizers/lsan.supp; none in cltrain code is.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLT_ASAN=ON -DCLT_UBSAN=ON >/dev/null
cmake --build build-asan -j"$(nproc)" >/dev/null

# halt_on_error: the first report ends the test (and fails it). intercept_tls_get_addr=0:
# without it GCC 12's LeakSanitizer crashes at exit ("Tracer caught signal 11") on a
# dynamic-TLS block of PoCL/LLVM whose recorded range is garbage (0x571-0x800001673); not
# tracking dynamic TLS only means such blocks are not scanned for pointers.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:intercept_tls_get_addr=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export RUSTICL_ENABLE=${RUSTICL_ENABLE:-llvmpipe}

# Mesa's Clover (mesa.icd, libMesaOpenCL) has no device here and leaks 128 bytes while the
# ICD loader opens it; the fast unwinder stops inside a library without frame pointers, so
# LeakSanitizer names no module and no suppression can match. The suite sees every other
# vendor (OCL_ICD_VENDORS: a folder of their .icd files; clinfo reads the same).
vendors=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$log" "$vendors"' EXIT
for icd in /etc/OpenCL/vendors/*.icd; do
  [[ -e $icd && $(basename "$icd") != mesa.icd ]] && cp "$icd" "$vendors/"
done
export OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-$vendors}
status=0
ctest --test-dir build-asan --output-on-failure -j"${CTEST_PARALLEL_LEVEL:-2}" "$@" 2>&1 |
  tee "$log" || status=$?
if [[ "${CI:-}" == "true" ]] && grep -q '\*\*\*Skipped\|Not Run' "$log"; then
  echo "sanitize.sh: a test was skipped under CI: the OpenCL devices are not set up" >&2
  exit 1
fi
exit "$status"
