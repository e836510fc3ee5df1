/* Projection discriminator head (Miyato & Koyama 2018): `project classes=K` ends D with one
 * logit per sample, y = w . x + b + E[c] . x, over the flattened features x of a sample of
 * class c: the unconditional logit of `dense 1` plus the inner product of x with a learned
 * embedding of the class, so that D judges how well a picture matches the class it claims.
 * w and b are a dense layer's (bias=, bias_init=, sn as `dense 1`; sn normalises w, not the
 * embedding); the embedding table E (K x F, the view "embed") starts as w does.
 * Backward: dx = dy (w + E[c]); dw, db as dense; dE[c] gains dy x for each sample of class c. */
#include "ganc_internal.h"

#include <math.h>

static int project_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    (void)err;
    const int in = (int)ganc_shape_size(L->in);
    L->spec.units = 1;
    L->out = (ganc_shape){1, 1, 1};
    L->n_weight = (size_t)in;
    L->n_bias = L->spec.bias ? 1 : 0;
    L->weight_ndim = 2;
    L->weight_dims[0] = 1;
    L->weight_dims[1] = in;
    L->n_extra = (size_t)L->spec.classes * (size_t)in;
    L->extra_name = "embed";
    L->extra_dims[0] = L->spec.classes;
    L->extra_dims[1] = in;
    ganc_sn_setup(L, 1, 1, in);
    return 0;
}

static void project_init(ganc_layer *L, ganc_init_scheme scheme, ganc_rng *rng)
{
    ganc_init_weighted(L, scheme, L->weight_dims[1], rng);
    /* the embedding as the weight: the same scheme, drawn after it */
    if (scheme == GANC_INIT_DCGAN) {
        ganc_rng_normal(rng, L->extra, L->n_extra, 0.0f, 0.02f);
    } else {
        const float bound = (float)(1.0 / sqrt((double)L->weight_dims[1]));
        ganc_rng_uniform(rng, L->extra, L->n_extra, -bound, bound);
    }
}

/* E[c] . x summed in double. Its own loop on purpose: ganc's shared product (ganc_sgemm) sums in
 * float, which changes a conditional run's checkpoints (checked with cmp after 20 steps), and
 * ganc has no shared double-precision dot product. */
static double dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t j = 0; j < n; j++) s += (double)a[j] * b[j];
    return s;
}

static void project_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    const size_t in = (size_t)L->weight_dims[1];
    ganc_rows_forward(L, (int)in, x, y, n, p);
    for (int i = 0; i < n; i++) {
        const double own = dot(L->extra + (size_t)ganc_layer_label(L, p, i) * in, x + i * in, in);
        /* (sampling between classes: the blended embedding's product, by linearity) */
        y[i] += p->mix_to < 0 ? (float)own
                              : (float)((1.0 - p->mix_t) * own + p->mix_t * dot(L->extra + (size_t)p->mix_to * in, x + i * in, in));
    }
}

static void project_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                             int param_grads, const ganc_pass *p)
{
    (void)y;
    const size_t in = (size_t)L->weight_dims[1];
    ganc_rows_backward(L, (int)in, x, dy, dx, n, param_grads, p);
    for (int i = 0; i < n; i++) {
        const size_t c = (size_t)ganc_layer_label(L, p, i);
        const float *e = L->extra + c * in, *xi = x + i * in;
        if (dx)
            for (size_t j = 0; j < in; j++) dx[i * in + j] += dy[i] * e[j];
        if (param_grads) {
            float *de = L->dextra + c * in;
            for (size_t j = 0; j < in; j++) de[j] += dy[i] * xi[j];
        }
    }
}

/* the dense product and the embedding's: two multiply-adds per feature */
static double project_flops(const ganc_layer *L, int n) { return 4.0 * n * (double)L->n_weight; }

static const ganc_layer_option project_options[] = {
    GANC_REQUIRED_INT_OPTION("classes", classes, 1, GANC_MAX_CLASSES, "the number of classes classes=K"),
    GANC_OPTIONS_END,
};

const ganc_layer_def ganc_project_def = {
    .name = "project",
    .options = project_options,
    .weighted = 1,
    .setup = project_setup,
    .init = project_init,
    .reset_state = ganc_sn_reset_state,
    .forward = project_forward,
    .backward = project_backward,
    .flops = project_flops,
};
