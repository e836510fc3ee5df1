/* Conditional scores (src/eval/conditional.c): class agreement and intra-class FID, each
 * checked against a reference computed here by another route:
 * - on a classifier trained for an epoch on the made-up quadrant set (tests/synth.h), with
 *   "generated" images that are data set images requested as their own class: agreement
 *   against the classifier's predictions of the same images made here, image by image;
 *   per-class FIDs against FID of per-class copies of the features gathered here; a set
 *   scored against itself gives intra-FID ~ 0;
 * - a generator that swaps two classes' images: agreement drops by exactly the share of
 *   those images predicted as their true class (less those predicted as the other class),
 *   the other classes' numbers do not move;
 * - hand-made 2-D features: each class's FID against the closed form of two 2-D Gaussians in
 *   double, classes with too few images skipped and counted, agreement of a set prediction
 *   pattern, also with two classes swapped where the swap gains some images as well;
 * - bad input (labels out of range, mismatched or stacked features, unlabelled sources): one
 *   line, and a result that needs no freeing. */
#include "check.h"
#include "nets.h"
#include "eval/conditional.h"
#include "ganc_internal.h"
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SIDE = 16, K = 4, N_TRAIN = 512, N_GEN = 400, N_REF = 400, BATCH = 32 };

/* ---- a stand-in for a conditional generator's source ------------------------------------- */

/* Data set images [from, from + n), each "requested" as its true class, except that classes a
 * and b trade places: the images of class a are reported as requested for b and the reverse,
 * as from a generator that mixes up its class inputs (a = b = -1: no swap). */
typedef struct {
    ganc_dataset_source_ctx dctx;
    ganc_image_source inner;
    int a, b;
} swap_ctx;

static void swap_fill(void *ctx, int from, int m, float *out)
{
    swap_ctx *s = ctx;
    s->inner.fill(s->inner.ctx, from, m, out);
}

static int swap_label(void *ctx, int i, int k)
{
    swap_ctx *s = ctx;
    const int y = s->inner.label(s->inner.ctx, i, k);
    return y == s->a ? s->b : y == s->b ? s->a : y;
}

static void swap_source(ganc_image_source *src, swap_ctx *s, const ganc_dataset *ds, int from, int n, int a, int b)
{
    ganc_dataset_source(&s->inner, &s->dctx, ds, from, NULL, n);
    s->a = a;
    s->b = b;
    *src = (ganc_image_source){n, ds->shape, swap_fill, swap_label, s};
}

/* Features and labels of images [from, from + n) of ds, classes a and b swapped. */
static int scored_set(ganc_classifier *c, const ganc_dataset *ds, int from, int n, int a, int b,
                      ganc_eval_features *f, int32_t *labels)
{
    char err[GANC_ERR_LEN];
    swap_ctx s;
    ganc_image_source src;
    swap_source(&src, &s, ds, from, n, a, b);
    if (!CHECK(ganc_eval_features_compute(c, &src, f, err) == 0, "features: %s", err)) return -1;
    if (CHECK(ganc_eval_source_labels(&src, K, labels, err) == 0, "labels: %s", err)) return 0;
    ganc_eval_features_free(f);
    return -1;
}

/* ---- references computed here ------------------------------------------------------------ */

/* The classifier's predicted class of images [from, from + n) of ds, one image at a time, the
 * largest probability found by a plain loop. */
static void predictions(ganc_classifier *c, const ganc_dataset *ds, int from, int n, int32_t *pred)
{
    float x[SIDE * SIDE], p[K];
    for (int i = 0; i < n; i++) {
        const int32_t idx = from + i;
        ganc_dataset_fill(ds, &idx, 1, 0.0f, 1.0f, x);
        ganc_classifier_run(c, x, 1, NULL, p);
        int best = 0;
        for (int k = 1; k < K; k++)
            if (p[k] > p[best]) best = k;
        pred[i] = best;
    }
}

/* FID of the rows of gen whose label is k against the rows of ref whose label is k, each
 * copied out into its own matrix first. */
