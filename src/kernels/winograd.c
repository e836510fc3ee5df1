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

/* The polyphase planes of one input channel: Q[j][r][t] = xb[r][4t + j], xb being the channel
 * with a border of one zero row/column on top/left (xb[r][x] = x[r-1][x-1], 0 outside x).
 * Rows r in [0, 4*TH + 2), t in [0, TW + 1): every value the tiles reach. */
static int q_rows(const ganc_conv_geom *g) { return 4 * tiles_h(g) + 2; }
static int q_cols(const ganc_conv_geom *g) { return tiles_w(g) + 1; }

/* the polyphase planes and a row of xb (input transforms), or two rows of 2*TW outputs
 * (output transforms) */
size_t ganc_wino_scratch_floats(const ganc_conv_geom *g)
{
    const size_t q = 4 * (size_t)q_rows(g) * q_cols(g) + 4 * (size_t)q_cols(g), rows = 4 * (size_t)tiles_w(g);
    return q > rows ? q : rows;
}

/* One row of xb (row r = iy + 1 of the bordered channel) into the four planes' row r: the
 * row is laid into `line` (4 * cols floats: the left border, x's values, zeros after), then
 * dealt out four ways. */
static void split_channel(const ganc_conv_geom *g, const float *x, float *q, float *line)
{
    const int rows = q_rows(g), cols = q_cols(g);
    const size_t qn = (size_t)rows * cols;
    float *restrict q0 = q, *restrict q1 = q + qn, *restrict q2 = q + 2 * qn, *restrict q3 = q + 3 * qn;
    memset(line, 0, sizeof(float) * 4 * (size_t)cols);
    for (int r = 0; r < rows; r++, q0 += cols, q1 += cols, q2 += cols, q3 += cols) {
        const int iy = r - 1;
        if (iy < 0 || iy >= g->h) {
            memset(q0, 0, sizeof(float) * (size_t)cols);
            memset(q1, 0, sizeof(float) * (size_t)cols);
            memset(q2, 0, sizeof(float) * (size_t)cols);
            memset(q3, 0, sizeof(float) * (size_t)cols);
            continue;
        }
        memcpy(line + 1, x + (size_t)iy * g->w, sizeof(float) * (size_t)g->w);
        const float *restrict l = line;
        for (int t = 0; t < cols; t++) {
            q0[t] = l[4 * t];
            q1[t] = l[4 * t + 1];
            q2[t] = l[4 * t + 2];
            q3[t] = l[4 * t + 3];
        }
    }
}

/* The adjoint of split_channel: x[iy][ix] = xb's value there (each one is reached by exactly
 * one plane position). */
static void merge_channel(const ganc_conv_geom *g, const float *q, float *x, float *line)
{
    const int cols = q_cols(g);
    const size_t qn = (size_t)q_rows(g) * cols;
    for (int iy = 0; iy < g->h; iy++) {
        const size_t r = (size_t)(iy + 1) * cols;
        const float *restrict q0 = q + r, *restrict q1 = q + qn + r, *restrict q2 = q + 2 * qn + r, *restrict q3 = q + 3 * qn + r;
        float *restrict l = line;
        for (int t = 0; t < cols; t++) {
            l[4 * t] = q0[t];
            l[4 * t + 1] = q1[t];
            l[4 * t + 2] = q2[t];
            l[4 * t + 3] = q3[t];
        }
        memcpy(x + (size_t)iy * g->w, line + 1, sizeof(float) * (size_t)g->w);
    }
}

