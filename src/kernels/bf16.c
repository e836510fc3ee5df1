/* bf16 products: op(A) and op(B) rounded to bfloat16, the products summed in fp32 (PyTorch's
 * CPU autocast to bfloat16 does the same for its matrix products).
 *
 * Paths, chosen once by CPUID (kernels/cpu_features.c): AMX-BF16 tiles, else AVX512-BF16
 * (vdpbf16ps), else the emulation here. The emulation rounds blocks of op(A) and op(B) into
 * this thread's scratch and hands them to the fp32 GEMM: a product of two bfloat16 values has
 * at most 16 significant bits, so the fp32 kernels multiply them exactly and only the sums
 * round, as on the hardware paths (whose order of summation differs: their results may differ
 * in the last bits of the sum). The blocks over K are GANC_BF16_KC long from K's start
 * whatever the split over threads, so a value of C is the same however many threads made it. */
#include "ganc_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

void ganc_bf16_round(const float *src, float *dst, size_t n)
{
    /* branch-free (ganc_bf16_round1), so that the compiler vectorises it */
    for (size_t i = 0; i < n; i++) dst[i] = ganc_bf16_round1(src[i]);
}

/* ---- which path ---- */

/* GANC_BF16_PATHS: not chosen yet (the best available on first use) */
static _Atomic int chosen = GANC_BF16_PATHS;

int ganc_bf16_available(ganc_bf16_path path)
{
    switch (path) {
    case GANC_BF16_EMULATED: return 1;
#ifdef GANC_BF16_KERNELS
    case GANC_BF16_AVX512: return ganc_cpu_avx512bf16();
    case GANC_BF16_AMX: return ganc_cpu_amx_bf16();
#endif
    default: return 0;
    }
}

ganc_bf16_path ganc_bf16_current(void)
{
    int path = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (path == GANC_BF16_PATHS) {
        /* GANC_BF16=emulated: the emulation even where the CPU has more (benchmarks, checks) */
        const char *e = getenv("GANC_BF16");
        path = e && !strcmp(e, "emulated")          ? GANC_BF16_EMULATED
               : ganc_bf16_available(GANC_BF16_AMX) ? GANC_BF16_AMX
               : ganc_bf16_available(GANC_BF16_AVX512) ? GANC_BF16_AVX512
                                                        : GANC_BF16_EMULATED;
        atomic_store_explicit(&chosen, path, memory_order_relaxed);
    }
    return (ganc_bf16_path)path;
}

int ganc_bf16_use(ganc_bf16_path path)
{
    if (path < 0 || path >= GANC_BF16_PATHS || !ganc_bf16_available(path)) return -1;
    atomic_store_explicit(&chosen, path, memory_order_relaxed);
    return 0;
}

const char *ganc_bf16_path_name(ganc_bf16_path path)
{
    static const char *const names[] = {"emulated", "AVX512-BF16", "AMX-BF16"};
    return path >= 0 && path < GANC_BF16_PATHS ? names[path] : "?";
}

const char *ganc_bf16_kernels(void) { return ganc_bf16_path_name(ganc_bf16_current()); }
/* the path in use, not the CPU's best: GANC_BF16=emulated makes auto choose fp32 */
int ganc_bf16_hardware(void) { return ganc_bf16_current() != GANC_BF16_EMULATED; }

#ifdef GANC_BF16_KERNELS
/* ---- the hardware kernels' packing ---- */

static inline uint32_t bf16_bits(float x)
{
    const float r = ganc_bf16_round1(x);
    uint32_t u;
    memcpy(&u, &r, sizeof u);
    return u >> 16;
}

/* op(X)[r][p], op(X) being X or its transpose */
static inline float at(const float *x, int ld, int trans, int r, int p)
{
    return trans ? x[(size_t)p * ld + r] : x[(size_t)r * ld + p];
}

/* op(X)[r][p0 + 2q], op(X)[r][p0 + 2q + 1] as one lane, zero past kb */
static inline uint32_t pair(const float *x, int ld, int trans, int r, int p0, int q, int kb)
{
    const int p = 2 * q;
    const uint32_t lo = p < kb ? bf16_bits(at(x, ld, trans, r, p0 + p)) : 0;
    const uint32_t hi = p + 1 < kb ? bf16_bits(at(x, ld, trans, r, p0 + p + 1)) : 0;
    return lo | hi << 16;
}

