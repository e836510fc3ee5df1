#!/usr/bin/python3
"""NPY files written by numpy itself, for the NPY data-set reader (src/data/npy_set.c, tested by
tests/test_npy_set.c): the test's own writer follows the format's description, these follow
numpy's writer (its header dict, its padding, its dtypes' spelling).

    /usr/bin/python3 tools/make_npy_set_fixtures.py          # writes tests/fixtures/npy_set/*.npy
    /usr/bin/python3 tools/make_npy_set_fixtures.py --check  # regenerates in memory and compares
                                                             # with the files, byte for byte

Files (all deterministic):

* ``nhwc.npy``  uint8 (2, 4, 5, 3), (N, H, W, C), np.save's v1.0 header; element [n, y, x, c] is
  (n*60 + y*15 + x*3 + c) * 7 % 251, a closed form the C test recomputes.
* ``nhwc_labels.npy``  int64 [3, 7]: its labels, found by the "_labels" name.
* ``float.npy``  float32 (3, 1, 4, 4), (N, C, H, W), uniform in [0, 1) from a seeded generator,
  with 0.0 and 1.0 placed at its first and last element.
* ``float_expected.npy``  uint8 (3, 4, 4): numpy's round(x * 255) of float.npy computed in float64,
  written with a v2.0 header; the reader must produce exactly these bytes from float.npy.
"""
import io
import os
import sys

import numpy as np

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "npy_set"))


def arrays():
    n, y, x, c = np.meshgrid(np.arange(2), np.arange(4), np.arange(5), np.arange(3), indexing="ij")
    nhwc = ((n * 60 + y * 15 + x * 3 + c) * 7 % 251).astype(np.uint8)
    labels = np.array([3, 7], dtype=np.int64)
    rng = np.random.default_rng(20240518)
    f = rng.random((3, 1, 4, 4), dtype=np.float32)
    f.flat[0], f.flat[-1] = 0.0, 1.0
    scaled = f.astype(np.float64) * 255.0
    # numpy rounds half to even, the reader half away from zero: they agree unless a value
    # lands on a half, which only 0.5 does (0.5 * 255 = 127.5, both give 128)
    assert not np.any(scaled - np.floor(scaled) == 0.5), "a tie would test the rounding rule, not the reader"
    expected = np.round(scaled).astype(np.uint8).reshape(3, 4, 4)
    return [("nhwc.npy", nhwc, (1, 0)), ("nhwc_labels.npy", labels, (1, 0)), ("float.npy", f, (1, 0)),
            ("float_expected.npy", expected, (2, 0))]


def encode(a, version):
    buf = io.BytesIO()
    if version == (1, 0):
        np.save(buf, a)  # exactly what users' files look like
    else:
        np.lib.format.write_array(buf, a, version=version)
    return buf.getvalue()


def main():
    check = "--check" in sys.argv[1:]
    bad = 0
    os.makedirs(OUT, exist_ok=True)
    for name, a, version in arrays():
        data = encode(a, version)
        path = os.path.join(OUT, name)
        if check:
            with open(path, "rb") as fh:
                if fh.read() != data:
                    print(f"{path}: differs from a fresh generation")
                    bad += 1
            continue
        with open(path, "wb") as fh:
            fh.write(data)
        print(f"wrote {path}: {a.dtype} {a.shape}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
