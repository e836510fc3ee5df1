/* The game's noise (gan/game.c): z's distribution as configured, in training and in sampling,
 * and the truncation trick on sampling draws only. References are closed forms: U(0, 1) has
 * mean 1/2 and variance 1/12; N(0, 1) truncated to [-t, t] has mean 0 and variance
 * 1 - 2 t phi(t) / (2 Phi(t) - 1); a mixture of Gaussians far apart is, around each draw's nearest
 * mean, N(0, I) again. Tolerances are 6 standard errors of the estimate. */
#include "check.h"
#include "nets.h"
#include "gan/game.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { Z_DIM = 4, BATCH = 50, N = 200000, MODES = 7 };
#define SCALE 10.0f /* means that far apart: each draw's component is its nearest mean */

static int make_game_seeded(ganc_game *gm, ganc_zdist dist, float truncation, uint64_t seed)
{
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    cfg.z_dim = Z_DIM;
    cfg.batch = BATCH;
    cfg.z_dist = dist;
    cfg.truncation = truncation;
    cfg.seed = seed;
    cfg.z_modes = MODES;
    cfg.z_mode_scale = SCALE;
    return test_dense_game(gm, &cfg, 2, 1, 7);
}

static int make_game(ganc_game *gm, ganc_zdist dist, float truncation) { return make_game_seeded(gm, dist, truncation, 1); }

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
        ganc_game_d_step(&gm, real, NULL);
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

/* The mixture: n draws z = mu_k + e, k uniform over the K means, e ~ N(0, I) (truncated to
 * [-t, t] when t > 0). The means are far apart, so each draw's component is its nearest mean:
 * the offsets must have mean 0 and variance var_e per coordinate, the components must be
 * chosen equally often (6 binomial standard errors), and the means must lie in
 * [-SCALE, SCALE] and be the same whatever the run's seed. */
static void check_mixture(const ganc_game *gm, const float *z, size_t n, double t, double var_e, const char *what)
{
    if (!CHECK(gm->z_centers && gm->z_modes == MODES, "%s: the game keeps %d means", what, gm->z_modes)) return;
    int count[MODES] = {0};
    double s = 0.0, ss = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        double best_d = INFINITY;
        for (int k = 0; k < MODES; k++) {
            double d2 = 0.0;
            for (int j = 0; j < Z_DIM; j++) {
                const double e = z[i * Z_DIM + j] - gm->z_centers[k * Z_DIM + j];
                d2 += e * e;
            }
            if (d2 < best_d) best_d = d2, best = k;
        }
        count[best]++;
        for (int j = 0; j < Z_DIM; j++) {
            const double e = z[i * Z_DIM + j] - gm->z_centers[best * Z_DIM + j];
            s += e;
            ss += e * e;
            worst = fabs(e) > worst ? fabs(e) : worst;
        }
    }
    const double m = (double)n * Z_DIM, mean = s / m, var = ss / m - mean * mean;
    CHECK(fabs(mean) < 6.0 * sqrt(var_e / m), "%s: offsets from the means average %.5f, want 0", what, mean);
    CHECK(fabs(var - var_e) < 6.0 * sqrt(2.0 / m) * var_e, "%s: offsets' variance %.5f, want %.5f", what, var, var_e);
    if (t > 0.0) CHECK(worst <= t, "%s: an offset of %g beyond the truncation %g", what, worst, t);
    const double p = 1.0 / MODES, se = sqrt((double)n * p * (1.0 - p));
    for (int k = 0; k < MODES; k++)
        CHECK(fabs(count[k] - (double)n * p) < 6.0 * se, "%s: component %d drawn %d times of %zu, want %.0f", what, k, count[k], n,
              (double)n * p);
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < MODES * Z_DIM; i++) {
        lo = gm->z_centers[i] < lo ? gm->z_centers[i] : lo;
        hi = gm->z_centers[i] > hi ? gm->z_centers[i] : hi;
    }
    CHECK(lo >= -SCALE && hi <= SCALE && hi - lo > SCALE, "%s: means in [%g, %g], want spread over [-%g, %g]", what, lo, hi,
          SCALE, SCALE);
}

static void test_mixture(void)
{
    ganc_game gm, other;
    if (!CHECK(make_game(&gm, GANC_Z_MIXTURE, 0.0f) == 0 && make_game_seeded(&other, GANC_Z_MIXTURE, 0.0f, 99) == 0,
               "building the games"))
        return;
    CHECK(memcmp(gm.z_centers, other.z_centers, sizeof(float) * MODES * Z_DIM) == 0, "mixture: the means change with the run's seed");
    ganc_game_free(&other);
    float *z = ganc_alloc(sizeof(float) * N);
    ganc_rng rng;
    ganc_rng_seed(&rng, 12);
    ganc_game_noise(&gm, &rng, z, N / Z_DIM);
    check_mixture(&gm, z, N / Z_DIM, 0.0, 1.0, "mixture, sampling");
    /* training draws: 40 steps' worth of the D step's noise */
    float real[BATCH * 2];
    for (int i = 0; i < BATCH * 2; i++) real[i] = (float)i / BATCH - 1.0f;
    for (int k = 0; k < 40; k++) {
        ganc_game_d_step(&gm, real, NULL);
        memcpy(z + (size_t)k * BATCH * Z_DIM, gm.z, sizeof(float) * BATCH * Z_DIM);
    }
    check_mixture(&gm, z, 40 * BATCH, 0.0, 1.0, "mixture, training");
    ganc_game_free(&gm);
    /* truncated offsets (t = 1, variance as for the truncated normal in main) */
    const double phi1 = 0.24197072451914337, mass1 = 0.6826894921370859;
    if (CHECK(make_game(&gm, GANC_Z_MIXTURE, 1.0f) == 0, "building the game")) {
        ganc_game_noise(&gm, &rng, z, N / Z_DIM);
        check_mixture(&gm, z, N / Z_DIM, 1.0, 1.0 - 2.0 * phi1 / mass1, "mixture, truncated at 1");
        ganc_game_free(&gm);
    }
    ganc_free(z);
}

int main(void)
{
    test_mixture();
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
