/* The AVX512-BF16 and AMX-BF16 kernels (kernels/gemm_bf16_*.c) on any CPU: compiled here with
 * portable stand-ins for their intrinsics (tests/bf16_mock.h, written from Intel's description
 * of VDPBF16PS and TDPBF16PS), and checked as tests/test_bf16.c checks the emulation: every
 * transpose, ragged and block-crossing sizes, alpha and beta (beta = 0 ignores NaN in C),
 * against a double sum of the rounded inputs within the fp32 summation bound. This checks the
 * kernels' packing, blocking, masking and tiling; only a CPU with the instructions checks the
 * instructions (tests/test_bf16.c runs every path the CPU has). */
#include "bf16_ref.h"
#include "check.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef GANC_BF16_KERNELS
#include "bf16_mock.h"
#define GANC_BF16_MOCK 1
/* the kernels under other names (the library has the real ones); their packing is the
 * library's (ganc_bf16_pack_a and _b, kernels/bf16.c) */
#define ganc_sgemm_bf16_avx512 mock_avx512
#include "kernels/gemm_bf16_avx512.c"
#define ganc_sgemm_bf16_amx mock_amx
#include "kernels/gemm_bf16_amx.c"

typedef int kernel(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static ganc_rng rng;

/* largest error of one product as a fraction of its bound (tests/bf16_ref.h) */
static double one_case(kernel *fn, int ta, int tb, int m, int n, int k, float alpha, float beta, int pad)
{
    bf16_case t;
    bf16_case_make(&t, &rng, ta, tb, m, n, k, alpha, beta, pad);
    const double worst =
        fn(ta, tb, m, n, k, alpha, t.a, t.lda, t.b, t.ldb, beta, t.c, t.ldc) ? INFINITY : bf16_case_error(&t);
    bf16_case_free(&t);
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
