/* GELU in its exact form, as torch.nn.GELU(): y = x Phi(x), Phi the standard normal CDF,
 * Phi(x) = (1 + erf(x / sqrt 2)) / 2. Its derivative is Phi(x) + x phi(x), phi(x) =
 * exp(-x^2 / 2) / sqrt(2 pi) the normal density. */
#include "kernels/vmath.h"
#include "layers/elementwise.h"

#include <math.h>

static inline float normal_cdf(float v) { return 0.5f * (1.0f + erff(v * 0.70710678118654752f)); }

static inline float normal_pdf(float v)
{
    return (ganc_expm1_neg(-0.5f * v * v) + 1.0f) * 0.39894228040143268f; /* exp(-v^2/2) / sqrt(2 pi) */
}

GANC_ELEMENTWISE(gelu, NULL, v * normal_cdf(v), normal_cdf(v) + v * normal_pdf(v))
