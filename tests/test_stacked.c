/* Stacked MNIST (src/data/stacked.c): every channel of a composed sample is exactly the base
 * image its draw names, labels are the triple's mode, the draws are deterministic in the seed,
 * independent across channels and spread over the base; "stacked-mnist:PATH" loads through
 * the ordinary loader; modes and their KL from uniform in closed form. */
#include "check.h"
#include "eval/evaluate.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BASE = 50, SIDE = 6 };

/* Base image b: every pixel b * 5 (so each image is recognisable), label b % 10. */
static void make_base(ganc_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    ds->n = BASE;
    ds->shape = (ganc_shape){1, SIDE, SIDE};
    ds->pixels = malloc(BASE * SIDE * SIDE);
    ds->labels = malloc(BASE);
    for (int b = 0; b < BASE; b++) {
        memset(ds->pixels + b * SIDE * SIDE, b * 5, SIDE * SIDE);
        ds->labels[b] = (uint8_t)(b % 10);
    }
    ds->n_classes = 10;
    strcpy(ds->images_path, "base");
}

static void test_composition(const ganc_dataset *base)
{
    char err[GANC_ERR_LEN];
    ganc_dataset st, again, other, part;
    enum { N = 3000 };
    if (!CHECK(ganc_dataset_stack(base, 0, BASE, N, 77, &st, err) == 0, "stack: %s", err)) return;
    CHECK(st.n == N && st.shape.c == 3 && st.shape.h == SIDE && st.n_classes == 1000, "shape %dx%dx%d, n %d, %d classes",
          st.shape.c, st.shape.h, st.shape.w, st.n, st.n_classes);
    float x[3 * SIDE * SIDE];
    int wrong_pixels = 0, wrong_labels = 0, out_of_range = 0;
    int count[3][BASE] = {{0}}, same01 = 0;
    for (int i = 0; i < N; i++) {
        int32_t d[3], idx = i;
        ganc_dataset_stack_digits(&st, i, d);
        ganc_dataset_fill(&st, &idx, 1, 0.0f, 255.0f, x);
        for (int k = 0; k < 3; k++) {
            if (d[k] < 0 || d[k] >= BASE) {
                out_of_range++;
                continue;
            }
            count[k][d[k]]++;
            for (int p = 0; p < SIDE * SIDE; p++) wrong_pixels += fabsf(x[k * SIDE * SIDE + p] - (float)(d[k] * 5)) > 1e-3f;
        }
        same01 += d[0] == d[1];
        if (ganc_dataset_label(&st, i) != ((d[0] % 10) * 10 + d[1] % 10) * 10 + d[2] % 10) wrong_labels++;
    }
    CHECK(out_of_range == 0, "%d draws outside the base", out_of_range);
    CHECK(wrong_pixels == 0, "%d pixels differ from their base image", wrong_pixels);
    CHECK(wrong_labels == 0, "%d labels are not the mode of their channels' digits", wrong_labels);
    /* uniform draws: each base image about N / BASE = 60 times per channel (chi-square with 49
     * degrees of freedom stays below 90 with probability 0.9995); independent channels: the
     * first two agree about N / BASE times */
    for (int k = 0; k < 3; k++) {
        double chi = 0.0;
        for (int b = 0; b < BASE; b++) chi += (count[k][b] - 60.0) * (count[k][b] - 60.0) / 60.0;
        CHECK(chi < 90.0, "channel %d: draws not uniform (chi-square %.1f)", k, chi);
    }
    CHECK(same01 > 30 && same01 < 95, "channels 0 and 1 agree %d times of %d (expected about 60)", same01, N);
    /* deterministic in the seed; another seed, other draws */
    CHECK(ganc_dataset_stack(base, 0, BASE, N, 77, &again, err) == 0 && ganc_dataset_stack(base, 0, BASE, N, 78, &other, err) == 0,
          "stack: %s", err);
    int same = 0, diff = 0;
    for (int i = 0; i < N; i++) {
        int32_t a[3], b[3], c[3];
        ganc_dataset_stack_digits(&st, i, a);
        ganc_dataset_stack_digits(&again, i, b);
        ganc_dataset_stack_digits(&other, i, c);
        same += !memcmp(a, b, sizeof a);
        diff += !!memcmp(a, c, sizeof a);
    }
    CHECK(same == N, "the same seed drew other digits for %d samples", N - same);
    CHECK(diff > N * 9 / 10, "another seed drew the same digits for %d samples", N - diff);
    /* a slice of the base: only those images, labels kept */
    CHECK(ganc_dataset_stack(base, 40, 10, 100, 1, &part, err) == 0, "stack a slice: %s", err);
    int outside = 0;
    for (int i = 0; i < 100; i++) {
        int32_t idx = i;
        ganc_dataset_fill(&part, &idx, 1, 0.0f, 255.0f, x);
        for (int k = 0; k < 3; k++) outside += x[k * SIDE * SIDE] < 40 * 5 - 1e-3f;
    }
    CHECK(outside == 0 && part.base_n == 10 && part.n_classes == 1000, "slice 40..49: %d channels from outside it", outside);
    /* the evaluation source labels each channel with its own digit */
    ganc_dataset_source_ctx ctx;
    ganc_image_source src;
    ganc_dataset_source(&src, &ctx, &st, 0, NULL, N);
    int32_t d[3];
    ganc_dataset_stack_digits(&st, 5, d);
    CHECK(src.label && src.label(&ctx, 5, 0) == d[0] % 10 && src.label(&ctx, 5, 2) == d[2] % 10,
          "source labels are not the channels' digits");
    ganc_dataset_free(&st);
    ganc_dataset_free(&again);
    ganc_dataset_free(&other);
    ganc_dataset_free(&part);
    /* errors */
    ganc_dataset bad;
    CHECK(ganc_dataset_stack(base, 45, 10, 10, 1, &bad, err) != 0, "a slice past the end is refused");
    ganc_dataset three = *base;
    three.shape.c = 3;
    CHECK(ganc_dataset_stack(&three, 0, 1, 10, 1, &bad, err) != 0 && strstr(err, "one-channel"), "3-channel base: %s", err);
}

