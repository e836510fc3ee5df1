/* The NPY data-set reader (src/data/npy_set.c) on files written here byte by byte from the format's
 * description (not by ganc's writer) and on files numpy wrote (tests/fixtures/npy_set/, made by
 * tools/make_npy_set_fixtures.py): every pixel lands where NCHW puts it (NHWC files transposed,
 * checked element by element against the index arithmetic), float32 is rounded as round(x * 255),
 * labels are found under both names and read in every integer dtype, and each bad input is
 * refused with one line that names the file and what is wrong. */
#include "check.h"
#include "data/data.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[512];

static const char *tpath(const char *name)
{
    static char bufs[4][600]; /* a few at once; keep a copy for longer */
    static int k;
    char *p = bufs[k++ % 4];
    snprintf(p, sizeof bufs[0], "%s/%s", dir, name);
    return p;
}

/* An NPY file as numpy lays it out: magic, version, header length (u16, or u32 for 2.0), the
 * dict padded with spaces to a multiple of 64 and ended by '\n', then `bytes` of data. */
static void write_npy_v(const char *path, int major, const char *descr, int fortran, const char *shape,
                        const void *data, size_t bytes)
{
    char dict[256];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                      fortran ? "True" : "False", shape);
    const size_t pre = major == 1 ? 10 : 12, total = (pre + (size_t)dl + 1 + 63) / 64 * 64, hl = total - pre;
    uint8_t head[320];
    memcpy(head, "\x93NUMPY", 6);
    head[6] = (uint8_t)major;
    head[7] = 0;
    head[8] = (uint8_t)hl;
    head[9] = (uint8_t)(hl >> 8);
    if (major != 1) head[10] = (uint8_t)(hl >> 16), head[11] = (uint8_t)(hl >> 24);
    memcpy(head + pre, dict, (size_t)dl);
    memset(head + pre + dl, ' ', total - pre - (size_t)dl - 1);
    head[total - 1] = '\n';
    FILE *f = fopen(path, "wb");
    fwrite(head, 1, total, f);
    if (bytes) fwrite(data, 1, bytes, f);
    fclose(f);
}

static void write_npy(const char *path, const char *descr, const char *shape, const void *data, size_t bytes)
{
    write_npy_v(path, 1, descr, 0, shape, data, bytes);
}

static void write_raw(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

/* Little-endian bytes of float32 values (the file's order on any host). */
static void floats_le(const float *x, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &x[i], 4);
        for (int k = 0; k < 4; k++) out[4 * i + (size_t)k] = (uint8_t)(b >> (8 * k));
    }
}

/* Little-endian integers of `size` bytes. */
static void ints_le(const long long *v, size_t n, int size, uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < size; k++) out[i * (size_t)size + (size_t)k] = (uint8_t)((unsigned long long)v[i] >> (8 * k));
}

static uint8_t pattern(size_t i) { return (uint8_t)(i * 37 + 11); }

/* ---- images ------------------------------------------------------------------------------ */

static void test_uint8_nchw(void)
{
    uint8_t x[2 * 3 * 4 * 5];
    for (size_t i = 0; i < sizeof x; i++) x[i] = pattern(i);
    const char *p = tpath("nchw.npy");
    write_npy(p, "|u1", "(2, 3, 4, 5)", x, sizeof x);
    ganc_dataset ds;
    char err[GANC_ERR_LEN];
    if (!CHECK(ganc_dataset_load_npy(p, &ds, err) == 0, "uint8 NCHW: %s", err)) return;
    CHECK(ds.n == 2 && ds.shape.c == 3 && ds.shape.h == 4 && ds.shape.w == 5, "uint8 NCHW: %d of %dx%dx%d", ds.n,
          ds.shape.c, ds.shape.h, ds.shape.w);
    CHECK(!memcmp(ds.pixels, x, sizeof x), "uint8 NCHW: the bytes as written");
    CHECK(!ds.labels && ds.n_classes == 0 && !ds.class_names && !ds.labels_path[0], "no labels file: no labels");
    CHECK(!strcmp(ds.images_path, p), "images_path is the file: %s", ds.images_path);
    ganc_dataset_free(&ds);
}

