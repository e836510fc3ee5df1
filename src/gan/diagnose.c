/* Training diagnostics (see diagnose.h). Thresholds are deliberately coarse: a warning must
 * mean something is wrong, not that training is noisy. */
#include "gan/diagnose.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WON_POINTS 10       /* consecutive logged points with D(x) > 0.95 and D(G(z)) < 0.05 */
#define COLLAPSE_RATIO 0.2  /* fixed-batch diversity below this fraction of the data's */
#define RECOVER_RATIO 0.4

void ganc_diagnose_init(ganc_diagnose *d, ganc_loss loss)
{
    memset(d, 0, sizeof *d);
    d->cross_entropy = ganc_loss_of(loss)->cross_entropy;
}

int ganc_diagnose_step(ganc_diagnose *d, const ganc_game_stats *st, int64_t step, int log_every, char *msg, size_t cap)
{
    /* D has won: only meaningful where D's outputs are probabilities */
    if (d->cross_entropy) {
        if (st->d_real > 0.95 && st->d_fake < 0.05) {
            if (++d->won_points >= WON_POINTS && !d->won_warned) {
                d->won_warned = 1;
                snprintf(msg, cap,
                         "step %" PRId64 ": D has won (D(x) %.3f, D(G(z)) %.3f for %d steps): G's gradient vanishes; "
                         "try --g-loss ns, --label-smooth 0.1, --inst-noise 0.1, --r1 1, a lower --lr-d, or sn on D's layers",
                         step, st->d_real, st->d_fake, d->won_points * log_every);
                return 1;
            }
        } else {
            d->won_points = 0;
            if (st->d_real < 0.8 || st->d_fake > 0.2) d->won_warned = 0;
        }
    }
    /* non-convergence: G's loss swings widely and its two half-window means do not differ */
    d->g_hist[d->n_hist % GANC_DIAG_WINDOW] = st->g_loss;
    d->n_hist++;
    if (d->n_hist >= GANC_DIAG_WINDOW && isfinite(st->g_loss)) {
        double mean = 0.0, first = 0.0, second = 0.0, var = 0.0;
        for (int i = 0; i < GANC_DIAG_WINDOW; i++) {
            const double v = d->g_hist[(d->n_hist + i) % GANC_DIAG_WINDOW]; /* oldest first */
            mean += v / GANC_DIAG_WINDOW;
            if (i < GANC_DIAG_WINDOW / 2) first += v / (GANC_DIAG_WINDOW / 2);
            else second += v / (GANC_DIAG_WINDOW / 2);
        }
        for (int i = 0; i < GANC_DIAG_WINDOW; i++) var += pow(d->g_hist[i] - mean, 2) / GANC_DIAG_WINDOW;
        const double sd = sqrt(var);
        const int oscillating = sd > 0.5 * fabs(mean) + 0.25 && fabs(second - first) < 0.25 * sd;
        if (oscillating && !d->osc_warned) {
            d->osc_warned = 1;
            snprintf(msg, cap,
                     "step %" PRId64 ": the losses oscillate without a trend (G loss %.3g +- %.3g over %d steps): "
                     "the players do not converge; try lower learning rates, --ema 0.999, --loss wgan-gp, --r1 1 "
                     "or sn on D's layers",
                     step, mean, sd, GANC_DIAG_WINDOW * log_every);
            return 1;
        }
        if (!oscillating && sd < 0.25 * fabs(mean) + 0.1) d->osc_warned = 0;
    }
    return 0;
}

double ganc_diversity(const float *x, int n, size_t sample)
{
    if (n < 2) return 0.0;
    double total = 0.0;
    for (int i = 0; i + 1 < n; i++) {
        double s = 0.0;
        const float *a = x + (size_t)i * sample, *b = a + sample;
        for (size_t j = 0; j < sample; j++) s += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
        total += sqrt(s);
    }
    return total / (n - 1);
}

int ganc_diagnose_samples(ganc_diagnose *d, double fake_div, double real_div, int64_t step, char *msg, size_t cap)
{
    if (!(real_div > 0.0)) return 0;
    const double ratio = fake_div / real_div;
    /* a collapse is a fall: G starts out with little diversity, which is no warning */
    if (fake_div > d->best_div) d->best_div = fake_div;
    if (ratio < COLLAPSE_RATIO && fake_div < 0.5 * d->best_div && !d->collapse_warned) {
        d->collapse_warned = 1;
        snprintf(msg, cap,
                 "step %" PRId64 ": samples have collapsed (the fixed noise batch's diversity fell to %.2f of the data's): "
                 "mode collapse; try --pack 2, an mbstd layer in D, --loss wgan-gp, --r1 1 or --z-dist normal",
                 step, ratio);
        return 1;
    }
    if (ratio > RECOVER_RATIO) d->collapse_warned = 0;
    return 0;
}