static double fid_of_copies(const ganc_eval_features *gen, const uint8_t *gen_y, const ganc_eval_features *ref,
                            const uint8_t *ref_y, int k)
{
    const ganc_eval_features *set[2] = {gen, ref};
    const uint8_t *ys[2] = {gen_y, ref_y};
    ganc_moments m[2];
    char err[GANC_ERR_LEN];
    for (int s = 0; s < 2; s++) {
        const int d = set[s]->d;
        float *rows = check_floats((size_t)set[s]->n * (size_t)d);
        int n = 0;
        for (int i = 0; i < set[s]->n; i++)
            if (ys[s][i] == k) memcpy(rows + (size_t)n++ * d, set[s]->feat + (size_t)i * d, sizeof(float) * (size_t)d);
        ganc_moments_init(&m[s], d, err);
        ganc_moments_add(&m[s], rows, n, err);
        free(rows);
    }
    double fid = NAN;
    CHECK(ganc_fid_moments(&m[0], &m[1], &fid, err) == 0, "reference FID of class %d: %s", k, err);
    ganc_moments_free(&m[0]);
    ganc_moments_free(&m[1]);
    return fid;
}

/* ---- on the classifier ------------------------------------------------------------------- */

/* Agreement against predictions made here, counts against the data set's labels, per-class
 * FIDs against FIDs of copies; and the same with classes 0 and 1 swapped. */
