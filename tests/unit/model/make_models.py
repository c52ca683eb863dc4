#!/usr/bin/python3
"""Generate ONNX test models and their expected outputs for the fedval model tests.

Usage: /usr/bin/python3 make_models.py OUTDIR

Run with Debian's python3 (python3-onnx, python3-sklearn, python3-numpy); skl2onnx is not
available there, so the exports are written by hand with onnx.helper. Every case is a
directory OUTDIR/<case>/ laid out like the ONNX backend node tests:
  model.onnx, test_data_set_0/input_<i>.pb, test_data_set_0/output_<j>.pb
Expected outputs come from scikit-learn (predict_proba, transform, predict) or numpy, never
from fedval. A case whose model has a ZipMap stores the [N, C] probabilities that fedval's
ZipMap yields (see include/fedval/model.h).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import (Binarizer, MaxAbsScaler, Normalizer,
                                   StandardScaler)
from sklearn.impute import SimpleImputer
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.tree import DecisionTreeRegressor

OPSET = [helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)]
FLOAT = TensorProto.FLOAT


def write_case(out, name, graph, inputs, outputs, opset=None):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    model = helper.make_model(graph, opset_imports=opset or OPSET,
                              producer_name="fedval-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, a in enumerate(inputs):
        t = numpy_helper.from_array(np.ascontiguousarray(a), name=graph.input[i].name)
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(t.SerializeToString())
    for j, a in enumerate(outputs):
        t = numpy_helper.from_array(np.ascontiguousarray(a), name=graph.output[j].name)
        with open(os.path.join(d, "test_data_set_0", f"output_{j}.pb"), "wb") as f:
            f.write(t.SerializeToString())


def tabular(name, nf):
    return helper.make_tensor_value_info(name, FLOAT, ["N", nf])


def breast_cancer(out):
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)  # what fedval is fed; sklearn sees the same rounded values
    Xd = X.astype(np.float64)
    sc = StandardScaler().fit(Xd)
    lr = LogisticRegression(max_iter=5000).fit(sc.transform(Xd), y)
    p = lr.predict_proba(sc.transform(Xd))  # [N, 2], float64
    nf = X.shape[1]
    w = lr.coef_.ravel()
    b = lr.intercept_[0]

    # (1) Scaler + LinearClassifier (one coefficient row, LOGISTIC) + ZipMap, as skl2onnx
    # would lay it out for a binary model.
    nodes = [
        helper.make_node("Scaler", ["X"], ["Xs"], domain="ai.onnx.ml",
                         offset=sc.mean_.astype(np.float32).tolist(),
                         scale=(1.0 / sc.scale_).astype(np.float32).tolist()),
        helper.make_node("LinearClassifier", ["Xs"], ["label", "probabilities"],
                         domain="ai.onnx.ml", coefficients=w.astype(np.float32).tolist(),
                         intercepts=[float(b)], classlabels_ints=[0, 1],
                         post_transform="LOGISTIC"),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"],
                         domain="ai.onnx.ml", classlabels_int64s=[0, 1]),
    ]
    seqmap = onnx.TypeProto()  # seq(map(int64, float)), as ZipMap declares it
    seqmap.sequence_type.elem_type.map_type.key_type = TensorProto.INT64
    seqmap.sequence_type.elem_type.map_type.value_type.tensor_type.elem_type = FLOAT
    g = helper.make_graph(nodes, "bc_linclf", [tabular("X", nf)], [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_value_info("output_probability", seqmap)])
    write_case(out, "bc_linclf_zipmap", g, [X], [lr.predict(sc.transform(Xd)).astype(np.int64),
                                                 p.astype(np.float32)])

    # (2) Sub + Div + Gemm(transB) + Sigmoid: the same model in plain ai.onnx.
    inits = [
        numpy_helper.from_array(sc.mean_.astype(np.float32), "mean"),
        numpy_helper.from_array(sc.scale_.astype(np.float32), "std"),
        numpy_helper.from_array(w.astype(np.float32).reshape(1, nf), "W"),
        numpy_helper.from_array(np.array([b], dtype=np.float32), "B"),
    ]
    nodes = [
        helper.make_node("Sub", ["X", "mean"], ["Xc"]),
        helper.make_node("Div", ["Xc", "std"], ["Xs"]),
        helper.make_node("Gemm", ["Xs", "W", "B"], ["logit"], transB=1, alpha=1.0, beta=1.0),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    g = helper.make_graph(nodes, "bc_gemm", [tabular("X", nf)],
                          [helper.make_tensor_value_info("probability", FLOAT, ["N", 1])],
                          initializer=inits)
    write_case(out, "bc_gemm_sigmoid", g, [X], [p[:, 1:2].astype(np.float32)])

    # (3) Two-column softmax output via MatMul + Add + Softmax (tests [N,2] -> column 1),
    # computed in double after a Cast.
    W2 = np.stack([-w / 2, w / 2], axis=1)
    inits = [
        numpy_helper.from_array(sc.mean_, "mean"),
        numpy_helper.from_array(1.0 / sc.scale_, "inv_std"),
        numpy_helper.from_array(W2, "W2"),
        numpy_helper.from_array(np.array([-b / 2, b / 2]), "B2"),
    ]
    nodes = [
        helper.make_node("Cast", ["X"], ["Xd"], to=TensorProto.DOUBLE),
        helper.make_node("Sub", ["Xd", "mean"], ["Xc"]),
        helper.make_node("Mul", ["Xc", "inv_std"], ["Xs"]),
        helper.make_node("MatMul", ["Xs", "W2"], ["z"]),
        helper.make_node("Add", ["z", "B2"], ["zb"]),
        helper.make_node("Softmax", ["zb"], ["pd"], axis=1),
        helper.make_node("Cast", ["pd"], ["probabilities"], to=TensorProto.FLOAT),
    ]
    g = helper.make_graph(nodes, "bc_softmax", [tabular("X", nf)],
                          [helper.make_tensor_value_info("probabilities", FLOAT, ["N", 2])],
                          initializer=inits)
    write_case(out, "bc_matmul_softmax_double", g, [X], [p.astype(np.float32)])

    # The predict tests read these: rows of X and p(class 1) from predict_proba.
    np.savetxt(os.path.join(out, "bc_X.txt"), X, fmt="%.9g")
    np.savetxt(os.path.join(out, "bc_p.txt"), p[:, 1], fmt="%.17g")


def iris(out):
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    Xd = X.astype(np.float64)
    lr = LogisticRegression(max_iter=5000).fit(Xd, y)  # multinomial
    nodes = [helper.make_node("LinearClassifier", ["X"], ["label", "probabilities"],
                              domain="ai.onnx.ml",
                              coefficients=lr.coef_.astype(np.float32).ravel().tolist(),
                              intercepts=lr.intercept_.astype(np.float32).tolist(),
                              classlabels_ints=[0, 1, 2], post_transform="SOFTMAX")]
    g = helper.make_graph(nodes, "iris", [tabular("X", 4)], [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", FLOAT, ["N", 3])])
    write_case(out, "iris_linclf_softmax", g, [X],
               [lr.predict(Xd).astype(np.int64), lr.predict_proba(Xd).astype(np.float32)])

    # LinearRegressor: predict petal width from the other three measurements.
    reg = LinearRegression().fit(Xd[:, :3], Xd[:, 3])
    nodes = [helper.make_node("LinearRegressor", ["X"], ["variable"], domain="ai.onnx.ml",
                              coefficients=reg.coef_.astype(np.float32).tolist(),
                              intercepts=[float(reg.intercept_)])]
    g = helper.make_graph(nodes, "iris_reg", [tabular("X", 3)],
                          [helper.make_tensor_value_info("variable", FLOAT, ["N", 1])])
    write_case(out, "iris_linreg", g, [X[:, :3].copy()],
               [reg.predict(Xd[:, :3]).reshape(-1, 1).astype(np.float32)])


def transformers(out):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(20, 5)).astype(np.float32)
    Xd = X.astype(np.float64)

    for norm in ("l1", "l2", "max"):
        Xn = Xd if norm != "max" else np.abs(Xd)  # sklearn's max norm uses |x|; ONNX's max(x)
        nodes = [helper.make_node("Normalizer", ["X"], ["Y"], domain="ai.onnx.ml",
                                  norm=norm.upper())]
        g = helper.make_graph(nodes, "norm", [tabular("X", 5)],
                              [helper.make_tensor_value_info("Y", FLOAT, ["N", 5])])
        write_case(out, f"normalizer_{norm}", g, [Xn.astype(np.float32)],
                   [Normalizer(norm=norm).transform(Xn).astype(np.float32)])

    bz = Binarizer(threshold=0.25).fit(Xd)
    nodes = [helper.make_node("Binarizer", ["X"], ["Y"], domain="ai.onnx.ml", threshold=0.25)]
    g = helper.make_graph(nodes, "bin", [tabular("X", 5)],
                          [helper.make_tensor_value_info("Y", FLOAT, ["N", 5])])
    write_case(out, "binarizer", g, [X], [bz.transform(Xd).astype(np.float32)])

    Xm = X.copy()
    Xm[rng.random(Xm.shape) < 0.2] = np.nan
    imp = SimpleImputer(strategy="mean").fit(Xm.astype(np.float64))
    nodes = [helper.make_node("Imputer", ["X"], ["Y"], domain="ai.onnx.ml",
                              imputed_value_floats=imp.statistics_.astype(np.float32).tolist(),
                              replaced_value_float=float("nan"))]
    g = helper.make_graph(nodes, "imp", [tabular("X", 5)],
                          [helper.make_tensor_value_info("Y", FLOAT, ["N", 5])])
    write_case(out, "imputer", g, [Xm],
               [imp.transform(Xm.astype(np.float64)).astype(np.float32)])

    ma = MaxAbsScaler().fit(Xd)
    nodes = [helper.make_node("Scaler", ["X"], ["Y"], domain="ai.onnx.ml", offset=[0.0],
                              scale=(1.0 / ma.scale_).astype(np.float32).tolist())]
    g = helper.make_graph(nodes, "scaler", [tabular("X", 5)],
                          [helper.make_tensor_value_info("Y", FLOAT, ["N", 5])])
    write_case(out, "scaler_maxabs", g, [X], [ma.transform(Xd).astype(np.float32)])

    # OneHotEncoder on int64 codes; unknown codes give zero rows (zeros=1).
    codes = rng.integers(0, 5, size=(6, 2)).astype(np.int64)
    cats = [0, 1, 3]
    expect = (codes[..., None] == np.array(cats)).astype(np.float32)
    nodes = [helper.make_node("OneHotEncoder", ["X"], ["Y"], domain="ai.onnx.ml",
                              cats_int64s=cats, zeros=1)]
    g = helper.make_graph(nodes, "ohe", [helper.make_tensor_value_info(
        "X", TensorProto.INT64, [6, 2])], [helper.make_tensor_value_info("Y", FLOAT, [6, 2, 3])])
    write_case(out, "onehot_int64", g, [codes], [expect])

    idx = np.array([4, 0, 2], dtype=np.int64)
    nodes = [helper.make_node("ArrayFeatureExtractor", ["X", "I"], ["Y"], domain="ai.onnx.ml")]
    g = helper.make_graph(nodes, "afe", [tabular("X", 5)],
                          [helper.make_tensor_value_info("Y", FLOAT, ["N", 3])],
                          initializer=[numpy_helper.from_array(idx, "I")])
    write_case(out, "array_feature_extractor", g, [X], [X[:, idx]])

    # Squeeze/Unsqueeze in the old attribute style (opset 11), Clip with attributes (opset 6
    # style is below our minimum; opset 10 keeps min/max attributes), Flatten, Concat.
    nodes = [
        helper.make_node("Unsqueeze", ["X"], ["X3"], axes=[1]),
        helper.make_node("Squeeze", ["X3"], ["X2"], axes=[1]),
        helper.make_node("Concat", ["X2", "X"], ["C"], axis=1),
        helper.make_node("Flatten", ["C"], ["F"], axis=1),
        helper.make_node("Clip", ["F"], ["Y"], min=-0.5, max=0.75),
    ]
    g = helper.make_graph(nodes, "oldstyle", [tabular("X", 5)],
                          [helper.make_tensor_value_info("Y", FLOAT, ["N", 10])])
    write_case(out, "opset10_shapes", g, [X],
               [np.clip(np.concatenate([X, X], axis=1), -0.5, 0.75)],
               opset=[helper.make_opsetid("", 10)])


def floor32(t):
    """Largest float32 <= t: for float32 x, (x <= t) == (x <= floor32(t)), so the float
    thresholds ONNX stores decide exactly as scikit-learn's float64 ones."""
    f = np.float32(t)
    if f > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def tree_attrs(estimators, leaf_weights, prefix):
    """Flatten fitted sklearn trees into TreeEnsemble attributes. leaf_weights(tree_index,
    tree, node) yields (target_or_class, weight) pairs for a leaf."""
    a = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values",
                         "nodes_modes", "nodes_truenodeids", "nodes_falsenodeids")}
    lt, ln, li, lw = [], [], [], []
    for ti, est in enumerate(estimators):
        tr = est.tree_
        for nid in range(tr.node_count):
            leaf = tr.children_left[nid] == -1
            a["nodes_treeids"].append(ti)
            a["nodes_nodeids"].append(nid)
            a["nodes_featureids"].append(0 if leaf else int(tr.feature[nid]))
            a["nodes_values"].append(0.0 if leaf else floor32(tr.threshold[nid]))
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            a["nodes_truenodeids"].append(0 if leaf else int(tr.children_left[nid]))
            a["nodes_falsenodeids"].append(0 if leaf else int(tr.children_right[nid]))
            if leaf:
                for target, w in leaf_weights(ti, tr, nid):
                    lt.append(ti)
                    ln.append(nid)
                    li.append(target)
                    lw.append(float(w))
    a[prefix + "treeids"] = lt
    a[prefix + "nodeids"] = ln
    a[prefix + "ids"] = li
    a[prefix + "weights"] = lw
    return a


