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

#include <stdatomic.h>

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

/* The pass's shared block: the 9 packed points, or U itself where the products run unpacked.
 * One for all threads (they only read it), prepared by all of them (ganc_wino_prepare). */
size_t ganc_wino_shared_floats(const ganc_conv_geom *g, int cout)
{
    const size_t pk = 9 * packed_point(g, cout), u = ganc_wino_u_floats(g, cout);
    return pk > u ? pk : u;
}

/* A thread's block: dU | V, M (which also hold this thread's points of U for the moment it
 * takes to pack them) | scratch. */
static size_t vm_floats(const ganc_conv_geom *g, int cout)
{
    const size_t vm = 9 * ((size_t)4 * g->c + (size_t)cout) * max_cols(g), u_pt = ganc_wino_u_floats(g, cout) / 9;
    return vm > u_pt ? vm : u_pt;
}

size_t ganc_wino_work_floats(const ganc_conv_geom *g, int cout)
{
    return ganc_wino_u_floats(g, cout) + vm_floats(g, cout) + ganc_wino_scratch_floats(g, cout, ganc_wino_chunk(g, 1));
}

ganc_wino ganc_wino_at(const ganc_conv_geom *g, int cout, float *work, float *shared)
{
    ganc_wino wk = {*g, cout, NULL, NULL, NULL, work, NULL, shared, packed_point(g, cout), -1};
    wk.v = wk.du + ganc_wino_u_floats(g, cout);
    wk.m = wk.v + 9 * (size_t)4 * g->c * max_cols(g);
    wk.scratch = wk.v + vm_floats(g, cout);
    return wk;
}

/* This thread's share of the 9 points: [*pt0, *pt1) */
static void my_points(int *pt0, int *pt1)
{
    int lo, hi;
    ganc_split(9, ganc_team_size(), ganc_thread_num(), &lo, &hi);
    *pt0 = lo, *pt1 = hi;
}

/* Points [pt0, pt1) of U packed into the shared block, as many at a time as V's room holds
 * (each group reads w once) */
static void pack_points(const ganc_wino *wk, const float *w, int pack_as, int pt0, int pt1)
{
    const int k4 = 4 * wk->g.c, cout = wk->cout;
    const size_t u_pt = (size_t)cout * k4;
    const int per_group = (int)(vm_floats(&wk->g, cout) / u_pt);
    for (int p0 = pt0; p0 < pt1; p0 += per_group) {
        const int pts = pt1 - p0 < per_group ? pt1 - p0 : per_group;
        ganc_wino_weights(&wk->g, cout, w, p0, pts, wk->v);
        for (int i = 0; i < pts; i++) {
            const float *up = wk->v + i * u_pt;
            float *dst = wk->pk + (size_t)(p0 + i) * wk->pk_pt;
            if (pack_as) ganc_sgemm_pack_a(1, k4, cout, up, k4, dst);
            else ganc_sgemm_pack_a(0, cout, k4, up, k4, dst);
        }
    }
}

void ganc_wino_prepare(ganc_wino *wk, const float *w, int pack_as, _Atomic int *no_scratch)
{
    int pt0, pt1;
    my_points(&pt0, &pt1);
    const size_t u_pt = (size_t)wk->cout * 4 * wk->g.c;
    /* the packed products need every thread's kernel scratch: without it they would fall back
     * to an unpacked U */
    if (pack_as >= 0 && !ganc_kernel_scratch()) atomic_store_explicit(no_scratch, 1, memory_order_relaxed);
    if (pack_as >= 0) pack_points(wk, w, pack_as, pt0, pt1);
    else ganc_wino_weights(&wk->g, wk->cout, w, pt0, pt1 - pt0, wk->pk + (size_t)pt0 * u_pt);
#pragma omp barrier
    wk->u = NULL;
    wk->packed_as = pack_as;
    if (pack_as < 0 || atomic_load_explicit(no_scratch, memory_order_relaxed)) {
        if (pack_as >= 0) { /* a thread without scratch: U unpacked after all, in place of the packed */
            ganc_wino_weights(&wk->g, wk->cout, w, pt0, pt1 - pt0, wk->pk + (size_t)pt0 * u_pt);
#pragma omp barrier
        }
        wk->u = wk->pk; /* the products read U unpacked */
        wk->packed_as = -1;
    }
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

/* ---- the layers' passes (conv.c, deconv.c) ------------------------------------------------ */

/* the layer's bias added to n samples of its output */
static void add_bias(const ganc_layer *L, float *y, int n)
{
    const size_t plane = (size_t)L->out.h * L->out.w;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < L->out.c; c++) {
            float *yc = y + ((size_t)i * L->out.c + c) * plane;
            for (size_t j = 0; j < plane; j++) yc[j] += L->bias[c];
        }
}

/* How the pass's products use U (ganc_wino_prepare's pack_as): packed as `as` where the
 * kernels pack, unless one part runs while ganc has several threads: its products then go to
 * ganc_sgemm, which splits them over the threads itself (-1: unpacked). */
