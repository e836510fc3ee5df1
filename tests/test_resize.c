/* Fitting pictures to a data set's shape (src/data/resize.c), each against its definition:
 * shrinking is the exact mean of the picture over the output pixel's box (computed here by
 * counting subpixels of a common grid, not with the filter's taps), growing is linear
 * interpolation between pixel centres (torch's align_corners=False, written out here), a
 * checkerboard shrinks to grey rather than aliasing, compositing and luma as their formulas,
 * centre crop and pad by where known pixels land. */
#include "check.h"
#include "data/resize.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t lcg = 12345;
static uint8_t rnd_byte(void)
{
    lcg = lcg * 1103515245u + 12345u;
    return (uint8_t)(lcg >> 16);
}

static uint8_t *resize(const uint8_t *src, int w, int h, int ow, int oh)
{
    uint8_t *dst = malloc((size_t)ow * oh);
    float *scratch = malloc(sizeof(float) * ganc_resize_scratch(w, h, ow, oh));
    ganc_resize_plane(src, (size_t)w, 0, 0, w, h, dst, ow, oh, scratch);
    free(scratch);
    return dst;
}

/* The mean of the piecewise-constant picture over output pixel (x, y)'s box: on a grid of
 * (w ow) x (h oh) subpixels, input pixel (i, j) is the ow x oh block at (i ow, j oh) and output
 * pixel (x, y) the w x h block at (x w, y h). */
static double box_mean(const uint8_t *src, int w, int h, int ow, int oh, int x, int y)
{
    double sum = 0.0;
    for (int v = y * h; v < (y + 1) * h; v++)
        for (int u = x * w; u < (x + 1) * w; u++) sum += src[(v / oh) * w + u / ow];
    return sum / ((double)w * h);
}

/* Linear interpolation between pixel centres, one axis. */
static double lerp_axis(int x, int in, int out, int *i0, int *i1)
{
    double u = (x + 0.5) * in / out - 0.5;
    if (u < 0) u = 0;
    if (u > in - 1) u = in - 1;
    *i0 = (int)u;
    *i1 = *i0 + 1 < in ? *i0 + 1 : *i0;
    return u - *i0;
}

/* Output pixel (x, y) interpolated bilinearly between the input's pixel centres. */
static double bilinear(const uint8_t *src, int w, int h, int ow, int oh, int x, int y)
{
    int x0, x1, y0, y1;
    const double fx = lerp_axis(x, w, ow, &x0, &x1), fy = lerp_axis(y, h, oh, &y0, &y1);
    const double top = src[y0 * w + x0] * (1 - fx) + src[y0 * w + x1] * fx;
    const double bottom = src[y1 * w + x0] * (1 - fx) + src[y1 * w + x1] * fx;
    return top * (1 - fy) + bottom * fy;
}

/* A random w x h picture resized to ow x oh must be within rounding (0.5) of the reference
 * everywhere: `want` gives output pixel (x, y) by the definition; `what` names it in errors. */
static void check_resize(int w, int h, int ow, int oh, double (*want)(const uint8_t *, int, int, int, int, int, int),
                         const char *what)
{
    uint8_t *src = malloc((size_t)w * h);
    for (int i = 0; i < w * h; i++) src[i] = rnd_byte();
    uint8_t *dst = resize(src, w, h, ow, oh);
    double worst = 0.0;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            const double d = fabs(dst[y * ow + x] - want(src, w, h, ow, oh, x, y));
            if (d > worst) worst = d;
        }
    CHECK(worst <= 0.5 + 1e-3, "%dx%d -> %dx%d: largest distance from %s %.3f (> 0.5)", w, h, ow, oh, what, worst);
    free(src);
    free(dst);
}

static void test_shrink_is_box_mean(int w, int h, int ow, int oh)
{
    check_resize(w, h, ow, oh, box_mean, "the box mean");
}

static void test_grow_is_bilinear(int w, int h, int ow, int oh) { check_resize(w, h, ow, oh, bilinear, "bilinear"); }

static void test_checkerboard(void)
{
    enum { N = 64 };
    uint8_t src[N * N];
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) src[y * N + x] = (x + y) % 2 ? 255 : 0;
    const int sizes[][2] = {{32, 32}, {21, 21}, {7, 5}, {16, 48}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int ow = sizes[s][0], oh = sizes[s][1];
        uint8_t *dst = resize(src, N, N, ow, oh);
        int lo = 255, hi = 0;
        for (int i = 0; i < ow * oh; i++) {
            if (dst[i] < lo) lo = dst[i];
            if (dst[i] > hi) hi = dst[i];
        }
        /* A box of b >= 3 pixels per axis holds at most one more black than white (or the
         * reverse) per row: the 1-D means stay within 1/3 of 1/2 and their product bounds the
         * 2-D mean to 127.5 +- 127.5/9. Exactly 2:1 gives 127.5 everywhere. */
        CHECK(lo >= 113 && hi <= 142, "checkerboard 64x64 -> %dx%d comes out grey: [%d, %d], want within [113, 142]",
              ow, oh, lo, hi);
        if (ow == 32) CHECK(lo == 128 && hi == 128, "checkerboard halved: every pixel 128 (127.5 rounded), got [%d, %d]", lo, hi);
        free(dst);
    }
}

