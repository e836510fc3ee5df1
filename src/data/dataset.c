/* A data set held as bytes: an images IDX file, and the labels file beside it when there is
 * one. Pixels stay uint8 (a quarter of the memory of floats); ganc_dataset_fill converts only
 * the samples of one batch.
 *
 * pixels and labels are the buffers ganc_idx_read allocated (malloc), taken over rather than
 * copied, so ganc_dataset_free releases them with free(). */
#include "data/data.h"
#include "ganc_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* Sanity limits: far above any real image data set, low enough that a corrupt header cannot
 * make us allocate an absurd amount (4 GiB - 1 keeps it expressible in a 32-bit size_t). */
#define MAX_IMAGE_BYTES ((size_t)0xFFFFFFFFu)
#define MAX_SIDE 4096

/* Last occurrence of needle in hay, or NULL. */
static char *find_last(char *hay, const char *needle)
{
    char *last = NULL;
    for (char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) last = p;
    return last;
}

/* The labels file that goes with images_path: in the file name only (a directory called
 * "images" must not be rewritten), the last "images-idx3" becomes "labels-idx1", else the last
 * "images" becomes "labels". Both swaps keep the length, so out fits whenever the input does.
 * Returns 0 when the name contains neither, i.e. there is no labels file to look for. */
static int labels_path_for(const char *images_path, char out[512])
{
    size_t len = strlen(images_path);
    if (len >= 512) return 0;
    memcpy(out, images_path, len + 1);
    char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    char *p = find_last(base, "images-idx3");
    if (p) {
        memcpy(p, "labels-idx1", 11);
        return 1;
    }
    p = find_last(base, "images");
    if (p) {
        memcpy(p, "labels", 6);
        return 1;
    }
    return 0;
}

/* (n, h, w, c) bytes -> (n, c, h, w): channels become planes, as the networks expect NCHW. */
static uint8_t *hwc_to_chw(const uint8_t *src, int n, int h, int w, int c)
{
    size_t plane = (size_t)h * (size_t)w, sample = plane * (size_t)c;
    uint8_t *dst = malloc(sample * (size_t)n);
    if (!dst) return NULL;
    for (size_t s = 0; s < (size_t)n; s++) {
        const uint8_t *in = src + s * sample;
        uint8_t *o = dst + s * sample;
        for (size_t p = 0; p < plane; p++)
            for (int ch = 0; ch < c; ch++) o[(size_t)ch * plane + p] = in[p * (size_t)c + (size_t)ch];
    }
    return dst;
}

/* Validates the images' layout and moves their bytes into ds (NCHW). */
static int take_images(const char *path, ganc_idx *im, ganc_dataset *ds, char err[GANC_ERR_LEN])
{
    if (im->ndim != 3 && im->ndim != 4)
        return ganc_fail(err, "%s: images must have 3 dimensions (n, h, w) or 4 (n, h, w, c), not %d", path,
                         im->ndim);
    int n = im->dims[0], h = im->dims[1], w = im->dims[2], c = im->ndim == 4 ? im->dims[3] : 1;
    if (c != 1 && c != 3)
        return ganc_fail(err, "%s: images have %d channels; 1 or 3 are supported", path, c);
    if (h > MAX_SIDE || w > MAX_SIDE)
        return ganc_fail(err, "%s: images of %dx%d are larger than the limit of %dx%d", path, h, w, MAX_SIDE,
                         MAX_SIDE);
    ds->n = n;
    ds->shape = (ganc_shape){c, h, w};
    if (c == 1) { /* HWC with one channel is already CHW */
        ds->pixels = im->data;
        im->data = NULL;
        return 0;
    }
    ds->pixels = hwc_to_chw(im->data, n, h, w, c);
    if (!ds->pixels) return ganc_fail(err, "%s: out of memory transposing %d images", path, n);
    return 0;
}

/* Loads the labels file when it exists; it must then hold exactly one byte per image. */
static int take_labels(const char *images_path, ganc_dataset *ds, char err[GANC_ERR_LEN])
{
    char path[512];
    struct stat st;
    if (!labels_path_for(images_path, path)) return 0;
    if (stat(path, &st) != 0 && errno == ENOENT) return 0; /* no labels: fine, a GAN needs none */
    ganc_idx lb;
    if (ganc_idx_read(path, MAX_IMAGE_BYTES, &lb, err) != 0) return -1;
    int rc = -1;
    if (lb.ndim != 1)
        ganc_fail(err, "%s: labels must have 1 dimension, not %d", path, lb.ndim);
    else if (lb.dims[0] != ds->n)
        ganc_fail(err, "%s: holds %d labels but %s holds %d images", path, lb.dims[0], images_path, ds->n);
    else
        rc = 0;
    if (rc == 0) {
        int top = 0;
        for (int i = 0; i < ds->n; i++)
            if (lb.data[i] > top) top = lb.data[i];
        ds->labels = lb.data;
        lb.data = NULL;
        ds->n_classes = top + 1;
        memcpy(ds->labels_path, path, strlen(path) + 1);
    }
    ganc_idx_free(&lb);
    return rc;
}

