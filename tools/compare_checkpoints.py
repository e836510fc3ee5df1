#!/usr/bin/env python3
"""Compare two ganc checkpoints tensor by tensor, up to float rounding (json + numpy only).

usage: compare_checkpoints.py A B PATTERN [--tol T]

Every float32 tensor whose name matches the regular expression PATTERN must have the same
shape in both files and max|a - b| <= T * max(max|a|, 1e-12) (T = 1e-4 by default). Prints the
worst relative difference; exits 1 when a tensor differs beyond T or none matched."""
import json
import re
import struct
import sys

import numpy as np


def tensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if e["dtype"] == "F32":
            b, end = e["data_offsets"]
            out[name] = np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"]).astype(np.float64)
    return out


def main():
    args = sys.argv[1:]
    tol = 1e-4
    if "--tol" in args:
        i = args.index("--tol")
        tol = float(args[i + 1])
        del args[i:i + 2]
    a_path, b_path, pattern = args
    a, b = tensors(a_path), tensors(b_path)
    names = [k for k in a if re.search(pattern, k)]
    worst, worst_name, bad = 0.0, "", 0
    for k in names:
        if k not in b or a[k].shape != b[k].shape:
            print(f"{k}: missing or reshaped in {b_path}")
            bad += 1
            continue
        rel = float(np.abs(a[k] - b[k]).max(initial=0.0)) / max(float(np.abs(a[k]).max(initial=0.0)), 1e-12)
        if rel > worst:
            worst, worst_name = rel, k
        if not rel <= tol:
            print(f"{k}: relative difference {rel:.3g} > {tol:g}")
            bad += 1
    print(f"{len(names)} tensors, worst relative difference {worst:.3g} ({worst_name})")
    return 1 if bad or not names else 0


if __name__ == "__main__":
    sys.exit(main())
