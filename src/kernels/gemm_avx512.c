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

enum {
    MR = 8,         /* rows of a register tile */
    NV = 3,         /* zmm vectors across a tile row */
    NR = 16 * NV,   /* columns of a register tile */
    KC = 256,       /* depth of the packed slices: an NR panel of B is 48 KB */
    MC = 96,        /* rows of A packed at a time (96 x 256 floats: 96 KB, in L2) */
    NC = 1536       /* columns of B packed at a time (256 x 1536 floats: 1.5 MB) */
};

/* The packing buffers are the thread's kernel scratch (kernels/scratch.c): allocated on its
 * first product and kept (the same threads run every step; nothing is allocated per step),
 * freed by ganc_shutdown. A is packed at its start, B after it (MC * KC floats: 64-byte aligned). */
_Static_assert((size_t)MC * KC + (size_t)KC * NC <= GANC_KERNEL_SCRATCH_FLOATS, "packed A and B fit the scratch");
_Static_assert(MC * KC % 16 == 0, "packed B starts 64-byte aligned");

/* panel[p * stride] = src[p] for p < kc, or 0 where src is NULL (a ragged edge): one row of
 * A, or one column of a transposed B, into its place in a p-major panel. */
static void copy_strided(float *panel, int stride, const float *src, int kc)
{
    if (src)
        for (int p = 0; p < kc; p++) panel[(size_t)p * stride] = src[p];
    else
        for (int p = 0; p < kc; p++) panel[(size_t)p * stride] = 0.0f;
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
            for (int r = 0; r < MR; r++)
                copy_strided(panel + r, MR, r < rows ? a + (size_t)(i0 + ir + r) * lda + p0 : NULL, kc);
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
            for (int c = 0; c < NR; c++)
                copy_strided(panel + c, NR, c < cols ? b + (size_t)(j0 + jr + c) * ldb + p0 : NULL, kc);
        }
    }
}

/* tile (MR x 16*nv) = A panel (kc x MR) . the first 16*nv columns of a B panel (kc x NR),
 * for the ragged last panels (nv = 1 or 2, a constant at each call site, so the compiler
 * builds one register-resident kernel per width: e.g. 6 of 294 columns cost one vector per
 * row, not three). Full-width panels run kernel_8x48 below. */
static inline __attribute__((always_inline)) void micro_kernel(int nv, int kc, const float *restrict ap,
                                                               const float *restrict bp, float *restrict tile)
{
    __m512 acc[MR][NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) acc[r][v] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++) {
        __m512 bv[NV];
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) bv[v] = _mm512_load_ps(bp + 16 * v);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            const __m512 ar = _mm512_set1_ps(ap[r]);
#pragma GCC unroll 3
            for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
        }
        ap += MR;
        bp += NR;
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) _mm512_store_ps(tile + r * NR + 16 * v, acc[r][v]);
}

/* The full 8 x 48 tile, which nearly all products run, written out: GCC's allocation of the
 * intrinsic kernel above kept one of the three B vectors on the stack and shuffled
 * accumulators between registers in every step (perf annotate: a fifth of the kernel's time
 * on one stalled FMA). Here the 24 accumulators live in zmm8-31, B's three vectors in zmm0-2,
 * and the eight broadcasts of A rotate through zmm3-7. */
#define ZERO3(x, y, z) "vpxord %%zmm" #x ", %%zmm" #x ", %%zmm" #x "\n\t"                     \
                       "vpxord %%zmm" #y ", %%zmm" #y ", %%zmm" #y "\n\t"                     \
                       "vpxord %%zmm" #z ", %%zmm" #z ", %%zmm" #z "\n\t"
#define ROW(off, br, x, y, z) "vbroadcastss " #off "(%[a]), %%zmm" #br "\n\t"                \
                              "vfmadd231ps %%zmm" #br ", %%zmm0, %%zmm" #x "\n\t"             \
                              "vfmadd231ps %%zmm" #br ", %%zmm1, %%zmm" #y "\n\t"             \
                              "vfmadd231ps %%zmm" #br ", %%zmm2, %%zmm" #z "\n\t"
#define STORE3(off, x, y, z) "vmovaps %%zmm" #x ", " #off "(%[t])\n\t"                         \
                             "vmovaps %%zmm" #y ", 64+" #off "(%[t])\n\t"                      \
                             "vmovaps %%zmm" #z ", 128+" #off "(%[t])\n\t"

