/* Element-wise activations. Backward passes use whichever of x and y makes the derivative
 * cheapest; at a kink (x == 0) the derivative is that of the x <= 0 branch, as PyTorch's. */
#include "ganc_internal.h"
#include "kernels/vmath.h"

#include <math.h>
#include <string.h>

static int same_shape_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    (void)err;
    L->out = L->in;
    return 0;
}

#define ELEMENTWISE(name, FWD, BWD)                                                                     \
    static void name##_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)     \
    {                                                                                                   \
        (void)p;                                                                                        \
        const float a = L->spec.alpha;                                                                  \
        (void)a;                                                                                        \
        const size_t total = (size_t)n * ganc_shape_size(L->in);                                        \
        _Pragma("omp parallel for simd schedule(static) if (total > 32768)") for (size_t i = 0; i < total; i++) \
        {                                                                                               \
            const float v = x[i];                                                                       \
            y[i] = (FWD);                                                                               \
        }                                                                                               \
    }                                                                                                   \
    static void name##_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, \
                                int n, int param_grads, const ganc_pass *p)                             \
    {                                                                                                   \
        (void)p;                                                                                        \
        (void)param_grads;                                                                              \
        if (!dx) return;                                                                                \
        const float a = L->spec.alpha;                                                                  \
        (void)a;                                                                                        \
        const size_t total = (size_t)n * ganc_shape_size(L->in);                                        \
        _Pragma("omp parallel for simd schedule(static) if (total > 32768)") for (size_t i = 0; i < total; i++) \
        {                                                                                               \
            const float v = x[i], out = y[i];                                                           \
            (void)v;                                                                                    \
            (void)out;                                                                                  \
            dx[i] = dy[i] * (BWD);                                                                      \
        }                                                                                               \
    }                                                                                                   \
    const ganc_layer_ops ganc_##name##_ops = {same_shape_setup, NULL, NULL, name##_forward, name##_backward};

/* Both branches are computed and one is selected, so the loops vectorise. */
static inline float sigmoidf_stable(float v)
{
    const float e = ganc_expm1_neg(-fabsf(v)) + 1.0f; /* exp(-|v|) in (0, 1] */
    const float s = 1.0f / (1.0f + e);
    return v >= 0.0f ? s : e * s;
}

static inline float tanhf_fast(float v)
{
    const float em1 = ganc_expm1_neg(-2.0f * fabsf(v)); /* exp(-2|v|) - 1 */
    const float t = -em1 / (em1 + 2.0f);                /* (1 - e) / (1 + e) */
    return v >= 0.0f ? t : -t;
}

static inline float elu(float v, float a)
{
    const float neg = a * ganc_expm1_neg(v < 0.0f ? v : 0.0f);
    return v > 0.0f ? v : neg;
}

ELEMENTWISE(relu, v > 0.0f ? v : 0.0f, v > 0.0f ? 1.0f : 0.0f)
ELEMENTWISE(lrelu, v > 0.0f ? v : a * v, v > 0.0f ? 1.0f : a)
ELEMENTWISE(elu, elu(v, a), v > 0.0f ? 1.0f : out + a)
ELEMENTWISE(tanh, tanhf_fast(v), 1.0f - out * out)
ELEMENTWISE(sigmoid, sigmoidf_stable(v), out * (1.0f - out))

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
            const float gpos = xi[j] > 0.0f ? 1.0f : ypos[j] + a;
            const float gneg = -xi[j] > 0.0f ? 1.0f : yneg[j] + a;
            dxi[j] = dpos[j] * gpos - dneg[j] * gneg;
        }
    }
}

const ganc_layer_ops ganc_concat_elu_ops = {concat_elu_setup, NULL, NULL, concat_elu_forward, concat_elu_backward};
