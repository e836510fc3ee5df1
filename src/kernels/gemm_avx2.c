/* Single-precision GEMM with AVX2 + FMA register tiles, for builds whose target has AVX2 and
 * FMA but not AVX-512 (those use kernels/gemm_avx512.c; elsewhere this file is empty and
 * kernels/gemm.c uses OpenBLAS or its portable loops).
 *
 * Why our own on these machines too: OpenBLAS's kernel runs near the core's peak, but around
 * it every call re-packs the whole weight matrix, and with beta = 0 it first clears C in a
 * pass of its own (sgemm_beta: 2.5% of a dcgan32 iteration in perf); the convolutions make
 * thousands of such products per step. The blocking is the same as the AVX-512 file's (Goto;
 * BLIS's loop order): a KC-deep slice of op(B) packed into NR-wide column panels, an MC-tall
 * slice of op(A) into MR-tall row panels, and a micro-kernel holding an MR x NR tile of C in
 * 12 ymm registers while it streams the two panels. Packing zero-fills the ragged edges.
 * Single-threaded: callers split the work.
 *
 * Row-major, C = alpha * op(A) op(B) + beta * C; beta == 0 never reads C. */
#include "ganc_internal.h"

#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)

#include <immintrin.h>

enum {
    MR = 6,       /* rows of a register tile */
    NR = 16,      /* columns of a register tile: two ymm vectors */
    KC = 256,     /* depth of the packed slices: an NR panel of B is 16 KB, in L1 */
    MC = 120,     /* rows of A packed at a time (120 x 256 floats: 120 KB, in L2) */
    NC = 2048     /* columns of B packed at a time (256 x 2048 floats: 2 MB) */
};

_Static_assert((size_t)MC * KC + (size_t)KC * NC <= GANC_KERNEL_SCRATCH_FLOATS, "packed A and B fit the scratch");
_Static_assert(MC * KC % 16 == 0, "packed B starts 64-byte aligned");

