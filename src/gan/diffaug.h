/* Differentiable augmentation (DiffAugment, Zhao et al. 2020): random transforms applied to
 * everything D sees, real and generated alike, with gradients flowing back through them to G,
 * so that D cannot memorise a small training set and G is not taught the transforms.
 *
 * The transforms, each drawn independently per sample, applied in this order:
 *   color        brightness  x + b,                        b ~ U(-0.5, 0.5)
 *                saturation  (x - mean_c x) s + mean_c x,  s ~ U(0, 2), the mean over channels
 *                                                          at each pixel
 *                contrast    (x - mean x) k + mean x,      k ~ U(0.5, 1.5), the mean over the
 *                                                          whole sample
 *   translation  the picture shifted by (dy, dx) whole pixels, each uniform in
 *                [-round(size / 8), round(size / 8)] for its axis; what comes in is 0
 *   cutout       a square of half the size (rounded) set to 0, its centre uniform over the
 *                picture (it may hang over the edge)
 * Every transform is linear in x once its draw is fixed, so the backward pass is the adjoint:
 * colour's Jacobians are symmetric (a s I + (1 - s) mean form), translation shifts back, cutout
 * masks. The draws come from the caller's generator, so a run stays reproducible. */
#ifndef GANC_DIFFAUG_H
#define GANC_DIFFAUG_H

#include "ganc.h"

enum { GANC_AUG_COLOR = 1, GANC_AUG_TRANSLATION = 2, GANC_AUG_CUTOUT = 4 };

typedef struct {
    unsigned kinds;     /* GANC_AUG_* bits */
    ganc_shape shape;
    int max_n;
    int n;              /* samples of the last draw */
    int shift_h, shift_w; /* translation: largest shift per axis */
    int cut_h, cut_w;     /* cutout: the square's sides */
    /* the last draw, max_n each */
    float *brightness, *saturation, *contrast;
    int *dy, *dx, *cy, *cx;
    float *plane; /* scratch: one h x w plane */
} ganc_diffaug;

/* "color,translation,cutout" (any subset, in any order) -> GANC_AUG_* bits; "" or "none" is 0. */
int ganc_diffaug_parse(const char *list, unsigned *kinds, char err[GANC_ERR_LEN]);
/* Writes the names of kinds, comma-separated ("none" for 0), into buf. */
void ganc_diffaug_format(unsigned kinds, char *buf, size_t cap);

int ganc_diffaug_init(ganc_diffaug *a, unsigned kinds, ganc_shape shape, int max_n, char err[GANC_ERR_LEN]);
void ganc_diffaug_free(ganc_diffaug *a);
/* Draws the transforms of n <= max_n samples. */
void ganc_diffaug_draw(ganc_diffaug *a, int n, ganc_rng *rng);
/* Keeps samples [first, first + n) of the last draw as the draw (a data-parallel process's
 * share of a draw for the global batch). */
void ganc_diffaug_keep(ganc_diffaug *a, int first, int n);
/* y = the last draw applied to x ((n, c, h, w), n as drawn); y may be x. */
void ganc_diffaug_forward(const ganc_diffaug *a, const float *x, float *y);
/* dx = the transpose of the last draw applied to dy; dx may be dy. */
void ganc_diffaug_backward(const ganc_diffaug *a, const float *dy, float *dx);

#endif
