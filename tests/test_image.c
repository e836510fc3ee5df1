/* PNG, NPY and plot output (src/io/png.c, npy.c, plot.c).
 * - PNG: the stored-deflate writer is decoded by a small parser here (CRC of every chunk,
 *   zlib header, stored blocks, Adler-32) in every build; with stb, both writers' files are
 *   also decoded by stb_image and compared pixel for pixel.
 * - Grids: geometry, border value, value mapping (lo -> 0, hi -> 255, mid -> 128, clamping, NaN).
 * - NPY: bit-exact round trip, header alignment, numpy reads ours and we read numpy's (when
 *   /usr/bin/python3 has numpy), hand-written header variants, rejected files, and a small
 *   fuzz of truncations and byte flips (run it under SAN=1 to catch over-reads).
 * - Plots: every degenerate input renders, at the requested size, with each series' colour.
 * GANC_FUZZ_ITERS=N runs N NPY mutations (default 3000).
 * GANC_IMAGE_OUT=DIR also leaves a sample plot.png and grid.png in DIR to look at. */
#include "check.h"
#include "png_read.h"
#include "ganc.h"
#include "io/image.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>



static const char *tmpdir; /* check_tmpdir(): removed with its contents at exit */

static const char *tpath(const char *name)
{
    static char buf[8][400];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        CHECK(0, "cannot create %s", path);
        return;
    }
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static uint32_t rng_state = 12345u;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static void test_png_roundtrip(void)
{
    char err[GANC_ERR_LEN];
    static const int sizes[][3] = {{37, 23, 3}, {5, 300, 1}, {1, 1, 1}, {200, 150, 3}, {129, 257, 1}, {9, 7, 2}, {13, 11, 4}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int w = sizes[t][0], h = sizes[t][1], ch = sizes[t][2];
        size_t n = (size_t)w * h * ch;
        uint8_t *pix = malloc(n);
        for (size_t i = 0; i < n; i++) pix[i] = (uint8_t)(i % 7 == 0 ? 255 : rnd());
        const char *p = tpath("stored.png");
        CHECK(ganc_png_write_stored(p, pix, w, h, ch, err) == 0, "stored write %dx%dx%d: %s", w, h, ch, err);
        int dw = 0, dh = 0, dc = 0;
        const char *why;
        uint8_t *back = test_png_decode_stored(p, &dw, &dh, &dc, &why);
        CHECK(back && dw == w && dh == h && dc == ch && !memcmp(back, pix, n),
              "stored PNG %dx%dx%d does not decode to its pixels (%s; got %dx%dx%d)", w, h, ch, why, dw, dh, dc);
        free(back);
        CHECK(check_temp_files(tpath("stored.png")) == 0, "temporary file left behind");
#ifdef GANC_HAVE_STB
        back = test_png_load(p, &dw, &dh, &dc, 0); /* stb_image here: an independent decoder */
        CHECK(back && dw == w && dh == h && dc == ch && !memcmp(back, pix, n), "stb_image disagrees on stored PNG %dx%dx%d",
              w, h, ch);
        test_png_free(back);
#endif
        /* the build's writer (stb-compressed or stored) */
        p = tpath("lib.png");
        CHECK(ganc_png_write(p, pix, w, h, ch, err) == 0, "write %dx%dx%d: %s", w, h, ch, err);
        back = test_png_load(p, &dw, &dh, &dc, 0);
        CHECK(back && dw == w && dh == h && dc == ch && !memcmp(back, pix, n), "PNG %dx%dx%d does not round-trip", w, h, ch);
        free(back);
        free(pix);
    }

    /* a stored PNG over 65535 bytes of raw data needs several deflate blocks */
    size_t n = 0;
    uint8_t *f = test_read_file(tpath("stored.png"), &n); /* last one written: 13x11x4, small */
    free(f);
    {
        int w = 300, h = 300;
        uint8_t *pix = malloc((size_t)w * h * 3);
        for (size_t i = 0; i < (size_t)w * h * 3; i++) pix[i] = (uint8_t)(i * 31 + i / 977);
        CHECK(ganc_png_write_stored(tpath("big.png"), pix, w, h, 3, err) == 0, "big stored write: %s", err);
        f = test_read_file(tpath("big.png"), &n);
        size_t raw = (size_t)(w * 3 + 1) * h, blocks = (raw + 65534) / 65535;
        CHECK(f && n == 8 + 25 + 12 + 2 + raw + 5 * blocks + 4 + 12, "big stored PNG has %zu bytes", n);
        free(f);
        int dw, dh, dc;
        const char *why;
        uint8_t *back = test_png_decode_stored(tpath("big.png"), &dw, &dh, &dc, &why);
        CHECK(back && dw == w && dh == h && dc == 3 && !memcmp(back, pix, (size_t)w * h * 3), "big stored PNG: %s", why);
        free(back);
        /* a corrupted byte in the image data must break the IDAT CRC (the decoder checks it) */
        f = test_read_file(tpath("big.png"), &n);
        f[8 + 25 + 8 + 100] ^= 0x40;
        write_bytes(tpath("bad.png"), f, n);
        free(f);
        back = test_png_decode_stored(tpath("bad.png"), &dw, &dh, &dc, &why);
        CHECK(!back && !strcmp(why, "bad chunk CRC"), "corrupted PNG not detected (%s)", why);
        free(back);
        free(pix);
    }

    /* rewriting replaces the file atomically and leaves no temporary behind */
    uint8_t a[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, b[12] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
    const char *p = tpath("latest.png");
    CHECK(ganc_png_write(p, a, 2, 2, 3, err) == 0 && ganc_png_write(p, b, 2, 2, 3, err) == 0, "rewrite: %s", err);
    int dw, dh, dc;
    uint8_t *back = test_png_load(p, &dw, &dh, &dc, 0);
    CHECK(back && dw == 2 && dh == 2 && dc == 3 && !memcmp(back, b, 12), "rewritten PNG does not hold the new pixels");
    free(back);
    CHECK(check_temp_files(tpath("latest.png")) == 0, "temporary file left behind after rewrite");
}

static void test_png_errors(void)
{
    char err[GANC_ERR_LEN] = "";
    uint8_t pix[12] = {0};
    const char *bad = "/nonexistent-ganc-dir/x.png";
    char want[GANC_ERR_LEN];
    snprintf(want, sizeof want, "%s: cannot write: %s", bad, strerror(ENOENT));
    CHECK(ganc_png_write(bad, pix, 2, 2, 3, err) == -1 && !strcmp(err, want), "unwritable path: got \"%s\"", err);
    CHECK(ganc_png_write_stored(bad, pix, 2, 2, 3, err) == -1 && !strcmp(err, want), "stored, unwritable: \"%s\"", err);
    /* a directory in the way: rename fails, the temporary file is removed, the message names PATH */
    const char *dir = tpath("adir");
    mkdir(dir, 0755);
    CHECK(ganc_png_write(dir, pix, 2, 2, 3, err) == -1 && !strncmp(err, dir, strlen(dir)) && strstr(err, ": cannot write: "),
          "directory as path: \"%s\"", err);
    CHECK(check_temp_files(dir) == 0, "temporary file left behind after a failed rename");
    CHECK(ganc_png_write(tpath("x.png"), pix, 2, 2, 5, err) == -1 && strstr(err, "channels"), "5 channels: \"%s\"", err);
    CHECK(ganc_png_write(tpath("x.png"), pix, 0, 2, 3, err) == -1, "zero width accepted");
    CHECK(ganc_png_write(tpath("x.png"), NULL, 2, 2, 3, err) == -1, "NULL pixels accepted");
}

/* ---- grids ------------------------------------------------------------------------------ */

static void test_grid(void)
{
    char err[GANC_ERR_LEN];
    /* 5 grey samples of 3x4, lo = -1, hi = 1: auto columns = 3, rows = 2 */
    ganc_shape s = {1, 3, 4};
    float x[5 * 12];
    for (int i = 0; i < 5 * 12; i++) x[i] = 0.0f;
    float specials[12] = {-1.0f, 1.0f, 0.0f, 2.0f, -5.0f, NAN, 0.5f, -0.5f, INFINITY, -INFINITY, 0.999f, -0.999f};
    uint8_t expect[12] = {0, 255, 128, 255, 0, 0, 191, 64, 255, 0, 255, 0};
    memcpy(x + 12 * 4, specials, sizeof specials); /* sample 4: row 1, column 1 */
    for (int j = 0; j < 12; j++) x[12 * 2 + j] = 1.0f; /* sample 2: all white */
    const char *p = tpath("grid.png");
    CHECK(ganc_png_grid(p, x, 5, s, -1.0f, 1.0f, 0, err) == 0, "grid: %s", err);
    int w = 0, h = 0, c = 0;
    uint8_t *img = test_png_load(p, &w, &h, &c, 0);
    CHECK(img && w == 3 * (4 + 2) + 2 && h == 2 * (3 + 2) + 2 && c == 1, "grid geometry %dx%dx%d, want 20x12x1", w, h, c);
    if (img && w == 20 && h == 12 && c == 1) {
        int border_ok = 1, cells_ok = 1;
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++) {
                int in_cell = (xx % 6) >= 2 && (y % 5) >= 2;
                int cell = in_cell ? (y / 5) * 3 + xx / 6 : -1;
                uint8_t v = img[y * w + xx];
                if (cell < 0 || cell >= 5) {
                    if (v != 40) border_ok = 0; /* border, or the empty sixth cell */
                    continue;
                }
                int j = (y % 5 - 2) * 4 + (xx % 6 - 2);
                int want = cell == 4 ? expect[j] : cell == 2 ? 255 : 128;
                if (abs(v - want) > (cell == 4 ? 0 : 1)) {
                    cells_ok = 0;
                    fprintf(stderr, "  grid cell %d pixel %d: %d, want %d\n", cell, j, v, want);
                }
            }
        CHECK(border_ok, "grid border (and the empty cell) must be grey 40");
        CHECK(cells_ok, "grid cell values");
    }
    free(img);

    /* RGB: planes become channels; explicit columns; cols > n is clamped to n */
    ganc_shape rgb = {3, 2, 2};
    float xr[2 * 12];
    for (int i = 0; i < 2; i++)
        for (int ch = 0; ch < 3; ch++)
            for (int k = 0; k < 4; k++) xr[i * 12 + ch * 4 + k] = ch == 0 ? 1.0f : ch == 1 ? 0.0f : (i ? 0.5f : 0.25f);
    CHECK(ganc_png_grid(p, xr, 2, rgb, 0.0f, 1.0f, 1, err) == 0, "rgb grid: %s", err);
    img = test_png_load(p, &w, &h, &c, 0);
    CHECK(img && w == 1 * (2 + 2) + 2 && h == 2 * (2 + 2) + 2 && c == 3, "rgb grid geometry %dx%dx%d", w, h, c);
    if (img && w == 6 && h == 10 && c == 3) {
        const uint8_t *px0 = img + (2 * w + 2) * 3, *px1 = img + ((2 + 4) * w + 3) * 3;
        CHECK(px0[0] == 255 && px0[1] == 0 && px0[2] == 64, "rgb sample 0 pixel (%d,%d,%d)", px0[0], px0[1], px0[2]);
        CHECK(px1[0] == 255 && px1[1] == 0 && px1[2] == 128, "rgb sample 1 pixel (%d,%d,%d)", px1[0], px1[1], px1[2]);
        CHECK(img[0] == 40 && img[1] == 40 && img[2] == 40, "rgb border");
    }
    free(img);
    CHECK(ganc_png_grid(p, xr, 2, rgb, 0.0f, 1.0f, 7, err) == 0, "grid with cols > n: %s", err);
    img = test_png_load(p, &w, &h, &c, 0);
    CHECK(img && w == 2 * (2 + 2) + 2 && h == 1 * (2 + 2) + 2, "cols > n: %dx%d, want 10x6", w, h);
    free(img);

    /* 2 channels: the first one as grey */
    ganc_shape two = {2, 1, 1};
    float x2[2] = {1.0f, 0.0f};
    CHECK(ganc_png_grid(p, x2, 1, two, 0.0f, 1.0f, 0, err) == 0, "2-channel grid: %s", err);
    img = test_png_load(p, &w, &h, &c, 0);
    CHECK(img && w == 5 && h == 5 && c == 1 && img[2 * 5 + 2] == 255, "2-channel grid: first channel as grey");
    free(img);

    /* 16 samples: auto columns = 4; 17 -> 5 */
    float *many = calloc(17 * 4, sizeof(float));
    ganc_shape tiny = {1, 2, 2};
    CHECK(ganc_png_grid(p, many, 16, tiny, 0.0f, 1.0f, 0, err) == 0, "16 samples: %s", err);
    img = test_png_load(p, &w, &h, &c, 0);
    CHECK(img && w == 4 * 4 + 2 && h == 4 * 4 + 2, "16 samples: %dx%d, want 18x18", w, h);
    free(img);
    CHECK(ganc_png_grid(p, many, 17, tiny, 0.0f, 1.0f, 0, err) == 0, "17 samples: %s", err);
    img = test_png_load(p, &w, &h, &c, 0);
    CHECK(img && w == 5 * 4 + 2 && h == 4 * 4 + 2, "17 samples: %dx%d, want 22x18", w, h);
    free(img);
    free(many);

    /* errors */
    CHECK(ganc_png_grid(p, x, 5, s, 1.0f, 1.0f, 0, err) == -1 && !strncmp(err, p, strlen(p)), "lo == hi: \"%s\"", err);
    CHECK(ganc_png_grid(p, x, 0, s, -1.0f, 1.0f, 0, err) == -1, "n = 0 accepted");
    CHECK(ganc_png_grid(p, x, 5, (ganc_shape){0, 3, 4}, -1.0f, 1.0f, 0, err) == -1, "c = 0 accepted");
    CHECK(ganc_png_grid("/nonexistent-ganc-dir/g.png", x, 5, s, -1.0f, 1.0f, 0, err) == -1 && strstr(err, ": cannot write: "),
          "grid to unwritable path: \"%s\"", err);
}

