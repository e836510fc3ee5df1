#!/usr/bin/python3
"""Cross-checks ganc's NPY files against numpy (called by tests/test_image.c).

  check_npy.py check PATH D0 [D1 ...]   exit 0 when np.load(PATH) is float32, C order, of that
                                          shape, holds (arange(n) - 50) * 0.25 and its header
                                          (magic + length + dict) is a multiple of 64 bytes
  check_npy.py write PATH VERSION D0 ...   writes that array with numpy's own writer, format
                                          version VERSION (1 or 2)
"""
import sys

import numpy as np


def expected(shape):
    n = int(np.prod(shape)) if shape else 1
    return ((np.arange(n, dtype=np.float64) - 50) * 0.25).astype(np.float32).reshape(shape)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "check":
        shape = tuple(int(d) for d in sys.argv[3:])
        a = np.load(path)
        assert a.dtype == np.float32, a.dtype
        assert a.shape == shape, (a.shape, shape)
        assert a.flags["C_CONTIGUOUS"]
        assert np.array_equal(a, expected(shape))
        with open(path, "rb") as f:
            head = f.read(10)
        assert head[:8] == b"\x93NUMPY\x01\x00", head
        hlen = head[8] | head[9] << 8
        assert (10 + hlen) % 64 == 0, hlen
        return 0
    if mode == "write":
        version = int(sys.argv[3])
        shape = tuple(int(d) for d in sys.argv[4:])
        with open(path, "wb") as f:
            np.lib.format.write_array(f, expected(shape), version=(version, 0))
        return 0
    print("unknown mode", mode, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
