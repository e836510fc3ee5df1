/* Features of an image source, and the scores of one feature set against another. */
#include "eval/evaluate.h"
#include "ganc_internal.h"

#include <math.h>
#include <string.h>

/* Images pulled from a source at a time. Fixed, not the classifier's batch: a source such as a
 * generator computes its images in chunks too, and the chunks must not change with the
 * feature batch for the numbers not to. */
#define SOURCE_CHUNK 256

static int same_shape(ganc_shape a, ganc_shape b) { return a.c == b.c && a.h == b.h && a.w == b.w; }

void ganc_eval_features_free(ganc_eval_features *f)
{
    ganc_free(f->feat);
    ganc_free(f->pred);
    ganc_free(f->pred_hist);
    ganc_free(f->true_hist);
    ganc_moments_free(&f->mom);
    memset(f, 0, sizeof *f);
}

int ganc_eval_features_compute(ganc_classifier *c, const ganc_image_source *src, ganc_eval_features *f,
                               char err[GANC_ERR_LEN])
{
    memset(f, 0, sizeof *f);
    const ganc_shape s = src->shape, cs = c->shape;
    int passes;
    if (same_shape(s, cs)) passes = 1;
    else if (cs.c == 1 && s.c == 3 && s.h == cs.h && s.w == cs.w) passes = 3; /* Stacked MNIST */
    else
        return ganc_fail(err, "the images are %dx%dx%d but the classifier takes %dx%dx%d%s%s%s", s.c, s.h, s.w, cs.c,
                         cs.h, cs.w, c->data[0] ? " (trained on " : "", c->data, c->data[0] ? ")" : "");
    if (src->n < 1) return ganc_fail(err, "no images to score");
    const int k = c->classes, fd = c->feature_dim;
    f->n = src->n;
    f->passes = passes;
    f->classes = k;
    f->d = fd * passes;
    if (ganc_moments_init(&f->mom, f->d, err)) return -1;
    f->feat = ganc_alloc(sizeof(float) * (size_t)f->n * (size_t)f->d);
    f->pred = ganc_alloc(sizeof(int32_t) * (size_t)f->n * (size_t)passes);
    f->pred_hist = ganc_alloc(sizeof(double) * (size_t)k);
    if (src->label) f->true_hist = ganc_alloc(sizeof(double) * (size_t)k);
    float *x = ganc_alloc(sizeof(float) * SOURCE_CHUNK * ganc_shape_size(s));
    float *probs = ganc_alloc(sizeof(float) * SOURCE_CHUNK * (size_t)passes * (size_t)k);
    double conf = 0.0, unsure = 0.0;
    int rc = 0;
    for (int at = 0; at < f->n && rc == 0; at += SOURCE_CHUNK) {
        const int m = f->n - at < SOURCE_CHUNK ? f->n - at : SOURCE_CHUNK;
        src->fill(src->ctx, at, m, x);
        /* ReLU maps NaN to 0, so a broken image could pass as a blank one: refuse it here */
        const size_t count = (size_t)m * ganc_shape_size(s);
        for (size_t i = 0; i < count && rc == 0; i++)
            if (!isfinite(x[i])) rc = ganc_fail(err, "image %zu is not finite (pixel value %g)", at + i / ganc_shape_size(s), (double)x[i]);
        if (rc) break;
        /* (m, 3, h, w) is (3m, 1, h, w) in memory, and the features of those 3m one-channel
         * images, (3m, fd), are (m, 3 fd): each image's channels side by side */
        float *feat = f->feat + (size_t)at * (size_t)f->d;
        int32_t *pred = f->pred + (size_t)at * (size_t)passes;
        ganc_classifier_run(c, x, m * passes, feat, probs);
        ganc_argmax_labels(probs, (size_t)m * (size_t)passes, k, pred);
        unsure += ganc_unsure_share(probs, (size_t)m * (size_t)passes, k, GANC_UNSURE_BELOW) * m * passes;
        for (int i = 0; i < m * passes; i++) {
            conf += probs[(size_t)i * (size_t)k + (size_t)pred[i]];
            f->pred_hist[pred[i]] += 1.0;
        }
        if (src->label)
            for (int i = 0; i < m; i++)
                for (int p = 0; p < passes; p++) {
                    const int y = src->label(src->ctx, at + i, p);
                    if (y >= 0 && y < k) f->true_hist[y] += 1.0;
                }
        if (ganc_moments_add(&f->mom, feat, m, err))
            rc = ganc_fail(err, "the classifier's features of images %d..%d are not finite", at, at + m - 1);
    }
    ganc_free(x);
    ganc_free(probs);
    f->confidence = conf / ((double)f->n * passes);
    f->unsure = unsure / ((double)f->n * passes);
    if (rc) ganc_eval_features_free(f);
    return rc;
}

