/* One threading layer: OpenMP when the build has it. OpenBLAS, when linked, is kept to one
 * thread per call site inside our parallel regions (see kernels/gemm.c). */
#include "ganc_internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static int thread_count;

void ganc_set_threads(int n)
{
#ifdef _OPENMP
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
    thread_count = n;
#else
    (void)n;
    thread_count = 1;
#endif
}

int ganc_threads(void)
{
#ifdef _OPENMP
    /* unset: what ganc_set_threads(0) would choose, not OMP_NUM_THREADS */
    return thread_count > 0 ? thread_count : omp_get_num_procs();
#else
    return 1;
#endif
}

int ganc_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

int ganc_team_size(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}
