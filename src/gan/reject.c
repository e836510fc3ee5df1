/* Discriminator rejection sampling; see reject.h for the rule and its source. */
#include "gan/reject.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOG_RATIO_CAP 50.0 /* e^50: no candidate is refused for being too good */

ganc_reject_config ganc_reject_default(void) { return (ganc_reject_config){1.0, 10000, 1000.0, NULL, NULL, NULL}; }

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of s[0..n) (the smallest value with at least q n values at or below it);
 * NaN logits sort as nothing in particular, so they are dropped first. */
static double quantile_of(const float *s, int n, double q, float *scratch)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (s[i] == s[i]) scratch[k++] = s[i];
    if (!k) return NAN;
    qsort(scratch, (size_t)k, sizeof(float), cmp_float);
    int at = (int)ceil(q * k) - 1;
    return scratch[at < 0 ? 0 : at >= k ? k - 1 : at];
}

void ganc_game_score(ganc_game *gm, const float *x, const int32_t *labels, int n, float *logits)
{
    const int was_training = ganc_net_training(gm->d);
    const int chunk_max = ganc_net_max_batch(gm->d);
    const size_t sample = ganc_shape_size(ganc_net_input_shape(gm->d));
    ganc_net_set_training(gm->d, 0); /* no dropout; batch norm (if any) on its running statistics */
    for (int i = 0; i < n; i += chunk_max) {
        const int chunk = n - i < chunk_max ? n - i : chunk_max;
        if (labels) ganc_net_set_labels(gm->d, labels + i);
        const float *s = ganc_net_forward(gm->d, x + (size_t)i * sample, chunk);
        ganc_game_logits(gm, s, chunk, logits + i);
    }
    const double t = gm->real_target;
    if (t < 1.0) /* one-sided label smoothing: D's optimum is t r / (1 + r), so r = D / (t - D) */
        for (int i = 0; i < n; i++) {
            const double s = logits[i], log_d = s >= 0 ? -log1p(exp(-s)) : s - log1p(exp(s)), d = exp(log_d);
            /* D at or above t: a ratio beyond any D can express; capped so M stays finite */
            logits[i] = d < t ? (float)fmin(log_d - log(t - d), LOG_RATIO_CAP) : (float)LOG_RATIO_CAP;
        }
    ganc_net_set_training(gm->d, was_training);
}

int ganc_reject_draw(ganc_game *gm, const ganc_reject_config *cfg, ganc_rng *noise, ganc_rng *coins, int n,
                     float *out, ganc_reject_stats *stats, char err[GANC_ERR_LEN])
{
    memset(stats, 0, sizeof *stats);
    if (gm->pack != 1) {
        return ganc_fail(err, "rejection sampling needs D to score single samples (the run packs %d)", gm->pack);
    }
    const size_t sample = ganc_shape_size(ganc_net_output_shape(gm->g));
    int chunk = cfg->burn_in > gm->batch ? cfg->burn_in : gm->batch;
    chunk = (chunk + 3) / 4 * 4; /* whole blocks of the normal generator, so chunks continue one stream */
    float *z = ganc_alloc(sizeof(float) * (size_t)chunk * (size_t)ganc_game_latent(gm));
    float *x = ganc_alloc(sizeof(float) * (size_t)chunk * sample);
    int32_t *labels = gm->classes ? ganc_alloc(sizeof(int32_t) * (size_t)chunk) : NULL;
    float *s = ganc_alloc(sizeof(float) * (size_t)chunk), *sorted = ganc_alloc(sizeof(float) * (size_t)chunk);
    const double cap = cfg->max_tries * (double)n;
    int rc = 0;
    while (stats->accepted < n) {
        if ((double)stats->candidates >= cap) {
            rc = ganc_fail(err, "rejection sampling accepted %d of %lld candidates (fewer than 1 in %g): a few of D's "
                                "scores lie far above the rest; a lower --reject (0.999, 0.99) sets M below them",
                           stats->accepted, (long long)stats->candidates, cfg->max_tries);
            break;
        }
        ganc_game_noise(gm, noise, z, chunk);
        ganc_game_generate(gm, z, chunk, x);
        if (labels) ganc_game_latent_labels(gm, z, chunk, labels);
        ganc_game_score(gm, x, labels, chunk, s);
        stats->candidates += chunk;
        if (stats->candidates == chunk) { /* the burn-in: fix M */
            stats->m = quantile_of(s, chunk, cfg->quantile, sorted);
            if (!isfinite(stats->m)) {
                rc = ganc_fail(err, "rejection sampling: D's scores of G's samples are not finite");
                break;
            }
        }
        for (int i = 0; i < chunk && stats->accepted < n; i++) {
            /* one coin per candidate decided: the first n kept of a longer draw are this draw */
            const double coin = ganc_rng_double(coins);
            if (coin < exp(s[i] - stats->m)) { /* NaN scores compare false: rejected */
                if (labels && cfg->labels) cfg->labels[stats->accepted] = labels[i];
                memcpy(out + (size_t)stats->accepted++ * sample, x + (size_t)i * sample, sizeof(float) * sample);
            }
        }
        if (cfg->progress) cfg->progress(cfg->progress_ctx, stats, n);
    }
    ganc_free(z);
    ganc_free(x);
    ganc_free(labels);
    ganc_free(s);
    ganc_free(sorted);
    return rc;
}

int ganc_reject_check(const ganc_config *cfg, char err[GANC_ERR_LEN])
{
    if (cfg->reject <= 0.0f) return 0;
    if (!ganc_loss_of(cfg->loss)->cross_entropy)
        return ganc_fail(err, "--reject needs --loss %s (D's logit estimates log p_data/p_g only under cross-entropy)",
                         GANC_LOSS_CROSS_ENTROPY_OR);
    if (cfg->pack != 1) return ganc_fail(err, "--reject needs --pack 1 (D must score single samples)");
    return 0;
}

int ganc_game_draw(ganc_game *gm, double quantile, uint64_t seed, int n, float *out, int32_t *labels,
                   ganc_reject_stats *stats, ganc_reject_progress progress, void *progress_ctx, char err[GANC_ERR_LEN])
{
    ganc_reject_stats unused;
    if (!stats) stats = &unused;
    ganc_rng noise;
    ganc_rng_seed(&noise, seed);
    if (quantile > 0.0) {
        ganc_reject_config cfg = ganc_reject_default();
        cfg.quantile = quantile;
        cfg.progress = progress;
        cfg.progress_ctx = progress_ctx;
        cfg.labels = labels;
        ganc_rng coins; /* a stream of its own, not any of the run's (seed * 4 + k) */
        ganc_rng_seed(&coins, seed ^ 0x9e3779b97f4a7c15ull);
        return ganc_reject_draw(gm, &cfg, &noise, &coins, n, out, stats, err);
    }
    memset(stats, 0, sizeof *stats);
    float *z = ganc_alloc(sizeof(float) * (size_t)n * (size_t)ganc_game_latent(gm));
    ganc_game_noise(gm, &noise, z, n);
    ganc_game_generate(gm, z, n, out);
    if (labels && gm->classes) ganc_game_latent_labels(gm, z, n, labels);
    ganc_free(z);
    stats->candidates = stats->accepted = n;
    return 0;
}
