/* 2-D convolution (cross-correlation, as PyTorch's Conv2d) by im2col + GEMM per sample:
 * y_n = W (cout x cin*k*k) . col(x_n) + b. Padding may be asymmetric (TensorFlow "same"). */
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
    const size_t kk = (size_t)L->in.c * sp->k * sp->k;
    L->n_weight = (size_t)sp->units * kk;
    L->n_bias = sp->bias ? (size_t)sp->units : 0;
    L->n_work = kk * (size_t)oh * ow;
    L->weight_ndim = 4;
    L->weight_dims[0] = sp->units;
    L->weight_dims[1] = L->in.c;
    L->weight_dims[2] = L->weight_dims[3] = sp->k;
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
}

static void conv_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    const ganc_conv_geom g = conv_geom(L);
    const int cout = L->out.c, kk = L->in.c * L->spec.k * L->spec.k, plane = L->out.h * L->out.w;
    const size_t in_size = ganc_shape_size(L->in), out_size = ganc_shape_size(L->out);
    float *col = p->work;
    for (int i = 0; i < n; i++) {
        float *yi = y + i * out_size;
        ganc_im2col(&g, x + i * in_size, col);
        ganc_sgemm(0, 0, cout, plane, kk, 1.0f, L->weight, kk, col, plane, 0.0f, yi, plane);
        if (L->n_bias)
            for (int c = 0; c < cout; c++)
                for (int j = 0; j < plane; j++) yi[(size_t)c * plane + j] += L->bias[c];
    }
}

static void conv_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                          int param_grads, const ganc_pass *p)
{
    (void)y;
    const ganc_conv_geom g = conv_geom(L);
    const int cout = L->out.c, kk = L->in.c * L->spec.k * L->spec.k, plane = L->out.h * L->out.w;
    const size_t in_size = ganc_shape_size(L->in), out_size = ganc_shape_size(L->out);
    float *col = p->work;
    for (int i = 0; i < n; i++) {
        const float *dyi = dy + i * out_size;
        if (param_grads) {
            ganc_im2col(&g, x + i * in_size, col);
            ganc_sgemm(0, 1, cout, kk, plane, 1.0f, dyi, plane, col, plane, 1.0f, L->dweight, kk);
            if (L->n_bias)
                for (int c = 0; c < cout; c++) {
                    float s = 0.0f;
                    for (int j = 0; j < plane; j++) s += dyi[(size_t)c * plane + j];
                    L->dbias[c] += s;
                }
        }
        if (dx) {
            float *dxi = dx + i * in_size;
            ganc_sgemm(1, 0, kk, plane, cout, 1.0f, L->weight, kk, dyi, plane, 0.0f, col, plane);
            memset(dxi, 0, sizeof(float) * in_size);
            ganc_col2im(&g, col, dxi);
        }
    }
}

const ganc_layer_ops ganc_conv_ops = {conv_setup, conv_init, NULL, conv_forward, conv_backward};
