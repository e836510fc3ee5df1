#!/usr/bin/env python3
"""tests/fixtures/bf16_round.txt: float32 bit patterns and PyTorch's bfloat16 of each
(torch.Tensor.to(torch.bfloat16): round to nearest, ties to even), for tests/test_bf16.c.
One line per value, "INPUT OUTPUT" in hex: the edges (ties either way, subnormals, the
overflow to infinity, infinities, NaNs) and 4000 random patterns from a fixed seed."""
import numpy as np
import torch

edges = [0x00000000, 0x80000000, 0x00000001, 0x00007fff, 0x00008000, 0x00008001, 0x00018000, 0x0000ffff,
         0x007fffff, 0x00800000, 0x3f800000, 0x3f808000, 0x3f818000, 0x3f807fff, 0x3f808001, 0xbf808000,
         0x3f7fffff, 0x7f7f7fff, 0x7f7f8000, 0x7f7fffff, 0xff7f8000, 0x7f800000, 0xff800000, 0x7f800001,
         0x7fc00000, 0xffc00001, 0x7fffffff, 0x4049fdb0, 0x33800000]
rng = np.random.default_rng(23)
bits = np.concatenate([np.array(edges, dtype=np.uint32), rng.integers(0, 2**32, 4000, dtype=np.uint64).astype(np.uint32)])
x = torch.from_numpy(bits.view(np.float32).copy())
out = x.to(torch.bfloat16).view(torch.int16).numpy().astype(np.uint16)
with open("tests/fixtures/bf16_round.txt", "w") as f:
    for i, o in zip(bits, out):
        f.write("%08x %04x\n" % (i, o))