void ganc_eval_modes(const int32_t *triples, int n, int classes, int *modes, double *kl)
{
    const int n_modes = classes * classes * classes;
    double *hist = ganc_alloc(sizeof(double) * (size_t)n_modes);
    for (int i = 0; i < n; i++) {
        const int32_t *t = triples + 3 * (size_t)i;
        hist[(t[0] * classes + t[1]) * classes + t[2]] += 1.0;
    }
    int hit = 0;
    double sum = 0.0;
    for (int m = 0; m < n_modes; m++) {
        if (hist[m] == 0.0) continue;
        const double p = hist[m] / n;
        hit++;
        sum += p * log(p * n_modes); /* log(p / q) with q = 1 / n_modes */
    }
    ganc_free(hist);
    *modes = hit;
    *kl = sum;
}

int ganc_eval_compare(const ganc_eval_features *gen, const ganc_eval_features *ref, uint64_t seed,
                      ganc_eval_result *out, char err[GANC_ERR_LEN])
{
    memset(out, 0, sizeof *out);
    if (gen->d != ref->d || gen->classes != ref->classes || gen->passes != ref->passes)
        return ganc_fail(err, "the scored and the reference features differ (%d vs %d features, %d vs %d classes)",
                         gen->d, ref->d, gen->classes, ref->classes);
    if (gen->n < GANC_PRDC_K + 1 || ref->n < GANC_PRDC_K + 1)
        return ganc_fail(err, "too few images to score (%d and %d; at least %d each)", gen->n, ref->n, GANC_PRDC_K + 1);
    out->n = gen->n;
    out->n_ref = ref->n;
    if (ganc_fid_moments(&gen->mom, &ref->mom, &out->fid, err)) return -1;
    ganc_rng rng;
    ganc_rng_seed(&rng, seed);
    if (ganc_kid(gen->feat, gen->n, ref->feat, ref->n, gen->d, 0, 0, &rng, &out->kid, &out->kid_std, err)) return -1;
    int m = gen->n < ref->n ? gen->n : ref->n;
    if (m > GANC_EVAL_PRDC_MAX) m = GANC_EVAL_PRDC_MAX;
    out->n_prdc = m;
    ganc_prdc prdc;
    if (ganc_prdc_compute(ref->feat, m, gen->feat, m, gen->d, GANC_PRDC_K, &prdc, err)) return -1;
    out->precision = prdc.precision;
    out->recall = prdc.recall;
    out->density = prdc.density;
    out->coverage = prdc.coverage;
    out->class_kl = ganc_hist_kl(gen->pred_hist, ref->true_hist ? ref->true_hist : ref->pred_hist, gen->classes, -1.0);
    out->confidence = gen->confidence;
    out->confidence_ref = ref->confidence;
    out->unsure = gen->unsure;
    out->unsure_ref = ref->unsure;
    if (gen->passes == 3) {
        out->stacked = 1;
        out->n_modes = gen->classes * gen->classes * gen->classes;
        ganc_eval_modes(gen->pred, gen->n, gen->classes, &out->modes, &out->mode_kl);
    }
    return 0;
}
