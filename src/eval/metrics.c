/* Sample-quality metrics over feature matrices (see metrics.h).
 *
 * Definitions and the reasons for each choice:
 *
 * - Moments. Each batch is split into chunks of MOMENT_CHUNK rows; a chunk's mean and its
 *   centred cross-products are computed in double about the chunk's own mean, then merged
 *   into the running totals with Chan, Golub and LeVeque's pairwise formula
 *       M2 = M2_a + M2_b + delta delta^T n_a n_b / (n_a + n_b),  delta = mean_b - mean_a.
 *   Nothing is ever accumulated as a raw sum of x x^T, so features with a large common
 *   offset (ReLU features are all positive) lose no precision to cancellation, and a batch of
 *   one reduces to Welford's update: the totals do not depend on how the rows are batched.
 *   The covariance uses n - 1, like numpy.cov and pytorch-fid.
 *
 * - FID needs tr sqrt(C1 C2). C1 C2 is not symmetric, and a general matrix square root
 *   (scipy.linalg.sqrtm, Schur based) goes complex on near-singular covariances, which is
 *   the usual case when there are fewer samples than dimensions. Instead: C1 C2 is similar to
 *   the symmetric positive semi-definite S C2 S with S = C1^(1/2) (S C2 S = S^-1 (C1 C2) S
 *   when S is invertible, and by continuity otherwise), so tr sqrt(C1 C2) is the sum of the
 *   square roots of S C2 S's eigenvalues. Both steps are symmetric eigenproblems; eigenvalues
 *   that rounding pushes slightly below 0 are clipped to 0 before the square root.
 *
 * - The symmetric eigensolver is LAPACK's dsyevd when the build links OpenBLAS (Debian's
 *   libopenblas carries LAPACK), and otherwise a cyclic Jacobi solver written here. Jacobi is
 *   slow for large d (O(d^3) per sweep, about 10 sweeps) but simple, and accurate: each
 *   rotation zeroes its off-diagonal pair exactly and the remaining rounding is relative to
 *   the off-diagonal entries, which shrink quadratically.
 *
 * - KID: the unbiased MMD^2 estimator
 *       sum_{i!=j} k(x_i,x_j) / (m(m-1)) + sum_{i!=j} k(y_i,y_j) / (n(n-1)) - 2 sum_ij k(x_i,y_j) / (mn)
 *   with the cubic polynomial kernel (x.y/d + 1)^3 of Binkowski et al. and torch-fidelity.
 *   Dot products are taken in double: MMD^2 is a small difference of sums of O(1) kernel
 *   values, and float dot products would leave it with only a few correct digits.
 *
 * - Precision/recall/density/coverage: a point is inside a ball when its distance is STRICTLY
 *   below the radius, as in the prdc reference code (Naeem et al.). The difference from <= is
 *   a set of measure zero for continuous features, but it matters for the identity check: with
 *   < every real point's ball holds itself and k - 1 neighbours, so density is exactly 1 when
 *   the generated set equals the real one (with <= it would be (k + 1) / k). The radius of a
 *   point is its distance to the k-th nearest OTHER point of the same set (by index: an exact
 *   duplicate is a neighbour at distance 0).
 *   Distances are computed as sum_k (a_k - b_k)^2 in double, not as |a|^2 + |b|^2 - 2 a.b:
 *   the direct form has no cancellation (features with a large common offset would otherwise
 *   decide ball membership on rounding noise), gives exactly 0 for a point and itself, and is
 *   bitwise symmetric, so every pass sees the same value for the same pair. The work is cut
 *   into TB x TB tiles computed by a register-blocked micro-kernel from "panels" (NR rows
 *   stored column by column) and shared over OpenMP threads; each thread keeps its own k
 *   smallest distances per point (the real-real and fake-fake passes visit each unordered
 *   pair once and update both points), merged at the end. Memory is O(n d) for the packed
 *   sets plus O(n k + TB^2) per thread: no n x n matrix is ever formed (10,000 real and
 *   10,000 generated points of d = 128 take well under a second on two cores).
 *
 * Results do not depend on the number of threads: each row block's sum is kept apart and the
 * blocks are added in order, and the k-smallest lists, counts and flags do not depend on the
 * order in which tiles are visited. */
#include "eval/metrics.h"
#include "ganc_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- small helpers -------------------------------------------------------------------- */

