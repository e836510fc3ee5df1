#!/usr/bin/python3
"""PyTorch reference for `ganc bench`: trains the same G and D, the same way, and times it.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_gan.py --model dcgan28 --batch 64 \
        --threads 2 --iters 20 [--shape C H W] [--warmup 3] [--autocast] [--verbose] [--profile]

--model takes a preset name (models/NAME.gan) or a model file. The networks are built from
the file's layer lines exactly as ganc builds them (G's input z as (z_dim, 1, 1), D's input
the data shape: --shape, 1 28 28 by default; bench/run.sh gives dcgan32 3 32 32 and dcgan64
3 64 64, the shapes `ganc bench` picks for them), with TensorFlow-style pad=same/valid: asymmetric zero padding
for conv, the asymmetric crop of the full transposed convolution for deconv (the same rules as
tools/make_fixtures.py, copied here so this script stands alone). The [train] section gives
z_dim, z_dist, batch (unless --batch), init, optimiser and learning rates.

One iteration is ganc's game (src/gan/game.c): a D step (real batch -> D -> BCE vs 1,
backward; G forward without gradients; D(fake) -> BCE vs 0, backward; D's optimiser step) then
a G step (fresh z, G -> D with D's parameters frozen -> non-saturating BCE vs 1, backward into
G; G's optimiser step). Both nets in training mode (batch statistics, dropout on). The real
batch is fixed synthetic uniform data in G's output range.

--autocast runs every forward pass and loss under torch.autocast("cpu", dtype=torch.bfloat16)
(the matrix products in bfloat16, fp32 weights and optimiser): what `ganc bench --precision bf16`
is compared with.

Prints, last, one line:
    torch model=M batch=B threads=T iters=N it_s=X img_s=Y ms=Z ms_min=W rss_mb=R
with the median time of N iterations after the warm-up ones.
"""

import os

# One threading layer: PyTorch's OpenMP pool. OpenBLAS's own pthreads would otherwise run
# beside it (set before torch loads OpenBLAS).
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------
# Model file
# ----------------------------------------------------------------------------

TRAIN_DEFAULTS = {  # ganc_config_defaults (src/gan/config.c)
    "z_dim": "100", "z_dist": "normal", "batch": "64", "d_steps": "1", "g_loss": "ns",
    "optim": "adam", "lr_g": "2e-4", "lr_d": "2e-4", "beta1": "0.5", "beta2": "0.999",
    "momentum": "0.9", "weight_decay": "0", "init": "dcgan",
}


def read_model(name):
    """Return (path, {section: [(lineno, text)]}) of a preset name or model file."""
    path = name
    if not os.path.isfile(path):
        path = os.path.join(ROOT, "models", name + ".gan")
    if not os.path.isfile(path):
        sys.exit("torch_gan.py: no model file or preset %r" % name)
    sections, cur = {}, None
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            s = raw.split("#", 1)[0].strip()
            if not s:
                continue
            if s.startswith("["):
                cur = s
                sections.setdefault(cur, [])
                continue
            if cur is None:
                sys.exit("%s:%d: line outside any section" % (path, lineno))
            sections[cur].append((lineno, s))
    for sec in ("[generator]", "[discriminator]"):
        if not sections.get(sec):
            sys.exit("%s: no %s layers" % (path, sec))
    return path, sections


def train_config(sections):
    cfg = dict(TRAIN_DEFAULTS)
    for _, s in sections.get("[train]", []):
        if "=" in s:
            k, v = s.split("=", 1)
        else:
            k, _, v = s.partition(" ")
        cfg[k.strip()] = v.strip()
    return cfg


def substitute(line, var):
    out, i = [], 0
    while i < len(line):
        if line[i] != "$":
            out.append(line[i])
            i += 1
            continue
        j = i + 1
        while j < len(line) and line[j].isalpha():
            j += 1
        name = line[i + 1:j]
        if name not in var:
            sys.exit("unknown variable $%s in %r" % (name, line))
        out.append(str(var[name]))
        i = j
    return "".join(out)


def parse_spec(line):
    toks = line.split()
    pos, opts = [], {}
    for t in toks[1:]:
        if "=" in t:
            k, v = t.split("=", 1)
            opts[k] = v
        else:
            pos.append(int(t))
    return toks[0], pos, opts


