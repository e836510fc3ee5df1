/* Winograd's minimal filtering for the 4x4, stride-2, padding-1 convolutions of the DCGAN
 * family (D's convolutions, and G's transposed ones, their adjoints).
 *
 * Why: those layers are nearly all of a dcgan32/dcgan64 iteration and already run their GEMMs
 * near the machine's peak, so only fewer multiplications make them faster. A stride-2 4x4
 * window splits into four stride-1 2x2 windows, one per polyphase part of the input
 * (x_pq[i][j] = x[2i+p-1][2j+q-1], p, q in {0, 1}; kernel w_pq[a][b] = w[2a+p][2b+q]), so the
 * layer is a stride-1 2x2 convolution over 4*cin channels. F(2x2, 2x2) computes each 2x2 block
 * of outputs from a 3x3 block of every part with 9 products instead of 16: 9/16 of the GEMM
 * work. Its matrices hold only 0 and +-1 (points 0, 1 and infinity), so the transforms add and
 * subtract and round no worse than a direct sum:
 *   input  B^T d = (d0 - d1, d1, d2 - d1)
 *   kernel G g   = (g0, g0 + g1, g1)
 *   output A^T m = (m0 + m1, m1 + m2)
 * (y0 = d0 g0 + d1 g1 = m0 + m1 and y1 = d1 g0 + d2 g1 = m1 + m2 with m_i = (B^T d)_i (G g)_i).
 *
 * Layouts, for n samples of a convolution with geometry g (c input channels) and cout outputs,
 * T = tiles per sample (ceil(oh/2) x ceil(ow/2) blocks of 2x2 outputs), cols = n*T:
 *   V (input transform):  9 matrices of (4c x cols): V[pt][ci*4 + p*2 + q][i*T + t]
 *   M (products):         9 matrices of (cout x cols)
 *   U (kernel transform): 9 matrices of (cout x 4c): U[pt][o][ci*4 + p*2 + q]
 * so that M[pt] = U[pt] . V[pt] is one GEMM per point pt = xi*3 + nu. */
#include "ganc_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

/* -1: not read yet; 0 off (GANC_CONV=im2col); 1 on for layers wide enough to gain; 2 on for
 * every layer of the right geometry (tests). */
static _Atomic int wino_mode = -1;

int ganc_conv_winograd(int mode)
{
    if (mode >= 0) atomic_store_explicit(&wino_mode, mode, memory_order_relaxed);
    int m = atomic_load_explicit(&wino_mode, memory_order_relaxed);
    if (m < 0) {
        const char *e = getenv("GANC_CONV");
        m = e && strcmp(e, "im2col") == 0 ? 0 : 1;
        atomic_store_explicit(&wino_mode, m, memory_order_relaxed);
    }
    return m;
}

int ganc_wino_geometry(const ganc_conv_geom *g)
{
    return g->k == 4 && g->stride == 2 && g->pad_t == 1 && g->pad_l == 1 && g->oh >= 1 && g->ow >= 1;
}

/* Narrow layers (an RGB input, an RGB output) make GEMMs a few rows deep, where the products
 * run far below peak and the transforms cost more than the products they save. */
enum { WINO_MIN_CHANNELS = 16 };

int ganc_wino_fits(const ganc_conv_geom *g, int cout)
{
    const int mode = ganc_conv_winograd(-1);
    if (!mode || !ganc_wino_geometry(g)) return 0;
    return mode == 2 || (g->c >= WINO_MIN_CHANNELS && cout >= WINO_MIN_CHANNELS);
}

static int tiles_h(const ganc_conv_geom *g) { return (g->oh + 1) / 2; }
static int tiles_w(const ganc_conv_geom *g) { return (g->ow + 1) / 2; }
size_t ganc_wino_tiles(const ganc_conv_geom *g) { return (size_t)tiles_h(g) * tiles_w(g); }