static void test_constant_and_identity(void)
{
    uint8_t src[9 * 7];
    memset(src, 255, sizeof src);
    const int sizes[][2] = {{3, 2}, {4, 7}, {20, 3}, {9, 7}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint8_t *dst = resize(src, 9, 7, sizes[s][0], sizes[s][1]);
        int ok = 1;
        for (int i = 0; i < sizes[s][0] * sizes[s][1]; i++) ok &= dst[i] == 255;
        CHECK(ok, "a white 9x7 picture stays white at %dx%d", sizes[s][0], sizes[s][1]);
        free(dst);
    }
    for (int i = 0; i < 9 * 7; i++) src[i] = rnd_byte();
    uint8_t *same = resize(src, 9, 7, 9, 7);
    CHECK(!memcmp(same, src, sizeof src), "the same size is a copy");
    free(same);
}

static void test_planes(void)
{
    const uint8_t white[3] = {255, 255, 255}, teal[3] = {0, 128, 128};
    /* RGBA: opaque red, transparent blue, half-transparent green */
    const uint8_t rgba[] = {255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 128};
    uint8_t out[9];
    ganc_image_planes(rgba, 3, 1, 4, 3, teal, out);
    /* planes R, G, B of three pixels */
    CHECK(out[0] == 255 && out[3] == 0 && out[6] == 0, "opaque red stays red: %d %d %d", out[0], out[3], out[6]);
    CHECK(out[1] == 0 && out[4] == 128 && out[7] == 128, "transparent becomes the background: %d %d %d", out[1], out[4],
          out[7]);
    /* 128/255 of green over teal: G = (255*128 + 128*127 + 127) / 255 */
    CHECK(out[2] == 0 && out[5] == (255 * 128 + 128 * 127 + 127) / 255 && out[8] == (128 * 127 + 127) / 255,
          "half green over teal: %d %d %d", out[2], out[5], out[8]);
    ganc_image_planes(rgba, 3, 1, 4, 1, white, out);
    CHECK(out[0] == (299 * 255 + 500) / 1000 && out[1] == 255, "luma of red %d (want 76), of transparent on white %d",
          out[0], out[1]);
    const uint8_t ga[] = {10, 255, 10, 0};
    ganc_image_planes(ga, 2, 1, 2, 3, teal, out);
    CHECK(out[0] == 10 && out[2] == 10 && out[4] == 10 && out[1] == 0 && out[3] == 128 && out[5] == 128,
          "grey + alpha to RGB: %d %d %d / %d %d %d", out[0], out[2], out[4], out[1], out[3], out[5]);
}

static void test_fit(void)
{
    enum { W = 40, H = 20 };
    uint8_t src[W * H], dst[10 * 10];
    /* a wide picture: black quarters left and right, 200 in the middle half */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) src[y * W + x] = x >= 10 && x < 30 ? 200 : 0;
    const uint8_t white[3] = {255, 255, 255};
    char err[GANC_ERR_LEN];
    int rc = ganc_fit_planes(src, 1, W, H, dst, 10, 10, GANC_FIT_CROP, white, err);
    int ok = rc == 0;
    for (int i = 0; i < 100; i++) ok &= dst[i] == 200;
    CHECK(ok, "centre crop of a 40x20 picture to a square keeps its middle 20x20 (all 200)");

    /* 200 on columns 12..27 only, which shrink 4:1 onto columns 3..6 exactly */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) src[y * W + x] = x >= 12 && x < 28 ? 200 : 0;
    rc = ganc_fit_planes(src, 1, W, H, dst, 10, 10, GANC_FIT_PAD, white, err);
    /* the whole picture into a 10x5 box at rows 2..6; rows 0-1 and 7-9 white */
    ok = rc == 0;
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++) {
            const int in_box = y >= 2 && y < 7;
            const int want = !in_box ? 255 : x >= 3 && x < 7 ? 200 : 0;
            ok &= dst[y * 10 + x] == want;
        }
    CHECK(ok, "pad of a 40x20 picture into 10x10: a 10x5 band in rows 2-6 on white");

    /* tall picture, 3 planes, pad with a colour */
    uint8_t tall[3 * 4 * 8], out[3 * 8 * 8];
    memset(tall, 50, sizeof tall);
    const uint8_t bg[3] = {1, 2, 3};
    rc = ganc_fit_planes(tall, 3, 4, 8, out, 8, 8, GANC_FIT_PAD, bg, err);
    CHECK(rc == 0 && out[0] == 1 && out[64] == 2 && out[128] == 3 && out[2] == 50 && out[64 + 5] == 50 && out[7] == 1,
          "tall picture padded left and right per plane: %d %d %d %d", out[0], out[64], out[128], out[2]);
}

int main(void)
{
    test_shrink_is_box_mean(17, 13, 6, 5);
    test_shrink_is_box_mean(64, 64, 21, 21);
    test_shrink_is_box_mean(9, 30, 2, 7);
    test_shrink_is_box_mean(100, 3, 1, 1);
    test_grow_is_bilinear(3, 2, 7, 5);
    test_grow_is_bilinear(5, 5, 32, 9);
    test_checkerboard();
    test_constant_and_identity();
    test_planes();
    test_fit();
    return check_finish("resize");
}
