/* Training diagnostics: warns (on screen and in log.jsonl) when a run shows one of the
 * failures of docs/design.md §1, and names the cures to try:
 *   - D has won: D(x) -> 1 and D(G(z)) -> 0 for many steps, so G's gradient vanishes;
 *   - mode collapse: the samples of the fixed noise batch are far less diverse than the data;
 *   - non-convergence: the losses oscillate strongly without a trend.
 * Each warning is given once, and again only after the run has recovered from it. */
#ifndef GANC_DIAGNOSE_H
#define GANC_DIAGNOSE_H

#include "gan/game.h"

#include <stddef.h>

#define GANC_DIAG_WINDOW 40 /* logged points the oscillation test looks at */

typedef struct {
    int cross_entropy;       /* a cross-entropy loss (gan/losses.h): D's outputs are probabilities */
    int won_points, won_warned;
    int collapse_warned;
    double best_div;         /* the fixed batch's highest diversity so far */
    double g_hist[GANC_DIAG_WINDOW];
    int n_hist, osc_warned;
} ganc_diagnose;

void ganc_diagnose_init(ganc_diagnose *d, ganc_loss loss);
/* After each logged step (every log_every steps). Returns 1 with a message in msg when a
 * warning is due. */
int ganc_diagnose_step(ganc_diagnose *d, const ganc_game_stats *st, int64_t step, int log_every, char *msg, size_t cap);
/* Mean distance between consecutive samples (n of `sample` floats each): the spread of a set. */
double ganc_diversity(const float *x, int n, size_t sample);
/* With the diversity of the fixed noise batch's samples and of a real batch. */
int ganc_diagnose_samples(ganc_diagnose *d, double fake_div, double real_div, int64_t step, char *msg, size_t cap);

#endif
