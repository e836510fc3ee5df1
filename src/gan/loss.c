/* Sigmoid cross-entropy with logits, in the stable form
 *   l(z, t) = max(z, 0) - z t + log(1 + exp(-|z|)),   dl/dz = sigmoid(z) - t,
 * finite for every finite z (no exp of a large positive number is ever taken). */
#include "ganc_internal.h"

#include <math.h>

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
