/* Class embedding joined to the input (the "concat" conditioning of Mirza & Osindero 2014,
 * with a learned table in place of the one-hot code): `embed N classes=K` holds a table E of
 * K x N values and appends E[y] to each sample as N more channels, each constant over the
 * sample's pixels: (c, h, w) -> (c + N, h, w). On G's noise (z, 1, 1) that is [z, E[y]]; on
 * D's picture it is N planes that tell D which class the picture claims to be.
 * The table starts as PyTorch's nn.Embedding does, N(0, 1), which is also z's scale.
 * Backward: dx is dy's first c channels; dE[y] gains the sum of the appended channels'
 * gradient over the pixels of each sample of class y. */
#include "ganc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int embed_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    const int k = L->spec.classes, dim = L->spec.units;
    if (dim <= 0) return ganc_fail(err, "embed needs a positive size");
    if (L->in.c > GANC_MAX_SIZE - dim) return ganc_fail(err, "embed %d: too many channels with the input's %d", dim, L->in.c);
    L->out = (ganc_shape){L->in.c + dim, L->in.h, L->in.w};
    L->n_weight = (size_t)k * (size_t)dim;
    L->weight_ndim = 2;
    L->weight_dims[0] = k;
    L->weight_dims[1] = dim;
    return 0;
}

static void embed_init(ganc_layer *L, ganc_init_scheme scheme, ganc_rng *rng)
{
    (void)scheme;
    ganc_rng_normal(rng, L->weight, L->n_weight, 0.0f, 1.0f);
}

/* The class of sample i, checked: a label outside the table is a caller's error that would
 * otherwise read or write outside the parameters. */
int ganc_layer_label(const ganc_layer *L, const ganc_pass *p, int i)
{
    const int32_t y = p->labels[i];
    if (y < 0 || y >= L->spec.classes) {
        fprintf(stderr, "ganc: %s layer given class %d of %d\n", L->def->name, (int)y, L->spec.classes);
        abort();
    }
    return (int)y;
}

static void embed_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    const int dim = L->spec.units;
    const size_t plane = (size_t)L->in.h * L->in.w, in = (size_t)L->in.c * plane, out = in + (size_t)dim * plane;
    for (int i = 0; i < n; i++) {
        const int c = ganc_layer_label(L, p, i);
        memcpy(y + i * out, x + i * in, sizeof(float) * in);
        for (int j = 0; j < dim; j++) {
            const float e = ganc_class_entry(p, L->weight, c, (size_t)dim, (size_t)j);
            float *yc = y + i * out + in + (size_t)j * plane;
            for (size_t q = 0; q < plane; q++) yc[q] = e;
        }
    }
}

static void embed_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                           int param_grads, const ganc_pass *p)
{
    (void)x;
    (void)y;
    const int dim = L->spec.units;
    const size_t plane = (size_t)L->in.h * L->in.w, in = (size_t)L->in.c * plane, out = in + (size_t)dim * plane;
    for (int i = 0; i < n; i++) {
        if (dx) memcpy(dx + i * in, dy + i * out, sizeof(float) * in);
        if (!param_grads) continue;
        float *de = L->dweight + (size_t)ganc_layer_label(L, p, i) * dim;
        for (int j = 0; j < dim; j++) {
            const float *g = dy + i * out + in + (size_t)j * plane;
            double s = 0.0;
            for (size_t q = 0; q < plane; q++) s += g[q];
            de[j] += (float)s;
        }
    }
}

static const ganc_layer_option embed_options[] = {
    GANC_REQUIRED_INT_OPTION("classes", classes, 1, GANC_MAX_CLASSES, "the number of classes classes=K"),
    GANC_OPTIONS_END,
};

const ganc_layer_def ganc_embed_def = {
    .name = "embed",
    .sizes = ganc_units_size,
    .needs = "the size of each class's vector: embed N classes=K",
    .options = embed_options,
    .setup = embed_setup,
    .init = embed_init,
    .forward = embed_forward,
    .backward = embed_backward,
};