# Padding rules, as in tools/make_fixtures.py and src/layers/padding.c.
def conv_pads(n_in, k, s, pad):
    """(before, after, out) of one spatial dimension of a convolution."""
    if pad == "same":
        out = -(-n_in // s)
        total = max((out - 1) * s + k - n_in, 0)
        return total // 2, total - total // 2, out
    p = 0 if pad == "valid" else int(pad)
    return p, p, (n_in + 2 * p - k) // s + 1


def deconv_crops(n_in, k, s, pad, outpad):
    """(before, after, out) of one spatial dimension of a transposed convolution: the output
    is full[before : full - after] of the full (n_in - 1) * s + k result; after < 0 appends
    -after bias-only positions."""
    full = (n_in - 1) * s + k
    if pad == "same":
        out = n_in * s
        before = max(full - out, 0) // 2
    elif pad == "valid":
        out = n_in * s + max(k - s, 0)
        before = 0
    else:
        before = int(pad)
        out = full - 2 * before + outpad
    return before, full - before - out, out


# ----------------------------------------------------------------------------
# Layers (torch modules import lazily: the environment above must be set first)
# ----------------------------------------------------------------------------

def build_net(lines, in_shape, init, torch, nn, F):
    """nn.Sequential of the layer lines; returns (net, out_shape, [(line, out_shape)])."""

    class Dense(nn.Linear):
        def forward(self, x):
            return super().forward(x.reshape(x.shape[0], -1))

    class Conv(nn.Conv2d):
        def __init__(self, c, h, w, out_c, k, s, pad, bias):
            ph, pw = conv_pads(h, k, s, pad), conv_pads(w, k, s, pad)
            self.in_chw = (c, h, w)
            self.sym = ph[0] == ph[1] and pw[0] == pw[1]
            self.pad4 = (pw[0], pw[1], ph[0], ph[1])
            super().__init__(c, out_c, k, stride=s, padding=(ph[0], pw[0]) if self.sym else 0, bias=bias)
            self.out_shape = (out_c, ph[2], pw[2])

        def forward(self, x):
            x = x.reshape(x.shape[0], *self.in_chw)
            if not self.sym:
                x = F.pad(x, self.pad4)
            return super().forward(x)

    def tconv_plan(before, after, s):
        """(padding, output_padding, crop_before, crop_after) giving full[before:full-after]
        with ConvTranspose2d, or None when only the generic path can."""
        if before >= after and before - after < s:
            return before, before - after, 0, 0
        if before >= 0 and after >= 0:
            p = min(before, after)
            return p, 0, before - p, after - p
        return None

    class Deconv(nn.ConvTranspose2d):
        def __init__(self, c, h, w, out_c, k, s, pad, outpad, bias):
            bh, ah, oh = deconv_crops(h, k, s, pad, outpad)
            bw, aw, ow = deconv_crops(w, k, s, pad, outpad)
            self.in_chw = (c, h, w)
            self.out_shape = (out_c, oh, ow)
            plan_h, plan_w = tconv_plan(bh, ah, s), tconv_plan(bw, aw, s)
            if plan_h is not None and plan_w is not None:
                self.generic = False
                super().__init__(c, out_c, k, stride=s, padding=(plan_h[0], plan_w[0]),
                                 output_padding=(plan_h[1], plan_w[1]), bias=bias)
                self.crop = (plan_h[2], plan_h[3], plan_w[2], plan_w[3])
            else:
                self.generic = True
                super().__init__(c, out_c, k, stride=s, bias=bias)
                self.neg_pad = (-bw, -aw, -bh, -ah)

        def forward(self, x):
            x = x.reshape(x.shape[0], *self.in_chw)
            if self.generic:
                y = F.pad(F.conv_transpose2d(x, self.weight, None, stride=self.stride), self.neg_pad)
                return y if self.bias is None else y + self.bias.view(1, -1, 1, 1)
            y = super().forward(x)
            t, b, l, r = self.crop
            if t or b or l or r:
                y = y[:, :, t:y.shape[2] - b, l:y.shape[3] - r]
            return y

    class BatchNorm(nn.Module):
        def __init__(self, c, h, w, eps, momentum):
            super().__init__()
            self.chw = (c, h, w)
            self.flat = h * w == 1
            self.bn = (nn.BatchNorm1d if self.flat else nn.BatchNorm2d)(c, eps=eps, momentum=momentum)

        def forward(self, x):
            n = x.shape[0]
            return self.bn(x.reshape(n, self.chw[0]) if self.flat else x.reshape(n, *self.chw))

    class ConcatElu(nn.Module):
        def __init__(self, alpha):
            super().__init__()
            self.alpha = alpha

        def forward(self, x):
            return F.elu(torch.cat([x, -x], dim=1), self.alpha)

    class Reshape(nn.Module):
        def __init__(self, shape):
            super().__init__()
            self.shape = tuple(shape)

        def forward(self, x):
            return x.reshape(x.shape[0], *self.shape)

    mods, report = [], []
    c, h, w = in_shape
    for lineno, line in lines:
        kind, pos, o = parse_spec(line)
        bias = int(o.get("bias", "1")) != 0
        if kind == "dense":
            m = Dense(c * h * w, pos[0], bias=bias)
            shape = (pos[0], 1, 1)
        elif kind == "conv":
            m = Conv(c, h, w, pos[0], int(o["k"]), int(o.get("stride", "1")), o.get("pad", "0"), bias)
            shape = m.out_shape
        elif kind == "deconv":
            m = Deconv(c, h, w, pos[0], int(o["k"]), int(o.get("stride", "1")), o.get("pad", "0"),
                       int(o.get("outpad", "0")), bias)
            shape = m.out_shape
        elif kind == "batchnorm":
            m = BatchNorm(c, h, w, float(o.get("eps", "1e-5")), float(o.get("momentum", "0.1")))
            shape = (c, h, w)
        elif kind == "relu":
            m, shape = nn.ReLU(), (c, h, w)
        elif kind == "lrelu":
            m, shape = nn.LeakyReLU(float(o.get("slope", "0.2"))), (c, h, w)
        elif kind == "elu":
            m, shape = nn.ELU(float(o.get("alpha", "1"))), (c, h, w)
        elif kind == "concat_elu":
            m, shape = ConcatElu(float(o.get("alpha", "1"))), (2 * c, h, w)
        elif kind == "tanh":
            m, shape = nn.Tanh(), (c, h, w)
        elif kind == "sigmoid":
            m, shape = nn.Sigmoid(), (c, h, w)
        elif kind == "dropout":
            p = 1.0 - float(o["keep"]) if "keep" in o else float(o.get("p", "0.5"))
            m, shape = nn.Dropout(p), (c, h, w)
        elif kind == "flatten":
            m, shape = Reshape((c * h * w,)), (c * h * w, 1, 1)
        elif kind == "reshape":
            m, shape = Reshape(pos), tuple(pos)
        else:
            sys.exit("line %d: unknown layer %r" % (lineno, kind))

        if kind in ("dense", "conv", "deconv"):
            if init == "dcgan":  # N(0, 0.02) weights, zero biases; else PyTorch's defaults
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            if "bias_init" in o and m.bias is not None:
                nn.init.constant_(m.bias, float(o["bias_init"]))
        elif kind == "batchnorm" and init == "dcgan":
            nn.init.normal_(m.bn.weight, 1.0, 0.02)
            nn.init.zeros_(m.bn.bias)

        mods.append(m)
        report.append((line, shape))
        c, h, w = shape
    return nn.Sequential(*mods), (c, h, w), report


# ----------------------------------------------------------------------------
# Benchmark
# ----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="dcgan28")
    ap.add_argument("--batch", type=int, default=0, help="0: the model's [train] batch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--shape", type=int, nargs=3, default=(1, 28, 28), metavar=("C", "H", "W"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--autocast", action="store_true", help="forward passes under torch.autocast to bfloat16")
    ap.add_argument("--verbose", action="store_true", help="print layer shapes and parameter counts")
    ap.add_argument("--profile", action="store_true", help="print the slowest PyTorch ops")
    a = ap.parse_args()
    if a.iters < 1 or a.warmup < 0 or a.threads < 1:
        sys.exit("torch_gan.py: --iters and --threads must be >= 1, --warmup >= 0")

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    path, sections = read_model(a.model)
    cfg = train_config(sections)
    batch = a.batch or int(cfg["batch"])
    z_dim = int(cfg["z_dim"])
    c, h, w = a.shape
    info = int(cfg.get("info_codes", 0))  # InfoGAN: z's last `info` components are a one-hot code
    var = {"z": z_dim, "c": c, "h": h, "w": w, "pixels": c * h * w, "dout": 1 + info}
    g_lines = [(n, substitute(s, var)) for n, s in sections["[generator]"]]
    d_lines = [(n, substitute(s, var)) for n, s in sections["[discriminator]"]]

    G, g_out, g_rep = build_net(g_lines, (z_dim, 1, 1), cfg["init"], torch, nn, F)
    D, d_out, d_rep = build_net(d_lines, (c, h, w), cfg["init"], torch, nn, F)
    if g_out != (c, h, w):
        sys.exit("%s: G makes %s samples, the data is %s" % (path, g_out, (c, h, w)))
    if d_out[0] * d_out[1] * d_out[2] != 1 + info:
        sys.exit("%s: D must output %d values (its logit and %d code guesses), not %s" % (path, 1 + info, info, d_out))
    # G's output activation decides the range of the (synthetic) real data, as in ganc.
    acts = [parse_spec(s)[0] for _, s in g_lines]
    last = acts[-2] if acts[-1] == "reshape" and len(acts) > 1 else acts[-1]
    lo = -1.0 if last == "tanh" else 0.0

    n_g = sum(p.numel() for p in G.parameters())
    n_d = sum(p.numel() for p in D.parameters())
    if a.verbose:
        for title, rep, n in (("generator", g_rep, n_g), ("discriminator", d_rep, n_d)):
            print("%s: %d parameters, %d layers" % (title, n, len(rep)))
            for line, shape in rep:
                print("  %-40s -> %s" % (line, "x".join(map(str, shape))))
        print("train: z_dim=%d z_dist=%s batch=%d init=%s optim=%s lr_g=%s lr_d=%s beta1=%s beta2=%s g_loss=%s"
              % (z_dim, cfg["z_dist"], batch, cfg["init"], cfg["optim"], cfg["lr_g"], cfg["lr_d"],
                 cfg["beta1"], cfg["beta2"], cfg["g_loss"]))
        print("params G=%d D=%d" % (n_g, n_d))

    def optimiser(params, lr):
        wd = float(cfg["weight_decay"])
        if cfg["optim"] == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=float(cfg["momentum"]), weight_decay=wd)
        return torch.optim.Adam(params, lr=lr, betas=(float(cfg["beta1"]), float(cfg["beta2"])),
                                eps=1e-8, weight_decay=wd)

    opt_g = optimiser(G.parameters(), float(cfg["lr_g"]))
    opt_d = optimiser(D.parameters(), float(cfg["lr_d"]))
    d_params = list(D.parameters())
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(batch, c, h, w) * (1.0 - lo) + lo
    ones = torch.ones(batch, 1)
    zeros = torch.zeros(batch, 1)
    uniform_z = cfg["z_dist"] == "uniform"
    minimax = cfg["g_loss"] == "minimax"

    info_w = float(cfg.get("info_weight", 1.0))
    code = torch.zeros(batch, dtype=torch.long)

    def noise():
        z = torch.rand(batch, z_dim, 1, 1) if uniform_z else torch.randn(batch, z_dim, 1, 1)
        if info:  # as ganc: a uniform code, one-hot in z's last components
            code.random_(0, info)
            z[:, z_dim - info:, 0, 0] = F.one_hot(code, info).float()
        return z

    def outputs(x):
        return D(x).reshape(batch, 1 + info)

    def logits(x):
        return outputs(x)[:, :1]

    def code_loss(out):  # the code guesses' cross-entropy on generated samples (0 without a code)
        return info_w * F.cross_entropy(out[:, 1:], code) if info else 0.0

    def cast():  # forward passes and losses; backward outside, as PyTorch's autocast recipe has it
        return torch.autocast("cpu", dtype=torch.bfloat16) if a.autocast else contextlib.nullcontext()

    def iteration():
        # D step: real and fake batches pass separately (own batch statistics), one backward each.
        opt_d.zero_grad()
        with cast():
            loss = bce(logits(real), ones)
        loss.backward()
        with torch.no_grad(), cast():
            fake = G(noise())
        with cast():
            out = outputs(fake)
            loss = bce(out[:, :1], zeros) + code_loss(out)
        loss.backward()
        opt_d.step()
        # G step: D frozen, only its input gradient is computed.
        opt_g.zero_grad()
        for p in d_params:
            p.requires_grad_(False)
        with cast():
            full = outputs(G(noise()))
            out = full[:, :1]
            loss = (-bce(out, zeros) if minimax else bce(out, ones)) + code_loss(full)
        loss.backward()
        for p in d_params:
            p.requires_grad_(True)
        opt_g.step()

    G.train()
    D.train()
    for _ in range(a.warmup):
        iteration()
    times = []
    prof = torch.autograd.profiler.profile() if a.profile else None
    if prof:
        prof.__enter__()
    for _ in range(a.iters):
        t0 = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - t0)
    if prof:
        prof.__exit__(None, None, None)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
    times.sort()
    med = times[len(times) // 2]  # as ganc bench: the upper median for even counts
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("torch model=%s batch=%d threads=%d iters=%d it_s=%.2f img_s=%.1f ms=%.2f ms_min=%.2f rss_mb=%.0f "
          "params_g=%d params_d=%d torch=%s autocast=%s"
          % (os.path.splitext(os.path.basename(a.model))[0], batch, torch.get_num_threads(), a.iters, 1.0 / med,
             batch / med, med * 1e3, times[0] * 1e3, rss_mb, n_g, n_d, torch.__version__,
             "bf16" if a.autocast else "off"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