static int finite_floats(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static int finite_doubles(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static double *dalloc(size_t n) { return ganc_alloc((n ? n : 1) * sizeof(double)); }

/* ---- moments -------------------------------------------------------------------------- */

#define MOMENT_CHUNK 256 /* rows centred at once: d x 256 doubles of scratch */
#define MAX_DIM 16384    /* d x d doubles must stay allocatable (2 GB at this bound) */

int ganc_moments_init(ganc_moments *m, int d, char err[GANC_ERR_LEN])
{
    if (!m) return ganc_fail(err, "moments: no accumulator");
    memset(m, 0, sizeof *m);
    if (d < 1 || d > MAX_DIM) return ganc_fail(err, "moments: dimension %d outside [1, %d]", d, MAX_DIM);
    m->d = d;
    m->mean = dalloc((size_t)d);
    m->m2 = dalloc((size_t)d * (size_t)d);
    return 0;
}

void ganc_moments_free(ganc_moments *m)
{
    if (!m) return;
    ganc_free(m->mean);
    ganc_free(m->m2);
    memset(m, 0, sizeof *m);
}

/* The rest of a merge once the other set's own M2 has been added to m->m2: the term for the
 * distance between the two means, then the mean and count. */
static void moments_merge_stats(ganc_moments *m, const double *mean_b, int64_t nb)
{
    const int d = m->d;
    const double na = (double)m->n, total = na + (double)nb;
    const double f = na * (double)nb / total;
    for (int i = 0; i < d; i++) {
        const double di = mean_b[i] - m->mean[i];
        double *row = m->m2 + (size_t)i * d;
        for (int j = i; j < d; j++) row[j] += di * (mean_b[j] - m->mean[j]) * f;
    }
    /* mean += delta nb / total: exact mean_b when the accumulator was empty (f = 0 above). */
    for (int i = 0; i < d; i++) m->mean[i] += (mean_b[i] - m->mean[i]) * ((double)nb / total);
    m->n += nb;
}

int ganc_moments_add(ganc_moments *m, const float *x, int n, char err[GANC_ERR_LEN])
{
    if (!m || !m->mean) return ganc_fail(err, "moments: accumulator not initialised");
    if (n < 0 || (n > 0 && !x)) return ganc_fail(err, "moments: bad batch (n = %d)", n);
    const int d = m->d;
    if (!finite_floats(x, (size_t)n * d)) return ganc_fail(err, "moments: non-finite feature in the batch");
    if (n == 0) return 0;
    double *ct = dalloc((size_t)d * MOMENT_CHUNK); /* centred chunk, transposed: ct[i][s] */
    double *cmean = dalloc((size_t)d);
    for (int s0 = 0; s0 < n; s0 += MOMENT_CHUNK) {
        const int nb = n - s0 < MOMENT_CHUNK ? n - s0 : MOMENT_CHUNK;
        const float *xb = x + (size_t)s0 * d;
        for (int i = 0; i < d; i++) cmean[i] = 0.0;
        for (int s = 0; s < nb; s++)
            for (int i = 0; i < d; i++) cmean[i] += xb[(size_t)s * d + i];
        for (int i = 0; i < d; i++) cmean[i] /= nb;
        for (int s = 0; s < nb; s++)
            for (int i = 0; i < d; i++) ct[(size_t)i * MOMENT_CHUNK + s] = xb[(size_t)s * d + i] - cmean[i];
        /* The chunk's own centred cross-products first (one thread per row of the upper
         * triangle, each entry summed in a fixed order), then the between-means term. */
        double *m2 = m->m2;
#pragma omp parallel for schedule(dynamic, 4) num_threads(ganc_threads()) if ((double)nb * d * d > 4e6)
        for (int i = 0; i < d; i++) {
            const double *ci = ct + (size_t)i * MOMENT_CHUNK;
            double *row = m2 + (size_t)i * d;
            for (int j = i; j < d; j++) {
                const double *cj = ct + (size_t)j * MOMENT_CHUNK;
                double s = 0.0;
                for (int t = 0; t < nb; t++) s += ci[t] * cj[t];
                row[j] += s;
            }
        }
        moments_merge_stats(m, cmean, nb);
    }
    ganc_free(ct);
    ganc_free(cmean);
    return 0;
}

int ganc_moments_add_rows(ganc_moments *m, const float *x, const int32_t *rows, int n, char err[GANC_ERR_LEN])
{
    if (!m || !m->mean) return ganc_fail(err, "moments: accumulator not initialised");
    if (n < 0 || (n > 0 && (!x || !rows))) return ganc_fail(err, "moments: bad subset (n = %d)", n);
    const size_t d = (size_t)m->d;
    /* every row checked before any is added: a refused subset leaves m as it was, as
     * ganc_moments_add does for a refused batch */
    for (int i = 0; i < n; i++) {
        if (rows[i] < 0) return ganc_fail(err, "moments: row index %d is negative", (int)rows[i]);
        if (!finite_floats(x + (size_t)rows[i] * d, d))
            return ganc_fail(err, "moments: non-finite feature in row %d", (int)rows[i]);
    }
    /* Gathered MOMENT_CHUNK rows at a time: ganc_moments_add cuts its input at the same
     * boundaries, so the result is bitwise that of adding the whole gathered matrix at once,
     * with scratch bounded by the chunk instead of the subset. */
    float *buf = ganc_alloc(sizeof(float) * d * MOMENT_CHUNK);
    int rc = 0;
    for (int s0 = 0; s0 < n && rc == 0; s0 += MOMENT_CHUNK) {
        const int nb = n - s0 < MOMENT_CHUNK ? n - s0 : MOMENT_CHUNK;
        for (int s = 0; s < nb; s++) memcpy(buf + (size_t)s * d, x + (size_t)rows[s0 + s] * d, sizeof(float) * d);
        rc = ganc_moments_add(m, buf, nb, err);
    }
    ganc_free(buf);
    return rc;
}

int ganc_moments_merge(ganc_moments *a, const ganc_moments *b, char err[GANC_ERR_LEN])
{
    if (!a || !b || !a->mean || !b->mean) return ganc_fail(err, "moments: accumulator not initialised");
    if (a->d != b->d) return ganc_fail(err, "moments: merging dimension %d into %d", b->d, a->d);
    if (b->n == 0) return 0;
    const size_t dd = (size_t)a->d * a->d;
    for (size_t i = 0; i < dd; i++) a->m2[i] += b->m2[i];
    moments_merge_stats(a, b->mean, b->n);
    return 0;
}

int ganc_moments_cov(const ganc_moments *m, double *cov, char err[GANC_ERR_LEN])
{
    if (!m || !m->mean || !cov) return ganc_fail(err, "moments: accumulator not initialised");
    if (m->n < 2) return ganc_fail(err, "moments: a covariance needs 2 rows, have %lld", (long long)m->n);
    const int d = m->d;
    const double s = 1.0 / (double)(m->n - 1);
    for (int i = 0; i < d; i++)
        for (int j = i; j < d; j++) cov[(size_t)i * d + j] = cov[(size_t)j * d + i] = m->m2[(size_t)i * d + j] * s;
    return 0;
}

/* ---- symmetric eigensolver ------------------------------------------------------------ */

#ifdef GANC_HAVE_OPENBLAS
/* LAPACK's Fortran entry point. No LAPACK header is needed for one routine. Declared weak so
 * that an OpenBLAS built without LAPACK still links (the pointer is then NULL and Jacobi is
 * used). The two trailing arguments are the hidden lengths of the character arguments that
 * gfortran-compiled code expects. */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
                    double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len,
                    size_t uplo_len) __attribute__((weak));

static int lapack_available(void) { return dsyevd_ != NULL; }

/* a (n x n, symmetric) is overwritten with the eigenvectors, one per row in row-major terms
 * (LAPACK's columns, column-major). */
static int lapack_eig(int n, double *a, double *w, int want_vectors, char err[GANC_ERR_LEN])
{
    /* One threading layer (see kernels/gemm.c): OpenBLAS stays single-threaded. */
    ganc_blas_single_thread();
    const char jobz = want_vectors ? 'V' : 'N', uplo = 'U';
    int lwork = -1, liwork = -1, info = 0, iwork_query = 0;
    double work_query = 0.0;
    dsyevd_(&jobz, &uplo, &n, a, &n, w, &work_query, &lwork, &iwork_query, &liwork, &info, 1, 1);
    if (info != 0) return ganc_fail(err, "eigensolver: dsyevd workspace query failed (info %d)", info);
    lwork = (int)work_query + 1;
    liwork = iwork_query > 1 ? iwork_query : 1;
    double *work = dalloc((size_t)lwork);
    int *iwork = ganc_alloc((size_t)liwork * sizeof(int));
    dsyevd_(&jobz, &uplo, &n, a, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    ganc_free(work);
    ganc_free(iwork);
    if (info != 0) return ganc_fail(err, "eigensolver: dsyevd failed (info %d)", info);
    return 0;
}
#else
static int lapack_available(void) { return 0; }
static int lapack_eig(int n, double *a, double *w, int want_vectors, char err[GANC_ERR_LEN])
{
    (void)n, (void)a, (void)w, (void)want_vectors;
    return ganc_fail(err, "eigensolver: this build has no LAPACK (built without OpenBLAS)");
}
#endif

int ganc_eig_have_lapack(void) { return lapack_available(); }

#define JACOBI_MAX_SWEEPS 100

/* Cyclic Jacobi on the symmetric a (n x n, destroyed). Each rotation in the (p, q) plane
 * with t = tan(angle) zeroes a[p][q]; the updates are written in the form
 * x' = x - s (y + tau x), tau = s / (1 + c), which keeps rounding small when the rotation is
 * close to the identity (the usual case once the matrix is nearly diagonal). v, when given,
 * accumulates the rotations: row k ends as the eigenvector of a[k][k]. */
static int jacobi_eig(int n, double *a, double *w, double *v, char err[GANC_ERR_LEN])
{
    if (v) {
        memset(v, 0, (size_t)n * n * sizeof *v);
        for (int i = 0; i < n; i++) v[(size_t)i * n + i] = 1.0;
    }
    double fro = 0.0;
    for (size_t i = 0; i < (size_t)n * n; i++) fro += a[i] * a[i];
    fro = sqrt(fro);
    /* An off-diagonal entry below this changes no eigenvalue by more than n times it, far
     * below the rounding of the diagonal itself; rotating it away would only cost time. */
    const double negligible = fro * DBL_EPSILON * 1e-3;
    int converged = fro == 0.0;
    for (int sweep = 0; sweep < JACOBI_MAX_SWEEPS && !converged; sweep++) {
        int rotated = 0;
        for (int p = 0; p < n - 1; p++) {
            for (int q = p + 1; q < n; q++) {
                const double apq = a[(size_t)p * n + q];
                if (!(fabs(apq) > negligible)) continue;
                rotated = 1;
                /* cot(2 angle) = theta; t is the smaller root of t^2 + 2 theta t - 1 = 0, which
                 * keeps the angle within 45 degrees (the choice that converges). */
                const double theta = (a[(size_t)q * n + q] - a[(size_t)p * n + p]) / (2.0 * apq);
                double t = fabs(theta) > 1e150 ? 0.5 / fabs(theta) : 1.0 / (fabs(theta) + sqrt(theta * theta + 1.0));
                if (theta < 0.0) t = -t;
                const double c = 1.0 / sqrt(t * t + 1.0), s = t * c, tau = s / (1.0 + c);
                a[(size_t)p * n + p] -= t * apq;
                a[(size_t)q * n + q] += t * apq;
                a[(size_t)p * n + q] = a[(size_t)q * n + p] = 0.0;
                for (int k = 0; k < n; k++) {
                    if (k == p || k == q) continue;
                    const double g = a[(size_t)k * n + p], h = a[(size_t)k * n + q];
                    const double gp = g - s * (h + g * tau), hq = h + s * (g - h * tau);
                    a[(size_t)k * n + p] = a[(size_t)p * n + k] = gp;
                    a[(size_t)k * n + q] = a[(size_t)q * n + k] = hq;
                }
                if (v) {
                    double *vp = v + (size_t)p * n, *vq = v + (size_t)q * n;
                    for (int k = 0; k < n; k++) {
                        const double g = vp[k], h = vq[k];
                        vp[k] = g - s * (h + g * tau);
                        vq[k] = h + s * (g - h * tau);
                    }
                }
            }
        }
        converged = !rotated;
    }
    if (!converged) return ganc_fail(err, "eigensolver: Jacobi did not converge in %d sweeps", JACOBI_MAX_SWEEPS);
    for (int i = 0; i < n; i++) w[i] = a[(size_t)i * n + i];
    /* Ascending order, as LAPACK gives it (insertion sort: n is small, rows move with it). */
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0 && w[j - 1] > w[j]; j--) {
            const double tw = w[j];
            w[j] = w[j - 1];
            w[j - 1] = tw;
            if (v) {
                double *r0 = v + (size_t)(j - 1) * n, *r1 = v + (size_t)j * n;
                for (int k = 0; k < n; k++) {
                    const double tv = r0[k];
                    r0[k] = r1[k];
                    r1[k] = tv;
                }
            }
        }
    }
    return 0;
}

