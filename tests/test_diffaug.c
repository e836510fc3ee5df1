/* DiffAugment (src/gan/diffaug.c): each transform's forward against its definition written out
 * here from the drawn values, the backward pass against central finite differences of
 * L = sum(y * r) and against the adjoint identity <J v, r> = <v, J^T r> in double, the draws'
 * ranges, and reproducibility from the seed. */
#include "check.h"
#include "gan/diffaug.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 5, C = 3, H = 8, W = 6, SIZE = C * H * W };

static void fill(float *x, size_t n, uint64_t seed)
{
    ganc_rng r;
    ganc_rng_seed(&r, seed);
    ganc_rng_uniform(&r, x, n, -1.0f, 1.0f);
}

static void make(ganc_diffaug *a, unsigned kinds, uint64_t seed)
{
    char err[GANC_ERR_LEN];
    CHECK(ganc_diffaug_init(a, kinds, (ganc_shape){C, H, W}, N, err) == 0, "init: %s", err);
    ganc_rng r;
    ganc_rng_seed(&r, seed);
    ganc_diffaug_draw(a, N, &r);
}

static double at(const float *x, int i, int c, int r, int q)
{
    if (r < 0 || r >= H || q < 0 || q >= W) return 0.0;
    return x[((i * C + c) * H + r) * W + q];
}

/* The forward of each kind alone, from its definition. */
static void test_forward(void)
{
    float x[N * SIZE], y[N * SIZE];
    fill(x, N * SIZE, 3);
    ganc_diffaug a;
    double worst = 0.0;

    make(&a, GANC_AUG_COLOR, 11);
    ganc_diffaug_forward(&a, x, y);
    for (int i = 0; i < N; i++) {
        double b[SIZE];
        for (int k = 0; k < SIZE; k++) b[k] = x[i * SIZE + k] + a.brightness[i];
        for (int p = 0; p < H * W; p++) { /* saturation: toward the mean over channels */
            double m = 0;
            for (int c = 0; c < C; c++) m += b[c * H * W + p];
            m /= C;
            for (int c = 0; c < C; c++) b[c * H * W + p] = (b[c * H * W + p] - m) * a.saturation[i] + m;
        }
        double m = 0; /* contrast: toward the sample's mean */
        for (int k = 0; k < SIZE; k++) m += b[k];
        m /= SIZE;
        for (int k = 0; k < SIZE; k++) {
            const double d = fabs(y[i * SIZE + k] - ((b[k] - m) * a.contrast[i] + m));
            if (d > worst) worst = d;
        }
    }
    CHECK(worst < 1e-5, "color forward against brightness, saturation, contrast written out: %g", worst);
    ganc_diffaug_free(&a);

    make(&a, GANC_AUG_TRANSLATION, 12);
    ganc_diffaug_forward(&a, x, y);
    worst = 0.0;
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++)
            for (int r = 0; r < H; r++)
                for (int q = 0; q < W; q++) {
                    const double d = fabs(at(y, i, c, r, q) - at(x, i, c, r - a.dy[i], q - a.dx[i]));
                    if (d > worst) worst = d;
                }
    CHECK(worst == 0.0, "translation: y(r, q) = x(r - dy, q - dx), 0 outside: %g", worst);
    ganc_diffaug_free(&a);

    make(&a, GANC_AUG_CUTOUT, 13);
    ganc_diffaug_forward(&a, x, y);
    int ok = 1;
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++)
            for (int r = 0; r < H; r++)
                for (int q = 0; q < W; q++) {
                    const int inside = r >= a.cy[i] - a.cut_h / 2 && r < a.cy[i] - a.cut_h / 2 + a.cut_h &&
                                       q >= a.cx[i] - a.cut_w / 2 && q < a.cx[i] - a.cut_w / 2 + a.cut_w;
                    ok &= at(y, i, c, r, q) == (inside ? 0.0 : at(x, i, c, r, q));
                }
    CHECK(ok && a.cut_h == 4 && a.cut_w == 3, "cutout: a %dx%d square (want 4x3) zeroed around the centre", a.cut_h,
          a.cut_w);
    ganc_diffaug_free(&a);
}

