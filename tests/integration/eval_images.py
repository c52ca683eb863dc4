#!/usr/bin/python3
"""The model and the reference numbers of tests/integration/test_eval_images.c.

Usage: /usr/bin/python3 eval_images.py DIR
       /usr/bin/python3 eval_images.py --dicom DIR

DIR holds index.csv (columns file,y) and the 8x8 8-bit gray, non-interlaced PNG files it
lists, written by the test with libpng. This script writes DIR/model.onnx, a small CNN over
[N, 1, 8, 8] (Conv 3x3 with padding, Relu, GlobalAveragePool, Flatten, Gemm, Sigmoid, random
weights), then computes independently of fedval, in float64 with numpy:
  - the pixels, decoding each PNG here with zlib and struct (no imaging library), divided by
    255 as docs/data-sources.md says;
  - the model's score for each image;
  - AUROC as the Mann-Whitney statistic (ties count one half) and the Brier score;
and prints them as JSON: {"n": ..., "auc": ..., "brier": ..., "scores": [...]}.

With --dicom, DIR starts empty: the script first writes a folder of 8x8 DICOM files with pydicom
(the same kind of images, in turn 8-bit MONOCHROME2 Explicit VR, 8-bit MONOCHROME1 Implicit VR
stored inverted, and 16-bit with Rescale Slope 257/128) and index.csv, then reads the pixels
back with pydicom (pixel_array, MONOCHROME1 inverted, rescale applied) divided by 255 (8-bit)
or 257 * 255 (16-bit) as docs/data-sources.md says.
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


def write_dicom_folder(d):
    """NIMG 8x8 images as in test_eval_images.c's PNG folder (noise, a bright square for most
    positives), written as DICOM files of three kinds, and index.csv."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
    rng = np.random.default_rng(12345)
    rows = ["file,y"]
    for i in range(40):
        y = i % 2
        blob = (i % 7 != 1) if y else (i % 9 == 0)
        s = rng.integers(0, 128, size=(H, W))
        if blob:
            s[:4, :4] += 120
        kind = i % 3
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.%d" % (i + 10)
        meta.TransferSyntaxUID = ImplicitVRLittleEndian if kind == 1 else ExplicitVRLittleEndian
        meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.2"
        ds = FileDataset("x", {}, file_meta=meta, preamble=b"\0" * 128)
        ds.is_little_endian, ds.is_implicit_VR = True, kind == 1
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, \
            meta.MediaStorageSOPInstanceUID
        ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PixelRepresentation = H, W, 1, 0
        if kind == 2:
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
            ds.RescaleSlope, ds.RescaleIntercept = "2.0078125", "0"
            ds.PixelData = (s * 128).astype("<u2").tobytes()
        else:
            ds.PhotometricInterpretation = "MONOCHROME1" if kind == 1 else "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
            ds.PixelData = (255 - s if kind == 1 else s).astype("u1").tobytes()
        name = "img%02d.dcm" % i
        ds.save_as(os.path.join(d, name), write_like_original=False)
        rows.append("%s,%d" % (name, y))
    with open(os.path.join(d, "index.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


def decode_dicom(path):
    """Pixels of a DICOM file as docs/data-sources.md defines them, computed by pydicom."""
    from pydicom import dcmread
    from pydicom.pixel_data_handlers.util import apply_modality_lut
    ds = dcmread(path)
    arr = ds.pixel_array.astype(np.int64)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        arr = (2 ** ds.BitsStored - 1) - arr
    arr = apply_modality_lut(arr, ds).astype(np.float64)
    return arr / (255.0 if ds.BitsAllocated == 8 else 257.0 * 255.0)


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
    dicom = sys.argv[1] == "--dicom"
    d = sys.argv[-1]
    if dicom:
        write_dicom_folder(d)
    params = model(os.path.join(d, "model.onnx"), np.random.default_rng(7))
    scores, labels = [], []
    with open(os.path.join(d, "index.csv"), newline="") as f:
        for row in csv.DictReader(f):
            # The pixels fedval is fed are float32: the reference starts from the same.
            path = os.path.join(d, row["file"])
            x = decode_dicom(path) if dicom else decode_png_gray8(path) / 255.0
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
