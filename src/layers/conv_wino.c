/* A 4x4 stride-2 convolution by Winograd's transforms (kernels/winograd.c), chunk by chunk:
 * the passes conv.c and deconv.c run for their layers of that geometry (a transposed
 * convolution is the adjoint of the convolution that maps its output to its input, so its
 * forward is ganc_wino_input_grad and its input gradient ganc_wino_forward).
 *
 * Per chunk of n samples, with cols = n * T columns (T tiles per sample) and 9 points:
 *   forward:    V = in(x);   M[pt] = U[pt] . V[pt];       y = out(M)
 *   input grad: M = out^T(dy); V[pt] = U[pt]^T . M[pt];    dx = in^T(V)
 *   weights:    V = in(x); M = out^T(dy); dU[pt] += M[pt] . V[pt]^T
 * A column's sums do not depend on the chunk it is in, so outputs and input gradients are
 * the same bits whatever the chunks and threads. */
#include "ganc_internal.h"

/* Samples per chunk: the transforms run over a chunk's samples as vectors (winograd.c), so
 * at least 8 (one AVX vector) and at most 16, which leaves a batch of 64 four chunks for the
 * threads to share; fewer where a point's V (4c x n*T) would outgrow a core's L2 (512 KB)
 * before. A backward with weight gradients reads and writes all of dU (2.25 times the weight)
 * once per chunk, so its chunks hold at least WINO_GRAD_COLUMNS columns: 64 samples of
 * dcgan64's 4x4 tiles, a whole part of a batch of 128 on two threads (more would only grow
 * the work blocks, which are allocated and zeroed whole). */
enum { WINO_GRAD_COLUMNS = 256 };

int ganc_wino_chunk(const ganc_conv_geom *g, int grads)
{
    const size_t tiles = ganc_wino_tiles(g), per_sample = (size_t)4 * g->c * tiles;
    size_t n = per_sample ? ((size_t)1 << 17) / per_sample : 16;
    n = n < 8 ? 8 : n > 16 ? 16 : n;
    if (grads && n * tiles < WINO_GRAD_COLUMNS) n = (WINO_GRAD_COLUMNS + tiles - 1) / tiles;
    return n > 65536 ? 65536 : (int)n;
}

/* the longest chunk's columns */
static size_t max_cols(const ganc_conv_geom *g) { return (size_t)ganc_wino_chunk(g, 1) * ganc_wino_tiles(g); }

/* one point's U packed either way (0 where the kernels do not pack) */
static size_t packed_point(const ganc_conv_geom *g, int cout)
{
    const size_t a = ganc_sgemm_packed_floats(cout, 4 * g->c), b = ganc_sgemm_packed_floats(4 * g->c, cout);
    return a > b ? a : b;
}

/* The block: P (the 9 packed points, or U itself where the products run unpacked) | dU | V, M
 * (which also hold U for the moment it takes to pack it) | scratch. */
static size_t p_floats(const ganc_conv_geom *g, int cout)
{
    const size_t pk = 9 * packed_point(g, cout), u = ganc_wino_u_floats(g, cout);
    return pk > u ? pk : u;
}

static size_t vm_floats(const ganc_conv_geom *g, int cout)
{
    const size_t vm = 9 * ((size_t)4 * g->c + (size_t)cout) * max_cols(g), u = ganc_wino_u_floats(g, cout);
    return vm > u ? vm : u;
}

size_t ganc_wino_work_floats(const ganc_conv_geom *g, int cout)
{
    return p_floats(g, cout) + ganc_wino_u_floats(g, cout) + vm_floats(g, cout) +
           ganc_wino_scratch_floats(g, cout, ganc_wino_chunk(g, 1));
}

ganc_wino ganc_wino_at(const ganc_conv_geom *g, int cout, float *work)
{
    ganc_wino wk = {*g, cout, NULL, NULL, NULL, NULL, work, NULL, packed_point(g, cout), -1};
    wk.du = wk.pk + p_floats(g, cout);
    wk.v = wk.du + ganc_wino_u_floats(g, cout);
    wk.m = wk.v + 9 * (size_t)4 * g->c * max_cols(g);
    wk.scratch = wk.v + vm_floats(g, cout);
    return wk;
}