void ganc_wino_input(const ganc_conv_geom *g, const float *x, int n, float *v, size_t ld, float *scratch)
{
    const int th = tiles_h(g), tw = tiles_w(g), cols = q_cols(g);
    const size_t T = (size_t)th * tw, qn = (size_t)q_rows(g) * cols, in_size = (size_t)g->c * g->h * g->w;
    const size_t pt_stride = (size_t)4 * g->c * ld;
    float *q = scratch;
    for (int i = 0; i < n; i++)
        for (int ci = 0; ci < g->c; ci++) {
            split_channel(g, x + i * in_size + (size_t)ci * g->h * g->w, q, q + 4 * qn);
            for (int p = 0; p < 2; p++)
                for (int qq = 0; qq < 2; qq++) {
                    float *vrow = v + (size_t)(ci * 4 + p * 2 + qq) * ld + i * T;
                    /* columns v = 0, 1, 2 of a tile: phase planes qq, 2 + qq (tile t), qq (t + 1) */
                    const float *c0 = q + (size_t)qq * qn, *c1 = q + (size_t)(2 + qq) * qn;
                    for (int ty = 0; ty < th; ty++) {
                        float *vt = vrow + (size_t)ty * tw;
                        const float *restrict r0a = c0 + (size_t)(4 * ty + p) * cols, *restrict r0b = c1 + (size_t)(4 * ty + p) * cols;
                        const float *restrict r1a = r0a + 2 * cols, *restrict r1b = r0b + 2 * cols;
                        const float *restrict r2a = r0a + 4 * cols, *restrict r2b = r0b + 4 * cols;
                        float *restrict v0 = vt, *restrict v1 = vt + pt_stride, *restrict v2 = vt + 2 * pt_stride;
                        float *restrict v3 = vt + 3 * pt_stride, *restrict v4 = vt + 4 * pt_stride;
                        float *restrict v5 = vt + 5 * pt_stride, *restrict v6 = vt + 6 * pt_stride;
                        float *restrict v7 = vt + 7 * pt_stride, *restrict v8 = vt + 8 * pt_stride;
                        for (int t = 0; t < tw; t++) {
                            /* rows u = 0, 1, 2 after the column transform (d0 - d1, d1, d2 - d1) */
                            const float a0 = r0a[t] - r0b[t], a1 = r0b[t], a2 = r0a[t + 1] - r0b[t];
                            const float b0 = r1a[t] - r1b[t], b1 = r1b[t], b2 = r1a[t + 1] - r1b[t];
                            const float e0 = r2a[t] - r2b[t], e1 = r2b[t], e2 = r2a[t + 1] - r2b[t];
                            v0[t] = a0 - b0;
                            v1[t] = a1 - b1;
                            v2[t] = a2 - b2;
                            v3[t] = b0;
                            v4[t] = b1;
                            v5[t] = b2;
                            v6[t] = e0 - b0;
                            v7[t] = e1 - b1;
                            v8[t] = e2 - b2;
                        }
                    }
                }
        }
}

void ganc_wino_input_adjoint(const ganc_conv_geom *g, const float *dv, int n, float *dx, size_t ld, float *scratch)
{
    const int th = tiles_h(g), tw = tiles_w(g), cols = q_cols(g);
    const size_t T = (size_t)th * tw, qn = (size_t)q_rows(g) * cols, in_size = (size_t)g->c * g->h * g->w;
    const size_t pt_stride = (size_t)4 * g->c * ld;
    float *q = scratch;
    for (int i = 0; i < n; i++)
        for (int ci = 0; ci < g->c; ci++) {
            memset(q, 0, sizeof(float) * 4 * qn);
            for (int p = 0; p < 2; p++)
                for (int qq = 0; qq < 2; qq++) {
                    const float *vrow = dv + (size_t)(ci * 4 + p * 2 + qq) * ld + i * T;
                    float *c0 = q + (size_t)qq * qn, *c1 = q + (size_t)(2 + qq) * qn;
                    for (int ty = 0; ty < th; ty++) {
                        const float *vt = vrow + (size_t)ty * tw;
                        float *r0a = c0 + (size_t)(4 * ty + p) * cols, *r0b = c1 + (size_t)(4 * ty + p) * cols;
                        float *r1a = r0a + 2 * cols, *r1b = r0b + 2 * cols;
                        float *r2a = r0a + 4 * cols, *r2b = r0b + 4 * cols;
                        /* B (dd0 = v0, dd1 = v1 - v0 - v2, dd2 = v2) on rows, then on columns; the
                         * third column of tile t is the first of tile t + 1: tiles in order */
                        for (int t = 0; t < tw; t++) {
                            const float v00 = vt[t], v01 = vt[t + pt_stride], v02 = vt[t + 2 * pt_stride];
                            const float v10 = vt[t + 3 * pt_stride], v11 = vt[t + 4 * pt_stride], v12 = vt[t + 5 * pt_stride];
                            const float v20 = vt[t + 6 * pt_stride], v21 = vt[t + 7 * pt_stride], v22 = vt[t + 8 * pt_stride];
                            const float a0 = v00, a1 = v01, a2 = v02;                   /* row u = 0 */
                            const float b0 = v10 - v00 - v20, b1 = v11 - v01 - v21, b2 = v12 - v02 - v22;
                            const float e0 = v20, e1 = v21, e2 = v22;                   /* row u = 2 */
                            r0a[t] += a0;
                            r0b[t] += a1 - a0 - a2;
                            r0a[t + 1] += a2;
                            r1a[t] += b0;
                            r1b[t] += b1 - b0 - b2;
                            r1a[t + 1] += b2;
                            r2a[t] += e0;
                            r2b[t] += e1 - e0 - e2;
                            r2a[t + 1] += e2;
                        }
                    }
                }
            merge_channel(g, q, dx + i * in_size + (size_t)ci * g->h * g->w, q + 4 * qn);
        }
}