/* ---- NPY -------------------------------------------------------------------------------- */

static int have_numpy(void)
{
    static int cached = -1;
    if (cached < 0)
        cached = access("tools/check_npy.py", R_OK) == 0 &&
                 system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
    return cached;
}

static float pattern(size_t i) { return ((float)i - 50.0f) * 0.25f; }

static void test_npy_roundtrip(void)
{
    char err[GANC_ERR_LEN];
    static const int shapes[][5] = {{4, 2, 3, 4, 5}, {1, 7}, {2, 3, 5}, {3, 1, 1, 9}, {4, 1, 1, 1, 1}, {2, 0, 3}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        int nd = shapes[t][0];
        const int *dims = shapes[t] + 1;
        size_t n = 1;
        for (int i = 0; i < nd; i++) n *= (size_t)dims[i];
        float *x = malloc((n + 1) * sizeof(float));
        for (size_t i = 0; i < n; i++) x[i] = pattern(i);
        const char *p = tpath("a.npy");
        CHECK(ganc_npy_write(p, x, nd, dims, err) == 0, "npy write: %s", err);
        CHECK(check_temp_files(p) == 0, "npy temporary file left behind");

        size_t len = 0;
        uint8_t *f = test_read_file(p, &len);
        if (CHECK(f && len >= 64, "npy file too short")) {
            size_t hl = f[8] | f[9] << 8;
            char want[128];
            int k = snprintf(want, sizeof want, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
            for (int i = 0; i < nd; i++) k += snprintf(want + k, sizeof want - k, i ? ", %d" : "%d", dims[i]);
            snprintf(want + k, sizeof want - k, nd == 1 ? ",), }" : "), }");
            CHECK(!memcmp(f, "\x93NUMPY\x01\x00", 8) && (10 + hl) % 64 == 0 && f[10 + hl - 1] == '\n' &&
                      !strncmp((char *)f + 10, want, strlen(want)) && len == 10 + hl + 4 * n,
                  "npy header for %d-d shape: want %s, padded to 64 with a final newline", nd, want);
            for (size_t i = 10 + strlen(want); i + 1 < 10 + hl; i++)
                if (f[i] != ' ') {
                    CHECK(0, "npy header padding must be spaces");
                    break;
                }
        }
        free(f);

        float *back = NULL;
        int bnd = 0, bd[4] = {0};
        CHECK(ganc_npy_read(p, &back, &bnd, bd, err) == 0, "npy read: %s", err);
        int same = back && bnd == nd && (n == 0 || !memcmp(back, x, n * sizeof(float)));
        for (int i = 0; i < nd && same; i++) same = bd[i] == dims[i];
        CHECK(same, "npy round trip of a %d-d array", nd);
        free(back);

        if (have_numpy() && n > 0) {
            char cmd[512];
            int k = snprintf(cmd, sizeof cmd, "/usr/bin/python3 tools/check_npy.py check %s", p);
            for (int i = 0; i < nd; i++) k += snprintf(cmd + k, sizeof cmd - k, " %d", dims[i]);
            CHECK(system(cmd) == 0, "numpy rejects our file: %s", cmd);
        }
        free(x);
    }

    /* special values survive bit for bit */
    uint32_t bits[8] = {0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00001u, 0x00000001u, 0x7F7FFFFFu, 0x3F800000u, 0};
    float sv[8];
    memcpy(sv, bits, sizeof bits);
    int d1 = 8;
    const char *p = tpath("special.npy");
    float *back = NULL;
    int bnd, bd[4];
    CHECK(ganc_npy_write(p, sv, 1, &d1, err) == 0 && ganc_npy_read(p, &back, &bnd, bd, err) == 0 && bnd == 1 &&
              bd[0] == 8 && !memcmp(back, bits, sizeof bits),
          "special float values must round-trip bit-exactly (%s)", err);
    free(back);

    if (!have_numpy()) {
        printf("  note: no numpy in /usr/bin/python3 (or not run from the repository root): numpy checks skipped\n");
        return;
    }
    /* files numpy wrote itself, format 1.0 and 2.0 */
    for (int version = 1; version <= 2; version++) {
        char cmd[512];
        const char *q = tpath("numpy.npy");
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 tools/check_npy.py write %s %d 3 4 5", q, version);
        if (!CHECK(system(cmd) == 0, "numpy could not write %s", q)) continue;
        back = NULL;
        int ok = ganc_npy_read(q, &back, &bnd, bd, err) == 0;
        CHECK(ok, "reading numpy's v%d.0 file: %s", version, err);
        if (ok) {
            int same = bnd == 3 && bd[0] == 3 && bd[1] == 4 && bd[2] == 5;
            for (size_t i = 0; i < 60 && same; i++) same = back[i] == pattern(i);
            CHECK(same, "numpy's v%d.0 file read wrongly", version);
        }
        free(back);
    }
}

/* Builds a v1.0 (or v2.0) NPY file from a header text (padded as given) and data bytes. */
static void make_npy(const char *path, int major, const char *header, size_t data_bytes, const char *magic)
{
    size_t hl = strlen(header), pre = major == 1 ? 10 : 12;
    uint8_t *buf = calloc(pre + hl + data_bytes + 1, 1);
    memcpy(buf, magic ? magic : "\x93NUMPY", 6);
    buf[6] = (uint8_t)major;
    buf[7] = 0;
    buf[8] = (uint8_t)hl;
    buf[9] = (uint8_t)(hl >> 8);
    if (major != 1) buf[10] = (uint8_t)(hl >> 16), buf[11] = (uint8_t)(hl >> 24);
    memcpy(buf + pre, header, hl);
    for (size_t i = 0; i < data_bytes / 4; i++) {
        float v = pattern(i);
        memcpy(buf + pre + hl + 4 * i, &v, 4);
    }
    write_bytes(path, buf, pre + hl + data_bytes);
    free(buf);
}

static void test_npy_variants(void)
{
    char err[GANC_ERR_LEN];
    static const struct {
        int major;
        const char *header;
        int ndim, dims[4];
    } ok[] = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\n", 2, {3, 4}},
        {1, "{\"shape\": (2,3,2), \"fortran_order\": False, \"descr\": \"<f4\"}", 3, {2, 3, 2}},
        {1, "  {  'fortran_order' :False ,'descr':'<f4',\t'shape':( 6 , ) }   \n", 1, {6}},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n", 2, {2, 3}},
        {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1, 3), }          \n", 4, {1, 2, 1, 3}},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }\n", 1, {0}},
    };
    for (size_t t = 0; t < sizeof ok / sizeof ok[0]; t++) {
        size_t n = 1;
        for (int i = 0; i < ok[t].ndim; i++) n *= (size_t)ok[t].dims[i];
        const char *p = tpath("v.npy");
        make_npy(p, ok[t].major, ok[t].header, 4 * n, NULL);
        float *back = NULL;
        int nd = 0, d[4];
        int r = ganc_npy_read(p, &back, &nd, d, err);
        int same = r == 0 && back && nd == ok[t].ndim;
        for (int i = 0; i < nd && same; i++) same = d[i] == ok[t].dims[i];
        for (size_t i = 0; i < n && same; i++) same = back[i] == pattern(i);
        CHECK(same, "header variant %zu (%s) not read: %s", t, ok[t].header, r ? err : "wrong contents");
        free(back);
    }

    static const struct {
        int major;
        const char *header;
        long data; /* bytes of data; -1: exactly what the shape needs */
        const char *magic;
        const char *want; /* substring of the message */
    } bad[] = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", -1, "\x93NUMPX", "bad magic"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", 24, NULL, "'<f8'"},
        {1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }\n", -1, NULL, "'>f4'"},
        {1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }\n", -1, NULL, "structured"},
        {1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }\n", 24, NULL, "fortran_order"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }\n", 20, NULL, "needs 24 bytes"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }\n", 28, NULL, "trailing"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 2, 1), }\n", 8, NULL, "5 dimensions"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", 4, NULL, "0-d"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }\n", -1, NULL, "(N,)"},
        {1, "{'descr': '<f4', 'shape': (3,), }\n", -1, NULL, "missing 'fortran_order'"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}\n", -1, NULL, "unexpected key"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'shape': (3,)}\n", -1, NULL, "twice"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } x\n", -1, NULL, "after the dict"},
        {1, "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (3,), }\n", -1, NULL, "True or False"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }\n", 4, NULL, "too large"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647, 2147483647), }\n", 4,
         NULL, "too large"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }\n", -1, NULL, "non-negative"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)", -1, NULL, "ends early"},
        {1, "{'descr': '<f4, 'fortran_order': False, 'shape': (3,), }\n", -1, NULL, "bad NPY header"},
        {1, "", 0, NULL, "bad NPY header"},
        {7, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", -1, NULL, "version 7.0"},
    };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        const char *p = tpath("bad.npy");
        make_npy(p, bad[t].major, bad[t].header, bad[t].data < 0 ? 12 : (size_t)bad[t].data, bad[t].magic);
        float *back = (float *)&err; /* must come back NULL */
        int nd, d[4];
        err[0] = '\0';
        int r = ganc_npy_read(p, &back, &nd, d, err);
        CHECK(r == -1 && back == NULL && !strncmp(err, p, strlen(p)) && !strncmp(err + strlen(p), ": ", 2) &&
                  strstr(err, bad[t].want) && !strchr(err, '\n'),
              "bad NPY %zu (%s): got %d \"%s\", want a message with \"%s\"", t, bad[t].header, r, err, bad[t].want);
    }

    /* header length beyond the end of the file; file ending inside the header; short files */
    const char *p = tpath("cut.npy");
    uint8_t head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0x40, 0x1F};
    write_bytes(p, head, 10);
    float *back = NULL;
    int nd, d[4];
    CHECK(ganc_npy_read(p, &back, &nd, d, err) == -1 && strstr(err, "header length 8000") && !back,
          "header length beyond the file: \"%s\"", err);
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 12, NULL);
    size_t len = 0;
    uint8_t *f = test_read_file(p, &len);
    write_bytes(p, f, 30); /* cut inside the header */
    CHECK(ganc_npy_read(p, &back, &nd, d, err) == -1 && strstr(err, "truncated NPY header"), "cut header: \"%s\"", err);
    write_bytes(p, f, 7);
    CHECK(ganc_npy_read(p, &back, &nd, d, err) == -1 && strstr(err, "truncated"), "7-byte file: \"%s\"", err);
    write_bytes(p, f, 0);
    CHECK(ganc_npy_read(p, &back, &nd, d, err) == -1 && strstr(err, "not an NPY file"), "empty file: \"%s\"", err);
    free(f);
    CHECK(ganc_npy_read(tpath("missing.npy"), &back, &nd, d, err) == -1 && strstr(err, "cannot open") &&
              strstr(err, strerror(ENOENT)),
          "missing file: \"%s\"", err);
    CHECK(ganc_npy_read(tmpdir, &back, &nd, d, err) == -1 && strstr(err, "not a regular file"), "directory: \"%s\"", err);

    int dims[2] = {2, 2};
    float x[4] = {0};
    CHECK(ganc_npy_write("/nonexistent-ganc-dir/a.npy", x, 2, dims, err) == -1 && strstr(err, ": cannot write: "),
          "npy to unwritable path: \"%s\"", err);
    int five[5] = {1, 1, 1, 1, 1};
    CHECK(ganc_npy_write(tpath("five.npy"), x, 5, five, err) == -1, "5-d write accepted");
}