/* (N, H, W, C) written in file order; sample n, channel c, row y, column x must come out at
 * ((n*C + c)*H + y)*W + x. */
static void check_nhwc(const char *what, int n, int h, int w, int c)
{
    const size_t count = (size_t)n * (size_t)h * (size_t)w * (size_t)c;
    uint8_t *x = malloc(count);
    for (size_t i = 0; i < count; i++) x[i] = pattern(i);
    char shape[64];
    snprintf(shape, sizeof shape, "(%d, %d, %d, %d)", n, h, w, c);
    const char *p = tpath("nhwc.npy");
    write_npy(p, "|u1", shape, x, count);
    ganc_dataset ds;
    char err[GANC_ERR_LEN];
    if (CHECK(ganc_dataset_load_npy(p, &ds, err) == 0, "%s: %s", what, err)) {
        CHECK(ds.n == n && ds.shape.c == c && ds.shape.h == h && ds.shape.w == w, "%s: shape %d of %dx%dx%d", what,
              ds.n, ds.shape.c, ds.shape.h, ds.shape.w);
        int wrong = 0;
        for (int s = 0; s < n; s++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                    for (int ch = 0; ch < c; ch++) {
                        const size_t in = (((size_t)s * h + y) * w + xx) * c + ch;
                        const size_t out = (((size_t)s * c + ch) * h + y) * w + xx;
                        wrong += ds.pixels[out] != x[in];
                    }
        CHECK(wrong == 0, "%s: %d of %zu pixels not where NCHW puts them", what, wrong, count);
        ganc_dataset_free(&ds);
    }
    free(x);
}

static void test_layouts(void)
{
    check_nhwc("uint8 NHWC RGB", 3, 4, 5, 3);
    check_nhwc("uint8 NHWC grey", 2, 6, 5, 1);
    check_nhwc("uint8 NHWC, a large image (many chunks)", 2, 300, 200, 3);

    /* (N, H, W): grey */
    uint8_t x[3 * 4 * 5];
    for (size_t i = 0; i < sizeof x; i++) x[i] = pattern(i);
    const char *p = tpath("grey.npy");
    write_npy(p, "|u1", "(3, 4, 5)", x, sizeof x);
    ganc_dataset ds;
    char err[GANC_ERR_LEN];
    if (CHECK(ganc_dataset_load_npy(p, &ds, err) == 0, "grey (N, H, W): %s", err)) {
        CHECK(ds.n == 3 && ds.shape.c == 1 && ds.shape.h == 4 && ds.shape.w == 5 && !memcmp(ds.pixels, x, sizeof x),
              "grey (N, H, W): 3 of 1x4x5, the bytes as written");
        ganc_dataset_free(&ds);
    }
    /* both positions 1 and 3 could be channels: NCHW */
    uint8_t y[2 * 3 * 4 * 3];
    for (size_t i = 0; i < sizeof y; i++) y[i] = pattern(i);
    p = tpath("ambiguous.npy");
    write_npy(p, "|u1", "(2, 3, 4, 3)", y, sizeof y);
    if (CHECK(ganc_dataset_load_npy(p, &ds, err) == 0, "(2, 3, 4, 3): %s", err)) {
        CHECK(ds.shape.c == 3 && ds.shape.h == 4 && ds.shape.w == 3 && !memcmp(ds.pixels, y, sizeof y),
              "(2, 3, 4, 3) is read as NCHW: got %dx%dx%d", ds.shape.c, ds.shape.h, ds.shape.w);
        ganc_dataset_free(&ds);
    }
    /* a v2.0 header */
    p = tpath("v2.npy");
    write_npy_v(p, 2, "|u1", 0, "(3, 4, 5)", x, sizeof x);
    if (CHECK(ganc_dataset_load_npy(p, &ds, err) == 0, "v2.0 header: %s", err)) {
        CHECK(!memcmp(ds.pixels, x, sizeof x), "v2.0 header: the bytes as written");
        ganc_dataset_free(&ds);
    }
}

/* Values (k + off) / 255 with known nearest k, the tie 0.5 -> 128, both ends, and -0. */
static void test_float(void)
{
    enum { N = 2, C = 3, H = 2, W = 4, COUNT = N * C * H * W };
    float x[COUNT];
    uint8_t want[COUNT];
    static const double off[] = {0.0, 0.3, -0.3, 0.49, -0.49, 0.1};
    for (int i = 0; i < COUNT; i++) {
        int k = 1 + (i * 11) % 253; /* 1 .. 253, so k + off stays inside (0, 255) */
        x[i] = (float)((k + off[i % 6]) / 255.0);
        want[i] = (uint8_t)k;
    }
    x[0] = 0.0f, want[0] = 0;
    x[1] = 1.0f, want[1] = 255;
    x[2] = 0.5f, want[2] = 128; /* 127.5: round() goes away from zero */
    x[3] = -0.0f, want[3] = 0;
    x[4] = 1e-30f, want[4] = 0;
    x[5] = 0.99999994f, want[5] = 255; /* the float below 1 */
    uint8_t bytes[4 * COUNT];
    floats_le(x, COUNT, bytes);
    const char *p = tpath("float.npy");
    write_npy(p, "<f4", "(2, 3, 2, 4)", bytes, sizeof bytes);
    ganc_dataset ds;
    char err[GANC_ERR_LEN];
    if (CHECK(ganc_dataset_load_npy(p, &ds, err) == 0, "float32 NCHW: %s", err)) {
        int wrong = 0, first = -1;
        for (int i = 0; i < COUNT; i++)
            if (ds.pixels[i] != want[i]) wrong++, first = first < 0 ? i : first;
        CHECK(ds.n == N && ds.shape.c == C && wrong == 0, "float32 NCHW: %d pixels not round(x*255) (first %d: %d, want %d)",
              wrong, first, first < 0 ? 0 : ds.pixels[first], first < 0 ? 0 : want[first]);
        ganc_dataset_free(&ds);
    }
    /* the same values as (N, H, W, C): converted and transposed */
    p = tpath("float_nhwc.npy");
    write_npy(p, "<f4", "(2, 2, 4, 3)", bytes, sizeof bytes);
    if (CHECK(ganc_dataset_load_npy(p, &ds, err) == 0, "float32 NHWC: %s", err)) {
        int wrong = 0;
        for (int s = 0; s < N; s++)
            for (int y = 0; y < H; y++)
                for (int xx = 0; xx < W; xx++)
                    for (int ch = 0; ch < C; ch++)
                        wrong += ds.pixels[((s * C + ch) * H + y) * W + xx] != want[((s * H + y) * W + xx) * C + ch];
        CHECK(ds.shape.c == C && ds.shape.h == H && ds.shape.w == W && wrong == 0,
              "float32 NHWC: %d pixels not converted and transposed", wrong);
        ganc_dataset_free(&ds);
    }
}

/* ---- labels ------------------------------------------------------------------------------ */

static void write_images(const char *name, int n)
{
    uint8_t x[16 * 2 * 2];
    for (int i = 0; i < n * 4; i++) x[i] = pattern((size_t)i);
    char shape[32];
    snprintf(shape, sizeof shape, "(%d, 2, 2)", n);
    write_npy(tpath(name), "|u1", shape, x, (size_t)n * 4);
}

static void write_labels(const char *name, const char *descr, const long long *v, int n)
{
    const int size = descr[2] - '0';
    uint8_t bytes[16 * 8];
    ints_le(v, (size_t)n, size, bytes);
    char shape[32];
    snprintf(shape, sizeof shape, "(%d,)", n);
    write_npy(tpath(name), descr, shape, bytes, (size_t)n * (size_t)size);
}

static void test_labels(void)
{
    static const char *const dtypes[] = {"|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8"};
    const long long v[5] = {4, 0, 255, 17, 4};
    char err[GANC_ERR_LEN];
    ganc_dataset ds;
    for (size_t t = 0; t < sizeof dtypes / sizeof dtypes[0]; t++) {
        const int by_dot = t % 2; /* both names, across the dtypes */
        write_images("lab.npy", 5);
        const char *lp = tpath(by_dot ? "lab.labels.npy" : "lab_labels.npy");
        long long vv[5];
        memcpy(vv, v, sizeof v);
        if (dtypes[t][1] == 'i' && dtypes[t][2] == '1') vv[2] = 127; /* int8 holds no 255 */
        write_labels(by_dot ? "lab.labels.npy" : "lab_labels.npy", dtypes[t], vv, 5);
        if (CHECK(ganc_dataset_load_npy(tpath("lab.npy"), &ds, err) == 0, "labels %s: %s", dtypes[t], err)) {
            int ok = ds.labels != NULL;
            for (int i = 0; i < 5 && ok; i++) ok = ds.labels[i] == vv[i];
            CHECK(ok && ds.n_classes == 1 + (int)vv[2] && !ds.class_names && !strcmp(ds.labels_path, lp),
                  "labels %s in %s: values, %d classes (want %d), labels_path %s", dtypes[t], lp, ds.n_classes,
                  1 + (int)vv[2], ds.labels_path);
            ganc_dataset_free(&ds);
        }
        unlink(lp);
    }
    /* both names present: X_labels.npy is used */
    const long long a[3] = {1, 2, 3}, b[3] = {5, 5, 5};
    write_images("both.npy", 3);
    write_labels("both_labels.npy", "|u1", a, 3);
    write_labels("both.labels.npy", "|u1", b, 3);
    if (CHECK(ganc_dataset_load_npy(tpath("both.npy"), &ds, err) == 0, "both label files: %s", err)) {
        CHECK(ds.labels && ds.labels[0] == 1 && ds.labels[2] == 3 && ds.n_classes == 4 &&
                  !strcmp(ds.labels_path, tpath("both_labels.npy")),
              "both label files: X_labels.npy wins (labels_path %s)", ds.labels_path);
        ganc_dataset_free(&ds);
    }
    /* a path without the .npy suffix looks for PATH_labels.npy */
    write_images("plain", 3);
    write_labels("plain_labels.npy", "<i8", a, 3);
    if (CHECK(ganc_dataset_load_npy(tpath("plain"), &ds, err) == 0, "no .npy suffix: %s", err)) {
        CHECK(ds.labels && ds.labels[1] == 2, "no .npy suffix: PATH_labels.npy found");
        ganc_dataset_free(&ds);
    }
}

/* ---- numpy's own files ------------------------------------------------------------------- */

static void test_numpy_fixtures(void)
{
    ganc_dataset ds, ref;
    char err[GANC_ERR_LEN];
    const char *p = "tests/fixtures/npy_set/nhwc.npy";
    if (CHECK(ganc_dataset_load_npy(p, &ds, err) == 0, "numpy's nhwc.npy: %s", err)) {
        int wrong = 0;
        for (int n = 0; n < 2; n++)
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 5; x++)
                    for (int c = 0; c < 3; c++)
                        wrong += ds.pixels[((n * 3 + c) * 4 + y) * 5 + x] != (n * 60 + y * 15 + x * 3 + c) * 7 % 251;
        CHECK(ds.n == 2 && ds.shape.c == 3 && ds.shape.h == 4 && ds.shape.w == 5 && wrong == 0,
              "numpy's (2, 4, 5, 3) uint8: %d pixels differ from the closed form", wrong);
        CHECK(ds.labels && ds.labels[0] == 3 && ds.labels[1] == 7 && ds.n_classes == 8 &&
                  !strcmp(ds.labels_path, "tests/fixtures/npy_set/nhwc_labels.npy"),
              "numpy's int64 labels [3, 7] beside it");
        ganc_dataset_free(&ds);
    }
    if (CHECK(ganc_dataset_load_npy("tests/fixtures/npy_set/float.npy", &ds, err) == 0, "numpy's float.npy: %s", err)) {
        if (CHECK(ganc_dataset_load_npy("tests/fixtures/npy_set/float_expected.npy", &ref, err) == 0,
                  "numpy's float_expected.npy (v2.0): %s", err)) {
            CHECK(ds.n == 3 && ds.shape.c == 1 && ds.shape.h == 4 && ref.n == 3 && ref.shape.c == 1 &&
                      !memcmp(ds.pixels, ref.pixels, 3 * 16),
                  "float32 from numpy converted as numpy's round(x * 255)");
            ganc_dataset_free(&ref);
        }
        ganc_dataset_free(&ds);
    }
}

