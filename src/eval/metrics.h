/* Sample-quality metrics over feature matrices (issue 6): FID, KID, precision/recall,
 * density/coverage, and the class-histogram helpers. Pure computation: the features come from
 * whatever network the caller runs (docs/design.md §5: the project's own classifier), as float32
 * row-major n x d matrices. Every statistic is computed in double.
 *
 * Definitions, and the choices behind them, are spelled out in metrics.c. Functions that can
 * fail return 0 on success and -1 with a one-line message in err, as the rest of ganc does. */
#ifndef GANC_EVAL_METRICS_H
#define GANC_EVAL_METRICS_H

#include "ganc.h"

#include <stddef.h>
#include <stdint.h>

/* ---- mean and covariance, accumulated batch by batch ---------------------------------- */

/* Streaming first and second moments: add the features in batches of any size; the result
 * does not depend on the batch sizes beyond rounding (Chan et al.'s pairwise merge, which is
 * Welford's update for a batch of one). */
typedef struct {
    int d;
    int64_t n;    /* rows added so far */
    double *mean; /* d */
    double *m2;   /* d x d, sum of (x - mean)(x - mean)^T; only the upper triangle is kept */
} ganc_moments;

int ganc_moments_init(ganc_moments *m, int d, char err[GANC_ERR_LEN]);
void ganc_moments_free(ganc_moments *m);
/* Adds n rows of d floats. Non-finite values are refused (nothing is added). */
int ganc_moments_add(ganc_moments *m, const float *x, int n, char err[GANC_ERR_LEN]);
/* Adds rows[0 .. n) of x, a matrix of d-float rows (the indices are not checked against its
 * size, only for being >= 0): the moments of a subset, e.g. one class's features, without
 * the caller copying the rows out. The same as ganc_moments_add on the gathered rows, to the
 * bit; a negative index or a non-finite value is refused (nothing is added). */
int ganc_moments_add_rows(ganc_moments *m, const float *x, const int32_t *rows, int n, char err[GANC_ERR_LEN]);
/* a += b (same d): the moments of the union of both sets. */
int ganc_moments_merge(ganc_moments *a, const ganc_moments *b, char err[GANC_ERR_LEN]);
/* Sample covariance with the n - 1 denominator (numpy.cov's default), full d x d; n >= 2. */
int ganc_moments_cov(const ganc_moments *m, double *cov, char err[GANC_ERR_LEN]);

/* ---- symmetric eigensolver ------------------------------------------------------------- */

typedef enum {
    GANC_EIG_AUTO,   /* LAPACK's dsyevd when the build linked it, else Jacobi */
    GANC_EIG_JACOBI, /* the built-in cyclic Jacobi solver (O(d^3) per sweep; fine to d ~ 500) */
    GANC_EIG_LAPACK  /* dsyevd; fails when the build has no LAPACK */
} ganc_eig_method;

/* 1 when GANC_EIG_LAPACK is usable in this build. */
int ganc_eig_have_lapack(void);
/* Eigenvalues w (ascending) of the symmetric n x n matrix a (row-major; both triangles are
 * read and averaged). When v != NULL, row k of v (n x n) is the unit eigenvector of w[k]. */
int ganc_eig_sym(int n, const double *a, double *w, double *v, ganc_eig_method method,
                 char err[GANC_ERR_LEN]);

/* ---- Fréchet distance ------------------------------------------------------------------ */

/* FID between N(mu1, cov1) and N(mu2, cov2) in d dimensions:
 *   |mu1 - mu2|^2 + tr(cov1) + tr(cov2) - 2 tr sqrt(cov1 cov2),
 * tr sqrt(cov1 cov2) taken as tr sqrt(S cov2 S) with S = cov1^(1/2), both through symmetric
 * eigendecompositions. May come out slightly below 0 (rounding) for equal statistics: it is
 * not clamped. */
int ganc_fid(int d, const double *mu1, const double *cov1, const double *mu2, const double *cov2,
             ganc_eig_method method, double *fid, char err[GANC_ERR_LEN]);
/* The same from two accumulators (covariances with n - 1; GANC_EIG_AUTO). */
int ganc_fid_moments(const ganc_moments *a, const ganc_moments *b, double *fid, char err[GANC_ERR_LEN]);

