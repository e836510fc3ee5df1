#!/usr/bin/env python3
"""A ganc generator in PyTorch: loads a training checkpoint or a file from `ganc export` into a
torch.nn.Sequential whose state dict has ganc's names (gen.3.weight is module 3's weight: ganc's
layouts are PyTorch's, so load_state_dict(strict=True) takes them as they are), and draws the
samples `ganc sample FILE --seed S -n N -o OUT.npy` draws: the same noise, from ganc's random
stream (Philox4x32-10 and Box-Muller, reimplemented below), through G in eval mode with the
moving average of its weights where the run keeps one. Equal to ganc's within float rounding.

usage: torch_generator.py FILE [--seed S] [-n N] [--truncation T] [--code C] -o OUT.npy

Covers the layers a generator is made of (dense, conv, deconv, batchnorm, the activations,
dropout, flatten, reshape) and z drawn normal or uniform, truncated, with an InfoGAN code;
conditional runs (--cond), --z-dist mixture and spectral norm are refused with a message.
Needs numpy and torch (Debian: python3-numpy, python3-torch)."""
import argparse
import json
import math
import re
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# ---- the file -------------------------------------------------------------------------------


def read_safetensors(path):
    """(tensors in file order as float32 arrays, metadata): F32 tensors only, as ganc writes."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, e in header.items():  # (json keeps the file's order: ganc writes views in order)
        if e["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {e['dtype']}, not F32")
        b, end = e["data_offsets"]
        tensors[name] = np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"]).copy()
    return tensors, meta


STATE_SUFFIXES = ("running_mean", "running_var", "weight_u", "weight_v")


def sampling_weights(tensors, meta):
    """G's tensors as ganc samples with them: an export holds them; a checkpoint of a run with
    --ema holds the average flat (ema.gen: the parameters, ema.gen_state: the state, each in the
    order of G's views) beside the live ones."""
    gen = {k: v for k, v in tensors.items() if k.startswith("gen.")}
    if meta.get("format") == "ganc-checkpoint-1" and float(meta.get("config.ema", "0")) > 0:
        for flat_name, is_state in (("ema.gen", False), ("ema.gen_state", True)):
            if flat_name not in tensors:
                continue  # (older checkpoints averaged the weights only)
            flat, at = tensors[flat_name], 0
            for k, v in gen.items():
                if k.endswith(STATE_SUFFIXES) == is_state:
                    gen[k] = flat[at:at + v.size].reshape(v.shape)
                    at += v.size
            assert at == flat.size, f"{flat_name} does not cover G's views"
    return gen


# ---- G from the model text ------------------------------------------------------------------


def option(words, key, default):
    for w in words:
        if w.startswith(key + "="):
            return w.split("=", 1)[1]
    return default


def pad_1d(mode, k, s, n, transposed, pad=0, outpad=0):
    """(output size, cut or padding before, after) as src/layers/padding.c resolves them."""
    if not transposed:
        if mode == "same":
            out = (n + s - 1) // s
            total = max((out - 1) * s + k - n, 0)
            return out, total // 2, total - total // 2
        if mode == "valid":
            return (n - k) // s + 1, 0, 0
        return (n + 2 * pad - k) // s + 1, pad, pad
    full = (n - 1) * s + k
    if mode == "same":
        out = n * s
        before = (full - out) // 2 if full > out else 0
    elif mode == "valid":
        out, before = n * s + max(k - s, 0), 0
    else:
        out, before = full - 2 * pad + outpad, pad
    return out, before, full - out - before


class Dense(nn.Linear):
    """ganc's dense: every feature of the sample in, (units, 1, 1) out."""

    def forward(self, x):
        return super().forward(x.flatten(1))[:, :, None, None]


class Conv(nn.Conv2d):
    def __init__(self, cin, cout, k, stride, pads, bias):
        super().__init__(cin, cout, k, stride, bias=bias)
        self.pads = pads  # (left, right, top, bottom)

    def forward(self, x):
        return super().forward(F.pad(x, self.pads))


class Deconv(nn.ConvTranspose2d):
    """The full transposed convolution, cut by (top, bottom, left, right); a negative cut adds
    positions that only get the bias, as ganc's deconv does."""

    def __init__(self, cin, cout, k, stride, cuts, bias):
        super().__init__(cin, cout, k, stride, bias=bias)
        self.cuts = cuts

    def forward(self, x):
        y = F.conv_transpose2d(x, self.weight, None, self.stride)
        t, b, l, r = self.cuts
        y = F.pad(y, (-l, -r, -t, -b))  # negative padding crops
        return y if self.bias is None else y + self.bias[None, :, None, None]


class Reshape(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


def build_generator(text, z_dim, data_shape, info_codes):
    """G's modules, one per [generator] line, with the shapes ganc gives them; and its pixel
    range (tanh: [-1, 1], sigmoid: [0, 1])."""
    c, h, w = data_shape
    variables = {"z": z_dim, "c": c, "h": h, "w": w, "pixels": c * h * w, "dout": 1 + info_codes}
    lines, section = [], None
    for raw in text.split("\n"):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line
        elif line and section == "[generator]":
            lines.append(re.sub(r"\$([a-z]+)", lambda m: str(variables[m.group(1)]), line))
    shape, modules, lo = (z_dim, 1, 1), [], 0.0
    for line in lines:
        words = line.split()
        kind, bias = words[0], option(words, "bias", "1") != "0"
        if "classes=" in line or "sn" in words:
            sys.exit(f"torch_generator: '{line}': conditional and spectrally normalised layers are not covered here")
        if kind == "dense":
            modules.append(Dense(shape[0] * shape[1] * shape[2], int(words[1]), bias=bias))
            shape = (int(words[1]), 1, 1)
        elif kind in ("conv", "deconv"):
            k, s = int(option(words, "k", 0)), int(option(words, "stride", 1))
            mode = option(words, "pad", "0")
            pad = int(mode) if mode not in ("same", "valid") else 0
            outpad = int(option(words, "outpad", 0))
            (oh, t, b), (ow, l, r) = (pad_1d(mode, k, s, n, kind == "deconv", pad, outpad) for n in shape[1:])
            if kind == "conv":
                modules.append(Conv(shape[0], int(words[1]), k, s, (l, r, t, b), bias))
            else:
                modules.append(Deconv(shape[0], int(words[1]), k, s, (t, b, l, r), bias))
            shape = (int(words[1]), oh, ow)
        elif kind == "batchnorm":
            modules.append(nn.BatchNorm2d(shape[0], eps=float(option(words, "eps", 1e-5))))
        elif kind == "relu":
            modules.append(nn.ReLU())
        elif kind == "lrelu":
            modules.append(nn.LeakyReLU(float(option(words, "slope", 0.2))))
        elif kind == "elu":
            modules.append(nn.ELU(float(option(words, "alpha", 1.0))))
        elif kind == "gelu":
            modules.append(nn.GELU())
        elif kind in ("tanh", "sigmoid"):
            modules.append(nn.Tanh() if kind == "tanh" else nn.Sigmoid())
            lo = -1.0 if kind == "tanh" else 0.0
        elif kind == "dropout":
            modules.append(nn.Dropout(float(option(words, "p", 0.5))))
        elif kind in ("flatten", "reshape"):
            shape = (shape[0] * shape[1] * shape[2], 1, 1) if kind == "flatten" else tuple(int(v) for v in words[1:4])
            modules.append(Reshape(shape))
        else:
            sys.exit(f"torch_generator: '{line}': layer {kind} is not covered here")
    return nn.Sequential(*modules), lo


# ---- ganc's random stream (src/core/rng.c) --------------------------------------------------

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = np.uint64(0xFFFFFFFF)


def philox(counters, seed):
    """Philox4x32-10 blocks for an array of 64-bit counters: (n, 4) uint32 words."""
    ctr = np.asarray(counters, dtype=np.uint64)
    c0, c1 = ctr & MASK, ctr >> np.uint64(32)
    c2 = c3 = np.zeros_like(c0)
    k0, k1 = seed & 0xFFFFFFFF, seed >> 32
    for _ in range(10):
        p0, p1 = np.uint64(M0) * c0, np.uint64(M1) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & MASK,
                          (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & MASK)
        k0, k1 = (k0 + W0) & 0xFFFFFFFF, (k1 + W1) & 0xFFFFFFFF
    return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


class Stream:
    """ganc_rng: a seed and the next block; each fill takes ceil(n / 4) blocks."""

    def __init__(self, seed):
        self.seed, self.counter = seed % 2**64, 0

    def blocks(self, n_values):
        nb = (n_values + 3) // 4
        b = philox(np.arange(self.counter, self.counter + nb, dtype=np.uint64), self.seed)
        self.counter += nb
        return b

    def normal(self, n):  # Box-Muller on (0, 1] x [0, 1), 32-bit resolution, as ganc_rng_normal
        b = self.blocks(n).astype(np.float64)
        u1, u2 = (b[:, 0::2] + 1.0) / 4294967296.0, b[:, 1::2] / 4294967296.0
        rad = np.sqrt(-2.0 * np.log(u1))
        z = np.empty_like(b)
        z[:, 0::2], z[:, 1::2] = rad * np.cos(6.283185307179586 * u2), rad * np.sin(6.283185307179586 * u2)
        return z.reshape(-1)[:n].astype(np.float32)

    def uniform(self, n):  # 24 random bits, as ganc_rng_uniform on [0, 1)
        return ((self.blocks(n).reshape(-1)[:n] >> 8).astype(np.float32) * np.float32(1.0 / 16777216.0))

    def u64(self):
        b = self.blocks(4)[0]
        return (int(b[1]) << 32) | int(b[0])


def latent(meta, seed, n, truncation, code):
    """The n latent vectors of `ganc sample --seed S` (gan/latent.c: the noise of all n first,
    then the truncation's redraws, then the codes)."""
    z_dim, dist = int(meta["config.z_dim"]), meta.get("config.z_dist", "normal")
    k = int(meta.get("config.info_codes", "0"))
    if dist not in ("normal", "uniform"):
        sys.exit(f"torch_generator: --z-dist {dist} is not covered here")
    r = Stream(seed * 4 + 6)  # ganc sample's stream for --seed S (cli_sample_stream)
    z = (r.uniform if dist == "uniform" else r.normal)(n * z_dim).reshape(n, z_dim)
    if dist == "normal" and truncation > 0:
        t = np.float32(truncation)
        for i in range(n):
            for j in range(z_dim):
                while z[i, j] > t or z[i, j] < -t:
                    z[i, j] = r.normal(1)[0]
    for i in range(n if k else 0):
        c = code if code >= 0 else r.u64() % k
        z[i, z_dim - k:] = 0.0
        z[i, z_dim - k + c] = 1.0
    return z


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--seed", type=int, help="as ganc sample --seed (default: the run's)")
    ap.add_argument("-n", type=int, default=16)
    ap.add_argument("--truncation", type=float, help="as ganc sample --truncation (default: the run's)")
    ap.add_argument("--code", type=int, default=-1, help="runs with --info-codes: every sample of this code")
    ap.add_argument("-o", required=True, help="OUT.npy: float32 (N, C, H, W) in [0, 1], as ganc sample -o X.npy")
    a = ap.parse_args()
    tensors, meta = read_safetensors(a.file)
    if meta.get("format") not in ("ganc-checkpoint-1", "ganc-generator-1"):
        sys.exit(f"{a.file}: not a ganc checkpoint or exported generator")
    if meta.get("config.cond", "off") != "off":
        sys.exit("torch_generator: conditional runs (--cond) are not covered here")
    shape = tuple(int(v) for v in meta["data.shape"].split())
    g, lo = build_generator(meta["model"], int(meta["config.z_dim"]), shape, int(meta.get("config.info_codes", "0")))
    state = {k[len("gen."):]: torch.from_numpy(v) for k, v in sampling_weights(tensors, meta).items()}
    for i, m in enumerate(g):  # PyTorch's batch norm counts its batches too; ganc does not
        if isinstance(m, nn.BatchNorm2d):
            state[f"{i}.num_batches_tracked"] = torch.tensor(0)
    g.load_state_dict(state, strict=True)
    g.eval()
    seed = a.seed if a.seed is not None else int(meta["config.seed"])
    trunc = a.truncation if a.truncation is not None else float(meta.get("config.truncation", "0"))
    z = latent(meta, seed, a.n, trunc, a.code)
    with torch.no_grad():
        x = g(torch.from_numpy(z)[:, :, None, None]).numpy()
    np.save(a.o, np.clip((x - lo) / (1.0 - lo), 0.0, 1.0).astype(np.float32))


if __name__ == "__main__":
    main()
