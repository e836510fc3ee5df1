/* Data: IDX files (MNIST, Fashion-MNIST; raw or gzip), a data set held as bytes, and the
 * batcher that shuffles it each epoch reproducibly from a seed. */
#ifndef GANC_DATA_H
#define GANC_DATA_H

#include "ganc.h"

/* An IDX file of unsigned bytes (type 0x08): dims[0] items of dims[1]*...*dims[ndim-1]. */
typedef struct {
    int ndim;
    int dims[4];
    size_t count; /* total bytes */
    uint8_t *data;
} ganc_idx;

/* Reads raw or gzip IDX (detected by content, not name). Declared sizes are checked against
 * max_bytes and, for raw files, the real file size before anything is allocated. Errors name
 * the file and what is wrong ("x.idx: declares 2147483647 images of 28x28 but holds 100 bytes"). */
int ganc_idx_read(const char *path, size_t max_bytes, ganc_idx *out, char err[GANC_ERR_LEN]);
void ganc_idx_free(ganc_idx *idx);

/* Images as bytes, (n, c, h, w), with optional labels. */
typedef struct {
    int n;
    ganc_shape shape;
    uint8_t *pixels;   /* n * c * h * w */
    uint8_t *labels;   /* n, or NULL */
    int n_classes;     /* 1 + largest label, 0 without labels */
    char images_path[512], labels_path[512];
} ganc_dataset;

/* Loads an images IDX file (n, h, w) -> shape (1, h, w), or (n, h, w, c) -> (c, h, w).
 * Labels are looked for beside it (the file name with "images-idx3" replaced by
 * "labels-idx1", or "images" by "labels"); a labels file that exists but does not match
 * (count, type) is an error, a missing one is not. */
int ganc_dataset_load_idx(const char *images_path, ganc_dataset *ds, char err[GANC_ERR_LEN]);
void ganc_dataset_free(ganc_dataset *ds);

/* Converts samples idx[0..m) to floats in [lo, hi] (pixel 0 -> lo, 255 -> hi), NCHW. */
void ganc_dataset_fill(const ganc_dataset *ds, const int32_t *idx, int m, float lo, float hi, float *out);

/* Shuffled passes over n items. The order of epoch e is a permutation drawn from a generator
 * seeded with (seed, e), so the whole state is (epoch, pos) and resuming needs nothing else. */
typedef struct {
    uint64_t seed;
    int n;
    int64_t epoch; /* current epoch, from 0 */
    int pos;       /* next index into the epoch's order */
    int32_t *order;
} ganc_batcher;

void ganc_batcher_init(ganc_batcher *b, int n, uint64_t seed);
/* Repositions (e.g. after loading a checkpoint); regenerates that epoch's order. */
void ganc_batcher_seek(ganc_batcher *b, int64_t epoch, int pos);
/* Next m indices (m <= n); an epoch that runs out continues into the next one. */
void ganc_batcher_next(ganc_batcher *b, int m, int32_t *idx);
void ganc_batcher_free(ganc_batcher *b);

#endif