/* ---- refusals ---------------------------------------------------------------------------- */

/* Loading `file` fails with one line that starts with `named` and holds each of the words. */
static void refused(const char *what, const char *file, const char *named, const char *w1, const char *w2)
{
    ganc_dataset ds;
    char err[GANC_ERR_LEN] = "";
    int rc = ganc_dataset_load_npy(file, &ds, err);
    CHECK(rc == -1 && !strncmp(err, named, strlen(named)) && !strncmp(err + strlen(named), ": ", 2) &&
              strstr(err, w1) && (!w2 || strstr(err, w2)) && !strchr(err, '\n') && !ds.pixels && !ds.labels,
          "%s: got %d \"%s\", want \"%s: ...%s...%s\"", what, rc, err, named, w1, w2 ? w2 : "");
}

static void test_refusals(void)
{
    enum { NEED = 2 * 3 * 4 * 4 }; /* the data (2, 3, 4, 4) needs; x has room for trailing bytes */
    uint8_t x[NEED + 8] = {0};
    const char *p = tpath("bad.npy");

    write_raw(p, "P5 not an array\n", 16);
    refused("not NPY", p, p, "not an NPY file", NULL);
    write_npy(p, "|u1", "(2, 3, 4, 4)", x, NEED - 5);
    refused("truncated data", p, p, "truncated", "96 bytes");
    write_npy(p, "|u1", "(2, 3, 4, 4)", x, NEED + 3);
    refused("trailing bytes", p, p, "trailing", NULL);
    write_raw(p, "\x93NUMPY\x01\x00\x40\x00{'descr'", 17);
    refused("cut header", p, p, "truncated NPY header", NULL);
    write_npy(p, "|u1", "(2, 3, 4, 4", x, NEED);
    refused("bad header", p, p, "bad NPY header", NULL);
    write_npy(p, "<f8", "(2, 3, 4, 4)", x, NEED);
    refused("float64", p, p, "'<f8' not supported", "'|u1' (uint8) or '<f4'");
    write_npy(p, "<i4", "(2, 3, 4, 4)", x, NEED);
    refused("int32 images", p, p, "'<i4' not supported", "'<f4'");
    write_npy(p, ">f4", "(2, 3, 4, 4)", x, NEED);
    refused("big-endian float", p, p, "big-endian", "'>f4'");
    write_npy_v(p, 1, "|u1", 1, "(2, 3, 4, 4)", x, NEED);
    refused("fortran order", p, p, "fortran_order", "C order");
    write_npy(p, "|u1", "(96,)", x, 96);
    refused("rank 1", p, p, "1 dimensions", "(N, H, W, C)");
    write_npy(p, "|u1", "(6, 16)", x, 96);
    refused("rank 2", p, p, "2 dimensions", NULL);
    write_npy(p, "|u1", "(1, 2, 3, 4, 4)", x, 96);
    refused("rank 5", p, p, "5 dimensions", NULL);
    write_npy(p, "|u1", "(2, 2, 6, 4)", x, 96);
    refused("channels 2 and 4", p, p, "channel", "1 or 3");
    write_npy(p, "|u1", "(2, 4, 4, 4)", x, 96);
    refused("channels 4 and 4", p, p, "channel", "(2, 4, 4, 4)");
    write_npy(p, "|u1", "(0, 3, 4, 4)", x, 0);
    refused("no images", p, p, "no images", NULL);
    write_npy(p, "|u1", "(1, 4097, 1)", x, 0);
    refused("side over 4096", p, p, "sides must be 1 to 4096", "4097");
    write_npy(p, "|u1", "(3, 0, 4)", x, 0);
    refused("zero side", p, p, "sides must be", NULL);
    write_npy(p, "|u1", "(2147483647, 3, 4096, 4096)", x, 96);
    refused("huge shape, small file", p, p, "needs 108086391006560256 bytes", "has 96");
    refused("missing file", tpath("missing.npy"), tpath("missing.npy"), "cannot open", NULL);
    refused("a directory", dir, dir, "not a regular file", NULL);

    /* float values outside [0, 1], with their index */
    float f[2 * 3 * 2 * 2];
    for (int i = 0; i < 24; i++) f[i] = 0.25f;
    uint8_t fb[4 * 24];
    f[23] = 1.5f; /* [1, 2, 1, 1] */
    floats_le(f, 24, fb);
    write_npy(p, "<f4", "(2, 3, 2, 2)", fb, sizeof fb);
    refused("value 1.5", p, p, "1.5 at [1, 2, 1, 1]", "outside [0, 1]");
    f[23] = 0.25f, f[7] = -0.001f; /* [0, 1, 1, 1] */
    floats_le(f, 24, fb);
    write_npy(p, "<f4", "(2, 3, 2, 2)", fb, sizeof fb);
    refused("negative value", p, p, "-0.001", "[0, 1, 1, 1]");
    f[7] = NAN; /* NHWC: [0, 1, 0, 1] of (2, 2, 2, 3) */
    floats_le(f, 24, fb);
    write_npy(p, "<f4", "(2, 2, 2, 3)", fb, sizeof fb);
    refused("NaN", p, p, "nan at [0, 1, 0, 1]", NULL);

    /* labels */
    write_images("l.npy", 3);
    char img[600], lp[600];
    snprintf(img, sizeof img, "%s", tpath("l.npy"));
    snprintf(lp, sizeof lp, "%s", tpath("l_labels.npy"));
    const long long ok3[3] = {0, 1, 2}, ok4[4] = {0, 1, 2, 3}, big[3] = {0, 256, 1}, neg[3] = {0, 1, -1};
    write_labels("l_labels.npy", "|u1", ok4, 4);
    refused("4 labels for 3 images", img, lp, "4 labels for the 3 images", img);
    write_labels("l_labels.npy", "<i4", big, 3);
    refused("label 256", img, lp, "label 1 is 256", "0 to 255");
    write_labels("l_labels.npy", "<i8", neg, 3);
    refused("label -1", img, lp, "label 2 is -1", "0 to 255");
    write_labels("l_labels.npy", "<i2", neg, 3);
    refused("label -1 (int16)", img, lp, "label 2 is -1", NULL);
    write_labels("l_labels.npy", ">i4", ok3, 3);
    refused("big-endian labels", img, lp, "big-endian", "'>i4'");
    uint8_t lb[12] = {0};
    write_npy(lp, "<f4", "(3,)", lb, 12);
    refused("float labels", img, lp, "'<f4' not supported", "'<i8'");
    write_npy(lp, "|u1", "(3, 1)", lb, 3);
    refused("2-d labels", img, lp, "1-d", "(3, 1)");
    write_npy(lp, "<i8", "(3,)", lb, 12);
    refused("truncated labels", img, lp, "truncated", NULL);
    write_raw(lp, "nope", 4);
    refused("labels not NPY", img, lp, "not an NPY file", NULL);
    unlink(lp);
    write_labels("l.labels.npy", "<u2", (const long long[3]){0, 300, 1}, 3);
    refused("label 300 in X.labels.npy", img, tpath("l.labels.npy"), "label 1 is 300", NULL);
    unlink(tpath("l.labels.npy"));

    char longp[600];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    ganc_dataset ds;
    char err[GANC_ERR_LEN];
    CHECK(ganc_dataset_load_npy(longp, &ds, err) == -1 && strstr(err, "path longer than"), "long path: %s", err);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s", check_tmpdir());
    test_uint8_nchw();
    test_layouts();
    test_float();
    test_labels();
    test_numpy_fixtures();
    test_refusals();
    return check_finish("npy_set");
}
