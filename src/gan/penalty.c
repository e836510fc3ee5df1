/* Gradient penalties by a central difference of backward passes (see penalty.h). */
#include "gan/penalty.h"
#include "ganc_internal.h"

#include <math.h>
#include <string.h>

void ganc_penalty_work_init(ganc_penalty_work *w, ganc_net *d)
{
    memset(w, 0, sizeof *w);
    w->sample = ganc_shape_size(ganc_net_input_shape(d));
    w->max_batch = ganc_net_max_batch(d);
    w->n_params = ganc_net_param_count(d);
    w->n_state = ganc_net_state_count(d);
    const size_t in = w->sample * (size_t)w->max_batch;
    w->xp = ganc_alloc(sizeof(float) * in);
    w->g = ganc_alloc(sizeof(float) * in);
    w->ones = ganc_alloc(sizeof(float) * (size_t)w->max_batch);
    w->saved = ganc_alloc(sizeof(float) * (w->n_params ? w->n_params : 1));
    w->plus = ganc_alloc(sizeof(float) * (w->n_params ? w->n_params : 1));
    w->state = ganc_alloc(sizeof(float) * (w->n_state ? w->n_state : 1));
    for (int i = 0; i < w->max_batch; i++) w->ones[i] = 1.0f;
}

void ganc_penalty_work_free(ganc_penalty_work *w)
{
    ganc_free(w->xp);
    ganc_free(w->g);
    ganc_free(w->ones);
    ganc_free(w->saved);
    ganc_free(w->plus);
    ganc_free(w->state);
    ganc_free(w->gathered);
    memset(w, 0, sizeof *w);
}

/* grad_theta S at x (S = sum of D's outputs) into D's gradient buffer, which is zeroed first;
 * D's random stream starts from *rng0 so that every pass draws the same dropout masks. */
static void param_grad_at(ganc_net *d, const ganc_rng *rng0, const float *x, int n, const float *ones)
{
    *ganc_net_rng(d) = *rng0;
    ganc_net_zero_grad(d);
    ganc_net_forward(d, x, n);
    ganc_net_backward(d, ones, NULL, 1);
}

double ganc_grad_penalty(ganc_net *d, ganc_penalty_work *w, const float *x, int n, ganc_penalty_kind kind,
                         float coef)
{
    const size_t sample = w->sample, count = sample * (size_t)n;
    const ganc_rng rng0 = *ganc_net_rng(d);
    float *state = ganc_net_state(d), *grads = ganc_net_grads(d);
    if (w->n_state) memcpy(w->state, state, sizeof(float) * w->n_state);

    /* g = grad_x S(x), D's parameter gradients untouched */
    ganc_net_forward(d, x, n);
    ganc_net_backward(d, w->ones, w->g, 0);

    /* v_i = dP/dg_i, built in place of g: GP 2 coef (|g_i| - 1) / (n |g_i|) g_i, R1 coef/n g_i */
    double penalty = 0.0, vmax = 0.0, xmax = 0.0;
    for (int i = 0; i < n; i++) {
        float *gi = w->g + (size_t)i * sample;
        double sq = 0.0;
        for (size_t j = 0; j < sample; j++) sq += (double)gi[j] * gi[j];
        const double norm = sqrt(sq);
        double scale;
        if (kind == GANC_PENALTY_GP) {
            penalty += coef * (norm - 1.0) * (norm - 1.0) / n;
            scale = norm > 0.0 ? 2.0 * coef * (norm - 1.0) / (n * norm) : 0.0;
        } else {
            penalty += 0.5 * coef * sq / n;
            scale = (double)coef / n;
        }
        for (size_t j = 0; j < sample; j++) {
            gi[j] = (float)(scale * gi[j]);
            if (fabs(gi[j]) > vmax) vmax = fabs(gi[j]);
        }
    }
    for (size_t j = 0; j < count; j++)
        if (fabs(x[j]) > xmax) xmax = fabs(x[j]);
    if (w->gather) { /* the global batch's largest values (floats: exact) */
        const float mine[2] = {(float)vmax, (float)xmax};
        w->gather(w->gather_ctx, mine, 2, w->gathered);
        for (int r = 0; r < w->ranks; r++) {
            if (w->gathered[2 * r] > vmax) vmax = w->gathered[2 * r];
            if (w->gathered[2 * r + 1] > xmax) xmax = w->gathered[2 * r + 1];
        }
    }
    if (vmax == 0.0) goto done; /* every g_i on the penalty's minimum */

    /* step e along v: the largest input change is 1e-3 of the input's scale */
    const double e = 1e-3 * (xmax > 1e-3 ? xmax : 1e-3) / vmax;
    memcpy(w->saved, grads, sizeof(float) * w->n_params);
    for (size_t j = 0; j < count; j++) w->xp[j] = (float)(x[j] + e * w->g[j]);
    param_grad_at(d, &rng0, w->xp, n, w->ones);
    memcpy(w->plus, grads, sizeof(float) * w->n_params);
    for (size_t j = 0; j < count; j++) w->xp[j] = (float)(x[j] - e * w->g[j]);
    param_grad_at(d, &rng0, w->xp, n, w->ones);
    const double inv = 1.0 / (2.0 * e);
    for (size_t i = 0; i < w->n_params; i++)
        grads[i] = (float)(w->saved[i] + ((double)w->plus[i] - grads[i]) * inv);
done:
    if (w->n_state) memcpy(state, w->state, sizeof(float) * w->n_state);
    *ganc_net_rng(d) = rng0;
    return penalty;
}