/* The transforms work on a chunk with its samples side by side: each map value becomes a
 * vector of the n samples' values (the chunk transposed to (values, n)), so that every add and
 * store of a tile runs over n contiguous floats however small the map (dcgan64's 4x4 tiles of
 * an 8x8 map leave nothing to vectorise within one sample). Columns of V and M are therefore
 * tile-major: column t*n + i is tile t of sample i. */

#if defined(__AVX2__)
/* b's 8x8 block at (0, 0) (rows ldb apart) = a's 8x8 block (rows lda apart) transposed */
static void transpose8(const float *a, size_t lda, float *b, size_t ldb)
{
    __m256 r0 = _mm256_loadu_ps(a), r1 = _mm256_loadu_ps(a + lda), r2 = _mm256_loadu_ps(a + 2 * lda);
    __m256 r3 = _mm256_loadu_ps(a + 3 * lda), r4 = _mm256_loadu_ps(a + 4 * lda), r5 = _mm256_loadu_ps(a + 5 * lda);
    __m256 r6 = _mm256_loadu_ps(a + 6 * lda), r7 = _mm256_loadu_ps(a + 7 * lda);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3);
    const __m256 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    r0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    r1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    r2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    r3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    r4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    r5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    r6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    r7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    _mm256_storeu_ps(b, _mm256_permute2f128_ps(r0, r4, 0x20));
    _mm256_storeu_ps(b + ldb, _mm256_permute2f128_ps(r1, r5, 0x20));
    _mm256_storeu_ps(b + 2 * ldb, _mm256_permute2f128_ps(r2, r6, 0x20));
    _mm256_storeu_ps(b + 3 * ldb, _mm256_permute2f128_ps(r3, r7, 0x20));
    _mm256_storeu_ps(b + 4 * ldb, _mm256_permute2f128_ps(r0, r4, 0x31));
    _mm256_storeu_ps(b + 5 * ldb, _mm256_permute2f128_ps(r1, r5, 0x31));
    _mm256_storeu_ps(b + 6 * ldb, _mm256_permute2f128_ps(r2, r6, 0x31));
    _mm256_storeu_ps(b + 7 * ldb, _mm256_permute2f128_ps(r3, r7, 0x31));
}
#endif

/* b (cols x rows) = a (rows x cols) transposed: 8x8 blocks in registers where AVX2 has them,
 * the edges (and everything on other machines) value by value */
static void transpose(const float *restrict a, size_t rows, size_t cols, float *restrict b)
{
    size_t r8 = 0, c8 = 0;
#if defined(__AVX2__)
    r8 = rows & ~(size_t)7, c8 = cols & ~(size_t)7;
    for (size_t i = 0; i < r8; i += 8)
        for (size_t j = 0; j < c8; j += 8) transpose8(a + i * cols + j, cols, b + j * rows + i, rows);
#endif
    /* the rows past r8 (all columns), then the columns past c8 of the rows before */
    for (size_t j = 0; j < cols; j++)
        for (size_t i = r8; i < rows; i++) b[j * rows + i] = a[i * cols + j];
    for (size_t j = c8; j < cols; j++)
        for (size_t i = 0; i < r8; i++) b[j * rows + i] = a[i * cols + j];
}

/* floats of the scratch: a transposed map (input or output side, the larger), then a zero
 * vector or nine vectors for values that fall outside the map */
size_t ganc_wino_scratch_floats(const ganc_conv_geom *g, int cout, int n)
{
    const size_t in = (size_t)g->c * g->h * g->w, out = (size_t)cout * g->oh * g->ow;
    return (in > out ? in : out) * (size_t)n + 9 * (size_t)n;
}

/* The n-vector of the bordered input at (yy, xx) of channel ci (xb[yy][xx] = x[yy-1][xx-1]):
 * a row of xt, or the zero vector outside x. */
static const float *pixel(const ganc_conv_geom *g, const float *xt, int ci, int yy, int xx, int n, const float *zero)
{
    const int iy = yy - 1, ix = xx - 1;
    if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) return zero;
    return xt + (((size_t)ci * g->h + iy) * g->w + ix) * n;
}

