/* Vectorisable elementary functions for activations. glibc's expm1f/expf are scalar calls
 * (~10 ns each), which made ELU's forward cost more than the convolution before it.
 *
 * ganc_expm1_neg(x) = exp(x) - 1 for x <= 0, to within 2 ulp (checked against expm1 in
 * tests/test_core.c): x = k ln2 + r with |r| <= ln2/2, expm1(r) from its Taylor series to
 * r^8 (truncation below 1e-8 relative), then exp(x) - 1 = 2^k expm1(r) + (2^k - 1), which
 * keeps full relative accuracy near 0 (k = 0) and never subtracts nearly equal numbers. */
#ifndef GANC_VMATH_H
#define GANC_VMATH_H

#include <stdint.h>
#include <string.h>

static inline float ganc_expm1_neg(float x)
{
    if (!(x > -87.0f)) x = -87.0f; /* exp(-87) - 1 == -1 in float; also maps NaN to -1 */
    const float k = __builtin_rintf(x * 1.44269504088896341f);
    const float r = (x - k * 0.693145751953125f) - k * 1.428606765330187e-06f;
    float p = 1.0f / 40320.0f;
    p = p * r + 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r; /* expm1(r) */
    const int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale); /* 2^k */
    return scale * p + (scale - 1.0f);
}

#endif
