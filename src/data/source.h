/* One data interface for every source: training, `ganc sample`, `ganc eval`, `ganc classifier
 * train` and the batcher see a data set only through a ganc_source: its shape, its count, its
 * labels and class names (if any), "fill these indices into a float batch", and a description
 * for logs and checkpoints.
 *
 * The sources, chosen from the (already resolved) spec by ganc_source_open:
 *   ring, grid                 the 2-D mixtures (src/data/toy2d.h): a virtual set of points
 *   stacked-mnist:IDX          three digits of IDX as RGB (src/data/stacked.c)
 *   cifar10:DIR, cifar100:DIR  the CIFAR binary batches (src/data/cifar.c)
 *   DIR (a folder)             every picture under it (src/data/folder.h)
 *   FILE.npy                   an array of images (src/data/npy_set.c)
 *   FILE                       an IDX file of images (src/data/dataset.c)
 * Every image source is held as bytes (a ganc_dataset); the options below fit any of them to one
 * shape (a folder while decoding, the others after loading), so that `--size 32` turns 28x28
 * digits into a set a 32x32 model can learn. */
#ifndef GANC_SOURCE_H
#define GANC_SOURCE_H

#include "data/data.h"
#include "data/folder.h"
#include "data/resize.h"
#include "data/toy2d.h"

typedef struct {
    int height, width;     /* 0, 0: the source's own size */
    ganc_fit_mode fit;     /* aspect ratios that differ: crop (centre) or pad */
    int channels;          /* 1 or 3; 0: the source's own (a folder: 3 when any picture has colour) */
    uint8_t background[3]; /* under transparency, and the padding */
    int strict;            /* a broken picture in a folder stops the load */
    int xflip;             /* every image also mirrored left-right: twice the samples per epoch */
    int test;              /* sources with a test split of their own (CIFAR): load that instead */
    uint64_t seed;         /* the 2-D sets draw their points from it */
    const char *cache_dir; /* folders: NULL for ganc_folder_cache_dir() */
    void (*progress)(void *ctx, int done, int total); /* folders, while decoding; may be NULL */
    void *progress_ctx;
} ganc_source_options;

typedef enum { GANC_SOURCE_IMAGES, GANC_SOURCE_TOY2D } ganc_source_kind;

typedef struct {
    ganc_source_kind kind;
    int n;                 /* samples per epoch (xflip: twice the images) */
    ganc_shape shape;      /* of one sample (2-D sets: 2 x 1 x 1) */
    ganc_dataset ds;       /* images: the bytes, labels and class names; 2-D sets: only n and shape */
    const ganc_toy2d *toy; /* 2-D sets */
    uint64_t toy_seed;
    int xflip;
    int class_ordered;     /* folders and NPY: images in class order, so a test split is drawn at random */
    char desc[1024];       /* what it is, for logs: "emoji/ (3,781 pictures in 9 classes, 32x32 RGB)" */
    ganc_folder_report report; /* folders: what the walk found (broken pictures); zero otherwise */
} ganc_source;

void ganc_source_options_default(ganc_source_options *o);

/* "S" or "HxW" (1 .. 4096 each), or "" / "0" for the source's own size (h = w = 0). */
int ganc_parse_size(const char *text, int *h, int *w, char err[GANC_ERR_LEN]);
/* "white", "black" or "R,G,B" (0 .. 255 each). */
int ganc_parse_background(const char *text, uint8_t rgb[3], char err[GANC_ERR_LEN]);

/* Opens spec (a resolved --data value: names like mnist-10k are the CLI's to resolve). Errors
 * name the spec and what is wrong, in one line. */
int ganc_source_open(const char *spec, const ganc_source_options *o, ganc_source *s, char err[GANC_ERR_LEN]);
void ganc_source_close(ganc_source *s);

/* Samples idx[0..m) (0 <= idx < n) of `epoch` as floats, NCHW, pixel 0 -> lo and 255 -> hi
 * (2-D sets: the points themselves). Deterministic in (idx, epoch). */
void ganc_source_fill(const ganc_source *s, const int32_t *idx, int m, int64_t epoch, float lo, float hi, float *out);
/* Sample i's label (a mirrored image keeps its label), -1 when the set has none. */
int ganc_source_label(const ganc_source *s, int i);
/* Class k's name: the source's, else its number as text in buf. */
const char *ganc_source_class_name(const ganc_source *s, int k, char buf[16]);

/* Fits every image of ds to (c, h, w) (src/data/resize.h's rules) in place of its bytes;
 * 0 for c, h or w keeps that one. Not for stacked sets (their channels are composed). */
int ganc_dataset_refit(ganc_dataset *ds, int c, int h, int w, ganc_fit_mode fit, const uint8_t bg[3],
                       char err[GANC_ERR_LEN]);

#endif
