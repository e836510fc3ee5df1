#!/usr/bin/env python3
"""Independent safetensors reader (json + numpy only), so tests can check ganc's writer
against a second implementation of the format.

usage: read_safetensors.py FILE [--values]

Prints, tab-separated:
  header  N                      header length in bytes
  meta    KEY  VALUE             one per metadata entry, both as hex of their UTF-8 bytes
  tensor  NAME DTYPE SHAPE SUM [VALUES]
                                 in header order; SHAPE comma-separated ('-' for a scalar),
                                 VALUES (with --values) space-separated, exact for float32
Exits non-zero (with a traceback) on a malformed file."""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "I64": "<i8", "U8": "u1"}


def main():
    path, values = sys.argv[1], "--values" in sys.argv[2:]
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    print(f"header\t{n}")
    for key, val in header.pop("__metadata__", {}).items():
        assert isinstance(val, str), key
        print(f"meta\t{key.encode('utf-8').hex()}\t{val.encode('utf-8').hex()}")
    end = 0  # tensors must tile the data section
    for e in sorted(header.values(), key=lambda e: e["data_offsets"]):
        assert e["data_offsets"][0] == end, "hole or overlap"
        end = e["data_offsets"][1]
    assert end == len(data), "data section not covered"
    for name, e in header.items():
        b, end = e["data_offsets"]
        a = np.frombuffer(data[b:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        shape = ",".join(str(d) for d in a.shape) or "-"
        line = f"tensor\t{name}\t{e['dtype']}\t{shape}\t{a.astype(np.float64).sum()!r}"
        if values:  # repr of a float32 widened to float64 reads back exactly with strtof
            line += "\t" + " ".join(repr(x.item()) for x in a.reshape(-1))
        print(line)


if __name__ == "__main__":
    main()
