#include "bf16_ref.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>

void bf16_case_make(bf16_case *t, ganc_rng *rng, int ta, int tb, int m, int n, int k, float alpha, float beta,
                    int pad)
{
    const int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
    *t = (bf16_case){.ta = ta, .tb = tb, .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta};
    t->lda = a_cols + pad, t->ldb = b_cols + pad, t->ldc = n + pad;
    t->a = check_floats((size_t)a_rows * t->lda), t->b = check_floats((size_t)b_rows * t->ldb);
    t->c = check_floats((size_t)m * t->ldc), t->c0 = check_floats((size_t)m * t->ldc);
    ganc_rng_uniform(rng, t->a, (size_t)a_rows * t->lda, -1.0f, 1.0f);
    ganc_rng_uniform(rng, t->b, (size_t)b_rows * t->ldb, -2.0f, 2.0f);
    ganc_rng_uniform(rng, t->c0, (size_t)m * t->ldc, -1.0f, 1.0f);
    for (size_t i = 0; i < (size_t)m * t->ldc; i++) t->c[i] = beta == 0.0f ? NAN : t->c0[i];
}

double bf16_case_error(const bf16_case *t)
{
    const int k = t->k, lda = t->lda, ldb = t->ldb, ldc = t->ldc;
    const double alpha = t->alpha, u = ldexp(1.0, -24), gamma = k * u / (1.0 - k * u);
    double worst = 0.0;
    for (int i = 0; i < t->m; i++)
        for (int j = 0; j < t->n; j++) {
            double s = 0.0, mag = 0.0;
            for (int p = 0; p < k; p++) {
                const double x = ganc_bf16_round1(t->ta ? t->a[(size_t)p * lda + i] : t->a[(size_t)i * lda + p]);
                const double y = ganc_bf16_round1(t->tb ? t->b[(size_t)j * ldb + p] : t->b[(size_t)p * ldb + j]);
                s += x * y;
                mag += fabs(x * y);
            }
            const double cb = t->beta == 0.0f ? 0.0 : t->beta * (double)t->c0[(size_t)i * ldc + j];
            const double want = alpha * s + cb;
            const double bound = fabs(alpha) * gamma * mag + 3.0 * u * (fabs(alpha * s) + fabs(cb)) + 1e-30;
            const double e = fabs(t->c[(size_t)i * ldc + j] - want) / bound;
            if (!(e <= worst)) worst = e; /* NaN counts as the worst */
        }
    return worst;
}

void bf16_case_free(bf16_case *t) { free(t->a), free(t->b), free(t->c), free(t->c0); }
