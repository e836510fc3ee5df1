/* The bf16 product on AVX512-BF16 (vdpbf16ps: two bf16 products added to each fp32 lane),
 * compiled for it through target attributes, so that the build needs no -march; run only where
 * ganc_cpu_avx512bf16 says the CPU and the OS have it (kernels/bf16.c).
 *
 * Blocks as the emulation's (GANC_BF16_KC deep from K's start, so a value of C is the same
 * whatever the split over threads): op(B)'s block is packed as rows of pairs, pair q of column
 * j holding (B[2q][j], B[2q+1][j]) in one 32-bit lane (the low half the even one, as
 * vdpbf16ps pairs them), columns padded with zeros to a multiple of 32 (a tile's width); op(A)'s rows as pairs too (both by
 * ganc_bf16_pack_a and _b, kernels/bf16.c, which the AMX kernel shares). An odd K is padded
 * with a zero. Each register tile is 4 rows x 32 columns (8 accumulators); every
 * lane adds its pairs in K's order, and C gets alpha * sum (+ beta * C on the first block). The
 * inputs are rounded as ganc_bf16_round1 rounds them (the instruction itself flushes subnormal
 * inputs and results to zero, which the emulation does not).
 *
 * Not run on such a CPU when written (the development machine has AVX2 only): tests/test_bf16.c
 * checks this path wherever the CPU has it. */
#include "ganc_internal.h"

#ifdef GANC_BF16_KERNELS
#ifdef GANC_BF16_MOCK /* tests/test_bf16_mock.c, which includes this file after its stand-ins */
#define TARGET
#else
#include <immintrin.h>
#define TARGET __attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw")))
#define AS_BH(x) ((__m512bh)(x)) /* the same 512 bits read as 32 bf16 */
#endif

/* C[rows x cols] (rows <= 4, cols <= 32) from packed A rows (pairs long) and packed B (ld). */
TARGET static void tile(int rows, int cols, int pairs, const uint32_t *ap, const uint32_t *bp, int ld, float alpha,
                        float beta, int first, float *c, int ldc)
{
    __m512 acc[4][2];
    for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int q = 0; q < pairs; q++) {
        const __m512i b0 = _mm512_loadu_si512(bp + (size_t)q * ld), b1 = _mm512_loadu_si512(bp + (size_t)q * ld + 16);
        for (int r = 0; r < rows; r++) {
            const __m512i a = _mm512_set1_epi32((int)ap[(size_t)r * pairs + q]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], AS_BH(a), AS_BH(b0));
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], AS_BH(a), AS_BH(b1));
        }
    }
    const __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? 0xffff : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < rows; r++) {
        float *cr = c + (size_t)r * ldc;
        for (int h = 0; h < 2; h++) {
            const __mmask16 m = h ? m1 : m0;
            if (!m) continue;
            __m512 v = _mm512_mul_ps(va, acc[r][h]);
            if (!first || beta != 0.0f) { /* beta = 0 ignores C (it may hold NaN) */
                const __m512 old = _mm512_maskz_loadu_ps(m, cr + 16 * h);
                v = first ? _mm512_fmadd_ps(vb, old, v) : _mm512_add_ps(old, v);
            }
            _mm512_mask_storeu_ps(cr + 16 * h, m, v);
        }
    }
}

int ganc_sgemm_bf16_avx512(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                           int ldb, float beta, float *c, int ldc)
{
    uint32_t *scratch = (uint32_t *)ganc_bf16_scratch();
    if (!scratch) return -1;
    enum { KC = GANC_BF16_KC, NC = GANC_BF16_NC, MC = GANC_BF16_MC };
    uint32_t *bp = scratch, *ap = scratch + (size_t)(KC / 2) * NC; /* KC/2 x NC, then MC x KC/2 */
    for (int j0 = 0; j0 < n; j0 += NC) {
        const int nb = n - j0 < NC ? n - j0 : NC, ld = (nb + 31) / 32 * 32;
        for (int p0 = 0; p0 < k; p0 += KC) {
            const int kb = k - p0 < KC ? k - p0 : KC, pairs = (kb + 1) / 2;
            ganc_bf16_pack_b(b, ldb, tb, j0, nb, ld, p0, kb, pairs, bp);
            for (int i0 = 0; i0 < m; i0 += MC) {
                const int mb = m - i0 < MC ? m - i0 : MC;
                ganc_bf16_pack_a(a, lda, ta, i0, mb, mb, p0, kb, pairs, ap);
                for (int i = 0; i < mb; i += 4)
                    for (int j = 0; j < nb; j += 32)
                        tile(mb - i < 4 ? mb - i : 4, nb - j < 32 ? nb - j : 32, pairs, ap + (size_t)i * pairs, bp + j,
                             ld, alpha, beta, p0 == 0, c + (size_t)(i0 + i) * ldc + j0 + j, ldc);
            }
        }
    }
    return 0;
}

#endif
