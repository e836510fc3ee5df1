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

/* Images as bytes, (n, c, h, w), with optional labels.
 *
 * A stacked set (Stacked MNIST, docs/design.md §5) holds no composed images: sample i is made, when a
 * batch is filled, of three base images chosen by ganc_dataset_stack_digits, one per channel.
 * Its pixels and labels are then the base images' (base_n of them, one channel each). */
typedef struct {
    int n;
    ganc_shape shape;
    uint8_t *pixels;   /* n * c * h * w (stacked: base_n * h * w) */
    uint8_t *labels;   /* n, or NULL (stacked: base_n, or NULL) */
    int n_classes;     /* 1 + largest label, 0 without labels (stacked: base_classes^3) */
    int base_n;        /* stacked sets: base images; 0 for an ordinary set */
    int base_classes;  /* stacked sets: 1 + the base's largest label */
    uint64_t stack_seed;
    char **class_names; /* n_classes names (malloc'd), or NULL when the source names none */
    void *map;          /* pixels point into this read-only mapping of a cache file (or NULL) */
    size_t map_len;
    char images_path[512], labels_path[512];
} ganc_dataset;

/* Loads an images IDX file (n, h, w) -> shape (1, h, w), or (n, h, w, c) -> (c, h, w).
 * Labels are looked for beside it (the file name with "images-idx3" replaced by
 * "labels-idx1", or "images" by "labels"); a labels file that exists but does not match
 * (count, type) is an error, a missing one is not.
 * "stacked-mnist:PATH" loads PATH (one-channel images) as the base of a stacked set of
 * GANC_STACKED_N samples drawn with GANC_STACKED_SEED (ganc_dataset_stack); the name is the
 * data set's, so `ganc train --data stacked-mnist:PATH` works through this one entry. */
int ganc_dataset_load_idx(const char *images_path, ganc_dataset *ds, char err[GANC_ERR_LEN]);
void ganc_dataset_free(ganc_dataset *ds);
/* A new set of images idx[0..n) of ds (copied: pixels, labels, class names). */
int ganc_dataset_subset(const ganc_dataset *ds, const int32_t *idx, int n, ganc_dataset *out, char err[GANC_ERR_LEN]);
/* Frees (or unmaps) the pixels alone, leaving pixels NULL: for a caller that replaces them. */
void ganc_dataset_release_pixels(ganc_dataset *ds);

/* CIFAR-10 or CIFAR-100 in the binary format: spec "cifar10:DIR" or "cifar100:DIR"; the
 * training files, or with test != 0 the test file; labels (CIFAR-100: the fine ones) and class
 * names (src/data/cifar.c lists the files). */
int ganc_dataset_load_cifar(const char *spec, int test, ganc_dataset *ds, char err[GANC_ERR_LEN]);

/* An NPY array of images: (N, C, H, W), (N, H, W, C) or (N, H, W), uint8 or float32 in [0, 1],
 * held as uint8 NCHW; labels from PATH-without-.npy + "_labels.npy" or ".labels.npy" beside it,
 * when one exists (src/data/npy_set.c says how the layout is told and which dtypes are taken). */
int ganc_dataset_load_npy(const char *path, ganc_dataset *ds, char err[GANC_ERR_LEN]);

/* Converts samples idx[0..m) to floats in [lo, hi] (pixel 0 -> lo, 255 -> hi), NCHW. */
void ganc_dataset_fill(const ganc_dataset *ds, const int32_t *idx, int m, float lo, float hi, float *out);

/* Sample i's label: the stored byte, or for a stacked set the mode
 * (l0 * K + l1) * K + l2 of its channels' base labels (K = base_classes; 0..999 for MNIST).
 * -1 when the set has no labels. */
int ganc_dataset_label(const ganc_dataset *ds, int i);

/* ---- Stacked MNIST ----------------------------------------------------------------------- */

#define GANC_STACKED_PREFIX "stacked-mnist:"
#define GANC_STACKED_N 128000            /* samples (an epoch) of a stacked training set */
#define GANC_STACKED_SEED 0x5354414bull  /* "STAK": the composition of training sets */

/* A stacked set of n samples of shape (3, h, w) whose channels are images of base[from ..
 * from + count) (one-channel), chosen independently and uniformly: sample i, channel k is base
 * image from + digits[k] with digits from ganc_dataset_stack_digits. The base images (and
 * labels) are copied, so base may be freed afterwards. Deterministic in (seed, i). */
int ganc_dataset_stack(const ganc_dataset *base, int from, int count, int n, uint64_t seed, ganc_dataset *out,
                       char err[GANC_ERR_LEN]);
/* The base images (0 .. base_n) in sample i's three channels: three 64-bit draws of Philox
 * block counters 3i, 3i+1, 3i+2 under key `stack_seed`, each modulo base_n. */
void ganc_dataset_stack_digits(const ganc_dataset *ds, int i, int32_t digits[3]);

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
