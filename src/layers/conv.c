/* 2-D convolution (cross-correlation, as PyTorch's Conv2d) by im2col + GEMM over chunks of
 * the batch: a chunk's columns sit side by side, col is (cin*k*k) x (chunk*oh*ow), and
 * Y' = W (cout x cin*k*k) . col is cout x (chunk*oh*ow), reordered to NCHW. Wide GEMMs keep
 * BLAS efficient on the small maps of GAN layers; chunks keep col within the caches (one
 * col for a batch of 256 would be 40 MB). Padding may be asymmetric. With sn, W is spectrally
 * normalised as the (cout x cin*k*k) matrix, as PyTorch reshapes it (spectral_norm.c). */
#include "ganc_internal.h"

#include <string.h>

static ganc_conv_geom conv_geom(const ganc_layer *L)
{
    return (ganc_conv_geom){L->in.c, L->in.h, L->in.w, L->spec.k, L->spec.stride, L->pad_t, L->pad_l,
                            L->out.h, L->out.w};
}

/* The batch is cut into one contiguous part per thread (ganc_pass_threads); a part is worked
 * through in chunks of at most ganc_conv_chunk samples (ganc_conv_grad_chunk when the pass
 * accumulates weight gradients) with its own block of p->work:
 *   col (kk x chunk*plane) | channel-major output (cout x chunk*plane) | dW | dbias | plane
 * (plane: im2col's bordered input plane, ganc_conv_plane_floats)
 * so im2col, GEMM and layout copy of a chunk stay in that core's caches and the threads
 * never wait for each other inside a layer. Weight gradients: part 0 accumulates into dW,
 * the others into their block, summed into dW in part order at the end. When OpenMP grants
 * fewer threads than parts, a thread runs several parts in turn (ganc_team_size): the same
 * parts with the same products, so the same bits. */
static size_t conv_col_floats(const ganc_layer *L)
{
    const size_t kk = (size_t)L->in.c * L->spec.k * L->spec.k, plane = (size_t)L->out.h * L->out.w;
    return kk * plane * (size_t)ganc_conv_grad_chunk(kk, plane);
}

static size_t conv_cm_floats(const ganc_layer *L)
{
    const size_t kk = (size_t)L->in.c * L->spec.k * L->spec.k, plane = (size_t)L->out.h * L->out.w;
    return (size_t)L->out.c * plane * (size_t)ganc_conv_grad_chunk(kk, plane);
}

/* W packed for the GEMM kernels, as op(A) of the forward (cout x kk) or of the input gradient
 * (W^T, kk x cout): once per pass and thread rather than once per chunk (ganc_sgemm_pack_a). */
static size_t conv_packed_floats(const ganc_layer *L)
{
    const int kk = L->in.c * L->spec.k * L->spec.k;
    const size_t fwd = ganc_sgemm_packed_floats(L->spec.units, kk), bwd = ganc_sgemm_packed_floats(kk, L->spec.units);
    return fwd > bwd ? fwd : bwd;
}

static int conv_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    const ganc_layer_spec *sp = &L->spec;
    if (sp->units <= 0 || sp->k <= 0 || sp->stride <= 0)
        return ganc_fail(err, "conv needs positive channels, k and stride");
    int oh, ow;
    if (ganc_resolve_padding(sp, 0, L->in.h, &oh, &L->pad_t, &L->pad_b) ||
        ganc_resolve_padding(sp, 0, L->in.w, &ow, &L->pad_l, &L->pad_r))
        return ganc_fail(err, "conv k=%d does not fit its %dx%d input", sp->k, L->in.h, L->in.w);
    L->out = (ganc_shape){sp->units, oh, ow};
    const size_t kk = (size_t)L->in.c * sp->k * sp->k;
    L->n_weight = (size_t)sp->units * kk;
    L->n_bias = sp->bias ? (size_t)sp->units : 0;
    const ganc_conv_geom g = conv_geom(L);
    L->n_work = conv_col_floats(L) + conv_cm_floats(L) + L->n_weight + L->n_bias + ganc_conv_plane_floats(&g) +
                conv_packed_floats(L);
    if (ganc_wino_geometry(&g)) { /* Winograd's block: its transforms, then this part's dW | dbias; U shared */
        const size_t wino = ganc_wino_work_floats(&g, sp->units) + L->n_weight + L->n_bias;
        if (wino > L->n_work) L->n_work = wino;
        L->n_shared = ganc_wino_shared_floats(&g, sp->units);
    }
    L->weight_ndim = 4;
    L->weight_dims[0] = sp->units;
    L->weight_dims[1] = L->in.c;
    L->weight_dims[2] = L->weight_dims[3] = sp->k;
    ganc_sn_setup(L, sp->units, 1, (int)kk);
    return 0;
}

