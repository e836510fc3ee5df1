#!/usr/bin/python3
"""Reference values for ganc's gradient penalties (src/gan/penalty.c), from PyTorch autograd.

    /usr/bin/python3 tools/make_penalty_fixtures.py    # writes tests/fixtures/penalty_*.gfx

Each file holds a critic as ganc layer lines (``spec``), its parameters named like ganc's
views without the net name (``0.weight``), the input ``x`` (N, C, H, W), the coefficient
``coef``, ``kind`` (text: gp or r1), the penalty's value ``penalty`` and its parameter
gradient ``grad.<view>`` computed by double backward (create_graph=True):
    gp: coef * mean_i (||g_i|| - 1)^2,  r1: coef / 2 * mean_i ||g_i||^2,  g = d sum D(x) / dx.
Networks are in training mode (batch norm uses the batch's statistics, which couples samples).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import encode_gfx  # noqa: E402  (the one .gfx writer)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def critic(case):
    """(spec lines, torch module, ganc view names in parameter order)."""
    if case == "toy":
        spec = "dense 16\ntanh\ndense 8\nelu\ndense 1\n"
        mod = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 8), nn.ELU(), nn.Linear(8, 1))
        names = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    elif case == "lrelu":
        spec = "dense 8\nlrelu slope=0.2\ndense 8\nlrelu slope=0.2\ndense 1\n"
        mod = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        names = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    elif case == "conv":
        spec = "conv 3 k=3 stride=2 pad=1\nelu\nflatten\ndense 1\n"
        mod = nn.Sequential(nn.Conv2d(1, 3, 3, 2, 1), nn.ELU(), nn.Flatten(), nn.Linear(27, 1))
        names = ["0.weight", "0.bias", "3.weight", "3.bias"]
    elif case == "bn":
        spec = "dense 8\nbatchnorm\ntanh\ndense 1\n"
        mod = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))
        names = ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    return spec, mod, names


def kink_distance(mod, inp):
    """Smallest |input| of a LeakyReLU or ELU: their first or second derivative jumps at 0, where
    a central difference of gradients straddling 0 is not the one-sided value autograd takes."""
    d, h = float("inf"), inp
    for layer in mod:
        if isinstance(layer, (nn.LeakyReLU, nn.ELU)):
            d = min(d, h.abs().min().item())
        h = layer(h)
    return d


def make(case, kind, coef, n, shape, seed):
    torch.manual_seed(seed)
    spec, mod, names = critic(case)
    mod = mod.double().train()
    x = torch.randn(n, *shape, dtype=torch.float64)
    flat = shape[1:] == (1, 1)
    # keep every kink clear by far more than the difference's step (1e-3 of the input's scale)
    while kink_distance(mod, x.reshape(n, -1) if flat else x) < 0.02:
        seed += 1
        torch.manual_seed(seed)
        mod = critic(case)[1].double().train()
        x = torch.randn(n, *shape, dtype=torch.float64)
    params = [p for p in mod.parameters()]
    # store float32-exact values, then compute in float64 from exactly those
    with torch.no_grad():
        for p in params:
            p.copy_(p.float().double())
    x = x.float().double().requires_grad_(True)
    inp = x.reshape(n, -1) if flat else x
    y = mod(inp).sum()
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    norms = g.reshape(n, -1).norm(dim=1)
    penalty = coef * ((norms - 1) ** 2).mean() if kind == "gp" else 0.5 * coef * (norms ** 2).mean()
    # the last bias never reaches grad_x: its gradient is zero (None from autograd)
    grads = torch.autograd.grad(penalty, params, allow_unused=True)
    grads = [torch.zeros_like(p) if gr is None else gr for p, gr in zip(params, grads)]
    entries = [("spec", spec), ("kind", kind), ("coef", np.float32(coef)), ("x", x.detach()),
               ("penalty", penalty.detach())]
    entries += [(nm, p.detach()) for nm, p in zip(names, params)]
    entries += [("grad." + nm, gr) for nm, gr in zip(names, grads)]
    path = os.path.join(OUT, "penalty_%s_%s.gfx" % (case, kind))
    with open(path, "wb") as f:
        f.write(encode_gfx(entries))
    print("wrote", path, "penalty %.6g" % penalty.item())


def main():
    make("toy", "gp", 10.0, 6, (2, 1, 1), 1)
    make("toy", "r1", 5.0, 6, (2, 1, 1), 2)
    make("lrelu", "gp", 10.0, 4, (2, 1, 1), 3)
    make("conv", "gp", 10.0, 4, (1, 6, 6), 4)
    make("conv", "r1", 1.0, 4, (1, 6, 6), 5)
    make("bn", "gp", 10.0, 5, (3, 1, 1), 6)


if __name__ == "__main__":
    main()
