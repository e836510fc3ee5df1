/* Softmax cross-entropy with logits, the classifier's loss (issue 6).
 *
 * Stable form: with m = max_j z_j, logsumexp(z) = m + log sum_j exp(z_j - m); every exponent is
 * <= 0, so nothing overflows, and the largest term is exp(0) = 1, so the log never sees 0.
 * The gradient of l = logsumexp(z) - z_y is softmax(z) - onehot(y). */
#include "ganc.h"

#include <math.h>

/* logsumexp of one row of k logits, in double. */
static double logsumexp(const float *z, int k)
{
    double m = z[0];
    for (int j = 1; j < k; j++)
        if (z[j] > m) m = z[j];
    double s = 0.0;
    for (int j = 0; j < k; j++) s += exp((double)z[j] - m);
    return m + log(s);
}

void ganc_softmax(const float *z, int n, int k, float *p)
{
    for (int i = 0; i < n; i++) {
        const float *row = z + (size_t)i * (size_t)k;
        float *out = p + (size_t)i * (size_t)k;
        const double lse = logsumexp(row, k);
        for (int j = 0; j < k; j++) out[j] = (float)exp((double)row[j] - lse);
    }
}

double ganc_softmax_xent(const float *z, const int32_t *labels, int n, int k, float *dz, float scale)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const float *row = z + (size_t)i * (size_t)k;
        const int32_t y = labels[i];
        if (y < 0 || y >= k) return NAN;
        const double lse = logsumexp(row, k);
        total += lse - (double)row[y];
        if (dz) {
            float *g = dz + (size_t)i * (size_t)k;
            const double c = (double)scale / n;
            for (int j = 0; j < k; j++) g[j] = (float)(c * (exp((double)row[j] - lse) - (j == y)));
        }
    }
    return n ? total / n : 0.0;
}
