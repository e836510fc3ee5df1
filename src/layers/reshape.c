/* flatten and reshape: the data is already contiguous NCHW, so only the shape changes. */
#include "ganc_internal.h"

#include <string.h>

static int flatten_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    (void)err;
    L->out = (ganc_shape){(int)ganc_shape_size(L->in), 1, 1};
    return 0;
}

static int reshape_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    const ganc_shape t = L->spec.reshape;
    if (t.c <= 0 || t.h <= 0 || t.w <= 0 || ganc_shape_size(t) != ganc_shape_size(L->in))
        return ganc_fail(err, "reshape %d %d %d does not match its input of %d x %d x %d = %zu values", t.c, t.h,
                         t.w, L->in.c, L->in.h, L->in.w, ganc_shape_size(L->in));
    L->out = t;
    return 0;
}

static void copy_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    (void)p;
    memcpy(y, x, sizeof(float) * (size_t)n * ganc_shape_size(L->in));
}

static void copy_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                          int param_grads, const ganc_pass *p)
{
    (void)x;
    (void)y;
    (void)param_grads;
    (void)p;
    if (dx) memcpy(dx, dy, sizeof(float) * (size_t)n * ganc_shape_size(L->in));
}

const ganc_layer_def ganc_flatten_def = {
    .name = "flatten",
    .setup = flatten_setup,
    .forward = copy_forward,
    .backward = copy_backward,
};

static const ganc_layer_option reshape_sizes[] = {
    GANC_INT_OPTION("reshape size", reshape.c, 1, GANC_MAX_SIZE, 0),
    GANC_INT_OPTION("reshape size", reshape.h, 1, GANC_MAX_SIZE, 0),
    GANC_INT_OPTION("reshape size", reshape.w, 1, GANC_MAX_SIZE, 0),
    GANC_OPTIONS_END,
};

const ganc_layer_def ganc_reshape_def = {
    .name = "reshape",
    .sizes = reshape_sizes,
    .needs = "three sizes: reshape C H W",
    .setup = reshape_setup,
    .forward = copy_forward,
    .backward = copy_backward,
};
