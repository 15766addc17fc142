#!/bin/bash
# The installed library as a user meets it: cmake --install into a temporary prefix, then
#  - examples/train_mnist.c compiled there with only pkg-config (C11, -Wall -Wextra -Werror)
#    and run: the loss falls and five predictions are printed;
#  - the public headers compiled as C++;
#  - libcltrain.so exports exactly the functions the headers declare (CLT_API);
#  - a CMake project finds it with find_package(cltrain) and links cltrain::cltrain;
#  - the installed cltrain finds a model by bare name from an empty folder.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() {
  echo "install_test: $*" >&2
  exit 1
}

cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name cltrain.pc | head -1)
[ -n "$pc" ] || fail "no cltrain.pc installed"
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir cltrain)
[ -e "$libdir/libcltrain.a" ] || fail "no libcltrain.a in $libdir"
soname=$(objdump -p "$libdir/libcltrain.so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libcltrain.so.0" ] || fail "SONAME is '$soname', not libcltrain.so.0"

# A library built with the sanitizers (tools/sanitize.sh: CLT_ASAN, CLT_UBSAN) needs programs
# built with them too: ASan's runtime must come first among the libraries.
san=()
grep -q '^CLT_ASAN:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null && san+=(-fsanitize=address)
grep -q '^CLT_UBSAN:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null && san+=(-fsanitize=undefined)

# The example, against the installed copy alone.
cc -std=c11 -Wall -Wextra -Werror "${san[@]}" "$src/examples/train_mnist.c" \
  $(pkg-config --cflags --libs cltrain) -o "$work/train_mnist"
LD_LIBRARY_PATH=$libdir "$work/train_mnist" >"$work/out.txt" || {
  cat "$work/out.txt"
  fail "train_mnist failed"
}
cat "$work/out.txt"
first=$(awk '/: loss/ {print $NF; exit}' "$work/out.txt")
last=$(awk '/: loss/ {v = $NF} END {print v}' "$work/out.txt")
awk -v a="$first" -v b="$last" 'BEGIN {exit !(b < a)}' || fail "the loss did not fall ($first -> $last)"
[ "$(grep -c '^image [0-9]: predicted' "$work/out.txt")" = 5 ] || fail "not five predictions"

# The headers as C++.
printf '#include <cltrain/cltrain.h>\nint main() { clt_config c; clt_config_init(&c); return c.kernel_cache ? 0 : 1; }\n' \
  >"$work/headers.cpp"
g++ -std=c++11 -Wall -Wextra -Werror -pedantic $(pkg-config --cflags cltrain) -c "$work/headers.cpp" \
  -o "$work/headers.o"

# Exported symbols = the documented API.
grep -ho 'CLT_API[^(]*(' "$prefix"/include/cltrain/*.h | grep -o 'clt_[a-z_0-9]*($' | tr -d '(' |
  sort >"$work/declared"
nm -D --defined-only "$libdir/libcltrain.so" | awk '{print $3}' | sort >"$work/exported"
diff "$work/declared" "$work/exported" || fail "libcltrain.so exports other symbols than the API"

# find_package(cltrain).
mkdir "$work/cmake"
cat >"$work/cmake/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(uses_cltrain C)
find_package(cltrain 0.1 REQUIRED)
add_executable(train_mnist train_mnist.c)
target_link_libraries(train_mnist PRIVATE cltrain::cltrain)
CMAKE
cp "$src/examples/train_mnist.c" "$work/cmake/"
cmake -S "$work/cmake" -B "$work/cmake/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="${san[*]}" >/dev/null
cmake --build "$work/cmake/build" >/dev/null || fail "find_package(cltrain) project did not build"

# The installed command finds models by name from an empty folder.
mkdir "$work/empty"
(cd "$work/empty" && "$prefix/bin/cltrain" bench fashion_cnn --batch 8 --steps 1 --windows 1 \
  --no-startup --train-only >"$work/bench.txt") || {
  cat "$work/bench.txt"
  fail "cltrain bench fashion_cnn failed from an empty folder"
}
echo "install_test: all checks passed"
