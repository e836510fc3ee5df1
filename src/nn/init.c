/* Initialisers shared by layers. PyTorch's default for Linear/Conv weights is
 * kaiming_uniform(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound
 * for biases; layers pass fan_in as PyTorch computes it. */
#include "ganc_internal.h"

#include <math.h>

void ganc_init_torch_uniform(float *w, size_t n, int fan_in, ganc_rng *rng)
{
    const float bound = fan_in > 0 ? (float)(1.0 / sqrt((double)fan_in)) : 0.0f;
    ganc_rng_uniform(rng, w, n, -bound, bound);
}
