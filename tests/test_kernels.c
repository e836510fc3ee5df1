/* The compute kernels against independent references.
 *
 * ganc_sgemm against a double-precision triple loop, on shapes chosen to hit every edge of
 * the blocked kernels: ragged register tiles (m, n not multiples of 8 and 48), depths across
 * the 256-deep packing slices, rows across the 96- and 120-row blocks, columns across the
 * 1536- and 2048-column blocks, all four transposes, leading dimensions wider than the
 * matrices, alpha and beta (beta = 0 must ignore NaN in C), and products split over threads.
 * On AVX-512 and AVX2 builds the public entry uses our kernels, which are also checked on
 * their own (no thread split), and then the public entry with them switched off (OpenBLAS);
 * the portable loops are what the builds without OpenBLAS and -march=native run (the plain
 * and valgrind builds).
 *
 * ganc_im2col and ganc_col2im against a direct loop over the definition (written here from
 * the header's formula), on random geometries: strides 1-3 (the vector paths and the scalar
 * one), asymmetric and negative after-padding, ragged widths; col2im's rows also checked to
 * add to what x held (it accumulates). */
#include "check.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one uniform draw in [-1, 1) from the library's Philox (tested on its own in test_core) */
static ganc_rng rng;
static float frand(void)
{
    float v;
    ganc_rng_uniform(&rng, &v, 1, -1.0f, 1.0f);
    return v;
}

typedef int (*gemm_fn)(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static int via_public(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                      int ldb, float beta, float *c, int ldc)
{
    ganc_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return 0;
}

#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
/* The product with op(A) packed first (ganc_sgemm_pack_a, as the convolutions use it for
 * their weights), on builds whose kernels pack. */
static int via_packed(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                      int ldb, float beta, float *c, int ldc)
{
    const size_t floats = ganc_sgemm_packed_floats(m, k);
    float *packed = check_floats(floats);
    ganc_sgemm_pack_a(ta, m, k, a, lda, packed);
    ganc_sgemm_packed(packed, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    free(packed);
    return 0;
}
#endif

/* One product through fn, checked element by element against the double reference with a
 * bound that grows with k (float accumulation of k terms of size <= 1). */
static void one_case(const char *path, gemm_fn fn, int ta, int tb, int m, int n, int k, float alpha, float beta,
                     int pad)
{
    const int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
    const int lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
    float *a = check_floats((size_t)a_rows * lda), *b = check_floats((size_t)b_rows * ldb);
    float *c = check_floats((size_t)m * ldc), *c0 = check_floats((size_t)m * ldc);
    for (size_t i = 0; i < (size_t)a_rows * lda; i++) a[i] = frand();
    for (size_t i = 0; i < (size_t)b_rows * ldb; i++) b[i] = frand();
    for (size_t i = 0; i < (size_t)m * ldc; i++) c0[i] = c[i] = beta == 0.0f ? NAN : frand();
    fn(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    double worst = 0.0;
    int pad_ok = 1;
    const double tol = 1e-6 * (k + 8) * (fabs(alpha) + 1.0);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int p = 0; p < k; p++) {
                const double x = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                const double y = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += x * y;
            }
            const double want = alpha * s + (beta == 0.0f ? 0.0 : beta * (double)c0[(size_t)i * ldc + j]);
            const double err = fabs(c[(size_t)i * ldc + j] - want);
            if (!(err <= worst)) worst = err; /* NaN sticks */
        }
        for (int j = n; j < ldc; j++) /* the padding beyond n is not C's: untouched */
            if (!(c[(size_t)i * ldc + j] == c0[(size_t)i * ldc + j] || (isnan(c[(size_t)i * ldc + j]) && isnan(c0[(size_t)i * ldc + j]))))
                pad_ok = 0;
    }
    CHECK(worst <= tol && pad_ok, "%s gemm ta=%d tb=%d m=%d n=%d k=%d alpha=%g beta=%g pad=%d: max error %.3g (bound %.3g)%s",
          path, ta, tb, m, n, k, alpha, beta, pad, worst, tol, pad_ok ? "" : ", wrote outside C");
    free(a);
    free(b);
    free(c);
    free(c0);
}

