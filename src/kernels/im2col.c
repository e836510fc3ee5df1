/* im2col / col2im for square kernels with independent padding on each side. Rows of col are
 * `ld` floats apart, so a whole batch can share one col matrix (sample i at column i*oh*ow)
 * and one GEMM. Out-of-range
 * input positions read as zero (im2col) and are dropped (col2im), which also covers a
 * transposed convolution's cropping and output padding. */
#include "ganc_internal.h"

#include <string.h>

void ganc_im2col(const ganc_conv_geom *g, const float *x, float *col, size_t ld)
{
    const int k = g->k, s = g->stride, oh = g->oh, ow = g->ow;
    const size_t plane = ld;
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

void ganc_col2im(const ganc_conv_geom *g, const float *col, float *x, size_t ld)
{
    const int k = g->k, s = g->stride, oh = g->oh, ow = g->ow;
    const size_t plane = ld;
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

void ganc_nchw_to_cnp(const float *x, float *out, int n, int c, size_t p)
{
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)n * c * p > 32768)
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < n; i++)
            memcpy(out + ((size_t)ch * n + i) * p, x + ((size_t)i * c + ch) * p, sizeof(float) * p);
}

void ganc_cnp_to_nchw(const float *in, float *x, int n, int c, size_t p)
{
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)n * c * p > 32768)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            memcpy(x + ((size_t)i * c + ch) * p, in + ((size_t)ch * n + i) * p, sizeof(float) * p);
}

int ganc_conv_chunk(size_t rows, size_t plane)
{
    const size_t target = (size_t)1 << 18, per_sample = rows * plane;
    const size_t chunk = per_sample ? target / per_sample : target;
    return chunk < 1 ? 1 : chunk > 65536 ? 65536 : (int)chunk;
}
