"""Checks an exported ONNX model and compares it with `cltrain predict --json`.

  compare.py check MODEL.onnx
      onnx.checker.check_model (full check, with shape inference); run by /usr/bin/python3
      with Debian's python3-onnx.
  compare.py run MODEL.onnx PREDICT.json IMAGES-idx3-ubyte.gz A B [TOLERANCE]
      runs the model in ONNX Runtime on samples A..B-1 of the IDX file (pixels / 255, NCHW)
      and compares the probabilities with those predict wrote for the same samples: exits 1
      when any differs by more than TOLERANCE (default 1e-4, absolute), or when the
      comparison could not tell a wrong model from a right one (probabilities too flat, or
      samples shifted by one that still agree). Prints the largest difference.
  compare.py table MODEL.onnx EVAL.json DATA.csv [TOLERANCE]
      a model trained on a CSV table: runs it on every row of DATA.csv (the raw feature
      columns named by the model's feature_names metadata) and compares the loss (MSE, or
      the mean cross-entropy), the MAE or the accuracy with `cltrain eval --json` on the same
      file: relative TOLERANCE (default 1e-4) for the means; accuracy within one sample.
"""
import gzip
import json
import sys

import numpy as np


def check(model_path):
    import onnx

    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    print(f"{model_path}: onnx.checker passes (onnx {onnx.__version__} from {onnx.__file__}), "
          f"opset {model.opset_import[0].version}, producer {model.producer_name} "
          f"{model.producer_version}, metadata {sorted(meta)}")


def read_idx_images(path, a, b):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\0\0" or data[2] != 8:
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    ndims = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndims)]
    pixels = np.frombuffer(data, np.uint8, offset=4 + 4 * ndims).reshape(dims)
    if ndims == 3:
        pixels = pixels[..., None]  # [N, H, W, 1]
    x = pixels[a:b].astype(np.float32) / np.float32(255.0)  # as cltrain: byte / 255.0f
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # NHWC -> NCHW


def predict_probabilities(path, classes):
    with open(path) as f:
        preds = json.load(f)["predictions"]
    p = np.zeros((len(preds), classes), np.float64)
    for i, pred in enumerate(preds):
        if len(pred["top"]) != classes:
            sys.exit(f"{path}: sample {i} lists {len(pred['top'])} of {classes} classes; "
                     f"run predict with --top {classes}")
        for t in pred["top"]:
            p[i, t["class"]] = t["probability"]
    return p


def run(model_path, predict_json, images, a, b, tol):
    import onnxruntime as ort

    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    inputs, outputs = sess.get_inputs(), sess.get_outputs()
    assert [i.name for i in inputs] == ["input"], [i.name for i in inputs]
    assert [o.name for o in outputs] == ["probabilities"], [o.name for o in outputs]
    x = read_idx_images(images, a, b)
    got = sess.run(["probabilities"], {"input": x})[0].astype(np.float64)
    want = predict_probabilities(predict_json, got.shape[1])
    if want.shape != got.shape:
        sys.exit(f"predict gave {want.shape} probabilities, ONNX Runtime {got.shape}")
    diff = np.abs(got - want)
    worst = float(np.nanmax(diff)) if np.isfinite(diff).all() else float("nan")
    top_agree = float(np.mean(got.argmax(1) == want.argmax(1)))
    # The comparison must be able to fail: a model whose outputs barely depend on the image
    # would pass any layout. Samples shifted by one must differ by far more than tol.
    shifted = float(np.abs(got[1:] - want[:-1]).max())
    mean_top = float(want.max(1).mean())
    print(f"{model_path}: onnxruntime {ort.__version__}, {len(x)} images, max |onnx - predict| "
          f"= {worst:.3g} (tolerance {tol:g}), same class {100 * top_agree:.0f}%, mean top "
          f"probability {mean_top:.3f}, shifted-by-one difference {shifted:.3g}")
    if not worst <= tol:  # NaN anywhere fails too
        i, k = np.unravel_index(np.nan_to_num(diff, nan=np.inf).argmax(), diff.shape)
        print(f"FAIL: sample {a + i} class {k}: onnx {got[i, k]:.7f}, predict {want[i, k]:.7f}")
        return 1
    if not shifted > 100 * tol:
        print("FAIL: the probabilities hardly depend on the image; train the model longer")
        return 1
    return 0


def table(model_path, eval_json, csv_path, tol):
    import csv
    import onnxruntime as ort

    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    features = json.loads(meta["feature_names"])
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    cols = [header.index(n) for n in features]
    x = np.array([[float(r[c]) for c in cols] for r in rows], np.float32)
    label = [r[header.index(meta["label"])] for r in rows]
    out = sess.get_outputs()[0].name
    y = sess.run([out], {"input": x})[0].astype(np.float64)
    with open(eval_json) as f:
        ev = json.load(f)
    if ev["samples"] != len(rows):
        sys.exit(f"eval saw {ev['samples']} rows, the file has {len(rows)}")
    if meta["head"] == "mse":
        t = np.array([float(v) for v in label])
        got = {"loss": float(np.mean((y[:, 0] - t) ** 2)), "mae": float(np.mean(np.abs(y[:, 0] - t)))}
    else:
        names = json.loads(meta["class_names"])
        t = np.array([names.index(v) for v in label])
        got = {"loss": float(np.mean(-np.log(y[np.arange(len(t)), t]))),
               "accuracy": float(np.mean(y.argmax(1) == t))}
    bad = 0
    for k, v in got.items():
        want = ev[k]
        ok = abs(v - want) <= (1.5 / len(rows) if k == "accuracy" else tol * max(abs(want), 1e-12))
        print(f"{model_path}: {k} onnx {v:.7g}, eval {want:.7g}, relative difference "
              f"{abs(v - want) / max(abs(want), 1e-12):.3g}{'' if ok else '  FAIL'}")
        bad |= not ok
    # Without the standardisation (or with another feature order) the loss is far off.
    return int(bad)


def main(argv):
    if len(argv) in (5, 6) and argv[1] == "table":
        return table(argv[2], argv[3], argv[4], float(argv[5]) if len(argv) == 6 else 1e-4)
    if len(argv) == 3 and argv[1] == "check":
        check(argv[2])
        return 0
    if len(argv) in (7, 8) and argv[1] == "run":
        tol = float(argv[7]) if len(argv) == 8 else 1e-4
        return run(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]), tol)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