/* Backward against finite differences of L = sum(y * r) and against the adjoint identity. */
static void test_backward(unsigned kinds, const char *what)
{
    float x[N * SIZE], r[N * SIZE], y[N * SIZE], g[N * SIZE], v[N * SIZE], jv[N * SIZE];
    fill(x, N * SIZE, 5);
    fill(r, N * SIZE, 6);
    fill(v, N * SIZE, 7);
    ganc_diffaug a;
    make(&a, kinds, 21);
    ganc_diffaug_backward(&a, r, g);
    double worst = 0.0;
    const float e = 1e-2f;
    for (int k = 0; k < N * SIZE; k += 7) {
        const float keep = x[k];
        double lp = 0, lm = 0;
        x[k] = keep + e;
        ganc_diffaug_forward(&a, x, y);
        for (int j = 0; j < N * SIZE; j++) lp += (double)y[j] * r[j];
        x[k] = keep - e;
        ganc_diffaug_forward(&a, x, y);
        for (int j = 0; j < N * SIZE; j++) lm += (double)y[j] * r[j];
        x[k] = keep;
        const double d = fabs((lp - lm) / (2 * e) - g[k]);
        if (d > worst) worst = d;
    }
    CHECK(worst < 2e-3, "%s backward against central differences: largest error %g", what, worst);

    /* <J v, r> = <v, J^T r>: J applied to v (the bias of brightness cancels: J v = f(v) - f(0)) */
    float zero[N * SIZE], f0[N * SIZE];
    memset(zero, 0, sizeof zero);
    ganc_diffaug_forward(&a, v, jv);
    ganc_diffaug_forward(&a, zero, f0);
    double lhs = 0, rhs = 0;
    for (int j = 0; j < N * SIZE; j++) {
        lhs += ((double)jv[j] - f0[j]) * r[j];
        rhs += (double)v[j] * g[j];
    }
    CHECK(fabs(lhs - rhs) < 1e-4 * (1 + fabs(lhs)), "%s adjoint identity: <Jv, r> %.6f, <v, J'r> %.6f", what, lhs, rhs);

    /* in place equals out of place */
    memcpy(y, r, sizeof y);
    ganc_diffaug_backward(&a, y, y);
    CHECK(!memcmp(y, g, sizeof y), "%s backward in place", what);
    ganc_diffaug_free(&a);
}

static void test_draws(void)
{
    char err[GANC_ERR_LEN];
    ganc_diffaug a, b;
    enum { M = 4000 };
    CHECK(ganc_diffaug_init(&a, GANC_AUG_COLOR | GANC_AUG_TRANSLATION | GANC_AUG_CUTOUT, (ganc_shape){3, 32, 32}, M,
                            err) == 0, "init 32x32: %s", err);
    CHECK(a.shift_h == 4 && a.cut_h == 16, "32 px: shifts up to %d (want 4), cutout %d (want 16)", a.shift_h, a.cut_h);
    ganc_rng r;
    ganc_rng_seed(&r, 9);
    ganc_diffaug_draw(&a, M, &r);
    int ok = 1, seen_shift[9] = {0}, cy_lo = 99, cy_hi = -1;
    double bsum = 0;
    for (int i = 0; i < M; i++) {
        ok &= a.brightness[i] >= -0.5f && a.brightness[i] < 0.5f && a.saturation[i] >= 0 && a.saturation[i] < 2 &&
              a.contrast[i] >= 0.5f && a.contrast[i] < 1.5f && abs(a.dy[i]) <= 4 && abs(a.dx[i]) <= 4;
        if (ok) seen_shift[a.dy[i] + 4]++;
        if (a.cy[i] < cy_lo) cy_lo = a.cy[i];
        if (a.cy[i] > cy_hi) cy_hi = a.cy[i];
        bsum += a.brightness[i];
    }
    int all = 1;
    for (int s = 0; s < 9; s++) all &= seen_shift[s] > M / 9 / 2;
    CHECK(ok && all, "draws within their ranges, every shift -4..4 drawn often");
    CHECK(cy_lo == 0 && cy_hi == 32, "cutout centres over [0, 32] for an even square: [%d, %d]", cy_lo, cy_hi);
    CHECK(fabs(bsum / M) < 0.03, "brightness centred on 0: mean %.4f", bsum / M);
    CHECK(ganc_diffaug_init(&b, a.kinds, a.shape, M, err) == 0, "init b");
    ganc_rng_seed(&r, 9);
    ganc_diffaug_draw(&b, M, &r);
    CHECK(!memcmp(a.dy, b.dy, sizeof(int) * M) && !memcmp(a.contrast, b.contrast, sizeof(float) * M),
          "the same seed draws the same transforms");
    ganc_diffaug_free(&a);
    ganc_diffaug_free(&b);
}

static void test_parse(void)
{
    char err[GANC_ERR_LEN], buf[64];
    unsigned k = 99;
    CHECK(ganc_diffaug_parse("translation,color", &k, err) == 0 && k == (GANC_AUG_COLOR | GANC_AUG_TRANSLATION),
          "parse a list in any order: %u", k);
    ganc_diffaug_format(k, buf, sizeof buf);
    CHECK(!strcmp(buf, "color,translation"), "format: '%s'", buf);
    CHECK(ganc_diffaug_parse("none", &k, err) == 0 && k == 0, "none is 0");
    ganc_diffaug_format(0, buf, sizeof buf);
    CHECK(!strcmp(buf, "none"), "format 0: '%s'", buf);
    CHECK(ganc_diffaug_parse("color,flip", &k, err) == -1 && strstr(err, "'flip'") && strstr(err, "cutout"),
          "an unknown transform is named with the valid ones: %s", err);
    CHECK(ganc_diffaug_parse("color,", &k, err) == -1, "a trailing comma is an error");
}

int main(void)
{
    test_forward();
    test_backward(GANC_AUG_COLOR, "color");
    test_backward(GANC_AUG_TRANSLATION, "translation");
    test_backward(GANC_AUG_CUTOUT, "cutout");
    test_backward(GANC_AUG_COLOR | GANC_AUG_TRANSLATION | GANC_AUG_CUTOUT, "all three");
    test_draws();
    test_parse();
    return check_finish("diffaug");
}