int ganc_eig_sym(int n, const double *a, double *w, double *v, ganc_eig_method method, char err[GANC_ERR_LEN])
{
    if (n < 1 || n > MAX_DIM || !a || !w) return ganc_fail(err, "eigensolver: bad arguments (n = %d)", n);
    const size_t nn = (size_t)n * n;
    if (!finite_doubles(a, nn)) return ganc_fail(err, "eigensolver: non-finite matrix entry");
    if (method == GANC_EIG_AUTO) method = lapack_available() ? GANC_EIG_LAPACK : GANC_EIG_JACOBI;
    /* Averaging both triangles makes the input exactly symmetric whatever rounding produced
     * it (S C2 S is symmetric only up to rounding). */
    double *work = dalloc(nn);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) work[(size_t)i * n + j] = 0.5 * (a[(size_t)i * n + j] + a[(size_t)j * n + i]);
    int rc;
    if (method == GANC_EIG_LAPACK) {
        rc = lapack_eig(n, work, w, v != NULL, err);
        if (rc == 0 && v) memcpy(v, work, nn * sizeof *v);
    } else if (method == GANC_EIG_JACOBI) {
        rc = jacobi_eig(n, work, w, v, err);
    } else {
        rc = ganc_fail(err, "eigensolver: unknown method %d", (int)method);
    }
    ganc_free(work);
    return rc;
}

