#!/usr/bin/python3
"""Test-time inputs of test_tasks: three hospitals' data, a regression model, a survival risk
model and a 3-class classifier (ONNX via onnx.helper), their manifests and benchmarks, and the
expected results computed independently here (numpy, scikit-learn, a brute-force Harrell's C).

usage: make_tasks.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.metrics import (confusion_matrix, mean_absolute_error, mean_squared_error,
                             r2_score, roc_auc_score)

out = sys.argv[1]
rng = np.random.default_rng(7)
VARS = ["x1", "x2", "x3"]
K = 3

# ---- models: weights chosen here, applied below in float32 as the node does ----
W_REG = np.array([[2.0], [-1.0], [0.5]], dtype=np.float32)
B_REG = np.array([10.0], dtype=np.float32)
W_SURV = np.array([[0.8], [0.3], [-0.4]], dtype=np.float32)
B_SURV = np.array([0.0], dtype=np.float32)
W_MC = np.array([[1.0, -0.5, 0.0], [0.0, 1.0, -1.0], [-0.5, 0.2, 1.0]], dtype=np.float32)
B_MC = np.array([0.1, 0.0, -0.1], dtype=np.float32)


def linear(name, w, b, softmax=False, out_name="variable"):
    nodes = [helper.make_node("MatMul", ["input", "W"], ["xw"]),
             helper.make_node("Add", ["xw", "B"], ["z" if softmax else out_name])]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["z"], [out_name], axis=1))
    g = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", w.shape[0]])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["N", w.shape[1]])],
        [helper.make_tensor("W", TensorProto.FLOAT, w.shape, w.flatten().tolist()),
         helper.make_tensor("B", TensorProto.FLOAT, b.shape, b.tolist())])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, name + ".onnx"))


linear("reg", W_REG, B_REG)
linear("surv", W_SURV, B_SURV, out_name="risk")
linear("mc", W_MC, B_MC, softmax=True, out_name="probabilities")

for name, output in [("reg", "predicted length of stay (days)"),
                     ("surv", "risk score (higher: earlier event)"),
                     ("mc", "probability of each severity class 0, 1, 2")]:
    man = {"name": "task-" + name, "version": "1.0.0",
           "input": {"tensor": "input", "variables": VARS},
           "intended_use": "test model for the " + name + " task", "output": output}
    with open(os.path.join(out, name + ".manifest.json"), "w") as f:
        json.dump(man, f)

variables = [{"name": v, "unit": "1"} for v in VARS]
benches = {
    "reg": {"name": "los-regression", "version": "1", "task": "regression",
            "title": "length of stay", "label": "los", "variables": variables},
    "surv": {"name": "time-to-event", "version": "1", "task": "survival",
             "title": "time to readmission", "label": "event", "time": "followup",
             "variables": variables},
    "mc": {"name": "severity", "version": "1", "task": "multiclass", "classes": K,
           "title": "severity class", "label": "severity", "variables": variables},
}
for name, b in benches.items():
    with open(os.path.join(out, name + ".bench.json"), "w") as f:
        json.dump(b, f)


def cindex_counts(t, e, r):
    """Brute force over all pairs: comparable pairs and 2 x concordant + risk ties."""
    comp = 0
    conc2 = 0
    for i in range(len(t)):
        if not e[i]:
            continue
        later = t > t[i]
        comp += int(later.sum())
        conc2 += int(2 * (r[i] > r[later]).sum() + (r[i] == r[later]).sum())
    return comp, conc2


expected = {"sites": {}}
all_y = []
all_p = []
# every site's records with the models' outputs, for `fedval stats --task` (offline)
offline = open(os.path.join(out, "all.csv"), "w")
offline.write("site,pred,los,risk,fu,event,p0,p1,p2,sev\n")
for s, (n, shift) in enumerate([(700, 0.0), (900, 0.6), (500, -0.4)]):
    site = "hospital-" + "abc"[s]
    x = rng.normal(shift, 1.0, size=(n, 3)).astype(np.float32)
    # the local column names differ from the benchmark's: the node's [mapping] joins them
    los = (x @ W_REG)[:, 0] + B_REG[0] + rng.normal(0, 1.5 + s, n) + 0.3 * s
    los = los.astype(np.float32)
    risk = ((x @ W_SURV)[:, 0] + B_SURV[0]).astype(np.float32)
    t_event = rng.exponential(np.exp(-risk.astype(float)))
    t_cens = rng.exponential(1.2, n)
    follow = np.minimum(t_event, t_cens).astype(np.float32)
    event = (t_event <= t_cens).astype(int)
    z = (x @ W_MC + B_MC).astype(np.float32)
    pr = np.exp(z - z.max(1, keepdims=True))
    pr = pr / pr.sum(1, keepdims=True)
    pd = pr.astype(float)
    sev = np.array([rng.choice(K, p=q / q.sum()) for q in pd])
    cols = ["a1", "a2", "a3", "stay_days", "fu_years", "readmitted", "sev_class"]
    with open(os.path.join(out, site + ".csv"), "w") as f:
        f.write(",".join(cols) + "\n")
        for i in range(n):
            f.write("%r,%r,%r,%r,%r,%d,%d\n" % (float(x[i, 0]), float(x[i, 1]),
                                                float(x[i, 2]), float(los[i]),
                                                float(follow[i]), event[i], sev[i]))
    pred = ((x @ W_REG)[:, 0] + B_REG[0]).astype(np.float32).astype(float)
    y = los.astype(float)
    for i in range(n):
        offline.write("%s,%r,%r,%r,%r,%d,%r,%r,%r,%d\n" % (
            site, pred[i], float(los[i]), float(risk[i]), float(follow[i]), event[i],
            float(pr[i, 0]), float(pr[i, 1]), float(pr[i, 2]), sev[i]))
    comp, conc2 = cindex_counts(follow.astype(float), event, risk.astype(float))
    cm = confusion_matrix(sev, pr.argmax(1), labels=list(range(K)))
    expected["sites"][site] = {
        "n": n,
        "mae": mean_absolute_error(y, pred),
        "rmse": float(np.sqrt(mean_squared_error(y, pred))),
        "r2": r2_score(y, pred),
        "events": int(event.sum()), "comparable_pairs": comp, "concordant2": conc2,
        "auroc": [roc_auc_score(sev == c, pr[:, c]) for c in range(K)],
        "confusion": cm.tolist(),
    }
    all_y.append(y)
    all_p.append(pred)
offline.close()
y = np.concatenate(all_y)
p = np.concatenate(all_p)
slope, intercept = np.polyfit(p, y, 1)
expected["pooled"] = {"mae": mean_absolute_error(y, p),
                      "rmse": float(np.sqrt(mean_squared_error(y, p))),
                      "r2": r2_score(y, p), "calibration_slope": slope,
                      "calibration_intercept": intercept}
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
