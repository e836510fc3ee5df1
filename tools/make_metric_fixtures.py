#!/usr/bin/python3
"""Reference values for the sample-quality metrics (src/eval/metrics.c), computed with NumPy
alone (float64 throughout; SciPy is not needed and not used).

    /usr/bin/python3 tools/make_metric_fixtures.py          # writes tests/fixtures/metrics/*.gfx
    /usr/bin/python3 tools/make_metric_fixtures.py --check  # regenerates in memory and compares
                                                             # with the files, byte for byte

The files use the .gfx format of tools/make_fixtures.py (tests/fixtures/README.md), read in C
by tests/fixture.c. Every value is stored as float32; the features themselves ARE float32
(that is what ganc's feature networks produce), and every reference is computed in float64
from exactly those float32 values, so the C code sees the same inputs.

Cases (each file holds the entries listed under "Entries" below):

* ``prdc_a.gfx``  real 500 x 16 ~ N(0, I), generated 480 x 16 ~ N(0.3, 1.2^2 I).
* ``prdc_b.gfx``  real 300 x 64 and generated 320 x 64 "ReLU features": 5 + max(z, 0) with z
  correlated Gaussians (a large common offset, as penultimate-layer features have, tests the
  conditioning of the moment and distance computations).
* ``singular.gfx``  real 20 x 64 and generated 30 x 64: both covariances are singular (n < d),
  the case where a general sqrtm goes complex.

Entries: ``real``, ``fake`` (n x d), ``k`` (the PRDC k), ``mean_real``, ``eig_real`` (eigenvalues of
the real covariance, ascending, numpy.linalg.eigh), ``eig_fake``, ``fid``, ``kid`` (unbiased MMD^2
of the whole sets), ``kid_eq`` (the same on the first min(n_real, n_fake) rows of each set, for
ganc_kid with one subset of the full size), ``precision``, ``recall``, ``density``, ``coverage``, ``radii_real``, ``radii_fake``
(distance to the k-th nearest other point), and ``min_margin``: the smallest relative gap
|dist^2 - radius^2| / radius^2 over every ball-membership test, so that a reader can see that no
decision is within rounding of flipping (the script refuses cases where it is below 1e-9).

Definitions (those of metrics.c): covariance with n - 1; FID with tr sqrt(C1 C2) from the
eigenvalues of S C2 S, S = sqrtm(C1) through eigh (checked here against the eigenvalues of the
non-symmetric C1 C2 from numpy.linalg.eigvals, a different route); KID kernel (x.y/d + 1)^3;
ball membership strict (dist < radius), as in the prdc reference code.
"""

import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "metrics")
MAGIC = b"GANCFX01"
K = 3


def encode_gfx(entries):
    """entries: list of (name, array-like); everything is stored as float32."""
    out = [MAGIC, struct.pack("<I", len(entries))]
    for name, value in entries:
        arr = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
        if arr.ndim == 0:
            arr = arr.reshape(1)
        nb = name.encode("ascii")
        out.append(struct.pack("<I", len(nb)) + nb)
        out.append(struct.pack("<II", 0, arr.ndim) + struct.pack("<%dI" % arr.ndim, *arr.shape))
        out.append(arr.astype("<f4").tobytes())
    return b"".join(out)


def cov(x):
    return np.cov(x, rowvar=False, ddof=1)


def sqrt_psd(c):
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def fid(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    c1, c2 = cov(x), cov(y)
    s = sqrt_psd(c1)
    m = s @ c2 @ s
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0.0, None)).sum()
    # A different route to the same trace: eigenvalues of the non-symmetric C1 C2.
    ev = np.linalg.eigvals(c1 @ c2)
    tr_sqrt2 = np.sqrt(np.clip(ev.real, 0.0, None)).sum()
    assert abs(tr_sqrt - tr_sqrt2) <= 1e-6 * max(1.0, tr_sqrt), (tr_sqrt, tr_sqrt2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2.0 * tr_sqrt)