/* Truncations at every length and random byte flips: the reader either fails with a
 * "PATH: ..." line or returns an array consistent with the file size; never crashes. */
static void test_npy_fuzz(void)
{
    char err[GANC_ERR_LEN];
    const char *src = tpath("fuzz_src.npy"), *p = tpath("fuzz.npy");
    int dims[3] = {2, 3, 2};
    float x[12];
    for (int i = 0; i < 12; i++) x[i] = pattern((size_t)i);
    CHECK(ganc_npy_write(src, x, 3, dims, err) == 0, "fuzz source: %s", err);
    size_t len = 0;
    uint8_t *orig = test_read_file(src, &len);
    int cut_ok = 1;
    for (size_t k = 0; k < len; k++) {
        write_bytes(p, orig, k);
        float *back = NULL;
        int nd, d[4];
        if (ganc_npy_read(p, &back, &nd, d, err) != -1 || back || strncmp(err, p, strlen(p))) cut_ok = 0;
        free(back);
    }
    CHECK(cut_ok, "every truncation of an NPY file must be rejected");

    uint8_t *buf = malloc(len + 64);
    int bad = 0, accepted = 0, iters = 3000;
    const char *env = getenv("GANC_FUZZ_ITERS"); /* more for a longer run under SAN=1 */
    if (env && atoi(env) > 0) iters = atoi(env);
    for (int it = 0; it < iters; it++) {
        memcpy(buf, orig, len);
        size_t n = len;
        int flips = 1 + (int)(rnd() % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = rnd() % (it % 3 ? 80 : n); /* mostly the header */
            static const char interesting[] = "(),:' 0123456789{}L<f4TrueFalse\n\x93";
            buf[at] = rnd() % 2 ? (uint8_t)rnd() : (uint8_t)interesting[rnd() % (sizeof interesting - 1)];
        }
        if (it % 5 == 0) n = rnd() % (len + 1);
        if (it % 7 == 0) n = len + rnd() % 64, memset(buf + len, (int)(rnd() & 0xFF), n - len);
        write_bytes(p, buf, n);
        float *back = NULL;
        int nd = -1, d[4] = {-1, -1, -1, -1};
        err[0] = '\0';
        int r = ganc_npy_read(p, &back, &nd, d, err);
        if (r == 0) {
            accepted++;
            size_t cnt = 1;
            for (int i = 0; i < nd; i++) cnt *= (size_t)d[i];
            size_t pre = buf[6] == 1 ? 10 : 12;
            size_t hl = buf[8] | buf[9] << 8 | (pre == 12 ? (size_t)buf[10] << 16 | (size_t)buf[11] << 24 : 0);
            if (!back || nd < 1 || nd > 4 || pre + hl + 4 * cnt != n) bad++;
        } else if (r != -1 || back || strncmp(err, p, strlen(p)) || strchr(err, '\n') || strlen(err) >= GANC_ERR_LEN) {
            bad++;
        }
        free(back);
    }
    CHECK(bad == 0, "fuzzed NPY: %d inconsistent results", bad);
    CHECK(accepted > 0, "fuzzed NPY: some mutations (e.g. in the padding) should still be accepted");
    free(buf);
    free(orig);
}