static void test_agreement_and_swap(ganc_classifier *c, const ganc_dataset *ds)
{
    static int32_t gen_labels[N_GEN], swap_labels[N_GEN], ref_labels[N_REF], pred[N_GEN];
    ganc_eval_features gen, swapped, ref;
    ganc_eval_cond_result r, rs;
    char err[GANC_ERR_LEN];
    if (scored_set(c, ds, 0, N_GEN, -1, -1, &gen, gen_labels)) return;
    if (scored_set(c, ds, 0, N_GEN, 0, 1, &swapped, swap_labels)) return;
    if (scored_set(c, ds, N_TRAIN, N_REF, -1, -1, &ref, ref_labels)) return;
    if (!CHECK(ganc_eval_cond_compare(&gen, gen_labels, &ref, ref_labels, &r, err) == 0, "compare: %s", err)) return;
    if (!CHECK(ganc_eval_cond_compare(&swapped, swap_labels, &ref, ref_labels, &rs, err) == 0, "swapped: %s", err))
        return;
    predictions(c, ds, 0, N_GEN, pred);
    const uint8_t *y = ds->labels, *y_ref = ds->labels + N_TRAIN;
    /* hits[k]: images of true class k predicted k; as_other[k]: predicted as the class they are
     * reported as when 0 and 1 are swapped */
    int n_k[K] = {0}, n_ref_k[K] = {0}, hits[K] = {0}, as_other[K] = {0}, total = 0;
    for (int i = 0; i < N_GEN; i++) {
        n_k[y[i]]++;
        hits[y[i]] += pred[i] == y[i];
        as_other[y[i]] += pred[i] == (y[i] == 0 ? 1 : y[i] == 1 ? 0 : y[i]);
        total += pred[i] == y[i];
    }
    for (int i = 0; i < N_REF; i++) n_ref_k[y_ref[i]]++;
    CHECK(r.classes == K && r.n == N_GEN && r.n_ref == N_REF, "sizes %d %d %d", r.classes, r.n, r.n_ref);
    CHECK(r.agreement == (double)total / N_GEN, "agreement %.17g, by hand %d/%d", r.agreement, total, N_GEN);
    double fid_sum = 0.0;
    for (int k = 0; k < K; k++) {
        CHECK(r.n_class[k] == n_k[k] && r.n_ref_class[k] == n_ref_k[k], "class %d: %d and %d images, want %d and %d", k,
              r.n_class[k], r.n_ref_class[k], n_k[k], n_ref_k[k]);
        CHECK(r.agreement_class[k] == (double)hits[k] / n_k[k], "class %d agreement %.17g, by hand %d/%d", k,
              r.agreement_class[k], hits[k], n_k[k]);
        const double want = fid_of_copies(&gen, y, &ref, y_ref, k);
        fid_sum += want;
        CHECK(fabs(r.fid_class[k] - want) <= 1e-12 * fabs(want), "class %d FID %.12g, of copies %.12g", k,
              r.fid_class[k], want);
    }
    CHECK(r.classes_scored == K && r.classes_skipped == 0, "scored %d, skipped %d", r.classes_scored, r.classes_skipped);
    CHECK(fabs(r.intra_fid - fid_sum / K) <= 1e-12 * fid_sum, "intra-FID %.12g, mean of the copies' %.12g", r.intra_fid,
          fid_sum / K);
    /* swapped: classes 0 and 1 lose their hits and gain the images predicted as the other */
    const int lost = hits[0] + hits[1] - as_other[0] - as_other[1];
    CHECK(rs.agreement == (double)(total - lost) / N_GEN, "swapped agreement %.17g, want (%d - %d)/%d", rs.agreement,
          total, lost, N_GEN);
    CHECK(rs.agreement_class[0] == (double)as_other[1] / n_k[1] && rs.agreement_class[1] == (double)as_other[0] / n_k[0],
          "swapped classes' agreement %g %g, want %d/%d %d/%d", rs.agreement_class[0], rs.agreement_class[1], as_other[1],
          n_k[1], as_other[0], n_k[0]);
    CHECK(rs.n_class[0] == n_k[1] && rs.n_class[1] == n_k[0], "swapped counts %d %d", rs.n_class[0], rs.n_class[1]);
    for (int k = 2; k < K; k++)
        CHECK(rs.agreement_class[k] == r.agreement_class[k] && rs.fid_class[k] == r.fid_class[k],
              "class %d moved with the swap of 0 and 1: agreement %g -> %g, FID %g -> %g", k, r.agreement_class[k],
              rs.agreement_class[k], r.fid_class[k], rs.fid_class[k]);
    /* the setting means something: a trained classifier, images of the wrong class far away */
    CHECK(r.agreement > 0.9 && lost > 0.8 * (n_k[0] + n_k[1]), "agreement %g, swap lost %d of %d", r.agreement, lost,
          n_k[0] + n_k[1]);
    CHECK(rs.fid_class[0] > 10 * r.fid_class[0] && rs.fid_class[1] > 10 * r.fid_class[1] && rs.intra_fid > r.intra_fid,
          "swapped classes' FID %g %g, unswapped %g %g", rs.fid_class[0], rs.fid_class[1], r.fid_class[0], r.fid_class[1]);
    if (check_verbose)
        printf("agreement %.4f (swapped %.4f), intra-FID %.4f (swapped %.4f), class FIDs %.4f %.4f %.4f %.4f\n",
               r.agreement, rs.agreement, r.intra_fid, rs.intra_fid, r.fid_class[0], r.fid_class[1], r.fid_class[2],
               r.fid_class[3]);
    ganc_eval_cond_result_free(&r);
    ganc_eval_cond_result_free(&rs);
    ganc_eval_features_free(&gen);
    ganc_eval_features_free(&swapped);
    ganc_eval_features_free(&ref);
}

