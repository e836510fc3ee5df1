/* The game's noise (gan/game.c): z's distribution as configured, in training and in sampling,
 * and the truncation trick on sampling draws only. References are closed forms: U(0, 1) has
 * mean 1/2 and variance 1/12; N(0, 1) truncated to [-t, t] has mean 0 and variance
 * 1 - 2 t phi(t) / (2 Phi(t) - 1). Tolerances are 6 standard errors of the estimate. */
#include "check.h"
#include "gan/game.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>

enum { Z_DIM = 4, BATCH = 50, N = 200000 };

static ganc_net *dense_net(const char *name, int in, int out)
{
    ganc_net *net = ganc_net_create(name, (ganc_shape){in, 1, 1});
    char err[GANC_ERR_LEN], text[32];
    snprintf(text, sizeof text, "dense %d\n", out);
    if (ganc_net_add_text(net, text, name, 1, err) || ganc_net_build(net, BATCH, err)) {
        fprintf(stderr, "%s: %s\n", name, err);
        ganc_net_free(net);
        return NULL;
    }
    return net;
}

static int make_game(ganc_game *gm, ganc_zdist dist, float truncation)
{
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    cfg.z_dim = Z_DIM;
    cfg.batch = BATCH;
    cfg.z_dist = dist;
    cfg.truncation = truncation;
    ganc_net *g = dense_net("G", Z_DIM, 2), *d = dense_net("D", 2, 1);
    if (!g || !d) {
        ganc_net_free(g);
        ganc_net_free(d);
        return -1;
    }
    ganc_rng init;
    ganc_rng_seed(&init, 7);
    ganc_net_init(g, GANC_INIT_TORCH, &init);
    ganc_net_init(d, GANC_INIT_TORCH, &init);
    ganc_game_init(gm, g, d, &cfg);
    return 0;
}

static void stats(const float *z, size_t n, double *mean, double *var, double *lo, double *hi)
{
    double s = 0.0, ss = 0.0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        s += z[i];
        *lo = z[i] < *lo ? z[i] : *lo;
        *hi = z[i] > *hi ? z[i] : *hi;
    }
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++) ss += (z[i] - *mean) * (z[i] - *mean);
    *var = ss / (double)(n - 1);
}

/* Sampling draws (ganc_game_noise) against the closed form of their distribution. */
static void test_sampling(ganc_zdist dist, float t, double want_var, double var_of_var)
{
    ganc_game gm;
    if (!CHECK(make_game(&gm, dist, t) == 0, "building the game")) return;
    float *z = ganc_alloc(sizeof(float) * N);
    ganc_rng rng;
    ganc_rng_seed(&rng, 11);
    ganc_game_noise(&gm, &rng, z, N / Z_DIM);
    double mean, var, lo, hi;
    stats(z, N, &mean, &var, &lo, &hi);
    const double want_mean = dist == GANC_Z_UNIFORM ? 0.5 : 0.0;
    const char *what = dist == GANC_Z_UNIFORM ? "uniform" : t > 0.0f ? "truncated normal" : "normal";
    CHECK(fabs(mean - want_mean) < 6.0 * sqrt(want_var / N), "%s: mean %.5f, want %.5f", what, mean, want_mean);
    CHECK(fabs(var - want_var) < 6.0 * sqrt(var_of_var / N), "%s: variance %.5f, want %.5f", what, var, want_var);
    if (dist == GANC_Z_UNIFORM) CHECK(lo >= 0.0 && hi < 1.0, "uniform: values in [%g, %g], want [0, 1)", lo, hi);
    if (t > 0.0f) CHECK(lo >= -t && hi <= t, "truncated at %g: values in [%g, %g]", t, lo, hi);
    else if (dist == GANC_Z_NORMAL) CHECK(hi > 4.0 && lo < -4.0, "normal: %d draws reach beyond +-4 (%g, %g)", N, lo, hi);
    ganc_free(z);
    ganc_game_free(&gm);
}

/* The training steps draw from the configured distribution, never truncated: after a D step
 * gm->z holds that step's draw. */
static void test_training(ganc_zdist dist, float t)
{
    ganc_game gm;
    if (!CHECK(make_game(&gm, dist, t) == 0, "building the game")) return;
    float real[BATCH * 2];
    for (int i = 0; i < BATCH * 2; i++) real[i] = (float)i / BATCH - 1.0f;
    double lo = INFINITY, hi = -INFINITY, s = 0.0;
    const int steps = 40;
    for (int k = 0; k < steps; k++) {
        ganc_game_d_step(&gm, real);
        for (int i = 0; i < BATCH * Z_DIM; i++) {
            lo = gm.z[i] < lo ? gm.z[i] : lo;
            hi = gm.z[i] > hi ? gm.z[i] : hi;
            s += gm.z[i];
        }
        ganc_game_g_step(&gm);
    }
    const double mean = s / ((double)steps * BATCH * Z_DIM);
    if (dist == GANC_Z_UNIFORM)
        CHECK(lo >= 0.0 && hi < 1.0 && fabs(mean - 0.5) < 0.02, "training, uniform: values in [%g, %g], mean %g", lo, hi, mean);
    else
        CHECK(hi > 2.0 * t && lo < -2.0 * t, "training, normal with truncation %g for sampling: values reach [%g, %g]", t, lo, hi);
    ganc_game_free(&gm);
}

int main(void)
{
    /* Var of the sample variance ~ (mu4 - sigma^4) / n: uniform mu4 = 1/80; normal 2. */
    test_sampling(GANC_Z_UNIFORM, 0.0f, 1.0 / 12.0, 1.0 / 80.0 - 1.0 / 144.0);
    test_sampling(GANC_Z_NORMAL, 0.0f, 1.0, 2.0);
    /* t = 1: phi(1) = 0.24197072451914337, 2 Phi(1) - 1 = 0.6826894921370859 (scipy.stats.norm);
     * the truncated normal's fourth moment 3 - (2 t^3 + 6 t) phi(t) / (2 Phi(t) - 1) bounds the
     * variance of its sample variance. */
    const double phi1 = 0.24197072451914337, mass1 = 0.6826894921370859;
    const double var1 = 1.0 - 2.0 * phi1 / mass1, mu4 = 3.0 - 8.0 * phi1 / mass1;
    test_sampling(GANC_Z_NORMAL, 1.0f, var1, mu4 - var1 * var1);
    test_training(GANC_Z_UNIFORM, 0.0f);
    test_training(GANC_Z_NORMAL, 0.5f);
    return check_finish("noise");
}
