#!/usr/bin/env bash
# `cltrain check --quick` under Oclgrind (CTest: check_oclgrind_quick and
# check_oclgrind_uninitialized). Fails when a check fails or when Oclgrind reports anything:
# an out-of-bounds access, a data race, an API error, and with --uninitialized a read of
# memory nobody wrote (its reports go to OCLGRIND_LOG; its stderr is scanned too).
#   tests/check/oclgrind.sh [--uninitialized] CLTRAIN [more cltrain check arguments]
# Oclgrind is not registered with the ICD loader by default: a private vendors folder with
# one .icd file makes it the only platform. --uninitialized judges every row but train/*:
# Oclgrind 21.10 takes a buffer the host wrote in part (a sub-buffer of an arena, a short
# batch) for uninitialised outside that part, so the training rows cannot be judged there
# (docs/PORTABILITY.md).
set -uo pipefail
uninitialized=
if [[ ${1:-} == --uninitialized ]]; then
  uninitialized=1
  shift
fi
cltrain=$1
shift
lib=${OCLGRIND_ICD_LIBRARY:-/usr/lib/oclgrind/liboclgrind-rt-icd.so}
if [[ ! -e $lib ]]; then
  echo "check_oclgrind: $lib not found (apt-get install oclgrind): skipping"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/vendors"
echo "$lib" >"$dir/vendors/oclgrind.icd"
export OCL_ICD_VENDORS=$dir/vendors OCL_ICD_FILENAMES=
export OCLGRIND_DATA_RACES=1 OCLGRIND_CHECK_API=1 OCLGRIND_LOG=$dir/oclgrind.log
unset OCLGRIND_UNINITIALIZED OCLGRIND_QUICK
# GEMM kernels chosen without timing (the same every run, whatever the cache holds): the
# engine's default variant (the gemm rows run every variant besides).
export CLTRAIN_GEMM=default
if [[ -n $uninitialized ]]; then export OCLGRIND_UNINITIALIZED=1; fi

start=$(date +%s%N)
"$cltrain" check --device oclgrind --quick "$@" 2>"$dir/stderr"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "check_oclgrind: cltrain check exited with $rc after $((ms / 1000)).$(printf %03d $((ms % 1000))) s"
status=0
if [[ -s $dir/oclgrind.log ]]; then
  echo "check_oclgrind: FAIL: Oclgrind reported errors:"
  head -n 200 "$dir/oclgrind.log"
  status=1
fi
# Oclgrind writes to stderr too when the log cannot be opened; anything of its shape fails.
if grep -Eqi 'invalid (read|write)|data race|uninitiali[sz]ed|oclgrind|out of bounds|error' \
  "$dir/stderr"; then
  echo "check_oclgrind: FAIL: Oclgrind or cltrain reported errors on stderr:"
  status=1
fi
cat "$dir/stderr"
if ((rc != 0)); then
  echo "check_oclgrind: FAIL: cltrain check exited with $rc"
  # 69: no device matched (Oclgrind's ICD did not load): a set-up problem, not a pass.
  status=1
fi
exit $status
