/* Dropout (PyTorch's convention: p is the probability of dropping; kept units are scaled by
 * 1/(1-p) in training so eval mode is the identity). The mask, already scaled, is saved. */
#include "ganc_internal.h"

#include <string.h>

static int dropout_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    if (!(L->spec.p >= 0.0f && L->spec.p < 1.0f)) return ganc_fail(err, "dropout p must be in [0, 1)");
    L->out = L->in;
    L->n_saved_per_sample = ganc_shape_size(L->in);
    return 0;
}

static int dropout_active(const ganc_layer *L, const ganc_pass *p) { return p->training && L->spec.p > 0.0f; }

static void dropout_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    const size_t total = (size_t)n * ganc_shape_size(L->in);
    if (!dropout_active(L, p)) {
        memcpy(y, x, sizeof(float) * total);
        return;
    }
    float *mask = L->saved;
    const float keep = 1.0f - L->spec.p, scale = 1.0f / keep;
    /* a process's share of a global batch draws its part of the global masks (a whole batch:
     * all of them) */
    const size_t per = ganc_shape_size(L->in), whole = (size_t)(p->shard_total ? p->shard_total : n) * per;
    ganc_rng_bernoulli_part(p->rng, mask, (size_t)p->shard_first * per, total, whole, keep);
    for (size_t i = 0; i < total; i++) {
        mask[i] *= scale;
        y[i] = x[i] * mask[i];
    }
}

static void dropout_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                             int param_grads, const ganc_pass *p)
{
    (void)x;
    (void)y;
    (void)param_grads;
    if (!dx) return;
    const size_t total = (size_t)n * ganc_shape_size(L->in);
    if (!dropout_active(L, p)) {
        memcpy(dx, dy, sizeof(float) * total);
        return;
    }
    for (size_t i = 0; i < total; i++) dx[i] = dy[i] * L->saved[i];
}

/* keep=K: the probability of keeping a unit, p = 1 - K */
static int parse_keep(ganc_layer_spec *sp, const char *value, char err[GANC_ERR_LEN])
{
    float keep;
    if (ganc_parse_float(value, 0.001, 1.0, "keep", &keep, err)) return -1;
    sp->p = 1.0f - keep;
    return 0;
}

static const ganc_layer_option dropout_options[] = {
    GANC_FLOAT_OPTION("p", p, 0.0, 0.999, 0.5),
    GANC_OWN_OPTION("keep", parse_keep),
    GANC_OPTIONS_END,
};

const ganc_layer_def ganc_dropout_def = {
    .name = "dropout",
    .options = dropout_options,
    .setup = dropout_setup,
    .forward = dropout_forward,
    .backward = dropout_backward,
};
