/* Class agreement and intra-class FID of a conditional generator (see conditional.h). */
#include "eval/conditional.h"
#include "ganc_internal.h"

#include <math.h>
#include <string.h>

void ganc_eval_cond_result_free(ganc_eval_cond_result *r)
{
    ganc_free(r->agreement_class);
    ganc_free(r->n_class);
    ganc_free(r->n_ref_class);
    ganc_free(r->fid_class);
    memset(r, 0, sizeof *r);
}

int ganc_eval_source_labels(const ganc_image_source *src, int classes, int32_t *labels, char err[GANC_ERR_LEN])
{
    if (!src->label) return ganc_fail(err, "the images have no labels: a conditional score needs each image's class");
    for (int i = 0; i < src->n; i++) {
        const int y = src->label(src->ctx, i, 0);
        if (y < 0 || y >= classes) return ganc_fail(err, "image %d's class %d is outside [0, %d)", i, y, classes);
        labels[i] = y;
    }
    return 0;
}

/* Both sets scored by one classifier, one class per image. */
static int check_sets(const ganc_eval_features *gen, const ganc_eval_features *ref, char err[GANC_ERR_LEN])
{
    if (gen->d != ref->d || gen->classes != ref->classes)
        return ganc_fail(err, "the generated and the reference features differ (%d vs %d features, %d vs %d classes)",
                         gen->d, ref->d, gen->classes, ref->classes);
    if (gen->n < 1 || ref->n < 1) return ganc_fail(err, "no images to score (%d generated, %d reference)", gen->n, ref->n);
    if (gen->passes != 1 || ref->passes != 1)
        return ganc_fail(err, "conditional scores need one class per image, not stacked images");
    return 0;
}

static int check_labels(const int32_t *labels, int n, int classes, const char *what, char err[GANC_ERR_LEN])
{
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= classes)
            return ganc_fail(err, "%s image %d's class %d is outside [0, %d)", what, i, (int)labels[i], classes);
    return 0;
}

/* rows[start[k] .. start[k + 1]) = the indices of class k's images, in their order (a
 * counting sort), so that each class's moments can be added straight from the feature
 * matrix; count[k] = start[k + 1] - start[k]. */
static void group_by_class(const int32_t *labels, int n, int classes, int *count, int *start, int32_t *rows)
{
    memset(count, 0, sizeof(int) * (size_t)classes);
    for (int i = 0; i < n; i++) count[labels[i]]++;
    start[0] = 0;
    for (int k = 0; k < classes; k++) start[k + 1] = start[k] + count[k];
    int *next = ganc_alloc(sizeof(int) * (size_t)classes);
    memcpy(next, start, sizeof(int) * (size_t)classes);
    for (int i = 0; i < n; i++) rows[next[labels[i]]++] = i;
    ganc_free(next);
}

/* agreement and agreement_class from gen's predictions; needs out->n_class. */
static void class_agreement(const ganc_eval_features *gen, const int32_t *labels, ganc_eval_cond_result *out)
{
    const int k = gen->classes;
    int *hits = ganc_alloc(sizeof(int) * (size_t)k);
    int total = 0;
    for (int i = 0; i < gen->n; i++)
        if (gen->pred[i] == labels[i]) hits[labels[i]]++, total++;
    out->agreement = (double)total / gen->n;
    for (int c = 0; c < k; c++) out->agreement_class[c] = out->n_class[c] > 0 ? (double)hits[c] / out->n_class[c] : NAN;
    ganc_free(hits);
}

/* FID between the rows a_rows[0 .. na) of a's features and b_rows[0 .. nb) of b's. */
static int subset_fid(const ganc_eval_features *a, const int32_t *a_rows, int na, const ganc_eval_features *b,
                      const int32_t *b_rows, int nb, double *fid, char err[GANC_ERR_LEN])
{
    ganc_moments ma, mb;
    int rc = ganc_moments_init(&ma, a->d, err);
    if (rc == 0) rc = ganc_moments_init(&mb, b->d, err);
    if (rc == 0) rc = ganc_moments_add_rows(&ma, a->feat, a_rows, na, err);
    if (rc == 0) rc = ganc_moments_add_rows(&mb, b->feat, b_rows, nb, err);
    if (rc == 0) rc = ganc_fid_moments(&ma, &mb, fid, err);
    ganc_moments_free(&ma);
    ganc_moments_free(&mb);
    return rc;
}

/* fid_class, intra_fid and the class counts from the two sets grouped by class. */
static int intra_fid(const ganc_eval_features *gen, const int32_t *gen_rows, const int *gen_start,
                     const ganc_eval_features *ref, const int32_t *ref_rows, const int *ref_start,
                     ganc_eval_cond_result *out, char err[GANC_ERR_LEN])
{
    double sum = 0.0;
    for (int c = 0; c < out->classes; c++) {
        out->fid_class[c] = NAN;
        if (out->n_class[c] < GANC_EVAL_COND_MIN_IMAGES || out->n_ref_class[c] < GANC_EVAL_COND_MIN_IMAGES) continue;
        char why[GANC_ERR_LEN]; /* err cannot be both the message and what it quotes */
        if (subset_fid(gen, gen_rows + gen_start[c], out->n_class[c], ref, ref_rows + ref_start[c], out->n_ref_class[c],
                       &out->fid_class[c], why))
            return ganc_fail(err, "class %d: %s", c, why);
        sum += out->fid_class[c];
        out->classes_scored++;
    }
    out->classes_skipped = out->classes - out->classes_scored;
    out->intra_fid = out->classes_scored > 0 ? sum / out->classes_scored : NAN;
    return 0;
}

static void alloc_result(ganc_eval_cond_result *out, int classes)
{
    const size_t k = (size_t)classes;
    out->classes = classes;
    out->agreement_class = ganc_alloc(sizeof(double) * k);
    out->fid_class = ganc_alloc(sizeof(double) * k);
    out->n_class = ganc_alloc(sizeof(int) * k);
    out->n_ref_class = ganc_alloc(sizeof(int) * k);
}

int ganc_eval_cond_compare(const ganc_eval_features *gen, const int32_t *gen_labels, const ganc_eval_features *ref,
                           const int32_t *ref_labels, ganc_eval_cond_result *out, char err[GANC_ERR_LEN])
{
    memset(out, 0, sizeof *out);
    if (check_sets(gen, ref, err) || check_labels(gen_labels, gen->n, gen->classes, "generated", err) ||
        check_labels(ref_labels, ref->n, ref->classes, "reference", err))
        return -1;
    const int k = gen->classes;
    alloc_result(out, k);
    out->n = gen->n;
    out->n_ref = ref->n;
    int *gen_start = ganc_alloc(sizeof(int) * (size_t)(k + 1)), *ref_start = ganc_alloc(sizeof(int) * (size_t)(k + 1));
    int32_t *gen_rows = ganc_alloc(sizeof(int32_t) * (size_t)gen->n);
    int32_t *ref_rows = ganc_alloc(sizeof(int32_t) * (size_t)ref->n);
    group_by_class(gen_labels, gen->n, k, out->n_class, gen_start, gen_rows);
    group_by_class(ref_labels, ref->n, k, out->n_ref_class, ref_start, ref_rows);
    class_agreement(gen, gen_labels, out);
    const int rc = intra_fid(gen, gen_rows, gen_start, ref, ref_rows, ref_start, out, err);
    ganc_free(gen_start);
    ganc_free(ref_start);
    ganc_free(gen_rows);
    ganc_free(ref_rows);
    if (rc) ganc_eval_cond_result_free(out);
    return rc;
}
