/* Initialisers shared by layers. PyTorch's default for Linear/Conv weights is
 * kaiming_uniform(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound
 * for biases; layers pass fan_in as PyTorch computes it. */
#include "ganc_internal.h"

#include <math.h>

static void torch_uniform(float *w, size_t n, int fan_in, ganc_rng *rng)
{
    const float bound = fan_in > 0 ? (float)(1.0 / sqrt((double)fan_in)) : 0.0f;
    ganc_rng_uniform(rng, w, n, -bound, bound);
}

void ganc_init_weighted(ganc_layer *L, ganc_init_scheme scheme, int fan_in, ganc_rng *rng)
{
    if (scheme == GANC_INIT_DCGAN) {
        ganc_rng_normal(rng, L->weight, L->n_weight, 0.0f, 0.02f);
        for (size_t i = 0; i < L->n_bias; i++) L->bias[i] = 0.0f;
    } else {
        torch_uniform(L->weight, L->n_weight, fan_in, rng);
        if (L->n_bias) torch_uniform(L->bias, L->n_bias, fan_in, rng);
    }
    ganc_sn_init(L, rng);
}
