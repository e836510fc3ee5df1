/* Fully connected layer: y = x W^T + b over the flattened sample (PyTorch's nn.Linear).
 * With sn, W is spectrally normalised (spectral_norm.c) with one row per output. */
#include "ganc_internal.h"

static int dense_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    if (L->spec.units <= 0) return ganc_fail(err, "dense needs a positive number of units");
    const int in = (int)ganc_shape_size(L->in);
    L->out = (ganc_shape){L->spec.units, 1, 1};
    L->n_weight = (size_t)L->spec.units * in;
    L->n_bias = L->spec.bias ? (size_t)L->spec.units : 0;
    L->weight_ndim = 2;
    L->weight_dims[0] = L->spec.units;
    L->weight_dims[1] = in;
    ganc_sn_setup(L, L->spec.units, 1, in);
    return 0;
}

static void dense_init(ganc_layer *L, ganc_init_scheme scheme, ganc_rng *rng)
{
    ganc_init_weighted(L, scheme, L->weight_dims[1], rng); /* fan-in: the inputs */
}

void ganc_rows_forward(ganc_layer *L, int in, const float *x, float *y, int n, const ganc_pass *p)
{
    const int out = L->spec.units;
    GANC_PASS_GEMM(p)(0, 1, n, out, in, 1.0f, x, in, ganc_sn_forward_weight(L, p), in, 0.0f, y, out);
    if (L->n_bias)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < out; j++) y[(size_t)i * out + j] += L->bias[j];
}

void ganc_rows_backward(ganc_layer *L, int in, const float *x, const float *dy, float *dx, int n, int param_grads,
                        const ganc_pass *p)
{
    const int out = L->spec.units;
    if (dx) GANC_PASS_GEMM(p)(0, 0, n, in, out, 1.0f, dy, out, ganc_sn_weight(L), in, 0.0f, dx, in);
    if (!param_grads) return;
    GANC_PASS_GEMM(p)(1, 0, out, in, n, 1.0f, dy, out, x, in, 1.0f, ganc_sn_grad_begin(L, p), in);
    ganc_sn_grad_end(L, p);
    if (L->n_bias)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < out; j++) L->dbias[j] += dy[(size_t)i * out + j];
}

static void dense_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    ganc_rows_forward(L, L->weight_dims[1], x, y, n, p);
}

static void dense_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                           int param_grads, const ganc_pass *p)
{
    (void)y;
    ganc_rows_backward(L, L->weight_dims[1], x, dy, dx, n, param_grads, p);
}

/* each output: one multiply-add per weight of its row */
static double dense_flops(const ganc_layer *L, int n) { return 2.0 * n * (double)L->n_weight; }

const ganc_layer_def ganc_dense_def = {
    .name = "dense",
    .sizes = ganc_units_size,
    .needs = "the number of output units: dense N",
    .weighted = 1,
    .setup = dense_setup,
    .init = dense_init,
    .reset_state = ganc_sn_reset_state,
    .forward = dense_forward,
    .backward = dense_backward,
    .flops = dense_flops,
};
