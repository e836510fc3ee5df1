/* A labelled image set made up for the classifier and evaluation tests: 4 classes, class q =
 * which quadrant of a noisy h x w image is bright. Easy enough that a small CNN learns it in
 * an epoch, not so easy that an untrained one passes (chance is 25%). */
#ifndef GANC_TEST_SYNTH_H
#define GANC_TEST_SYNTH_H

#include "data/data.h"

#include <stdlib.h>
#include <string.h>

/* n images of (1, side, side), drawn from seed; pixels and labels are malloc'ed as
 * ganc_dataset_free expects. */
static inline void synth_quadrants(ganc_dataset *ds, int n, int side, uint64_t seed)
{
    memset(ds, 0, sizeof *ds);
    const size_t image = (size_t)side * (size_t)side;
    ds->n = n;
    ds->shape = (ganc_shape){1, side, side};
    ds->pixels = malloc(image * (size_t)n);
    ds->labels = malloc((size_t)n);
    ds->n_classes = 4;
    strcpy(ds->images_path, "quadrants");
    ganc_rng r;
    ganc_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        const int q = (int)(ganc_rng_u64(&r) % 4);
        ds->labels[i] = (uint8_t)q;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                const int in_q = (y < side / 2) == (q < 2) && (x < side / 2) == (q % 2 == 0);
                const int v = (int)(ganc_rng_u64(&r) % 100) + (in_q ? 120 : 0);
                ds->pixels[(size_t)i * image + (size_t)y * side + x] = (uint8_t)v;
            }
    }
}

#endif
