#!/usr/bin/python3
"""Compares two ganc checkpoints (safetensors) for tests/test_mpi.sh: the same metadata (step,
data position, random streams, options) and tensors of the same names and shapes, and prints
the largest absolute difference of the weights (gen.* and disc.*) and of Adam's moments, each
also relative to the largest magnitude of its kind in the first file, on one line:
  weights_abs=A weights_rel=R moments_abs=A moments_rel=R
Exit status 1 (with the reason) when metadata, names or shapes differ; metadata KEYs named after
the files are left out of that comparison.
Usage: /usr/bin/python3 tests/st_compare.py A.safetensors B.safetensors [KEY ...]"""
import json
import struct
import sys

import numpy as np


def load(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + n])
    meta = head.pop("__metadata__", {})
    data = b[8 + n:]
    out = {}
    for k, v in head.items():
        s, e = v["data_offsets"]
        dt = {"F32": np.float32, "U32": np.uint32, "I32": np.int32, "I64": np.int64, "U8": np.uint8}[v["dtype"]]
        out[k] = np.frombuffer(data[s:e], dtype=dt).reshape(v["shape"])
    return meta, out


def main():
    ma, ta = load(sys.argv[1])
    mb, tb = load(sys.argv[2])
    for k in sys.argv[3:]:
        ma.pop(k, None)
        mb.pop(k, None)
    if ma != mb:
        diff = sorted(k for k in set(ma) | set(mb) if ma.get(k) != mb.get(k))
        print("metadata differ:", ", ".join("%s (%s / %s)" % (k, ma.get(k), mb.get(k)) for k in diff)[:400])
        return 1
    if sorted(ta) != sorted(tb) or any(ta[k].shape != tb[k].shape for k in ta):
        print("tensor names or shapes differ")
        return 1
    res = {}
    for kind, pick in (("weights", lambda k: k.startswith(("gen.", "disc."))), ("moments", lambda k: k.startswith("optim."))):
        keys = [k for k in ta if pick(k) and ta[k].dtype == np.float32]
        d = max((float(np.max(np.abs(ta[k].astype(np.float64) - tb[k]))) for k in keys), default=0.0)
        m = max((float(np.max(np.abs(ta[k]))) for k in keys), default=0.0)
        res[kind] = (d, d / m if m else 0.0)
    print("weights_abs=%.3g weights_rel=%.3g moments_abs=%.3g moments_rel=%.3g" % (res["weights"] + res["moments"]))
    return 0


sys.exit(main())
