/* The ring and grid mixtures of the 2-D mode-collapse benchmark (see toy2d.h).
 *
 * The means are written out as constants rather than computed with cos/sin at start-up: the
 * table is then plain read-only data (no initialisation order, nothing to make thread-safe),
 * and a test can compare them against cos/sin computed independently. Ring means are the
 * float nearest to cos/sin (cos π/2 is 0 here where numpy gives 6e-17: far below σ). Grid
 * means are listed in the order of the reference code's itertools.product(x, y): x outer,
 * so mode i is (2·(i/5) - 4, 2·(i%5) - 4). */
#include "data/toy2d.h"
#include "ganc_internal.h"

#include <stddef.h>
#include <string.h>

#define R2 0.70710678f /* cos(π/4) = sin(π/4), to float precision */

static const float ring_means[8][2] = {
    {1.0f, 0.0f}, {R2, R2}, {0.0f, 1.0f}, {-R2, R2}, {-1.0f, 0.0f}, {-R2, -R2}, {0.0f, -1.0f}, {R2, -R2},
};

static const float grid_means[25][2] = {
    {-4, -4}, {-4, -2}, {-4, 0}, {-4, 2}, {-4, 4}, {-2, -4}, {-2, -2}, {-2, 0}, {-2, 2},
    {-2, 4},  {0, -4},  {0, -2}, {0, 0},  {0, 2},  {0, 4},   {2, -4},  {2, -2}, {2, 0},
    {2, 2},   {2, 4},   {4, -4}, {4, -2}, {4, 0},  {4, 2},   {4, 4},
};

static const ganc_toy2d sets[] = {
    {"ring", 8, 0.01f, ring_means, 1.5f},
    {"grid", 25, 0.05f, grid_means, 6.0f},
};
#define N_SETS ((int)(sizeof sets / sizeof sets[0]))

const char *ganc_toy2d_names(void) { return "ring, grid"; }

const ganc_toy2d *ganc_toy2d_find(const char *name, char err[GANC_ERR_LEN])
{
    for (int i = 0; name && i < N_SETS; i++)
        if (strcmp(name, sets[i].name) == 0) return &sets[i];
    ganc_fail(err, "unknown 2-D data set '%s' (known: %s)", name ? name : "(null)", ganc_toy2d_names());
    return NULL;
}

void ganc_toy2d_mean(const ganc_toy2d *set, int i, float xy[2])
{
    xy[0] = set->means[i][0];
    xy[1] = set->means[i][1];
}

float ganc_toy2d_sigma(const ganc_toy2d *set) { return set->sigma; }

void ganc_toy2d_sample(const ganc_toy2d *set, ganc_rng *rng, float *out, int n, int32_t *modes)
{
    if (n <= 0) return;
    /* The noise first, straight into out (no scratch buffer), then one mode per sample. The
     * order is part of the contract only in that it is fixed: same state, same samples. */
    ganc_rng_normal(rng, out, 2 * (size_t)n, 0.0f, 1.0f);
    const uint64_t k = (uint64_t)set->n_modes;
    for (int i = 0; i < n; i++) {
        /* 64 random bits modulo k <= 25: the bias toward small indices is below 2^-59. */
        int m = (int)(ganc_rng_u64(rng) % k);
        if (modes) modes[i] = m;
        out[2 * i] = set->means[m][0] + set->sigma * out[2 * i];
        out[2 * i + 1] = set->means[m][1] + set->sigma * out[2 * i + 1];
    }
}

void ganc_toy2d_fill(const ganc_toy2d *set, uint64_t seed, int64_t epoch, const int32_t *idx, int m, float *out)
{
    for (int i = 0; i < m; i++) {
        /* One short stream per (seed, epoch, index): any batch can be redrawn from the
         * batcher's position alone, so a resumed run sees the same points as a straight one. */
        ganc_rng r;
        ganc_rng_seed(&r, seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(epoch + 1)) ^
                              (0xD1B54A32D192ED03ull * (uint64_t)((int64_t)idx[i] + 1)));
        ganc_toy2d_sample(set, &r, out + 2 * (size_t)i, 1, NULL);
    }
}