/* One tile's B^T d B for the n samples: d's rows a, b, e (u = 0, 1, 2), columns 0, 1, 2, into
 * the 9 points' rows (pt_stride apart from v). A function of its own so that the compiler
 * sees distinct pointers and vectorises over the samples. */
/* (kept out of line: inlined into the tile loops, the compiler loses sight of the restrict
 * parameters and falls back to one sample at a time) */
#define TILE_FN static __attribute__((noinline)) void

TILE_FN tile_input(const float *restrict a0, const float *restrict a1, const float *restrict a2,
                       const float *restrict b0, const float *restrict b1, const float *restrict b2,
                       const float *restrict e0, const float *restrict e1, const float *restrict e2, float *v,
                       size_t pt_stride, int n)
{
    float *restrict v0 = v, *restrict v1 = v + pt_stride, *restrict v2 = v + 2 * pt_stride;
    float *restrict v3 = v + 3 * pt_stride, *restrict v4 = v + 4 * pt_stride, *restrict v5 = v + 5 * pt_stride;
    float *restrict v6 = v + 6 * pt_stride, *restrict v7 = v + 7 * pt_stride, *restrict v8 = v + 8 * pt_stride;
    for (int i = 0; i < n; i++) {
        /* columns (d0 - d1, d1, d2 - d1), then the same on rows */
        const float ra0 = a0[i] - a1[i], ra1 = a1[i], ra2 = a2[i] - a1[i];
        const float rb0 = b0[i] - b1[i], rb1 = b1[i], rb2 = b2[i] - b1[i];
        const float re0 = e0[i] - e1[i], re1 = e1[i], re2 = e2[i] - e1[i];
        v0[i] = ra0 - rb0;
        v1[i] = ra1 - rb1;
        v2[i] = ra2 - rb2;
        v3[i] = rb0;
        v4[i] = rb1;
        v5[i] = rb2;
        v6[i] = re0 - rb0;
        v7[i] = re1 - rb1;
        v8[i] = re2 - rb2;
    }
}

/* The adjoint of tile_input: B dV B^T added into the patch's 9 values d (distinct vectors). */
TILE_FN tile_input_adjoint(const float *v, size_t pt_stride, float *restrict d00, float *restrict d01,
                               float *restrict d02, float *restrict d10, float *restrict d11, float *restrict d12,
                               float *restrict d20, float *restrict d21, float *restrict d22, int n)
{
    const float *restrict v0 = v, *restrict v1 = v + pt_stride, *restrict v2 = v + 2 * pt_stride;
    const float *restrict v3 = v + 3 * pt_stride, *restrict v4 = v + 4 * pt_stride, *restrict v5 = v + 5 * pt_stride;
    const float *restrict v6 = v + 6 * pt_stride, *restrict v7 = v + 7 * pt_stride, *restrict v8 = v + 8 * pt_stride;
    for (int i = 0; i < n; i++) {
        /* (v0, v1 - v0 - v2, v2) on rows, then on columns */
        const float a0 = v0[i], a1 = v1[i], a2 = v2[i];
        const float b0 = v3[i] - v0[i] - v6[i], b1 = v4[i] - v1[i] - v7[i], b2 = v5[i] - v2[i] - v8[i];
        const float e0 = v6[i], e1 = v7[i], e2 = v8[i];
        d00[i] += a0;
        d01[i] += a1 - a0 - a2;
        d02[i] += a2;
        d10[i] += b0;
        d11[i] += b1 - b0 - b2;
        d12[i] += b2;
        d20[i] += e0;
        d21[i] += e1 - e0 - e2;
        d22[i] += e2;
    }
}

