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
    const size_t kk = (size_t)L->in.c * sp->k * sp->k, plane = (size_t)oh * ow;
    L->n_weight = (size_t)sp->units * kk;
    L->n_bias = sp->bias ? (size_t)sp->units : 0;
    L->n_work = (kk + (size_t)sp->units) * plane * (size_t)ganc_conv_chunk(kk, plane); /* col + channel-major output */
    L->weight_ndim = 4;
    L->weight_dims[0] = sp->units;
    L->weight_dims[1] = L->in.c;
    L->weight_dims[2] = L->weight_dims[3] = sp->k;
    ganc_sn_setup(L, sp->units, 1, (int)kk);
    return 0;
}

static void conv_init(ganc_layer *L, ganc_init_scheme scheme, ganc_rng *rng)
{
    const int fan_in = L->in.c * L->spec.k * L->spec.k;
    if (scheme == GANC_INIT_DCGAN) {
        ganc_rng_normal(rng, L->weight, L->n_weight, 0.0f, 0.02f);
        for (size_t i = 0; i < L->n_bias; i++) L->bias[i] = 0.0f;
    } else {
        ganc_init_torch_uniform(L->weight, L->n_weight, fan_in, rng);
        if (L->n_bias) ganc_init_torch_uniform(L->bias, L->n_bias, fan_in, rng);
    }
    ganc_sn_init(L, rng);
}

/* col (kk x n*plane) from the batch x. */
static void batch_im2col(const ganc_layer *L, const float *x, float *col, int n)
{
    const ganc_conv_geom g = conv_geom(L);
    const size_t plane = (size_t)L->out.h * L->out.w, in_size = ganc_shape_size(L->in);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) ganc_im2col(&g, x + i * in_size, col + i * plane, (size_t)n * plane);
}

static void conv_forward(ganc_layer *L, const float *x, float *y, int n_all, const ganc_pass *p)
{
    const int cout = L->out.c, kk = L->in.c * L->spec.k * L->spec.k;
    const size_t plane = (size_t)L->out.h * L->out.w, in_size = ganc_shape_size(L->in), out_size = ganc_shape_size(L->out);
    const int chunk = ganc_conv_chunk((size_t)kk, plane);
    const float *w = ganc_sn_forward_weight(L, p);
    for (int i0 = 0; i0 < n_all; i0 += chunk) {
        const int n = n_all - i0 < chunk ? n_all - i0 : chunk;
        const size_t np = (size_t)n * plane;
        float *col = p->work, *ycm = p->work + (size_t)kk * np;
        batch_im2col(L, x + i0 * in_size, col, n);
        ganc_sgemm(0, 0, cout, (int)np, kk, 1.0f, w, kk, col, (int)np, 0.0f, ycm, (int)np);
        if (L->n_bias)
#pragma omp parallel for schedule(static)
            for (int c = 0; c < cout; c++)
                for (size_t j = 0; j < np; j++) ycm[(size_t)c * np + j] += L->bias[c];
        ganc_cnp_to_nchw(ycm, y + i0 * out_size, n, cout, plane);
    }
}

/* Backward of n samples (one chunk): x, dy, dx point at the chunk's first sample; w is the
 * weight the forward used, dw where its gradient accumulates. */
static void conv_backward_chunk(ganc_layer *L, const ganc_conv_geom *gp, const float *x, const float *dy, float *dx,
                                int n, const float *w, float *dw, float *work)
{
    const ganc_conv_geom g = *gp;
    const int cout = L->out.c, kk = L->in.c * L->spec.k * L->spec.k;
    const size_t plane = (size_t)L->out.h * L->out.w, np = (size_t)n * plane, in_size = ganc_shape_size(L->in);
    float *col = work, *dycm = work + (size_t)kk * np;
    ganc_nchw_to_cnp(dy, dycm, n, cout, plane);
    if (dw) {
        batch_im2col(L, x, col, n);
        ganc_sgemm(0, 1, cout, kk, (int)np, 1.0f, dycm, (int)np, col, (int)np, 1.0f, dw, kk);
        if (L->n_bias)
            for (int c = 0; c < cout; c++) {
                float s = 0.0f;
                for (size_t j = 0; j < np; j++) s += dycm[(size_t)c * np + j];
                L->dbias[c] += s;
            }
    }
    if (dx) {
        ganc_sgemm(1, 0, kk, (int)np, cout, 1.0f, w, kk, dycm, (int)np, 0.0f, col, (int)np);
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            float *dxi = dx + i * in_size;
            memset(dxi, 0, sizeof(float) * in_size);
            ganc_col2im(&g, col + i * plane, dxi, np);
        }
    }
}

static void conv_backward(ganc_layer *L, const float *x_all, const float *y, const float *dy_all, float *dx_all,
                          int n_all, int param_grads, const ganc_pass *p)
{
    (void)y;
    const ganc_conv_geom g = conv_geom(L);
    const int kk = L->in.c * L->spec.k * L->spec.k;
    const size_t plane = (size_t)L->out.h * L->out.w, in_size = ganc_shape_size(L->in), out_size = ganc_shape_size(L->out);
    const int chunk = ganc_conv_chunk((size_t)kk, plane);
    float *dw = param_grads ? ganc_sn_grad_begin(L, p) : NULL;
    for (int i0 = 0; i0 < n_all; i0 += chunk) {
        const int n = n_all - i0 < chunk ? n_all - i0 : chunk;
        conv_backward_chunk(L, &g, x_all + i0 * in_size, dy_all + i0 * out_size, dx_all ? dx_all + i0 * in_size : NULL,
                            n, ganc_sn_weight(L), dw, p->work);
    }
    if (dw) ganc_sn_grad_end(L, p);
}

const ganc_layer_ops ganc_conv_ops = {conv_setup, conv_init, ganc_sn_reset_state, conv_forward, conv_backward};
