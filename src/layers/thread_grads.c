/* Per-thread gradient partials of the convolutions, summed into the layer's gradient. */
#include "ganc_internal.h"

#include <string.h>

void ganc_part_grads(ganc_layer *L, const ganc_pass *p, size_t offset, int t, float *dw_all, float **dw, float **db)
{
    *dw = *db = NULL;
    if (!dw_all) return;
    if (t == 0) {
        *dw = dw_all;
        *db = L->dbias;
        return;
    }
    *dw = p->work + (size_t)t * L->n_work + offset;
    *db = *dw + L->n_weight;
    memset(*dw, 0, sizeof(float) * (L->n_weight + L->n_bias));
}

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
