#!/usr/bin/python3
"""Generate the binary reference fixtures that the ganc C tests compare against.

Run with Debian's Python (it has torch and numpy; the pyenv ``python3`` on PATH
does not):

    /usr/bin/python3 tools/make_fixtures.py           # writes tests/fixtures/*.gfx
    /usr/bin/python3 tools/make_fixtures.py --check   # re-reads every .gfx file,
                                                      # checks the format and that a
                                                      # fresh generation matches it
    /usr/bin/python3 tools/make_fixtures.py --table   # print the padding/crop table

What it produces (all under tests/fixtures/):

* ``layer_<case>.gfx``  one file per single-layer case: the layer ``spec`` line,
  input ``x``, parameters ``weight``/``bias`` (PyTorch layout), forward output
  ``y`` (training mode), a random upstream gradient ``dy`` and the gradients of
  sum(y*dy): ``dx``, ``grad.weight``, ``grad.bias``.  Batchnorm cases also have
  ``running_mean``/``running_var`` after one training forward (starting from
  0/1) and ``y_eval`` (eval-mode forward with those stats).
  Maxout and mbstd cases use the reference functions ``maxout``/``mbstd``;
  ``layer_maxout_ties.gfx`` has exactly tied pieces (the gradient goes to the
  first).
* ``layer_sn_<case>.gfx``  spectral normalisation: torch modules under
  torch.nn.utils.spectral_norm, parameters ``weight_orig``/``bias``, the
  starting ``init.weight_u``/``init.weight_v`` (written into torch's buffers;
  the C test loads them), ``y_eval0`` (eval from them), ``y`` and gradients
  after one power iteration with ``weight_u``/``weight_v``, ``y2`` and
  ``after2.*`` after a second, and ``y_eval`` (stored vectors, no update).
* ``layer_bce_logits.gfx``  BCE-with-logits loss (mean) and its gradient,
  computed in float64 and stored as float32.
* ``net_adam.gfx``, ``net_adam_wd.gfx``, ``net_sgd.gfx``  a small sequential
  network trained 5 steps with torch.optim.Adam / SGD; initial params
  (``init.*``), step-0 gradients (``grad0.*``), losses (``loss.<t>``) and final
  params/running stats (``final.*``).

File format (little endian), extension .gfx:

    8 bytes magic b"GANCFX01"
    u32 n_entries
    n_entries x { u32 name_len; name bytes (ASCII, no NUL);
                  u32 dtype (0 = float32 tensor, 1 = UTF-8 text);
                  u32 ndim (text: 1); u32 dims[ndim] (text: [byte length]);
                  payload: prod(dims)*4 bytes float32 C-contiguous, or the text }

Padding conventions follow TensorFlow for pad=same/valid (see ``conv_pads`` and
``deconv_crops``); the C side must mirror them exactly.
"""

import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "fixtures")
MAGIC = b"GANCFX01"
DT_F32 = 0
DT_TEXT = 1

torch.set_num_threads(1)  # determinism, and it is all tiny anyway


# ----------------------------------------------------------------------------
# .gfx writer / reader
# ----------------------------------------------------------------------------

def _as_f32(value):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    arr = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return arr


def encode_gfx(entries):
    """entries: list of (name, value); value is str (text) or array-like."""
    names = [n for n, _ in entries]
    if len(set(names)) != len(names):
        raise ValueError("duplicate entry names")
    out = [MAGIC, struct.pack("<I", len(entries))]
    for name, value in entries:
        nb = name.encode("ascii")
        if b"\0" in nb:
            raise ValueError("NUL in name")
        out.append(struct.pack("<I", len(nb)))
        out.append(nb)
        if isinstance(value, str):
            tb = value.encode("utf-8")
            out.append(struct.pack("<III", DT_TEXT, 1, len(tb)))
            out.append(tb)
        else:
            arr = _as_f32(value)
            out.append(struct.pack("<II", DT_F32, arr.ndim))
            out.append(struct.pack("<%dI" % arr.ndim, *arr.shape))
            out.append(arr.astype("<f4").tobytes(order="C"))
    return b"".join(out)


def decode_gfx(data):
    """Return list of (name, value): str for text, np.float32 array otherwise."""
    if data[:8] != MAGIC:
        raise ValueError("bad magic")
    pos = 8

    def u32():
        nonlocal pos
        if pos + 4 > len(data):
            raise ValueError("truncated")
        (v,) = struct.unpack_from("<I", data, pos)
        pos += 4
        return v

    n = u32()
    entries = []
    for _ in range(n):
        ln = u32()
        name = data[pos:pos + ln].decode("ascii")
        pos += ln
        dtype = u32()
        ndim = u32()
        dims = [u32() for _ in range(ndim)]
        count = int(np.prod(dims)) if dims else 1
        if dtype == DT_TEXT:
            if ndim != 1:
                raise ValueError("text entry with ndim != 1")
            value = data[pos:pos + count].decode("utf-8")
            pos += count
        elif dtype == DT_F32:
            nbytes = count * 4
            if pos + nbytes > len(data):
                raise ValueError("truncated payload in %s" % name)
            value = np.frombuffer(data, dtype="<f4", count=count, offset=pos)
            value = value.reshape(dims).astype(np.float32)
            pos += nbytes
        else:
            raise ValueError("unknown dtype %d" % dtype)
        entries.append((name, value))
    if pos != len(data):
        raise ValueError("trailing bytes: %d" % (len(data) - pos))
    return entries