static void all_cases(const char *path, gemm_fn fn)
{
    static const int shapes[][3] = {
        {1, 1, 1},     {7, 5, 3},      {8, 48, 16},   {9, 49, 17},    {64, 294, 800}, {64, 800, 294},
        {800, 294, 64}, {97, 1537, 5}, {33, 100, 513}, {128, 9, 1600}, {3, 2000, 40},  {200, 3, 260},
        {6, 16, 257},  {13, 23, 9},    {121, 2050, 7}, {241, 17, 15},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                one_case(path, fn, ta, tb, m, n, k, 1.0f, 0.0f, 0);
                one_case(path, fn, ta, tb, m, n, k, -0.5f, 1.0f, 3);
                one_case(path, fn, ta, tb, m, n, k, 2.0f, 0.25f, 17);
            }
    one_case(path, fn, 0, 0, 5, 6, 0, 1.0f, 0.5f, 1); /* k = 0: C = beta * C */
}

/* ---- im2col / col2im ------------------------------------------------------------------- */

static float ref_x(const ganc_conv_geom *g, const float *x, int ci, int iy, int ix)
{
    return iy >= 0 && iy < g->h && ix >= 0 && ix < g->w ? x[((size_t)ci * g->h + iy) * g->w + ix] : 0.0f;
}

static void im2col_case(const ganc_conv_geom *g, size_t ld)
{
    const size_t kk = (size_t)g->c * g->k * g->k, plane = (size_t)g->oh * g->ow, in = (size_t)g->c * g->h * g->w;
    float *x = check_floats(in), *col = check_floats(kk * ld), *back = check_floats(in), *buf = check_floats(ganc_conv_plane_floats(g));
    double *want = calloc(in ? in : 1, sizeof(double));
    for (size_t i = 0; i < in; i++) back[i] = x[i] = frand();
    for (size_t i = 0; i < kk * ld; i++) col[i] = 99.0f; /* gaps between rows must stay */
    ganc_im2col(g, x, col, ld, buf);
    int bad = 0;
    for (int ci = 0; ci < g->c; ci++)
        for (int ky = 0; ky < g->k; ky++)
            for (int kx = 0; kx < g->k; kx++) {
                const float *row = col + ((size_t)(ci * g->k + ky) * g->k + kx) * ld;
                for (int oy = 0; oy < g->oh; oy++)
                    for (int ox = 0; ox < g->ow; ox++)
                        if (row[oy * g->ow + ox] != ref_x(g, x, ci, oy * g->stride + ky - g->pad_t, ox * g->stride + kx - g->pad_l))
                            bad++;
                for (size_t j = plane; j < ld; j++) bad += row[j] != 99.0f;
            }
    /* col2im: back = x + scatter(col'), col' = fresh values, against the same sum in double */
    for (size_t r = 0; r < kk; r++)
        for (size_t j = 0; j < plane; j++) col[r * ld + j] = frand();
    for (size_t i = 0; i < in; i++) want[i] = back[i];
    for (int ci = 0; ci < g->c; ci++)
        for (int ky = 0; ky < g->k; ky++)
            for (int kx = 0; kx < g->k; kx++)
                for (int oy = 0; oy < g->oh; oy++)
                    for (int ox = 0; ox < g->ow; ox++) {
                        const int iy = oy * g->stride + ky - g->pad_t, ix = ox * g->stride + kx - g->pad_l;
                        if (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w)
                            want[((size_t)ci * g->h + iy) * g->w + ix] += col[((size_t)(ci * g->k + ky) * g->k + kx) * ld + (size_t)oy * g->ow + ox];
                    }
    /* and bit for bit as the layers have always added (their checkpoints depend on it): per
     * input value, a float sum from 0 over the kernel offsets, kx outer, ky inner, then added
     * to x */
    float *exact = check_floats(in), *sums = check_floats(in), *set = check_floats(in);
    for (int ci = 0; ci < g->c; ci++)
        for (int iy = 0; iy < g->h; iy++)
            for (int ix = 0; ix < g->w; ix++) {
                float sum = 0.0f;
                for (int kx = 0; kx < g->k; kx++)
                    for (int ky = 0; ky < g->k; ky++) {
                        const int ty = iy + g->pad_t - ky, tx = ix + g->pad_l - kx;
                        if (ty < 0 || tx < 0 || ty % g->stride || tx % g->stride) continue;
                        const int oy = ty / g->stride, ox = tx / g->stride;
                        if (oy < g->oh && ox < g->ow)
                            sum += col[((size_t)(ci * g->k + ky) * g->k + kx) * ld + (size_t)oy * g->ow + ox];
                    }
                const size_t i = ((size_t)ci * g->h + iy) * g->w + ix;
                exact[i] = back[i] + sum;
                sums[i] = sum;
                set[i] = NAN; /* every value must be written */
            }
    ganc_col2im(g, col, back, ld, buf);
    ganc_col2im_set(g, col, set, ld, buf);
    CHECK(memcmp(set, sums, sizeof(float) * in) == 0, "col2im_set c=%d %dx%d k=%d s=%d pad=(%d,%d): not the ordered float sums",
          g->c, g->h, g->w, g->k, g->stride, g->pad_t, g->pad_l);
    double worst = 0.0;
    int inexact = 0;
    for (size_t i = 0; i < in; i++) {
        const double e = fabs(back[i] - want[i]);
        if (!(e <= worst)) worst = e;
        inexact += memcmp(&back[i], &exact[i], sizeof(float)) != 0;
    }
    CHECK(inexact == 0, "col2im c=%d %dx%d k=%d s=%d pad=(%d,%d): %d values not the ordered float sum", g->c, g->h, g->w,
          g->k, g->stride, g->pad_t, g->pad_l, inexact);
    free(exact);
    free(sums);
    free(set);
    CHECK(bad == 0 && worst <= 1e-5 * (g->k * g->k + 1),
          "im2col c=%d %dx%d k=%d s=%d pad=(%d,%d) out %dx%d ld=%zu: %d wrong im2col values, col2im error %.3g", g->c,
          g->h, g->w, g->k, g->stride, g->pad_t, g->pad_l, g->oh, g->ow, ld, bad, worst);
    free(x);
    free(col);
    free(back);
    free(buf);
    free(want);
}