def tree_models(out):
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    Xd = X.astype(np.float64)
    nf = X.shape[1]

    # Random forest: per-tree class probabilities averaged (weights pre-divided, SUM).
    rf = RandomForestClassifier(n_estimators=7, max_depth=5, random_state=0).fit(Xd, y)
    n = len(rf.estimators_)

    def rf_leaf(ti, tr, nid):
        v = tr.value[nid][0]
        v = v / v.sum()
        return [(c, v[c] / n) for c in range(2)]

    attrs = tree_attrs(rf.estimators_, rf_leaf, "class_")
    nodes = [helper.make_node("TreeEnsembleClassifier", ["X"], ["label", "probabilities"],
                              domain="ai.onnx.ml", classlabels_int64s=[0, 1],
                              post_transform="NONE", **attrs)]
    g = helper.make_graph(nodes, "rf", [tabular("X", nf)], [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", FLOAT, ["N", 2])])
    p = rf.predict_proba(Xd)
    write_case(out, "bc_random_forest", g, [X],
               [np.argmax(p, axis=1).astype(np.int64), p.astype(np.float32)])
    np.savetxt(os.path.join(out, "bc_rf_p.txt"), p[:, 1], fmt="%.17g")

    # Single regression tree (SUM of one tree).
    dt = DecisionTreeRegressor(max_depth=6, random_state=0).fit(Xd, Xd[:, 0] * 0.01 + y)
    attrs = tree_attrs([dt], lambda ti, tr, nid: [(0, tr.value[nid][0][0])], "target_")
    nodes = [helper.make_node("TreeEnsembleRegressor", ["X"], ["variable"], domain="ai.onnx.ml",
                              n_targets=1, aggregate_function="SUM", **attrs)]
    g = helper.make_graph(nodes, "dt", [tabular("X", nf)],
                          [helper.make_tensor_value_info("variable", FLOAT, ["N", 1])])
    write_case(out, "bc_tree_regressor", g, [X],
               [dt.predict(Xd).reshape(-1, 1).astype(np.float32)])

    # Gradient boosting: learning-rate-scaled leaves plus the initial estimate as base value.
    gb = GradientBoostingRegressor(n_estimators=10, max_depth=3, random_state=0).fit(
        Xd, Xd[:, 1] * 0.05 + y)
    lr = gb.learning_rate
    attrs = tree_attrs([e[0] for e in gb.estimators_],
                       lambda ti, tr, nid: [(0, lr * tr.value[nid][0][0])], "target_")
    base = float(gb.init_.constant_.ravel()[0]) if hasattr(gb.init_, "constant_") else float(
        gb._raw_predict_init(Xd[:1]).ravel()[0])
    nodes = [helper.make_node("TreeEnsembleRegressor", ["X"], ["variable"], domain="ai.onnx.ml",
                              n_targets=1, aggregate_function="SUM", base_values=[base],
                              **attrs)]
    g = helper.make_graph(nodes, "gb", [tabular("X", nf)],
                          [helper.make_tensor_value_info("variable", FLOAT, ["N", 1])])
    write_case(out, "bc_gradient_boosting", g, [X],
               [gb.predict(Xd).reshape(-1, 1).astype(np.float32)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    breast_cancer(out)
    iris(out)
    transformers(out)
    tree_models(out)


if __name__ == "__main__":
    main()
