/* The data interface (src/data/source.c), each part against an independent statement of it:
 * --size and --background parse what they document and refuse the rest; refitting a set of
 * bytes converts RGB to grey by the luma formula written out here and shrinks a checkerboard to
 * grey (the area filter's mean, not an aliased copy); a mirrored sample (--xflip) is its image
 * reversed along each row, element by element, with the image's label; a 2-D source fills what
 * ganc_toy2d_fill fills for the seed it was opened with; a subset copies pixels, labels and names;
 * an IDX file opened through the interface equals the same file loaded directly. */
#include "check.h"
#include "data/source.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_parse(void)
{
    char err[GANC_ERR_LEN];
    int h = -1, w = -1;
    int rc = ganc_parse_size("64", &h, &w, err);
    CHECK(rc == 0 && h == 64 && w == 64, "size 64 -> %d x %d", h, w);
    rc = ganc_parse_size("48x64", &h, &w, err);
    CHECK(rc == 0 && h == 48 && w == 64, "size 48x64 -> %d x %d", h, w);
    rc = ganc_parse_size("0", &h, &w, err);
    CHECK(rc == 0 && h == 0 && w == 0, "size 0 is the data's own");
    const char *bad_sizes[] = {"", "x", "64x", "x64", "0x5", "5x0", "4097", "-3", "3.5", "64 ", "64x64x3", "1e3"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        const char *v = bad_sizes[i];
        if (!*v) continue; /* "" is the data's own size, like 0 */
        rc = ganc_parse_size(v, &h, &w, err);
        CHECK(rc != 0 && strstr(err, "--size needs"), "size '%s' refused: %s", v, err);
    }
    uint8_t rgb[3] = {1, 2, 3};
    rc = ganc_parse_background("white", rgb, err);
    CHECK(rc == 0 && rgb[0] == 255 && rgb[1] == 255 && rgb[2] == 255, "white");
    rc = ganc_parse_background("black", rgb, err);
    CHECK(rc == 0 && rgb[0] == 0 && rgb[1] == 0 && rgb[2] == 0, "black");
    rc = ganc_parse_background("10,200,255", rgb, err);
    CHECK(rc == 0 && rgb[0] == 10 && rgb[1] == 200 && rgb[2] == 255, "R,G,B -> %d %d %d", rgb[0], rgb[1], rgb[2]);
    const char *bad_bg[] = {"", "red", "1,2", "1,2,3,4", "1,2,256", "1,,3", "1,2,3,", " 1,2,3", "-1,2,3"};
    for (size_t i = 0; i < sizeof bad_bg / sizeof bad_bg[0]; i++) {
        rc = ganc_parse_background(bad_bg[i], rgb, err);
        CHECK(rc != 0 && strstr(err, "--background needs"), "background '%s' refused: %s", bad_bg[i], err);
    }
}

/* A set of n images of shape sh with pixel bytes from f(i, k, y, x). */
static void make_set(ganc_dataset *ds, int n, ganc_shape sh, int labelled,
                     uint8_t (*f)(int i, int k, int y, int x))
{
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->shape = sh;
    ds->pixels = malloc(ganc_shape_size(sh) * (size_t)n);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < sh.c; k++)
            for (int y = 0; y < sh.h; y++)
                for (int x = 0; x < sh.w; x++)
                    ds->pixels[(((size_t)i * sh.c + k) * sh.h + y) * sh.w + x] = f(i, k, y, x);
    if (labelled) {
        ds->labels = malloc((size_t)n);
        for (int i = 0; i < n; i++) ds->labels[i] = (uint8_t)(i % 3);
        ds->n_classes = 3;
    }
    snprintf(ds->images_path, sizeof ds->images_path, "made-up");
}

static uint8_t colourful(int i, int k, int y, int x) { return (uint8_t)(37 * i + 71 * k + 13 * y + 5 * x + (x * y) % 7); }
static uint8_t checker(int i, int k, int y, int x) { return (uint8_t)(((x + y + i + k) & 1) ? 255 : 0); }

