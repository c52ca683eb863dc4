#!/usr/bin/python3
"""Models, inputs and xgboost timings for benchmarks/ort/run.sh (fedval against onnxruntime-node).

  make_ort.py trees OUTDIR [--rows N] [--train N]
      The tree ensemble of benchmarks/model (make_bench.py make): an xgboost XGBClassifier,
      300 trees of depth 6, trained on --train rows of the same 50-feature synthetic problem
      (make_classification, random_state 0), exported to ONNX TreeEnsembleClassifier by
      tests/unit/model/make_e2e.py's export_xgb (without its all-zero base_values, see
      below). Writes xgb.onnx, Xt.bin (float32 [N, 50],
      the rows after the training ones, as make_bench.py's X.bin) and xgb.pickle.
  make_ort.py time-xgb OUTDIR --threads T [--repeats K]
      xgboost's own prediction of the same rows on T threads: Booster.inplace_predict (the
      issue's reference; probabilities of binary:logistic) and XGBClassifier.predict_proba,
      one untimed run, then K timed; prints one JSON line with the medians.
  make_ort.py cnn OUTDIR [--batch B] [--seed S]
      A ResNet-18-shaped network with random weights (onnx.helper, opset 13): conv 7x7/2 +
      BatchNormalization + Relu, MaxPool 3x3/2, four stages of two basic blocks (64, 128, 256,
      512 channels; the first block of stages 2-4 has stride 2 and a 1x1/2 conv + BN
      projection shortcut), GlobalAveragePool, Flatten, Gemm to 1000 logits. Input "input"
      float [N, 3, 224, 224] (N dynamic), output "logits" [N, 1000]. Writes resnet18.onnx and
      img.bin (float32 [B, 3, 224, 224], standard normal).
  make_ort.py compare A.bin B.bin [--rtol R] [--cols K --col J]
      Both float32 files of the same length (B: its column J when read as [-1, K]): prints the largest |a - b| / max|b| and the
      largest elementwise |a - b| / (|b| + R max|b|) as JSON; exit 1 if the second exceeds R.
"""
import argparse
import json
import os
import pickle
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "unit", "model"))

NF = 50


def trees(a):
    import onnx
    from onnx import helper
    from sklearn.datasets import make_classification

    import make_e2e as e2e

    # The same problem, split and xgboost parameters as benchmarks/model/make_bench.py.
    X, y = make_classification(n_samples=a.train + a.rows, n_features=NF, n_informative=20,
                               n_redundant=10, random_state=0)
    X = X.astype(np.float32)
    Xt, yt, Xb = X[:a.train], y[:a.train], np.ascontiguousarray(X[a.train:])
    xg = e2e.xgboost.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1,
                                   base_score=0.5, tree_method="exact",
                                   random_state=0).fit(Xt, yt)
    opset = [helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)]
    g = e2e.export_xgb(xg, NF)
    # export_xgb sets base_values [0, 0]. onnxruntime, given two base values and weights for
    # both classes, scores class 1 with class 0's sum (tree_ensemble_aggregator.h, "binary
    # case"), so its probabilities come out swapped. Absent base values mean zeros in the ONNX
    # spec: the same model, and one that onnxruntime and fedval read alike.
    node = g.node[0]
    keep = [at for at in node.attribute if at.name != "base_values"]
    assert len(keep) == len(node.attribute) - 1
    del node.attribute[:]
    node.attribute.extend(keep)
    m = helper.make_model(g, opset_imports=opset, producer_name="fedval-bench")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(a.out, "xgb.onnx"))
    Xb.tofile(os.path.join(a.out, "Xt.bin"))
    with open(os.path.join(a.out, "xgb.pickle"), "wb") as f:
        pickle.dump(xg, f)
    print(f"xgb.onnx: 300 trees, {a.rows} rows in Xt.bin", file=sys.stderr)


def time_xgb(a):
    with open(os.path.join(a.out, "xgb.pickle"), "rb") as f:
        xg = pickle.load(f)
    X = np.fromfile(os.path.join(a.out, "Xt.bin"), dtype=np.float32).reshape(-1, NF)
    xg.set_params(n_jobs=a.threads)
    bst = xg.get_booster()
    bst.set_param({"nthread": a.threads})
    out = {"rows": X.shape[0], "threads": a.threads}
    for name, f in (("inplace_predict", lambda: bst.inplace_predict(X)),
                    ("predict_proba", lambda: xg.predict_proba(X))):
        f()
        ts = []
        for _ in range(a.repeats):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        med = float(np.median(ts))
        out[name] = {"seconds_median": round(med, 6), "seconds_min": round(min(ts), 6),
                     "rows_per_s": round(X.shape[0] / med, 1)}
    print(json.dumps(out))


