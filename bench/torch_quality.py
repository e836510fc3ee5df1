#!/usr/bin/python3
"""PyTorch reference for sample quality: trains a ganc model file on real IDX images the way
`ganc train` does (bench/torch_gan.py's networks and iteration) and writes the sample grid.

    /usr/bin/python3 bench/torch_quality.py --model mlp --data data/mnist-10k \
        --steps 3000 --out /tmp/torch-mlp.png [--threads 1] [--seed 1]

It answers one question: does the same network, trained the same way by an independent
framework, reach better samples than ganc? If it does, ganc has a defect; if not, the model
or its hyper-parameters are what limits quality. Not part of `make test`.
"""

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import gzip  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import zlib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_gan  # noqa: E402


def read_idx_images(path):
    """(n, h, w) uint8 images of an IDX3 file, gzip or raw; a directory means its images file."""
    if os.path.isdir(path):
        names = [f for f in sorted(os.listdir(path)) if "images" in f or "idx3" in f]
        if not names:
            sys.exit("torch_quality.py: no images file in %s" % path)
        path = os.path.join(path, names[0])
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    magic, n, h, w = struct.unpack(">IIII", raw[:16])
    if magic != 0x803:
        sys.exit("torch_quality.py: %s: not an IDX3 images file" % path)
    import numpy as np
    return np.frombuffer(raw, np.uint8, n * h * w, 16).reshape(n, h, w)


def write_png_gray(path, img):
    """8-bit grayscale PNG of a (h, w) uint8 array (zlib, no other dependency)."""
    h, w = img.shape
    rows = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="mlp")
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--every", type=int, default=0, help="also write OUT-stepN.png every N steps")
    a = ap.parse_args()

    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    path, sections = torch_gan.read_model(a.model)
    cfg = torch_gan.train_config(sections)
    batch, z_dim = int(cfg["batch"]), int(cfg["z_dim"])
    imgs = read_idx_images(a.data)
    n, h, w = imgs.shape
    c = 1
    # (the InfoGAN code is not played here: $dout is 1, D's logit only)
    var = {"z": z_dim, "c": c, "h": h, "w": w, "pixels": c * h * w, "dout": 1}
    g_lines = [(k, torch_gan.substitute(s, var)) for k, s in sections["[generator]"]]
    d_lines = [(k, torch_gan.substitute(s, var)) for k, s in sections["[discriminator]"]]
    G, _, _ = torch_gan.build_net(g_lines, (z_dim, 1, 1), cfg["init"], torch, nn, F)
    D, _, _ = torch_gan.build_net(d_lines, (c, h, w), cfg["init"], torch, nn, F)
    acts = [torch_gan.parse_spec(s)[0] for _, s in g_lines]
    last = acts[-2] if acts[-1] == "reshape" and len(acts) > 1 else acts[-1]
    lo = -1.0 if last == "tanh" else 0.0
    data = torch.from_numpy(imgs.astype(np.float32) / 255.0 * (1.0 - lo) + lo).reshape(n, c, h, w)

    adam = lambda p, lr: torch.optim.Adam(p, lr=lr, betas=(float(cfg["beta1"]), float(cfg["beta2"])))  # noqa: E731
    opt_g, opt_d = adam(G.parameters(), float(cfg["lr_g"])), adam(D.parameters(), float(cfg["lr_d"]))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    uniform = cfg["z_dist"] == "uniform"
    noise = lambda m: torch.rand(m, z_dim, 1, 1) if uniform else torch.randn(m, z_dim, 1, 1)  # noqa: E731
    fixed = noise(64)
    d_params = list(D.parameters())

    def grid(path):
        G.eval()
        with torch.no_grad():
            x = G(fixed).reshape(64, h, w).numpy()
        G.train()
        x = np.clip((x - lo) / (1.0 - lo), 0, 1)
        pad = 2
        out = np.zeros((8 * (h + pad) + pad, 8 * (w + pad) + pad), np.uint8)
        for i in range(64):
            r, q = divmod(i, 8)
            out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = \
                (x[i] * 255 + 0.5).astype(np.uint8)
        write_png_gray(path, out)

    perm, pos = rng.permutation(n), 0
    for step in range(1, a.steps + 1):
        if pos + batch > n:
            perm, pos = rng.permutation(n), 0
        real = data[perm[pos:pos + batch]]
        pos += batch
        opt_d.zero_grad()
        ld = bce(D(real).reshape(batch, 1), ones)
        ld.backward()
        with torch.no_grad():
            fake = G(noise(batch))
        lf = bce(D(fake).reshape(batch, 1), zeros)
        lf.backward()
        opt_d.step()
        opt_g.zero_grad()
        for p in d_params:
            p.requires_grad_(False)
        lg = bce(D(G(noise(batch))).reshape(batch, 1), ones)
        lg.backward()
        for p in d_params:
            p.requires_grad_(True)
        opt_g.step()
        if step % 250 == 0:
            print("step %d d_loss %.3f g_loss %.3f" % (step, (ld + lf).item(), lg.item()), flush=True)
        if a.every and step % a.every == 0:
            grid("%s-step%d.png" % (os.path.splitext(a.out)[0], step))
    grid(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
