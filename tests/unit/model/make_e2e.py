#!/usr/bin/python3
"""End-to-end models for the fedval model tests (tests/unit/model/test_e2e.c) and the
benchmarks (benchmarks/model/run.sh).

Usage: /usr/bin/python3 make_e2e.py OUTDIR [--rows N]

Run with Debian's python3 (python3-onnx, python3-sklearn, python3-numpy, python3-xgboost):
skl2onnx and onnxmltools are not available there, so every export is written by hand with
onnx.helper, the way skl2onnx and onnxmltools lay the same estimators out. Each case is a directory OUTDIR/<case>/ like the
ONNX backend node tests (model.onnx, test_data_set_0/{input,output}_<k>.pb). Expected outputs
are scikit-learn's or xgboost's predict_proba / predict, or numpy for the CNN, computed on the
float32 inputs fedval is fed -- never fedval's own output.

Cases:
  e2e_lr        LogisticRegression, 50 features: LinearClassifier(LOGISTIC) + Normalizer(L1)
                + ZipMap, as skl2onnx exports a binary model.
  e2e_lr_gemm   The same model as Gemm + Sigmoid ([N, 1] output).
  e2e_gbt       GradientBoostingClassifier, 300 trees of depth 6, 50 features:
                TreeEnsembleClassifier(LOGISTIC).
  e2e_xgb       xgboost XGBClassifier (binary:logistic), 300 trees of depth 6, 50 features:
                TreeEnsembleClassifier(LOGISTIC, BRANCH_LT) from the booster's JSON model.
  e2e_mlp       MLPClassifier (binary, 2 hidden ReLU layers): Sub/Div + Gemm + Relu ... +
                Sigmoid, float32.
  e2e_mlp3      MLPClassifier (3 classes): the same in float64 ending in Softmax.
  e2e_cnn       Small CNN with random weights: Conv/BatchNormalization/Relu, a residual Add,
                MaxPool, a strided Conv, GlobalAveragePool, Flatten, Gemm, Softmax.
Also OUTDIR/e2e_X.bin (float32 [rows, 50] row-major, the tabular test rows) and
OUTDIR/e2e_<model>_p.txt (predict_proba[:, 1] for each binary model).
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
import xgboost

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import floor32, write_case  # noqa: E402

FLOAT = TensorProto.FLOAT
DOUBLE = TensorProto.DOUBLE
ML = "ai.onnx.ml"
NF = 50  # features of the tabular models (the benchmark's size)


def tabular(name, nf, dtype=FLOAT):
    return helper.make_tensor_value_info(name, dtype, ["N", nf])


def seq_map():
    """seq(map(int64, float)), the type ZipMap declares."""
    t = onnx.TypeProto()
    t.sequence_type.elem_type.map_type.key_type = TensorProto.INT64
    t.sequence_type.elem_type.map_type.value_type.tensor_type.elem_type = FLOAT
    return t


def dataset(rows, seed):
    X, y = make_classification(n_samples=rows, n_features=NF, n_informative=20,
                               n_redundant=10, random_state=seed)
    return X.astype(np.float32), y


# ---- exports (also used by benchmarks/model/make_bench.py) ----

def export_lr(lr):
    """Binary LogisticRegression as skl2onnx lays it out: one coefficient row per class
    (-w, w), LOGISTIC, an L1 Normalizer (a no-op on [1-p, p]) and a ZipMap."""
    w = lr.coef_.ravel()
    b = float(lr.intercept_[0])
    nodes = [
        helper.make_node("LinearClassifier", ["X"], ["label", "probability_tensor"], domain=ML,
                         coefficients=np.concatenate([-w, w]).astype(np.float32).tolist(),
                         intercepts=[-b, b], classlabels_ints=[0, 1],
                         post_transform="LOGISTIC"),
        helper.make_node("Normalizer", ["probability_tensor"], ["probabilities"], domain=ML,
                         norm="L1"),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"], domain=ML,
                         classlabels_int64s=[0, 1]),
    ]
    return helper.make_graph(nodes, "lr", [tabular("X", len(w))], [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_value_info("output_probability", seq_map())])


def export_lr_gemm(lr):
    w = lr.coef_.ravel()
    inits = [numpy_helper.from_array(w.astype(np.float32).reshape(1, -1), "W"),
             numpy_helper.from_array(lr.intercept_.astype(np.float32), "B")]
    nodes = [helper.make_node("Gemm", ["X", "W", "B"], ["logit"], transB=1),
             helper.make_node("Sigmoid", ["logit"], ["probability"])]
    return helper.make_graph(nodes, "lr_gemm", [tabular("X", len(w))],
                             [helper.make_tensor_value_info("probability", FLOAT, ["N", 1])],
                             initializer=inits)


def export_gbt(gb, nf):
    """Binary GradientBoostingClassifier: raw = init + lr * sum(tree leaves), p = expit(raw).
    Scored as two targets, class 0 with the negated leaves and base value, so that the ONNX
    spec's element-wise LOGISTIC gives exactly [1 - p, p] (skl2onnx scores class 0 only and
    relies on onnxruntime's unspecified binary rule, which fedval refuses)."""
    rate = gb.learning_rate
    base = float(gb._raw_predict_init(np.zeros((1, nf), dtype=np.float32)).ravel()[0])
    a = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values",
                         "nodes_modes", "nodes_truenodeids", "nodes_falsenodeids",
                         "class_treeids", "class_nodeids", "class_ids", "class_weights")}
    for ti, est in enumerate(gb.estimators_[:, 0]):
        tr = est.tree_
        for nid in range(tr.node_count):
            leaf = tr.children_left[nid] == -1
            a["nodes_treeids"].append(ti)
            a["nodes_nodeids"].append(nid)
            a["nodes_featureids"].append(0 if leaf else int(tr.feature[nid]))
            # sklearn compares float32(x) <= float64 threshold; floor32 keeps that exact.
            a["nodes_values"].append(0.0 if leaf else floor32(tr.threshold[nid]))
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            a["nodes_truenodeids"].append(0 if leaf else int(tr.children_left[nid]))
            a["nodes_falsenodeids"].append(0 if leaf else int(tr.children_right[nid]))
            if leaf:
                v = rate * float(tr.value[nid][0][0])
                for cls, wv in ((0, -v), (1, v)):
                    a["class_treeids"].append(ti)
                    a["class_nodeids"].append(nid)
                    a["class_ids"].append(cls)
                    a["class_weights"].append(wv)
    nodes = [helper.make_node("TreeEnsembleClassifier", ["X"], ["label", "probabilities"],
                              domain=ML, classlabels_int64s=[0, 1], post_transform="LOGISTIC",
                              base_values=[-base, base], **a)]
    return helper.make_graph(nodes, "gbt", [tabular("X", nf)], [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", FLOAT, ["N", 2])])


def xgb_json(model):
    import json
    import tempfile
    with tempfile.TemporaryDirectory() as td:
        path = os.path.join(td, "model.json")
        model.get_booster().save_model(path)
        with open(path) as f:
            return json.load(f)


def leaf_values(model):
    """Per tree, node id -> the node's value as float32 (a leaf's output)."""
    trees = xgb_json(model)["learner"]["gradient_booster"]["model"]["trees"]
    return [[float(np.float32(v)) for v in t["split_conditions"]] for t in trees]


def xgb_reference(model, X):
    """p of class 1: xgboost's own leaf in every tree (pred_leaf), the leaves' float32 values
    summed in float64, expit. Independent of fedval; more exact than xgboost's float32 sum."""
    leaves = model.get_booster().predict(xgboost.DMatrix(X), pred_leaf=True).astype(np.int64)
    margin = np.zeros(X.shape[0])
    for t, vals in enumerate(leaf_values(model)):
        margin += np.asarray(vals)[leaves[:, t]]
    return 1.0 / (1.0 + np.exp(-margin))


def export_xgb(model, nf):
    """XGBClassifier (binary:logistic, base_score 0.5, so the base margin is 0): margin = sum
    of one leaf per tree, p = expit(margin). The trees come from the booster's JSON model
    (float32 values printed in full): node k splits on split_indices[k] and goes left when
    x < split_conditions[k] (BRANCH_LT); a leaf (left child -1) holds its value in
    split_conditions. Two targets, class 0 negated, as export_gbt."""
    j = xgb_json(model)
    assert float(j["learner"]["learner_model_param"]["base_score"]) == 0.5
    a = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values",
                         "nodes_modes", "nodes_truenodeids", "nodes_falsenodeids",
                         "class_treeids", "class_nodeids", "class_ids", "class_weights")}
    trees = j["learner"]["gradient_booster"]["model"]["trees"]
    assert len(trees) == 300
    for ti, t in enumerate(trees):
        for nid, (lc, rc) in enumerate(zip(t["left_children"], t["right_children"])):
            leaf = lc == -1
            val = float(np.float32(t["split_conditions"][nid]))
            a["nodes_treeids"].append(ti)
            a["nodes_nodeids"].append(nid)
            a["nodes_featureids"].append(0 if leaf else int(t["split_indices"][nid]))
            a["nodes_values"].append(0.0 if leaf else val)
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LT")
            a["nodes_truenodeids"].append(0 if leaf else int(lc))
            a["nodes_falsenodeids"].append(0 if leaf else int(rc))
            if leaf:
                for cls, wv in ((0, -val), (1, val)):
                    a["class_treeids"].append(ti)
                    a["class_nodeids"].append(nid)
                    a["class_ids"].append(cls)
                    a["class_weights"].append(wv)
    nodes = [helper.make_node("TreeEnsembleClassifier", ["X"], ["label", "probabilities"],
                              domain=ML, classlabels_int64s=[0, 1], post_transform="LOGISTIC",
                              base_values=[0.0, 0.0], **a)]
    return helper.make_graph(nodes, "xgb", [tabular("X", nf)], [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", FLOAT, ["N", 2])])


def export_mlp(mlp, sc, dtype):
    """MLPClassifier with ReLU hidden layers after a StandardScaler: Sub, Div, then Gemm +
    Relu per hidden layer, Gemm + Sigmoid (binary) or Softmax (multi-class). In float64 the
    input is Cast first and the probabilities Cast back to float."""
    npt = np.float32 if dtype == FLOAT else np.float64
    inits = [numpy_helper.from_array(sc.mean_.astype(npt), "mean"),
             numpy_helper.from_array(sc.scale_.astype(npt), "scale")]
    nodes = []
    x = "X"
    if dtype == DOUBLE:
        nodes.append(helper.make_node("Cast", ["X"], ["Xd"], to=DOUBLE))
        x = "Xd"
    nodes += [helper.make_node("Sub", [x, "mean"], ["Xc"]),
              helper.make_node("Div", ["Xc", "scale"], ["h0"])]
    h = "h0"
    last = len(mlp.coefs_) - 1
    for i, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        inits += [numpy_helper.from_array(W.astype(npt), f"W{i}"),
                  numpy_helper.from_array(b.astype(npt), f"B{i}")]
        nodes.append(helper.make_node("Gemm", [h, f"W{i}", f"B{i}"], [f"z{i}"]))
        if i < last:
            nodes.append(helper.make_node("Relu", [f"z{i}"], [f"h{i + 1}"]))
            h = f"h{i + 1}"
    binary = mlp.out_activation_ == "logistic"
    pname = "probability" if dtype == FLOAT else "pd"
    if binary:
        nodes.append(helper.make_node("Sigmoid", [f"z{last}"], [pname]))
    else:
        nodes.append(helper.make_node("Softmax", [f"z{last}"], [pname], axis=1))
    if dtype == DOUBLE:
        nodes.append(helper.make_node("Cast", [pname], ["probability"], to=FLOAT))
    width = 1 if binary else len(mlp.classes_)
    return helper.make_graph(nodes, "mlp", [tabular("X", sc.mean_.size)],
                             [helper.make_tensor_value_info("probability", FLOAT,
                                                            ["N", width])],
                             initializer=inits)


# ---- the CNN and its numpy reference ----

def conv_ref(x, W, b, stride, pad):
    """Direct convolution in float64 (NCHW, OIHW): the sum over (c, kh, kw), one kernel tap
    at a time."""
    n, c, h, w = x.shape
    o, _, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (w + 2 * pad - kw) // stride + 1
    y = np.zeros((n, o, ho, wo))
    for i in range(kh):
        for j in range(kw):
            win = xp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]
            y += np.einsum("nchw,oc->nohw", win, W[:, :, i, j])
    return y + b.reshape(1, -1, 1, 1)


def bn_ref(x, s, b, m, v, eps):
    sh = (1, -1, 1, 1)
    return (x - m.reshape(sh)) / np.sqrt(v.reshape(sh) + eps) * s.reshape(sh) + b.reshape(sh)


def cnn(out, rng):
    n, cin, hw, classes = 4, 3, 16, 4
    f32 = np.float32
    X = rng.normal(size=(n, cin, hw, hw)).astype(f32)

    def conv_w(o, c, k=3):
        return (rng.normal(size=(o, c, k, k)) * np.sqrt(2.0 / (c * k * k))).astype(f32)

    def bn_p(c):
        return (rng.uniform(0.5, 1.5, c).astype(f32), rng.normal(0, 0.1, c).astype(f32),
                rng.normal(0, 0.1, c).astype(f32), rng.uniform(0.5, 2.0, c).astype(f32))

    p = {"W1": conv_w(8, cin), "B1": rng.normal(0, 0.1, 8).astype(f32),
         "W2": conv_w(8, 8), "B2": np.zeros(8, f32),
         "W3": conv_w(16, 8), "B3": rng.normal(0, 0.1, 16).astype(f32),
         "Wfc": (rng.normal(size=(classes, 16)) * 0.5).astype(f32),
         "Bfc": rng.normal(0, 0.1, classes).astype(f32)}
    for k, (s, b, m, v) in (("bn1", bn_p(8)), ("bn2", bn_p(8))):
        p[k + "_s"], p[k + "_b"], p[k + "_m"], p[k + "_v"] = s, b, m, v
    eps = 1e-5

    nodes = [
        helper.make_node("Conv", ["X", "W1", "B1"], ["c1"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn1_s", "bn1_b", "bn1_m", "bn1_v"],
                         ["n1"], epsilon=eps),
        helper.make_node("Relu", ["n1"], ["a1"]),
        helper.make_node("Conv", ["a1", "W2", "B2"], ["c2"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c2", "bn2_s", "bn2_b", "bn2_m", "bn2_v"],
                         ["n2"], epsilon=eps),
        helper.make_node("Add", ["n2", "a1"], ["r2"]),  # the skip connection
        helper.make_node("Relu", ["r2"], ["a2"]),
        helper.make_node("MaxPool", ["a2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p2", "W3", "B3"], ["c3"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c3"], ["a3"]),
        helper.make_node("GlobalAveragePool", ["a3"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "Wfc", "Bfc"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    g = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("X", FLOAT, ["N", cin, hw, hw])],
        [helper.make_tensor_value_info("probabilities", FLOAT, ["N", classes])],
        initializer=[numpy_helper.from_array(v, k) for k, v in p.items()])

    d = {k: v.astype(np.float64) for k, v in p.items()}
    x = X.astype(np.float64)
    a1 = np.maximum(bn_ref(conv_ref(x, d["W1"], d["B1"], 1, 1), d["bn1_s"], d["bn1_b"],
                           d["bn1_m"], d["bn1_v"], eps), 0)
    r2 = bn_ref(conv_ref(a1, d["W2"], d["B2"], 1, 1), d["bn2_s"], d["bn2_b"], d["bn2_m"],
                d["bn2_v"], eps) + a1
    a2 = np.maximum(r2, 0)
    p2 = a2.reshape(n, 8, hw // 2, 2, hw // 2, 2).max(axis=(3, 5))
    a3 = np.maximum(conv_ref(p2, d["W3"], d["B3"], 2, 1), 0)
    logits = a3.mean(axis=(2, 3)) @ d["Wfc"].T + d["Bfc"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    write_case(out, "e2e_cnn", g, [X], [probs.astype(np.float32)])


def tabular_models(out, rows, which):
    X, y = dataset(rows, seed=0)
    Xd = X.astype(np.float64)  # sklearn computes on the same float32-rounded values
    X.tofile(os.path.join(out, "e2e_X.bin"))

    def save_p(name, p):
        np.savetxt(os.path.join(out, f"e2e_{name}_p.txt"), p, fmt="%.17g")

    if "lr" in which:
        lr = LogisticRegression(max_iter=2000).fit(Xd, y)
        p = lr.predict_proba(Xd)
        write_case(out, "e2e_lr", export_lr(lr), [X],
                   [lr.predict(Xd).astype(np.int64), p.astype(np.float32)])
        write_case(out, "e2e_lr_gemm", export_lr_gemm(lr), [X],
                   [p[:, 1:2].astype(np.float32)])
        save_p("lr", p[:, 1])

    if "gbt" in which:
        # max_features keeps training at ~3 s for 2000 rows; the trees stay depth 6.
        gb = GradientBoostingClassifier(n_estimators=300, max_depth=6, max_features=0.2,
                                        random_state=0).fit(X, y)
        assert gb.estimators_.shape == (300, 1)
        assert max(e.tree_.max_depth for e in gb.estimators_[:, 0]) == 6
        p = gb.predict_proba(X)
        write_case(out, "e2e_gbt", export_gbt(gb, NF), [X],
                   [gb.predict(X).astype(np.int64), p.astype(np.float32)])
        save_p("gbt", p[:, 1])

    if "xgb" in which:
        xg = xgboost.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1,
                                   base_score=0.5, tree_method="exact", n_jobs=1,
                                   random_state=0).fit(X, y)
        # xgboost sums the 300 leaves in float32 (errors ~1e-4 on the margin); the reference
        # takes xgboost's own choice of leaf in every tree (pred_leaf) and sums their values
        # in float64, then checks it against predict_proba at float32 accuracy.
        p1 = xgb_reference(xg, X)
        assert np.allclose(p1, xg.predict_proba(X)[:, 1], rtol=1e-3, atol=1e-6)
        p = np.stack([1.0 - p1, p1], axis=1)
        write_case(out, "e2e_xgb", export_xgb(xg, NF), [X],
                   [(p1 > 0.5).astype(np.int64), p.astype(np.float32)])
        save_p("xgb", p1)

    if "mlp" in which:
        sc = StandardScaler().fit(Xd)
        Xs = sc.transform(Xd)
        # Weight decay keeps |logit| < 10, as in a calibrated model: float32 arithmetic then
        # errs by ~1e-6 on the logit, i.e. ~2e-6 relative on the smallest probabilities
        # (with |logit| ~ 35, as an unregularised fit gives, it would be ~1e-5).
        mlp = MLPClassifier(hidden_layer_sizes=(32, 16), alpha=3.0, max_iter=300,
                            random_state=0).fit(Xs, y)
        p = mlp.predict_proba(Xs)
        write_case(out, "e2e_mlp", export_mlp(mlp, sc, FLOAT), [X],
                   [p[:, 1:2].astype(np.float32)])
        save_p("mlp", p[:, 1])

        # Three classes, computed in float64.
        X3, y3 = make_classification(n_samples=rows, n_features=NF, n_informative=10,
                                     n_classes=3, random_state=1)
        X3 = X3.astype(np.float32)
        sc3 = StandardScaler().fit(X3.astype(np.float64))
        Xs3 = sc3.transform(X3.astype(np.float64))
        mlp3 = MLPClassifier(hidden_layer_sizes=(24,), max_iter=300, random_state=0).fit(
            Xs3, y3)
        write_case(out, "e2e_mlp3", export_mlp(mlp3, sc3, DOUBLE), [X3],
                   [mlp3.predict_proba(Xs3).astype(np.float32)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=2000, help="training and test rows")
    ap.add_argument("--only", default="lr,gbt,xgb,mlp,cnn", help="comma-separated models")
    a = ap.parse_args()
    which = set(a.only.split(","))
    os.makedirs(a.out, exist_ok=True)
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    warnings.simplefilter("ignore", ConvergenceWarning)  # small, fixed training budgets
    tabular_models(a.out, a.rows, which)
    if "cnn" in which:
        cnn(a.out, np.random.default_rng(3))


if __name__ == "__main__":
    main()
