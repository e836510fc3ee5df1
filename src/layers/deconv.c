/* Transposed 2-D convolution (PyTorch's ConvTranspose2d, weight (cin, cout, k, k)): the
 * adjoint of a convolution. With a chunk of the batch laid channel-major, X' is
 * cin x (chunk*h*w), one GEMM gives col = W^T . X' ((cout*k*k) x (chunk*h*w)), and col2im
 * scatters each sample's columns into its output (chunks as in conv.c). The output is the
 * full (in-1)*s+k map cropped by the pads (padding.c). With sn, W is spectrally normalised
 * with one row per OUTPUT channel, as PyTorch's spectral_norm does for ConvTranspose2d
 * (dim=1): the matrix is W permuted to (cout, cin*k*k) (spectral_norm.c). */
#include "ganc_internal.h"

#include <string.h>

/* Geometry of the convolution whose adjoint this layer is: it maps our output to our input. */
static ganc_conv_geom deconv_geom(const ganc_layer *L)
{
    return (ganc_conv_geom){L->out.c, L->out.h, L->out.w, L->spec.k, L->spec.stride, L->pad_t, L->pad_l,
                            L->in.h, L->in.w};
}

/* W packed for the GEMM kernels, as op(A) of the forward (W^T, cout*k*k x cin) or of the
 * input gradient (W, cin x cout*k*k): once per pass and thread (see conv.c). */
static size_t deconv_packed_floats(const ganc_layer *L)
{
    const int kk = L->spec.units * L->spec.k * L->spec.k;
    const size_t fwd = ganc_sgemm_packed_floats(kk, L->in.c), bwd = ganc_sgemm_packed_floats(L->in.c, kk);
    return fwd > bwd ? fwd : bwd;
}

static int deconv_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    const ganc_layer_spec *sp = &L->spec;
    if (sp->units <= 0 || sp->k <= 0 || sp->stride <= 0)
        return ganc_fail(err, "deconv needs positive channels, k and stride");
    if (sp->pad_mode == GANC_PAD_EXPLICIT && sp->outpad >= sp->stride)
        return ganc_fail(err, "deconv outpad=%d must be smaller than stride=%d", sp->outpad, sp->stride);
    int oh, ow;
    if (ganc_resolve_padding(sp, 1, L->in.h, &oh, &L->pad_t, &L->pad_b) ||
        ganc_resolve_padding(sp, 1, L->in.w, &ow, &L->pad_l, &L->pad_r))
        return ganc_fail(err, "deconv padding leaves no output for its %dx%d input", L->in.h, L->in.w);
    L->out = (ganc_shape){sp->units, oh, ow};
    const size_t kk = (size_t)sp->units * sp->k * sp->k, plane_in = (size_t)L->in.h * L->in.w;
    L->n_weight = (size_t)L->in.c * kk;
    L->n_bias = sp->bias ? (size_t)sp->units : 0;
    /* per thread (see conv.c): col | channel-major input | dW | dbias | bordered plane */
    const ganc_conv_geom g = deconv_geom(L);
    L->n_work = (kk + (size_t)L->in.c) * plane_in * (size_t)ganc_conv_grad_chunk(kk, plane_in) + L->n_weight + L->n_bias +
                ganc_conv_plane_floats(&g) + deconv_packed_floats(L);
    if (ganc_wino_geometry(&g)) { /* Winograd's block: its transforms, then this part's dW | dbias; U shared */
        const size_t wino = ganc_wino_work_floats(&g, L->in.c) + L->n_weight + L->n_bias;
        if (wino > L->n_work) L->n_work = wino;
        L->n_shared = ganc_wino_shared_floats(&g, L->in.c);
    }
    L->weight_ndim = 4;
    L->weight_dims[0] = L->in.c;
    L->weight_dims[1] = sp->units;
    L->weight_dims[2] = L->weight_dims[3] = sp->k;
    ganc_sn_setup(L, sp->units, L->in.c, sp->k * sp->k);
    return 0;
}

static void deconv_init(ganc_layer *L, ganc_init_scheme scheme, ganc_rng *rng)
{
    /* PyTorch computes ConvTranspose2d's fan-in from weight.size(1), the OUTPUT channels. */
    ganc_init_weighted(L, scheme, L->spec.units * L->spec.k * L->spec.k, rng);
}

/* Samples per chunk: the forward's, or the longer ones of a backward with weight gradients
 * (conv.c); the work block holds the longer. */
