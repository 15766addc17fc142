#!/usr/bin/env bash
# ONNX export against ONNX Runtime (CTest onnx_export_ort): for each model (fashion_cnn,
# fashion_cnn_bn, resnet8, mlp and tests/onnx/all_layers.cfg), a checkpoint
# trained for a few steps (1 epoch of --subset 256, batch 16), `cltrain export`, onnx.checker (Debian's
# python3-onnx, /usr/bin/python3), then ONNX Runtime (the venv of tools/setup-onnx-venv) on
# test images A..B-1 against `cltrain predict --json` on the same images: every probability
# within 1e-4 (tests/onnx/compare.py). Then tabular_mlp and tabular_regression on a CSV
# table from make-csv: ONNX Runtime on every row against `cltrain eval` (loss, MAE, accuracy).
#   export_ort.sh CLTRAIN SOURCE_DIR WORK_DIR [MODEL.cfg...]
# Exit 77 (skipped; a failure under CI) when the venv or the OpenCL device is missing.
set -uo pipefail
cltrain=$1 src=$2 work=$3
shift 3
models=("$@")
if ((${#models[@]} == 0)); then
  models=("$src"/models/{fashion_cnn,fashion_cnn_bn,resnet8,mlp}.cfg "$src/tests/onnx/all_layers.cfg")
fi
venv=${CLTRAIN_ONNX_VENV:-$HOME/.cache/cltrain/onnx-venv}
data=${CLTRAIN_TEST_FASHION:-/usr/share/datasets/fashion-mnist}
images=$data/t10k-images-idx3-ubyte.gz
a=0 b=100
device=(--device "${CLTRAIN_TEST_DEVICE:-pocl}") # as the other device tests
compare=$src/tests/onnx/compare.py

if ! "$venv/bin/python" -c "import onnxruntime" 2>/dev/null; then
  echo "export_ort: no ONNX Runtime in $venv: run tools/setup-onnx-venv (tools/setup.sh does)"
  exit 77
fi
if ! /usr/bin/python3 -c "import onnx" 2>/dev/null; then
  echo "export_ort: /usr/bin/python3 has no onnx module: apt-get install python3-onnx"
  exit 77
fi
if [[ ! -f $images ]]; then
  echo "export_ort: $images is missing: apt-get install dataset-fashion-mnist"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
failed=0
for cfg in "${models[@]}"; do
  m=$(basename "$cfg" .cfg)
  ck=$work/$m.ckpt onnx=$work/$m.onnx json=$work/$m.predict.json
  "$cltrain" train "$cfg" "${device[@]}" --data "$data" --epochs 1 --subset 256 --batch 16 \
    --seed 7 --save "$ck" --json >"$work/$m.train.log" 2>&1
  rc=$?
  if ((rc == 69)); then
    echo "export_ort: no OpenCL device: $(tail -1 "$work/$m.train.log")"
    exit 77
  fi
  if ((rc)); then
    echo "FAIL $m: training exited $rc:"
    tail -5 "$work/$m.train.log"
    failed=1
    continue
  fi
  if ! "$cltrain" export "$ck" -o "$onnx"; then
    echo "FAIL $m: cltrain export"
    failed=1
    continue
  fi
  if ! "$cltrain" predict "$ck" "${device[@]}" "$images" --range "$a:$b" --top 1000 --json >"$json"; then
    echo "FAIL $m: cltrain predict"
    failed=1
    continue
  fi
  /usr/bin/python3 "$compare" check "$onnx" || { echo "FAIL $m: onnx.checker"; failed=1; continue; }
  "$venv/bin/python" "$compare" run "$onnx" "$json" "$images" "$a" "$b" ||
    { echo "FAIL $m: ONNX Runtime and cltrain predict differ"; failed=1; }
done

# Models trained on CSV tables (only with the default list): the raw feature columns go in,
# standardised inside the graph; compared with `cltrain eval` over the whole file.
if (($# == 0)); then
  make_csv=$(dirname "$cltrain")/make-csv
  for task in classification regression; do
    m=tabular_mlp flags=() csv_flags=()
    if [[ $task == regression ]]; then
      m=tabular_regression flags=(--label target --task regression) csv_flags=(--regression)
    fi
    csv=$work/$m.csv ck=$work/$m.ckpt onnx=$work/$m.onnx json=$work/$m.eval.json
    if ! "$make_csv" "$csv" --rows 2000 "${csv_flags[@]}" >/dev/null 2>&1 ||
      ! "$cltrain" train "$src/models/$m.cfg" "${device[@]}" --data "$csv" "${flags[@]}" --epochs 1 --seed 7 \
        --save "$ck" --json >"$work/$m.train.log" 2>&1 ||
      ! "$cltrain" export "$ck" -o "$onnx" ||
      ! "$cltrain" eval "$ck" "${device[@]}" --data "$csv" --json >"$json"; then
      echo "FAIL $m: make-csv, train, export or eval (see $work)"
      failed=1
      continue
    fi
    /usr/bin/python3 "$compare" check "$onnx" || { echo "FAIL $m: onnx.checker"; failed=1; continue; }
    "$venv/bin/python" "$compare" table "$onnx" "$json" "$csv" ||
      { echo "FAIL $m: ONNX Runtime and cltrain eval differ"; failed=1; }
  done
fi
exit $failed
