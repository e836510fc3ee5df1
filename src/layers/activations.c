/* Element-wise activations. Backward passes use whichever of x and y makes the derivative
 * cheapest; at a kink (x == 0) the derivative is that of the x <= 0 branch, as PyTorch's. */
#include "kernels/vmath.h"
#include "layers/elementwise.h"

#include <math.h>
#include <string.h>

/* Both branches are computed and one is selected (ganc_select), so the loops vectorise. */
static inline float sigmoidf_stable(float v)
{
    const float e = ganc_expm1_neg(-fabsf(v)) + 1.0f; /* exp(-|v|) in (0, 1] */
    const float s = 1.0f / (1.0f + e);
    return ganc_select(v >= 0.0f, s, e * s);
}

static inline float tanhf_fast(float v)
{
    const float em1 = ganc_expm1_neg(-2.0f * fabsf(v)); /* exp(-2|v|) - 1 */
    const float t = -em1 / (em1 + 2.0f);                /* (1 - e) / (1 + e) */
    return ganc_select(v >= 0.0f, t, -t);
}

static inline float elu(float v, float a)
{
    const float neg = a * ganc_expm1_neg(ganc_select(v < 0.0f, v, 0.0f));
    return ganc_select(v > 0.0f, v, neg);
}

static const ganc_layer_option lrelu_options[] = {GANC_FLOAT_OPTION("slope", alpha, -1e3, 1e3, 0.2), GANC_OPTIONS_END};
/* elu and concat_elu */
static const ganc_layer_option elu_options[] = {GANC_FLOAT_OPTION("alpha", alpha, 0.0, 1e3, 1.0), GANC_OPTIONS_END};

GANC_ELEMENTWISE(relu, NULL, ganc_select(v > 0.0f, v, 0.0f), ganc_select(v > 0.0f, 1.0f, 0.0f))
GANC_ELEMENTWISE(lrelu, lrelu_options, ganc_select(v > 0.0f, v, a * v), ganc_select(v > 0.0f, 1.0f, a))
GANC_ELEMENTWISE(elu, elu_options, elu(v, a), ganc_select(v > 0.0f, 1.0f, out + a))
GANC_ELEMENTWISE(tanh, NULL, tanhf_fast(v), 1.0f - out * out)
GANC_ELEMENTWISE(sigmoid, NULL, sigmoidf_stable(v), out * (1.0f - out))

/* concat-ELU: y = ELU([x, -x]) over channels, doubling them (the +x half first). */
static int concat_elu_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    (void)err;
    L->out = (ganc_shape){2 * L->in.c, L->in.h, L->in.w};
    return 0;
}

static void concat_elu_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    (void)p;
    const size_t size = ganc_shape_size(L->in);
    const float a = L->spec.alpha;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const float *xi = x + i * size;
        float *pos = y + 2 * i * size, *neg = pos + size;
        for (size_t j = 0; j < size; j++) {
            pos[j] = elu(xi[j], a);
            neg[j] = elu(-xi[j], a);
        }
    }
}

static void concat_elu_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                                int param_grads, const ganc_pass *p)
{
    (void)p;
    (void)param_grads;
    if (!dx) return;
    const size_t size = ganc_shape_size(L->in);
    const float a = L->spec.alpha;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const float *xi = x + i * size;
        const float *ypos = y + 2 * i * size, *yneg = ypos + size;
        const float *dpos = dy + 2 * i * size, *dneg = dpos + size;
        float *dxi = dx + i * size;
        for (size_t j = 0; j < size; j++) {
            const float gpos = ganc_select(xi[j] > 0.0f, 1.0f, ypos[j] + a);
            const float gneg = ganc_select(-xi[j] > 0.0f, 1.0f, yneg[j] + a);
            dxi[j] = dpos[j] * gpos - dneg[j] * gneg;
        }
    }
}

const ganc_layer_def ganc_concat_elu_def = {
    .name = "concat_elu",
    .options = elu_options,
    .setup = concat_elu_setup,
    .forward = concat_elu_forward,
    .backward = concat_elu_backward,
};
