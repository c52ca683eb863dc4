#!/usr/bin/python3
"""Models, rows and scikit-learn timings for benchmarks/model/run.sh.

  make_bench.py make OUTDIR [--rows N] [--train N]
      Trains on a separate sample (--train rows, 50 features) a LogisticRegression, a
      GradientBoostingClassifier and an xgboost XGBClassifier (300 trees, depth 6 each),
      exports them to ONNX the way
      tests/unit/model/make_e2e.py does (lr.onnx: LinearClassifier + Normalizer + ZipMap as
      skl2onnx lays it out; lr_gemm.onnx: Gemm + Sigmoid; gbt.onnx, xgb.onnx:
      TreeEnsembleClassifier), and writes the benchmark rows X.bin (float32 [N, 50]),
      scikit-learn's predict_proba[:, 1] on them (p_lr.bin, p_gbt.bin, float64), xgboost's
      leaves summed in float64 (p_xgb.bin) and the fitted models (models.pickle).
  make_bench.py time OUTDIR --threads 1|all [--repeats K]
      Times predict_proba of the three models on X.bin, best of K, and prints one JSON line
      per model (xgboost with n_jobs 1 or all cores). --threads 1 limits numpy's BLAS (and any OpenMP pool) to one thread with
      threadpoolctl; scikit-learn's tree prediction is single-threaded either way.
  make_bench.py make-big OUTDIR [--rows N]
      Writes XL.bin, N rows (default 10M) x 50 float32 features (2 GB at 10M), generated in
      numpy in blocks of 1M rows (features of the same scale as make_classification's) and
      written once as raw float32: the rows of the large LR benchmark.
  make_bench.py time-big OUTDIR [--repeats K]
      On one core (threadpoolctl limits numpy's BLAS to 1 thread), best of K, on XL.bin held
      in memory, prints one JSON line with:
        numpy    1/(1+exp(-(X@w+b))) in float32 with the LR's coefficients (the issue's
                 reference); its output is written to p_np_big.bin (float64) for the check
        sklearn  the same LogisticRegression's predict_proba
        sum      numpy X.sum() (a memory read in numpy; the driver measures its own too)
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


def make(a):
    import onnx
    from onnx import helper
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    import make_e2e as e2e

    X, y = make_classification(n_samples=a.train + a.rows, n_features=NF, n_informative=20,
                               n_redundant=10, random_state=0)
    X = X.astype(np.float32)
    Xt, yt, Xb = X[:a.train], y[:a.train], np.ascontiguousarray(X[a.train:])
    t = time.time()
    lr = LogisticRegression(max_iter=2000).fit(Xt.astype(np.float64), yt)
    gb = GradientBoostingClassifier(n_estimators=300, max_depth=6, max_features=0.2,
                                    random_state=0).fit(Xt, yt)
    xg = e2e.xgboost.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1,
                                   base_score=0.5, tree_method="exact",
                                   random_state=0).fit(Xt, yt)
    nodes = sum(e.tree_.node_count for e in gb.estimators_[:, 0])
    print(f"trained on {a.train} rows in {time.time() - t:.1f} s; the ensemble has "
          f"{nodes} nodes (a full one {300 * 127})", file=sys.stderr)
    opset = [helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)]
    for name, g in (("lr", e2e.export_lr(lr)), ("lr_gemm", e2e.export_lr_gemm(lr)),
                    ("gbt", e2e.export_gbt(gb, NF)), ("xgb", e2e.export_xgb(xg, NF))):
        m = helper.make_model(g, opset_imports=opset, producer_name="fedval-bench")
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(a.out, f"{name}.onnx"))
    Xb.tofile(os.path.join(a.out, "X.bin"))
    lr.predict_proba(Xb)[:, 1].astype(np.float64).tofile(os.path.join(a.out, "p_lr.bin"))
    gb.predict_proba(Xb)[:, 1].astype(np.float64).tofile(os.path.join(a.out, "p_gbt.bin"))
    e2e.xgb_reference(xg, Xb).astype(np.float64).tofile(os.path.join(a.out, "p_xgb.bin"))
    with open(os.path.join(a.out, "models.pickle"), "wb") as f:
        pickle.dump({"lr": lr, "gbt": gb, "xgb": xg}, f)


def timed(a):
    from threadpoolctl import threadpool_limits

    with open(os.path.join(a.out, "models.pickle"), "rb") as f:
        models = pickle.load(f)
    X = np.fromfile(os.path.join(a.out, "X.bin"), dtype=np.float32).reshape(-1, NF)
    limit = 1 if a.threads == "1" else None
    with threadpool_limits(limits=limit):
        for name in ("lr", "gbt", "xgb"):
            if name == "xgb":
                models[name].set_params(n_jobs=1 if a.threads == "1" else os.cpu_count())
            best = None
            for _ in range(a.repeats):
                t = time.perf_counter()
                models[name].predict_proba(X)
                dt = time.perf_counter() - t
                best = dt if best is None or dt < best else best
            print(json.dumps({"model": name, "rows": X.shape[0], "threads": a.threads,
                              "seconds": round(best, 6),
                              "rows_per_s": round(X.shape[0] / best, 1)}))


def make_big(a):
    rng = np.random.default_rng(7)
    block = 1_000_000
    with open(os.path.join(a.out, "XL.bin"), "wb") as f:
        for r0 in range(0, a.rows, block):
            n = min(block, a.rows - r0)
            (rng.standard_normal((n, NF), dtype=np.float32) * np.float32(2.0)).tofile(f)
    print(f"wrote {a.rows} rows x {NF} float32 to XL.bin", file=sys.stderr)


def time_big(a):
    from threadpoolctl import threadpool_limits

    with open(os.path.join(a.out, "models.pickle"), "rb") as f:
        lr = pickle.load(f)["lr"]
    X = np.fromfile(os.path.join(a.out, "XL.bin"), dtype=np.float32).reshape(-1, NF)
    w = lr.coef_.ravel().astype(np.float32)
    b = np.float32(lr.intercept_[0])
    n = X.shape[0]

    def best_of(f):
        best, res = None, None
        for _ in range(a.repeats):
            t = time.perf_counter()
            res = f()
            dt = time.perf_counter() - t
            best = dt if best is None or dt < best else best
        return best, res

    out = {"rows": n, "bytes": X.nbytes}
    with threadpool_limits(limits=1):
        f = lambda: 1 / (1 + np.exp(-(X @ w + b)))
        f()  # untimed, as the driver's first run
        t, p = best_of(f)
        out["numpy"] = {"seconds": round(t, 6), "rows_per_s": round(n / t, 1)}
        p.astype(np.float64).tofile(os.path.join(a.out, "p_np_big.bin"))
        del p
        t, _ = best_of(lambda: lr.predict_proba(X))
        out["sklearn"] = {"seconds": round(t, 6), "rows_per_s": round(n / t, 1)}
        t, _ = best_of(lambda: X.sum())
        out["sum"] = {"seconds": round(t, 6), "rows_per_s": round(n / t, 1),
                      "gb_per_s": round(X.nbytes / t / 1e9, 3)}
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("make", "time", "make-big", "time-big"))
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--threads", default="1")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.mode == "make":
        make(a)
    elif a.mode == "make-big":
        make_big(a)
    elif a.mode == "time-big":
        time_big(a)
    else:
        timed(a)


if __name__ == "__main__":
    main()