/* The reference scored against itself: every class's FID ~ 0. */
static void test_self(ganc_classifier *c, const ganc_dataset *ds)
{
    static int32_t labels[N_REF];
    ganc_eval_features ref, ref2;
    ganc_eval_cond_result r, apart;
    char err[GANC_ERR_LEN];
    if (scored_set(c, ds, N_TRAIN, N_REF, -1, -1, &ref, labels)) return;
    if (scored_set(c, ds, N_TRAIN, N_REF, -1, -1, &ref2, labels)) return;
    if (CHECK(ganc_eval_cond_compare(&ref2, labels, &ref, labels, &r, err) == 0, "compare: %s", err)) {
        /* about 100 images of 128 features: singular covariances, whose square roots carry
         * rounding of about sqrt(eps) relative to their scale; the classes' FIDs against other
         * images (training images) set that scale */
        static int32_t train_labels[N_GEN];
        ganc_eval_features train;
        if (!scored_set(c, ds, 0, N_GEN, -1, -1, &train, train_labels) &&
            CHECK(ganc_eval_cond_compare(&train, train_labels, &ref, labels, &apart, err) == 0, "apart: %s", err)) {
            for (int k = 0; k < K; k++)
                CHECK(fabs(r.fid_class[k]) <= 1e-6 * apart.fid_class[k], "class %d against itself: FID %g (%g apart)", k,
                      r.fid_class[k], apart.fid_class[k]);
            CHECK(fabs(r.intra_fid) <= 1e-6 * apart.intra_fid && r.classes_scored == K, "intra-FID against itself %g",
                  r.intra_fid);
            if (check_verbose)
                printf("against itself: intra-FID %.3g, classes %.3g %.3g %.3g %.3g; against training images %.4f\n",
                       r.intra_fid, r.fid_class[0], r.fid_class[1], r.fid_class[2], r.fid_class[3], apart.intra_fid);
            ganc_eval_cond_result_free(&apart);
            ganc_eval_features_free(&train);
        }
        ganc_eval_cond_result_free(&r);
    }
    ganc_eval_features_free(&ref);
    ganc_eval_features_free(&ref2);
}

/* ---- hand-made features ------------------------------------------------------------------ */

/* FID of two 2-D Gaussians in closed form: AB has eigenvalues l1, l2 >= 0, so
 * tr sqrt(AB) = sqrt(l1) + sqrt(l2) = sqrt(tr(AB) + 2 sqrt(det A det B)). */
static double fid_2d(const double ma[2], const double a[4], const double mb[2], const double b[4])
{
    const double tr_ab = a[0] * b[0] + a[1] * b[2] + a[2] * b[1] + a[3] * b[3];
    const double det_a = a[0] * a[3] - a[1] * a[2], det_b = b[0] * b[3] - b[1] * b[2];
    const double dm = (ma[0] - mb[0]) * (ma[0] - mb[0]) + (ma[1] - mb[1]) * (ma[1] - mb[1]);
    return dm + a[0] + a[3] + b[0] + b[3] - 2.0 * sqrt(tr_ab + 2.0 * sqrt(det_a * det_b));
}

/* Mean and covariance (n - 1) of the 2-D rows of x labelled k, by the two-pass formula. */
static void class_gaussian(const float *x, const int32_t *y, int n, int k, double mean[2], double cov[4])
{
    int m = 0;
    mean[0] = mean[1] = 0.0;
    for (int i = 0; i < n; i++)
        if (y[i] == k) mean[0] += x[2 * i], mean[1] += x[2 * i + 1], m++;
    mean[0] /= m, mean[1] /= m;
    memset(cov, 0, 4 * sizeof *cov);
    for (int i = 0; i < n; i++)
        if (y[i] == k)
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++) cov[2 * a + b] += (x[2 * i + a] - mean[a]) * (x[2 * i + b] - mean[b]);
    for (int j = 0; j < 4; j++) cov[j] /= m - 1;
}

enum { HK = 5, HN = 200, HN_REF = 240 };

/* Row i of a K-class 2-D set: a correlated Gaussian whose mean and spread depend on the
 * class (and on `shift`, so generated and reference classes differ). */
static void hand_row(ganc_rng *rng, int k, double shift, float *row)
{
    float z[2];
    ganc_rng_normal(rng, z, 2, 0.0f, 1.0f);
    row[0] = (float)(k + shift + (0.5 + 0.2 * k) * z[0]);
    row[1] = (float)(2.0 * k - shift + 0.3 * z[0] + (0.4 + 0.1 * shift) * z[1]);
}

/* Classes: 0 and 3 have plenty of both; 1 has one generated image, 2 one reference image
 * (both skipped); 4 has no generated image (no agreement either). Predictions: right
 * except every 7th image, which is put one class further. */
