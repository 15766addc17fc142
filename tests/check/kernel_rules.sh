#!/usr/bin/env bash
# The portability rules of docs/PORTABILITY.md that a text search can enforce (CTest:
# check_kernel_rules), on cl/*.cl and cl/*.clh with comments removed: no double (rusticl's
# llvmpipe and many GPUs have no fp64), no half, no atomics, no #pragma OPENCL EXTENSION
# and no cl_khr_/cl_ext_ names (an extension needs a query and a fallback first), no
# OpenCL C 2.0 address spaces or pipes. The index-guard rule (launches round the global
# size up) is checked where a text search cannot: `cltrain check` puts sentinels past the
# end of every output buffer, and Oclgrind (check_oclgrind_quick) reports any read past
# the end of an input.
#   tests/check/kernel_rules.sh CL_DIR
set -uo pipefail
cl=$1
shopt -s nullglob
status=0
for f in "$cl"/*.cl "$cl"/*.clh; do
  # Comments out, preprocessor directives kept (gcc reads the C-like syntax fine).
  text=$(gcc -fpreprocessed -dD -E -P -x c "$f" 2>/dev/null) || {
    echo "kernel_rules: cannot read $f"
    status=1
    continue
  }
  if hits=$(grep -nE '\b(double[0-9]*|half[0-9]*)\b|\b(atomic_[a-z_]+|atom_[a-z]+)\s*\(|#pragma +OPENCL +EXTENSION|\bcl_(khr|ext|amd|nv|intel|arm)_[a-z0-9_]+|\b(__generic|generic|pipe)\b' <<<"$text"); then
    echo "kernel_rules: $f breaks a portability rule:"
    echo "$hits"
    status=1
  fi
done
((status == 0)) && echo "kernel_rules: ok ($(ls "$cl"/*.cl | wc -l) kernel files)"
exit $status
