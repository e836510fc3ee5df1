/* The feature network of ganc eval: softmax cross-entropy in closed form and against central
 * differences; the classifier learns a made-up 4-class set (tests/synth.h) quickly, trains
 * deterministically from its seed without allocating per step, survives a save and load, and
 * computes the same features whatever batch it runs them in. */
#include "check.h"
#include "eval/classifier.h"
#include "ganc_internal.h"
#include "io/safetensors.h"
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- softmax cross-entropy --------------------------------------------------------------- */

static void test_xent_closed_form(void)
{
    /* equal logits: p = 1/k, loss log k, gradient (1/k - [j = y]) * scale / n */
    float z[2 * 4] = {0}, dz[2 * 4];
    const int32_t y[2] = {1, 3};
    const double loss = ganc_softmax_xent(z, y, 2, 4, dz, 3.0f);
    CHECK(fabs(loss - log(4.0)) < 1e-12, "equal logits: loss %.15g, want log 4", loss);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) {
            const double want = 3.0 * (0.25 - (j == y[i])) / 2.0;
            CHECK(fabs(dz[i * 4 + j] - want) < 1e-7, "equal logits: dz[%d][%d] = %g, want %g", i, j, dz[i * 4 + j], want);
        }
    /* two classes: softmax cross-entropy is the sigmoid cross-entropy of the difference */
    const float z2[2] = {0.7f, -1.2f};
    const int32_t y0 = 0;
    const float diff = z2[0] - z2[1];
    const double want = ganc_bce_logits(&diff, NULL, 1.0f, 1, NULL, 1.0f);
    CHECK(fabs(ganc_softmax_xent(z2, &y0, 1, 2, NULL, 1.0f) - want) < 1e-6, "two classes = BCE of the difference");
    /* huge logits stay finite: log-sum-exp with the maximum subtracted */
    const float big[3] = {1e4f, -1e4f, 0.0f};
    float dbig[3];
    const int32_t y1 = 1, y2 = 0;
    const double l1 = ganc_softmax_xent(big, &y1, 1, 3, dbig, 1.0f);
    CHECK(fabs(l1 - 2e4) < 1e-6 * 2e4, "logits +-1e4, wrong label: loss %g, want 2e4", l1);
    CHECK(isfinite(dbig[0]) && fabs(dbig[0] - 1.0) < 1e-6 && fabs(dbig[1] + 1.0) < 1e-6 && fabs(dbig[2]) < 1e-6,
          "logits +-1e4: gradient %g %g %g", dbig[0], dbig[1], dbig[2]);
    CHECK(ganc_softmax_xent(big, &y2, 1, 3, NULL, 1.0f) < 1e-300 + 1e-12, "logits +-1e4, right label: loss 0");
    const int32_t bad = 3;
    CHECK(isnan(ganc_softmax_xent(big, &bad, 1, 3, NULL, 1.0f)), "a label outside [0, k) gives NaN");
    /* softmax: rows sum to 1, in place */
    float p[6] = {1, 2, 3, -50, 0, 50};
    ganc_softmax(p, 2, 3, p);
    CHECK(fabs(p[0] + p[1] + p[2] - 1.0) < 1e-6 && fabs(p[3] + p[4] + p[5] - 1.0) < 1e-6, "softmax rows sum to 1");
    CHECK(fabs(p[2] - exp(3.0) / (exp(1.0) + exp(2.0) + exp(3.0))) < 1e-6, "softmax value");
}

static void test_xent_finite_differences(void)
{
    enum { N = 3, K = 5 };
    float z[N * K], dz[N * K];
    const int32_t y[N] = {4, 0, 2};
    ganc_rng r;
    ganc_rng_seed(&r, 11);
    ganc_rng_normal(&r, z, N * K, 0.0f, 2.0f);
    ganc_softmax_xent(z, y, N, K, dz, 1.0f);
    double worst = 0.0;
    for (int i = 0; i < N * K; i++) {
        const float keep = z[i], h = 1.0f / 1024.0f;
        z[i] = keep + h;
        const double up = ganc_softmax_xent(z, y, N, K, NULL, 1.0f);
        const float zp = z[i];
        z[i] = keep - h;
        const double down = ganc_softmax_xent(z, y, N, K, NULL, 1.0f);
        const float zm = z[i];
        z[i] = keep;
        const double num = (up - down) / ((double)zp - (double)zm); /* the step actually taken */
        const double e = fabs(num - dz[i]);
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-5, "gradient against central differences: max error %g", worst);
}

/* ---- the classifier ---------------------------------------------------------------------- */

enum { SIDE = 16, N_TRAIN = 512, N_TEST = 256, BATCH = 32 };