static void test_refit(void)
{
    char err[GANC_ERR_LEN];
    const uint8_t white[3] = {255, 255, 255};
    /* RGB -> grey: ITU-R 601 luma, rounded to nearest */
    ganc_dataset ds;
    make_set(&ds, 3, (ganc_shape){3, 5, 4}, 0, colourful);
    int rc = ganc_dataset_refit(&ds, 1, 0, 0, GANC_FIT_CROP, white, err);
    CHECK(rc == 0 && ds.shape.c == 1 && ds.shape.h == 5 && ds.shape.w == 4, "to grey: %s", err);
    int wrong = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 4; x++) {
                const double l = (299.0 * colourful(i, 0, y, x) + 587.0 * colourful(i, 1, y, x) + 114.0 * colourful(i, 2, y, x)) / 1000.0;
                wrong += ds.pixels[((size_t)i * 5 + y) * 4 + x] != (uint8_t)floor(l + 0.5);
            }
    CHECK(wrong == 0, "grey from RGB by luma: %d pixels differ", wrong);
    ganc_dataset_free(&ds);

    /* a checkerboard shrunk by 2 is grey (127.5 -> 128 or 127), not black or white */
    make_set(&ds, 2, (ganc_shape){1, 8, 8}, 1, checker);
    rc = ganc_dataset_refit(&ds, 0, 4, 4, GANC_FIT_CROP, white, err);
    CHECK(rc == 0 && ds.shape.h == 4 && ds.shape.w == 4 && ds.n == 2, "shrink: %s", err);
    int far = 0;
    for (size_t p = 0; rc == 0 && p < 2 * 16; p++) far += ds.pixels[p] < 127 || ds.pixels[p] > 128;
    CHECK(far == 0, "checkerboard shrinks to grey: %d pixels are not", far);
    CHECK(ds.labels && ds.labels[1] == 1, "labels survive a refit");
    ganc_dataset_free(&ds);

    /* grey -> RGB: each plane a copy */
    make_set(&ds, 1, (ganc_shape){1, 3, 3}, 0, colourful);
    rc = ganc_dataset_refit(&ds, 3, 0, 0, GANC_FIT_CROP, white, err);
    wrong = 0;
    for (int k = 0; rc == 0 && k < 3; k++)
        for (int p = 0; p < 9; p++) wrong += ds.pixels[k * 9 + p] != colourful(0, 0, p / 3, p % 3);
    CHECK(rc == 0 && ds.shape.c == 3 && wrong == 0, "grey to RGB copies the plane: %d differ", wrong);
    ganc_dataset_free(&ds);
}

/* Writes an IDX file of n images (h x w) and labels beside it; returns 0 on success. */
static int write_idx(const char *dir, int n, int h, int w)
{
    char path[512];
    snprintf(path, sizeof path, "%s/images-idx3-ubyte", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    const uint8_t head[16] = {0, 0, 8, 3, 0, 0, (uint8_t)(n >> 8), (uint8_t)n, 0, 0, 0, (uint8_t)h, 0, 0, 0, (uint8_t)w};
    fwrite(head, 1, 16, f);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) fputc(colourful(i, 0, y, x), f);
    fclose(f);
    snprintf(path, sizeof path, "%s/labels-idx1-ubyte", dir);
    if (!(f = fopen(path, "wb"))) return -1;
    const uint8_t lhead[8] = {0, 0, 8, 1, 0, 0, (uint8_t)(n >> 8), (uint8_t)n};
    fwrite(lhead, 1, 8, f);
    for (int i = 0; i < n; i++) fputc(i % 4, f);
    fclose(f);
    return 0;
}

