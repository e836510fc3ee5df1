/* The losses of losses.h's table: each row's D and G functions, then the table. Means and
 * values are summed in double; the gradients are the mean's, so each carries a 1/n. */
#include "gan/losses.h"
#include "ganc_internal.h"

#include <math.h>

/* Sigmoid cross-entropy with logits, in the stable form
 *   l(z, t) = max(z, 0) - z t + log(1 + exp(-|z|)),   dl/dz = sigmoid(z) - t,
 * finite for every finite z (no exp of a large positive number is ever taken). */
double ganc_bce_logits(const float *z, const float *targets, float target, int n, float *dz, float scale)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const double zi = z[i], t = targets ? targets[i] : target;
        total += (zi > 0 ? zi : 0.0) - zi * t + log1p(exp(-fabs(zi)));
        if (dz) {
            const double sig = zi >= 0 ? 1.0 / (1.0 + exp(-zi)) : exp(zi) / (1.0 + exp(zi));
            dz[i] = (float)(scale * (sig - t) / n);
        }
    }
    return n ? total / n : 0.0;
}

/* ns, minimax: D's cross-entropy, real towards the target, generated towards 0 */
static double d_cross_entropy(const float *s, int n, int real, float target, float *ds)
{
    return ganc_bce_logits(s, NULL, real ? target : 0.0f, n, ds, 1.0f);
}

/* ns: G minimises -log sigmoid(s), the cross-entropy towards 1 */
static double g_non_saturating(const float *s, int n, float *ds) { return ganc_bce_logits(s, NULL, 1.0f, n, ds, 1.0f); }

/* minimax: G minimises log(1 - sigmoid(s)) = -BCE(s, 0): the same gradient with its sign flipped */
static double g_minimax(const float *s, int n, float *ds) { return -ganc_bce_logits(s, NULL, 0.0f, n, ds, -1.0f); }

/* wgan, wgan-gp: D minimises mean s(fake) - mean s(real) */
static double d_wasserstein(const float *s, int n, int real, float target, float *ds)
{
    (void)target;
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        total += real ? -s[i] : s[i];
        ds[i] = (real ? -1.0f : 1.0f) / n;
    }
    return total / n;
}

/* wgan, wgan-gp, hinge: G minimises -mean s */
static double g_score(const float *s, int n, float *ds)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        total -= s[i];
        ds[i] = -1.0f / n;
    }
    return total / n;
}

/* lsgan: D minimises mean (s - t)^2 / 2, real towards the target, generated towards 0 */
static double d_least_squares(const float *s, int n, int real, float target, float *ds)
{
    const float t = real ? target : 0.0f;
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        total += 0.5 * ((double)s[i] - t) * ((double)s[i] - t);
        ds[i] = (s[i] - t) / n;
    }
    return total / n;
}

/* lsgan: G minimises mean (s - 1)^2 / 2 */
static double g_least_squares(const float *s, int n, float *ds)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        total += 0.5 * ((double)s[i] - 1.0) * ((double)s[i] - 1.0);
        ds[i] = (s[i] - 1.0f) / n;
    }
    return total / n;
}

/* hinge: D minimises mean relu(1 - s) on real samples, mean relu(1 + s) on generated ones */
static double d_hinge(const float *s, int n, int real, float target, float *ds)
{
    (void)target;
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const double margin = real ? 1.0 - s[i] : 1.0 + s[i];
        total += margin > 0.0 ? margin : 0.0;
        ds[i] = margin > 0.0 ? (real ? -1.0f : 1.0f) / n : 0.0f;
    }
    return total / n;
}

#define GANC_LOSS_ROW_(id, name, d, g, ce, lip, help) [GANC_LOSS_##id] = {name, d, g, ce, lip, help},
static const ganc_loss_def table[] = {GANC_LOSSES(GANC_LOSS_ROW_)};
_Static_assert(sizeof(GANC_LOSSES(GANC_LOSS_CE_OR_)) > 4, "GANC_LOSS_CROSS_ENTROPY_OR needs a cross-entropy row");

const ganc_loss_def *ganc_loss_of(ganc_loss loss) { return &table[loss]; }