/* One tile's A^T M A for the n samples into its four outputs (NULL: past the map's edge). */
TILE_FN tile_output(const float *m, size_t pt_stride, float *restrict y00, float *restrict y01, float *restrict y10,
                        float *restrict y11, int n)
{
    const float *restrict m0 = m, *restrict m1 = m + pt_stride, *restrict m2 = m + 2 * pt_stride;
    const float *restrict m3 = m + 3 * pt_stride, *restrict m4 = m + 4 * pt_stride, *restrict m5 = m + 5 * pt_stride;
    const float *restrict m6 = m + 6 * pt_stride, *restrict m7 = m + 7 * pt_stride, *restrict m8 = m + 8 * pt_stride;
    if (y01 && y10 && y11) {
        for (int i = 0; i < n; i++) {
            /* rows (m0 + m1, m1 + m2), then columns */
            const float s0 = m0[i] + m3[i], s1 = m1[i] + m4[i], s2 = m2[i] + m5[i];
            const float u0 = m3[i] + m6[i], u1 = m4[i] + m7[i], u2 = m5[i] + m8[i];
            y00[i] = s0 + s1;
            y01[i] = s1 + s2;
            y10[i] = u0 + u1;
            y11[i] = u1 + u2;
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        const float s0 = m0[i] + m3[i], s1 = m1[i] + m4[i], s2 = m2[i] + m5[i];
        const float u0 = m3[i] + m6[i], u1 = m4[i] + m7[i], u2 = m5[i] + m8[i];
        y00[i] = s0 + s1;
        if (y01) y01[i] = s1 + s2;
        if (y10) y10[i] = u0 + u1;
        if (y11) y11[i] = u1 + u2;
    }
}

/* One tile's A dY A^T for the n samples: outputs a0 a1 / b0 b1 into the 9 points' rows. */
TILE_FN tile_output_adjoint(const float *restrict a0, const float *restrict a1, const float *restrict b0,
                            const float *restrict b1, float *m, size_t pt_stride, int n)
{
    float *restrict m0 = m, *restrict m1 = m + pt_stride, *restrict m2 = m + 2 * pt_stride;
    float *restrict m3 = m + 3 * pt_stride, *restrict m4 = m + 4 * pt_stride, *restrict m5 = m + 5 * pt_stride;
    float *restrict m6 = m + 6 * pt_stride, *restrict m7 = m + 7 * pt_stride, *restrict m8 = m + 8 * pt_stride;
    for (int i = 0; i < n; i++) {
        /* (d0, d0 + d1, d1) on rows and columns */
        const float c0 = a0[i] + b0[i], c1 = a1[i] + b1[i];
        m0[i] = a0[i];
        m1[i] = a0[i] + a1[i];
        m2[i] = a1[i];
        m3[i] = c0;
        m4[i] = c0 + c1;
        m5[i] = c1;
        m6[i] = b0[i];
        m7[i] = b0[i] + b1[i];
        m8[i] = b1[i];
    }
}

void ganc_wino_input(const ganc_conv_geom *g, const float *x, int n, float *v, size_t ld, float *scratch)
{
    const int th = tiles_h(g), tw = tiles_w(g);
    const size_t in_size = (size_t)g->c * g->h * g->w, pt_stride = (size_t)4 * g->c * ld;
    float *xt = scratch, *zero = scratch + in_size * n;
    memset(zero, 0, sizeof(float) * (size_t)n);
    transpose(x, (size_t)n, in_size, xt);
    for (int ci = 0; ci < g->c; ci++)
        for (int ty = 0; ty < th; ty++)
            for (int tx = 0; tx < tw; tx++) {
                const float *d[6][6]; /* the tile's 6x6 patch of xb, rows 4ty.., columns 4tx.. */
                for (int r = 0; r < 6; r++)
                    for (int c = 0; c < 6; c++) d[r][c] = pixel(g, xt, ci, 4 * ty + r, 4 * tx + c, n, zero);
                const size_t col = ((size_t)ty * tw + tx) * n;
                for (int p = 0; p < 2; p++)
                    for (int q = 0; q < 2; q++) {
                        /* phase (p, q): d_pq[u][v] = patch[2u + p][2v + q] */
                        float *vt = v + (size_t)(ci * 4 + p * 2 + q) * ld + col;
                        tile_input(d[p][q], d[p][2 + q], d[p][4 + q], d[2 + p][q], d[2 + p][2 + q], d[2 + p][4 + q], d[4 + p][q],
                                   d[4 + p][2 + q], d[4 + p][4 + q], vt, pt_stride, n);
                    }
            }
}

void ganc_wino_input_adjoint(const ganc_conv_geom *g, const float *dv, int n, float *dx, size_t ld, float *scratch)
{
    const int th = tiles_h(g), tw = tiles_w(g);
    const size_t in_size = (size_t)g->c * g->h * g->w, pt_stride = (size_t)4 * g->c * ld;
    float *xt = scratch, *sink = scratch + in_size * n; /* 9 vectors for the values that fall outside x */
    memset(xt, 0, sizeof(float) * in_size * n);
    for (int ci = 0; ci < g->c; ci++)
        for (int ty = 0; ty < th; ty++)
            for (int tx = 0; tx < tw; tx++) {
                const size_t col = ((size_t)ty * tw + tx) * n;
                for (int p = 0; p < 2; p++)
                    for (int q = 0; q < 2; q++) {
                        const float *vt = dv + (size_t)(ci * 4 + p * 2 + q) * ld + col;
                        /* patch value (2u + p, 2w + q) of the tile gets dd[u][w] */
                        float *d[3][3];
                        for (int u = 0; u < 3; u++)
                            for (int w = 0; w < 3; w++) {
                                float *px = (float *)pixel(g, xt, ci, 4 * ty + 2 * u + p, 4 * tx + 2 * w + q, n, NULL);
                                d[u][w] = px ? px : sink + (size_t)(u * 3 + w) * n;
                            }
                        tile_input_adjoint(vt, pt_stride, d[0][0], d[0][1], d[0][2], d[1][0], d[1][1], d[1][2], d[2][0], d[2][1],
                                           d[2][2], n);
                    }
            }
    transpose(xt, in_size, (size_t)n, dx);
}

void ganc_wino_output(const ganc_conv_geom *g, int cout, const float *m, int n, float *y, size_t ld, float *scratch)
{
    const int th = tiles_h(g), tw = tiles_w(g), oh = g->oh, ow = g->ow;
    const size_t out_size = (size_t)cout * oh * ow, pt_stride = (size_t)cout * ld;
    float *yt = scratch;
    for (int o = 0; o < cout; o++)
        for (int ty = 0; ty < th; ty++)
            for (int tx = 0; tx < tw; tx++) {
                const float *mt = m + (size_t)o * ld + ((size_t)ty * tw + tx) * n;
                const int y0 = 2 * ty, x0 = 2 * tx, down = y0 + 1 < oh, right = x0 + 1 < ow;
                float *q00 = yt + (((size_t)o * oh + y0) * ow + x0) * n, *q10 = down ? q00 + (size_t)ow * n : NULL;
                tile_output(mt, pt_stride, q00, right ? q00 + n : NULL, q10, down && right ? q10 + n : NULL, n);
            }
    transpose(yt, out_size, (size_t)n, y);
}

void ganc_wino_output_adjoint(const ganc_conv_geom *g, int cout, const float *dy, int n, float *dm, size_t ld,
                              float *scratch)
{
    const int th = tiles_h(g), tw = tiles_w(g), oh = g->oh, ow = g->ow;
    const size_t out_size = (size_t)cout * oh * ow, pt_stride = (size_t)cout * ld;
    float *dyt = scratch, *zero = scratch + out_size * n;
    memset(zero, 0, sizeof(float) * (size_t)n);
    transpose(dy, (size_t)n, out_size, dyt);
    for (int o = 0; o < cout; o++)
        for (int ty = 0; ty < th; ty++)
            for (int tx = 0; tx < tw; tx++) {
                const int y0 = 2 * ty, x0 = 2 * tx, down = y0 + 1 < oh, right = x0 + 1 < ow;
                /* outputs past the map (odd oh or ow) have no gradient: the zero vector */
                const float *a0 = dyt + (((size_t)o * oh + y0) * ow + x0) * n, *a1 = right ? a0 + n : zero;
                const float *b0 = down ? a0 + (size_t)ow * n : zero, *b1 = down && right ? b0 + n : zero;
                tile_output_adjoint(a0, a1, b0, b1, dm + (size_t)o * ld + ((size_t)ty * tw + tx) * n, pt_stride, n);
            }
}

size_t ganc_wino_u_floats(const ganc_conv_geom *g, int cout) { return 9 * (size_t)cout * 4 * g->c; }

/* w (cout, c, 4, 4) -> points [pt0, pt0 + pts) of U: G w_pq G^T for every (o, ci, p, q),
 * G g = (g0, g0 + g1, g1). A range of points, so that the threads of a pass can share the
 * work of one U, each reading w once for its points. */
void ganc_wino_weights(const ganc_conv_geom *g, int cout, const float *w, int pt0, int pts, float *u)
{
    const size_t k4 = (size_t)4 * g->c, pt_stride = (size_t)cout * k4;
    for (int o = 0; o < cout; o++)
        for (int ci = 0; ci < g->c; ci++) {
            const float *wk = w + ((size_t)o * g->c + ci) * 16;
            for (int p = 0; p < 2; p++)
                for (int q = 0; q < 2; q++) {
                    /* w_pq[a][b] = w[2a + p][2b + q] */
                    const float g00 = wk[p * 4 + q], g01 = wk[p * 4 + 2 + q];
                    const float g10 = wk[(2 + p) * 4 + q], g11 = wk[(2 + p) * 4 + 2 + q];
                    const float r[3][2] = {{g00, g01}, {g00 + g10, g01 + g11}, {g10, g11}};
                    float *ut = u + (size_t)o * k4 + (size_t)ci * 4 + p * 2 + q;
                    for (int pt = pt0; pt < pt0 + pts; pt++) {
                        const int xi = pt / 3, nu = pt % 3;
                        ut[(size_t)(pt - pt0) * pt_stride] = nu == 0 ? r[xi][0] : nu == 1 ? r[xi][0] + r[xi][1] : r[xi][1];
                    }
                }
        }
}

/* dw += the adjoint of ganc_wino_weights applied to du: G^T du G, G^T (u0 + u1, u1 + u2). */
void ganc_wino_weight_grad(const ganc_conv_geom *g, int cout, const float *du, float *dw)
{
    const size_t k4 = (size_t)4 * g->c, pt_stride = (size_t)cout * k4;
    for (int o = 0; o < cout; o++)
        for (int ci = 0; ci < g->c; ci++) {
            float *wk = dw + ((size_t)o * g->c + ci) * 16;
            for (int p = 0; p < 2; p++)
                for (int q = 0; q < 2; q++) {
                    const float *ut = du + (size_t)o * k4 + (size_t)ci * 4 + p * 2 + q;
                    float c[3][2];
                    for (int xi = 0; xi < 3; xi++) {
                        const float u0 = ut[(size_t)(xi * 3) * pt_stride], u1 = ut[(size_t)(xi * 3 + 1) * pt_stride],
                                    u2 = ut[(size_t)(xi * 3 + 2) * pt_stride];
                        c[xi][0] = u0 + u1;
                        c[xi][1] = u1 + u2;
                    }
                    wk[p * 4 + q] += c[0][0] + c[1][0];
                    wk[p * 4 + 2 + q] += c[0][1] + c[1][1];
                    wk[(2 + p) * 4 + q] += c[1][0] + c[2][0];
                    wk[(2 + p) * 4 + 2 + q] += c[1][1] + c[2][1];
                }
        }
}
