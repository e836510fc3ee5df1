/* A data set from an NPY array (numpy's np.save format; the header is parsed by src/io/npy.c).
 *
 * Images: a C-order array of shape
 *   (N, C, H, W)  or  (N, H, W, C)  with C = 1 or 3, or (N, H, W) for grey;
 * which 4-d layout is meant is read off the shape: a 1 or 3 at position 1 and not at position
 * 3 is NCHW, at 3 and not at 1 is NHWC; when both could be channels, e.g. (N, 3, 8, 3), it is
 * taken as NCHW (numpy's and PyTorch's usual order), and when neither is 1 or 3 the file is
 * refused. dtype '|u1' (uint8, stored as is) or '<f4' (float32 in [0, 1], stored as
 * round(x * 255), computed in double where the product is exact; a value outside [0, 1] or NaN
 * is refused with its index). Sides 1 to 4096, 1 to INT_MAX images. The set is kept as uint8
 * NCHW: float32 data and NHWC layouts are converted a chunk at a time while reading, so the
 * whole set is never held as floats or twice.
 *
 * Labels: optional, found beside the images by name. For X.npy (or X without the suffix) the
 * first of
 *   X_labels.npy,  X.labels.npy
 * that exists is used (when both exist, X_labels.npy wins and the other is not read). It must
 * be a 1-d array of N integers ('|u1', '|i1', '<u2', '<i2', '<u4', '<i4', '<u8', '<i8'), each 0
 * to 255; the set then has 1 + the largest label classes and no class names.
 *
 * Every size is checked against the file before anything is allocated; every refusal is one
 * line naming the file and what is wrong (it is fuzzed: tests/fuzz/fuzz_npy_set.c). */
#include "data/data.h"
#include "ganc_internal.h"
#include "io/image.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SIDE 4096
#define CHUNK_ELEMS ((size_t)1 << 16) /* elements converted per read */
#define MAX_PATH_LEN 480              /* leaves room for "_labels.npy" in ds->labels_path */
#define LABELS_PATH_LEN (MAX_PATH_LEN + 12)
_Static_assert(LABELS_PATH_LEN <= sizeof(((ganc_dataset *)0)->labels_path), "a labels path fits the set's");

static const char images_need[] = "'|u1' (uint8) or '<f4' (float32 in [0, 1])";
static const char labels_need[] = "'|u1', '|i1', '<u2', '<i2', '<u4', '<i4', '<u8' or '<i8'";

/* "(2, 3, 4)" for messages. */
static void shape_text(const ganc_npy_file *f, char *out, size_t cap)
{
    int k = snprintf(out, cap, "(");
    for (int i = 0; i < f->ndim && (size_t)k < cap; i++)
        k += snprintf(out + k, cap - (size_t)k, i ? ", %lld" : "%lld", (long long)f->dims[i]);
    if ((size_t)k < cap) snprintf(out + k, cap - (size_t)k, f->ndim == 1 ? ",)" : ")");
}

/* "[1, 0, 2, 3]": the index of flat element e in the file's shape. */
static void index_text(const ganc_npy_file *f, uint64_t e, char *out, size_t cap)
{
    uint64_t idx[4];
    for (int i = f->ndim - 1; i >= 0; i--) {
        const uint64_t d = (uint64_t)f->dims[i];
        idx[i] = e % d;
        e /= d;
    }
    int k = snprintf(out, cap, "[");
    for (int i = 0; i < f->ndim && (size_t)k < cap; i++)
        k += snprintf(out + k, cap - (size_t)k, i ? ", %llu" : "%llu", (unsigned long long)idx[i]);
    if ((size_t)k < cap) snprintf(out + k, cap - (size_t)k, "]");
}