static int load_plain(const char *images_path, ganc_dataset *ds, char err[GANC_ERR_LEN])
{
    memset(ds, 0, sizeof *ds);
    if (strlen(images_path) >= sizeof ds->images_path)
        return ganc_fail(err, "%.200s...: path longer than %zu bytes", images_path, sizeof ds->images_path - 1);
    ganc_idx im;
    if (ganc_idx_read(images_path, MAX_IMAGE_BYTES, &im, err) != 0) return -1;
    int rc = take_images(images_path, &im, ds, err);
    ganc_idx_free(&im);
    if (rc == 0) rc = take_labels(images_path, ds, err);
    if (rc != 0) {
        ganc_dataset_free(ds);
        return -1;
    }
    memcpy(ds->images_path, images_path, strlen(images_path) + 1);
    return 0;
}

int ganc_dataset_load_idx(const char *images_path, ganc_dataset *ds, char err[GANC_ERR_LEN])
{
    const size_t plen = strlen(GANC_STACKED_PREFIX);
    if (strncmp(images_path, GANC_STACKED_PREFIX, plen) != 0) return load_plain(images_path, ds, err);
    ganc_dataset base;
    if (load_plain(images_path + plen, &base, err)) {
        memset(ds, 0, sizeof *ds);
        return -1;
    }
    const int rc = ganc_dataset_stack(&base, 0, base.n, GANC_STACKED_N, GANC_STACKED_SEED, ds, err);
    ganc_dataset_free(&base);
    if (rc == 0) snprintf(ds->images_path, sizeof ds->images_path, "%s", images_path);
    return rc;
}

int ganc_dataset_label(const ganc_dataset *ds, int i)
{
    if (!ds->labels) return -1;
    if (!ds->base_n) return ds->labels[i];
    int32_t d[3];
    ganc_dataset_stack_digits(ds, i, d);
    const int k = ds->base_classes;
    return (ds->labels[d[0]] * k + ds->labels[d[1]]) * k + ds->labels[d[2]];
}

void ganc_dataset_release_pixels(ganc_dataset *ds)
{
    if (ds->map)
        munmap(ds->map, ds->map_len);
    else
        free(ds->pixels);
    ds->map = NULL;
    ds->map_len = 0;
    ds->pixels = NULL;
}

void ganc_dataset_free(ganc_dataset *ds)
{
    if (!ds) return;
    ganc_dataset_release_pixels(ds);
    free(ds->labels);
    if (ds->class_names)
        for (int k = 0; k < ds->n_classes; k++) free(ds->class_names[k]);
    free(ds->class_names);
    memset(ds, 0, sizeof *ds);
}

void ganc_dataset_fill(const ganc_dataset *ds, const int32_t *idx, int m, float lo, float hi, float *out)
{
    /* one table for the 256 byte values: a conversion per byte would repeat this arithmetic
     * h*w*c times per sample; the ends are pinned so 0 and 255 map to lo and hi exactly */
    float lut[256];
    for (int p = 0; p < 256; p++) lut[p] = lo + (hi - lo) * (float)p / 255.0f;
    lut[0] = lo;
    lut[255] = hi;
    size_t size = ganc_shape_size(ds->shape);
    for (int i = 0; i < m; i++) {
        assert(idx[i] >= 0 && idx[i] < ds->n);
        float *dst = out + (size_t)i * size;
        if (ds->base_n) { /* stacked: each channel is a whole base image */
            const size_t plane = (size_t)ds->shape.h * (size_t)ds->shape.w;
            int32_t d[3];
            ganc_dataset_stack_digits(ds, idx[i], d);
            for (int k = 0; k < 3; k++) {
                const uint8_t *src = ds->pixels + (size_t)d[k] * plane;
                for (size_t j = 0; j < plane; j++) dst[(size_t)k * plane + j] = lut[src[j]];
            }
            continue;
        }
        const uint8_t *src = ds->pixels + (size_t)idx[i] * size;
        for (size_t j = 0; j < size; j++) dst[j] = lut[src[j]];
    }
}

int ganc_dataset_subset(const ganc_dataset *ds, const int32_t *idx, int n, ganc_dataset *out, char err[GANC_ERR_LEN])
{
    memset(out, 0, sizeof *out);
    if (ds->base_n) return ganc_fail(err, "%s: a stacked set cannot be split by image", ds->images_path);
    const size_t size = ganc_shape_size(ds->shape);
    out->pixels = malloc(size * (size_t)(n > 0 ? n : 1));
    out->labels = ds->labels ? malloc((size_t)(n > 0 ? n : 1)) : NULL;
    out->class_names = ds->class_names ? calloc((size_t)ds->n_classes, sizeof *out->class_names) : NULL;
    if (!out->pixels || (ds->labels && !out->labels) || (ds->class_names && !out->class_names)) goto oom;
    for (int k = 0; ds->class_names && k < ds->n_classes; k++)
        if (ds->class_names[k] && !(out->class_names[k] = strdup(ds->class_names[k]))) goto oom;
    for (int i = 0; i < n; i++) {
        assert(idx[i] >= 0 && idx[i] < ds->n);
        memcpy(out->pixels + (size_t)i * size, ds->pixels + (size_t)idx[i] * size, size);
        if (ds->labels) out->labels[i] = ds->labels[idx[i]];
    }
    out->n = n;
    out->shape = ds->shape;
    out->n_classes = ds->n_classes;
    memcpy(out->images_path, ds->images_path, sizeof out->images_path);
    memcpy(out->labels_path, ds->labels_path, sizeof out->labels_path);
    return 0;
oom:
    out->n_classes = ds->n_classes; /* so that free releases every name */
    ganc_dataset_free(out);
    return ganc_fail(err, "%s: out of memory taking %d of its images", ds->images_path, n);
}
