#!/usr/bin/python3
"""DICOM files for the tests of lib/data/dicom.c and the image-folder source, written with
pydicom (Debian's python3-pydicom), and the values fedval must read from them.

Usage: /usr/bin/python3 make_dicom.py DIR
       /usr/bin/python3 make_dicom.py --seeds tests/fuzz/corpus/dicom

Writes into DIR the good files of GOOD and the bad files of BAD, and prints JSON:
  {"good": {file: {"rows": R, "cols": C, "samples": S, "bits": 8|16, "values": [...]}},
   "bad": {file: "a piece of the expected error message"}}
"values" are the C*H*W values in C, H, W order as docs/data-sources.md defines them before the
division by image_scale: pydicom's pixel_array, for MONOCHROME1 inverted within the range of
Bits Stored (lo + hi - v), then pydicom's apply_modality_lut (Rescale Slope and Intercept). The
arithmetic is pydicom's and numpy's, not fedval's.

With --seeds, the fuzz seed corpus instead (tests/fuzz/README.md): the good files as ok-*, the
wrong-size one (a valid file) as ok-5x3, and a few refused ones under their own names.
"""
import json
import os
import sys

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixel_data_handlers.util import apply_modality_lut
from pydicom.sequence import Sequence
from pydicom.uid import (ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                         JPEGBaseline8Bit)

ROWS, COLS = 3, 4


