/* Scoring a set of images against a reference set in the classifier's feature space (issue 6):
 * FID, KID, precision/recall, density/coverage, class-histogram KL, confidence, and for
 * Stacked MNIST the modes hit and the KL of their histogram from uniform.
 *
 * Images arrive through a source (a data set, a generator, an array), in chunks, so that
 * 26,000 generated 3-channel images never have to be held at once; only their features are.
 * The pieces are separate so that a trainer can compute the reference's features once and
 * score its generator every few steps:
 *   ganc_eval_features_compute(classifier, reference source, &ref);   once
 *   ganc_eval_features_compute(classifier, generator source, &gen);   each time
 *   ganc_eval_compare(&gen, &ref, seed, &result);
 *
 * Stacked images: a source of 3-channel images scored by a 1-channel classifier is Stacked
 * MNIST: each channel is classified on its own, an image's features are its three channels'
 * features side by side (3 x feature_dim), and its mode is (l0 * K + l1) * K + l2 of its
 * channels' predicted classes (K classes). */
#ifndef GANC_EVAL_EVALUATE_H
#define GANC_EVAL_EVALUATE_H

#include "eval/classifier.h"
#include "eval/metrics.h"
#include "gan/game.h"

/* ---- image sources ----------------------------------------------------------------------- */

typedef struct {
    int n;            /* images */
    ganc_shape shape; /* of one image */
    /* Writes images [from, from + m) into out, pixels in [0, 1]. */
    void (*fill)(void *ctx, int from, int m, float *out);
    /* The true class of image i's channel k (k = 0 for ordinary images), -1 when unknown;
     * NULL: no labels. */
    int (*label)(void *ctx, int i, int k);
    void *ctx;
} ganc_image_source;

/* Images order[0 .. n) of ds (order NULL: from, from + 1, ...), with their labels when ds has
 * them. ctx must live as long as the source is used. */
typedef struct {
    const ganc_dataset *ds;
    int from;
    const int32_t *order;
} ganc_dataset_source_ctx;
void ganc_dataset_source(ganc_image_source *src, ganc_dataset_source_ctx *ctx, const ganc_dataset *ds, int from,
                         const int32_t *order, int n);

/* n images held in memory (n x shape, pixels in [0, 1]); no labels. */
typedef struct {
    const float *x;
    size_t image;
} ganc_array_source_ctx;
void ganc_array_source(ganc_image_source *src, ganc_array_source_ctx *ctx, const float *x, int n, ganc_shape shape);

/* n samples of a game's generator (eval mode, EMA weights when the run keeps them) on noise
 * drawn once, up front, from a generator seeded with seed; G's output is mapped from [lo, hi]
 * to [0, 1]. With reject > 0 the samples are drawn up front instead, by discriminator
 * rejection (ganc_game_draw with this seed), as `ganc sample` draws
 * them. ctx owns the noise or samples: free it with ganc_generator_source_free.
 * A conditional game's source is labelled with each sample's class: drawn with the noise (as
 * `ganc sample` draws them), or with rejection the classes in turn, n/K samples each (the
 * k-th draw seeded with seed + k). */
typedef struct {
    ganc_game *game;
    float *z;
    float *x; /* the samples, when drawn up front */
    int32_t *labels; /* a conditional game's samples drawn up front: their classes */
    float lo, hi;
} ganc_generator_source_ctx;
int ganc_generator_source(ganc_image_source *src, ganc_generator_source_ctx *ctx, ganc_game *game, ganc_shape shape,
                          float lo, float hi, int n, uint64_t seed, double reject, char err[GANC_ERR_LEN]);
void ganc_generator_source_free(ganc_generator_source_ctx *ctx);

/* ---- features ---------------------------------------------------------------------------- */

typedef struct {
    int n, d;          /* images, features per image */
    int passes;        /* classifier passes per image: 1, or 3 for stacked images */
    int classes;
    float *feat;       /* n x d */
    int32_t *pred;     /* n x passes predicted classes */
    double confidence; /* mean largest class probability over all passes */
    double unsure;     /* share of passes whose largest class probability is below GANC_UNSURE_BELOW */
    double *pred_hist; /* classes: histogram of pred */
    double *true_hist; /* classes: histogram of the source's labels; NULL without labels */
    ganc_moments mom;  /* mean and covariance of feat */
} ganc_eval_features;

/* Runs the classifier over every image of src, in chunks of its built batch. The result does
 * not depend on that batch size: every image is classified on its own. Fails (one line) when
 * the source's images do not fit the classifier. */
int ganc_eval_features_compute(ganc_classifier *c, const ganc_image_source *src, ganc_eval_features *f,
                               char err[GANC_ERR_LEN]);
void ganc_eval_features_free(ganc_eval_features *f);

/* ---- scores ------------------------------------------------------------------------------ */

#define GANC_EVAL_PRDC_MAX 10000 /* precision/recall/density/coverage: at most this many of each set */

typedef struct {
    int n, n_ref;       /* scored and reference images */
    int n_prdc;         /* images of each set in precision/recall/density/coverage */
    double fid, kid, kid_std;
    double precision, recall, density, coverage;
    double class_kl;    /* KL(predicted classes of the scored set || the reference's class histogram) */
    double confidence, confidence_ref;
    double unsure, unsure_ref; /* share of images the classifier cannot name (ganc_unsure_share) */
    int stacked;        /* 1: the fields below are set */
    int modes, n_modes; /* modes hit, of n_modes (1000) */
    double mode_kl;     /* KL(mode histogram || uniform), over non-empty bins */
} ganc_eval_result;

/* Scores gen against ref. The reference's class histogram is its true labels' when it has
 * them, else its predictions'. Precision/recall/density/coverage use the first
 * n_prdc = min(gen n, ref n, GANC_EVAL_PRDC_MAX) images of each (equal sizes: the k-NN
 * radii depend on the number of points); KID's subsets are drawn from seed. */
int ganc_eval_compare(const ganc_eval_features *gen, const ganc_eval_features *ref, uint64_t seed,
                      ganc_eval_result *out, char err[GANC_ERR_LEN]);

/* Modes hit and KL(p || uniform) = sum over non-empty bins of p log(p n_modes) of the modes
 * (l0 * K + l1) * K + l2 of n triples of classes (VEEGAN's and PacGAN's protocol). */
void ganc_eval_modes(const int32_t *triples, int n, int classes, int *modes, double *kl);

#endif
