/* The 2-D mixtures of the mode-collapse benchmark (docs/design.md §5, the protocol of the PacGAN
 * paper's code, github.com/fjxmlzn/PacGAN, synthetic_data_experiments/2D*_GAN&PacGAN/config.py):
 *   ring: 8 Gaussians, means (cos 2πi/8, sin 2πi/8), i = 0..7, σ = 0.01;
 *   grid: 25 Gaussians, means {-4, -2, 0, 2, 4}², σ = 0.05.
 * Every mode has the same weight and an isotropic covariance σ²I. */
#ifndef GANC_TOY2D_H
#define GANC_TOY2D_H

#include "ganc.h"

#define GANC_TOY2D_MAX_MODES 25 /* the most modes of any set (grid) */

typedef struct {
    const char *name;        /* "ring", "grid" */
    int n_modes;
    float sigma;             /* per-coordinate standard deviation of every mode */
    const float (*means)[2]; /* n_modes (x, y) pairs */
    /* Half-width of the square [-bound, bound]² that pictures of this set show: the modes
     * plus room for a generator that strays (ring ±1.5, grid ±6). */
    float bound;
} ganc_toy2d;

/* The set called `name`, or NULL with err = "unknown 2-D data set 'NAME' (known: ring, grid)". */
const ganc_toy2d *ganc_toy2d_find(const char *name, char err[GANC_ERR_LEN]);
/* "ring, grid": for usage messages. */
const char *ganc_toy2d_names(void);

/* Mode i's mean (0 <= i < n_modes) and the common σ, for callers that prefer functions to
 * the struct's fields. */
void ganc_toy2d_mean(const ganc_toy2d *set, int i, float xy[2]);
float ganc_toy2d_sigma(const ganc_toy2d *set);

/* Fills out[0 .. 2n) with n samples, row-major (x0, y0, x1, y1, ...): for each sample a mode
 * drawn uniformly, then mean + σ·N(0, I). When `modes` is not NULL, modes[i] receives sample
 * i's mode. Deterministic in the generator's state (seed, counter), which it advances; the
 * same state gives the same samples on any number of threads. */
void ganc_toy2d_sample(const ganc_toy2d *set, ganc_rng *rng, float *out, int n, int32_t *modes);

/* Training data for the batcher (src/data/data.h): a virtual data set of GANC_TOY2D_EPOCH
 * points per epoch, point idx[i] of `epoch` drawn from its own stream of (seed, epoch, index),
 * so the batcher's (epoch, pos) is the whole state of the data, as for an IDX file. */
#define GANC_TOY2D_EPOCH 100000
void ganc_toy2d_fill(const ganc_toy2d *set, uint64_t seed, int64_t epoch, const int32_t *idx, int m, float *out);

#endif
