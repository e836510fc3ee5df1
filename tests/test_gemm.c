/* ganc_sgemm against a double-precision triple loop, on shapes chosen to hit every edge of
 * the blocked kernels: ragged register tiles (m, n not multiples of 8 and 48), depths across
 * the 256-deep packing slices, rows across the 96-row blocks, columns across the 1536-column
 * blocks, all four transposes, leading dimensions wider than the matrices, alpha and beta
 * (beta = 0 must ignore NaN in C), and products split over threads. On AVX-512 builds the
 * public entry uses our kernels and they are also checked on their own (no thread split);
 * the OpenBLAS and portable paths are what the public entry runs in the builds without
 * AVX-512 (NATIVE=0, the valgrind build), which run this test too. */
#include "check.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned long long lcg = 88172645463325252ull;
static float frand(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((lcg >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static float *alloc_floats(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "test_gemm: out of memory\n");
        exit(2);
    }
    return p;
}

typedef int (*gemm_fn)(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static int via_public(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                      int ldb, float beta, float *c, int ldc)
{
    ganc_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return 0;
}

/* One product through fn, checked element by element against the double reference with a
 * bound that grows with k (float accumulation of k terms of size <= 1). */
static void one_case(const char *path, gemm_fn fn, int ta, int tb, int m, int n, int k, float alpha, float beta,
                     int pad)
{
    const int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
    const int lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
    float *a = alloc_floats((size_t)a_rows * lda), *b = alloc_floats((size_t)b_rows * ldb);
    float *c = alloc_floats((size_t)m * ldc), *c0 = alloc_floats((size_t)m * ldc);
    for (size_t i = 0; i < (size_t)a_rows * lda; i++) a[i] = frand();
    for (size_t i = 0; i < (size_t)b_rows * ldb; i++) b[i] = frand();
    for (size_t i = 0; i < (size_t)m * ldc; i++) c0[i] = c[i] = beta == 0.0f ? NAN : frand();
    fn(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    double worst = 0.0;
    int pad_ok = 1;
    const double tol = 1e-6 * (k + 8) * (fabs(alpha) + 1.0);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int p = 0; p < k; p++) {
                const double x = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                const double y = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += x * y;
            }
            const double want = alpha * s + (beta == 0.0f ? 0.0 : beta * (double)c0[(size_t)i * ldc + j]);
            const double err = fabs(c[(size_t)i * ldc + j] - want);
            if (!(err <= worst)) worst = err; /* NaN sticks */
        }
        for (int j = n; j < ldc; j++) /* the padding beyond n is not C's: untouched */
            if (!(c[(size_t)i * ldc + j] == c0[(size_t)i * ldc + j] || (isnan(c[(size_t)i * ldc + j]) && isnan(c0[(size_t)i * ldc + j]))))
                pad_ok = 0;
    }
    CHECK(worst <= tol && pad_ok, "%s gemm ta=%d tb=%d m=%d n=%d k=%d alpha=%g beta=%g pad=%d: max error %.3g (bound %.3g)%s",
          path, ta, tb, m, n, k, alpha, beta, pad, worst, tol, pad_ok ? "" : ", wrote outside C");
    free(a);
    free(b);
    free(c);
    free(c0);
}

static void all_cases(const char *path, gemm_fn fn)
{
    static const int shapes[][3] = {
        {1, 1, 1},     {7, 5, 3},      {8, 48, 16},   {9, 49, 17},    {64, 294, 800}, {64, 800, 294},
        {800, 294, 64}, {97, 1537, 5}, {33, 100, 513}, {128, 9, 1600}, {3, 2000, 40},  {200, 3, 260},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                one_case(path, fn, ta, tb, m, n, k, 1.0f, 0.0f, 0);
                one_case(path, fn, ta, tb, m, n, k, -0.5f, 1.0f, 3);
                one_case(path, fn, ta, tb, m, n, k, 2.0f, 0.25f, 17);
            }
    one_case(path, fn, 0, 0, 5, 6, 0, 1.0f, 0.5f, 1); /* k = 0: C = beta * C */
}

int main(void)
{
    all_cases("ganc_sgemm", via_public);
#if defined(__AVX512F__)
    /* the AVX-512 kernels on their own (no thread split), then what GANC_GEMM=blas selects */
    all_cases("avx512", ganc_sgemm_avx512);
#endif
    return check_finish("test_gemm");
}
