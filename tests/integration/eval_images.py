#!/usr/bin/python3
"""The model and the reference numbers of tests/integration/test_eval_images.c.

Usage: /usr/bin/python3 eval_images.py DIR

DIR holds index.csv (columns file,y) and the 8x8 8-bit gray, non-interlaced PNG files it
lists, written by the test with libpng. This script writes DIR/model.onnx, a small CNN over
[N, 1, 8, 8] (Conv 3x3 with padding, Relu, GlobalAveragePool, Flatten, Gemm, Sigmoid, random
weights), then computes independently of fedval, in float64 with numpy:
  - the pixels, decoding each PNG here with zlib and struct (no imaging library), divided by
    255 as docs/data-sources.md says;
  - the model's score for each image;
  - AUROC as the Mann-Whitney statistic (ties count one half) and the Brier score;
and prints them as JSON: {"n": ..., "auc": ..., "brier": ..., "scores": [...]}.
"""
import csv
import json
import os
import struct
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

H = W = 8


def decode_png_gray8(path):
    """Pixels of an 8-bit gray non-interlaced PNG as a uint8 [H, W] array."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    w, h, depth, color, _, _, interlace = ihdr
    assert (w, h, depth, color, interlace) == (W, H, 8, 0, 0), (path, ihdr)
    raw = zlib.decompress(idat)
    out = np.zeros((h, w), dtype=np.int64)
    prev = np.zeros(w, dtype=np.int64)
    for y in range(h):
        ft = raw[y * (w + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=w, offset=y * (w + 1) + 1)
        cur = np.zeros(w, dtype=np.int64)
        for x in range(w):
            a = cur[x - 1] if x else 0
            b = prev[x]
            c = prev[x - 1] if x else 0
            if ft == 0:
                pred = 0
            elif ft == 1:
                pred = a
            elif ft == 2:
                pred = b
            elif ft == 3:
                pred = (a + b) // 2
            else:  # Paeth
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (int(line[x]) + pred) & 0xFF
        out[y] = cur
        prev = cur
    return out


def model(out_path, rng):
    wc = rng.normal(0, 0.7, (2, 1, 3, 3))
    wc[0] = np.abs(wc[0])  # channel 0 responds to brightness: the model is not trivial
    wc = wc.astype(np.float32)
    bc = rng.normal(0, 0.1, 2).astype(np.float32)
    wg = np.array([[2.5], [-1.5]], dtype=np.float32)
    bg = np.array([-0.2], dtype=np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((wc, "Wc"), (bc, "Bc"), (wg, "Wg"), (bg, "Bg"))]
    nodes = [
        helper.make_node("Conv", ["X", "Wc", "Bc"], ["c"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "Wg", "Bg"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["probability"]),
    ]
    g = helper.make_graph(
        nodes, "image_cnn",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 1, H, W])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
        inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, out_path)
    return (wc.astype(np.float64), bc.astype(np.float64), wg.astype(np.float64),
            bg.astype(np.float64))


def score(x, params):
    wc, bc, wg, bg = params
    pad = np.pad(x, 1)
    feats = []
    for k in range(wc.shape[0]):
        conv = np.full((H, W), bc[k])
        for dy in range(3):
            for dx in range(3):
                conv += wc[k, 0, dy, dx] * pad[dy:dy + H, dx:dx + W]
        feats.append(np.maximum(conv, 0).mean())
    z = float(np.dot(feats, wg[:, 0]) + bg[0])
    return 1.0 / (1.0 + np.exp(-z))


def main():
    d = sys.argv[1]
    params = model(os.path.join(d, "model.onnx"), np.random.default_rng(7))
    scores, labels = [], []
    with open(os.path.join(d, "index.csv"), newline="") as f:
        for row in csv.DictReader(f):
            # The pixels fedval is fed are float32: the reference starts from the same.
            x = (decode_png_gray8(os.path.join(d, row["file"])) / 255.0)
            x = x.astype(np.float32).astype(np.float64)
            scores.append(score(x, params))
            labels.append(int(row["y"]))
    s, y = np.array(scores), np.array(labels)
    pos, neg = s[y == 1], s[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    print(json.dumps({"n": len(s), "auc": wins / (len(pos) * len(neg)),
                      "brier": float(np.mean((s - y) ** 2)), "scores": s.tolist()}))


if __name__ == "__main__":
    main()