# ----------------------------------------------------------------------------
# Layer spec parsing and reference (functional) implementation
# ----------------------------------------------------------------------------

def parse_spec(line):
    toks = line.split()
    kind = toks[0]
    pos, opts = [], {}
    for t in toks[1:]:
        if "=" in t:
            k, v = t.split("=", 1)
            opts[k] = v
        elif t == "sn":  # a bare flag: spectral normalisation
            opts[t] = True
        else:
            pos.append(int(t))
    return kind, pos, opts


def conv_pads(n_in, k, s, pad):
    """Return (before, after, out) for one spatial dim of a conv layer."""
    if pad == "same":
        out = -(-n_in // s)
        total = max((out - 1) * s + k - n_in, 0)
        before = total // 2
        return before, total - before, out
    p = 0 if pad == "valid" else int(pad)
    out = (n_in + 2 * p - k) // s + 1
    return p, p, out


def deconv_crops(n_in, k, s, pad, outpad):
    """Return (before, after, full, out) for one spatial dim of a deconv layer.

    full = (n_in-1)*s + k is the un-cropped transposed-conv size; the output is
    full[before : full-after]; after < 0 means -after bias-only positions are
    appended at the end.  Always out == full - before - after.
    """
    full = (n_in - 1) * s + k
    if pad == "same":
        out = n_in * s
        total = max((n_in - 1) * s + k - out, 0)
        before = total // 2
        after = full - before - out  # == total - before unless total was clamped
    elif pad == "valid":
        out = n_in * s + max(k - s, 0)
        before = 0
        after = full - out
    else:
        p = int(pad)
        before, after = p, p - outpad
        out = full - before - after
    assert out == full - before - after
    return before, after, full, out


def maxout(x, weight, bias, units, pieces):
    """Linear map to units*pieces values, then the max of each unit's consecutive pieces.
    torch.max over a dim returns (and backpropagates to) the first of equal maxima."""
    z = F.linear(x.reshape(x.shape[0], -1), weight, bias)
    return z.view(x.shape[0], units, pieces).max(dim=2).values


def mbstd_group_size(group, n):
    """ganc's rule: group (0 = whole batch) capped at n, lowered to a divisor of n."""
    g = group if 0 < group < n else n
    while n % g:
        g -= 1
    return g


def mbstd(x, group):
    """Minibatch standard deviation as ProGAN writes it (reshape to [G, M, ...], so sample
    i is in group i % M), one appended channel, biased variance, eps 1e-8 in the sqrt."""
    N, C, H, W = x.shape
    G = mbstd_group_size(group, N)
    y = x.reshape(G, -1, C, H, W)
    y = y - y.mean(dim=0)
    y = y.square().mean(dim=0)
    y = (y + 1e-8).sqrt()
    y = y.mean(dim=[1, 2, 3])                       # [M]
    y = y.reshape(-1, 1, 1, 1).repeat(G, 1, H, W)   # row g*M + m holds group m's value
    return torch.cat([x, y], dim=1)


class Layer:
    """A parsed layer with its parameters (leaf tensors) and running stats."""

    def __init__(self, line, in_shape):
        """in_shape: (C, H, W) of one sample (H=W=1 for feature vectors)."""
        self.line = line
        self.kind, self.pos, self.opts = parse_spec(line)
        self.in_shape = tuple(in_shape)
        self.params = {}   # name -> nn.Parameter / tensor, PyTorch layout
        self.buffers = {}  # running stats
        self.pads = None   # padding info for the report
        C, H, W = self.in_shape
        o, k = self.opts, self.kind
        self.bias_on = int(o.get("bias", "1")) != 0
        self.classes = int(o.get("classes", "0"))  # conditional layers read self.labels
        self.labels = None
        if k == "embed":
            # nn.Embedding(K, N), its vector broadcast over the pixels as N more channels
            self.dim = self.pos[0]
            self.out_shape = (C + self.dim, H, W)
            self.param_shapes = {"weight": (self.classes, self.dim)}
        elif k == "project":
            # nn.Linear(F, 1) plus nn.Embedding(K, F) projected onto the features
            self.out_shape = (1, 1, 1)
            self.param_shapes = {"weight": (1, C * H * W)}
            if self.bias_on:
                self.param_shapes["bias"] = (1,)
            self.param_shapes["embed"] = (self.classes, C * H * W)
        elif k == "dense":
            self.out_f = self.pos[0]
            self.out_shape = (self.out_f, 1, 1)
            self.param_shapes = {"weight": (self.out_f, C * H * W)}
            if self.bias_on:
                self.param_shapes["bias"] = (self.out_f,)
        elif k == "maxout":
            # nn.Linear(in, units*pieces); unit u takes outputs u*pieces .. u*pieces+pieces-1
            self.units, self.pieces = self.pos[0], int(o["pieces"])
            rows = self.units * self.pieces
            self.out_shape = (self.units, 1, 1)
            self.param_shapes = {"weight": (rows, C * H * W)}
            if self.bias_on:
                self.param_shapes["bias"] = (rows,)
        elif k == "mbstd":
            self.group = int(o.get("group", "0"))
            self.out_shape = (C + 1, H, W)
            self.param_shapes = {}
        elif k in ("conv", "deconv"):
            self.out_c = self.pos[0]
            self.k = int(o["k"])
            self.s = int(o.get("stride", "1"))
            self.pad = o.get("pad", "0")
            self.outpad = int(o.get("outpad", "0"))
            if k == "conv":
                assert self.outpad == 0
                ph = conv_pads(H, self.k, self.s, self.pad)
                pw = conv_pads(W, self.k, self.s, self.pad)
                self.pads = (ph, pw)
                self.out_shape = (self.out_c, ph[2], pw[2])
                self.param_shapes = {"weight": (self.out_c, C, self.k, self.k)}
            else:
                ph = deconv_crops(H, self.k, self.s, self.pad, self.outpad)
                pw = deconv_crops(W, self.k, self.s, self.pad, self.outpad)
                self.pads = (ph, pw)
                self.out_shape = (self.out_c, ph[3], pw[3])
                self.param_shapes = {"weight": (C, self.out_c, self.k, self.k)}
            if self.bias_on:
                self.param_shapes["bias"] = (self.out_c,)
        elif k == "batchnorm":
            self.eps = float(o.get("eps", "1e-5"))
            self.momentum = float(o.get("momentum", "0.1"))
            self.out_shape = self.in_shape
            # conditional: a gain and bias per class (nn.Embedding(K, C) each) after an
            # affine-free batch norm
            shape = (self.classes, C) if self.classes else (C,)
            self.param_shapes = {"weight": shape, "bias": shape}
            self.buffers = {"running_mean": torch.zeros(C),
                            "running_var": torch.ones(C)}
        elif k in ("relu", "lrelu", "elu", "tanh", "sigmoid", "gelu"):
            self.out_shape = self.in_shape
            self.param_shapes = {}
        elif k == "concat_elu":
            self.out_shape = (2 * C, H, W)
            self.param_shapes = {}
        elif k == "flatten":
            self.out_shape = (C * H * W, 1, 1)
            self.param_shapes = {}
        elif k == "reshape":
            self.out_shape = tuple(self.pos)
            assert int(np.prod(self.out_shape)) == C * H * W
            self.param_shapes = {}
        else:
            raise ValueError("unknown layer kind %r" % k)

    # ------------------------------------------------------------------
    def forward(self, x, training=True):
        k, o = self.kind, self.opts
        N = x.shape[0]
        if k == "embed":
            e = F.embedding(self.labels, self.params["weight"])  # N x dim
            H, W = x.shape[2], x.shape[3]
            return torch.cat([x, e[:, :, None, None].expand(N, self.dim, H, W)], dim=1)
        if k == "project":
            f = x.reshape(N, -1)
            y = F.linear(f, self.params["weight"], self.params.get("bias"))
            y = y + (F.embedding(self.labels, self.params["embed"]) * f).sum(dim=1, keepdim=True)
            return y.reshape(N, 1, 1, 1)
        if k == "dense":
            y = F.linear(x.reshape(N, -1), self.params["weight"],
                         self.params.get("bias"))
            return y.reshape(N, self.out_f, 1, 1) if x.dim() == 4 else y
        if k == "maxout":
            return maxout(x, self.params["weight"], self.params.get("bias"),
                          self.units, self.pieces)
        if k == "mbstd":
            return mbstd(x, self.group)
        if k == "conv":
            w, b = self.params["weight"], self.params.get("bias")
            if self.pad == "same":
                (ht, hb, _), (wl, wr, _) = self.pads
                x = F.pad(x, (wl, wr, ht, hb))
                return F.conv2d(x, w, b, stride=self.s)
            p = 0 if self.pad == "valid" else int(self.pad)
            return F.conv2d(x, w, b, stride=self.s, padding=p)
        if k == "deconv":
            w, b = self.params["weight"], self.params.get("bias")
            if self.pad not in ("same", "valid"):
                return F.conv_transpose2d(x, w, b, stride=self.s,
                                          padding=int(self.pad),
                                          output_padding=self.outpad)
            return self.deconv_generic(x)
        if k == "batchnorm":
            x4 = x
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            if self.classes:
                xhat = F.batch_norm(x4, rm, rv, None, None, training=training,
                                    momentum=self.momentum, eps=self.eps)
                g = F.embedding(self.labels, self.params["weight"])[:, :, None, None]
                b = F.embedding(self.labels, self.params["bias"])[:, :, None, None]
                return g * xhat + b
            return F.batch_norm(x4, rm, rv, self.params["weight"],
                                self.params["bias"], training=training,
                                momentum=self.momentum, eps=self.eps)
        if k == "relu":
            return F.relu(x)
        if k == "lrelu":
            return F.leaky_relu(x, float(o.get("slope", "0.2")))
        if k == "elu":
            return F.elu(x, float(o.get("alpha", "1")))
        if k == "concat_elu":
            return F.elu(torch.cat([x, -x], dim=1), float(o.get("alpha", "1")))
        if k == "tanh":
            return torch.tanh(x)
        if k == "sigmoid":
            return torch.sigmoid(x)
        if k == "gelu":
            return F.gelu(x)  # the exact (erf) form, as nn.GELU()
        if k == "flatten":
            return x.reshape(N, -1)
        if k == "reshape":
            return x.reshape(N, *self.out_shape)
        raise AssertionError(k)

    def deconv_generic(self, x):
        """Full transposed conv (no bias), crop/extend, then add the bias."""
        w, b = self.params["weight"], self.params.get("bias")
        full = F.conv_transpose2d(x, w, None, stride=self.s)
        (ht, hb, _, _), (wl, wr, _, _) = self.pads
        y = F.pad(full, (-wl, -wr, -ht, -hb))  # negative crops, positive appends
        if b is not None:
            y = y + b.view(1, -1, 1, 1)
        return y


# ----------------------------------------------------------------------------
# Single-layer cases
# ----------------------------------------------------------------------------

LAYER_CASES = [
    ("dense_a", "dense 7", (3, 5, 1, 1)),
    ("dense_b", "dense 4 bias=0", (1, 2, 3, 3)),
    ("dense_c", "dense 1", (4, 10, 1, 1)),
    ("conv_a", "conv 5 k=3", (2, 3, 6, 7)),
    ("conv_b", "conv 4 k=3 stride=2 pad=1", (3, 2, 9, 8)),
    ("conv_c", "conv 6 k=5 stride=2 pad=same", (2, 3, 13, 12)),
    ("conv_d", "conv 3 k=5 pad=valid", (1, 2, 7, 7)),
    ("conv_e", "conv 4 k=4 stride=2 pad=same bias=0", (2, 3, 7, 9)),
    ("conv_f", "conv 2 k=1", (2, 3, 4, 5)),
    ("conv_g", "conv 3 k=3 pad=same", (2, 2, 5, 4)),
    ("conv_h", "conv 3 k=4 pad=valid", (3, 5, 4, 4)),  # one output: the dense path
    ("deconv_a", "deconv 4 k=3", (2, 3, 3, 3)),
    ("deconv_b", "deconv 3 k=4 stride=2 pad=1", (2, 2, 4, 5)),
    ("deconv_c", "deconv 3 k=5 stride=2 pad=same", (2, 4, 7, 7)),
    ("deconv_d", "deconv 5 k=5 pad=valid", (1, 3, 3, 3)),
    ("deconv_e", "deconv 2 k=3 stride=2 pad=1 outpad=1", (2, 3, 4, 4)),
    ("deconv_f", "deconv 4 k=3 pad=valid", (3, 6, 1, 1)),
    ("deconv_g", "deconv 2 k=2 stride=3 pad=valid", (1, 2, 3, 3)),
    ("deconv_h", "deconv 3 k=4 stride=2 pad=same bias=0", (2, 2, 5, 5)),
    ("deconv_i", "deconv 2 k=3 stride=2 pad=same", (1, 2, 3, 4)),
    ("bn_a", "batchnorm", (4, 3, 5, 5)),
    ("bn_b", "batchnorm eps=1e-3 momentum=0.2", (2, 5, 3, 4)),
    ("bn_c", "batchnorm", (6, 8, 1, 1)),
    ("relu", "relu", (2, 3, 4, 4)),
    ("lrelu", "lrelu slope=0.2", (2, 3, 4, 4)),
    ("elu", "elu", (2, 3, 4, 4)),
    ("elu_b", "elu alpha=0.5", (2, 3, 4, 4)),
    ("concat_elu", "concat_elu", (2, 3, 4, 4)),
    ("tanh", "tanh", (2, 3, 4, 4)),
    ("sigmoid", "sigmoid", (2, 3, 4, 4)),
    ("flatten", "flatten", (2, 3, 2, 2)),
    ("reshape", "reshape 2 3 2", (2, 12, 1, 1)),
    ("maxout_a", "maxout 4 pieces=3", (5, 6, 1, 1)),
    ("maxout_b", "maxout 3 pieces=2 bias=0", (2, 2, 3, 3)),
    ("maxout_c", "maxout 2 pieces=5", (3, 4, 1, 1)),
    ("mbstd_a", "mbstd", (4, 3, 5, 5)),
    ("mbstd_b", "mbstd group=2", (6, 3, 4, 4)),
    ("mbstd_c", "mbstd", (5, 7, 1, 1)),
    ("mbstd_d", "mbstd group=4", (6, 10, 1, 1)),   # 4 does not divide 6: groups of 3
    ("mbstd_e", "mbstd group=8", (4, 2, 3, 3)),    # larger than the batch: one group
    ("gelu", "gelu", (2, 3, 4, 4)),
    # conditional layers: each sample's class drawn at random (the entry "labels")
    ("embed_a", "embed 3 classes=4", (5, 2, 3, 2)),
    ("embed_b", "embed 4 classes=3", (4, 6, 1, 1)),
    ("project_a", "project classes=3", (6, 2, 2, 3)),
    ("project_b", "project classes=4 bias=0", (5, 7, 1, 1)),
    ("cbn_a", "batchnorm classes=3", (6, 4, 3, 3)),
    ("cbn_b", "batchnorm classes=4 momentum=0.2", (7, 5, 1, 1)),
]

ACTIVATIONS = {"relu", "lrelu", "elu", "concat_elu", "tanh", "sigmoid", "gelu"}


def nudge_from_zero(x, thr=1e-3):
    return torch.where(x.abs() < thr,
                       torch.where(x >= 0, torch.full_like(x, 0.01),
                                   torch.full_like(x, -0.01)), x)


def make_layer_case(idx, name, spec, shape):
    torch.manual_seed(1000 + idx)
    N, C, H, W = shape
    layer = Layer(spec, (C, H, W))
    if layer.classes:
        layer.labels = torch.randint(0, layer.classes, (N,))
    if layer.kind in ACTIVATIONS:
        x = nudge_from_zero(torch.randn(shape) * 2.0)
    else:
        x = torch.randn(shape)
    for pname, pshape in layer.param_shapes.items():
        if layer.kind == "batchnorm":
            v = (1.0 + 0.2 * torch.randn(pshape)) if pname == "weight" \
                else 0.1 * torch.randn(pshape)
        else:
            v = 0.3 * torch.randn(pshape)
        layer.params[pname] = v.clone().requires_grad_(True)
    x = x.clone().requires_grad_(True)

    y = layer.forward(x, training=True)
    y4 = y.reshape(N, *layer.out_shape)  # dense/flatten -> (N, F, 1, 1)
    assert tuple(y4.shape) == (N,) + tuple(layer.out_shape), (name, y.shape)
    dy = torch.randn(y4.shape)
    (y4 * dy).sum().backward()

    entries = [("spec", spec), ("x", x)]
    if layer.classes:
        entries.append(("labels", layer.labels.float()))
    for pname in layer.param_shapes:
        entries.append((pname, layer.params[pname]))
    entries += [("y", y4), ("dy", dy), ("dx", x.grad)]
    for pname in layer.param_shapes:
        entries.append(("grad." + pname, layer.params[pname].grad))
    if layer.kind == "batchnorm":
        entries.append(("running_mean", layer.buffers["running_mean"].clone()))
        entries.append(("running_var", layer.buffers["running_var"].clone()))
        with torch.no_grad():
            y_eval = layer.forward(x, training=False)
        entries.append(("y_eval", y_eval))

    # self-checks of the hand-rolled padding against PyTorch where possible
    with torch.no_grad():
        if layer.kind == "deconv":
            y_gen = layer.deconv_generic(x)
            assert torch.allclose(y_gen, y, atol=1e-5), name
        if layer.kind == "conv" and layer.pad == "same":
            (ht, hb, _), (wl, wr, _) = layer.pads
            if ht == hb and wl == wr and ht == wl:
                y_pt = F.conv2d(x, layer.params["weight"],
                                layer.params.get("bias"), stride=layer.s,
                                padding=ht)
                assert torch.allclose(y_pt, y, atol=1e-5), name
    return entries, layer


def make_maxout_ties_case():
    """Pieces that tie exactly (zero weights, equal biases, so z is exactly the bias): the
    value is the tie and the whole gradient goes to the first of the tied pieces."""
    torch.manual_seed(3000)
    spec = "maxout 3 pieces=3"
    N, C = 4, 5
    layer = Layer(spec, (C, 1, 1))
    w = 0.3 * torch.randn(9, C)
    b = 0.3 * torch.randn(9)
    w[0:3] = 0.0
    b[0:3] = torch.tensor([2.0, 2.0, -1.0])  # unit 0: pieces 0 and 1 tie, piece 2 below
    w[3:6] = 0.0
    b[3:6] = 0.5                             # unit 1: all three tie
    layer.params = {"weight": w.requires_grad_(True), "bias": b.requires_grad_(True)}
    x = torch.randn(N, C, 1, 1).requires_grad_(True)
    y = layer.forward(x).reshape(N, 3, 1, 1)
    dy = torch.randn(y.shape)
    (y * dy).sum().backward()
    gb = layer.params["bias"].grad
    assert gb[0] != 0 and gb[1] == 0 and gb[2] == 0, gb   # first of the tie wins
    assert gb[3] != 0 and gb[4] == 0 and gb[5] == 0, gb
    return [("spec", spec), ("x", x), ("weight", w), ("bias", b), ("y", y), ("dy", dy),
            ("dx", x.grad), ("grad.weight", w.grad), ("grad.bias", gb)]


# Spectral normalisation: real torch modules under torch.nn.utils.spectral_norm (so integer
# padding only). ganc draws its own u and v, so each fixture carries a starting pair
# (init.weight_u, init.weight_v) written into torch's buffers and loaded by the C test.
SN_CASES = [
    ("sn_dense_a", "dense 5 sn", (4, 6, 1, 1)),
    ("sn_dense_b", "dense 1 bias=0 sn", (3, 2, 2, 2)),
    ("sn_conv_a", "conv 4 k=3 stride=2 pad=1 sn", (2, 3, 7, 6)),
    ("sn_conv_b", "conv 3 k=2 bias=0 sn", (2, 2, 4, 4)),
    ("sn_deconv_a", "deconv 3 k=4 stride=2 pad=1 sn", (2, 5, 3, 4)),
    ("sn_deconv_b", "deconv 2 k=3 stride=2 pad=1 outpad=1 bias=0 sn", (1, 3, 3, 3)),
    ("sn_maxout", "maxout 3 pieces=4 sn", (4, 5, 1, 1)),
]


def sn_module(layer):
    C, H, W = layer.in_shape
    if layer.kind in ("dense", "maxout"):
        return nn.Linear(C * H * W, layer.param_shapes["weight"][0], bias=layer.bias_on)
    if layer.kind == "conv":
        return nn.Conv2d(C, layer.out_c, layer.k, stride=layer.s, padding=int(layer.pad),
                         bias=layer.bias_on)
    assert layer.kind == "deconv"
    return nn.ConvTranspose2d(C, layer.out_c, layer.k, stride=layer.s, padding=int(layer.pad),
                              output_padding=layer.outpad, bias=layer.bias_on)


def sn_forward(layer, mod, x):
    N = x.shape[0]
    if layer.kind == "dense":
        y = mod(x.reshape(N, -1))
    elif layer.kind == "maxout":
        y = mod(x.reshape(N, -1)).view(N, layer.units, layer.pieces).max(dim=2).values
    else:
        y = mod(x)
    return y.reshape(N, *layer.out_shape)


def make_sn_case(idx, name, spec, shape):
    torch.manual_seed(2000 + idx)
    N, C, H, W = shape
    layer = Layer(spec, (C, H, W))
    assert layer.opts.get("sn"), name
    mod = sn_module(layer)
    with torch.no_grad():
        for pname, pshape in layer.param_shapes.items():
            getattr(mod, pname).copy_(0.3 * torch.randn(pshape))
    mod = torch.nn.utils.spectral_norm(mod)  # dim=1 for ConvTranspose2d, 0 otherwise
    u0 = F.normalize(torch.randn(mod.weight_u.numel()), dim=0, eps=1e-12)
    v0 = F.normalize(torch.randn(mod.weight_v.numel()), dim=0, eps=1e-12)
    with torch.no_grad():
        mod.weight_u.copy_(u0)
        mod.weight_v.copy_(v0)
    x = torch.randn(shape).requires_grad_(True)
    mod.eval()
    with torch.no_grad():
        y_eval0 = sn_forward(layer, mod, x)  # u0 and v0 as they are: v0 is not W^T u0
    mod.train()
    y = sn_forward(layer, mod, x)  # one power iteration
    dy = torch.randn(y.shape)
    loss = (y * dy).sum()
    # Self-check of the rule the C side uses: with G = dL/dW_sn and u, v constant,
    # dL/dW = (G - <G, W_sn> u v^T) / sigma.
    w_sn = mod.weight
    (g,) = torch.autograd.grad(loss, [w_sn], retain_graph=True)
    loss.backward()
    with torch.no_grad():
        dim = 1 if layer.kind == "deconv" else 0
        perm = [dim] + [d for d in range(w_sn.dim()) if d != dim]
        u, v = mod.weight_u, mod.weight_v
        w_mat = mod.weight_orig.permute(*perm).reshape(u.numel(), -1)
        sigma = torch.dot(u, torch.mv(w_mat, v))
        rank1 = torch.outer(u, v).reshape([w_sn.shape[d] for d in perm])
        inv = [perm.index(d) for d in range(w_sn.dim())]
        want = (g - (g * w_sn).sum() * rank1.permute(*inv)) / sigma
        assert torch.allclose(want, mod.weight_orig.grad, rtol=1e-4, atol=1e-6), name

    entries = [("spec", spec), ("x", x), ("weight_orig", mod.weight_orig)]
    if layer.bias_on:
        entries.append(("bias", mod.bias))
    entries += [("init.weight_u", u0), ("init.weight_v", v0), ("y_eval0", y_eval0),
                ("y", y), ("dy", dy), ("dx", x.grad),
                ("grad.weight_orig", mod.weight_orig.grad)]
    if layer.bias_on:
        entries.append(("grad.bias", mod.bias.grad))
    entries += [("weight_u", mod.weight_u.clone()), ("weight_v", mod.weight_v.clone())]
    with torch.no_grad():
        y2 = sn_forward(layer, mod, x)  # a second power iteration
        u2, v2 = mod.weight_u.clone(), mod.weight_v.clone()
        mod.eval()
        y_eval = sn_forward(layer, mod, x)  # the stored u and v, not updated
        assert torch.equal(mod.weight_u, u2) and torch.equal(mod.weight_v, v2), name
        # the second iteration moved u (a one-row matrix's u is always +-1)
        assert u2.numel() == 1 or not torch.equal(u2, entries[-2][1]), name
    entries += [("y2", y2), ("after2.weight_u", u2), ("after2.weight_v", v2),
                ("y_eval", y_eval)]
    return entries, layer


def make_bce_case():
    logits = torch.tensor([-1e4, -30, -3, -0.5, 0, 0.7, 4, 35, 1e4],
                          dtype=torch.float64).view(9, 1, 1, 1)
    targets = torch.tensor([0, 1, 0.9, 1, 0, 0.9, 0, 1, 1],
                           dtype=torch.float64).view(9, 1, 1, 1)
    lg = logits.clone().requires_grad_(True)
    loss = F.binary_cross_entropy_with_logits(lg, targets, reduction="mean")
    loss.backward()
    return [("spec", "bce_logits"), ("logits", logits), ("targets", targets),
            ("loss", loss.detach().view(1)), ("dlogits", lg.grad)]


# ----------------------------------------------------------------------------
# Network cases
# ----------------------------------------------------------------------------

# Layers followed by batch norm carry no bias: such a bias has an exactly zero gradient, so
# Adam would amplify rounding noise (different in every implementation) into full steps.
NET_SPEC = "\n".join([
    "deconv 8 k=3 pad=valid bias=0",
    "batchnorm",
    "elu",
    "deconv 4 k=4 stride=2 pad=same bias=0",
    "batchnorm",
    "lrelu slope=0.2",
    "conv 6 k=3 stride=2 pad=same bias=0",
    "batchnorm",
    "concat_elu",
    "flatten",
    "dense 1",
])


class SpecNet(nn.Module):
    """Sequential net built from spec lines; parameters come from the default
    initialisation of the matching torch.nn modules (created in line order)."""

    def __init__(self, spec, in_shape):
        super().__init__()
        self.layers = []
        self.mods = nn.ModuleDict()
        shape = tuple(in_shape)
        for i, line in enumerate(spec.split("\n")):
            L = Layer(line, shape)
            C = shape[0]
            mod = None
            if L.kind == "deconv":
                mod = nn.ConvTranspose2d(C, L.out_c, L.k, stride=L.s,
                                         bias=L.bias_on)
            elif L.kind == "conv":
                mod = nn.Conv2d(C, L.out_c, L.k, stride=L.s, bias=L.bias_on)
            elif L.kind == "batchnorm":
                mod = nn.BatchNorm2d(C, eps=L.eps, momentum=L.momentum)
            elif L.kind == "dense":
                mod = nn.Linear(int(np.prod(shape)), L.out_f, bias=L.bias_on)
            if mod is not None:
                self.mods[str(i)] = mod
                L.params = {n: p for n, p in mod.named_parameters()}
                L.buffers = {"running_mean": mod.running_mean,
                             "running_var": mod.running_var} \
                    if L.kind == "batchnorm" else {}
                for pn, ps in L.param_shapes.items():
                    assert tuple(L.params[pn].shape) == tuple(ps), (i, pn)
            self.layers.append(L)
            shape = L.out_shape

    def forward(self, x):
        for L in self.layers:
            if L.kind in ("relu", "lrelu"):
                # distance of the inputs from the kink, see make_net_case
                self.kink_margin = min(getattr(self, "kink_margin", float("inf")),
                                       float(x.detach().abs().min()))
            x = L.forward(x, training=self.training)
        return x

    def named_state(self):
        """(name, tensor) for every parameter and running stat, index order."""
        out = []
        for i, L in enumerate(self.layers):
            for pn in L.param_shapes:
                out.append(("%d.%s" % (i, pn), L.params[pn]))
            for bn in ("running_mean", "running_var"):
                if bn in L.buffers:
                    out.append(("%d.%s" % (i, bn), L.buffers[bn]))
        return out

    def named_params(self):
        return [("%d.%s" % (i, pn), L.params[pn])
                for i, L in enumerate(self.layers) for pn in L.param_shapes]


KINK_MARGIN = 1e-3


def make_net_case(opt_kind, lr, weight_decay=0.0, steps=5):
    """Five optimizer steps. An activation that passes within float rounding of the LeakyReLU
    kink during training makes the result depend on rounding (the C side would take the other
    branch and drift by a whole Adam step), so the first seed from 1234 on whose activations
    all stay KINK_MARGIN away from it is used."""
    for seed in range(1234, 1334):
        entries, net = make_net_case_seeded(seed, opt_kind, lr, weight_decay, steps)
        if net.kink_margin >= KINK_MARGIN:
            return entries, net
    raise RuntimeError("no seed keeps the network away from the LeakyReLU kink")


def make_net_case_seeded(seed, opt_kind, lr, weight_decay, steps):
    torch.manual_seed(seed)
    net = SpecNet(NET_SPEC, (3, 1, 1))
    x = torch.randn(4, 3, 1, 1)
    target = torch.randint(0, 2, (4, 1, 1, 1)).float()
    net.train()

    entries = [("spec", NET_SPEC), ("x", x), ("target", target),
               ("lr", [lr])]
    if opt_kind == "adam":
        betas, eps = (0.5, 0.999), 1e-8
        entries += [("beta1", [betas[0]]), ("beta2", [betas[1]]),
                    ("eps", [eps]), ("weight_decay", [weight_decay])]
        opt = torch.optim.Adam([p for _, p in net.named_params()], lr=lr,
                               betas=betas, eps=eps, weight_decay=weight_decay)
    else:
        momentum = 0.9
        entries += [("momentum", [momentum])]
        opt = torch.optim.SGD([p for _, p in net.named_params()], lr=lr,
                              momentum=momentum)

    for n, t in net.named_state():
        entries.append(("init." + n, t.detach().clone()))

    for step in range(steps):
        opt.zero_grad()
        out = net(x)
        loss = F.binary_cross_entropy_with_logits(out.view(4, 1, 1, 1), target,
                                                  reduction="mean")
        loss.backward()
        if step == 0:
            entries.append(("out.0", out.detach().view(4, 1, 1, 1).clone()))
            for n, p in net.named_params():
                entries.append(("grad0." + n, p.grad.detach().clone()))
        entries.append(("loss.%d" % step, loss.detach().view(1).clone()))
        opt.step()

    for n, t in net.named_state():
        entries.append(("final." + n, t.detach().clone()))
    return entries, net


# ----------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------

def generate_all():
    """Return {filename: (entries, info)} for every fixture."""
    files = {}
    for idx, (name, spec, shape) in enumerate(LAYER_CASES):
        entries, layer = make_layer_case(idx, name, spec, shape)
        files["layer_%s.gfx" % name] = (entries, layer)
    files["layer_maxout_ties.gfx"] = (make_maxout_ties_case(), None)
    for idx, (name, spec, shape) in enumerate(SN_CASES):
        entries, layer = make_sn_case(idx, name, spec, shape)
        files["layer_%s.gfx" % name] = (entries, layer)
    files["layer_bce_logits.gfx"] = (make_bce_case(), None)
    files["net_adam.gfx"] = make_net_case("adam", 0.01, 0.0)
    files["net_adam_wd.gfx"] = make_net_case("adam", 0.005, 0.01)
    files["net_sgd.gfx"] = make_net_case("sgd", 0.05)
    return files


def pad_table(files):
    rows = []
    for fname, (entries, obj) in files.items():
        layers = []
        if isinstance(obj, Layer):
            layers = [(fname[len("layer_"):-4], obj)]
        elif isinstance(obj, SpecNet):
            if fname != "net_adam.gfx":
                continue
            layers = [("net[%d]" % i, L) for i, L in enumerate(obj.layers)]
        for label, L in layers:
            if L.kind not in ("conv", "deconv"):
                continue
            ph, pw = L.pads
            if L.kind == "conv":
                h = "%d/%d" % (ph[0], ph[1])
                w = "%d/%d" % (pw[0], pw[1])
                full = "-"
            else:
                h = "%d/%d" % (ph[0], ph[1])
                w = "%d/%d" % (pw[0], pw[1])
                full = "%dx%d" % (ph[2], pw[2])
            rows.append((label, L.line, "x".join(map(str, L.in_shape)),
                         "x".join(map(str, L.out_shape)), full, h, w))
    hdr = ("case", "spec", "in CxHxW", "out CxHxW", "full HxW",
           "H before/after", "W before/after")
    widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]
    fmt = " | ".join("%%-%ds" % w for w in widths)
    lines = [fmt % hdr, "-+-".join("-" * w for w in widths)]
    lines += [fmt % r for r in rows]
    return "\n".join(lines)