static int pack_as(const ganc_conv_geom *g, int cout, int threads, int as)
{
    if (threads == 1 && ganc_threads() > 1) return -1;
    return packed_point(g, cout) && ganc_sgemm_packing() ? as : -1;
}

void ganc_wino_layer_pass(ganc_layer *L, const ganc_pass *p, const ganc_conv_geom *g, int cout, const float *w,
                          int transposed, const float *in, float *out, int n_all, int add_layer_bias)
{
    const size_t x_size = (size_t)g->c * g->h * g->w, y_size = (size_t)cout * g->oh * g->ow;
    const size_t in_size = transposed ? y_size : x_size, out_size = transposed ? x_size : y_size;
    const int threads = ganc_pass_threads(p, n_all);
    ganc_sgemm_fn *const gemm = threads > 1 ? ganc_sgemm_serial : ganc_sgemm;
    const ganc_chunks ch = ganc_batch_chunks(n_all, ganc_wino_chunk(g, 0));
    const int as = pack_as(g, cout, threads, transposed);
    _Atomic int no_scratch = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        ganc_wino wk = ganc_wino_at(g, cout, p->work + (size_t)ganc_thread_num() * L->n_work, p->shared);
        ganc_wino_prepare(&wk, w, as, &no_scratch);
#pragma omp for schedule(dynamic, 1)
        for (int q = 0; q < ch.parts; q++) {
            const int i0 = ganc_chunk_start(&ch, q), n = ganc_chunk_start(&ch, q + 1) - i0;
            if (transposed) ganc_wino_input_grad(&wk, in + i0 * in_size, out + i0 * out_size, n, gemm);
            else ganc_wino_forward(&wk, in + i0 * in_size, out + i0 * out_size, n, gemm);
            if (add_layer_bias && L->n_bias) add_bias(L, out + i0 * out_size, n);
        }
    }
}

void ganc_wino_layer_grads(ganc_layer *L, const ganc_pass *p, const ganc_conv_geom *g, int cout, int transposed,
                           const float *x_all, const float *dy_all, float *dx_all, int n_all)
{
    const size_t in_size = ganc_shape_size(L->in), out_size = ganc_shape_size(L->out), plane = (size_t)L->out.h * L->out.w;
    const size_t grads_at = ganc_wino_work_floats(g, cout);
    const int threads = ganc_pass_threads(p, n_all), chunk = ganc_wino_chunk(g, 1);
    float *dw_all = ganc_sn_grad_begin(L, p);
    const float *w = ganc_sn_weight(L);
    ganc_sgemm_fn *const gemm = threads > 1 ? ganc_sgemm_serial : ganc_sgemm;
    /* the input gradient's products: the transposed ones of a convolution, the forward ones
     * of a transposed convolution */
    const int as = pack_as(g, cout, threads, !transposed);
    _Atomic int no_scratch = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        /* U once for every part, in the shared block (a thread's block is the first of its parts) */
        ganc_wino prepared = ganc_wino_at(g, cout, p->work + (size_t)ganc_thread_num() * L->n_work, p->shared);
        if (dx_all) ganc_wino_prepare(&prepared, w, as, &no_scratch);
        for (int t = ganc_thread_num(), team = ganc_team_size(); t < threads; t += team) {
            float *dw, *db;
            ganc_part_grads(L, p, grads_at, t, dw_all, &dw, &db);
            ganc_wino wk = ganc_wino_at(g, cout, p->work + (size_t)t * L->n_work, p->shared);
            wk.u = prepared.u;
            wk.packed_as = prepared.packed_as;
            memset(wk.du, 0, sizeof(float) * ganc_wino_u_floats(g, cout));
            const ganc_chunks ch = ganc_thread_chunks(n_all, threads, t, chunk);
            for (int q = 0; q < ch.parts; q++) {
                const int i0 = ganc_chunk_start(&ch, q), n = ganc_chunk_start(&ch, q + 1) - i0;
                const float *x = x_all + i0 * in_size, *dy = dy_all + i0 * out_size;
                float *dx = dx_all ? dx_all + i0 * in_size : NULL;
                if (!transposed) {
                    ganc_wino_backward(&wk, x, dy, dx, n, gemm);
                } else { /* the convolution's input is our dy, its output gradient our x */
                    ganc_wino_backward(&wk, dy, x, NULL, n, gemm);
                    if (dx) ganc_wino_forward(&wk, NULL, dx, n, gemm); /* from V = in(dy), kept */
                }
                if (L->n_bias && db)
                    for (int c = 0; c < L->out.c; c++) {
                        float sum = 0.0f;
                        for (int i = i0; i < i0 + n; i++) {
                            const float *dyc = dy_all + i * out_size + (size_t)c * plane;
                            for (size_t j = 0; j < plane; j++) sum += dyc[j];
                        }
                        db[c] += sum;
                    }
            }
            if (dw) ganc_wino_weight_grad(g, cout, wk.du, dw);
        }
        if (dw_all && threads > 1) ganc_sum_thread_grads(L, p, grads_at, threads, dw_all);
    }
    if (dw_all) ganc_sn_grad_end(L, p);
}