static void im2col_cases(void)
{
    int n = 0;
    for (int trial = 0; trial < 4000 && n < 400; trial++) {
        ganc_conv_geom g;
        g.c = 1 + (int)((frand() + 1.0f) * 1.5f);
        g.h = 1 + (int)((frand() + 1.0f) * 10.0f);
        g.w = 1 + (int)((frand() + 1.0f) * 20.0f); /* rows wider than one vector too */
        g.k = 1 + (int)((frand() + 1.0f) * 2.5f);
        g.stride = 1 + (int)((frand() + 1.0f) * 1.5f);
        g.pad_t = (int)((frand() + 1.0f) * 1.5f);
        g.pad_l = (int)((frand() + 1.0f) * 1.5f);
        const int pad_b = (int)((frand() + 1.0f) * 2.0f) - 1, pad_r = (int)((frand() + 1.0f) * 2.0f) - 1;
        const int span_h = g.h + g.pad_t + pad_b - g.k, span_w = g.w + g.pad_l + pad_r - g.k;
        if (span_h < 0 || span_w < 0 || g.k > 5 || g.stride > 3 || g.c > 3) continue;
        g.oh = span_h / g.stride + 1;
        g.ow = span_w / g.stride + 1;
        const size_t plane = (size_t)g.oh * g.ow;
        im2col_case(&g, n % 2 ? plane : plane * 3 + 5);
        n++;
    }
    CHECK(n == 400, "im2col: only %d geometries drawn", n);
    /* the layers of dcgan28, a wide stride-2 row, and dcgan64's 4x4 stride-2 layers (rows of
     * 8, 16 and 32 outputs; from 3 channels) */
    const ganc_conv_geom fixed[] = {{32, 14, 14, 5, 2, 1, 1, 7, 7},   {64, 7, 7, 5, 1, 0, 0, 3, 3},
                                    {1, 28, 28, 5, 2, 1, 1, 14, 14},  {2, 9, 70, 3, 2, 1, 1, 5, 35},
                                    {3, 64, 64, 4, 2, 1, 1, 32, 32},  {8, 32, 32, 4, 2, 1, 1, 16, 16},
                                    {16, 16, 16, 4, 2, 1, 1, 8, 8},   {4, 4, 4, 4, 1, 0, 0, 1, 1}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        im2col_case(&fixed[i], (size_t)fixed[i].oh * fixed[i].ow * 2);
        im2col_case(&fixed[i], (size_t)fixed[i].oh * fixed[i].ow);
    }
}

int main(void)
{
    ganc_rng_seed(&rng, 20261128);
    im2col_cases();
    all_cases("ganc_sgemm", via_public);
#if defined(__AVX512F__)
    /* the AVX-512 kernels on their own (no thread split), then what GANC_GEMM=blas selects */
    all_cases("avx512", ganc_sgemm_avx512);
    /* and the path GANC_GEMM=blas selects (OpenBLAS where linked), split over threads */
    ganc_sgemm_own_kernels(0);
    all_cases("blas", via_public);
    ganc_sgemm_own_kernels(1);
#elif defined(__AVX2__) && defined(__FMA__)
    all_cases("avx2", ganc_sgemm_avx2);
    all_cases("avx2 packed", via_packed);
    ganc_sgemm_own_kernels(0);
    all_cases("blas", via_public);
    ganc_sgemm_own_kernels(1);
#endif
    return check_finish("kernels");
}