static void conv_init(ganc_layer *L, ganc_init_scheme scheme, ganc_rng *rng)
{
    ganc_init_weighted(L, scheme, L->in.c * L->spec.k * L->spec.k, rng); /* fan-in: one filter's weights */
}

/* This thread's bordered-plane scratch in its work block (col points at the block's start). */
static float *plane_scratch(const ganc_layer *L, float *col)
{
    return col + conv_col_floats(L) + conv_cm_floats(L) + L->n_weight + L->n_bias;
}

/* This thread's packed W (after the plane), or NULL when the products run unpacked: kernels
 * without packing, one part whose products ganc_sgemm splits over the threads itself, or a
 * bf16 pass (ganc_sgemm_bf16 rounds the weight as it goes; the packing is the fp32 kernels') */
static float *packed_scratch(const ganc_layer *L, float *col, int threads, const ganc_pass *p)
{
    if (p->bf16 || !ganc_sgemm_packing() || !conv_packed_floats(L) || (threads == 1 && ganc_threads() > 1)) return NULL;
    const ganc_conv_geom g = conv_geom(L);
    return plane_scratch(L, col) + ganc_conv_plane_floats(&g);
}

/* col (kk x n*plane) from n samples of x. */
static void chunk_im2col(const ganc_layer *L, const ganc_conv_geom *g, const float *x, float *col, int n)
{
    const size_t plane = (size_t)L->out.h * L->out.w, in_size = ganc_shape_size(L->in);
    float *buf = plane_scratch(L, col);
    for (int i = 0; i < n; i++) ganc_im2col(g, x + i * in_size, col + i * plane, (size_t)n * plane, buf);
}

/* One output position whose window is the whole unpadded input: col would be the input itself
 * (rows (ci, ky, kx) = (ci, y, x)), so the layer is a dense one (ganc_rows_forward): D's last
 * layer on its 4x4 map, which as a convolution ran its GEMM one column wide. */
static int conv_is_dense(const ganc_layer *L)
{
    return L->out.h == 1 && L->out.w == 1 && L->in.h == L->spec.k && L->in.w == L->spec.k && L->pad_t == 0 &&
           L->pad_l == 0 && L->pad_b == 0 && L->pad_r == 0;
}

/* The Winograd passes (conv_wino.c) for 4x4 stride-2 padding-1 layers in fp32: 9/16 of the
 * multiplications. bf16 passes keep im2col, whose products round exactly the layer's inputs. */
static int conv_wino(const ganc_layer *L, const ganc_pass *p)
{
    const ganc_conv_geom g = conv_geom(L);
    return !p->bf16 && ganc_wino_fits(&g, L->out.c);
}

static void conv_forward(ganc_layer *L, const float *x, float *y, int n_all, const ganc_pass *p)
{
    if (conv_is_dense(L)) {
        ganc_rows_forward(L, (int)(L->n_weight / L->out.c), x, y, n_all, p);
        return;
    }
    if (conv_wino(L, p)) {
        const ganc_conv_geom g = conv_geom(L);
        ganc_wino_layer_pass(L, p, &g, L->out.c, ganc_sn_forward_weight(L, p), 0, x, y, n_all, 1);
        return;
    }
    const ganc_conv_geom g = conv_geom(L);
    const int cout = L->out.c, kk = L->in.c * L->spec.k * L->spec.k;
    const size_t plane = (size_t)L->out.h * L->out.w, in_size = ganc_shape_size(L->in), out_size = ganc_shape_size(L->out);
    const int chunk = ganc_conv_chunk((size_t)kk, plane), threads = ganc_pass_threads(p, n_all);
    const float *w = ganc_sn_forward_weight(L, p);
    const size_t col_floats = conv_col_floats(L);
    ganc_sgemm_fn *const gemm = threads > 1 ? GANC_PASS_GEMM_SERIAL(p) : GANC_PASS_GEMM(p);
    const ganc_chunks ch = ganc_batch_chunks(n_all, chunk);
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float *col = p->work + (size_t)ganc_thread_num() * L->n_work, *ycm = col + col_floats;
        float *wpk = packed_scratch(L, col, threads, p);
        if (wpk) ganc_sgemm_pack_a(0, cout, kk, w, kk, wpk);
#pragma omp for schedule(dynamic, 1)
        for (int q = 0; q < ch.parts; q++) {
            const int i0 = ganc_chunk_start(&ch, q), n = ganc_chunk_start(&ch, q + 1) - i0;
            const size_t np = (size_t)n * plane;
            chunk_im2col(L, &g, x + i0 * in_size, col, n);
            if (wpk) ganc_sgemm_packed(wpk, 0, 0, cout, (int)np, kk, 1.0f, w, kk, col, (int)np, 0.0f, ycm, (int)np);
            else gemm(0, 0, cout, (int)np, kk, 1.0f, w, kk, col, (int)np, 0.0f, ycm, (int)np);
            if (L->n_bias)
                for (int c = 0; c < cout; c++)
                    for (size_t j = 0; j < np; j++) ycm[(size_t)c * np + j] += L->bias[c];
            ganc_cnp_to_nchw(ycm, y + i0 * out_size, n, cout, plane);
        }
    }
}