static void test_hand_made(void)
{
    static float gx[HN * 2], rx[HN_REF * 2];
    static int32_t gy[HN], ry[HN_REF], pred[HN];
    ganc_rng rng;
    ganc_rng_seed(&rng, 11);
    for (int i = 0; i < HN; i++) {
        gy[i] = i == 5 ? 1 : i % 2 ? 3 : 0;
        pred[i] = i % 7 ? gy[i] : (gy[i] + 1) % HK;
        hand_row(&rng, gy[i], 0.3, gx + 2 * i);
    }
    for (int i = 0; i < HN_REF; i++) {
        /* class 1: enough reference images (two), but one generated */
        ry[i] = i == 9 ? 2 : i == 11 || i == 14 ? 1 : i % 3 == 0 ? 4 : i % 3 == 1 ? 0 : 3;
        hand_row(&rng, ry[i], 0.0, rx + 2 * i);
    }
    ganc_eval_features gen = {.n = HN, .d = 2, .passes = 1, .classes = HK, .feat = gx, .pred = pred};
    ganc_eval_features ref = {.n = HN_REF, .d = 2, .passes = 1, .classes = HK, .feat = rx};
    ganc_eval_cond_result r;
    char err[GANC_ERR_LEN];
    if (!CHECK(ganc_eval_cond_compare(&gen, gy, &ref, ry, &r, err) == 0, "compare: %s", err)) return;
    int n_k[HK] = {0}, nr_k[HK] = {0}, hits[HK] = {0}, total = 0;
    for (int i = 0; i < HN; i++) n_k[gy[i]]++, hits[gy[i]] += pred[i] == gy[i], total += pred[i] == gy[i];
    for (int i = 0; i < HN_REF; i++) nr_k[ry[i]]++;
    CHECK(n_k[1] == 1 && nr_k[2] == 1 && n_k[4] == 0 && nr_k[1] >= 2 && n_k[2] == 0, "the set-up's classes");
    CHECK(r.agreement == (double)total / HN, "agreement %.17g, want %d/%d", r.agreement, total, HN);
    double sum = 0.0;
    for (int k = 0; k < HK; k++) {
        CHECK(r.n_class[k] == n_k[k] && r.n_ref_class[k] == nr_k[k], "class %d counts %d %d", k, r.n_class[k],
              r.n_ref_class[k]);
        const double agree = n_k[k] ? (double)hits[k] / n_k[k] : NAN;
        CHECK(n_k[k] ? r.agreement_class[k] == agree : isnan(r.agreement_class[k]), "class %d agreement %g, want %g",
              k, r.agreement_class[k], agree);
        if (k == 0 || k == 3) {
            double ma[2], ca[4], mb[2], cb[4];
            class_gaussian(gx, gy, HN, k, ma, ca);
            class_gaussian(rx, ry, HN_REF, k, mb, cb);
            const double want = fid_2d(ma, ca, mb, cb);
            sum += want;
            CHECK(fabs(r.fid_class[k] - want) <= 1e-9 * want, "class %d FID %.12g, closed form %.12g", k,
                  r.fid_class[k], want);
        } else {
            CHECK(isnan(r.fid_class[k]), "class %d (too few images) has FID %g", k, r.fid_class[k]);
        }
    }
    CHECK(r.classes_scored == 2 && r.classes_skipped == 3, "scored %d, skipped %d", r.classes_scored, r.classes_skipped);
    CHECK(fabs(r.intra_fid - sum / 2) <= 1e-9 * sum, "intra-FID %.12g, closed forms' mean %.12g", r.intra_fid, sum / 2);
    /* classes 0 and 1 swapped: every 7th class-0 image is predicted as 1, so the swap also
     * gains agreement, not only loses it */
    static int32_t gs[HN];
    int other01 = 0, other10 = 0;
    for (int i = 0; i < HN; i++) {
        gs[i] = gy[i] == 0 ? 1 : gy[i] == 1 ? 0 : gy[i];
        other01 += gy[i] == 0 && pred[i] == 1, other10 += gy[i] == 1 && pred[i] == 0;
    }
    ganc_eval_cond_result rs;
    if (CHECK(ganc_eval_cond_compare(&gen, gs, &ref, ry, &rs, err) == 0, "swapped: %s", err)) {
        const int lost = hits[0] + hits[1] - other01 - other10;
        CHECK(other01 > 0 && rs.agreement == (double)(total - lost) / HN && rs.agreement < r.agreement,
              "swapped agreement %.17g, want (%d - %d)/%d", rs.agreement, total, lost, HN);
        CHECK(rs.agreement_class[0] == (double)other10 / n_k[1] && rs.agreement_class[1] == (double)other01 / n_k[0],
              "swapped classes' agreement %g %g, want %d/%d %d/%d", rs.agreement_class[0], rs.agreement_class[1], other10,
              n_k[1], other01, n_k[0]);
        ganc_eval_cond_result_free(&rs);
    }
    ganc_eval_cond_result_free(&r);
    /* no class with enough images: nothing scored, intra-FID undefined, not an error */
    for (int i = 0; i < HN_REF; i++) ry[i] = i % 2 ? 1 : 2;
    if (CHECK(ganc_eval_cond_compare(&gen, gy, &ref, ry, &r, err) == 0, "compare: %s", err)) {
        CHECK(r.classes_scored == 0 && r.classes_skipped == HK && isnan(r.intra_fid), "none scored: %d, intra-FID %g",
              r.classes_scored, r.intra_fid);
        ganc_eval_cond_result_free(&r);
    }
}

