/* Scoring in a classifier's feature space (src/eval/evaluate.c, sources.c), on a classifier
 * trained for an epoch on the made-up quadrant set (tests/synth.h):
 * - a set scored against itself: FID ~ 0, KID ~ 0, precision = recall = coverage = 1;
 * - a set that is not the reference's (noise) scores far worse on every count;
 * - the numbers do not depend on the classifier's batch size;
 * - Stacked images: features are the three channels' side by side, modes counted from the
 *   channels' predictions;
 * - images that do not fit the classifier, or are not finite, fail with one message. */
#include "check.h"
#include "nets.h"
#include "eval/evaluate.h"
#include "ganc_internal.h"
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { SIDE = 16, N_TRAIN = 512, N_REF = 300, BATCH = 32 };

static int train_classifier(const ganc_dataset *ds, ganc_classifier *c, const char *path)
{
    char err[GANC_ERR_LEN];
    if (test_train_classifier(ds, N_TRAIN, 4, BATCH, c)) return -1;
    return CHECK(ganc_classifier_save(path, c, NULL, 0, err) == 0, "save: %s", err) ? 0 : -1;
}

/* Features of images [from, from + n) of ds. */
static int features(ganc_classifier *c, const ganc_dataset *ds, int from, int n, ganc_eval_features *f)
{
    char err[GANC_ERR_LEN];
    ganc_dataset_source_ctx ctx;
    ganc_image_source src;
    ganc_dataset_source(&src, &ctx, ds, from, NULL, n);
    return CHECK(ganc_eval_features_compute(c, &src, f, err) == 0, "features: %s", err) ? 0 : -1;
}

static void test_self(ganc_classifier *c, const ganc_dataset *ds)
{
    ganc_eval_features a, b;
    ganc_eval_result r;
    char err[GANC_ERR_LEN];
    if (features(c, ds, N_TRAIN, N_REF, &a) || features(c, ds, N_TRAIN, N_REF, &b)) return;
    if (!CHECK(ganc_eval_compare(&a, &b, 1, &r, err) == 0, "compare: %s", err)) return;
    CHECK(fabs(r.fid) < 1e-6, "FID of a set with itself: %g", r.fid);
    /* KID's unbiased estimate of a set against itself is not 0 but, with subsets of the whole
     * set (n = 300 < 1000), -2/(n-1) (mean k(x_i, x_i) - mean k(x_i, x_j) over all i, j) */
    double diag = 0.0, all = 0.0;
    for (int i = 0; i < N_REF; i++)
        for (int j = 0; j < N_REF; j++) {
            double dot = 0.0;
            for (int k = 0; k < a.d; k++) dot += (double)a.feat[(size_t)i * a.d + k] * b.feat[(size_t)j * b.d + k];
            const double kij = pow(dot / a.d + 1.0, 3.0);
            all += kij;
            if (i == j) diag += kij;
        }
    const double kid_want = -2.0 / (N_REF - 1) * (diag / N_REF - all / ((double)N_REF * N_REF));
    CHECK(fabs(r.kid - kid_want) <= 1e-6 * fabs(kid_want) && r.kid_std < 1e-9 * fabs(kid_want),
          "KID of a set with itself: %.9g +- %g, want %.9g +- 0", r.kid, r.kid_std, kid_want);
    CHECK(r.precision == 1.0 && r.recall == 1.0 && r.coverage == 1.0, "itself: precision %g recall %g coverage %g",
          r.precision, r.recall, r.coverage);
    CHECK(r.confidence == r.confidence_ref && r.confidence > 0.25 && r.confidence <= 1.0, "confidence %g vs %g",
          r.confidence, r.confidence_ref);
    CHECK(r.class_kl >= 0.0 && r.class_kl < 0.05, "class KL of a well classified set against its labels: %g", r.class_kl);
    CHECK(r.n == N_REF && r.n_ref == N_REF && r.n_prdc == N_REF && !r.stacked, "counts %d %d %d", r.n, r.n_ref, r.n_prdc);
    /* uniform noise: not the reference's distribution */
    static float noise[N_REF * SIDE * SIDE];
    ganc_rng rng;
    ganc_rng_seed(&rng, 3);
    ganc_rng_uniform(&rng, noise, sizeof noise / sizeof noise[0], 0.0f, 1.0f);
    ganc_array_source_ctx actx;
    ganc_image_source src;
    ganc_array_source(&src, &actx, noise, N_REF, (ganc_shape){1, SIDE, SIDE});
    ganc_eval_features fn;
    ganc_eval_result rn;
    if (CHECK(ganc_eval_features_compute(c, &src, &fn, err) == 0, "noise features: %s", err)) {
        CHECK(ganc_eval_compare(&fn, &b, 1, &rn, err) == 0, "compare: %s", err);
        CHECK(rn.fid > 100 * (fabs(r.fid) + 1e-3) && rn.kid > r.kid + 1e-3 && rn.recall < 0.5 && rn.coverage < 0.5,
              "noise is not scored worse: FID %g KID %g recall %g coverage %g", rn.fid, rn.kid, rn.recall, rn.coverage);
        if (check_verbose)
            printf("noise vs quadrants: FID %.3f KID %.4f precision %.3f recall %.3f class KL %.3f\n", rn.fid, rn.kid,
                   rn.precision, rn.recall, rn.class_kl);
        ganc_eval_features_free(&fn);
    }
    ganc_eval_features_free(&a);
    ganc_eval_features_free(&b);
}