/* A big-endian descr ('>f4') gets its own message: the data is fine, only its byte order is not. */
static int refuse_dtype(const ganc_npy_file *f, const char *need, char err[GANC_ERR_LEN])
{
    if (f->descr[0] == '>')
        return ganc_fail(err, "%s: big-endian dtype '%s' not supported (need %s; convert with .astype('<%s'))",
                         f->path, f->descr, need, f->descr + 1);
    return ganc_fail(err, "%s: dtype '%s' not supported (need %s)", f->path, f->descr, need);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- images ------------------------------------------------------------------------------ */

typedef struct {
    int n, c, h, w;
    int nhwc;    /* the file's layout is (N, H, W, C); else (N, C, H, W) or (N, H, W) */
    int is_float;
} images_layout;

static int judge_images(const ganc_npy_file *f, images_layout *L, char err[GANC_ERR_LEN])
{
    memset(L, 0, sizeof *L);
    if (!strcmp(f->descr, "<f4"))
        L->is_float = 1;
    else if (strcmp(f->descr, "|u1") != 0)
        return refuse_dtype(f, images_need, err);
    if (f->fortran_order)
        return ganc_fail(err, "%s: fortran_order True not supported (need C order: save np.ascontiguousarray(x))",
                         f->path);
    char shape[96];
    shape_text(f, shape, sizeof shape);
    const int64_t *d = f->dims;
    if (f->ndim == 3) {
        L->c = 1, L->h = (int)d[1], L->w = (int)d[2];
    } else if (f->ndim == 4) {
        const int at1 = d[1] == 1 || d[1] == 3, at3 = d[3] == 1 || d[3] == 3;
        if (at1) /* also when both are: NCHW */
            L->c = (int)d[1], L->h = (int)d[2], L->w = (int)d[3];
        else if (at3)
            L->c = (int)d[3], L->h = (int)d[1], L->w = (int)d[2], L->nhwc = 1;
        else
            return ganc_fail(err, "%s: shape %s has no channel dimension of 1 or 3 (need (N, C, H, W) or (N, H, W, C))",
                             f->path, shape);
    } else {
        return ganc_fail(err, "%s: shape %s has %d dimensions; images need (N, C, H, W), (N, H, W, C) or (N, H, W)",
                         f->path, shape, f->ndim);
    }
    if (d[0] < 1 || d[0] > INT_MAX) return ganc_fail(err, "%s: shape %s holds no images", f->path, shape);
    L->n = (int)d[0];
    if (L->h < 1 || L->w < 1 || L->h > MAX_SIDE || L->w > MAX_SIDE)
        return ganc_fail(err, "%s: images of %dx%d in shape %s; sides must be 1 to %d", f->path, L->h, L->w, shape,
                         MAX_SIDE);
    return 0;
}

/* Reads the data (the file positioned at it) into pixels as uint8 NCHW, a chunk at a time. */
static int read_images(ganc_npy_file *f, const images_layout *L, uint8_t *pixels, char err[GANC_ERR_LEN])
{
    const size_t plane = (size_t)L->h * (size_t)L->w, per = plane * (size_t)L->c;
    const uint64_t total = (uint64_t)L->n * per;
    if (!L->is_float && !L->nhwc) return ganc_npy_read_bytes(f, pixels, (size_t)total, err);

    const size_t item = L->is_float ? 4 : 1;
    uint8_t *buf = malloc(CHUNK_ELEMS * item);
    if (!buf) return ganc_fail(err, "%s: out of memory", f->path);
    /* where element e of the file goes: image base + channel plane + pixel (NHWC), or e itself */
    size_t base = 0, p = 0;
    int ch = 0, rc = 0;
    for (uint64_t e = 0; e < total && rc == 0;) {
        const size_t m = total - e < CHUNK_ELEMS ? (size_t)(total - e) : CHUNK_ELEMS;
        if (ganc_npy_read_bytes(f, buf, m * item, err)) {
            rc = -1;
            break;
        }
        for (size_t j = 0; j < m; j++, e++) {
            uint8_t v;
            if (L->is_float) {
                const uint32_t bits = le32(buf + 4 * j);
                float x;
                memcpy(&x, &bits, 4);
                if (!(x >= 0.0f && x <= 1.0f)) {
                    char at[96];
                    index_text(f, e, at, sizeof at);
                    rc = ganc_fail(err, "%s: value %.9g at %s is outside [0, 1] (float32 images must be in [0, 1])",
                                   f->path, (double)x, at);
                    break;
                }
                v = (uint8_t)round((double)x * 255.0);
            } else {
                v = buf[j];
            }
            if (!L->nhwc) {
                pixels[e] = v;
                continue;
            }
            pixels[base + (size_t)ch * plane + p] = v;
            if (++ch == L->c) {
                ch = 0;
                if (++p == plane) p = 0, base += per;
            }
        }
    }
    free(buf);
    return rc;
}

/* ---- labels ------------------------------------------------------------------------------ */

/* The labels file beside images_path (see the top of the file) into out; 0 when there is none,
 * -1 with err set when one exists but cannot be looked at. */
static int find_labels(const char *images_path, char out[LABELS_PATH_LEN], char err[GANC_ERR_LEN])
{
    size_t len = strlen(images_path); /* <= MAX_PATH_LEN */
    if (len >= 4 && !strcmp(images_path + len - 4, ".npy")) len -= 4;
    static const char *const forms[2] = {"_labels.npy", ".labels.npy"};
    for (int k = 0; k < 2; k++) {
        memcpy(out, images_path, len);
        memcpy(out + len, forms[k], strlen(forms[k]) + 1);
        struct stat st;
        if (stat(out, &st) == 0) return 1;
        if (errno != ENOENT && errno != ENOTDIR) return ganc_fail(err, "%s: %s", out, strerror(errno));
    }
    return 0;
}

/* A label dtype: little-endian (or byte) integer of 1, 2, 4 or 8 bytes. */
static int label_type(const char *descr, size_t *size, int *is_signed)
{
    static const char *const ok[] = {"|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(descr, ok[i])) {
            *is_signed = descr[1] == 'i';
            *size = (size_t)(descr[2] - '0');
            return 1;
        }
    return 0;
}

static int read_labels(const char *path, ganc_dataset *ds, const char *images_path, char err[GANC_ERR_LEN])
{
    ganc_npy_file f;
    if (ganc_npy_open(path, labels_need, &f, err)) return -1;
    uint8_t *buf = NULL;
    int rc = -1;
    size_t size;
    int is_signed;
    uint64_t count;
    char shape[96];
    shape_text(&f, shape, sizeof shape);
    if (!label_type(f.descr, &size, &is_signed)) {
        refuse_dtype(&f, labels_need, err);
        goto done;
    }
    if (f.fortran_order) { /* meaningless for 1-d, but a 1-d file never says True */
        ganc_fail(err, "%s: fortran_order True not supported (need C order)", path);
        goto done;
    }
    if (f.ndim != 1) {
        ganc_fail(err, "%s: labels of shape %s; need a 1-d array (N,)", path, shape);
        goto done;
    }
    if (f.dims[0] != ds->n) {
        ganc_fail(err, "%s: %lld labels for the %d images of %s", path, (long long)f.dims[0], ds->n, images_path);
        goto done;
    }
    if (ganc_npy_check_size(&f, size, &count, err)) goto done;
    ds->labels = malloc((size_t)ds->n);
    buf = malloc(CHUNK_ELEMS * size);
    if (!ds->labels || !buf) {
        ganc_fail(err, "%s: out of memory", path);
        goto done;
    }
    int top = 0;
    for (size_t i = 0; i < (size_t)ds->n;) {
        const size_t m = (size_t)ds->n - i < CHUNK_ELEMS ? (size_t)ds->n - i : CHUNK_ELEMS;
        if (ganc_npy_read_bytes(&f, buf, m * size, err)) goto done;
        for (size_t j = 0; j < m; j++, i++) {
            uint64_t u = 0;
            for (size_t b = 0; b < size; b++) u |= (uint64_t)buf[j * size + b] << (8 * b);
            const int negative = is_signed && (u >> (8 * size - 1)) & 1;
            if (negative || u > 255) {
                /* the value as numpy prints it: sign-extend a negative one */
                const long long sv = negative ? (long long)(u | (size < 8 ? ~(uint64_t)0 << (8 * size) : 0)) : 0;
                if (negative)
                    ganc_fail(err, "%s: label %zu is %lld; labels must be 0 to 255", path, i, sv);
                else
                    ganc_fail(err, "%s: label %zu is %llu; labels must be 0 to 255", path, i, (unsigned long long)u);
                goto done;
            }
            ds->labels[i] = (uint8_t)u;
            if ((int)u > top) top = (int)u;
        }
    }
    ds->n_classes = top + 1;
    memcpy(ds->labels_path, path, strlen(path) + 1); /* < LABELS_PATH_LEN <= its size */
    rc = 0;
done:
    free(buf);
    ganc_npy_close(&f);
    return rc;
}

/* ---- the set ----------------------------------------------------------------------------- */

int ganc_dataset_load_npy(const char *path, ganc_dataset *ds, char err[GANC_ERR_LEN])
{
    memset(ds, 0, sizeof *ds);
    if (strlen(path) > MAX_PATH_LEN) return ganc_fail(err, "%.100s...: path longer than %d bytes", path, MAX_PATH_LEN);
    ganc_npy_file f;
    if (ganc_npy_open(path, images_need, &f, err)) return -1;
    images_layout L;
    uint64_t count;
    int rc = judge_images(&f, &L, err);
    if (rc == 0) rc = ganc_npy_check_size(&f, L.is_float ? 4 : 1, &count, err);
    if (rc == 0) {
        ds->n = L.n;
        ds->shape = (ganc_shape){L.c, L.h, L.w};
        ds->pixels = malloc((size_t)count);
        if (!ds->pixels)
            rc = ganc_fail(err, "%s: out of memory for %d images of %dx%dx%d", path, L.n, L.c, L.h, L.w);
    }
    if (rc == 0) rc = read_images(&f, &L, ds->pixels, err);
    ganc_npy_close(&f);
    char labels[LABELS_PATH_LEN];
    int found = 0;
    if (rc == 0 && (found = find_labels(path, labels, err)) < 0) rc = -1;
    if (rc == 0 && found) rc = read_labels(labels, ds, path, err);
    if (rc) {
        ganc_dataset_free(ds);
        return -1;
    }
    memcpy(ds->images_path, path, strlen(path) + 1); /* <= MAX_PATH_LEN */
    return 0;
}