def new(ts, implicit=False):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    meta.TransferSyntaxUID = ts
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.2"
    ds = FileDataset("x", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = ts != ExplicitVRBigEndian
    ds.is_implicit_VR = implicit
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientName = "Test^Synthetic"
    ds.Modality = "OT"
    return ds


def image(ds, arr, photometric, bits=8, stored=None, signed=False, planar=0, rescale=None):
    """Set the Image Pixel module from arr ([R, C] or [R, C, 3] integers)."""
    stored = stored or bits
    ds.Rows, ds.Columns = arr.shape[0], arr.shape[1]
    ds.SamplesPerPixel = 3 if arr.ndim == 3 else 1
    ds.PhotometricInterpretation = photometric
    if arr.ndim == 3:
        ds.PlanarConfiguration = planar
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, stored, stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if rescale:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
    dt = {(8, False): "<u1", (8, True): "<i1", (16, False): "<u2", (16, True): "<i2"}
    a = arr.astype(dt[bits, signed])
    if arr.ndim == 3 and planar:
        a = a.transpose(2, 0, 1)
    raw = a.tobytes()
    if len(raw) % 2:
        raw += b"\0"
    ds.PixelData = raw
    ds["PixelData"].VR = "OB" if bits == 8 else "OW"


def values(path):
    """What fedval must read, computed by pydicom from the file as written."""
    from pydicom import dcmread
    ds = dcmread(path)
    arr = ds.pixel_array.astype(np.int64)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        b = ds.BitsStored
        lo, hi = (-(2 ** (b - 1)), 2 ** (b - 1) - 1) if ds.PixelRepresentation else (0, 2 ** b - 1)
        arr = lo + hi - arr
    arr = apply_modality_lut(arr, ds).astype(np.float64)
    if arr.ndim == 3:
        arr = arr.transpose(2, 0, 1)
    return {"rows": int(ds.Rows), "cols": int(ds.Columns), "samples": int(ds.SamplesPerPixel),
            "bits": int(ds.BitsAllocated), "values": [float(v) for v in arr.ravel()]}


def ramp(lo, hi, shape, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(lo, hi + 1, size=shape)
    a.flat[0], a.flat[-1] = lo, hi  # both ends of the range
    return a


def undefined_sequences(ds, depth=3):
    """Undefined-length sequences before the pixels: a private one nested depth deep, and an
    icon (0088,0200) with pixels of another size, which must be skipped."""
    inner = Dataset()
    inner.add_new(0x00091010, "LO", "deepest")
    for _ in range(depth):
        item = Dataset()
        item.add_new(0x00091010, "LO", "level")
        item.add_new(0x00091011, "SQ", Sequence([inner]))
        item[0x00091011].is_undefined_length = True
        inner.is_undefined_length_sequence_item = True
        inner = item
    ds.add_new(0x00090010, "LO", "FEDVAL TEST")
    ds.add_new(0x00091001, "SQ", Sequence([inner, Dataset()]))
    ds[0x00091001].is_undefined_length = True
    inner.is_undefined_length_sequence_item = True
    icon = Dataset()
    image(icon, np.full((2, 2), 7), "MONOCHROME2")
    ds.IconImageSequence = Sequence([icon])
    ds["IconImageSequence"].is_undefined_length = True
    icon.is_undefined_length_sequence_item = True


def save(d, name, ds):
    path = os.path.join(d, name)
    ds.save_as(path, write_like_original=False)
    return path


def good(d):
    out = {}
    shape, rgb = (ROWS, COLS), (ROWS, COLS, 3)
    cases = [
        ("mono8-explicit.dcm", ExplicitVRLittleEndian, False,
         dict(arr=ramp(0, 255, shape, 1), photometric="MONOCHROME2")),
        ("mono8-implicit.dcm", ImplicitVRLittleEndian, True,
         dict(arr=ramp(0, 255, shape, 2), photometric="MONOCHROME2")),
        ("u16-rescale-explicit.dcm", ExplicitVRLittleEndian, False,
         dict(arr=ramp(0, 65535, shape, 3), photometric="MONOCHROME2", bits=16,
              rescale=("0.5", "-1024"))),
        ("s16-rescale-implicit.dcm", ImplicitVRLittleEndian, True,
         dict(arr=ramp(-32768, 32767, shape, 4), photometric="MONOCHROME2", bits=16,
              signed=True, rescale=("1.25", "-7.5"))),
        ("s12-sequences-implicit", ImplicitVRLittleEndian, True,  # no extension: by magic
         dict(arr=ramp(-2048, 2047, shape, 5), photometric="MONOCHROME2", bits=16, stored=12,
              signed=True, rescale=("1", "-1024"))),
        ("s12-sequences-explicit.dcm", ExplicitVRLittleEndian, False,
         dict(arr=ramp(-2048, 2047, shape, 6), photometric="MONOCHROME2", bits=16, stored=12,
              signed=True)),
        ("mono1-8.dcm", ExplicitVRLittleEndian, False,
         dict(arr=ramp(0, 255, shape, 7), photometric="MONOCHROME1")),
        ("mono1-s16-implicit.dcm", ImplicitVRLittleEndian, True,
         dict(arr=ramp(-32768, 32767, shape, 8), photometric="MONOCHROME1", bits=16,
              signed=True, rescale=("2", "100"))),
        ("rgb8-explicit.dcm", ExplicitVRLittleEndian, False,
         dict(arr=ramp(0, 255, rgb, 9), photometric="RGB")),
        ("rgb8-planar-implicit.dcm", ImplicitVRLittleEndian, True,
         dict(arr=ramp(0, 255, rgb, 10), photometric="RGB", planar=1)),
        ("rgb16-planar-explicit.dcm", ExplicitVRLittleEndian, False,
         dict(arr=ramp(0, 65535, rgb, 11), photometric="RGB", bits=16, planar=1)),
    ]
    for name, ts, implicit, kw in cases:
        ds = new(ts, implicit)
        if "sequences" in name:
            undefined_sequences(ds)
        image(ds, **kw)
        out[name] = values(save(d, name, ds))
    return out


def raw_append(path, dst, extra):
    with open(path, "rb") as f:
        data = f.read()
    with open(dst, "wb") as f:
        f.write(extra(data))


def bad(d):
    out = {}
    base = new(ExplicitVRLittleEndian)
    image(base, ramp(0, 255, (ROWS, COLS), 20), "MONOCHROME2")
    ok = save(d, "base.dcm", base)
    with open(ok, "rb") as f:
        data = f.read()

    def write(name, b, why):
        with open(os.path.join(d, name), "wb") as f:
            f.write(b)
        out[name] = why

    write("cut-pixels.dcm", data[:-5], "runs past the end of the file")
    write("cut-header.dcm", data[:137], "truncated: an element header")
    write("magic.dcm", data[:128] + b"DICX" + data[132:], "not a DICOM file")
    write("tiny.dcm", data[:100], "not a DICOM file")
    # A private element after the pixels whose 16-bit length (200) runs past the end.
    write("long-element.dcm", data + b"\x09\x00\x10\x00LO\xc8\x00abcd",
          "(0009,0010) at byte")
    # Four bytes of a 32-bit length (OB) that claim 4 GiB.
    write("huge-length.dcm", data + b"\x09\x00\x10\x10OB\0\0\xf0\xff\xff\xff",
          "runs past the end")

    def variant(name, why, ts=ExplicitVRLittleEndian, implicit=False, **kw):
        ds = new(ts, implicit)
        args = dict(arr=ramp(0, 255, (ROWS, COLS), 21), photometric="MONOCHROME2")
        args.update(kw.pop("image", {}))
        image(ds, **args)
        for k, v in kw.items():
            setattr(ds, k, v)
        save(d, name, ds)
        out[name] = why

    variant("big-endian.dcm", "1.2.840.10008.1.2.2 (0002,0010) is big endian",
            ts=ExplicitVRBigEndian)
    variant("absurd.dcm", "more than", Rows=65535, Columns=65535)
    variant("wrong-size.dcm", "is 5x3 pixels (width x height), expected 4x3",
            image=dict(arr=ramp(0, 255, (ROWS, 5), 22)))
    variant("ybr.dcm", "'YBR_FULL' is not read", image=dict(arr=ramp(0, 255, (ROWS, COLS, 3), 23),
                                                            photometric="YBR_FULL"))
    variant("frames.dcm", "Number of Frames", NumberOfFrames=2)
    variant("bits12.dcm", "Bits Allocated (0028,0100) is 12", BitsAllocated=12)
    variant("highbit.dcm", "High Bit (0028,0102) is 15", image=dict(bits=16, stored=12),
            HighBit=15)
    variant("slope0.dcm", "Rescale Slope", RescaleSlope="0", RescaleIntercept="0")
    variant("short-pixels.dcm", "Pixel Data (7FE0,0010) has 10 bytes", PixelData=b"\0" * 10)

    jpeg = new(JPEGBaseline8Bit)
    image(jpeg, ramp(0, 255, (ROWS, COLS), 24), "MONOCHROME2")
    jpeg.PixelData = encapsulate([b"\xff\xd8\xff\xd9"])
    jpeg["PixelData"].is_undefined_length = True
    save(d, "jpeg.dcm", jpeg)
    out["jpeg.dcm"] = "1.2.840.10008.1.2.4.50 (0002,0010) is compressed"
    # Encapsulated pixels under an uncompressed transfer syntax: the JPEG file with its
    # transfer syntax UID overwritten (pydicom writes encapsulated data only for compressed
    # ones), NUL-padded to the same length.
    with open(os.path.join(d, "jpeg.dcm"), "rb") as f:
        j = f.read()
    write("encapsulated.dcm", j.replace(JPEGBaseline8Bit.encode(),
                                        ExplicitVRLittleEndian.encode().ljust(22, b"\0"), 1),
          "is encapsulated")
    deep = new(ExplicitVRLittleEndian)
    undefined_sequences(deep, depth=20)
    image(deep, ramp(0, 255, (ROWS, COLS), 26), "MONOCHROME2")
    save(d, "deep.dcm", deep)
    out["deep.dcm"] = "nested deeper than"
    os.remove(ok)
    return out


SEEDS_REFUSED = ["jpeg.dcm", "encapsulated.dcm", "deep.dcm", "big-endian.dcm", "cut-pixels.dcm",
                 "long-element.dcm", "ybr.dcm", "highbit.dcm"]


def seeds(corpus):
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        g, b = good(d), bad(d)
        for name in g:
            shutil.copy(os.path.join(d, name), os.path.join(corpus, "ok-" + name.replace(".dcm", "")))
        shutil.copy(os.path.join(d, "wrong-size.dcm"), os.path.join(corpus, "ok-5x3"))
        for name in SEEDS_REFUSED:
            assert name in b
            shutil.copy(os.path.join(d, name), os.path.join(corpus, name.replace(".dcm", "")))


def main():
    if sys.argv[1] == "--seeds":
        seeds(sys.argv[2])
        return
    d = sys.argv[1]
    print(json.dumps({"good": good(d), "bad": bad(d)}))


if __name__ == "__main__":
    main()
