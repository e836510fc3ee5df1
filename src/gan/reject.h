/* Discriminator rejection sampling (Azadi et al., "Discriminator Rejection Sampling", ICLR 2019).
 * A discriminator trained to optimum on sigmoid cross-entropy has logit s(x) = log p_data(x) /
 * p_g(x), so accepting a generated x with probability exp(s(x) - M), M the largest logit seen,
 * turns G's distribution into the data's where G covers it: stragglers between modes and
 * over-weighted modes are thinned, modes G never reaches stay missing. The paper's M, the largest
 * logit seen, is one outlier's value: a single candidate far above the rest drives acceptance
 * towards zero. Here M is a quantile q of the burn-in's logits and p = min(1, exp(s - M)): q = 1
 * is the paper's exact rule (with M fixed after the burn-in), q < 1 accepts every candidate in D's
 * top 1 - q outright and thins the rest by the same density ratio. */
#ifndef GANC_REJECT_H
#define GANC_REJECT_H

#include "gan/game.h"

typedef struct ganc_reject_stats ganc_reject_stats;
/* Called after each chunk of candidates is decided (n: the samples asked for). */
typedef void (*ganc_reject_progress)(void *ctx, const ganc_reject_stats *st, int n);

typedef struct {
    double quantile;    /* M's quantile of the burn-in logits, in (0, 1]; 1: their maximum */
    int burn_in;        /* candidates scored to fix M before the first decision */
    double max_tries;   /* give up after this many candidates per accepted sample */
    ganc_reject_progress progress; /* NULL: none */
    void *progress_ctx;
    int32_t *labels;    /* a conditional game: receives the accepted samples' classes (NULL: not wanted) */
} ganc_reject_config;

struct ganc_reject_stats {
    int64_t candidates; /* drawn and scored */
    int accepted;
    double m;           /* M */
};

ganc_reject_config ganc_reject_default(void);

/* Whether cfg->reject may be used with cfg's game: D's logit is log p_data / p_g only for the
 * cross-entropy losses, and only when D scores one sample at a time. */
int ganc_reject_check(const ganc_config *cfg, char err[GANC_ERR_LEN]);

/* D's estimate of log p_data(x) / p_g(x) on n samples (D in eval mode, any n, in chunks of D's
 * batch; needs pack 1): its logit s, or with one-sided label smoothing (real target t < 1),
 * whose optimum is D = t r / (1 + r), log(D / (t - D)) with D = sigmoid(s) (capped at 50 where
 * D >= t). A conditional D judges each sample with its class, labels[i] (NULL otherwise). */
void ganc_game_score(ganc_game *gm, const float *x, const int32_t *labels, int n, float *logits);

/* Draws n samples of G (as ganc_game_generate) kept by discriminator rejection; noise from
 * `noise`, the accept/reject coins from `coins`. Fails (err) when the game packs samples for D
 * or when fewer than one candidate in cfg->max_tries is accepted. */
int ganc_reject_draw(ganc_game *gm, const ganc_reject_config *cfg, ganc_rng *noise, ganc_rng *coins, int n,
                     float *out, ganc_reject_stats *stats, char err[GANC_ERR_LEN]);

/* n samples of G as the run draws them, from one seed: the noise from a generator seeded with
 * `seed` (so a plain draw is ganc_game_noise on that stream, then ganc_game_generate) and, with
 * quantile > 0, the coins of ganc_reject_draw (its other defaults) from a stream derived from
 * it. The same seed gives the same samples to every command. stats and progress may be NULL
 * (progress: called as the rejection draw goes); labels, when not NULL, receives a conditional
 * game's classes of the n samples. */
int ganc_game_draw(ganc_game *gm, double quantile, uint64_t seed, int n, float *out, int32_t *labels,
                   ganc_reject_stats *stats, ganc_reject_progress progress, void *progress_ctx, char err[GANC_ERR_LEN]);

#endif