/* ---- FID ------------------------------------------------------------------------------ */

/* c = a b for n x n row-major matrices (i-k-j order: the inner loop runs along rows). */
static void matmul(int n, const double *a, const double *b, double *c)
{
    memset(c, 0, (size_t)n * n * sizeof *c);
#pragma omp parallel for schedule(static) num_threads(ganc_threads()) if (n >= 128)
    for (int i = 0; i < n; i++) {
        double *ci = c + (size_t)i * n;
        for (int k = 0; k < n; k++) {
            const double aik = a[(size_t)i * n + k];
            const double *bk = b + (size_t)k * n;
            for (int j = 0; j < n; j++) ci[j] += aik * bk[j];
        }
    }
}

int ganc_fid(int d, const double *mu1, const double *cov1, const double *mu2, const double *cov2,
             ganc_eig_method method, double *fid, char err[GANC_ERR_LEN])
{
    if (d < 1 || d > MAX_DIM || !mu1 || !cov1 || !mu2 || !cov2 || !fid)
        return ganc_fail(err, "FID: bad arguments (d = %d)", d);
    const size_t dd = (size_t)d * d;
    if (!finite_doubles(mu1, (size_t)d) || !finite_doubles(mu2, (size_t)d) || !finite_doubles(cov1, dd) ||
        !finite_doubles(cov2, dd))
        return ganc_fail(err, "FID: non-finite mean or covariance");
    double *w = dalloc((size_t)d), *v = dalloc(dd), *s = dalloc(dd), *t = dalloc(dd), *m = dalloc(dd);
    int rc = ganc_eig_sym(d, cov1, w, v, method, err);
    if (rc == 0) {
        /* S = V^T diag(sqrt(max(w, 0))) V, V's rows being the eigenvectors. */
        for (int k = 0; k < d; k++) {
            const double rw = w[k] > 0.0 ? sqrt(w[k]) : 0.0;
            const double *vk = v + (size_t)k * d;
            for (int i = 0; i < d; i++) {
                const double vi = vk[i] * rw;
                double *si = s + (size_t)i * d;
                for (int j = 0; j < d; j++) si[j] += vi * vk[j];
            }
        }
        matmul(d, s, cov2, t);
        matmul(d, t, s, m);
        rc = ganc_eig_sym(d, m, w, NULL, method, err);
    }
    if (rc == 0) {
        double tr_sqrt = 0.0, tr1 = 0.0, tr2 = 0.0, dmu = 0.0;
        for (int i = 0; i < d; i++) {
            tr_sqrt += w[i] > 0.0 ? sqrt(w[i]) : 0.0;
            tr1 += cov1[(size_t)i * d + i];
            tr2 += cov2[(size_t)i * d + i];
            dmu += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
        }
        *fid = dmu + tr1 + tr2 - 2.0 * tr_sqrt;
    }
    ganc_free(w);
    ganc_free(v);
    ganc_free(s);
    ganc_free(t);
    ganc_free(m);
    return rc;
}

int ganc_fid_moments(const ganc_moments *a, const ganc_moments *b, double *fid, char err[GANC_ERR_LEN])
{
    if (!a || !b || !a->mean || !b->mean) return ganc_fail(err, "FID: accumulator not initialised");
    if (a->d != b->d) return ganc_fail(err, "FID: feature dimensions differ (%d and %d)", a->d, b->d);
    const size_t dd = (size_t)a->d * a->d;
    double *c1 = dalloc(dd), *c2 = dalloc(dd);
    int rc = ganc_moments_cov(a, c1, err);
    if (rc == 0) rc = ganc_moments_cov(b, c2, err);
    if (rc == 0) rc = ganc_fid(a->d, a->mean, c1, b->mean, c2, GANC_EIG_AUTO, fid, err);
    ganc_free(c1);
    ganc_free(c2);
    return rc;
}

/* ---- pairwise tiles ------------------------------------------------------------------- */