def write_all():
    os.makedirs(OUT_DIR, exist_ok=True)
    files = generate_all()
    total = 0
    for fname, (entries, _) in files.items():
        data = encode_gfx(entries)
        with open(os.path.join(OUT_DIR, fname), "wb") as f:
            f.write(data)
        total += len(data)
        print("%-28s %7d bytes  %3d entries" % (fname, len(data), len(entries)))
    print("total %d bytes in %d files -> %s" % (total, len(files), OUT_DIR))
    return files


def check_all():
    """Re-read every .gfx in the fixture dir; verify structure and that a
    fresh (deterministic) generation matches bit for bit."""
    fresh = generate_all()
    on_disk = sorted(f for f in os.listdir(OUT_DIR) if f.endswith(".gfx"))
    ok = True
    missing = sorted(set(fresh) - set(on_disk))
    if missing:
        print("MISSING:", missing)
        ok = False
    for fname in on_disk:
        with open(os.path.join(OUT_DIR, fname), "rb") as f:
            data = f.read()
        try:
            entries = decode_gfx(data)
        except ValueError as e:
            print("FAIL %s: %s" % (fname, e))
            ok = False
            continue
        if encode_gfx(entries) != data:
            print("FAIL %s: re-encode differs" % fname)
            ok = False
            continue
        d = dict(entries)
        # structural sanity for layer cases
        if fname.startswith("layer_") and fname != "layer_bce_logits.gfx":
            for key in ("spec", "x", "y", "dy", "dx"):
                if key not in d:
                    print("FAIL %s: no %s" % (fname, key))
                    ok = False
            if d["x"].shape != d["dx"].shape or d["y"].shape != d["dy"].shape \
                    or d["x"].ndim != 4 or d["y"].ndim != 4:
                print("FAIL %s: shape mismatch" % fname)
                ok = False
        if fname in fresh:
            ref = encode_gfx(fresh[fname][0])
            if ref != data:
                print("FAIL %s: differs from fresh generation" % fname)
                ok = False
                continue
        elif fname not in fresh:
            print("note: %s is not produced by this script" % fname)
        print("ok   %-28s %3d entries" % (fname, len(entries)))
    print("CHECK %s" % ("PASSED" if ok else "FAILED"))
    return ok


def main(argv):
    if "--check" in argv:
        return 0 if check_all() else 1
    if "--table" in argv:
        print(pad_table(generate_all()))
        return 0
    files = write_all()
    print()
    print(pad_table(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
