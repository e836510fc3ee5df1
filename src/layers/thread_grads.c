/* Per-thread gradient partials of the convolutions, summed into the layer's gradient. */
#include "ganc_internal.h"

void ganc_sum_thread_grads(ganc_layer *L, const ganc_pass *p, size_t offset, int threads, float *dw)
{
    /* called by every thread of the layer's parallel region: all partials must be complete */
#pragma omp barrier
    const size_t total = L->n_weight + L->n_bias;
#pragma omp for schedule(static)
    for (size_t j = 0; j < total; j++) {
        float s = 0.0f;
        for (int u = 1; u < threads; u++) s += p->work[(size_t)u * L->n_work + offset + j];
        if (j < L->n_weight) dw[j] += s;
        else L->dbias[j - L->n_weight] += s;
    }
}