/* Micro-kernel shape: MR rows against NR = NV * VL columns, MR * NV vector accumulators held
 * in registers. Both roles read the same packed copy of a set: NR rows stored column by column
 * ("panel": the NR values of feature 0, then of feature 1, ...), so the kernel loads whole
 * vectors of columns and broadcasts one value per row, for each feature.
 *
 * The vectors are GCC/Clang vector extensions, with the FMA intrinsic where the target has
 * one: plain C loops over a small accumulator array were vectorised along the wrong axis
 * (shuffles everywhere, accumulators kept on the stack: several times slower), and ISO C
 * mode (-std=c11) turns off the contraction of a * b + c into an FMA. */
#if defined(__AVX512F__)
#include <immintrin.h>
#define VL 8
typedef double vdouble __attribute__((vector_size(64)));
#define VFMA(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define VL 4
typedef double vdouble __attribute__((vector_size(32)));
#define VFMA(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#else
#define VL 2
typedef double vdouble __attribute__((vector_size(16)));
#define VFMA(a, b, c) ((a) * (b) + (c))
#endif
#define MR 4
#define NV 2
#define NR (NV * VL)
#define TB 128 /* tile side: a TB x TB block of results; a multiple of NR */

typedef struct {
    int n, d;
    int n_pad;      /* n rounded up to NR; padding rows are zero and their results ignored */
    double *panels; /* n_pad / NR panels of d x NR */
} packed_set;

static void packed_alloc(packed_set *p, int n_max, int d)
{
    p->n = 0;
    p->d = d;
    p->n_pad = 0;
    p->panels = dalloc((size_t)(n_max + NR - 1) / NR * NR * d);
}

/* Row r of the set is x[idx[r]] (idx NULL: x[r]), r < n. */
static void packed_fill(packed_set *p, const float *x, const int32_t *idx, int n)
{
    const int d = p->d;
    p->n = n;
    p->n_pad = (n + NR - 1) / NR * NR;
    for (int r = 0; r < p->n_pad; r++) {
        double *dst = p->panels + (size_t)(r / NR) * d * NR + r % NR;
        if (r < n) {
            const float *src = x + (size_t)(idx ? idx[r] : r) * d;
            for (int k = 0; k < d; k++) dst[(size_t)k * NR] = src[k];
        } else {
            for (int k = 0; k < d; k++) dst[(size_t)k * NR] = 0.0;
        }
    }
}

static void packed_free(packed_set *p) { ganc_free(p->panels); }

/* One value in every lane. Written as a loop, GCC builds it from shuffles; the set1
 * intrinsics give the single broadcast-from-memory instruction. */
static inline vdouble splat(double x)
{
#if VL == 8
    return _mm512_set1_pd(x);
#elif VL == 4
    return _mm256_set1_pd(x);
#else
    return (vdouble){x, x};
#endif
}

static inline vdouble vload(const double *p)
{
    vdouble v;
    memcpy(&v, p, sizeof v); /* panels are 64-byte aligned, but memcpy promises nothing */
    return v;
}

/* c[r][j] (row stride ldc) = |a_r - b_j|^2 (dist) or a_r . b_j, for the MR = 4 rows whose
 * features start at a (stride NR) and the NR rows of the panel b. The accumulators are named
 * variables, not an array: GCC kept an array on the stack (a store per update, 2x slower). */
#define MICRO_BODY(UPDATE)                                                                         \
    do {                                                                                           \
        const vdouble z = {0};                                                                     \
        vdouble c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;            \
        for (int k = 0; k < d; k++) {                                                              \
            const vdouble b0 = vload(b + (size_t)k * NR), b1 = vload(b + (size_t)k * NR + VL);     \
            const double *ak = a + (size_t)k * NR;                                                 \
            UPDATE(c00, c01, ak[0]);                                                               \
            UPDATE(c10, c11, ak[1]);                                                               \
            UPDATE(c20, c21, ak[2]);                                                               \
            UPDATE(c30, c31, ak[3]);                                                               \
        }                                                                                          \
        const vdouble out[MR][NV] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};            \
        for (int r = 0; r < MR; r++) memcpy(c + (size_t)r * ldc, out[r], sizeof out[r]);           \
    } while (0)

#define UPDATE_DIST(x0, x1, ar)                                                                    \
    do {                                                                                           \
        const vdouble s_ = splat(ar), t0_ = b0 - s_, t1_ = b1 - s_;                                \
        x0 = VFMA(t0_, t0_, x0);                                                                   \
        x1 = VFMA(t1_, t1_, x1);                                                                   \
    } while (0)

#define UPDATE_DOT(x0, x1, ar)                                                                     \
    do {                                                                                           \
        const vdouble s_ = splat(ar);                                                              \
        x0 = VFMA(b0, s_, x0);                                                                     \
        x1 = VFMA(b1, s_, x1);                                                                     \
    } while (0)

#if MR != 4 || NV != 2
#error "the micro-kernels are written out for MR = 4, NV = 2"
#endif

static void micro_dist(int d, const double *restrict a, const double *restrict b, double *restrict c, int ldc)
{
    MICRO_BODY(UPDATE_DIST);
}

static void micro_dot(int d, const double *restrict a, const double *restrict b, double *restrict c, int ldc)
{
    MICRO_BODY(UPDATE_DOT);
}

/* Block (bi, bj) of results between set A's rows and set B's rows: out[i][j] (stride TB) for
 * i < rows, j < cols, where rows/cols are what is left of the block (padding included). */
