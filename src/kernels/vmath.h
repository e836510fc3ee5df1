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

/* c ? p : q as a blend of bits: the same value, bit for bit, without a branch. GCC (under its
 * default -ftrapping-math) does not if-convert a ?: whose arm may trap, such as a * v, nor
 * dy * (c ? 1 : a), which it rewrites into one; such loops stayed scalar, with a branch per
 * value that mispredicts on every other sign change. With both arms computed and blended,
 * they vectorise.
 * (A ?: feeding arithmetic is as bad: GCC moves the arithmetic into both arms.) */
static inline float ganc_select(int c, float p, float q)
{
    uint32_t bp, bq;
    memcpy(&bp, &p, sizeof bp);
    memcpy(&bq, &q, sizeof bq);
    const uint32_t m = 0u - (uint32_t)(c != 0), r = (bp & m) | (bq & ~m);
    float out;
    memcpy(&out, &r, sizeof out);
    return out;
}

static inline float ganc_expm1_neg(float x)
{
    x = ganc_select(x > -87.0f, x, -87.0f); /* exp(-87) - 1 == -1 in float; also maps NaN to -1 */
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
