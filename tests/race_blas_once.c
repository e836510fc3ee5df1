/* The one-time OpenBLAS set-up (ganc_blas_single_thread: OpenBLAS kept to one thread) raced by
 * several threads at once, as the threads of a convolution's parallel region do on a run's first
 * step. Built and run by `make tsan` under ThreadSanitizer, which fails the run on any report: a
 * flag read and written by the threads without synchronisation (the set-up before pthread_once)
 * is reported as a data race whatever the timing, since TSan tracks happens-before, not luck.
 *
 * The threads are plain pthreads, not OpenMP: libgomp is not built for TSan, so its regions
 * would hide the threads' ordering from it. Each thread makes its first GEMM products (the serial
 * one the layers' parts call, and the splitting one) and its first LAPACK eigendecomposition (the
 * metrics' path, which had its own copy of the flag) right after a barrier; the results are then
 * checked against a product written out and a matrix whose eigenvalues are known. */
#include "check.h"
#include "eval/metrics.h"
#include "ganc_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { THREADS = 4, M = 5, N = 7, K = 3 };

typedef struct {
    float c_serial[M * N], c_split[M * N];
    double w[3];
    int eig_rc;
    char err[GANC_ERR_LEN];
} thread_out;

static pthread_barrier_t start;
static float a[M * K], b[K * N];
/* [[2 1 0] [1 2 0] [0 0 5]]: eigenvalues 1, 3 and 5. */
static const double sym[9] = {2, 1, 0, 1, 2, 0, 0, 0, 5};

static void *first_products(void *arg)
{
    thread_out *o = arg;
    pthread_barrier_wait(&start);
    ganc_sgemm_serial(0, 0, M, N, K, 1.0f, a, K, b, N, 0.0f, o->c_serial, N);
    ganc_sgemm(0, 0, M, N, K, 1.0f, a, K, b, N, 0.0f, o->c_split, N);
    return NULL;
}

static void *first_eigensolves(void *arg)
{
    thread_out *o = arg;
    pthread_barrier_wait(&start);
    o->eig_rc = ganc_eig_sym(3, sym, o->w, NULL, GANC_EIG_LAPACK, o->err);
    return NULL;
}

/* THREADS threads running fn on out[], started together; exits when one cannot start. */
static void race(void *(*fn)(void *), thread_out *out)
{
    pthread_t tid[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (int t = 0; t < THREADS; t++)
        if (pthread_create(&tid[t], NULL, fn, &out[t]) != 0) {
            fprintf(stderr, "race_blas_once: cannot start thread %d\n", t);
            exit(2);
        }
    for (int t = 0; t < THREADS; t++) pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&start);
}

int main(void)
{
#ifndef GANC_HAVE_OPENBLAS
    /* The set-up under test exists only with OpenBLAS: passing here would prove nothing. */
    CHECK(0, "this build has no OpenBLAS (libopenblas-dev), whose one-time set-up this test races");
    return check_finish("race_blas_once");
#endif
    CHECK(ganc_eig_have_lapack(), "OpenBLAS without LAPACK: the metrics' eigensolver path is not raced");
    for (int i = 0; i < M * K; i++) a[i] = (float)(i % 4) - 1.5f;
    for (int i = 0; i < K * N; i++) b[i] = 0.25f * (float)(i % 5) - 0.5f;
    float want[M * N];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int p = 0; p < K; p++) s += (double)a[i * K + p] * b[p * N + j];
            want[i * N + j] = (float)s;
        }

    static thread_out out[THREADS];
    race(first_products, out);
    race(first_eigensolves, out);

    const double eig_want[3] = {1, 3, 5};
    for (int t = 0; t < THREADS; t++) {
        check_close("ganc_sgemm_serial", out[t].c_serial, want, M * N, 1e-6);
        check_close("ganc_sgemm", out[t].c_split, want, M * N, 1e-6);
        if (!CHECK(out[t].eig_rc == 0, "thread %d: %s", t, out[t].err)) continue;
        for (int i = 0; i < 3; i++)
            CHECK(fabs(out[t].w[i] - eig_want[i]) < 1e-12, "thread %d: eigenvalue %d is %.17g, want %g", t, i,
                  out[t].w[i], eig_want[i]);
    }
    ganc_shutdown();
    return check_finish("race_blas_once");
}
