/* Top-k training (gan/game.c, --top-k): G's update learns only from the k samples D scores
 * highest. With a linear G (x = W z + b) and a linear D (s = v . x + c) the non-saturating
 * loss's gradient has a closed form, (1/k) sum over the top k of (sigmoid(s_i) - 1) v z_i^T
 * for W and the same without z_i for b, which the test computes from G's weights before the
 * step, D's weights and the step's noise, and compares with the gradient the game computed.
 * The fraction's schedule is checked against its definition. */
#include "check.h"
#include "nets.h"
#include "gan/game.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { Z_DIM = 3, X_DIM = 2, BATCH = 50, TOTAL = 1000 };

static int cmp_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* One G step at `step` of TOTAL with --top-k nu; G's gradient against the closed form over
 * the k best-scored samples, k = ceil(fraction * BATCH). */
static void test_gradient(float nu, int64_t step, int want_k)
{
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    cfg.z_dim = Z_DIM;
    cfg.batch = BATCH;
    cfg.top_k = nu;
    ganc_game gm;
    if (test_dense_game(&gm, &cfg, X_DIM, 1, 5)) return;
    ganc_net *g = gm.g, *d = gm.d;
    ganc_game_set_schedule(&gm, &cfg, step, TOTAL);

    /* parameters: dense weight [out][in], then bias */
    float wg[X_DIM * Z_DIM + X_DIM], wd[X_DIM + 1];
    memcpy(wg, ganc_net_params(g), sizeof wg);
    memcpy(wd, ganc_net_params(d), sizeof wd);
    CHECK(ganc_net_param_count(g) == sizeof wg / sizeof *wg && ganc_net_param_count(d) == sizeof wd / sizeof *wd,
          "parameter counts %zu, %zu", ganc_net_param_count(g), ganc_net_param_count(d));
    ganc_game_g_step(&gm);

    double s[BATCH], sorted[BATCH];
    for (int i = 0; i < BATCH; i++) {
        double si = wd[X_DIM];
        for (int o = 0; o < X_DIM; o++) {
            double x = wg[X_DIM * Z_DIM + o];
            for (int j = 0; j < Z_DIM; j++) x += (double)wg[o * Z_DIM + j] * gm.z[i * Z_DIM + j];
            si += wd[o] * x;
        }
        s[i] = sorted[i] = si;
    }
    qsort(sorted, BATCH, sizeof *sorted, cmp_desc);
    const double kth = sorted[want_k - 1];
    double want[X_DIM * Z_DIM + X_DIM] = {0};
    int kept = 0;
    for (int i = 0; i < BATCH; i++) {
        if (s[i] < kth) continue; /* continuous scores: no ties */
        kept++;
        const double e = (1.0 / (1.0 + exp(-s[i])) - 1.0) / want_k;
        for (int o = 0; o < X_DIM; o++) {
            for (int j = 0; j < Z_DIM; j++) want[o * Z_DIM + j] += e * wd[o] * gm.z[i * Z_DIM + j];
            want[X_DIM * Z_DIM + o] += e * wd[o];
        }
    }
    CHECK(kept == want_k, "top-k %g at step %lld: %d samples at or above the k-th score, want %d", nu, (long long)step, kept, want_k);
    const float *got = ganc_net_grads(g);
    double worst = 0.0;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const double rel = fabs(got[i] - want[i]) / (fabs(want[i]) + 1e-6);
        worst = rel > worst ? rel : worst;
    }
    CHECK(worst < 1e-4, "top-k %g at step %lld (k = %d of %d): G's gradient off the closed form by %.3g relative", nu,
          (long long)step, want_k, BATCH, worst);
    ganc_game_free(&gm);
}

int main(void)
{
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    CHECK(ganc_top_k_fraction(&cfg, 500, TOTAL) == 1.0, "off by default: fraction %g", ganc_top_k_fraction(&cfg, 500, TOTAL));
    cfg.top_k = 0.5f;
    const double f0 = ganc_top_k_fraction(&cfg, 0, TOTAL), f1 = ganc_top_k_fraction(&cfg, 250, TOTAL),
                 f2 = ganc_top_k_fraction(&cfg, TOTAL, TOTAL), f3 = ganc_top_k_fraction(&cfg, 2 * TOTAL, TOTAL);
    CHECK(f0 == 1.0 && fabs(f1 - 0.875) < 1e-12 && fabs(f2 - 0.5) < 1e-12 && fabs(f3 - 0.5) < 1e-12,
          "--top-k 0.5 over %d steps: fractions %g %g %g %g, want 1 0.875 0.5 0.5", TOTAL, f0, f1, f2, f3);

    test_gradient(1.0f, TOTAL, BATCH);   /* off: every sample */
    test_gradient(0.5f, 0, BATCH);       /* the fall starts at every sample */
    test_gradient(0.5f, TOTAL, 25);      /* the end: half */
    test_gradient(0.5f, TOTAL / 2, 38);  /* 0.75 * 50 = 37.5: rounded up */
    test_gradient(0.02f, TOTAL, 1);      /* the single best */
    return check_finish("topk");
}