/* The scores of one set against another with the classifier built for batches of 3, 32, 200. */
static void test_batch_independence(const char *path, const ganc_dataset *ds)
{
    const int batches[3] = {3, 32, 200};
    ganc_eval_result r[3];
    char err[GANC_ERR_LEN];
    for (int i = 0; i < 3; i++) {
        ganc_classifier c;
        ganc_eval_features a, b;
        if (!CHECK(ganc_classifier_load(path, batches[i], &c, err) == 0, "load: %s", err)) return;
        /* scored: training images 0..299; reference: held-out images */
        if (features(&c, ds, 0, N_REF, &a) || features(&c, ds, N_TRAIN, N_REF, &b)) return;
        CHECK(ganc_eval_compare(&a, &b, 1, &r[i], err) == 0, "compare: %s", err);
        ganc_eval_features_free(&a);
        ganc_eval_features_free(&b);
        ganc_classifier_free(&c);
    }
    for (int i = 1; i < 3; i++) {
        const double v0[] = {r[0].fid, r[0].kid, r[0].precision, r[0].recall, r[0].density, r[0].coverage, r[0].class_kl, r[0].confidence};
        const double vi[] = {r[i].fid, r[i].kid, r[i].precision, r[i].recall, r[i].density, r[i].coverage, r[i].class_kl, r[i].confidence};
        const char *names[] = {"fid", "kid", "precision", "recall", "density", "coverage", "class_kl", "confidence"};
        for (int k = 0; k < 8; k++)
            CHECK(fabs(vi[k] - v0[k]) <= 1e-5 * fmax(fabs(v0[k]), 1e-3), "%s with batch %d: %.9g, with batch 3: %.9g",
                  names[k], batches[i], vi[k], v0[k]);
    }
    if (check_verbose) printf("training vs held-out quadrants: FID %.5f, precision %.4f, recall %.4f\n", r[0].fid, r[0].precision, r[0].recall);
}

