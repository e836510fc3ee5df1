#!/usr/bin/env python3
"""Checks a checkpoint written after ONE step of a run with --ema B (B >= 2/11) on a model
whose G has one batch norm at layer index L: G's state average must be (1 - b) * init + b' *
live with the EMA's ramped decay b = (1 + 1) / (10 + 1) = 2/11 at step 1, init being batch
norm's reset state (mean 0, variance 1):

    ema.gen_state = [b * 0 + (1 - b) * running_mean,  b * 1 + (1 - b) * running_var]

usage: check_ema_state.py CHECKPOINT L   (exits non-zero on a mismatch)"""
import json
import struct
import sys

import numpy as np


def main():
    path, layer = sys.argv[1], int(sys.argv[2])
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]

    def tensor(name):
        b, e = header[name]["data_offsets"]
        return np.frombuffer(data[b:e], dtype="<f4").astype(np.float64)

    mean, var = tensor(f"gen.{layer}.running_mean"), tensor(f"gen.{layer}.running_var")
    b = 2.0 / 11.0
    want = np.concatenate([(1 - b) * mean, b + (1 - b) * var])
    got = tensor("ema.gen_state")
    err = np.max(np.abs(got - want) / (np.abs(want) + 1e-6))
    print(f"ema.gen_state: {got.size} values, worst relative error {err:.2e}")
    sys.exit(0 if got.shape == want.shape and err < 1e-5 else 1)


if __name__ == "__main__":
    main()
