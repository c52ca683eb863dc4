#!/usr/bin/python3
"""Scores, labels and the Python reference timings for benchmarks/stats/run.sh.

  bench_auc.py make OUTDIR [--n N]
      Writes two data sets of N scores (labels ~20% positive, uint8):
        noties_s.f64  continuous float64 scores (a logistic of a shifted normal): no ties
        ties_s.f64    the same rounded to 3 decimals: at most 1001 distinct values
      with labels.u8 shared by both.
  bench_auc.py time OUTDIR --set ties|noties [--repeats K]
      On one core (threadpoolctl limits every BLAS/OpenMP pool to 1), best of K runs each:
        sklearn  sklearn.metrics.roc_auc_score(y, s) (AUROC only)
        rank     numpy argsort rank formula: (sum of the cases' mid-ranks - n1(n1+1)/2)/(n1 n0)
                 (AUROC only; mid-ranks so that ties count one half)
        delong   numpy "fast DeLong" (Sun & Xu 2014): three mid-rankings, AUROC + variance
      and prints one JSON line with seconds, scores/s, AUROC (and variance) of each.
"""
import argparse
import json
import os
import time

import numpy as np


def make(a):
    rng = np.random.default_rng(20261125)
    y = (rng.random(a.n) < 0.2).astype(np.uint8)
    z = rng.standard_normal(a.n) + 1.2 * y - 1.5
    s = 1.0 / (1.0 + np.exp(-z))
    y.tofile(os.path.join(a.out, "labels.u8"))
    s.tofile(os.path.join(a.out, "noties_s.f64"))
    np.round(s, 3).tofile(os.path.join(a.out, "ties_s.f64"))
    print(f"{a.n} scores, {y.mean():.4f} positive", flush=True)


def midrank(v):
    """1-based mid-ranks of v (ties get the mean of their ranks)."""
    n = v.shape[0]
    order = np.argsort(v)
    sv = v[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(sv[1:], sv[:-1], out=first[1:])
    start = np.flatnonzero(first)
    end = np.append(start[1:], n)
    mid = (start + end + 1) / 2.0  # ranks start+1 .. end
    r = np.empty(n)
    r[order] = np.repeat(mid, end - start)
    return r


def auc_rank(y, s):
    pos = y == 1
    n1 = int(pos.sum())
    n0 = y.shape[0] - n1
    r = midrank(s)
    return (r[pos].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0)


def auc_fast_delong(y, s):
    pos, neg = s[y == 1], s[y == 0]
    m, n = pos.shape[0], neg.shape[0]
    tx, ty = midrank(pos), midrank(neg)
    tz = midrank(np.concatenate([pos, neg]))
    auc = (tz[:m].sum() - m * (m + 1) / 2.0) / (m * n)
    v10 = (tz[:m] - tx) / n        # per case: share of controls below (ties 1/2)
    v01 = 1.0 - (tz[m:] - ty) / m  # per control: share of cases above (ties 1/2)
    var = v10.var(ddof=1) / m + v01.var(ddof=1) / n
    return auc, var


def best_of(k, f):
    best, res = None, None
    for _ in range(k):
        t = time.perf_counter()
        res = f()
        dt = time.perf_counter() - t
        best = dt if best is None or dt < best else best
    return best, res


def timed(a):
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    y = np.fromfile(os.path.join(a.out, "labels.u8"), dtype=np.uint8)
    s = np.fromfile(os.path.join(a.out, f"{a.set}_s.f64"), dtype=np.float64)
    n = y.shape[0]
    out = {"set": a.set, "n": n, "distinct": int(np.unique(s).shape[0])}
    with threadpool_limits(limits=1):
        t, auc = best_of(a.repeats, lambda: roc_auc_score(y, s))
        out["sklearn"] = {"seconds": round(t, 6), "scores_per_s": round(n / t, 1), "auc": auc}
        t, auc = best_of(a.repeats, lambda: auc_rank(y, s))
        out["rank"] = {"seconds": round(t, 6), "scores_per_s": round(n / t, 1), "auc": auc}
        t, (auc, var) = best_of(a.repeats, lambda: auc_fast_delong(y, s))
        out["delong"] = {"seconds": round(t, 6), "scores_per_s": round(n / t, 1), "auc": auc,
                         "var": var}
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("make", "time"))
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--set", choices=("ties", "noties"), default="ties")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.mode == "make":
        make(a)
    else:
        timed(a)


if __name__ == "__main__":
    main()