/* ---- plots ------------------------------------------------------------------------------ */

static const uint32_t colors[4] = {0x1F77B4, 0xD62728, 0x2CA02C, 0xFF7F0E};

/* Pixels of colour rgb at rows >= y_from. */
static int count_color(const uint8_t *img, int w, int h, uint32_t rgb, int y_from)
{
    int n = 0;
    for (int y = y_from; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = img + 3 * ((size_t)y * w + x);
            if (p[0] == (uint8_t)(rgb >> 16) && p[1] == (uint8_t)(rgb >> 8) && p[2] == (uint8_t)rgb) n++;
        }
    return n;
}

/* Synthetic GAN curves over `n` steps. */
static void gan_curves(int n, float *steps, float *d, float *g, float *dx, float *dgz)
{
    for (int i = 0; i < n; i++) {
        double t = (double)i / (n > 1 ? n - 1 : 1), nz = ((double)(rnd() % 1000) / 1000.0 - 0.5);
        steps[i] = (float)(i * 10);
        d[i] = (float)(1.38 - 0.55 * (1 - exp(-t * 5)) + 0.12 * nz + 0.08 * sin(t * 40));
        g[i] = (float)(0.69 + 1.6 * (1 - exp(-t * 4)) + 0.25 * nz);
        dx[i] = (float)(0.5 + 0.28 * (1 - exp(-t * 6)) + 0.04 * nz);
        dgz[i] = (float)(0.5 - 0.3 * (1 - exp(-t * 5)) + 0.04 * nz);
    }
}

