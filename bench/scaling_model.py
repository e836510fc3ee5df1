#!/usr/bin/python3
"""The paper model of docs/scaling.md: expected speed of ganc train over N machines from a
measured one-machine step time and the bytes each step exchanges.

Per step (one D step and one G step) each process sends, for each player's gradient of P
floats, 2 (N-1)/N * 4 P bytes (its parts in the reduce-scatter, its sum in the all-gather: the
bytes of a ring all-reduce) and waits for as many to arrive. Assumptions, each stated in
docs/scaling.md: full-duplex links and a switch that does not block, so a process's time is
its own bytes over its link's bandwidth; a latency ALPHA per exchange phase (two phases per
player, four per step, the messages of a phase in flight at once); no overlap of the exchange
with computing (ganc sums after the backward pass); each machine computes its share (the
per-machine batch, 64 by default) in the measured time of one machine at that batch, so the
global batch grows with N (weak scaling).

Usage: bench/scaling_model.py [--alpha-us 50] [--d-steps 1] [--node-speedup F]
(--node-speedup: machines F times faster than the measured 2-core one, e.g. 10 for a node of
some 32 cores: the exchange's share grows as the compute shrinks)
Prints a Markdown table: per preset and link speed, the efficiency (compute / (compute +
exchange)) and the speed-up N * efficiency for N = 2 .. 64."""
import argparse

# parameters (G + D, from `ganc info` of a run of each preset) and the measured seconds per
# step of one 2-core machine at batch 64, 2 threads (bench/RESULTS.md: mlp and dcgan28 of
# 2026-11-27 evening, dcgan32 and dcgan64 of 2026-12-06)
PRESETS = [
    ("mlp", 1488144, 1462795, 1 / 22.94),
    ("dcgan28", 404705, 258401, 1 / 12.89),
    ("dcgan32", 1068928, 663296, 1 / 3.67),
    ("dcgan64", 3576704, 2765568, 1 / 0.74),
]
NODES = [2, 4, 8, 16, 32, 64]
LINKS_GBPS = [10, 25, 100]


def exchange_seconds(params_g, params_d, n, gbps, alpha, d_steps):
    if n == 1:
        return 0.0
    per_byte = 8.0 / (gbps * 1e9)
    sent = 2.0 * (n - 1) / n * 4.0 * (d_steps * params_d + params_g)
    return sent * per_byte + 2 * (d_steps + 1) * alpha


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alpha-us", type=float, default=50.0, help="latency per exchange phase, microseconds")
    ap.add_argument("--d-steps", type=int, default=1)
    ap.add_argument("--node-speedup", type=float, default=1.0)
    a = ap.parse_args()
    alpha = a.alpha_us * 1e-6
    print("| preset | params (G + D) | MB per step (N=2 / N=64) | compute s/step | link | "
          + " | ".join("N=%d" % n for n in NODES) + " |")
    print("|---|---|---|---|---|" + "---|" * len(NODES))
    for name, pg, pd, tc in PRESETS:
        tc /= a.node_speedup
        mb2 = 2.0 * 1 / 2 * 4.0 * (a.d_steps * pd + pg) / 1e6
        mb64 = 2.0 * 63 / 64 * 4.0 * (a.d_steps * pd + pg) / 1e6
        for gbps in LINKS_GBPS:
            cells = []
            for n in NODES:
                te = exchange_seconds(pg, pd, n, gbps, alpha, a.d_steps)
                eff = tc / (tc + te)
                cells.append("%.0f%% (%.1f×)" % (100 * eff, n * eff))
            print("| %s | %s | %.1f / %.1f | %.3f | %d Gb/s | %s |" % (
                name, "{:,} + {:,}".format(pg, pd), mb2, mb64, tc, gbps, " | ".join(cells)))


if __name__ == "__main__":
    main()
