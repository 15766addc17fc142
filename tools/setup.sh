#!/usr/bin/env bash
# Installs every Debian package cltrain needs (only those missing), then
# configures and builds into ./build. Run as root on Debian 12.
#   tools/setup.sh [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake make gcc pkg-config         # build tools
  g++ binutils                      # the install test: headers as C++, nm and objdump
  ocl-icd-opencl-dev opencl-headers # OpenCL ICD loader and headers
  libclblast-dev                    # GEMM
  libopenblas-dev                   # build/gemm-bench: OpenBLAS's SGEMM beside the engine's
  clinfo                            # device listing (tests compare with it)
  libcmocka-dev                     # tests
  zlib1g-dev                        # gzip data, CRC32
  libcjson-dev                      # --json output
  libxxhash-dev                     # program-cache keys
  libpng-dev libjpeg62-turbo-dev    # image folders, predict on PNG/JPEG
  pocl-opencl-icd                   # OpenCL on the CPU (tests, CI)
  mesa-opencl-icd                   # rusticl: a second implementation
  oclgrind                          # a third: the simulator that finds races
  openmpi-bin libopenmpi-dev        # mpirun: several processes and machines (docs/SCALING.md)
  dataset-fashion-mnist             # the default data set
  python3-matplotlib                # tools/plot-log (training curves)
  clang libclang-rt-14-dev          # tools/fuzz.sh: libFuzzer and clang's sanitizer runtimes
  libprotobuf-c-dev protobuf-c-compiler # cltrain export: ONNX protobuf code, made at build time
  python3-onnx                      # ... from its onnx.proto; onnx.checker in the export test
  python3-venv                      # tools/setup-onnx-venv: ONNX Runtime for the export test
)
# tools/bench-vs-pytorch installs these itself when run (CI does not need them):
#   python3-torch libopenblas0-pthread

missing=()
for p in "${packages[@]}"; do
  [[ "$p" == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ONNX Runtime from PyPI in a venv (~/.cache/cltrain/onnx-venv) for the export test. Only that
# test needs it: a failure (no network) does not stop the build, and under CI the test's skip
# fails the run (tools/test.sh).
tools/setup-onnx-venv || echo "setup: the ONNX Runtime venv could not be made; the ONNX export test will skip" >&2

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j"$(nproc)"