/* ---- kernel inception distance --------------------------------------------------------- */

#define GANC_KID_SUBSETS 100
#define GANC_KID_SUBSET_SIZE 1000

/* KID (Binkowski et al. 2018): the unbiased MMD^2 estimate with the kernel
 * k(a, b) = (a.b / d + 1)^3, averaged over `subsets` pairs of random subsets of `subset_size`
 * rows (without replacement) of x and of y. subsets <= 0: GANC_KID_SUBSETS; subset_size <= 0:
 * min(GANC_KID_SUBSET_SIZE, nx, ny). *std receives the population standard deviation over the
 * subsets (numpy.std, as torch-fidelity reports it); std may be NULL.
 * The draws, so that they can be reproduced: for each subset, x's indices are the first
 * subset_size entries of a partial Fisher-Yates shuffle of 0 .. nx-1 restarted from the
 * identity (position i swapped with i + ganc_rng_u64(rng) % (nx - i)), then y's likewise. */
int ganc_kid(const float *x, int nx, const float *y, int ny, int d, int subsets, int subset_size,
             ganc_rng *rng, double *mean, double *std, char err[GANC_ERR_LEN]);
/* The unbiased MMD^2 of the whole sets, no subsets (nx, ny >= 2; they may differ). */
int ganc_kid_exact(const float *x, int nx, const float *y, int ny, int d, double *kid,
                   char err[GANC_ERR_LEN]);

/* ---- precision, recall, density, coverage ---------------------------------------------- */

#define GANC_PRDC_K 3

typedef struct {
    double precision; /* fraction of generated points inside some real point's k-NN ball */
    double recall;    /* fraction of real points inside some generated point's k-NN ball */
    double density;   /* (1 / (k M)) sum over generated y of #{real balls containing y} */
    double coverage;  /* fraction of real points whose ball contains some generated point */
} ganc_prdc;

/* Kynkäänniemi et al. 2019 (precision, recall) and Naeem et al. 2020 (density, coverage) with
 * exact Euclidean distances. k <= 0: GANC_PRDC_K. Needs n_real, n_fake > k. Memory O(n d) plus
 * O(n k) per thread (no n x n matrix); time O(n^2 d), split over the OpenMP threads. */
int ganc_prdc_compute(const float *real, int n_real, const float *fake, int n_fake, int d, int k,
                      ganc_prdc *out, char err[GANC_ERR_LEN]);
/* radius[i] = distance from row i of x to its k-th nearest other row (the ball above). */
int ganc_knn_radii(const float *x, int n, int d, int k, double *radius, char err[GANC_ERR_LEN]);

/* ---- class histograms ------------------------------------------------------------------ */

#define GANC_KL_EPS 1e-10

/* counts[c] = number of labels equal to c, for c < n_classes. Labels outside [0, n_classes)
 * are an error. */
int ganc_label_hist(const int32_t *labels, size_t n, int n_classes, double *counts,
                    char err[GANC_ERR_LEN]);
/* KL(p_gen || p_data) in nats between two histograms (counts or probabilities; each is
 * normalised here). Empty generated bins contribute 0 (0 log 0 = 0); the data histogram is
 * smoothed as q_c = (p_data_c + eps) / (1 + C eps), so an empty data bin costs
 * p_gen_c log(p_gen_c (1 + C eps) / eps) instead of infinity. eps < 0: GANC_KL_EPS.
 * Returns NaN when a histogram is empty or has a negative or non-finite entry. */
double ganc_hist_kl(const double *p_gen, const double *p_data, int n_classes, double eps);
/* Mean over rows of the largest class probability (n rows of n_classes). NaN when n < 1. */
double ganc_mean_confidence(const float *probs, size_t n, int n_classes);
/* Share of rows whose largest class probability is below `below` (GANC_UNSURE_BELOW: the
 * classifier cannot name one digit with even odds -- what a reader sees as an ambiguous cell,
 * a blotch or a shape between two classes). NaN when n < 1. */
#define GANC_UNSURE_BELOW 0.5
double ganc_unsure_share(const float *probs, size_t n, int n_classes, double below);
/* labels[i] = argmax of row i (the first of equal maxima). */
void ganc_argmax_labels(const float *probs, size_t n, int n_classes, int32_t *labels);

#endif