void ganc_wino_output(const ganc_conv_geom *g, int cout, const float *m, int n, float *y, size_t ld, float *scratch)
{
    const int th = tiles_h(g), tw = tiles_w(g), oh = g->oh, ow = g->ow;
    const size_t T = (size_t)th * tw, plane = (size_t)oh * ow, pt_stride = (size_t)cout * ld;
    float *row0 = scratch, *row1 = scratch + 2 * (size_t)tw;
    for (int i = 0; i < n; i++)
        for (int o = 0; o < cout; o++) {
            const float *mrow = m + (size_t)o * ld + i * T;
            float *yo = y + ((size_t)i * cout + o) * plane;
            for (int ty = 0; ty < th; ty++) {
                const float *mt = mrow + (size_t)ty * tw;
                for (int t = 0; t < tw; t++) {
                    /* A^T M A: rows (m0 + m1, m1 + m2), then columns */
                    const float s0 = mt[t] + mt[t + 3 * pt_stride], s1 = mt[t + pt_stride] + mt[t + 4 * pt_stride],
                                s2 = mt[t + 2 * pt_stride] + mt[t + 5 * pt_stride];
                    const float u0 = mt[t + 3 * pt_stride] + mt[t + 6 * pt_stride],
                                u1 = mt[t + 4 * pt_stride] + mt[t + 7 * pt_stride],
                                u2 = mt[t + 5 * pt_stride] + mt[t + 8 * pt_stride];
                    row0[2 * t] = s0 + s1;
                    row0[2 * t + 1] = s1 + s2;
                    row1[2 * t] = u0 + u1;
                    row1[2 * t + 1] = u1 + u2;
                }
                memcpy(yo + (size_t)(2 * ty) * ow, row0, sizeof(float) * (size_t)ow);
                if (2 * ty + 1 < oh) memcpy(yo + (size_t)(2 * ty + 1) * ow, row1, sizeof(float) * (size_t)ow);
            }
        }
}

void ganc_wino_output_adjoint(const ganc_conv_geom *g, int cout, const float *dy, int n, float *dm, size_t ld,
                              float *scratch)
{
    const int th = tiles_h(g), tw = tiles_w(g), oh = g->oh, ow = g->ow;
    const size_t T = (size_t)th * tw, plane = (size_t)oh * ow, pt_stride = (size_t)cout * ld;
    float *row0 = scratch, *row1 = scratch + 2 * (size_t)tw;
    for (int i = 0; i < n; i++)
        for (int o = 0; o < cout; o++) {
            float *mrow = dm + (size_t)o * ld + i * T;
            const float *dyo = dy + ((size_t)i * cout + o) * plane;
            for (int ty = 0; ty < th; ty++) {
                /* outputs past the map (odd oh or ow) have no gradient */
                memcpy(row0, dyo + (size_t)(2 * ty) * ow, sizeof(float) * (size_t)ow);
                if (2 * ty + 1 < oh) memcpy(row1, dyo + (size_t)(2 * ty + 1) * ow, sizeof(float) * (size_t)ow);
                else memset(row1, 0, sizeof(float) * (size_t)ow);
                if (ow & 1) row0[ow] = row1[ow] = 0.0f;
                float *mt = mrow + (size_t)ty * tw;
                for (int t = 0; t < tw; t++) {
                    /* A dY A^T: (d0, d0 + d1, d1) on rows and columns */
                    const float a0 = row0[2 * t], a1 = row0[2 * t + 1], b0 = row1[2 * t], b1 = row1[2 * t + 1];
                    const float c0 = a0 + b0, c1 = a1 + b1;
                    mt[t] = a0;
                    mt[t + pt_stride] = a0 + a1;
                    mt[t + 2 * pt_stride] = a1;
                    mt[t + 3 * pt_stride] = c0;
                    mt[t + 4 * pt_stride] = c0 + c1;
                    mt[t + 5 * pt_stride] = c1;
                    mt[t + 6 * pt_stride] = b0;
                    mt[t + 7 * pt_stride] = b0 + b1;
                    mt[t + 8 * pt_stride] = b1;
                }
            }
        }
}

size_t ganc_wino_u_floats(const ganc_conv_geom *g, int cout) { return 9 * (size_t)cout * 4 * g->c; }

/* w (cout, c, 4, 4) -> U: G w_pq G^T for every (o, ci, p, q), G g = (g0, g0 + g1, g1). */
void ganc_wino_weights(const ganc_conv_geom *g, int cout, const float *w, float *u)
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
                    for (int xi = 0; xi < 3; xi++) {
                        ut[(size_t)(xi * 3) * pt_stride] = r[xi][0];
                        ut[(size_t)(xi * 3 + 1) * pt_stride] = r[xi][0] + r[xi][1];
                        ut[(size_t)(xi * 3 + 2) * pt_stride] = r[xi][1];
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
