#!/usr/bin/env bash
# The check can fail (CTest: check_wrong_kernel): a copy of cl/ whose relu is wrong (the
# standalone [activation] kernel scales relu's output by 1.01), loaded with --kernel-dir,
# must make exactly the relu rows of the activation layer FAIL with their error and a
# command that repeats them, leave the other activation rows passing, and end with a
# non-zero exit status (82). The --json output must say the same.
#   tests/check/wrong_kernel.sh CLTRAIN CL_DIR [--device SPEC]
set -uo pipefail
cltrain=$1
cl=$2
shift 2
device=(--device "${CLTRAIN_TEST_DEVICE:-portable computing}")
(($#)) && device=("$@")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r "$cl" "$dir/cl"
kernel=$dir/cl/activation.cl
sed -i 's|  y\[i\] = clt_act(act, x\[i\], alpha);|  y[i] = act == CLT_ACT_RELU ? fmax(x[i], 0.0f) * 1.01f : clt_act(act, x[i], alpha);|' \
  "$kernel"
if ! grep -q '1.01f' "$kernel"; then
  echo "wrong_kernel: FAIL: could not break relu in $kernel (has activation_forward changed?)"
  exit 1
fi

fail() {
  echo "wrong_kernel: FAIL: $*"
  echo "---- output ----"
  cat "$dir/out"
  exit 1
}

"$cltrain" check "${device[@]}" --only activation --kernel-dir "$dir/cl" >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
((rc == 69)) && { echo "wrong_kernel: no device: skipping"; exit 77; }
((rc == 82)) || fail "exit status $rc, want 82"
grep -Eq '^activation/relu +FAIL y 0\.01 > 1e-06' "$dir/out" || fail "no failing activation/relu row"
grep -Eq '^activation/relu-wg\+1 +FAIL y' "$dir/out" || fail "no failing activation/relu-wg+1 row"
grep -Eq 'repeat: cltrain check --device [0-9]+:[0-9]+ --only activation/relu --kernel-dir ' \
  "$dir/out" || fail "no repeat command for activation/relu"
for row in linear leaky_relu-0.2 sigmoid tanh-batch1; do
  grep -Eq "^activation/$row +PASS" "$dir/out" || fail "activation/$row did not pass"
done
tail -n 1 "$dir/out" | grep -Eq '^4 passed, 2 failed, 0 skipped$' || fail "wrong summary line"

# The repeat command runs just that row, and fails again.
repeat=$(grep -m1 -Eo 'repeat: cltrain check .* --only activation/relu --kernel-dir .*' "$dir/out")
repeat=${repeat#repeat: cltrain }
eval "set -- $repeat"
"$cltrain" "$@" >"$dir/out" 2>&1
rc=$?
((rc == 82)) || fail "the repeat command exited with $rc, want 82"
tail -n 1 "$dir/out" | grep -Eq '^0 passed, 1 failed, 0 skipped$' || fail "the repeat ran more than one row"

# The same as JSON.
"$cltrain" check "${device[@]}" --only activation/relu --only activation/linear \
  --kernel-dir "$dir/cl" --json >"$dir/out" 2>&1
rc=$?
((rc == 82)) || fail "--json: exit status $rc, want 82"
python3 - "$dir/out" <<'PY' || fail "--json output"
import json, sys
doc = json.load(open(sys.argv[1]))
rows = {c["name"]: c["results"][0] for c in doc["checks"]}
relu, linear = rows["activation/relu"], rows["activation/linear"]
assert relu["status"] == "FAIL" and relu["what"] == "y", relu
assert 0.009 < relu["error"] < 0.011 and relu["tolerance"] == 1e-6, relu
assert "--only activation/relu" in relu["repeat"], relu
assert linear["status"] == "PASS", linear
assert (doc["passed"], doc["failed"], doc["skipped"]) == (1, 1, 0), doc
PY
echo "wrong_kernel: ok"