static int deconv_chunk(const ganc_layer *L, int grads)
{
    const size_t kk = (size_t)L->out.c * L->spec.k * L->spec.k, plane = (size_t)L->in.h * L->in.w;
    return grads ? ganc_conv_grad_chunk(kk, plane) : ganc_conv_chunk(kk, plane);
}

static size_t deconv_col_floats(const ganc_layer *L)
{
    return (size_t)L->out.c * L->spec.k * L->spec.k * L->in.h * L->in.w * (size_t)deconv_chunk(L, 1);
}

static size_t deconv_cm_floats(const ganc_layer *L)
{
    return (size_t)L->in.c * L->in.h * L->in.w * (size_t)deconv_chunk(L, 1);
}

/* A thread's work block: col | channel-major input | dW | dbias | bordered plane (im2col's). */
static float *plane_scratch(const ganc_layer *L, float *work)
{
    return work + deconv_col_floats(L) + deconv_cm_floats(L) + L->n_weight + L->n_bias;
}

/* This thread's packed W (after the plane), or NULL when the products run unpacked (conv.c). */
static float *packed_scratch(const ganc_layer *L, float *work, int threads, const ganc_pass *p)
{
    if (p->bf16 || !ganc_sgemm_packing() || !deconv_packed_floats(L) || (threads == 1 && ganc_threads() > 1)) return NULL;
    const ganc_conv_geom g = deconv_geom(L);
    return plane_scratch(L, work) + ganc_conv_plane_floats(&g);
}

/* n samples from x to y with a part's work block; gemm: see conv.c; wpk: W packed as the
 * product's op(A), or NULL. */
static void deconv_forward_chunk(ganc_layer *L, const float *x, float *y, int n, const float *w, const float *wpk,
                                 float *work, ganc_sgemm_fn *gemm)
{
    const ganc_conv_geom g = deconv_geom(L);
    const int cin = L->in.c, kk = L->out.c * L->spec.k * L->spec.k;
    const size_t plane_in = (size_t)L->in.h * L->in.w, np = (size_t)n * plane_in;
    const size_t plane_out = (size_t)L->out.h * L->out.w, out_size = ganc_shape_size(L->out);
    float *col = work, *xcm = work + deconv_col_floats(L);
    ganc_nchw_to_cnp(x, xcm, n, cin, plane_in);
    if (wpk) ganc_sgemm_packed(wpk, 1, 0, kk, (int)np, cin, 1.0f, w, kk, xcm, (int)np, 0.0f, col, (int)np);
    else gemm(1, 0, kk, (int)np, cin, 1.0f, w, kk, xcm, (int)np, 0.0f, col, (int)np);
    for (int i = 0; i < n; i++) {
        float *yi = y + i * out_size;
        ganc_col2im_set(&g, col + i * plane_in, yi, np, plane_scratch(L, work));
        if (L->n_bias) /* bias + sum, as when the sums were added to the bias: the same bits */
            for (int c = 0; c < L->out.c; c++)
                for (size_t j = 0; j < plane_out; j++) yi[(size_t)c * plane_out + j] += L->bias[c];
    }
}

/* w: the weight the forward used; dw, db: where this part's gradients accumulate (NULL: none
 * wanted). */
static void deconv_backward_chunk(ganc_layer *L, const float *x, const float *dy, float *dx, int n, const float *w,
                                  const float *wpk, float *dw, float *db, float *work, ganc_sgemm_fn *gemm)
{
    const ganc_conv_geom g = deconv_geom(L);
    const int cin = L->in.c, kk = L->out.c * L->spec.k * L->spec.k;
    const size_t plane_in = (size_t)L->in.h * L->in.w, np = (size_t)n * plane_in;
    const size_t plane_out = (size_t)L->out.h * L->out.w, out_size = ganc_shape_size(L->out);
    float *col = work, *cm = work + deconv_col_floats(L);
    for (int i = 0; i < n; i++) ganc_im2col(&g, dy + i * out_size, col + i * plane_in, np, plane_scratch(L, work));
    if (dw) {
        ganc_nchw_to_cnp(x, cm, n, cin, plane_in);
        gemm(0, 1, cin, kk, (int)np, 1.0f, cm, (int)np, col, (int)np, 1.0f, dw, kk);
        if (L->n_bias)
            for (int c = 0; c < L->out.c; c++) {
                float s = 0.0f;
                for (int i = 0; i < n; i++) {
                    const float *dyc = dy + i * out_size + (size_t)c * plane_out;
                    for (size_t j = 0; j < plane_out; j++) s += dyc[j];
                }
                db[c] += s;
            }
    }
    if (dx) {
        if (wpk) ganc_sgemm_packed(wpk, 0, 0, cin, (int)np, kk, 1.0f, w, kk, col, (int)np, 0.0f, cm, (int)np);
        else gemm(0, 0, cin, (int)np, kk, 1.0f, w, kk, col, (int)np, 0.0f, cm, (int)np);
        ganc_cnp_to_nchw(cm, dx, n, cin, plane_in);
    }
}

