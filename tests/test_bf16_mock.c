/* The AVX512-BF16 and AMX-BF16 kernels (kernels/gemm_bf16_*.c) on any CPU: compiled here with
 * portable stand-ins for their intrinsics (tests/bf16_mock.h, written from Intel's description
 * of VDPBF16PS and TDPBF16PS), and checked as tests/test_bf16.c checks the emulation: every
 * transpose, ragged and block-crossing sizes, alpha and beta (beta = 0 ignores NaN in C),
 * against a double sum of the rounded inputs within the fp32 summation bound. This checks the
 * kernels' packing, blocking, masking and tiling; only a CPU with the instructions checks the
 * instructions (tests/test_bf16.c runs every path the CPU has). */
#include "check.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef GANC_BF16_KERNELS
#include "bf16_mock.h"
#define GANC_BF16_MOCK 1
/* the kernels under other names (the library has the real ones), their helpers apart */
#define ganc_sgemm_bf16_avx512 mock_avx512
#define bf16_bits avx512_bf16_bits
#define at avx512_at
#include "kernels/gemm_bf16_avx512.c"
#undef bf16_bits
#undef at
#define ganc_sgemm_bf16_amx mock_amx
#define bf16_bits amx_bf16_bits
#define at amx_at
#include "kernels/gemm_bf16_amx.c"

typedef int kernel(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static ganc_rng rng;

/* largest error of one product as a fraction of its bound (see tests/test_bf16.c) */
static double one_case(kernel *fn, int ta, int tb, int m, int n, int k, float alpha, float beta, int pad)
{
    const int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
    const int lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
    float *a = check_floats((size_t)a_rows * lda), *b = check_floats((size_t)b_rows * ldb);
    float *c = check_floats((size_t)m * ldc), *c0 = check_floats((size_t)m * ldc);
    ganc_rng_uniform(&rng, a, (size_t)a_rows * lda, -1.0f, 1.0f);
    ganc_rng_uniform(&rng, b, (size_t)b_rows * ldb, -2.0f, 2.0f);
    ganc_rng_uniform(&rng, c0, (size_t)m * ldc, -1.0f, 1.0f);
    for (size_t i = 0; i < (size_t)m * ldc; i++) c[i] = beta == 0.0f ? NAN : c0[i];
    if (fn(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return INFINITY;
    const double u = ldexp(1.0, -24), gamma = k * u / (1.0 - k * u);
    double worst = 0.0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0, mag = 0.0;
            for (int p = 0; p < k; p++) {
                const double x = ganc_bf16_round1(ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]);
                const double y = ganc_bf16_round1(tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j]);
                s += x * y;
                mag += fabs(x * y);
            }
            const double cb = beta == 0.0f ? 0.0 : beta * (double)c0[(size_t)i * ldc + j];
            const double bound = fabs(alpha) * gamma * mag + 3.0 * u * (fabs(alpha * s) + fabs(cb)) + 1e-30;
            const double e = fabs(c[(size_t)i * ldc + j] - (alpha * s + cb)) / bound;
            if (!(e <= worst)) worst = e;
        }
    free(a), free(b), free(c), free(c0);
    return worst;
}

int main(void)
{
    static const struct {
        int m, n, k, pad;
    } shapes[] = {
        {1, 1, 1, 0},     {3, 5, 7, 1},    {17, 33, 300, 0}, {37, 2100, 5, 2}, {1030, 3, 9, 0},
        {64, 200, 520, 3}, {33, 47, 31, 0}, {5, 17, 257, 1},  {32, 32, 32, 0},
    };
    static const struct {
        const char *name;
        kernel *fn;
    } kernels[] = {{"AVX512-BF16", mock_avx512}, {"AMX-BF16", mock_amx}};
    ganc_rng_seed(&rng, 29);
    for (int kn = 0; kn < 2; kn++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int t = 0; t < 4; t++) {
                const int ta = t & 1, tb = t >> 1, m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
                const float alpha = s % 2 ? 0.75f : 1.0f, beta = s % 3 == 1 ? -1.5f : s % 3 == 2 ? 1.0f : 0.0f;
                const double e = one_case(kernels[kn].fn, ta, tb, m, n, k, alpha, beta, shapes[s].pad);
                CHECK(e <= 1.0, "%s (stand-ins) %s%s m %d n %d k %d alpha %g beta %g: error %.3g of the bound",
                      kernels[kn].name, ta ? "T" : "N", tb ? "T" : "N", m, n, k, alpha, beta, e);
            }
    ganc_shutdown();
    return check_finish("bf16_mock");
}

#else

int main(void)
{
    printf("bf16_mock: the hardware kernels are not built for this target\n");
    return check_finish("bf16_mock");
}

#endif