static void test_sources(void)
{
    char dir[] = "/tmp/ganc-test-source-XXXXXX", path[512], err[GANC_ERR_LEN];
    if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp")) return;
    enum { N = 6, H = 5, W = 7 };
    if (!CHECK(write_idx(dir, N, H, W) == 0, "write idx")) return;
    snprintf(path, sizeof path, "%s/images-idx3-ubyte", dir);

    /* the interface over an IDX file equals the file loaded directly */
    ganc_source_options o;
    ganc_source_options_default(&o);
    ganc_source plain, flip;
    ganc_dataset direct;
    int rc = ganc_source_open(path, &o, &plain, err);
    CHECK(rc == 0, "open idx: %s", err);
    rc |= ganc_dataset_load_idx(path, &direct, err);
    const size_t size = (size_t)H * W;
    float *a = malloc(sizeof(float) * size * 2 * N), *b = malloc(sizeof(float) * size * 2 * N);
    int32_t idx[2 * N];
    for (int i = 0; i < 2 * N; i++) idx[i] = i;
    if (rc == 0) {
        CHECK(plain.n == N && plain.shape.c == 1 && plain.shape.h == H && plain.shape.w == W, "idx shape");
        ganc_source_fill(&plain, idx, N, 0, -1.0f, 1.0f, a);
        ganc_dataset_fill(&direct, idx, N, -1.0f, 1.0f, b);
        CHECK(!memcmp(a, b, sizeof(float) * size * N), "the interface fills what the IDX reader holds");
        CHECK(ganc_source_label(&plain, 5) == 1, "label of sample 5: %d", ganc_source_label(&plain, 5));
        char buf[16];
        CHECK(!strcmp(ganc_source_class_name(&plain, 2, buf), "2"), "an unnamed class is its number");
    }

    /* --xflip: sample N + i is image i mirrored, with its label */
    o.xflip = 1;
    rc = ganc_source_open(path, &o, &flip, err);
    CHECK(rc == 0 && flip.n == 2 * N, "xflip doubles the samples: %d (%s)", flip.n, err);
    if (rc == 0) {
        ganc_source_fill(&flip, idx, 2 * N, 3, 0.0f, 1.0f, a);
        int wrong = 0, labels = 0;
        for (int i = 0; i < N; i++) {
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    const float orig = (float)colourful(i, 0, y, x) / 255.0f;
                    wrong += fabsf(a[(size_t)i * size + (size_t)y * W + x] - orig) > 1e-6f;
                    wrong += fabsf(a[(size_t)(N + i) * size + (size_t)y * W + (W - 1 - x)] - orig) > 1e-6f;
                }
            labels += ganc_source_label(&flip, N + i) != i % 4;
        }
        CHECK(wrong == 0, "mirrored samples reverse each row: %d values differ", wrong);
        CHECK(labels == 0, "mirrored samples keep their labels: %d differ", labels);
    }
    ganc_source_close(&flip);

    /* --size through the interface: an IDX set fitted to 3x3 */
    o.xflip = 0;
    o.height = o.width = 3;
    rc = ganc_source_open(path, &o, &flip, err);
    CHECK(rc == 0 && flip.shape.h == 3 && flip.shape.w == 3 && flip.n == N, "idx fitted to 3x3: %s", err);
    ganc_source_close(&flip);

    /* a subset copies pixels, labels and names */
    ganc_dataset sub;
    const int32_t pick[3] = {4, 0, 2};
    rc = ganc_dataset_subset(&direct, pick, 3, &sub, err);
    CHECK(rc == 0 && sub.n == 3, "subset: %s", err);
    if (rc == 0) {
        int wrong = 0;
        for (int i = 0; i < 3; i++) {
            wrong += memcmp(sub.pixels + (size_t)i * size, direct.pixels + (size_t)pick[i] * size, size) != 0;
            wrong += sub.labels[i] != direct.labels[pick[i]];
        }
        CHECK(wrong == 0, "subset copies images and labels: %d differ", wrong);
    }
    ganc_dataset_free(&sub);

    /* 2-D points: the fill ganc_toy2d_fill makes for the seed */
    ganc_source toy;
    ganc_source_options_default(&o);
    o.seed = 1234;
    rc = ganc_source_open("grid", &o, &toy, err);
    CHECK(rc == 0 && toy.kind == GANC_SOURCE_TOY2D && toy.shape.c == 2, "open grid: %s", err);
    if (rc == 0) {
        ganc_source_fill(&toy, idx, 8, 5, -1.0f, 1.0f, a);
        ganc_toy2d_fill(toy.toy, 1234, 5, idx, 8, b);
        CHECK(!memcmp(a, b, sizeof(float) * 16), "the 2-D source is ganc_toy2d_fill's");
        CHECK(ganc_source_label(&toy, 0) == -1, "2-D points have no labels");
    }
    o.height = o.width = 8;
    rc = ganc_source_open("grid", &o, &flip, err);
    CHECK(rc != 0 && strstr(err, "2-D points"), "--size refused for 2-D points: %s", err);

    /* a missing file: one line naming it */
    snprintf(path, sizeof path, "%s/missing-idx3-ubyte", dir);
    ganc_source_options_default(&o);
    rc = ganc_source_open(path, &o, &flip, err);
    CHECK(rc != 0 && strstr(err, "missing-idx3-ubyte"), "a missing file is named: %s", err);

    ganc_source_close(&toy);
    ganc_source_close(&plain);
    ganc_dataset_free(&direct);
    free(a);
    free(b);
    snprintf(path, sizeof path, "%s/images-idx3-ubyte", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/labels-idx1-ubyte", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_parse();
    test_refit();
    test_sources();
    return check_finish("source");
}