/* A 1x1 input spread unpadded over a k x k output (G's first layer from z): col2im would only
 * copy col into the output, so one product over the whole batch does it,
 * Y (n x cout*k*k) = X (n x cin) . W (cin x cout*k*k), and its adjoints. */
static int deconv_is_dense(const ganc_layer *L)
{
    return L->in.h == 1 && L->in.w == 1 && L->out.h == L->spec.k && L->out.w == L->spec.k && L->pad_t == 0 &&
           L->pad_l == 0 && L->pad_b == 0 && L->pad_r == 0;
}

static void dense_deconv_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    const int cin = L->in.c, cols = (int)ganc_shape_size(L->out), kk = L->spec.k * L->spec.k;
    GANC_PASS_GEMM(p)(0, 0, n, cols, cin, 1.0f, x, cin, ganc_sn_forward_weight(L, p), cols, 0.0f, y, cols);
    if (L->n_bias)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < cols; j++) y[(size_t)i * cols + j] += L->bias[j / kk];
}

static void dense_deconv_backward(ganc_layer *L, const float *x, const float *dy, float *dx, int n, int param_grads,
                                  const ganc_pass *p)
{
    const int cin = L->in.c, cols = (int)ganc_shape_size(L->out), kk = L->spec.k * L->spec.k;
    if (dx) GANC_PASS_GEMM(p)(0, 1, n, cin, cols, 1.0f, dy, cols, ganc_sn_weight(L), cols, 0.0f, dx, cin);
    if (!param_grads) return;
    GANC_PASS_GEMM(p)(1, 0, cin, cols, n, 1.0f, x, cin, dy, cols, 1.0f, ganc_sn_grad_begin(L, p), cols);
    ganc_sn_grad_end(L, p);
    if (L->n_bias)
        for (int c = 0; c < L->out.c; c++) {
            float s = 0.0f;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < kk; j++) s += dy[(size_t)i * cols + (size_t)c * kk + j];
            L->dbias[c] += s;
        }
}

/* The Winograd passes (conv_wino.c, as in conv.c) for 4x4 stride-2 padding-1 layers in fp32:
 * this layer is the adjoint of the convolution of geometry deconv_geom with in.c outputs, so
 * its forward is that convolution's input gradient and its input gradient that forward. */
static int deconv_wino(const ganc_layer *L, const ganc_pass *p)
{
    const ganc_conv_geom g = deconv_geom(L);
    return !p->bf16 && ganc_wino_fits(&g, L->in.c);
}

/* Parts, threads and chunks as in conv.c. */
static void deconv_forward(ganc_layer *L, const float *x, float *y, int n_all, const ganc_pass *p)
{
    if (deconv_is_dense(L)) {
        dense_deconv_forward(L, x, y, n_all, p);
        return;
    }
    if (deconv_wino(L, p)) {
        const ganc_conv_geom g = deconv_geom(L);
        ganc_wino_layer_pass(L, p, &g, L->in.c, ganc_sn_forward_weight(L, p), 1, x, y, n_all, 1);
        return;
    }
    const size_t in_size = ganc_shape_size(L->in), out_size = ganc_shape_size(L->out);
    const int chunk = deconv_chunk(L, 0), threads = ganc_pass_threads(p, n_all);
    const float *w = ganc_sn_forward_weight(L, p);
    ganc_sgemm_fn *const gemm = threads > 1 ? GANC_PASS_GEMM_SERIAL(p) : GANC_PASS_GEMM(p);
    const ganc_chunks ch = ganc_batch_chunks(n_all, chunk); /* taken as threads finish */
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float *work = p->work + (size_t)ganc_thread_num() * L->n_work, *wpk = packed_scratch(L, work, threads, p);
        if (wpk) ganc_sgemm_pack_a(1, L->out.c * L->spec.k * L->spec.k, L->in.c, w, L->out.c * L->spec.k * L->spec.k, wpk);
#pragma omp for schedule(dynamic, 1)
        for (int q = 0; q < ch.parts; q++) {
            const int i0 = ganc_chunk_start(&ch, q), n = ganc_chunk_start(&ch, q + 1) - i0;
            deconv_forward_chunk(L, x + i0 * in_size, y + i0 * out_size, n, w, wpk, work, gemm);
        }
    }
}