static void tile(int dist, const packed_set *A, int bi, const packed_set *B, int bj, double *out)
{
    const int d = A->d;
    const int i0 = bi * TB, j0 = bj * TB;
    const int ni = A->n_pad - i0 < TB ? A->n_pad - i0 : TB;
    const int nj = B->n_pad - j0 < TB ? B->n_pad - j0 : TB;
    /* Column panels outside (one panel, d x NR doubles, stays in L1 while every row group of
     * the block passes over it), row groups inside. */
    for (int jp = 0; jp < nj; jp += NR) {
        const double *bpanel = B->panels + (size_t)((j0 + jp) / NR) * d * NR;
        for (int ip = 0; ip < ni; ip += MR) {
            const int r = i0 + ip;
            const double *arows = A->panels + (size_t)(r / NR) * d * NR + r % NR;
            if (dist)
                micro_dist(d, arows, bpanel, out + (size_t)ip * TB + jp, TB);
            else
                micro_dot(d, arows, bpanel, out + (size_t)ip * TB + jp, TB);
        }
    }
}

static int block_count(int n) { return (n + TB - 1) / TB; }

/* ---- k nearest neighbours ------------------------------------------------------------- */

/* list[0..k) ascending; keeps the k smallest values seen. */
static inline void topk_insert(double *list, int k, double v)
{
    if (!(v < list[k - 1])) return;
    int p = k - 1;
    while (p > 0 && list[p - 1] > v) {
        list[p] = list[p - 1];
        p--;
    }
    list[p] = v;
}

/* r2[i] = squared distance from row i of X to its k-th nearest other row. Work item bi is row
 * block bi against the column blocks bj >= bi, so each unordered pair is computed once; items
 * shrink as bi grows, and the dynamic schedule hands out the big ones first. */
static void knn_radii_sq(const packed_set *X, int k, double *r2)
{
    const int n = X->n, nb = block_count(n), threads = ganc_threads();
    double *best = dalloc((size_t)threads * n * k);
    for (size_t i = 0; i < (size_t)threads * n * k; i++) best[i] = INFINITY;
    double *tbuf = dalloc((size_t)threads * TB * TB);
#pragma omp parallel num_threads(threads)
    {
        double *mine = best + (size_t)thread_id() * n * k;
        double *out = tbuf + (size_t)thread_id() * TB * TB;
#pragma omp for schedule(dynamic)
        for (int bi = 0; bi < nb; bi++) {
            const int i0 = bi * TB, ni = n - i0 < TB ? n - i0 : TB;
            for (int bj = bi; bj < nb; bj++) {
                tile(1, X, bi, X, bj, out);
                const int j0 = bj * TB, nj = n - j0 < TB ? n - j0 : TB;
                for (int i = 0; i < ni; i++) {
                    const double *row = out + (size_t)i * TB;
                    double *li = mine + (size_t)(i0 + i) * k;
                    if (bi == bj) {
                        /* A diagonal tile holds both (i, j) and (j, i): update row i only. */
                        for (int j = 0; j < nj; j++)
                            if (j != i) topk_insert(li, k, row[j]);
                    } else {
                        for (int j = 0; j < nj; j++) {
                            topk_insert(li, k, row[j]);
                            topk_insert(mine + (size_t)(j0 + j) * k, k, row[j]);
                        }
                    }
                }
            }
        }
    }
    for (int i = 0; i < n; i++) {
        double *l0 = best + (size_t)i * k;
        for (int th = 1; th < threads; th++)
            for (int q = 0; q < k; q++) topk_insert(l0, k, best[((size_t)th * n + i) * k + q]);
        r2[i] = l0[k - 1];
    }
    ganc_free(tbuf);
    ganc_free(best);
}

static int check_set(const char *what, const float *x, int n, int d, int n_min, char err[GANC_ERR_LEN])
{
    if (!x || n < n_min) return ganc_fail(err, "%s: need at least %d rows, have %d", what, n_min, n);
    if (d < 1 || d > MAX_DIM) return ganc_fail(err, "%s: dimension %d outside [1, %d]", what, d, MAX_DIM);
    if (!finite_floats(x, (size_t)n * d)) return ganc_fail(err, "%s: non-finite feature", what);
    return 0;
}

int ganc_knn_radii(const float *x, int n, int d, int k, double *radius, char err[GANC_ERR_LEN])
{
    if (k <= 0) k = GANC_PRDC_K;
    if (!radius) return ganc_fail(err, "k-NN radii: no output");
    if (check_set("k-NN radii", x, n, d, k + 1, err)) return -1;
    packed_set X;
    packed_alloc(&X, n, d);
    packed_fill(&X, x, NULL, n);
    knn_radii_sq(&X, k, radius);
    for (int i = 0; i < n; i++) radius[i] = sqrt(radius[i]);
    packed_free(&X);
    return 0;
}

/* ---- precision, recall, density, coverage --------------------------------------------- */

