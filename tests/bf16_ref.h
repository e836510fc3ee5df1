/* The bf16 GEMM's reference, one for tests/test_bf16.c (the emulation and this CPU's paths)
 * and tests/test_bf16_mock.c (the hardware kernels on stand-ins), so that both hold every path
 * to the same inputs and the same bound: a double sum of the rounded inputs, within the error
 * of fp32 summation (see tests/test_bf16.c). */
#ifndef GANC_TEST_BF16_REF_H
#define GANC_TEST_BF16_REF_H

#include "ganc_internal.h"

/* One product C = alpha op(A) op(B) + beta C: op(A) m x k, op(B) k x n, every row of A, B and
 * C `pad` values longer than it needs. */
typedef struct {
    int ta, tb, m, n, k, lda, ldb, ldc;
    float alpha, beta;
    float *a, *b;
    float *c;  /* what the product writes into: C before it, or NaN where beta = 0 (ignored) */
    float *c0; /* C before it */
} bf16_case;

/* Allocates the case and draws A, B and C (in that order) from rng. */
void bf16_case_make(bf16_case *t, ganc_rng *rng, int ta, int tb, int m, int n, int k, float alpha, float beta,
                    int pad);
/* The largest error of t->c as a fraction of its bound (> 1: broken; NaN counts as the worst). */
double bf16_case_error(const bf16_case *t);
void bf16_case_free(bf16_case *t);

#endif
