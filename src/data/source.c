/* The data interface (source.h): choosing a reader from the spec, fitting image sets to the shape
 * asked for, and the one fill every consumer calls. */
#include "data/source.h"
#include "ganc_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { MAX_SIDE = 4096 };

void ganc_source_options_default(ganc_source_options *o)
{
    memset(o, 0, sizeof *o);
    o->fit = GANC_FIT_CROP;
    o->background[0] = o->background[1] = o->background[2] = 255;
}

/* A whole number in [lo, hi] that fills text[0..len) exactly. */
static int number_in(const char *text, size_t len, long lo, long hi, long *v)
{
    if (len == 0 || len > 9) return -1;
    long x = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i])) return -1;
        x = x * 10 + (text[i] - '0');
    }
    if (x < lo || x > hi) return -1;
    *v = x;
    return 0;
}

int ganc_parse_size(const char *text, int *h, int *w, char err[GANC_ERR_LEN])
{
    if (!text[0] || !strcmp(text, "0")) {
        *h = *w = 0;
        return 0;
    }
    const char *x = strchr(text, 'x');
    long a, b;
    if (!x) {
        if (number_in(text, strlen(text), 1, MAX_SIDE, &a) == 0) {
            *h = *w = (int)a;
            return 0;
        }
    } else if (number_in(text, (size_t)(x - text), 1, MAX_SIDE, &a) == 0 &&
               number_in(x + 1, strlen(x + 1), 1, MAX_SIDE, &b) == 0) {
        *h = (int)a;
        *w = (int)b;
        return 0;
    }
    return ganc_fail(err, "--size needs S or HxW with sides in [1, %d] (e.g. 64 or 48x64), got '%s'", MAX_SIDE, text);
}

int ganc_parse_background(const char *text, uint8_t rgb[3], char err[GANC_ERR_LEN])
{
    if (!strcmp(text, "white") || !strcmp(text, "black")) {
        rgb[0] = rgb[1] = rgb[2] = text[0] == 'w' ? 255 : 0;
        return 0;
    }
    const char *p = text;
    for (int k = 0; k < 3; k++) {
        const size_t len = strcspn(p, ",");
        long v;
        if (number_in(p, len, 0, 255, &v) || (k < 2 ? p[len] != ',' : p[len] != 0)) {
            return ganc_fail(err, "--background needs white, black or R,G,B (0-255 each), got '%s'", text);
        }
        rgb[k] = (uint8_t)v;
        p += len + 1;
    }
    return 0;
}

int ganc_dataset_refit(ganc_dataset *ds, int c, int h, int w, ganc_fit_mode fit, const uint8_t bg[3],
                       char err[GANC_ERR_LEN])
{
    const ganc_shape in = ds->shape;
    const ganc_shape out = {c ? c : in.c, h ? h : in.h, w ? w : in.w};
    if (out.c == in.c && out.h == in.h && out.w == in.w) return 0;
    if (ds->base_n)
        return ganc_fail(err, "%s: a stacked set is %dx%dx%d; it cannot be refitted to %dx%dx%d", ds->images_path, in.c,
                         in.h, in.w, out.c, out.h, out.w);
    const size_t in_size = ganc_shape_size(in), out_size = ganc_shape_size(out), plane = (size_t)in.h * in.w;
    uint8_t *pixels = malloc(out_size * (size_t)ds->n), *hwc = malloc(in_size), *planes = malloc(plane * out.c);
    int rc = 0;
    if (!pixels || !hwc || !planes) rc = ganc_fail(err, "%s: out of memory fitting %d images to %dx%d", ds->images_path, ds->n, out.h, out.w);
    for (int i = 0; i < ds->n && rc == 0; i++) {
        /* interleave, so that the channel rules are ganc_image_planes's, the same as a folder's */
        const uint8_t *src = ds->pixels + (size_t)i * in_size;
        for (size_t p = 0; p < plane; p++)
            for (int k = 0; k < in.c; k++) hwc[p * in.c + k] = src[(size_t)k * plane + p];
        ganc_image_planes(hwc, in.w, in.h, in.c, out.c, bg, planes);
        rc = ganc_fit_planes(planes, out.c, in.w, in.h, pixels + (size_t)i * out_size, out.w, out.h, fit, bg, err);
    }
    free(hwc);
    free(planes);
    if (rc) {
        free(pixels);
        return -1;
    }
    ganc_dataset_release_pixels(ds);
    ds->pixels = pixels;
    ds->shape = out;
    return 0;
}