static void check_plot(const char *what, const char *p, int W, int H, const ganc_series *s, int ns, int colors_in_plot)
{
    int w = 0, h = 0, c = 0;
    uint8_t *img = test_png_load(p, &w, &h, &c, 0);
    CHECK(img && w == W && h == H && c == 3, "%s: plot is %dx%dx%d, want %dx%dx3", what, w, h, c, W, H);
    if (img && w == W && h == H && c == 3) {
        for (int i = 0; i < ns; i++) {
            int legend = count_color(img, w, h, s[i].rgb, 0);
            CHECK(legend > 0, "%s: no pixel of series %d's colour %06X", what, i, (unsigned)s[i].rgb);
            if (colors_in_plot)
                CHECK(count_color(img, w, h, s[i].rgb, H / 4) >= 4, "%s: series %d not drawn in the plot area", what, i);
        }
        CHECK(img[0] == 255 && img[1] == 255 && img[2] == 255, "%s: background is not white", what);
    }
    free(img);
}

static void test_plot(void)
{
    char err[GANC_ERR_LEN];
    enum { N = 400 };
    float steps[N], d[N], g[N], dx[N], dgz[N];
    gan_curves(N, steps, d, g, dx, dgz);
    d[100] = NAN; /* a gap */
    g[250] = INFINITY;
    ganc_series s[4] = {{"D loss", d, colors[0]}, {"G loss", g, colors[1]}, {"D(x)", dx, colors[2]}, {"D(G(z))", dgz, colors[3]}};
    const char *p = tpath("plot.png");
    CHECK(ganc_plot_png(p, "GAN training", steps, N, s, 4, 800, 400, err) == 0, "plot: %s", err);
    check_plot("normal plot", p, 800, 400, s, 4, 1);
    const char *out = getenv("GANC_IMAGE_OUT");
    if (out && *out) {
        char q[512];
        snprintf(q, sizeof q, "%s/plot.png", out);
        CHECK(ganc_plot_png(q, "GAN training", steps, N, s, 4, 800, 400, err) == 0, "plot to %s: %s", q, err);
    }

    /* x == NULL: the step index; a long run (more points than pixels) */
    enum { LONG = 20000 };
    float *ld = malloc(LONG * sizeof(float)), *lg = malloc(LONG * sizeof(float)), *lx = malloc(LONG * sizeof(float)),
          *l3 = malloc(LONG * sizeof(float)), *l4 = malloc(LONG * sizeof(float));
    gan_curves(LONG, lx, ld, lg, l3, l4);
    ganc_series ls[2] = {{"D loss", ld, colors[0]}, {"G loss", lg, colors[1]}};
    CHECK(ganc_plot_png(p, "long run", NULL, LONG, ls, 2, 640, 360, err) == 0, "long plot: %s", err);
    check_plot("long plot", p, 640, 360, ls, 2, 1);
    if (out && *out) {
        char q[512];
        snprintf(q, sizeof q, "%s/plot_long.png", out);
        ganc_plot_png(q, "Loss, 20000 steps", lx, LONG, ls, 2, 800, 400, err);
    }
    free(ld), free(lg), free(lx), free(l3), free(l4);

    /* all-NaN series next to a normal one */
    float nan[N];
    for (int i = 0; i < N; i++) nan[i] = NAN;
    ganc_series sn[2] = {{"D loss", d, colors[0]}, {"nothing", nan, colors[1]}};
    CHECK(ganc_plot_png(p, "with NaN series", steps, N, sn, 2, 800, 400, err) == 0, "NaN series: %s", err);
    check_plot("all-NaN series", p, 800, 400, sn, 2, 0);
    /* every series NaN */
    ganc_series sa[1] = {{"nothing", nan, colors[2]}};
    CHECK(ganc_plot_png(p, "all NaN", steps, N, sa, 1, 800, 400, err) == 0, "all NaN: %s", err);
    check_plot("all NaN", p, 800, 400, sa, 1, 0);
    /* one point */
    float one = 0.7f, step1 = 100.0f;
    ganc_series s1[1] = {{"G loss", &one, colors[1]}};
    CHECK(ganc_plot_png(p, "one point", &step1, 1, s1, 1, 800, 400, err) == 0, "n = 1: %s", err);
    check_plot("n = 1", p, 800, 400, s1, 1, 1);
    /* no points */
    CHECK(ganc_plot_png(p, "no points", NULL, 0, s, 4, 800, 400, err) == 0, "n = 0: %s", err);
    check_plot("n = 0", p, 800, 400, s, 4, 0);
    /* constant series (zero and non-zero) */
    float k1[N], k0[N];
    for (int i = 0; i < N; i++) k1[i] = 0.6931f, k0[i] = 0.0f;
    ganc_series sk[1] = {{"constant", k1, colors[0]}};
    CHECK(ganc_plot_png(p, "constant", steps, N, sk, 1, 800, 400, err) == 0, "constant: %s", err);
    check_plot("constant series", p, 800, 400, sk, 1, 1);
    ganc_series sz[1] = {{"zero", k0, colors[3]}};
    CHECK(ganc_plot_png(p, NULL, steps, N, sz, 1, 300, 200, err) == 0, "zero series, no title, small: %s", err);
    check_plot("zero series", p, 300, 200, sz, 1, 1);
    /* huge and tiny magnitudes */
    float big[3] = {-3e38f, 1e30f, 3e38f}, tiny[3] = {1e-30f, 2e-30f, 1.5e-30f};
    ganc_series sb[2] = {{"big", big, colors[0]}, {"tiny", tiny, colors[1]}};
    CHECK(ganc_plot_png(p, "extremes", NULL, 3, sb, 1, 400, 300, err) == 0, "huge values: %s", err);
    CHECK(ganc_plot_png(p, "extremes", NULL, 3, sb + 1, 1, 400, 300, err) == 0, "tiny values: %s", err);
    check_plot("tiny values", p, 400, 300, sb + 1, 1, 1);

    /* errors */
    ganc_series s5[5] = {s[0], s[1], s[2], s[3], s[0]};
    CHECK(ganc_plot_png(p, "t", steps, N, s5, 5, 800, 400, err) == -1 && !strncmp(err, p, strlen(p)), "5 series: \"%s\"", err);
    CHECK(ganc_plot_png(p, "t", steps, N, s, 4, 10, 10, err) == -1, "10x10 plot accepted");
    CHECK(ganc_plot_png("/nonexistent-ganc-dir/loss.png", "t", steps, N, s, 4, 800, 400, err) == -1 &&
              strstr(err, ": cannot write: "),
          "plot to unwritable path: \"%s\"", err);
}