static void deconv_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n_all,
                            int param_grads, const ganc_pass *p)
{
    (void)y;
    if (deconv_is_dense(L)) {
        dense_deconv_backward(L, x, dy, dx, n_all, param_grads, p);
        return;
    }
    if (deconv_wino(L, p)) {
        const ganc_conv_geom g = deconv_geom(L);
        if (param_grads) ganc_wino_layer_grads(L, p, &g, L->in.c, 1, x, dy, dx, n_all);
        else if (dx) ganc_wino_layer_pass(L, p, &g, L->in.c, ganc_sn_weight(L), 0, dy, dx, n_all, 0);
        return;
    }
    const size_t in_size = ganc_shape_size(L->in), out_size = ganc_shape_size(L->out);
    const int threads = ganc_pass_threads(p, n_all);
    const size_t grads_at = deconv_col_floats(L) + deconv_cm_floats(L);
    float *dw_all = param_grads ? ganc_sn_grad_begin(L, p) : NULL;
    const int chunk = deconv_chunk(L, dw_all != NULL);
    const float *w = ganc_sn_weight(L);
    ganc_sgemm_fn *const gemm = threads > 1 ? GANC_PASS_GEMM_SERIAL(p) : GANC_PASS_GEMM(p);
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        for (int t = ganc_thread_num(), team = ganc_team_size(); t < threads; t += team) {
            float *work = p->work + (size_t)t * L->n_work, *dw, *db;
            ganc_part_grads(L, p, grads_at, t, dw_all, &dw, &db);
            float *wpk = dx ? packed_scratch(L, work, threads, p) : NULL;
            if (wpk) ganc_sgemm_pack_a(0, L->in.c, L->out.c * L->spec.k * L->spec.k, w, L->out.c * L->spec.k * L->spec.k, wpk);
            const ganc_chunks ch = ganc_thread_chunks(n_all, threads, t, chunk);
            for (int q = 0; q < ch.parts; q++) {
                const int i0 = ganc_chunk_start(&ch, q), n = ganc_chunk_start(&ch, q + 1) - i0;
                deconv_backward_chunk(L, x + i0 * in_size, dy + i0 * out_size, dx ? dx + i0 * in_size : NULL, n, w, wpk,
                                      dw, db, work, gemm);
            }
        }
        if (dw_all && threads > 1) ganc_sum_thread_grads(L, p, grads_at, threads, dw_all);
    }
    if (dw_all) ganc_sn_grad_end(L, p);
}

/* The window's sizes, and the full output side (in - 1) * stride + k within the float limit. */
static int deconv_sizes_fit(const ganc_layer *L, char err[GANC_ERR_LEN])
{
    if (ganc_window_sizes_fit(L, err)) return -1;
    const ganc_layer_spec *sp = &L->spec;
    const long long side = L->in.h > L->in.w ? L->in.h : L->in.w;
    if (side * sp->stride + sp->k + sp->outpad > (long long)GANC_MAX_LAYER_FLOATS)
        return ganc_fail(err, "deconv layer is too large (an output side over %zu from a %d x %d input, stride %d)",
                         GANC_MAX_LAYER_FLOATS, L->in.h, L->in.w, sp->stride);
    return 0;
}

/* each input value is spread over cout*k*k outputs */
static double deconv_flops(const ganc_layer *L, int n)
{
    return 2.0 * n * (double)ganc_shape_size(L->in) * ((double)L->n_weight / L->in.c);
}

static const ganc_layer_option deconv_options[] = {
    GANC_WINDOW_OPTIONS,
    GANC_INT_OPTION("outpad", outpad, 0, GANC_MAX_KERNEL, 0),
    GANC_OPTIONS_END,
};

const ganc_layer_def ganc_deconv_def = {
    .name = "deconv",
    .sizes = ganc_units_size,
    .needs = "the number of output channels and k=, e.g. deconv 64 k=5",
    .options = deconv_options,
    .weighted = 1,
    .sizes_fit = deconv_sizes_fit,
    .setup = deconv_setup,
    .init = deconv_init,
    .reset_state = ganc_sn_reset_state,
    .forward = deconv_forward,
    .backward = deconv_backward,
    .flops = deconv_flops,
};
