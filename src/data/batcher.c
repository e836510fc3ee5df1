/* Shuffled passes over a data set. Epoch e's order is a permutation drawn from a generator
 * whose seed is derived from (seed, e) alone, so a checkpoint stores (epoch, pos) and resuming
 * regenerates exactly the order a run that never stopped would have used.
 *
 * Derivation: seed ^ (0x9E3779B97F4A7C15 * (e + 1)). The constant is 2^64 / golden ratio
 * (odd, so e -> constant * (e + 1) is a bijection on 64-bit integers): consecutive epochs get
 * keys that differ in many bits, and e + 1 keeps epoch 0 from reusing the bare seed that the
 * caller may also hand to another generator. Philox then scrambles the key fully. */
#include "data/data.h"

#include <string.h>

#define EPOCH_MIX 0x9E3779B97F4A7C15ull

static void make_order(ganc_batcher *b)
{
    ganc_rng r;
    ganc_rng_seed(&r, b->seed ^ (EPOCH_MIX * (uint64_t)(b->epoch + 1)));
    ganc_rng_permutation(&r, b->order, (size_t)b->n);
}

void ganc_batcher_init(ganc_batcher *b, int n, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->seed = seed;
    b->n = n > 0 ? n : 0;
    b->order = ganc_alloc((size_t)b->n * sizeof *b->order); /* the only allocation */
    make_order(b);
}

void ganc_batcher_seek(ganc_batcher *b, int64_t epoch, int pos)
{
    /* pos == n (an epoch just used up) is the start of the next one; anything outside
     * [0, n] (a checkpoint from a different data set) restarts the nearest whole epoch */
    if (epoch < 0) epoch = 0;
    if (pos < 0) pos = 0;
    if (pos >= b->n) {
        epoch++;
        pos = 0;
    }
    b->epoch = epoch;
    b->pos = pos;
    make_order(b);
}

void ganc_batcher_next(ganc_batcher *b, int m, int32_t *idx)
{
    if (b->n == 0) return;
    for (int i = 0; i < m; i++) {
        idx[i] = b->order[b->pos++];
        /* roll over as soon as an epoch is used up, so (epoch, pos) after the last batch of an
         * epoch already reads (e + 1, 0) and a trainer can see the epoch end */
        if (b->pos == b->n) {
            b->epoch++;
            b->pos = 0;
            make_order(b);
        }
    }
}

void ganc_batcher_free(ganc_batcher *b)
{
    if (!b) return;
    ganc_free(b->order);
    memset(b, 0, sizeof *b);
}