/* The input gradient of n samples from their channel-major output gradient dycm (ld columns
 * apart), in chunks of at most `small` samples: col = W^T dycm, then col2im. */
static void input_grad(const ganc_layer *L, const ganc_conv_geom *g, const float *w, const float *wpk,
                       ganc_sgemm_fn *gemm, const float *dycm, size_t ld, float *dx, int n, int small, float *col)
{
    const int cout = L->out.c, kk = L->in.c * L->spec.k * L->spec.k;
    const size_t plane = (size_t)L->out.h * L->out.w, in_size = ganc_shape_size(L->in);
    for (int s0 = 0; s0 < n; s0 += small) {
        const int ns = n - s0 < small ? n - s0 : small;
        const size_t nps = (size_t)ns * plane;
        const float *dys = dycm + (size_t)s0 * plane;
        if (wpk) ganc_sgemm_packed(wpk, 1, 0, kk, (int)nps, cout, 1.0f, w, kk, dys, (int)ld, 0.0f, col, (int)nps);
        else gemm(1, 0, kk, (int)nps, cout, 1.0f, w, kk, dys, (int)ld, 0.0f, col, (int)nps);
        for (int i = 0; i < ns; i++) {
            ganc_col2im_set(g, col + i * plane, dx + (size_t)(s0 + i) * in_size, nps, plane_scratch(L, col));
        }
    }
}

/* Without weight gradients (G's step through D) only the input gradient: chunks taken as
 * threads finish (ganc_batch_chunks). */
static void conv_input_grad_only(ganc_layer *L, const float *dy_all, float *dx_all, int n_all, const ganc_pass *p)
{
    const ganc_conv_geom g = conv_geom(L);
    const int cout = L->out.c, kk = L->in.c * L->spec.k * L->spec.k;
    const size_t plane = (size_t)L->out.h * L->out.w, in_size = ganc_shape_size(L->in), out_size = ganc_shape_size(L->out);
    const int chunk = ganc_conv_chunk((size_t)kk, plane), threads = ganc_pass_threads(p, n_all);
    const size_t col_floats = conv_col_floats(L);
    const float *w = ganc_sn_weight(L);
    ganc_sgemm_fn *const gemm = threads > 1 ? GANC_PASS_GEMM_SERIAL(p) : GANC_PASS_GEMM(p);
    const ganc_chunks ch = ganc_batch_chunks(n_all, chunk);
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float *col = p->work + (size_t)ganc_thread_num() * L->n_work, *dycm = col + col_floats;
        float *wpk = packed_scratch(L, col, threads, p);
        if (wpk) ganc_sgemm_pack_a(1, kk, cout, w, kk, wpk);
#pragma omp for schedule(dynamic, 1)
        for (int q = 0; q < ch.parts; q++) {
            const int i0 = ganc_chunk_start(&ch, q), n = ganc_chunk_start(&ch, q + 1) - i0;
            ganc_nchw_to_cnp(dy_all + i0 * out_size, dycm, n, cout, plane);
            input_grad(L, &g, w, wpk, gemm, dycm, (size_t)n * plane, dx_all + i0 * in_size, n, n, col);
        }
    }
}

