/* Stacked MNIST (docs/design.md §5): three independently drawn one-channel images as the channels of
 * one sample, so a data set of 10 classes becomes one of 1000 modes.
 *
 * Nothing composed is stored: sample i's three base images follow from (seed, i) alone through
 * Philox, a counter-based generator, so any sample can be made in any order (the batcher's
 * shuffle) at the cost of three generator blocks, and a set of 128,000 samples costs no more
 * memory than its base images. */
#include "data/data.h"
#include "ganc_internal.h"

#include <stdlib.h>
#include <string.h>

void ganc_dataset_stack_digits(const ganc_dataset *ds, int i, int32_t digits[3])
{
    ganc_rng r = {ds->stack_seed, 3 * (uint64_t)i};
    /* 64 random bits modulo at most 2^31 images: the bias is below 2^-33 */
    for (int k = 0; k < 3; k++) digits[k] = (int32_t)(ganc_rng_u64(&r) % (uint64_t)ds->base_n);
}

int ganc_dataset_stack(const ganc_dataset *base, int from, int count, int n, uint64_t seed, ganc_dataset *out,
                       char err[GANC_ERR_LEN])
{
    memset(out, 0, sizeof *out);
    if (base->base_n) return ganc_fail(err, "%s: already a stacked data set", base->images_path);
    if (base->shape.c != 1)
        return ganc_fail(err, "%s: Stacked MNIST needs one-channel images, these have %d channels", base->images_path,
                         base->shape.c);
    if (from < 0 || count < 1 || from > base->n - count || n < 1)
        return ganc_fail(err, "%s: cannot stack images %d .. %d of %d into %d samples", base->images_path, from,
                         from + count, base->n, n);
    const size_t plane = (size_t)base->shape.h * (size_t)base->shape.w;
    out->pixels = malloc(plane * (size_t)count);
    out->labels = base->labels ? malloc((size_t)count) : NULL;
    if (!out->pixels || (base->labels && !out->labels)) {
        ganc_dataset_free(out);
        return ganc_fail(err, "%s: out of memory for %d stacked images", base->images_path, count);
    }
    memcpy(out->pixels, base->pixels + plane * (size_t)from, plane * (size_t)count);
    int top = 0;
    if (base->labels) {
        memcpy(out->labels, base->labels + from, (size_t)count);
        /* the mode count follows the base's classes, not the slice's (a slice may miss one) */
        top = base->n_classes - 1;
    }
    out->n = n;
    out->shape = (ganc_shape){3, base->shape.h, base->shape.w};
    out->base_n = count;
    out->base_classes = base->labels ? top + 1 : 0;
    out->n_classes = base->labels ? out->base_classes * out->base_classes * out->base_classes : 0;
    out->stack_seed = seed;
    memcpy(out->images_path, base->images_path, sizeof out->images_path);
    memcpy(out->labels_path, base->labels_path, sizeof out->labels_path);
    return 0;
}