/* 3-channel images with a 1-channel classifier: channels classified on their own. */
static void test_stacked(ganc_classifier *c, const ganc_dataset *ds)
{
    char err[GANC_ERR_LEN];
    ganc_dataset st;
    enum { N = 400 };
    if (!CHECK(ganc_dataset_stack(ds, N_TRAIN, N_REF, N, 5, &st, err) == 0, "stack: %s", err)) return;
    ganc_eval_features f;
    if (features(c, &st, 0, N, &f)) return;
    const int fd = c->feature_dim;
    CHECK(f.passes == 3 && f.d == 3 * fd && f.classes == 4, "stacked features: %d passes, %d features", f.passes, f.d);
    /* image 7's features: its three base images' features in channel order */
    int32_t d[3];
    ganc_dataset_stack_digits(&st, 7, d);
    float x[SIDE * SIDE], one[512], p[4];
    double worst = 0.0;
    int preds_ok = 1;
    for (int k = 0; k < 3; k++) {
        int32_t idx = N_TRAIN + d[k];
        ganc_dataset_fill(ds, &idx, 1, 0.0f, 1.0f, x);
        ganc_classifier_run(c, x, 1, one, p);
        worst = fmax(worst, check_rel_err(f.feat + 7 * (size_t)f.d + (size_t)k * fd, one, (size_t)fd, 1e-3));
        int32_t best;
        ganc_argmax_labels(p, 1, 4, &best);
        preds_ok &= best == f.pred[7 * 3 + k];
    }
    CHECK(worst <= 1e-6 && preds_ok, "stacked image 7: features differ from its channels' by %g, predictions %s", worst,
          preds_ok ? "agree" : "differ");
    ganc_eval_features ref;
    ganc_eval_result r;
    ganc_dataset st2;
    ganc_dataset_stack(ds, N_TRAIN, N_REF, N, 6, &st2, err);
    if (!features(c, &st2, 0, N, &ref) && CHECK(ganc_eval_compare(&f, &ref, 1, &r, err) == 0, "compare: %s", err)) {
        /* 64 modes (4 classes cubed), 400 samples: a good classifier sees nearly all */
        CHECK(r.stacked && r.n_modes == 64 && r.modes >= 60 && r.mode_kl < 0.3, "stacked: %d of %d modes, KL %g", r.modes,
              r.n_modes, r.mode_kl);
        CHECK(r.fid < 5.0 && r.class_kl < 0.05, "two stacked sets of the same digits: FID %g, class KL %g", r.fid, r.class_kl);
        ganc_eval_features_free(&ref);
    }
    ganc_eval_features_free(&f);
    ganc_dataset_free(&st);
    ganc_dataset_free(&st2);
}

static void test_errors(ganc_classifier *c)
{
    char err[GANC_ERR_LEN];
    static float x[10 * 2 * SIDE * SIDE];
    ganc_array_source_ctx actx;
    ganc_image_source src;
    ganc_eval_features f;
    ganc_array_source(&src, &actx, x, 10, (ganc_shape){2, SIDE, SIDE});
    CHECK(ganc_eval_features_compute(c, &src, &f, err) != 0 && strstr(err, "classifier takes 1x16x16"),
          "2-channel images: %s", err);
    ganc_array_source(&src, &actx, x, 10, (ganc_shape){1, SIDE + 2, SIDE});
    CHECK(ganc_eval_features_compute(c, &src, &f, err) != 0 && strstr(err, "1x18x16"), "18x16 images: %s", err);
    x[5] = NAN;
    ganc_array_source(&src, &actx, x, 10, (ganc_shape){1, SIDE, SIDE});
    CHECK(ganc_eval_features_compute(c, &src, &f, err) != 0 && strstr(err, "not finite"), "a NaN image: %s", err);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "-v")) check_verbose = 1;
    ganc_set_threads(1);
    ganc_dataset ds;
    synth_quadrants(&ds, N_TRAIN + N_REF, SIDE, 8);
    ganc_classifier c;
    char path[512];
    snprintf(path, sizeof path, "%s/quadrants.safetensors", check_tmpdir());
    if (train_classifier(&ds, &c, path) == 0) {
        test_self(&c, &ds);
        test_batch_independence(path, &ds);
        test_stacked(&c, &ds);
        test_errors(&c);
        ganc_classifier_free(&c);
    }
    ganc_dataset_free(&ds);
    return check_finish("evaluate");
}