int ganc_prdc_compute(const float *real, int n_real, const float *fake, int n_fake, int d, int k,
                      ganc_prdc *out, char err[GANC_ERR_LEN])
{
    if (k <= 0) k = GANC_PRDC_K;
    if (!out) return ganc_fail(err, "precision/recall: no output");
    if (check_set("precision/recall (real)", real, n_real, d, k + 1, err) ||
        check_set("precision/recall (generated)", fake, n_fake, d, k + 1, err))
        return -1;
    packed_set R, F;
    packed_alloc(&R, n_real, d);
    packed_alloc(&F, n_fake, d);
    packed_fill(&R, real, NULL, n_real);
    packed_fill(&F, fake, NULL, n_fake);
    double *r2_real = dalloc((size_t)n_real), *r2_fake = dalloc((size_t)n_fake);
    knn_radii_sq(&R, k, r2_real);
    knn_radii_sq(&F, k, r2_fake);

    /* One pass over the real x generated distances. Each thread owns whole blocks of
     * generated rows (so their counts need no merging) and keeps its own flags for the real
     * points, OR-ed together afterwards. */
    const int threads = ganc_threads();
    int *inside = ganc_alloc((size_t)n_fake * sizeof(int)); /* real balls holding fake j */
    unsigned char *flags = ganc_alloc((size_t)threads * n_real * 2); /* covered, recalled */
    double *tbuf = dalloc((size_t)threads * TB * TB);
    const int nbf = block_count(n_fake), nbr = block_count(n_real);
#pragma omp parallel num_threads(threads)
    {
        unsigned char *covered = flags + (size_t)thread_id() * n_real * 2, *recalled = covered + n_real;
        double *o = tbuf + (size_t)thread_id() * TB * TB;
#pragma omp for schedule(dynamic)
        for (int bf = 0; bf < nbf; bf++) {
            const int j0 = bf * TB, nj = n_fake - j0 < TB ? n_fake - j0 : TB;
            for (int br = 0; br < nbr; br++) {
                tile(1, &F, bf, &R, br, o);
                const int i0 = br * TB, ni = n_real - i0 < TB ? n_real - i0 : TB;
                for (int j = 0; j < nj; j++) {
                    const double *row = o + (size_t)j * TB, rf = r2_fake[j0 + j];
                    const double *rr = r2_real + i0;
                    int cnt = 0;
                    for (int i = 0; i < ni; i++) {
                        const int in_real = row[i] < rr[i];
                        cnt += in_real;
                        covered[i0 + i] |= (unsigned char)in_real;
                        recalled[i0 + i] |= (unsigned char)(row[i] < rf);
                    }
                    inside[j0 + j] += cnt;
                }
            }
        }
    }
    int64_t total_inside = 0, precise = 0, covered = 0, recalled = 0;
    for (int j = 0; j < n_fake; j++) {
        total_inside += inside[j];
        precise += inside[j] > 0;
    }
    for (int i = 0; i < n_real; i++) {
        int c = 0, r = 0;
        for (int th = 0; th < threads; th++) {
            c |= flags[(size_t)th * n_real * 2 + i];
            r |= flags[(size_t)th * n_real * 2 + n_real + i];
        }
        covered += c;
        recalled += r;
    }
    out->precision = (double)precise / n_fake;
    out->recall = (double)recalled / n_real;
    out->density = (double)total_inside / ((double)k * n_fake);
    out->coverage = (double)covered / n_real;

    ganc_free(tbuf);
    ganc_free(flags);
    ganc_free(inside);
    ganc_free(r2_real);
    ganc_free(r2_fake);
    packed_free(&R);
    packed_free(&F);
    return 0;
}

/* ---- KID ------------------------------------------------------------------------------ */

/* Scratch for MMD^2 between two packed sets of at most (nx_max, ny_max) rows. */
typedef struct {
    int threads;
    double *sums; /* one per work item, added in item order: the result does not depend on threads */
    double *tbuf;
} kid_work;

static void kid_work_init(kid_work *w, int nx_max, int ny_max)
{
    w->threads = ganc_threads();
    w->sums = dalloc((size_t)2 * block_count(nx_max) + block_count(ny_max));
    w->tbuf = dalloc((size_t)w->threads * TB * TB);
}

static void kid_work_free(kid_work *w)
{
    ganc_free(w->sums);
    ganc_free(w->tbuf);
}

/* Work items: row block b of x against x's blocks >= b (items 0 .. bx-1), of y against y's
 * (bx .. bx+by-1), of x against all of y's (the last bx). */
static double mmd2_unbiased(const packed_set *X, const packed_set *Y, kid_work *w)
{
    const int nx = X->n, ny = Y->n, d = X->d, bx = block_count(nx), by = block_count(ny);
    const int items = 2 * bx + by;
    const double inv_d = 1.0 / d;
    double *sums = w->sums, *tbuf = w->tbuf;
#pragma omp parallel num_threads(w->threads)
    {
        double *o = tbuf + (size_t)thread_id() * TB * TB;
#pragma omp for schedule(dynamic)
        for (int it = 0; it < items; it++) {
            const int which = it < bx ? 0 : it < bx + by ? 1 : 2; /* x-x, y-y, x-y */
            const int bi = which == 0 ? it : which == 1 ? it - bx : it - bx - by;
            const packed_set *A = which == 1 ? Y : X, *B = which == 0 ? X : Y;
            const int nbj = block_count(B->n);
            const int i0 = bi * TB, ni = A->n - i0 < TB ? A->n - i0 : TB;
            double total = 0.0;
            for (int bj = which == 2 ? 0 : bi; bj < nbj; bj++) {
                tile(0, A, bi, B, bj, o);
                const int j0 = bj * TB, nj = B->n - j0 < TB ? B->n - j0 : TB;
                const int diagonal = which != 2 && bi == bj;
                double s = 0.0;
                for (int i = 0; i < ni; i++) {
                    const double *row = o + (size_t)i * TB;
                    for (int j = 0; j < nj; j++) {
                        if (diagonal && i == j) continue; /* no k(x_i, x_i) */
                        const double u = row[j] * inv_d + 1.0;
                        s += u * u * u;
                    }
                }
                /* An off-diagonal tile of a set with itself stands for its mirror image too. */
                total += which != 2 && !diagonal ? 2.0 * s : s;
            }
            sums[it] = total;
        }
    }
    double kxx = 0.0, kyy = 0.0, kxy = 0.0;
    for (int it = 0; it < items; it++) {
        if (it < bx) kxx += sums[it];
        else if (it < bx + by) kyy += sums[it];
        else kxy += sums[it];
    }
    return kxx / ((double)nx * (nx - 1)) + kyy / ((double)ny * (ny - 1)) - 2.0 * kxy / ((double)nx * ny);
}

