/* Single-precision GEMM: OpenBLAS when the build found it (GANC_HAVE_OPENBLAS), otherwise a
 * portable loop nest that the compiler vectorises. Row-major throughout. */
#include "ganc_internal.h"

#ifdef GANC_HAVE_OPENBLAS
#include <cblas.h>

void ganc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m == 0 || n == 0) return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n,
                k, alpha, a, lda, b, ldb, beta, c, ldc);
}

#else

void ganc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc)
{
#pragma omp parallel for schedule(static) if ((double)m * n * k > 1e6)
    for (int i = 0; i < m; i++) {
        float *crow = c + (size_t)i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < n; j++) crow[j] = 0.0f;
        else if (beta != 1.0f)
            for (int j = 0; j < n; j++) crow[j] *= beta;
        if (!trans_b) {
            /* C[i,:] += sum_p A(i,p) * B[p,:]: unit stride over j. */
            for (int p = 0; p < k; p++) {
                float aip = alpha * (trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]);
                const float *brow = b + (size_t)p * ldb;
                for (int j = 0; j < n; j++) crow[j] += aip * brow[j];
            }
        } else {
            /* C[i,j] += dot(A(i,:), B[j,:]) */
            for (int j = 0; j < n; j++) {
                const float *brow = b + (size_t)j * ldb;
                float acc = 0.0f;
                if (!trans_a) {
                    const float *arow = a + (size_t)i * lda;
                    for (int p = 0; p < k; p++) acc += arow[p] * brow[p];
                } else {
                    for (int p = 0; p < k; p++) acc += a[(size_t)p * lda + i] * brow[p];
                }
                crow[j] += alpha * acc;
            }
        }
    }
}

#endif