/* ---- bad input --------------------------------------------------------------------------- */

static int array_label_out_of_range(void *ctx, int i, int k)
{
    (void)ctx, (void)k;
    return i == 2 ? K : 0;
}

static void test_errors(void)
{
    static float x[8 * 2];
    int32_t y[8] = {0, 1, 2, 3, 0, 1, 2, 3}, pred[8] = {0}, labels[8];
    ganc_eval_features gen = {.n = 8, .d = 2, .passes = 1, .classes = K, .feat = x, .pred = pred}, ref = gen;
    ganc_eval_cond_result r;
    char err[GANC_ERR_LEN];
    y[3] = K;
    CHECK(ganc_eval_cond_compare(&gen, y, &ref, labels, &r, err) == -1 && strstr(err, "generated image 3's class 4"),
          "generated label out of range: %s", err);
    ganc_eval_cond_result_free(&r); /* harmless after a failure */
    y[3] = -1;
    memset(labels, 0, sizeof labels);
    CHECK(ganc_eval_cond_compare(&ref, labels, &gen, y, &r, err) == -1 && strstr(err, "reference image 3's class -1"),
          "reference label out of range: %s", err);
    y[3] = 3;
    ref.d = 3;
    CHECK(ganc_eval_cond_compare(&gen, y, &ref, y, &r, err) == -1 && strstr(err, "differ"), "other d: %s", err);
    ref = gen;
    ref.passes = 3;
    CHECK(ganc_eval_cond_compare(&gen, y, &ref, y, &r, err) == -1 && strstr(err, "stacked"), "stacked: %s", err);
    ganc_array_source_ctx actx;
    ganc_image_source src;
    ganc_array_source(&src, &actx, x, 8, (ganc_shape){1, 2, 1});
    CHECK(ganc_eval_source_labels(&src, K, labels, err) == -1 && strstr(err, "no labels"), "unlabelled: %s", err);
    src.label = array_label_out_of_range;
    CHECK(ganc_eval_source_labels(&src, K, labels, err) == -1 && strstr(err, "image 2's class 4"), "label 4: %s", err);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "-v")) check_verbose = 1;
    ganc_set_threads(1);
    test_hand_made();
    test_errors();
    ganc_dataset ds;
    synth_quadrants(&ds, N_TRAIN + N_REF, SIDE, 8);
    ganc_classifier c;
    if (test_train_classifier(&ds, N_TRAIN, K, BATCH, &c) == 0) {
        test_agreement_and_swap(&c, &ds);
        test_self(&c, &ds);
        ganc_classifier_free(&c);
    }
    ganc_dataset_free(&ds);
    return check_finish("conditional_eval");
}
