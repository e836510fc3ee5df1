#!/usr/bin/env python3
"""Writes a copy of a safetensors file without one tensor (json + struct only), to make the
checkpoints older versions of ganc wrote, for the compatibility tests.

usage: drop_tensor.py IN OUT NAME"""
import json
import struct
import sys


def main():
    src, dst, name = sys.argv[1], sys.argv[2], sys.argv[3]
    raw = open(src, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    if name not in header:
        sys.exit(f"{src}: no tensor {name}")
    del header[name]
    out, offset = bytearray(), 0
    for key in sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0]):
        b, e = header[key]["data_offsets"]
        out += data[b:e]
        header[key]["data_offsets"] = [offset, offset + (e - b)]
        offset += e - b
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(out))


if __name__ == "__main__":
    main()