static int is_folder(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int open_images(const char *spec, const ganc_source_options *o, ganc_source *s, char err[GANC_ERR_LEN])
{
    ganc_dataset *ds = &s->ds;
    const int fitted_on_load = is_folder(spec);
    if (!strncmp(spec, "cifar10:", 8) || !strncmp(spec, "cifar100:", 9)) {
        if (ganc_dataset_load_cifar(spec, o->test, ds, err)) return -1;
    } else if (fitted_on_load) {
        ganc_folder_options fo;
        ganc_folder_options_default(&fo);
        fo.height = o->height;
        fo.width = o->width;
        fo.fit = o->fit;
        fo.channels = o->channels;
        memcpy(fo.background, o->background, 3);
        fo.strict = o->strict;
        fo.cache_dir = o->cache_dir;
        fo.progress = o->progress;
        fo.progress_ctx = o->progress_ctx;
        if (ganc_dataset_load_folder(spec, &fo, ds, &s->report, err)) return -1;
    } else if (ganc_ends_with(spec, ".npy")) {
        if (ganc_dataset_load_npy(spec, ds, err)) return -1;
    } else {
        if (ganc_dataset_load_idx(spec, ds, err)) return -1;
    }
    if (!fitted_on_load && ganc_dataset_refit(ds, o->channels, o->height, o->width, o->fit, o->background, err))
        return -1;
    s->kind = GANC_SOURCE_IMAGES;
    s->class_ordered = fitted_on_load || ganc_ends_with(spec, ".npy");
    s->shape = ds->shape;
    s->xflip = o->xflip;
    if (s->xflip && ds->n > INT32_MAX / 2) return ganc_fail(err, "%s: too many images to mirror", spec);
    s->n = ds->n * (s->xflip ? 2 : 1);
    const char *colour = ds->shape.c == 3 ? "RGB" : ds->shape.c == 1 ? "grey" : "channels";
    char classes[64] = "";
    if (ds->labels && ds->n_classes > 0) snprintf(classes, sizeof classes, " in %d classes", ds->n_classes);
    snprintf(s->desc, sizeof s->desc, "%.900s (%d images%s, %dx%d %s%s)", spec, ds->n, classes, ds->shape.h,
             ds->shape.w, colour, s->xflip ? ", mirrored too" : "");
    return 0;
}

int ganc_source_open(const char *spec, const ganc_source_options *o, ganc_source *s, char err[GANC_ERR_LEN])
{
    memset(s, 0, sizeof *s);
    if (strlen(spec) >= sizeof s->ds.images_path)
        return ganc_fail(err, "--data %.100s...: longer than %zu bytes", spec, sizeof s->ds.images_path - 1);
    char unused[GANC_ERR_LEN];
    s->toy = ganc_toy2d_find(spec, unused);
    if (s->toy) {
        if (o->height || o->width || o->channels || o->xflip)
            return ganc_fail(err, "--data %s: 2-D points have no --size, --channels or --xflip", spec);
        s->kind = GANC_SOURCE_TOY2D;
        s->n = s->ds.n = GANC_TOY2D_EPOCH;
        s->shape = s->ds.shape = (ganc_shape){2, 1, 1};
        s->toy_seed = o->seed;
        snprintf(s->desc, sizeof s->desc, "%s (2-D points, %d modes)", spec, s->toy->n_modes);
        return 0;
    }
    if (open_images(spec, o, s, err)) {
        ganc_source_close(s);
        return -1;
    }
    return 0;
}

void ganc_source_close(ganc_source *s)
{
    if (!s) return;
    ganc_dataset_free(&s->ds);
    ganc_folder_report_free(&s->report);
    memset(s, 0, sizeof *s);
}

/* Mirrors each row of each plane of n samples of shape sh in place. */
static void mirror(float *x, ganc_shape sh)
{
    for (int r = 0; r < sh.c * sh.h; r++) {
        float *row = x + (size_t)r * sh.w;
        for (int a = 0, b = sh.w - 1; a < b; a++, b--) {
            const float t = row[a];
            row[a] = row[b];
            row[b] = t;
        }
    }
}

void ganc_source_fill(const ganc_source *s, const int32_t *idx, int m, int64_t epoch, float lo, float hi, float *out)
{
    if (s->kind == GANC_SOURCE_TOY2D) {
        ganc_toy2d_fill(s->toy, s->toy_seed, epoch, idx, m, out);
        return;
    }
    if (!s->xflip) {
        ganc_dataset_fill(&s->ds, idx, m, lo, hi, out);
        return;
    }
    /* index i >= images is image i - images mirrored: the images' own indices filled in
     * blocks (one conversion table per block, the same floats as without --xflip), then the
     * mirrored ones turned round */
    const size_t size = ganc_shape_size(s->shape);
    enum { BLOCK = 256 };
    int32_t own[BLOCK];
    for (int i0 = 0; i0 < m; i0 += BLOCK) {
        const int k = m - i0 < BLOCK ? m - i0 : BLOCK;
        for (int i = 0; i < k; i++) own[i] = idx[i0 + i] >= s->ds.n ? idx[i0 + i] - s->ds.n : idx[i0 + i];
        ganc_dataset_fill(&s->ds, own, k, lo, hi, out + (size_t)i0 * size);
        for (int i = 0; i < k; i++)
            if (idx[i0 + i] >= s->ds.n) mirror(out + (size_t)(i0 + i) * size, s->shape);
    }
}

int ganc_source_label(const ganc_source *s, int i)
{
    if (s->kind == GANC_SOURCE_TOY2D) return -1;
    return ganc_dataset_label(&s->ds, i >= s->ds.n ? i - s->ds.n : i);
}

const char *ganc_source_class_name(const ganc_source *s, int k, char buf[16])
{
    if (s->ds.class_names && k >= 0 && k < s->ds.n_classes && s->ds.class_names[k]) return s->ds.class_names[k];
    snprintf(buf, 16, "%d", k);
    return buf;
}