int ganc_kid_exact(const float *x, int nx, const float *y, int ny, int d, double *kid, char err[GANC_ERR_LEN])
{
    if (!kid) return ganc_fail(err, "KID: no output");
    if (check_set("KID (x)", x, nx, d, 2, err) || check_set("KID (y)", y, ny, d, 2, err)) return -1;
    packed_set X, Y;
    packed_alloc(&X, nx, d);
    packed_alloc(&Y, ny, d);
    packed_fill(&X, x, NULL, nx);
    packed_fill(&Y, y, NULL, ny);
    kid_work w;
    kid_work_init(&w, nx, ny);
    *kid = mmd2_unbiased(&X, &Y, &w);
    kid_work_free(&w);
    packed_free(&X);
    packed_free(&Y);
    return 0;
}

/* The first m entries of idx become a uniformly drawn m-subset of 0 .. n-1 (the draw order is
 * part of ganc_kid's contract; see metrics.h). */
static void draw_subset(ganc_rng *rng, int32_t *idx, int n, int m)
{
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int i = 0; i < m; i++) {
        const int j = i + (int)(ganc_rng_u64(rng) % (uint64_t)(n - i));
        const int32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

int ganc_kid(const float *x, int nx, const float *y, int ny, int d, int subsets, int subset_size,
             ganc_rng *rng, double *mean, double *std, char err[GANC_ERR_LEN])
{
    if (!mean || !rng) return ganc_fail(err, "KID: no output or no random generator");
    if (check_set("KID (x)", x, nx, d, 2, err) || check_set("KID (y)", y, ny, d, 2, err)) return -1;
    if (subsets <= 0) subsets = GANC_KID_SUBSETS;
    if (subset_size <= 0) {
        subset_size = GANC_KID_SUBSET_SIZE;
        if (subset_size > nx) subset_size = nx;
        if (subset_size > ny) subset_size = ny;
    }
    if (subset_size < 2 || subset_size > nx || subset_size > ny)
        return ganc_fail(err, "KID: subset size %d outside [2, min(%d, %d)]", subset_size, nx, ny);
    int32_t *ix = ganc_alloc((size_t)nx * sizeof *ix), *iy = ganc_alloc((size_t)ny * sizeof *iy);
    double *vals = dalloc((size_t)subsets);
    packed_set X, Y;
    packed_alloc(&X, subset_size, d);
    packed_alloc(&Y, subset_size, d);
    kid_work w;
    kid_work_init(&w, subset_size, subset_size);
    for (int s = 0; s < subsets; s++) {
        draw_subset(rng, ix, nx, subset_size);
        draw_subset(rng, iy, ny, subset_size);
        packed_fill(&X, x, ix, subset_size);
        packed_fill(&Y, y, iy, subset_size);
        vals[s] = mmd2_unbiased(&X, &Y, &w);
    }
    double mu = 0.0, var = 0.0;
    for (int s = 0; s < subsets; s++) mu += vals[s];
    mu /= subsets;
    for (int s = 0; s < subsets; s++) var += (vals[s] - mu) * (vals[s] - mu);
    *mean = mu;
    if (std) *std = sqrt(var / subsets);
    kid_work_free(&w);
    packed_free(&X);
    packed_free(&Y);
    ganc_free(vals);
    ganc_free(ix);
    ganc_free(iy);
    return 0;
}

/* ---- class histograms ----------------------------------------------------------------- */

int ganc_label_hist(const int32_t *labels, size_t n, int n_classes, double *counts, char err[GANC_ERR_LEN])
{
    if (n_classes < 1 || !counts || (n > 0 && !labels))
        return ganc_fail(err, "label histogram: bad arguments (%d classes)", n_classes);
    for (int c = 0; c < n_classes; c++) counts[c] = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= n_classes)
            return ganc_fail(err, "label histogram: label %d at %zu outside [0, %d)", (int)labels[i], i, n_classes);
        counts[labels[i]] += 1.0;
    }
    return 0;
}

double ganc_hist_kl(const double *p_gen, const double *p_data, int n_classes, double eps)
{
    if (n_classes < 1 || !p_gen || !p_data) return NAN;
    if (eps < 0.0) eps = GANC_KL_EPS;
    double sg = 0.0, sd = 0.0;
    for (int c = 0; c < n_classes; c++) {
        if (!(p_gen[c] >= 0.0) || !(p_data[c] >= 0.0) || !isfinite(p_gen[c]) || !isfinite(p_data[c])) return NAN;
        sg += p_gen[c];
        sd += p_data[c];
    }
    if (!(sg > 0.0) || !(sd > 0.0)) return NAN;
    const double norm = 1.0 + n_classes * eps;
    double kl = 0.0;
    for (int c = 0; c < n_classes; c++) {
        const double p = p_gen[c] / sg;
        if (p == 0.0) continue; /* 0 log 0 = 0 */
        const double q = (p_data[c] / sd + eps) / norm;
        kl += p * log(p / q);
    }
    return kl;
}

/* The largest of a row's n_classes probabilities. */
static float row_max(const float *row, int n_classes)
{
    float m = row[0];
    for (int c = 1; c < n_classes; c++)
        if (row[c] > m) m = row[c];
    return m;
}

double ganc_mean_confidence(const float *probs, size_t n, int n_classes)
{
    if (n < 1 || n_classes < 1 || !probs) return NAN;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += row_max(probs + i * (size_t)n_classes, n_classes);
    return s / (double)n;
}

double ganc_unsure_share(const float *probs, size_t n, int n_classes, double below)
{
    if (n < 1 || n_classes < 1 || !probs) return NAN;
    size_t unsure = 0;
    for (size_t i = 0; i < n; i++) unsure += (double)row_max(probs + i * (size_t)n_classes, n_classes) < below;
    return (double)unsure / (double)n;
}

void ganc_argmax_labels(const float *probs, size_t n, int n_classes, int32_t *labels)
{
    for (size_t i = 0; i < n; i++) {
        const float *row = probs + i * (size_t)n_classes;
        int best = 0;
        for (int c = 1; c < n_classes; c++)
            if (row[c] > row[best]) best = c;
        labels[i] = best;
    }
}