/* Lane masks for the first w < 8 floats of a vector (maskload/maskstore). */
static __m256i lanes(int w)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(w), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The 8 x 8 block r[0..7] (rows) transposed in place: r[i] holds column i afterwards. */
static inline void transpose8(__m256 r[8])
{
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* op(A)[i0 .. i0+mc) x [p0 .. p0+kc) into MR-row panels, each kc x MR (p-major). */
static void pack_a_block(int trans_a, const float *a, int lda, int i0, int mc, int p0, int kc, float *dst)
{
    for (int ir = 0; ir < mc; ir += MR) {
        const int rows = mc - ir < MR ? mc - ir : MR;
        float *panel = dst + (size_t)ir * kc;
        if (trans_a) { /* op(A)(i, p) = a[p * lda + i]: MR consecutive floats per p */
            for (int p = 0; p < kc; p++) {
                const float *src = a + (size_t)(p0 + p) * lda + i0 + ir;
                float *d = panel + (size_t)p * MR;
                int r = 0;
                for (; r < rows; r++) d[r] = src[r];
                for (; r < MR; r++) d[r] = 0.0f;
            }
        } else { /* op(A)(i, p) = a[i * lda + p]: MR rows, 8 values of p at a time transposed */
            const float *src[MR];
            for (int r = 0; r < MR; r++) src[r] = r < rows ? a + (size_t)(i0 + ir + r) * lda + p0 : NULL;
            int p = 0;
            for (; p + 8 <= kc; p += 8) {
                __m256 v[8];
                for (int r = 0; r < MR; r++) v[r] = src[r] ? _mm256_loadu_ps(src[r] + p) : _mm256_setzero_ps();
                v[6] = v[7] = _mm256_setzero_ps();
                transpose8(v);
                float *d = panel + (size_t)p * MR;
                /* column q's first MR floats are the panel's row p + q: written 8 wide, each
                 * store's two extra floats overwritten by the next one, the last one by halves */
                for (int q = 0; q < 7; q++) _mm256_storeu_ps(d + q * MR, v[q]);
                _mm_storeu_ps(d + 7 * MR, _mm256_castps256_ps128(v[7]));
                _mm_storel_pi((__m64 *)(d + 7 * MR + 4), _mm256_extractf128_ps(v[7], 1));
            }
            for (; p < kc; p++) {
                float *d = panel + (size_t)p * MR;
                for (int r = 0; r < MR; r++) d[r] = src[r] ? src[r][p] : 0.0f;
            }
        }
    }
}

/* op(B)[p0 .. p0+kc) x [j0 .. j0+nc) into NR-column panels, each kc x NR (p-major). Without
 * transposition B is read row by row (one long sequential stream per p, which the hardware
 * prefetcher follows) and scattered to the panels; walking one panel at a time instead read
 * 64 bytes from each of kc rows ldb floats apart, L1-set conflicts and cache misses that took
 * 15% of a 128 x 1024 x 1024 product. */
static void pack_b_block(int trans_b, const float *b, int ldb, int p0, int kc, int j0, int nc, float *dst)
{
    if (!trans_b) { /* op(B)(p, j) = b[p * ldb + j] */
        const int full = nc / NR * NR, cols = nc - full;
        const __m256i m0 = lanes(cols), m1 = lanes(cols - 8);
        for (int p = 0; p < kc; p++) {
            const float *src = b + (size_t)(p0 + p) * ldb + j0;
            float *d = dst + (size_t)p * NR;
            for (int jr = 0; jr < full; jr += NR, d += (size_t)kc * NR) {
                _mm256_store_ps(d, _mm256_loadu_ps(src + jr));
                _mm256_store_ps(d + 8, _mm256_loadu_ps(src + jr + 8));
            }
            if (cols) {
                _mm256_store_ps(d, _mm256_maskload_ps(src + full, m0));
                _mm256_store_ps(d + 8, cols > 8 ? _mm256_maskload_ps(src + full + 8, m1) : _mm256_setzero_ps());
            }
        }
        return;
    }
    for (int jr = 0; jr < nc; jr += NR) { /* op(B)(p, j) = b[j * ldb + p]: 8 x 8 blocks transposed */
        const int cols = nc - jr < NR ? nc - jr : NR;
        float *panel = dst + (size_t)jr * kc;
        for (int h = 0; h < NR; h += 8) {
            const float *src[8];
            for (int c = 0; c < 8; c++) src[c] = h + c < cols ? b + (size_t)(j0 + jr + h + c) * ldb + p0 : NULL;
            int p = 0;
            for (; p + 8 <= kc; p += 8) {
                __m256 v[8];
                for (int c = 0; c < 8; c++) v[c] = src[c] ? _mm256_loadu_ps(src[c] + p) : _mm256_setzero_ps();
                transpose8(v);
                for (int q = 0; q < 8; q++) _mm256_store_ps(panel + (size_t)(p + q) * NR + h, v[q]);
            }
            for (; p < kc; p++)
                for (int c = 0; c < 8; c++) panel[(size_t)p * NR + h + c] = src[c] ? src[c][p] : 0.0f;
        }
    }
}

/* tile (MR x 8) = A panel (kc x MR) . the first 8 columns of a B panel, for the ragged last
 * panels of at most 8 columns (half the products of the full kernel below). */
static void kernel_6x8(int kc, const float *restrict ap, const float *restrict bp, float *restrict tile)
{
    __m256 acc[MR];
    for (int r = 0; r < MR; r++) acc[r] = _mm256_setzero_ps();
    for (int p = 0; p < kc; p++) {
        const __m256 bv = _mm256_load_ps(bp);
        for (int r = 0; r < MR; r++) acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + r), bv, acc[r]);
        ap += MR;
        bp += NR;
    }
    for (int r = 0; r < MR; r++) _mm256_store_ps(tile + r * NR, acc[r]);
}

/* The full 6 x 16 tile, which nearly all products run, in assembly so that the 12
 * accumulators stay in ymm4-15, B's two vectors in ymm0-1 and A's broadcasts alternate in
 * ymm2-3 (no spills, no register shuffles). Two steps of p per loop turn. */
#define ZERO2(x, y) "vxorps %%ymm" #x ", %%ymm" #x ", %%ymm" #x "\n\t"                          \
                    "vxorps %%ymm" #y ", %%ymm" #y ", %%ymm" #y "\n\t"
#define ROW(off, br, x, y) "vbroadcastss " #off "(%[a]), %%ymm" #br "\n\t"                       \
                           "vfmadd231ps %%ymm" #br ", %%ymm0, %%ymm" #x "\n\t"                   \
                           "vfmadd231ps %%ymm" #br ", %%ymm1, %%ymm" #y "\n\t"
#define STEP(aoff, boff) "vmovaps " #boff "(%[b]), %%ymm0\n\t"                                    \
                         "vmovaps 32+" #boff "(%[b]), %%ymm1\n\t"                                \
                         ROW(aoff, 2, 4, 5) ROW(4+aoff, 3, 6, 7) ROW(8+aoff, 2, 8, 9)            \
                         ROW(12+aoff, 3, 10, 11) ROW(16+aoff, 2, 12, 13) ROW(20+aoff, 3, 14, 15)
