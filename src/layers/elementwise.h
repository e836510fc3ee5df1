/* Element-wise layers: y = f(x) value by value, the output shaped as the input, and
 * dx = dy * f'(x). GANC_ELEMENTWISE(type, options, FWD, BWD) defines the layer's passes and its
 * definition ganc_<type>_def (model files call it `type`): FWD is y from v = x[i], BWD is f'
 * from v = x[i] and out = y[i] (whichever is cheaper), and both may read a = spec.alpha, the
 * one parameter an activation has (lrelu's slope, elu's alpha). options: its options (NULL:
 * none). The loops are OpenMP SIMD loops, so FWD and BWD should choose between values with
 * ganc_select (kernels/vmath.h) rather than ?: (see there). */
#ifndef GANC_LAYERS_ELEMENTWISE_H
#define GANC_LAYERS_ELEMENTWISE_H

#include "ganc_internal.h"
#include "kernels/vmath.h"

static inline int ganc_same_shape_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    (void)err;
    L->out = L->in;
    return 0;
}

#define GANC_ELEMENTWISE(type, options_, FWD, BWD)                                                      \
    static void type##_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)     \
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
    static void type##_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, \
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
    const ganc_layer_def ganc_##type##_def = {.name = #type,                                            \
                                              .options = options_,                                      \
                                              .setup = ganc_same_shape_setup,                           \
                                              .forward = type##_forward,                                \
                                              .backward = type##_backward};

#endif