static int make(ganc_classifier *c, int max_batch, uint64_t seed)
{
    char arch[2048], err[GANC_ERR_LEN];
    ganc_classifier_default_arch(4, (ganc_shape){1, SIDE, SIDE}, arch, sizeof arch);
    const int rc = ganc_classifier_create(c, arch, (ganc_shape){1, SIDE, SIDE}, 4, max_batch, seed, err);
    CHECK(rc == 0, "create: %s", err);
    return rc;
}

static int train(ganc_classifier *c, const ganc_dataset *ds, int epochs, uint64_t seed)
{
    char err[GANC_ERR_LEN];
    ganc_classifier_train_cfg cfg = ganc_classifier_train_defaults();
    cfg.epochs = epochs;
    cfg.batch = BATCH;
    cfg.seed = seed;
    ganc_classifier_trainer t;
    if (!CHECK(ganc_classifier_trainer_init(&t, c, ds, N_TRAIN, &cfg, err) == 0, "trainer: %s", err)) return -1;
    while (t.step < t.total) ganc_classifier_trainer_step(&t, NULL);
    ganc_classifier_trainer_free(&t);
    return 0;
}

static void test_learns(const ganc_dataset *ds)
{
    ganc_classifier c;
    if (make(&c, BATCH, 1)) return;
    char err[GANC_ERR_LEN];
    double before = 0.0, after = 0.0;
    ganc_classifier_accuracy(&c, ds, N_TRAIN, N_TEST, &before, err);
    train(&c, ds, 2, 1);
    CHECK(ganc_classifier_accuracy(&c, ds, N_TRAIN, N_TEST, &after, err) == 0, "accuracy: %s", err);
    CHECK(after >= 0.95, "held-out accuracy after 2 epochs: %.3f (before training %.3f), want >= 0.95", after, before);
    if (check_verbose) printf("quadrants: accuracy %.3f before training, %.3f after 2 epochs\n", before, after);
    ganc_classifier_free(&c);
}

static void test_no_allocation_per_step(const ganc_dataset *ds)
{
    ganc_classifier c;
    if (make(&c, BATCH, 2)) return;
    char err[GANC_ERR_LEN];
    ganc_classifier_train_cfg cfg = ganc_classifier_train_defaults();
    cfg.batch = BATCH;
    ganc_classifier_trainer t;
    if (CHECK(ganc_classifier_trainer_init(&t, &c, ds, N_TRAIN, &cfg, err) == 0, "trainer: %s", err)) {
        ganc_classifier_trainer_step(&t, NULL);
        const uint64_t before = ganc_alloc_count();
        int64_t correct = 0;
        for (int i = 0; i < 20; i++) ganc_classifier_trainer_step(&t, &correct); /* crosses an epoch */
        CHECK(ganc_alloc_count() == before, "%llu allocations in 20 training steps",
              (unsigned long long)(ganc_alloc_count() - before));
        ganc_classifier_trainer_free(&t);
    }
    ganc_classifier_free(&c);
}

static void test_deterministic(const ganc_dataset *ds)
{
    ganc_classifier a, b, d;
    if (make(&a, BATCH, 5) || make(&b, BATCH, 5) || make(&d, BATCH, 6)) return;
    train(&a, ds, 1, 5);
    train(&b, ds, 1, 5);
    train(&d, ds, 1, 6);
    const size_t bytes = sizeof(float) * ganc_net_param_count(a.net);
    CHECK(memcmp(ganc_net_params(a.net), ganc_net_params(b.net), bytes) == 0, "same seed: different weights");
    CHECK(memcmp(ganc_net_state(a.net), ganc_net_state(b.net), sizeof(float) * ganc_net_state_count(a.net)) == 0,
          "same seed: different running statistics");
    CHECK(memcmp(ganc_net_params(a.net), ganc_net_params(d.net), bytes) != 0, "another seed: the same weights");
    ganc_classifier_free(&a);
    ganc_classifier_free(&b);
    ganc_classifier_free(&d);
}

/* Saved, loaded for another batch size: the same outputs; the features of an image do not
 * depend on the batch it is run in. */
