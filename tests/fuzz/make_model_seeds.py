#!/usr/bin/python3
"""Write the python3-onnx seeds of the model fuzz corpus (tests/fuzz/corpus/model); the
logistic regressions come from fv_model_write_logreg (tests/fuzz/make_seeds.c).

Usage, from the repository root: /usr/bin/python3 tests/fuzz/make_model_seeds.py tests/fuzz/corpus/model

Seeds named ok-* must load (tests/unit/model/test_model_corpus.c checks it). They are small on
purpose: libFuzzer mutates every byte of them.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
OUT = sys.argv[1]


def save(name, nodes, inputs, outputs, inits=(), opset=13, ml=False, ir=8):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    ops = [helper.make_opsetid("", opset)]
    if ml:
        ops.append(helper.make_opsetid("ai.onnx.ml", 1))
    model = helper.make_model(graph, opset_imports=ops, producer_name="fedval-fuzz")
    model.ir_version = ir
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(model.SerializeToString())


def t(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name=name)


SEQMAP = onnx.TypeProto()  # seq(map(int64, float)), as ZipMap declares it
SEQMAP.sequence_type.elem_type.map_type.key_type = TensorProto.INT64
SEQMAP.sequence_type.elem_type.map_type.value_type.tensor_type.elem_type = F

x3 = helper.make_tensor_value_info("x", F, ["N", 3])

# An MLP: Gemm, Relu, Gemm, Softmax -> [N, 2].
save("ok-mlp", [
    helper.make_node("Gemm", ["x", "W1", "b1"], ["h"]),
    helper.make_node("Relu", ["h"], ["r"]),
    helper.make_node("Gemm", ["r", "W2", "b2"], ["z"]),
    helper.make_node("Softmax", ["z"], ["p"], axis=1),
], [x3], [helper.make_tensor_value_info("p", F, ["N", 2])],
    [t("W1", np.arange(12).reshape(3, 4) / 10 - 0.5), t("b1", [0.1, -0.2, 0.3, 0]),
     t("W2", np.arange(8).reshape(4, 2) / 7 - 0.5), t("b2", [0.0, 0.1])])

# A standardiser in front of a sigmoid: Sub, Div, MatMul, Add, Sigmoid, Clip.
save("ok-scaled-logreg", [
    helper.make_node("Sub", ["x", "mu"], ["c"]),
    helper.make_node("Div", ["c", "sd"], ["s"]),
    helper.make_node("MatMul", ["s", "w"], ["l"]),
    helper.make_node("Add", ["l", "b"], ["l2"]),
    helper.make_node("Sigmoid", ["l2"], ["p0"]),
    helper.make_node("Clip", ["p0", "lo", "hi"], ["p"]),
], [x3], [helper.make_tensor_value_info("p", F, ["N", 1])],
    [t("mu", [1, 2, 3]), t("sd", [1, 0.5, 2]), t("w", [[0.3], [-0.2], [0.1]]), t("b", [0.05]),
     t("lo", 0.0), t("hi", 1.0)])

# An ai.onnx.ml tree ensemble classifier with a ZipMap.
save("ok-tree-zipmap", [
    helper.make_node("TreeEnsembleClassifier", ["x"], ["label", "prob"], domain="ai.onnx.ml",
                     nodes_treeids=[0, 0, 0], nodes_nodeids=[0, 1, 2],
                     nodes_featureids=[1, 0, 0], nodes_values=[0.5, 0, 0],
                     nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"],
                     nodes_truenodeids=[1, 0, 0], nodes_falsenodeids=[2, 0, 0],
                     nodes_hitrates=[1.0, 1.0, 1.0], nodes_missing_value_tracks_true=[0, 0, 0],
                     class_treeids=[0, 0, 0, 0], class_nodeids=[1, 1, 2, 2],
                     class_ids=[0, 1, 0, 1], class_weights=[0.8, 0.2, 0.1, 0.9], classlabels_int64s=[0, 1],
                     post_transform="NONE"),
    helper.make_node("ZipMap", ["prob"], ["probs"], domain="ai.onnx.ml",
                     classlabels_int64s=[0, 1]),
], [x3], [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
          helper.make_value_info("probs", SEQMAP)],
    ml=True)

# Shape arithmetic: Shape, Gather, Unsqueeze, Concat, Reshape, ReduceMean.
save("ok-shape-ops", [
    helper.make_node("Shape", ["x"], ["shp"]),
    helper.make_node("Gather", ["shp", "zero"], ["n"], axis=0),
    helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
    helper.make_node("Concat", ["n1", "three"], ["s2"], axis=0),
    helper.make_node("Reshape", ["x", "s2"], ["y"]),
    helper.make_node("ReduceMean", ["y"], ["m"], axes=[1], keepdims=1),
    helper.make_node("Sigmoid", ["m"], ["p"]),
], [x3], [helper.make_tensor_value_info("p", F, ["N", 1])],
    [numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
     numpy_helper.from_array(np.array([0], dtype=np.int64), "ax0"),
     numpy_helper.from_array(np.array([3], dtype=np.int64), "three")])

# Cast, Where, Greater, Not on booleans.
save("ok-where", [
    helper.make_node("Greater", ["x", "thr"], ["g"]),
    helper.make_node("Not", ["g"], ["ng"]),
    helper.make_node("Where", ["ng", "x", "thr"], ["w"]),
    helper.make_node("ReduceMax", ["w"], ["m"], axes=[1], keepdims=1),
    helper.make_node("Sigmoid", ["m"], ["p"]),
], [x3], [helper.make_tensor_value_info("p", F, ["N", 1])], [t("thr", [0.0, 0.5, 1.0])])

# Refused: an unknown operator, an opset from the future, external data, a huge declared tensor.
save("unsupported-op", [helper.make_node("FancyOp", ["x"], ["p"])], [x3],
     [helper.make_tensor_value_info("p", F, ["N", 3])])
save("opset-99", [helper.make_node("Sigmoid", ["x"], ["p"])], [x3],
     [helper.make_tensor_value_info("p", F, ["N", 3])], opset=99)
ext = TensorProto(name="w", data_type=F, dims=[3, 1])
ext.data_location = TensorProto.EXTERNAL
ext.external_data.add(key="location", value="/etc/passwd")
save("external-data", [helper.make_node("MatMul", ["x", "w"], ["p"])], [x3],
     [helper.make_tensor_value_info("p", F, ["N", 1])], [ext])
save("huge-constant-of-shape", [
    helper.make_node("ConstantOfShape", ["shape"], ["big"]),
    helper.make_node("ReduceSum", ["big"], ["s"], keepdims=0),
    helper.make_node("Add", ["x", "s"], ["p"]),
], [x3], [helper.make_tensor_value_info("p", F, ["N", 3])],
    [numpy_helper.from_array(np.array([1 << 20, 1 << 20], dtype=np.int64), "shape")])
save("cycle", [helper.make_node("Add", ["x", "b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])],
     [x3], [helper.make_tensor_value_info("b", F, ["N", 3])])
save("raw-data-short", [helper.make_node("MatMul", ["x", "w"], ["p"])], [x3],
     [helper.make_tensor_value_info("p", F, ["N", 1])],
     [TensorProto(name="w", data_type=F, dims=[3, 1], raw_data=b"\0" * 6)])