/* A sample grid to look at (GANC_IMAGE_OUT only): 16 grey 28x28 discs and 8 RGB 32x32. */
static void demo_grids(void)
{
    const char *out = getenv("GANC_IMAGE_OUT");
    if (!out || !*out) return;
    char err[GANC_ERR_LEN], q[512];
    float *x = malloc(sizeof(float) * 16 * 28 * 28);
    for (int i = 0; i < 16; i++)
        for (int y = 0; y < 28; y++)
            for (int xx = 0; xx < 28; xx++) {
                double r = hypot(y - 13.5 - (i % 4 - 1.5) * 2, xx - 13.5 - (i / 4 - 1.5) * 2);
                x[(i * 28 + y) * 28 + xx] = (float)(r < 4 + i * 0.5 ? 1.0 : r < 6 + i * 0.5 ? 0.0 : -1.0);
            }
    snprintf(q, sizeof q, "%s/grid.png", out);
    CHECK(ganc_png_grid(q, x, 16, (ganc_shape){1, 28, 28}, -1.0f, 1.0f, 0, err) == 0, "demo grid: %s", err);
    free(x);
    x = malloc(sizeof(float) * 8 * 3 * 32 * 32);
    for (int i = 0; i < 8; i++)
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y++)
                for (int xx = 0; xx < 32; xx++)
                    x[((i * 3 + c) * 32 + y) * 32 + xx] =
                        (float)sin((c + 1) * 0.2 * (xx + i) + (2 - c) * 0.15 * y + i) * 1.2f;
    snprintf(q, sizeof q, "%s/grid_rgb.png", out);
    CHECK(ganc_png_grid(q, x, 8, (ganc_shape){3, 32, 32}, -1.0f, 1.0f, 4, err) == 0, "demo rgb grid: %s", err);
    free(x);
}

int main(void)
{
    tmpdir = check_tmpdir();
    test_png_roundtrip();
    test_png_errors();
    test_grid();
    test_npy_roundtrip();
    test_npy_variants();
    test_npy_fuzz();
    test_plot();
    demo_grids();
    return check_finish("image");
}
