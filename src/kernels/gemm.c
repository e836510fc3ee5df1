/* Single-precision GEMM: our blocked kernels when the build targets AVX-512
 * (kernels/gemm_avx512.c) or AVX2 + FMA (kernels/gemm_avx2.c), else OpenBLAS when the build found it (GANC_HAVE_OPENBLAS), else a
 * portable loop nest that the compiler vectorises. GANC_GEMM=blas in the environment picks
 * the second path even on AVX-512 builds, so that benchmarks and tests can set them side by
 * side. Row-major throughout.
 *
 * One threading layer: OpenMP. OpenBLAS is kept single-threaded and the product is split
 * into column (or row) blocks, one per OpenMP thread. Letting OpenBLAS's own pthreads run
 * beside OpenMP's spinning workers made training 4x slower on 2 cores. */
#include "ganc_internal.h"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#define GANC_OWN_GEMM 1
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef GANC_HAVE_OPENBLAS
#include <cblas.h>
#include <pthread.h>

static void gemm_block(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
                alpha, a, lda, b, ldb, beta, c, ldc);
}

#else

static void gemm_block(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc)
{
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

#ifdef GANC_OWN_GEMM
/* 1: our AVX-512 or AVX2 kernels, 2: gemm_block; read from GANC_GEMM on first use. */
static _Atomic int gemm_path;

static int own_kernels(void)
{
    int path = atomic_load_explicit(&gemm_path, memory_order_relaxed);
    if (!path) {
        const char *e = getenv("GANC_GEMM");
        path = e && strcmp(e, "blas") == 0 ? 2 : 1;
        atomic_store_explicit(&gemm_path, path, memory_order_relaxed);
    }
    return path == 1;
}
#endif

int ganc_sgemm_own_kernels(int use)
{
#ifdef GANC_OWN_GEMM
    if (use >= 0) atomic_store_explicit(&gemm_path, use ? 1 : 2, memory_order_relaxed);
    return own_kernels();
#else
    (void)use;
    return 0;
#endif
}

const char *ganc_sgemm_own_name(void)
{
#if defined(__AVX512F__)
    return "AVX-512";
#elif defined(GANC_OWN_GEMM)
    return "AVX2";
#else
    return NULL;
#endif
}

static void gemm_any(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc)
{
#if defined(__AVX512F__)
    if (own_kernels() && ganc_sgemm_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0)
        return;
#elif defined(GANC_OWN_GEMM)
    if (own_kernels() && ganc_sgemm_avx2(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0)
        return;
#endif
    gemm_block(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* Once per process, by whichever thread gets here first while the others wait: a plain flag
 * read and written by the threads of a parallel region, each making its first product, was a
 * data race (ThreadSanitizer reports it), and openblas_set_num_threads is not meant to be
 * called by several threads at once. */
#ifdef GANC_HAVE_OPENBLAS
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static void blas_set_single(void) { openblas_set_num_threads(1); }
#endif

void ganc_blas_single_thread(void)
{
#ifdef GANC_HAVE_OPENBLAS
    pthread_once(&blas_once, blas_set_single);
#endif
}

size_t ganc_sgemm_packed_floats(int m, int k)
{
#if defined(GANC_OWN_GEMM) && !defined(__AVX512F__)
    return ganc_sgemm_avx2_packed_floats(m, k);
#else
    (void)m;
    (void)k;
    return 0;
#endif
}

int ganc_sgemm_packing(void)
{
#if defined(GANC_OWN_GEMM) && !defined(__AVX512F__)
    return own_kernels();
#else
    return 0;
#endif
}

void ganc_sgemm_pack_a(int trans_a, int m, int k, const float *a, int lda, float *dst)
{
#if defined(GANC_OWN_GEMM) && !defined(__AVX512F__)
    ganc_sgemm_avx2_pack_a(trans_a, m, k, a, lda, dst);
#else
    (void)trans_a, (void)m, (void)k, (void)a, (void)lda, (void)dst;
#endif
}

void ganc_sgemm_packed(const float *packed, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                       int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0) return;
#if defined(GANC_OWN_GEMM) && !defined(__AVX512F__)
    if (packed && ganc_sgemm_avx2_packed(packed, trans_b, m, n, k, alpha, b, ldb, beta, c, ldc) == 0) return;
#else
    (void)packed;
#endif
    ganc_sgemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ganc_sgemm_serial(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0) return;
    ganc_blas_single_thread();
    gemm_any(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ganc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc)
{
    ganc_sgemm_split(ganc_sgemm_serial, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* Each part is a product of its own (`serial`, which calls ganc_blas_single_thread itself), so
 * a value of C is computed the same way whatever the split. */
void ganc_sgemm_split(ganc_sgemm_fn *serial, int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0) return;
    int threads = 1;
#ifdef _OPENMP
    if ((double)m * n * k > 2e5 && !omp_in_parallel()) threads = ganc_threads();
#endif
    ganc_blas_single_thread();
    if (threads <= 1) {
        serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    /* Split the longer of C's dimensions into blocks that are multiples of 16. */
    const int split_cols = n >= m;
    const int len = split_cols ? n : m;
    int chunk = (len + threads - 1) / threads;
    chunk = (chunk + 15) / 16 * 16;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int t = 0; t < threads; t++) {
        const int lo = t * chunk, hi = lo + chunk < len ? lo + chunk : len;
        if (lo >= hi) continue;
        if (split_cols) {
            const float *bb = trans_b ? b + (size_t)lo * ldb : b + lo;
            serial(trans_a, trans_b, m, hi - lo, k, alpha, a, lda, bb, ldb, beta, c + lo, ldc);
        } else {
            const float *aa = trans_a ? a + lo : a + (size_t)lo * lda;
            serial(trans_a, trans_b, hi - lo, n, k, alpha, aa, lda, b, ldb, beta, c + (size_t)lo * ldc, ldc);
        }
    }
}
