/* Single-precision GEMM with AVX-512 register tiles, for builds whose target has AVX-512
 * (-march=native on such a machine defines __AVX512F__; elsewhere this file is empty and
 * kernels/gemm.c uses OpenBLAS or its portable loops).
 *
 * Why our own: Debian's OpenBLAS may be pinned to its AVX2 kernels (OPENBLAS_CORETYPE), and
 * even with its AVX-512 ones it re-packs the whole weight matrix for every small product the
 * convolutions make (M = 32..128 output channels, a few hundred columns per batch chunk).
 * This is the classic blocked GEMM (Goto; BLIS's loop order): a KC-deep slice of op(B) is
 * packed into NR-wide column panels, an MC-tall slice of op(A) into MR-tall row panels, and
 * a micro-kernel keeps an MR x NR tile of C in MR * NR / 16 zmm registers while it streams
 * the two panels. Packing zero-fills the ragged edges, so the micro-kernel has no branches;
 * partial tiles are written through masks. Single-threaded: callers split the work
 * (kernels/gemm.c over rows or columns, the convolutions over the batch).
 *
 * Row-major, C = alpha * op(A) op(B) + beta * C; beta == 0 never reads C. */
#include "ganc_internal.h"

#if defined(__AVX512F__)

#include <immintrin.h>
#include <stdlib.h>

enum {
    MR = 8,         /* rows of a register tile */
    NV = 3,         /* zmm vectors across a tile row */
    NR = 16 * NV,   /* columns of a register tile */
    KC = 256,       /* depth of the packed slices: an NR panel of B is 48 KB */
    MC = 96,        /* rows of A packed at a time (96 x 256 floats: 96 KB, in L2) */
    NC = 1536       /* columns of B packed at a time (256 x 1536 floats: 1.5 MB) */
};

/* Per-thread packing buffers, allocated on a thread's first product and kept (the same
 * threads run every step; nothing is allocated per step). */
static _Thread_local float *pack_a, *pack_b;

static int pack_buffers(void)
{
    if (pack_a) return 0;
    pack_a = aligned_alloc(64, sizeof(float) * MC * KC);
    pack_b = aligned_alloc(64, sizeof(float) * KC * NC);
    if (!pack_a || !pack_b) {
        free(pack_a);
        free(pack_b);
        pack_a = pack_b = NULL;
        return -1;
    }
    return 0;
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
        } else {       /* op(A)(i, p) = a[i * lda + p]: rows read contiguously, written strided */
            for (int r = 0; r < MR; r++) {
                if (r < rows) {
                    const float *src = a + (size_t)(i0 + ir + r) * lda + p0;
                    for (int p = 0; p < kc; p++) panel[(size_t)p * MR + r] = src[p];
                } else {
                    for (int p = 0; p < kc; p++) panel[(size_t)p * MR + r] = 0.0f;
                }
            }
        }
    }
}

/* op(B)[p0 .. p0+kc) x [j0 .. j0+nc) into NR-column panels, each kc x NR (p-major). */
static void pack_b_block(int trans_b, const float *b, int ldb, int p0, int kc, int j0, int nc, float *dst)
{
    for (int jr = 0; jr < nc; jr += NR) {
        const int cols = nc - jr < NR ? nc - jr : NR;
        float *panel = dst + (size_t)jr * kc;
        if (!trans_b) { /* op(B)(p, j) = b[p * ldb + j]: one row segment per p */
            const __mmask16 tail = (__mmask16)((1u << (cols % 16)) - 1u);
            for (int p = 0; p < kc; p++) {
                const float *src = b + (size_t)(p0 + p) * ldb + j0 + jr;
                float *d = panel + (size_t)p * NR;
                for (int v = 0; v < NV; v++) {
                    const int c0 = 16 * v;
                    __m512 x;
                    if (c0 + 16 <= cols) x = _mm512_loadu_ps(src + c0);
                    else if (c0 < cols) x = _mm512_maskz_loadu_ps(tail, src + c0);
                    else x = _mm512_setzero_ps();
                    _mm512_store_ps(d + c0, x);
                }
            }
        } else {        /* op(B)(p, j) = b[j * ldb + p]: columns read contiguously */
            for (int c = 0; c < NR; c++) {
                if (c < cols) {
                    const float *src = b + (size_t)(j0 + jr + c) * ldb + p0;
                    for (int p = 0; p < kc; p++) panel[(size_t)p * NR + c] = src[p];
                } else {
                    for (int p = 0; p < kc; p++) panel[(size_t)p * NR + c] = 0.0f;
                }
            }
        }
    }
}

/* tile (MR x NR) = A panel (kc x MR) . B panel (kc x NR). */
static void micro_kernel(int kc, const float *restrict ap, const float *restrict bp, float *restrict tile)
{
    __m512 acc[MR][NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++) {
        __m512 bv[NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) bv[v] = _mm512_load_ps(bp + 16 * v);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            const __m512 ar = _mm512_set1_ps(ap[r]);
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
        }
        ap += MR;
        bp += NR;
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) _mm512_store_ps(tile + r * NR + 16 * v, acc[r][v]);
}

/* C[rows x cols] = alpha * tile + beta * C (beta == 0: C is not read). */
static void store_tile(const float *tile, int rows, int cols, float alpha, float beta, float *c, int ldc)
{
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < rows; r++) {
        float *crow = c + (size_t)r * ldc;
        for (int c0 = 0; c0 < cols; c0 += 16) {
            const int w = cols - c0 < 16 ? cols - c0 : 16;
            const __mmask16 m = (__mmask16)(w == 16 ? 0xFFFFu : (1u << w) - 1u);
            __m512 x = _mm512_mul_ps(va, _mm512_load_ps(tile + r * NR + c0));
            if (beta != 0.0f) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, crow + c0), x);
            _mm512_mask_storeu_ps(crow + c0, m, x);
        }
    }
}

int ganc_sgemm_avx512(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc)
{
    if (pack_buffers()) return -1;
    if (k <= 0) { /* no products: C = beta * C */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
        return 0;
    }
    _Alignas(64) float tile[MR * NR];
    for (int jc = 0; jc < n; jc += NC) {
        const int nc = n - jc < NC ? n - jc : NC;
        for (int pc = 0; pc < k; pc += KC) {
            const int kc = k - pc < KC ? k - pc : KC;
            const float beta_blk = pc == 0 ? beta : 1.0f;
            pack_b_block(trans_b, b, ldb, pc, kc, jc, nc, pack_b);
            for (int ic = 0; ic < m; ic += MC) {
                const int mc = m - ic < MC ? m - ic : MC;
                pack_a_block(trans_a, a, lda, ic, mc, pc, kc, pack_a);
                for (int jr = 0; jr < nc; jr += NR) {
                    const int cols = nc - jr < NR ? nc - jr : NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        const int rows = mc - ir < MR ? mc - ir : MR;
                        micro_kernel(kc, pack_a + (size_t)ir * kc, pack_b + (size_t)jr * kc, tile);
                        store_tile(tile, rows, cols, alpha, beta_blk, c + (size_t)(ic + ir) * ldc + jc + jr, ldc);
                    }
                }
            }
        }
    }
    return 0;
}

#endif