#define STORE2(off, x, y) "vmovaps %%ymm" #x ", " #off "(%[t])\n\t"                              \
                          "vmovaps %%ymm" #y ", 32+" #off "(%[t])\n\t"

/* The loop of kernel_6x16: `pairs` double steps, then one more if `odd`. */
#define KERNEL_LOOP ZERO2(4, 5) ZERO2(6, 7) ZERO2(8, 9) ZERO2(10, 11) ZERO2(12, 13) ZERO2(14, 15)    \
                    "test %[n], %[n]\n\t"                                                        \
                    "jle 2f\n\t"                                                                 \
                    "1:\n\t"                                                                     \
                    "prefetcht0 512(%[b])\n\t"                                                   \
                    STEP(0, 0) STEP(24, 64)                                                      \
                    "add $48, %[a]\n\t"                                                          \
                    "add $128, %[b]\n\t"                                                         \
                    "dec %[n]\n\t"                                                               \
                    "jnz 1b\n\t"                                                                 \
                    "2:\n\t"                                                                     \
                    "test %[odd], %[odd]\n\t"                                                    \
                    "jz 3f\n\t"                                                                  \
                    STEP(0, 0)                                                                   \
                    "3:\n\t"
#define CLOBBERS "ymm0", "ymm1", "ymm2", "ymm3", "ymm4", "ymm5", "ymm6", "ymm7", "ymm8", "ymm9", "ymm10", \
                 "ymm11", "ymm12", "ymm13", "ymm14", "ymm15", "memory", "cc"

static void kernel_6x16(int kc, const float *ap, const float *bp, float *tile)
{
    long pairs = kc / 2, odd = kc & 1;
    __asm__ volatile(KERNEL_LOOP
                     STORE2(0, 4, 5) STORE2(64, 6, 7) STORE2(128, 8, 9) STORE2(192, 10, 11)
                     STORE2(256, 12, 13) STORE2(320, 14, 15)
                     : [a] "+r"(ap), [b] "+r"(bp), [n] "+r"(pairs)
                     : [t] "r"(tile), [odd] "r"(odd)
                     : CLOBBERS);
}

/* The full tile straight into C (ldc floats apart, unaligned): C = tile (beta 0, alpha 1) or
 * C += tile (beta 1, alpha 1), the cases the layers ask for; the others go through store_tile. */
#define CROW(x, y) "vmovups %%ymm" #x ", (%[c])\n\t"                                              \
                   "vmovups %%ymm" #y ", 32(%[c])\n\t"                                            \
                   "add %[ldc], %[c]\n\t"
#define CROW_ADD(x, y) "vaddps (%[c]), %%ymm" #x ", %%ymm" #x "\n\t"                              \
                       "vaddps 32(%[c]), %%ymm" #y ", %%ymm" #y "\n\t"                            \
                       CROW(x, y)

static void kernel_6x16_c(int kc, const float *ap, const float *bp, float *c, int ldc, int add)
{
    long pairs = kc / 2, odd = kc & 1, ldc_bytes = (long)ldc * 4;
    if (add)
        __asm__ volatile(KERNEL_LOOP CROW_ADD(4, 5) CROW_ADD(6, 7) CROW_ADD(8, 9) CROW_ADD(10, 11)
                         CROW_ADD(12, 13) CROW_ADD(14, 15)
                         : [a] "+r"(ap), [b] "+r"(bp), [n] "+r"(pairs), [c] "+r"(c)
                         : [odd] "r"(odd), [ldc] "r"(ldc_bytes)
                         : CLOBBERS);
    else
        __asm__ volatile(KERNEL_LOOP CROW(4, 5) CROW(6, 7) CROW(8, 9) CROW(10, 11) CROW(12, 13) CROW(14, 15)
                         : [a] "+r"(ap), [b] "+r"(bp), [n] "+r"(pairs), [c] "+r"(c)
                         : [odd] "r"(odd), [ldc] "r"(ldc_bytes)
                         : CLOBBERS);
}
#undef KERNEL_LOOP
#undef CLOBBERS
#undef CROW
#undef CROW_ADD
#undef ZERO2
#undef ROW
#undef STEP
#undef STORE2

