#!/usr/bin/env bash
# Sets up (tools/setup.sh) and runs the whole test suite on the CPU OpenCL
# devices (PoCL; rusticl with RUSTICL_ENABLE=llvmpipe).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
export RUSTICL_ENABLE=${RUSTICL_ENABLE:-llvmpipe}
ctest --test-dir build --output-on-failure "$@"