def cnn(a):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(a.seed)
    inits, nodes = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    def conv_bn(x, name, cin, cout, k, stride, relu, gamma=1.0):
        # He-initialised weights; BN statistics near the identity so that activations stay of
        # order one through 8 residual blocks (the logits are then well above rounding noise).
        w = rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))
        nodes.append(helper.make_node("Conv", [x, const(name + ".w", w)], [name + ".c"],
                                      kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[k // 2] * 4))
        const(name + ".g", gamma * (1 + 0.1 * rng.standard_normal(cout)))
        const(name + ".b", 0.1 * rng.standard_normal(cout))
        const(name + ".m", 0.1 * rng.standard_normal(cout))
        const(name + ".v", 1 + 0.1 * rng.random(cout))
        y = name + ".bn"
        nodes.append(helper.make_node("BatchNormalization",
                                      [name + ".c", name + ".g", name + ".b", name + ".m",
                                       name + ".v"], [y], epsilon=1e-5))
        if relu:
            nodes.append(helper.make_node("Relu", [y], [name + ".r"]))
            y = name + ".r"
        return y

    x = conv_bn("input", "conv1", 3, 64, 7, 2, True)
    nodes.append(helper.make_node("MaxPool", [x], ["pool1"], kernel_shape=[3, 3],
                                  strides=[2, 2], pads=[1, 1, 1, 1]))
    x, cin = "pool1", 64
    for si, cout in enumerate((64, 128, 256, 512)):
        for bi in range(2):
            stride = 2 if si > 0 and bi == 0 else 1
            p = f"l{si + 1}.{bi}"
            h = conv_bn(x, p + ".conv1", cin, cout, 3, stride, True)
            h = conv_bn(h, p + ".conv2", cout, cout, 3, 1, False, gamma=0.5)
            sc = x
            if stride != 1 or cin != cout:
                sc = conv_bn(x, p + ".down", cin, cout, 1, stride, False)
            nodes.append(helper.make_node("Add", [h, sc], [p + ".add"]))
            nodes.append(helper.make_node("Relu", [p + ".add"], [p + ".out"]))
            x, cin = p + ".out", cout
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], axis=1))
    const("fc.w", rng.standard_normal((1000, 512)) * np.sqrt(1.0 / 512))
    const("fc.b", 0.01 * rng.standard_normal(1000))
    nodes.append(helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], transB=1))
    g = helper.make_graph(
        nodes, "resnet18", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                          ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1000])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="fedval-bench")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(a.out, "resnet18.onnx"))
    img = rng.standard_normal((a.batch, 3, 224, 224)).astype(np.float32)
    img.tofile(os.path.join(a.out, "img.bin"))
    nconv = sum(n.op_type == "Conv" for n in nodes)
    print(f"resnet18.onnx: {len(nodes)} nodes ({nconv} Conv), "
          f"{sum(np.prod(t.dims) for t in inits) / 1e6:.1f}M parameters; img.bin [{a.batch}, 3, "
          f"224, 224]", file=sys.stderr)


def compare(a):
    x = np.fromfile(a.a, dtype=np.float32).astype(np.float64)
    y = np.fromfile(a.b, dtype=np.float32).astype(np.float64)
    if a.cols > 1:
        y = y.reshape(-1, a.cols)[:, a.col]
    if x.shape != y.shape or x.size == 0:
        print(json.dumps({"error": f"sizes {x.size} and {y.size}"}))
        sys.exit(1)
    scale = np.abs(y).max()
    diff = np.abs(x - y)
    rel = float((diff / (np.abs(y) + a.rtol * scale)).max())
    out = {"n": int(x.size), "max_abs_diff": float(diff.max()), "max_abs_ref": float(scale),
           "max_diff_over_max_ref": float(diff.max() / scale) if scale else float(diff.max()),
           "max_rel_err": rel, "ok": rel <= a.rtol}
    print(json.dumps(out))
    sys.exit(0 if out["ok"] else 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("trees", "time-xgb", "cnn", "compare"))
    ap.add_argument("out")
    ap.add_argument("b", nargs="?")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--cols", type=int, default=1)
    ap.add_argument("--col", type=int, default=0)
    a = ap.parse_args()
    if a.mode == "compare":
        a.a = a.out
        compare(a)
        return
    os.makedirs(a.out, exist_ok=True)
    {"trees": trees, "time-xgb": time_xgb, "cnn": cnn}[a.mode](a)


if __name__ == "__main__":
    main()