/* An IDX file pair in the test's directory, loaded as "stacked-mnist:PATH". */
static void test_loader(const ganc_dataset *base)
{
    char ip[512], lp[512], spec[600], err[GANC_ERR_LEN];
    snprintf(ip, sizeof ip, "%s/images-idx3-ubyte", check_tmpdir());
    snprintf(lp, sizeof lp, "%s/labels-idx1-ubyte", check_tmpdir());
    FILE *f = fopen(ip, "wb");
    const uint8_t ih[16] = {0, 0, 8, 3, 0, 0, 0, BASE, 0, 0, 0, SIDE, 0, 0, 0, SIDE};
    fwrite(ih, 1, 16, f);
    fwrite(base->pixels, 1, BASE * SIDE * SIDE, f);
    fclose(f);
    f = fopen(lp, "wb");
    const uint8_t lh[8] = {0, 0, 8, 1, 0, 0, 0, BASE};
    fwrite(lh, 1, 8, f);
    fwrite(base->labels, 1, BASE, f);
    fclose(f);
    snprintf(spec, sizeof spec, "%s%s", GANC_STACKED_PREFIX, ip);
    ganc_dataset ds, ref;
    if (!CHECK(ganc_dataset_load_idx(spec, &ds, err) == 0, "load %s: %s", spec, err)) return;
    CHECK(ds.n == GANC_STACKED_N && ds.shape.c == 3 && ds.base_n == BASE && ds.n_classes == 1000 &&
              ds.stack_seed == GANC_STACKED_SEED && !strcmp(ds.images_path, spec),
          "stacked load: n %d, %d channels, base %d, %d classes", ds.n, ds.shape.c, ds.base_n, ds.n_classes);
    ganc_dataset_stack(base, 0, BASE, GANC_STACKED_N, GANC_STACKED_SEED, &ref, err);
    int32_t a[3], b[3];
    ganc_dataset_stack_digits(&ds, 12345, a);
    ganc_dataset_stack_digits(&ref, 12345, b);
    CHECK(!memcmp(a, b, sizeof a) && ganc_dataset_label(&ds, 99) == ganc_dataset_label(&ref, 99),
          "the loader's set is not ganc_dataset_stack's with the documented seed");
    ganc_dataset_free(&ds);
    ganc_dataset_free(&ref);
    snprintf(spec, sizeof spec, "%s%s/nothing-idx3-ubyte", GANC_STACKED_PREFIX, check_tmpdir());
    CHECK(ganc_dataset_load_idx(spec, &ds, err) != 0 && strstr(err, "nothing-idx3-ubyte"), "missing base: %s", err);
}

static void test_modes(void)
{
    enum { N = 2000 };
    static int32_t t[3 * N];
    int modes;
    double kl;
    for (int i = 0; i < N; i++) t[3 * i] = 1, t[3 * i + 1] = 2, t[3 * i + 2] = 3;
    ganc_eval_modes(t, N, 10, &modes, &kl);
    CHECK(modes == 1 && fabs(kl - log(1000.0)) < 1e-12, "one mode: %d modes, KL %g (want log 1000)", modes, kl);
    for (int i = 0; i < N; i++) { /* every mode twice: the uniform histogram */
        const int m = i % 1000;
        t[3 * i] = m / 100, t[3 * i + 1] = m / 10 % 10, t[3 * i + 2] = m % 10;
    }
    ganc_eval_modes(t, N, 10, &modes, &kl);
    CHECK(modes == 1000 && fabs(kl) < 1e-12, "uniform: %d modes, KL %g", modes, kl);
    /* half the samples on mode 0, the rest spread over 500 modes: 501 modes, KL by hand */
    for (int i = 0; i < N; i++) {
        const int m = i < N / 2 ? 0 : 1 + (i % 500);
        t[3 * i] = m / 100, t[3 * i + 1] = m / 10 % 10, t[3 * i + 2] = m % 10;
    }
    ganc_eval_modes(t, N, 10, &modes, &kl);
    const double want = 0.5 * log(0.5 * 1000) + 500 * (0.5 / 500) * log(0.5 / 500 * 1000);
    CHECK(modes == 501 && fabs(kl - want) < 1e-12, "501 modes: %d, KL %g (want %g)", modes, kl, want);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "-v")) check_verbose = 1;
    ganc_dataset base;
    make_base(&base);
    test_composition(&base);
    test_loader(&base);
    test_modes();
    ganc_dataset_free(&base);
    return check_finish("stacked");
}