void ganc_wino_prepare(ganc_wino *wk, const float *w, int pack_as)
{
    const int k4 = 4 * wk->g.c, cout = wk->cout;
    wk->packed_as = -1;
    /* packed products need this thread's kernel scratch: without it they would fall back to
     * an unpacked U that is no longer kept */
    if (pack_as < 0 || !wk->pk_pt || !ganc_sgemm_packing() || !ganc_kernel_scratch()) {
        wk->u = wk->pk; /* the products read U unpacked */
        ganc_wino_weights(&wk->g, cout, w, wk->u);
        return;
    }
    float *u = wk->v; /* U only until it is packed: V and M are free before the chunks */
    ganc_wino_weights(&wk->g, cout, w, u);
    for (int pt = 0; pt < 9; pt++) {
        const float *up = u + (size_t)pt * cout * k4;
        if (pack_as) ganc_sgemm_pack_a(1, k4, cout, up, k4, wk->pk + pt * wk->pk_pt);
        else ganc_sgemm_pack_a(0, cout, k4, up, k4, wk->pk + pt * wk->pk_pt);
    }
    wk->u = NULL;
    wk->packed_as = pack_as;
}

/* C = op(U[pt]) . B, from the packed U when it was packed (always the way it is used here:
 * ganc_wino_prepare's pack_as) */
static void point_product(const ganc_wino *wk, int pt, int trans, int m, int n, int k, const float *b, float *c,
                          ganc_sgemm_fn *gemm)
{
    const int k4 = 4 * wk->g.c;
    if (wk->packed_as >= 0) ganc_sgemm_packed(wk->pk + pt * wk->pk_pt, trans, 0, m, n, k, 1.0f, NULL, k4, b, n, 0.0f, c, n);
    else gemm(trans, 0, m, n, k, 1.0f, wk->u + (size_t)pt * wk->cout * k4, k4, b, n, 0.0f, c, n);
}

void ganc_wino_forward(const ganc_wino *wk, const float *x, float *y, int n, ganc_sgemm_fn *gemm)
{
    const int k4 = 4 * wk->g.c, cout = wk->cout, cols = n * (int)ganc_wino_tiles(&wk->g);
    const size_t v_pt = (size_t)k4 * cols, m_pt = (size_t)cout * cols;
    if (x) ganc_wino_input(&wk->g, x, n, wk->v, (size_t)cols, wk->scratch);
    for (int pt = 0; pt < 9; pt++)
        point_product(wk, pt, 0, cout, cols, k4, wk->v + pt * v_pt, wk->m + pt * m_pt, gemm);
    ganc_wino_output(&wk->g, cout, wk->m, n, y, (size_t)cols, wk->scratch);
}

void ganc_wino_input_grad(const ganc_wino *wk, const float *dy, float *dx, int n, ganc_sgemm_fn *gemm)
{
    const int k4 = 4 * wk->g.c, cout = wk->cout, cols = n * (int)ganc_wino_tiles(&wk->g);
    const size_t v_pt = (size_t)k4 * cols, m_pt = (size_t)cout * cols;
    ganc_wino_output_adjoint(&wk->g, cout, dy, n, wk->m, (size_t)cols, wk->scratch);
    for (int pt = 0; pt < 9; pt++)
        point_product(wk, pt, 1, k4, cols, cout, wk->m + pt * m_pt, wk->v + pt * v_pt, gemm);
    ganc_wino_input_adjoint(&wk->g, wk->v, n, dx, (size_t)cols, wk->scratch);
}

void ganc_wino_backward(const ganc_wino *wk, const float *x, const float *dy, float *dx, int n, ganc_sgemm_fn *gemm)
{
    const int k4 = 4 * wk->g.c, cout = wk->cout, cols = n * (int)ganc_wino_tiles(&wk->g);
    const size_t v_pt = (size_t)k4 * cols, m_pt = (size_t)cout * cols, u_pt = (size_t)cout * k4;
    ganc_wino_input(&wk->g, x, n, wk->v, (size_t)cols, wk->scratch);
    ganc_wino_output_adjoint(&wk->g, cout, dy, n, wk->m, (size_t)cols, wk->scratch);
    for (int pt = 0; pt < 9; pt++) {
        const float *m = wk->m + pt * m_pt;
        float *v = wk->v + pt * v_pt;
        gemm(0, 1, cout, k4, cols, 1.0f, m, cols, v, cols, 1.0f, wk->du + pt * u_pt, k4);
        /* V[pt] is spent: the input gradient's transform takes its place */
        if (dx) point_product(wk, pt, 1, k4, cols, cout, m, v, gemm);
    }
    if (dx) ganc_wino_input_adjoint(&wk->g, wk->v, n, dx, (size_t)cols, wk->scratch);
}