static void test_file_and_batches(const ganc_dataset *ds)
{
    ganc_classifier c, small, big;
    if (make(&c, BATCH, 3)) return;
    train(&c, ds, 1, 3);
    char err[GANC_ERR_LEN], path[512];
    c.test_accuracy = 0.875;
    snprintf(path, sizeof path, "%s/cls.safetensors", check_tmpdir());
    ganc_st_meta extra[] = {{"data", "quadrants"}};
    /* more metadata than the file takes is refused, never cut short in silence */
    ganc_st_meta many[60];
    char value[] = "v";
    for (int i = 0; i < 60; i++) {
        snprintf(many[i].key, sizeof many[i].key, "k%d", i);
        many[i].value = value;
    }
    CHECK(ganc_classifier_save(path, &c, many, 60, err) == -1 && strstr(err, "metadata entries"),
          "60 extra metadata entries refused: %s", err);
    if (!CHECK(ganc_classifier_save(path, &c, extra, 1, err) == 0, "save: %s", err)) return;
    if (!CHECK(ganc_classifier_load(path, 7, &small, err) == 0, "load (batch 7): %s", err)) return;
    if (!CHECK(ganc_classifier_load(path, 100, &big, err) == 0, "load (batch 100): %s", err)) return;
    CHECK(small.classes == 4 && small.shape.h == SIDE && small.feature_dim == c.feature_dim && small.test_accuracy == 0.875 &&
              !strcmp(small.data, "quadrants") && !strcmp(small.arch, c.arch),
          "metadata lost: %d classes, feature dim %d, accuracy %g, data %s", small.classes, small.feature_dim,
          small.test_accuracy, small.data);
    enum { M = 100 };
    const size_t image = (size_t)SIDE * SIDE, fd = (size_t)c.feature_dim;
    float *x = ganc_alloc(sizeof(float) * M * image);
    float *f0 = ganc_alloc(sizeof(float) * M * fd), *f1 = ganc_alloc(sizeof(float) * M * fd),
          *f2 = ganc_alloc(sizeof(float) * M * fd);
    float *p0 = ganc_alloc(sizeof(float) * M * 4), *p1 = ganc_alloc(sizeof(float) * M * 4);
    int32_t idx[M];
    for (int i = 0; i < M; i++) idx[i] = N_TRAIN + i;
    ganc_dataset_fill(ds, idx, M, 0.0f, 1.0f, x);
    ganc_classifier_run(&c, x, M, f0, p0);
    ganc_classifier_run(&small, x, M, f1, p1);
    ganc_classifier_run(&big, x, M, f2, NULL);
    const double e1 = check_rel_err(f1, f0, M * fd, 1e-3), e2 = check_rel_err(f2, f0, M * fd, 1e-3);
    CHECK(e1 <= 1e-6 && e2 <= 1e-6, "features in batches of 7, 32, 100 differ: relative error %g, %g", e1, e2);
    CHECK(check_rel_err(p1, p0, M * 4, 1e-3) <= 1e-6, "probabilities after a save and load differ");
    if (check_verbose) printf("features, batch 7 vs 32 vs 100: %s\n", memcmp(f0, f1, sizeof(float) * M * fd) ? "close" : "bit-identical");
    ganc_free(x);
    ganc_free(f0);
    ganc_free(f1);
    ganc_free(f2);
    ganc_free(p0);
    ganc_free(p1);
    ganc_classifier_free(&small);
    ganc_classifier_free(&big);
    ganc_classifier_free(&c);
}

static void test_errors(void)
{
    char err[GANC_ERR_LEN], path[512];
    ganc_classifier c;
    snprintf(path, sizeof path, "%s/missing.safetensors", check_tmpdir());
    CHECK(ganc_classifier_load(path, 8, &c, err) != 0 && strstr(err, "missing.safetensors"), "missing file: %s", err);
    /* a safetensors file that is not a classifier (a GAN checkpoint, say) */
    snprintf(path, sizeof path, "%s/other.safetensors", check_tmpdir());
    const float one = 1.0f;
    ganc_st_tensor t = {.name = "x", .dtype = GANC_ST_F32, .ndim = 1, .dims = {1}, .data = &one, .nbytes = 4};
    ganc_st_meta meta[] = {{"format", "ganc-checkpoint-1"}};
    if (CHECK(ganc_st_write(path, &t, 1, meta, 1, err) == 0, "write: %s", err))
        CHECK(ganc_classifier_load(path, 8, &c, err) != 0 && strstr(err, "not a ganc classifier"), "wrong format: %s", err);
    CHECK(ganc_classifier_create(&c, "conv 4 k=3\nrelu\n", (ganc_shape){1, 8, 8}, 4, 8, 1, err) != 0 &&
              strstr(err, "dense 4"),
          "an architecture without the class layer: %s", err);
    CHECK(ganc_classifier_create(&c, "flatten\ndense 3\n", (ganc_shape){1, 8, 8}, 4, 8, 1, err) != 0,
          "an architecture with the wrong number of classes");
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "-v")) check_verbose = 1;
    ganc_set_threads(1);
    test_xent_closed_form();
    test_xent_finite_differences();
    ganc_dataset ds;
    synth_quadrants(&ds, N_TRAIN + N_TEST, SIDE, 42);
    test_learns(&ds);
    test_no_allocation_per_step(&ds);
    test_deterministic(&ds);
    test_file_and_batches(&ds);
    test_errors();
    ganc_dataset_free(&ds);
    return check_finish("classifier");
}