void ganc_bf16_pack_a(const float *a, int lda, int trans_a, int i0, int valid, int rows, int p0, int kb, int pairs,
                      uint32_t *dst)
{
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < pairs; q++)
            dst[(size_t)r * pairs + q] = r < valid ? pair(a, lda, trans_a, i0 + r, p0, q, kb) : 0;
}

void ganc_bf16_pack_b(const float *b, int ldb, int trans_b, int j0, int valid, int ld, int p0, int kb, int pairs,
                      uint32_t *dst)
{
    /* op(B)[p][j] = trans_b ? B[j][p] : B[p][j]: column j of op(B) is row j of op(B)'s transpose */
    for (int q = 0; q < pairs; q++)
        for (int j = 0; j < ld; j++)
            dst[(size_t)q * ld + j] = j < valid ? pair(b, ldb, !trans_b, j0 + j, p0, q, kb) : 0;
}
#endif

/* ---- the emulation ---- */

/* rows x cols of src (ld apart) rounded into dst, rows cols apart */
static void round_block(const float *src, int ld, int rows, int cols, float *dst)
{
    for (int r = 0; r < rows; r++) ganc_bf16_round(src + (size_t)r * ld, dst + (size_t)r * cols, (size_t)cols);
}

/* op(A) and op(B) in blocks of at most MC x KC and KC x NC, each block rounded once in the
 * layout it has in memory (a row copy, whatever the transposes) and multiplied by the fp32
 * GEMM, which adds each K block to C (beta on the first only). */
static void emulated_blocked(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                             int ldb, float beta, float *c, int ldc, float *scratch)
{
    float *as = scratch, *bs = scratch + (size_t)GANC_BF16_MC * GANC_BF16_KC;
    for (int j0 = 0; j0 < n; j0 += GANC_BF16_NC) {
        const int nb = n - j0 < GANC_BF16_NC ? n - j0 : GANC_BF16_NC;
        for (int p0 = 0; p0 < k; p0 += GANC_BF16_KC) {
            const int kb = k - p0 < GANC_BF16_KC ? k - p0 : GANC_BF16_KC;
            if (!tb) round_block(b + (size_t)p0 * ldb + j0, ldb, kb, nb, bs);
            else round_block(b + (size_t)j0 * ldb + p0, ldb, nb, kb, bs);
            for (int i0 = 0; i0 < m; i0 += GANC_BF16_MC) {
                const int mb = m - i0 < GANC_BF16_MC ? m - i0 : GANC_BF16_MC;
                if (!ta) round_block(a + (size_t)i0 * lda + p0, lda, mb, kb, as);
                else round_block(a + (size_t)p0 * lda + i0, lda, kb, mb, as);
                ganc_sgemm_serial(ta, tb, mb, nb, kb, alpha, as, ta ? mb : kb, bs, tb ? kb : nb, p0 ? 1.0f : beta,
                                  c + (size_t)i0 * ldc + j0, ldc);
            }
        }
    }
}

/* Without scratch (it could not be allocated): the same rounding element by element, slowly;
 * the sums then run in one sequence over K, which may differ in the last bits. */
static void emulated_plain(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                           int ldb, float beta, float *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int p = 0; p < k; p++) {
                const float x = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                const float y = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                acc += ganc_bf16_round1(x) * ganc_bf16_round1(y);
            }
            float *cij = c + (size_t)i * ldc + j;
            *cij = beta == 0.0f ? alpha * acc : alpha * acc + beta * *cij;
        }
}

void ganc_sgemm_bf16_serial(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                            const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0) { /* nothing to round: C = beta C */
        ganc_sgemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
#ifdef GANC_BF16_KERNELS
    switch (ganc_bf16_current()) {
    case GANC_BF16_AMX:
        if (ganc_sgemm_bf16_amx(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0) return;
        break;
    case GANC_BF16_AVX512:
        if (ganc_sgemm_bf16_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0) return;
        break;
    default: break;
    }
#endif
    float *scratch = ganc_bf16_scratch();
    if (scratch) emulated_blocked(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, scratch);
    else emulated_plain(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ganc_sgemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc)
{
    ganc_sgemm_split(ganc_sgemm_bf16_serial, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