static void kernel_8x48(int kc, const float *ap, const float *bp, float *tile)
{
    long steps = kc;
    __asm__ volatile(ZERO3(8, 9, 10) ZERO3(11, 12, 13) ZERO3(14, 15, 16) ZERO3(17, 18, 19)
                     ZERO3(20, 21, 22) ZERO3(23, 24, 25) ZERO3(26, 27, 28) ZERO3(29, 30, 31)
                     "test %[n], %[n]\n\t"
                     "jle 2f\n\t"
                     "1:\n\t"
                     "vmovaps (%[b]), %%zmm0\n\t"
                     "vmovaps 64(%[b]), %%zmm1\n\t"
                     "vmovaps 128(%[b]), %%zmm2\n\t"
                     ROW(0, 3, 8, 9, 10) ROW(4, 4, 11, 12, 13) ROW(8, 5, 14, 15, 16) ROW(12, 6, 17, 18, 19)
                     ROW(16, 7, 20, 21, 22) ROW(20, 3, 23, 24, 25) ROW(24, 4, 26, 27, 28) ROW(28, 5, 29, 30, 31)
                     "add $32, %[a]\n\t"
                     "add $192, %[b]\n\t"
                     "dec %[n]\n\t"
                     "jnz 1b\n\t"
                     "2:\n\t"
                     STORE3(0, 8, 9, 10) STORE3(192, 11, 12, 13) STORE3(384, 14, 15, 16) STORE3(576, 17, 18, 19)
                     STORE3(768, 20, 21, 22) STORE3(960, 23, 24, 25) STORE3(1152, 26, 27, 28)
                     STORE3(1344, 29, 30, 31)
                     : [a] "+r"(ap), [b] "+r"(bp), [n] "+r"(steps)
                     : [t] "r"(tile)
                     : "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10",
                       "zmm11", "zmm12", "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "zmm18", "zmm19", "zmm20",
                       "zmm21", "zmm22", "zmm23", "zmm24", "zmm25", "zmm26", "zmm27", "zmm28", "zmm29", "zmm30",
                       "zmm31", "memory", "cc");
}
#undef ZERO3
#undef ROW
#undef STORE3

static void micro_kernel_cols(int cols, int kc, const float *ap, const float *bp, float *tile)
{
    if (cols > 32) kernel_8x48(kc, ap, bp, tile);
    else if (cols > 16) micro_kernel(2, kc, ap, bp, tile);
    else micro_kernel(1, kc, ap, bp, tile);
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
    float *const pack_a = ganc_kernel_scratch();
    if (!pack_a) return -1;
    float *const pack_b = pack_a + (size_t)MC * KC;
    if (k <= 0) { /* no products: C = beta * C */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
        return 0;
    }
    _Alignas(64) float tile[MR * NR];
    for (int jc = 0; jc < n; jc += NC) {
        const int nc = n - jc < NC ? n - jc : NC;
        /* equal slices of at most KC (800 = 4 x 200, not 3 x 256 + 32): a thin last slice
         * would pay a whole tile's stores for a few products */
        const int slices = (k + KC - 1) / KC, slice = (k + slices - 1) / slices;
        for (int pc = 0; pc < k; pc += slice) {
            const int kc = k - pc < slice ? k - pc : slice;
            const float beta_blk = pc == 0 ? beta : 1.0f;
            pack_b_block(trans_b, b, ldb, pc, kc, jc, nc, pack_b);
            for (int ic = 0; ic < m; ic += MC) {
                const int mc = m - ic < MC ? m - ic : MC;
                pack_a_block(trans_a, a, lda, ic, mc, pc, kc, pack_a);
                for (int jr = 0; jr < nc; jr += NR) {
                    const int cols = nc - jr < NR ? nc - jr : NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        const int rows = mc - ir < MR ? mc - ir : MR;
                        micro_kernel_cols(cols, kc, pack_a + (size_t)ir * kc, pack_b + (size_t)jr * kc, tile);
                        store_tile(tile, rows, cols, alpha, beta_blk, c + (size_t)(ic + ir) * ldc + jc + jr, ldc);
                    }
                }
            }
        }
    }
    return 0;
}

#endif