static void conv_backward(ganc_layer *L, const float *x_all, const float *y, const float *dy_all, float *dx_all,
                          int n_all, int param_grads, const ganc_pass *p)
{
    (void)y;
    if (conv_is_dense(L)) {
        ganc_rows_backward(L, (int)(L->n_weight / L->out.c), x_all, dy_all, dx_all, n_all, param_grads, p);
        return;
    }
    if (!param_grads) {
        const ganc_conv_geom g = conv_geom(L);
        if (dx_all && conv_wino(L, p)) ganc_wino_layer_pass(L, p, &g, L->out.c, ganc_sn_weight(L), 1, dy_all, dx_all, n_all, 0);
        else if (dx_all) conv_input_grad_only(L, dy_all, dx_all, n_all, p);
        return;
    }
    if (conv_wino(L, p)) {
        const ganc_conv_geom g = conv_geom(L);
        ganc_wino_layer_grads(L, p, &g, L->out.c, 0, x_all, dy_all, dx_all, n_all);
        return;
    }
    const ganc_conv_geom g = conv_geom(L);
    const int cout = L->out.c, kk = L->in.c * L->spec.k * L->spec.k;
    const size_t plane = (size_t)L->out.h * L->out.w, in_size = ganc_shape_size(L->in), out_size = ganc_shape_size(L->out);
    const int threads = ganc_pass_threads(p, n_all);
    const size_t col_floats = conv_col_floats(L), cm_floats = conv_cm_floats(L);
    float *dw_all = ganc_sn_grad_begin(L, p);
    /* long chunks for the weight gradients (ganc_conv_grad_chunk), the forward's short ones
     * inside them for the input gradient */
    const int small = ganc_conv_chunk((size_t)kk, plane), chunk = ganc_conv_grad_chunk((size_t)kk, plane);
    const float *w = ganc_sn_weight(L);
    ganc_sgemm_fn *const gemm = threads > 1 ? GANC_PASS_GEMM_SERIAL(p) : GANC_PASS_GEMM(p);
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        for (int t = ganc_thread_num(), team = ganc_team_size(); t < threads; t += team) {
            float *col = p->work + (size_t)t * L->n_work, *dycm = col + col_floats, *dw, *db;
            ganc_part_grads(L, p, col_floats + cm_floats, t, dw_all, &dw, &db);
            float *wpk = dx_all ? packed_scratch(L, col, threads, p) : NULL;
            if (wpk) ganc_sgemm_pack_a(1, kk, cout, w, kk, wpk);
            const ganc_chunks ch = ganc_thread_chunks(n_all, threads, t, chunk);
            for (int q = 0; q < ch.parts; q++) {
                const int i0 = ganc_chunk_start(&ch, q), n = ganc_chunk_start(&ch, q + 1) - i0;
                const size_t np = (size_t)n * plane;
                ganc_nchw_to_cnp(dy_all + i0 * out_size, dycm, n, cout, plane);
                if (dw) {
                    chunk_im2col(L, &g, x_all + i0 * in_size, col, n);
                    gemm(0, 1, cout, kk, (int)np, 1.0f, dycm, (int)np, col, (int)np, 1.0f, dw, kk);
                    if (L->n_bias)
                        for (int c = 0; c < cout; c++) {
                            float s = 0.0f;
                            for (size_t j = 0; j < np; j++) s += dycm[(size_t)c * np + j];
                            db[c] += s;
                        }
                }
                /* the input gradient in the forward's short chunks: col (kk x their columns)
                 * then stays in the caches for col2im, and the values are those of the pass
                 * without weight gradients (bit for bit with ganc's own GEMM; OpenBLAS may
                 * differ in the last bits with a product's width: tests/test_conv_chunks.c) */
                if (dx_all) input_grad(L, &g, w, wpk, gemm, dycm, np, dx_all + i0 * in_size, n, small, col);
            }
        }
        if (dw_all && threads > 1) ganc_sum_thread_grads(L, p, col_floats + cm_floats, threads, dw_all);
    }
    if (dw_all) ganc_sn_grad_end(L, p);
}

/* each output value: one multiply-add per weight of its channel's filter (cin*k*k) */
static double conv_flops(const ganc_layer *L, int n)
{
    return 2.0 * n * (double)ganc_shape_size(L->out) * ((double)L->n_weight / L->out.c);
}

static const ganc_layer_option conv_options[] = {GANC_WINDOW_OPTIONS, GANC_OPTIONS_END};

const ganc_layer_def ganc_conv_def = {
    .name = "conv",
    .sizes = ganc_units_size,
    .needs = "the number of output channels and k=, e.g. conv 64 k=5",
    .options = conv_options,
    .weighted = 1,
    .sizes_fit = ganc_window_sizes_fit,
    .setup = conv_setup,
    .init = conv_init,
    .reset_state = ganc_sn_reset_state,
    .forward = conv_forward,
    .backward = conv_backward,
    .flops = conv_flops,
};