def kid_exact(x, y):
    d = x.shape[1]
    kxx = (x @ x.T / d + 1.0) ** 3
    kyy = (y @ y.T / d + 1.0) ** 3
    kxy = (x @ y.T / d + 1.0) ** 3
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                 + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.sum() / (m * n))


def sqdist(a, b):
    # Direct differences, not |a|^2 + |b|^2 - 2ab: exact enough to decide ball membership.
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def knn_radius_sq(x, k):
    d = sqdist(x, x)
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, k - 1]


def prdc(real, fake, k):
    r_real = knn_radius_sq(real, k)
    r_fake = knn_radius_sq(fake, k)
    d_rf = sqdist(real, fake)                      # [i real, j fake]
    in_real = d_rf < r_real[:, None]               # fake j inside real ball i
    in_fake = d_rf < r_fake[None, :]               # real i inside fake ball j
    margin = min(np.min(np.abs(d_rf - r_real[:, None]) / r_real[:, None]),
                 np.min(np.abs(d_rf - r_fake[None, :]) / r_fake[None, :]))
    out = dict(
        precision=in_real.any(axis=0).mean(),
        recall=in_fake.any(axis=1).mean(),
        density=in_real.sum() / (k * fake.shape[0]),
        coverage=in_real.any(axis=1).mean(),
        radii_real=np.sqrt(r_real),
        radii_fake=np.sqrt(r_fake),
        min_margin=margin,
    )
    return out


def case(real, fake):
    real = real.astype(np.float32)
    fake = fake.astype(np.float32)
    r64, f64 = real.astype(np.float64), fake.astype(np.float64)
    m = min(len(real), len(fake))
    p = prdc(r64, f64, K)
    if p["min_margin"] < 1e-9:
        raise SystemExit("a ball-membership decision is within rounding; change the seed")
    entries = [
        ("real", real),
        ("fake", fake),
        ("k", K),
        ("mean_real", r64.mean(0)),
        ("eig_real", np.linalg.eigh(cov(r64))[0]),
        ("eig_fake", np.linalg.eigh(cov(f64))[0]),
        ("fid", fid(r64, f64)),
        ("kid", kid_exact(r64, f64)),
        ("kid_eq", kid_exact(r64[:m], f64[:m])),
    ]
    entries += [(name, p[name]) for name in ("precision", "recall", "density", "coverage",
                                             "radii_real", "radii_fake", "min_margin")]
    return entries


def generate():
    files = {}
    rng = np.random.default_rng(20240611)
    files["prdc_a.gfx"] = case(rng.standard_normal((500, 16)),
                               0.3 + 1.2 * rng.standard_normal((480, 16)))

    rng = np.random.default_rng(7)
    mix = rng.standard_normal((64, 64)) / 8.0 + np.eye(64)  # correlated features
    z_real = rng.standard_normal((300, 64)) @ mix
    z_fake = (rng.standard_normal((320, 64)) * 1.1 + 0.2) @ mix
    files["prdc_b.gfx"] = case(5.0 + np.maximum(z_real, 0.0), 5.0 + np.maximum(z_fake, 0.0))

    rng = np.random.default_rng(3)
    files["singular.gfx"] = case(rng.standard_normal((20, 64)) * np.linspace(0.5, 2.0, 64),
                                 0.1 + rng.standard_normal((30, 64)))
    return {name: encode_gfx(entries) for name, entries in files.items()}


def main():
    blobs = generate()
    if "--check" in sys.argv[1:]:
        bad = 0
        for name, blob in sorted(blobs.items()):
            path = os.path.join(OUT_DIR, name)
            with open(path, "rb") as f:
                same = f.read() == blob
            print("%-16s %s" % (name, "ok" if same else "DIFFERS"))
            bad += not same
        sys.exit(1 if bad else 0)
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, blob in sorted(blobs.items()):
        with open(os.path.join(OUT_DIR, name), "wb") as f:
            f.write(blob)
        print("wrote %s (%d bytes)" % (os.path.join("tests", "fixtures", "metrics", name), len(blob)))


if __name__ == "__main__":
    main()
