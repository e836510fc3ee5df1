/* im2col / col2im for square kernels with independent padding on each side. Out-of-range
 * input positions read as zero (im2col) and are dropped (col2im), which also covers a
 * transposed convolution's cropping and output padding. */
#include "ganc_internal.h"

#include <string.h>

void ganc_im2col(const ganc_conv_geom *g, const float *x, float *col)
{
    const int k = g->k, s = g->stride, oh = g->oh, ow = g->ow;
    const size_t plane = (size_t)oh * ow;
    for (int ci = 0; ci < g->c; ci++) {
        const float *xc = x + (size_t)ci * g->h * g->w;
        for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
                float *row = col + ((size_t)(ci * k + ky) * k + kx) * plane;
                for (int oy = 0; oy < oh; oy++) {
                    const int iy = oy * s + ky - g->pad_t;
                    float *dst = row + (size_t)oy * ow;
                    if (iy < 0 || iy >= g->h) {
                        memset(dst, 0, sizeof(float) * (size_t)ow);
                        continue;
                    }
                    const float *src = xc + (size_t)iy * g->w;
                    for (int ox = 0; ox < ow; ox++) {
                        const int ix = ox * s + kx - g->pad_l;
                        dst[ox] = (ix >= 0 && ix < g->w) ? src[ix] : 0.0f;
                    }
                }
            }
        }
    }
}

void ganc_col2im(const ganc_conv_geom *g, const float *col, float *x)
{
    const int k = g->k, s = g->stride, oh = g->oh, ow = g->ow;
    const size_t plane = (size_t)oh * ow;
    for (int ci = 0; ci < g->c; ci++) {
        float *xc = x + (size_t)ci * g->h * g->w;
        for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
                const float *row = col + ((size_t)(ci * k + ky) * k + kx) * plane;
                for (int oy = 0; oy < oh; oy++) {
                    const int iy = oy * s + ky - g->pad_t;
                    if (iy < 0 || iy >= g->h) continue;
                    const float *src = row + (size_t)oy * ow;
                    float *dst = xc + (size_t)iy * g->w;
                    for (int ox = 0; ox < ow; ox++) {
                        const int ix = ox * s + kx - g->pad_l;
                        if (ix >= 0 && ix < g->w) dst[ix] += src[ox];
                    }
                }
            }
        }
    }
}
