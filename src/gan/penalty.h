/* Gradient penalties on the discriminator: WGAN-GP's  coef * mean_i (||g_i|| - 1)^2  on
 * interpolates, and R1's  coef/2 * mean_i ||g_i||^2  on real samples, where g = grad_x sum D(x).
 *
 * Their parameter gradient needs the derivative of an input gradient (a "double backward").
 * With v_i = dP/dg_i, it equals the mixed second derivative  v . d/dtheta grad_x S  =
 * d/de grad_theta S(x + e v) at e = 0  (S = sum D, mixed partials commute), which is taken as a
 * central difference of two ordinary backward passes at x +- e v. For the piecewise-linear
 * critics these penalties are used with (ReLU, leaky ReLU, maxout, linear layers) the difference
 * is exact unless the step crosses a kink; for smooth layers its error is O(e^2). e makes the
 * largest input change 1e-3 of the input's scale (its largest magnitude, at least 1e-3);
 * tests/test_penalty.c compares the result with PyTorch's autograd. The extra passes restore D's random stream (dropout masks stay the
 * same across them) and its running statistics (they are a regulariser, not data D sees). */
#ifndef GANC_PENALTY_H
#define GANC_PENALTY_H

#include "ganc.h"

typedef enum { GANC_PENALTY_GP, GANC_PENALTY_R1 } ganc_penalty_kind;

/* Scratch for ganc_grad_penalty, sized once for D and its largest batch. */
typedef struct {
    size_t sample, n_params, n_state;
    int max_batch;
    float *xp, *g, *ones, *saved, *plus, *state;
    /* Data parallel (a share of a global batch on each of `ranks` processes): gathers every
     * process's n floats into all (ranks x n, in rank order), so that the difference's step is
     * the global batch's, the same on every process; NULL in one process. */
    void (*gather)(void *ctx, const float *mine, int n, float *all);
    void *gather_ctx;
    int ranks;
    float *gathered; /* 2 x ranks: every process's two maxima */
} ganc_penalty_work;

void ganc_penalty_work_init(ganc_penalty_work *w, ganc_net *d);
void ganc_penalty_work_free(ganc_penalty_work *w);

/* Adds coef * (the penalty's parameter gradient) to D's gradient buffer and returns the penalty
 * value, for n samples x (n <= D's built batch). D must be in training mode as for its loss. */
double ganc_grad_penalty(ganc_net *d, ganc_penalty_work *w, const float *x, int n, ganc_penalty_kind kind,
                         float coef);

#endif