/* C[rows x cols] = alpha * tile + beta * C (beta == 0: C is not read). */
static void store_tile(const float *tile, int rows, int cols, float alpha, float beta, float *c, int ldc)
{
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int r = 0; r < rows; r++) {
        float *crow = c + (size_t)r * ldc;
        for (int c0 = 0; c0 < cols; c0 += 8) {
            const int w = cols - c0;
            __m256 x = _mm256_mul_ps(va, _mm256_load_ps(tile + r * NR + c0));
            if (w >= 8) {
                if (beta != 0.0f) x = _mm256_fmadd_ps(vb, _mm256_loadu_ps(crow + c0), x);
                _mm256_storeu_ps(crow + c0, x);
            } else {
                const __m256i m = lanes(w);
                if (beta != 0.0f) x = _mm256_fmadd_ps(vb, _mm256_maskload_ps(crow + c0, m), x);
                _mm256_maskstore_ps(crow + c0, m, x);
            }
        }
    }
}

/* The product with op(A) either packed here per block (packed == NULL) or taken from a whole
 * packed copy (ganc_sgemm_avx2_pack_a's layout: slice by slice of the depth, each slice m_pad
 * rows of MR-row panels, so block (pc, ic) is at packed + m_pad * pc + ic * kc). */
static int gemm_avx2(const float *packed, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    float *const pack_a = ganc_kernel_scratch();
    if (!pack_a) return -1;
    float *const pack_b = pack_a + (size_t)MC * KC;
    if (k <= 0) { /* no products: C = beta * C */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
        return 0;
    }
    const size_t m_pad = (size_t)(m + MR - 1) / MR * MR;
    _Alignas(32) float tile[MR * NR];
    for (int jc = 0; jc < n; jc += NC) {
        const int nc = n - jc < NC ? n - jc : NC;
        /* equal slices of at most KC (800 = 4 x 200, not 3 x 256 + 32) */
        const int slices = (k + KC - 1) / KC, slice = (k + slices - 1) / slices;
        for (int pc = 0; pc < k; pc += slice) {
            const int kc = k - pc < slice ? k - pc : slice;
            const float beta_blk = pc == 0 ? beta : 1.0f;
            pack_b_block(trans_b, b, ldb, pc, kc, jc, nc, pack_b);
            for (int ic = 0; ic < m; ic += MC) {
                const int mc = m - ic < MC ? m - ic : MC;
                const float *ablock = packed ? packed + m_pad * pc + (size_t)ic * kc : pack_a;
                if (!packed) pack_a_block(trans_a, a, lda, ic, mc, pc, kc, pack_a);
                for (int jr = 0; jr < nc; jr += NR) {
                    const int cols = nc - jr < NR ? nc - jr : NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        const int rows = mc - ir < MR ? mc - ir : MR;
                        const float *ap = ablock + (size_t)ir * kc, *bp = pack_b + (size_t)jr * kc;
                        float *ct = c + (size_t)(ic + ir) * ldc + jc + jr;
                        if (rows == MR && cols == NR && alpha == 1.0f && (beta_blk == 0.0f || beta_blk == 1.0f)) {
                            kernel_6x16_c(kc, ap, bp, ct, ldc, beta_blk != 0.0f);
                            continue;
                        }
                        if (cols > 8) kernel_6x16(kc, ap, bp, tile);
                        else kernel_6x8(kc, ap, bp, tile);
                        store_tile(tile, rows, cols, alpha, beta_blk, ct, ldc);
                    }
                }
            }
        }
    }
    return 0;
}

int ganc_sgemm_avx2(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                    const float *b, int ldb, float beta, float *c, int ldc)
{
    return gemm_avx2(NULL, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

size_t ganc_sgemm_avx2_packed_floats(int m, int k)
{
    return (size_t)(m + MR - 1) / MR * MR * (size_t)(k > 0 ? k : 0);
}

void ganc_sgemm_avx2_pack_a(int trans_a, int m, int k, const float *a, int lda, float *dst)
{
    if (m <= 0 || k <= 0) return;
    const size_t m_pad = ganc_sgemm_avx2_packed_floats(m, 1);
    const int slices = (k + KC - 1) / KC, slice = (k + slices - 1) / slices;
    for (int pc = 0; pc < k; pc += slice) {
        const int kc = k - pc < slice ? k - pc : slice;
        for (int ic = 0; ic < m; ic += MC)
            pack_a_block(trans_a, a, lda, ic, m - ic < MC ? m - ic : MC, pc, kc, dst + m_pad * pc + (size_t)ic * kc);
    }
}

int ganc_sgemm_avx2_packed(const float *packed, int trans_b, int m, int n, int k, float alpha, const float *b, int ldb,
                           float beta, float *c, int ldc)
{
    return gemm_avx2(packed, 0, trans_b, m, n, k, alpha, NULL, 0, b, ldb, beta, c, ldc);
}

#endif
