/* Scores of a class-conditional generator (issue 19), in the eval classifier's features:
 * - class agreement: the share of generated images that the classifier puts in the class they
 *   were requested as, over all of them and per requested class;
 * - intra-class FID (Miyato and Koyama 2018's "intra FID"): for each class k, the FID between
 *   the features of the images requested as k and those of the reference images whose true
 *   label is k; their mean over the classes that have enough images in both sets.
 *
 * The generated images come as ONE ordinary source whose label callback gives each image's
 * requested class (channel 0), not as one source per class: a conditional generator takes a
 * class per sample in any batch, so a single source (noise and classes drawn once, as
 * ganc_generator_source draws its noise) serves every class, its features come from the same
 * ganc_eval_features_compute call that gives the unconditional scores, and the reference, a
 * data set source, is labelled through the same callback. The usual sequence:
 *   ganc_eval_features_compute(c, &ref_src, &ref, err);                    once
 *   ganc_eval_source_labels(&ref_src, c->classes, ref_labels, err);        once
 *   ganc_eval_features_compute(c, &gen_src, &gen, err);                    each time
 *   ganc_eval_source_labels(&gen_src, c->classes, gen_labels, err);
 *   ganc_eval_cond_compare(&gen, gen_labels, &ref, ref_labels, &r, err);
 *   ...
 *   ganc_eval_cond_result_free(&r);
 *
 * A number that is not defined (a class with no generated images has no agreement, a class
 * with too few images has no FID) is NaN, which a JSON writer prints as null (as `ganc eval
 * --json` does); the per-class arrays have `classes` entries, class k at index k. */
#ifndef GANC_EVAL_CONDITIONAL_H
#define GANC_EVAL_CONDITIONAL_H

#include "eval/evaluate.h"

/* Images of a class needed in each set for its FID: a covariance takes two rows. */
#define GANC_EVAL_COND_MIN_IMAGES 2

typedef struct {
    int classes;              /* K */
    int n, n_ref;             /* generated and reference images */
    double agreement;         /* share of all generated images predicted as their requested class */
    double *agreement_class;  /* K: the share among the images requested as k; NaN when none was */
    int *n_class;             /* K: generated images requested as class k */
    int *n_ref_class;         /* K: reference images whose true label is k */
    double intra_fid;         /* mean of fid_class over the scored classes; NaN when none was */
    double *fid_class;        /* K: FID of class k's generated against its reference features; NaN when skipped */
    int classes_scored;       /* classes with GANC_EVAL_COND_MIN_IMAGES or more in both sets */
    int classes_skipped;      /* the others: K - classes_scored, left out of intra_fid */
} ganc_eval_cond_result;

/* labels[i] = src's label of image i (channel 0) for i < src->n. Fails (one line) when the
 * source has no labels or an image's label is outside [0, classes). */
int ganc_eval_source_labels(const ganc_image_source *src, int classes, int32_t *labels, char err[GANC_ERR_LEN]);

/* Class agreement of gen (gen_labels[i]: the class image i was requested as) and the
 * intra-class FID of gen against ref (ref_labels[i]: image i's true class); each labels array
 * has its set's n entries, in [0, classes). Both feature sets must come from the same
 * classifier, one pass per image (not stacked images: their channels have a class each). The
 * reference's moments are taken class by class here, from ref->feat, on every call. Fills out,
 * to be freed with ganc_eval_cond_result_free; after a failure (one line in err) it holds
 * nothing, and freeing it is harmless. */
int ganc_eval_cond_compare(const ganc_eval_features *gen, const int32_t *gen_labels, const ganc_eval_features *ref,
                           const int32_t *ref_labels, ganc_eval_cond_result *out, char err[GANC_ERR_LEN]);
void ganc_eval_cond_result_free(ganc_eval_cond_result *r);

#endif
