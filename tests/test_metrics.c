/* Sample-quality metrics (src/eval/metrics.c) against independent references:
 * - NumPy fixtures (tools/make_metric_fixtures.py, tests/fixtures/metrics/): means, covariance
 *   eigenvalues from both eigensolvers, FID, KID, k-NN radii, precision/recall/density/coverage,
 *   on Gaussian features, offset "ReLU" features and singular covariances (n < d).
 * - Closed forms: FID of exactly known Gaussians (commuting and non-commuting covariances),
 *   FID of a set with itself, FID of sampled Gaussians, PRDC of identical and of far-apart sets,
 *   KL and confidence on hand-computed histograms.
 * - Invariances: moments do not depend on batching or merging (nor on adding a subset by row
 *   index instead of a gathered copy), results do not depend on the number of threads, KID's
 *   subsets are the draws its header documents.
 * GANC_METRICS_BENCH=1 also times PRDC, KID and FID at n = 10,000, d = 128. */
#include "check.h"
#include "eval/metrics.h"
#include "fixture.h"
#include "ganc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIX_DIR "tests/fixtures/metrics/"

/* ---- helpers --------------------------------------------------------------------------- */

static void *xalloc(size_t bytes)
{
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p) {
        fprintf(stderr, "test_metrics: out of memory\n");
        exit(2);
    }
    return p;
}

static double *dbuf(size_t n) { return xalloc(n * sizeof(double)); }
static float *fbuf(size_t n) { return xalloc(n * sizeof(float)); }

/* max|got - want| / max(max|want|, floor) */
static double rel_err_d(const double *got, const double *want, size_t n, double floor)
{
    double worst = 0.0, scale = floor;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs(got[i] - want[i]);
        if (!(e <= worst)) worst = e; /* NaN stays */
        if (fabs(want[i]) > scale) scale = fabs(want[i]);
    }
    return worst / scale;
}

static double rel_err_df(const double *got, const float *want, size_t n, double floor)
{
    double *w = dbuf(n);
    for (size_t i = 0; i < n; i++) w[i] = want[i];
    const double e = rel_err_d(got, w, n, floor);
    free(w);
    return e;
}

static int verbose(void) { return check_verbose || getenv("GANC_TEST_VERBOSE"); }

static double rel1(double got, double want) { return fabs(got - want) / fmax(fabs(want), 1e-300); }

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    fx_file fx;
    const char *name;
    const float *real, *fake;
    int nr, nf, d, k;
} fixture_case;

static int load_case(const char *name, fixture_case *c)
{
    char path[256];
    snprintf(path, sizeof path, FIX_DIR "%s.gfx", name);
    memset(c, 0, sizeof *c);
    c->name = name;
    if (!CHECK(fx_load(path, &c->fx) == 0, "%s: cannot load", path)) return -1;
    const fx_entry *r = fx_get(&c->fx, "real"), *f = fx_get(&c->fx, "fake");
    if (!CHECK(r && f && r->ndim == 2 && f->ndim == 2 && r->dims[1] == f->dims[1], "%s: bad real/fake", path))
        return -1;
    c->real = r->data;
    c->fake = f->data;
    c->nr = r->dims[0];
    c->nf = f->dims[0];
    c->d = r->dims[1];
    c->k = (int)fx_floats(&c->fx, "k")[0];
    return 0;
}

static double fx_scalar(const fixture_case *c, const char *name)
{
    const float *v = fx_floats(&c->fx, name);
    if (!v) {
        CHECK(0, "%s: no entry %s", c->name, name);
        return NAN;
    }
    return v[0];
}

/* Mean and covariance (n - 1) by the plain two-pass formula, as an independent reference. */
static void two_pass_moments(const float *x, int n, int d, double *mean, double *cov)
{
    for (int j = 0; j < d; j++) {
        double s = 0.0;
        for (int i = 0; i < n; i++) s += x[(size_t)i * d + j];
        mean[j] = s / n;
    }
    for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++) {
            double s = 0.0;
            for (int i = 0; i < n; i++) s += (x[(size_t)i * d + a] - mean[a]) * (x[(size_t)i * d + b] - mean[b]);
            cov[(size_t)a * d + b] = s / (n - 1);
        }
}

static int moments_of(const float *x, int n, int d, int batch, ganc_moments *m)
{
    char err[GANC_ERR_LEN] = "";
    if (!CHECK(ganc_moments_init(m, d, err) == 0, "moments_init: %s", err)) return -1;
    for (int i = 0; i < n; i += batch) {
        const int b = n - i < batch ? n - i : batch;
        if (!CHECK(ganc_moments_add(m, x + (size_t)i * d, b, err) == 0, "moments_add: %s", err)) return -1;
    }
    return 0;
}

static const ganc_eig_method methods[2] = {GANC_EIG_JACOBI, GANC_EIG_LAPACK};
static const char *method_name[2] = {"jacobi", "lapack"};

/* ---- NumPy fixtures -------------------------------------------------------------------- */

/* Eigenvalues of both covariances from each solver against numpy.linalg.eigh (1e-6 of the
 * largest), and the decomposition itself: A = V^T diag(w) V and V V^T = I to 1e-12. */
static void check_eig(const fixture_case *c, const char *which, const float *x, int n)
{
    const int d = c->d;
    const size_t dd = (size_t)d * d;
    double *mean = dbuf((size_t)d), *cov = dbuf(dd), *w = dbuf((size_t)d), *v = dbuf(dd);
    two_pass_moments(x, n, d, mean, cov);
    char name[32], err[GANC_ERR_LEN] = "";
    snprintf(name, sizeof name, "eig_%s", which);
    const float *ref = fx_floats(&c->fx, name);
    for (int mi = 0; mi < 2; mi++) {
        if (methods[mi] == GANC_EIG_LAPACK && !ganc_eig_have_lapack()) {
            CHECK(ganc_eig_sym(d, cov, w, v, GANC_EIG_LAPACK, err) == -1 && err[0],
                  "eig without LAPACK must fail with a message");
            continue;
        }
        if (!CHECK(ganc_eig_sym(d, cov, w, v, methods[mi], err) == 0, "%s %s eig: %s", c->name, which, err)) continue;
        const double e = rel_err_df(w, ref, (size_t)d, 1e-300);
        CHECK(e <= 1e-6, "%s: %s eigenvalues (%s) vs numpy: rel err %.3g", c->name, which, method_name[mi], e);
        double scale = 0.0, rec = 0.0, orth = 0.0;
        for (size_t i = 0; i < dd; i++) scale = fmax(scale, fabs(cov[i]));
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double a = 0.0, o = 0.0;
                for (int k = 0; k < d; k++) {
                    a += v[(size_t)k * d + i] * w[k] * v[(size_t)k * d + j];
                    o += v[(size_t)i * d + k] * v[(size_t)j * d + k];
                }
                rec = fmax(rec, fabs(a - cov[(size_t)i * d + j]) / scale);
                orth = fmax(orth, fabs(o - (i == j)));
            }
        CHECK(rec <= 1e-12 && orth <= 1e-12, "%s: %s (%s) V^T W V - A %.3g, V V^T - I %.3g", c->name, which,
              method_name[mi], rec, orth);
        int ascending = 1;
        for (int i = 1; i < d; i++) ascending &= w[i - 1] <= w[i];
        CHECK(ascending, "%s: eigenvalues not ascending", method_name[mi]);
        if (verbose())
            printf("  %-10s %s eig (%s): vs numpy %.2g, reconstruction %.2g, orthogonality %.2g\n", c->name, which,
                   method_name[mi], e, rec, orth);
    }
    free(mean), free(cov), free(w), free(v);
}

static void test_fixture(const char *name)
{
    fixture_case c;
    if (load_case(name, &c) != 0) {
        fx_free(&c.fx);
        return;
    }
    const int d = c.d;
    const size_t dd = (size_t)d * d;
    char err[GANC_ERR_LEN] = "";

    /* moments: the mean against numpy, the covariance against the two-pass formula */
    ganc_moments mr, mf;
    if (moments_of(c.real, c.nr, d, 64, &mr) || moments_of(c.fake, c.nf, d, 64, &mf)) return;
    double *mean = dbuf((size_t)d), *cov = dbuf(dd), *cov_ref = dbuf(dd);
    CHECK(ganc_moments_cov(&mr, cov, err) == 0, "cov: %s", err);
    two_pass_moments(c.real, c.nr, d, mean, cov_ref);
    CHECK(rel_err_df(mr.mean, fx_floats(&c.fx, "mean_real"), (size_t)d, 1e-300) <= 1e-6, "%s: mean vs numpy",
          name);
    CHECK(rel_err_d(cov, cov_ref, dd, 1e-300) <= 1e-12, "%s: covariance vs two-pass: %.3g", name,
          rel_err_d(cov, cov_ref, dd, 1e-300));

    check_eig(&c, "real", c.real, c.nr);
    check_eig(&c, "fake", c.fake, c.nf);

    /* FID, through both solvers and through the accumulators */
    const double fid_ref = fx_scalar(&c, "fid");
    double fid = NAN, *cov_f = dbuf(dd);
    CHECK(ganc_moments_cov(&mf, cov_f, err) == 0, "cov: %s", err);
    for (int mi = 0; mi < 2; mi++) {
        if (methods[mi] == GANC_EIG_LAPACK && !ganc_eig_have_lapack()) continue;
        if (CHECK(ganc_fid(d, mr.mean, cov, mf.mean, cov_f, methods[mi], &fid, err) == 0, "fid: %s", err))
            CHECK(rel1(fid, fid_ref) <= 1e-4, "%s: FID (%s) %.9g vs numpy %.9g", name, method_name[mi], fid, fid_ref);
    }
    if (CHECK(ganc_fid_moments(&mr, &mf, &fid, err) == 0, "fid_moments: %s", err))
        CHECK(rel1(fid, fid_ref) <= 1e-4, "%s: FID (moments) %.9g vs numpy %.9g", name, fid, fid_ref);

    /* KID on the whole sets, and as one subset of the full (equal) size */
    double kid = NAN, kid_std = NAN;
    if (CHECK(ganc_kid_exact(c.real, c.nr, c.fake, c.nf, d, &kid, err) == 0, "kid_exact: %s", err))
        CHECK(rel1(kid, fx_scalar(&c, "kid")) <= 1e-5, "%s: KID %.9g vs numpy %.9g", name, kid, fx_scalar(&c, "kid"));
    const int m = c.nr < c.nf ? c.nr : c.nf;
    ganc_rng rng;
    ganc_rng_seed(&rng, 5);
    if (CHECK(ganc_kid(c.real, m, c.fake, m, d, 1, m, &rng, &kid, &kid_std, err) == 0, "kid: %s", err)) {
        CHECK(rel1(kid, fx_scalar(&c, "kid_eq")) <= 1e-5, "%s: KID (one full subset) %.9g vs numpy %.9g", name, kid,
              fx_scalar(&c, "kid_eq"));
        CHECK(kid_std == 0.0, "%s: KID std over one subset %g", name, kid_std);
    }

    /* k-NN radii and PRDC */
    double *rad = dbuf((size_t)(c.nr > c.nf ? c.nr : c.nf));
    if (CHECK(ganc_knn_radii(c.real, c.nr, d, c.k, rad, err) == 0, "radii: %s", err))
        CHECK(rel_err_df(rad, fx_floats(&c.fx, "radii_real"), (size_t)c.nr, 1e-300) <= 1e-6, "%s: real radii", name);
    if (CHECK(ganc_knn_radii(c.fake, c.nf, d, c.k, rad, err) == 0, "radii: %s", err))
        CHECK(rel_err_df(rad, fx_floats(&c.fx, "radii_fake"), (size_t)c.nf, 1e-300) <= 1e-6, "%s: fake radii", name);
    ganc_prdc p;
    if (CHECK(ganc_prdc_compute(c.real, c.nr, c.fake, c.nf, d, c.k, &p, err) == 0, "prdc: %s", err)) {
        const double got[4] = {p.precision, p.recall, p.density, p.coverage};
        const char *names[4] = {"precision", "recall", "density", "coverage"};
        for (int i = 0; i < 4; i++)
            CHECK(rel1(got[i], fx_scalar(&c, names[i])) <= 1e-5, "%s: %s %.9g vs numpy %.9g", name, names[i], got[i],
                  fx_scalar(&c, names[i]));
    }
    if (verbose())
        printf("  %-10s fid rel err %.2g, kid %.2g, P %.4f R %.4f D %.4f C %.4f\n", name, rel1(fid, fid_ref),
               rel1(kid, fx_scalar(&c, "kid_eq")), p.precision, p.recall, p.density, p.coverage);

    ganc_moments_free(&mr);
    ganc_moments_free(&mf);
    free(mean), free(cov), free(cov_ref), free(cov_f), free(rad);
    fx_free(&c.fx);
}

/* ---- moments --------------------------------------------------------------------------- */

/* Batches of 1, 7 and everything at once, and two halves merged, give the same moments. */
static void test_moments_batching(void)
{
    fixture_case c;
    if (load_case("prdc_b", &c) != 0) return; /* offset features: mean 5, spread ~1 */
    const int d = c.d, n = c.nr;
    const size_t dd = (size_t)d * d;
    const int batches[3] = {1, 7, n};
    ganc_moments ref, m;
    double *cref = dbuf(dd), *cm = dbuf(dd);
    char err[GANC_ERR_LEN] = "";
    if (moments_of(c.real, n, d, n, &ref) == 0 && ganc_moments_cov(&ref, cref, err) == 0) {
        for (int b = 0; b < 3; b++) {
            if (moments_of(c.real, n, d, batches[b], &m) != 0) continue;
            CHECK(m.n == n, "moments: n %lld", (long long)m.n);
            CHECK(ganc_moments_cov(&m, cm, err) == 0, "cov: %s", err);
            const double em = rel_err_d(m.mean, ref.mean, (size_t)d, 1e-300), ec = rel_err_d(cm, cref, dd, 1e-300);
            CHECK(em <= 1e-12 && ec <= 1e-12, "batches of %d: mean rel err %.3g, cov %.3g", batches[b], em, ec);
            ganc_moments_free(&m);
        }
        /* two accumulators (uneven split) merged */
        ganc_moments a, b;
        if (moments_of(c.real, 113, d, 50, &a) == 0 && moments_of(c.real + (size_t)113 * d, n - 113, d, 1000, &b) == 0) {
            CHECK(ganc_moments_merge(&a, &b, err) == 0, "merge: %s", err);
            CHECK(ganc_moments_cov(&a, cm, err) == 0, "cov: %s", err);
            CHECK(rel_err_d(a.mean, ref.mean, (size_t)d, 1e-300) <= 1e-12 && rel_err_d(cm, cref, dd, 1e-300) <= 1e-12,
                  "merged moments differ");
            ganc_moments_free(&a);
            ganc_moments_free(&b);
        }
        /* refusals */
        ganc_moments other;
        ganc_moments_init(&other, d + 1, err);
        CHECK(ganc_moments_merge(&ref, &other, err) == -1 && strstr(err, "dimension"), "merge of other d: %s", err);
        ganc_moments_free(&other);
        float bad[64];
        memcpy(bad, c.real, sizeof bad);
        bad[10] = NAN;
        const int64_t before = ref.n;
        CHECK(ganc_moments_add(&ref, bad, 1, err) == -1 && ref.n == before, "NaN feature accepted");
        ganc_moments one;
        ganc_moments_init(&one, d, err);
        ganc_moments_add(&one, c.real, 1, err);
        CHECK(ganc_moments_cov(&one, cm, err) == -1, "covariance of one row accepted");
        ganc_moments_free(&one);
        CHECK(ganc_moments_init(&one, 0, err) == -1, "d = 0 accepted");
    }
    ganc_moments_free(&ref);
    free(cref), free(cm);
    fx_free(&c.fx);
}

/* The moments of a subset of rows, given by index in a scrambled order that crosses the
 * accumulator's chunks: bitwise those of the rows gathered by hand and added at once, and
 * against the two-pass formula on that gathered copy; bad subsets are refused untouched. */
static void test_moments_subset(void)
{
    enum { N = 900, D = 5, M = 600 };
    float *x = fbuf((size_t)N * D), *g = fbuf((size_t)M * D);
    int32_t rows[M];
    ganc_rng rng;
    ganc_rng_seed(&rng, 21);
    ganc_rng_uniform(&rng, x, (size_t)N * D, 4.0f, 6.0f); /* an offset, as ReLU features have */
    for (int i = 0; i < M; i++) {
        rows[i] = (int32_t)((i * 37) % N); /* 37 is prime to 900: distinct rows, out of order */
        memcpy(g + (size_t)i * D, x + (size_t)rows[i] * D, sizeof(float) * D);
    }
    ganc_moments sub, all;
    double cs[D * D], ca[D * D], mean[D], cov[D * D];
    char err[GANC_ERR_LEN] = "";
    if (moments_of(g, M, D, M, &all) || !CHECK(ganc_moments_init(&sub, D, err) == 0, "init: %s", err)) return;
    CHECK(ganc_moments_add_rows(&sub, x, rows, M, err) == 0, "add_rows: %s", err);
    ganc_moments_cov(&sub, cs, err);
    ganc_moments_cov(&all, ca, err);
    CHECK(sub.n == M && !memcmp(sub.mean, all.mean, sizeof mean) && !memcmp(cs, ca, sizeof cs),
          "subset moments differ from the gathered rows' (n %lld)", (long long)sub.n);
    two_pass_moments(g, M, D, mean, cov);
    const double em = rel_err_d(sub.mean, mean, D, 1e-300), ec = rel_err_d(cs, cov, D * D, 1e-300);
    CHECK(em <= 1e-12 && ec <= 1e-12, "subset vs two-pass: mean rel err %.3g, cov %.3g", em, ec);
    /* refusals leave the accumulator as it was */
    const int32_t neg[2] = {3, -1}, nan_row[2] = {4, 5};
    x[5 * D + 2] = NAN;
    CHECK(ganc_moments_add_rows(&sub, x, neg, 2, err) == -1 && strstr(err, "negative") && sub.n == M,
          "negative row: %s (n %lld)", err, (long long)sub.n);
    CHECK(ganc_moments_add_rows(&sub, x, nan_row, 2, err) == -1 && strstr(err, "row 5") && sub.n == M,
          "NaN row: %s (n %lld)", err, (long long)sub.n);
    CHECK(ganc_moments_add_rows(&sub, x, NULL, 0, err) == 0 && sub.n == M, "empty subset: %s", err);
    ganc_moments_free(&sub);
    ganc_moments_free(&all);
    free(x), free(g);
}

/* ---- FID closed forms ------------------------------------------------------------------ */

/* A random orthogonal d x d matrix (Gram-Schmidt, twice, on Gaussian rows). */
static void random_orthogonal(int d, double *q, ganc_rng *rng)
{
    float *g = fbuf((size_t)d * d);
    ganc_rng_normal(rng, g, (size_t)d * d, 0.0f, 1.0f);
    for (size_t i = 0; i < (size_t)d * d; i++) q[i] = g[i];
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < d; i++) {
            double *qi = q + (size_t)i * d;
            for (int j = 0; j < i; j++) {
                const double *qj = q + (size_t)j * d;
                double dot = 0.0;
                for (int k = 0; k < d; k++) dot += qi[k] * qj[k];
                for (int k = 0; k < d; k++) qi[k] -= dot * qj[k];
            }
            double nrm = 0.0;
            for (int k = 0; k < d; k++) nrm += qi[k] * qi[k];
            nrm = sqrt(nrm);
            for (int k = 0; k < d; k++) qi[k] /= nrm;
        }
    free(g);
}

/* c = Q^T diag(s2) Q */
static void rotated_diag(int d, const double *q, const double *s2, double *c)
{
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double a = 0.0;
            for (int k = 0; k < d; k++) a += q[(size_t)k * d + i] * s2[k] * q[(size_t)k * d + j];
            c[(size_t)i * d + j] = a;
        }
}

static void test_fid_closed_forms(void)
{
    char err[GANC_ERR_LEN] = "";
    ganc_rng rng;
    ganc_rng_seed(&rng, 11);

    /* N(mu1, Q^T D1 Q) against N(mu2, Q^T D2 Q): the covariances commute, and
     * FID = |mu1 - mu2|^2 + sum (sigma1 - sigma2)^2. One variance is 0 (a singular pair): its
     * eigenvalue comes out at rounding level, ~1e-15, whose square root is ~3e-8, which is why
     * the bound is 1e-8 relative and not 1e-12 (measured: 2e-10 and 3e-10). */
    const int d = 64;
    const size_t dd = (size_t)d * d;
    double *q = dbuf(dd), *c1 = dbuf(dd), *c2 = dbuf(dd), *mu1 = dbuf(d), *mu2 = dbuf(d), *s1 = dbuf(d), *s2 = dbuf(d);
    random_orthogonal(d, q, &rng);
    double want = 0.0;
    for (int i = 0; i < d; i++) {
        const double a = 0.1 + 0.05 * i, b = (i == 5) ? 0.0 : 1.7 - 0.02 * i;
        s1[i] = a * a;
        s2[i] = b * b;
        mu1[i] = 0.01 * i;
        mu2[i] = 0.3 - 0.02 * i;
        want += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) + (a - b) * (a - b);
    }
    rotated_diag(d, q, s1, c1);
    rotated_diag(d, q, s2, c2);
    for (int mi = 0; mi < 2; mi++) {
        if (methods[mi] == GANC_EIG_LAPACK && !ganc_eig_have_lapack()) continue;
        double fid = NAN, self = NAN;
        if (CHECK(ganc_fid(d, mu1, c1, mu2, c2, methods[mi], &fid, err) == 0, "fid: %s", err))
            CHECK(rel1(fid, want) <= 1e-8, "Gaussians (%s): FID %.12g, closed form %.12g", method_name[mi], fid, want);
        /* FID(P, P) = 0: against the trace (the scale of every term) */
        double tr = 0.0;
        for (int i = 0; i < d; i++) tr += c2[(size_t)i * d + i];
        if (CHECK(ganc_fid(d, mu2, c2, mu2, c2, methods[mi], &self, err) == 0, "fid: %s", err))
            CHECK(fabs(self) <= 1e-6 * tr, "FID of a distribution with itself (%s): %.3g (trace %.3g)",
                  method_name[mi], self, tr);
        if (verbose())
            printf("  Gaussians d=64 (%s): FID rel err %.2g; FID(P, P) %.2g of the trace\n", method_name[mi],
                   rel1(fid, want), self / tr);
    }

    /* Non-commuting 2 x 2: tr sqrt(C1 C2) = sqrt(tr(C1 C2) + 2 sqrt(det C1 det C2)), since the
     * eigenvalues l1, l2 of C1 C2 give (sqrt l1 + sqrt l2)^2 = l1 + l2 + 2 sqrt(l1 l2). */
    {
        const double a[4] = {2.0, 0.7, 0.7, 0.5}, b[4] = {1.0, -0.4, -0.4, 3.0};
        const double m0[2] = {0.0, 0.0}, m1[2] = {1.0, -2.0};
        const double tr_ab = a[0] * b[0] + a[1] * b[2] + a[2] * b[1] + a[3] * b[3];
        const double det = (a[0] * a[3] - a[1] * a[2]) * (b[0] * b[3] - b[1] * b[2]);
        const double want2 = 5.0 + (a[0] + a[3]) + (b[0] + b[3]) - 2.0 * sqrt(tr_ab + 2.0 * sqrt(det));
        for (int mi = 0; mi < 2; mi++) {
            if (methods[mi] == GANC_EIG_LAPACK && !ganc_eig_have_lapack()) continue;
            double fid = NAN;
            if (CHECK(ganc_fid(2, m0, a, m1, b, methods[mi], &fid, err) == 0, "fid: %s", err))
                CHECK(rel1(fid, want2) <= 1e-12, "2x2 (%s): FID %.15g, closed form %.15g", method_name[mi], fid, want2);
        }
    }

    /* Sampled: 20,000 features from each of two diagonal Gaussians in 8 dimensions, closed
     * form 6.8. Over 30 seeds the estimate's standard deviation was 0.039 (mean bias +0.012):
     * 0.2 is 5 of those, while any mistake in a term (a variance for a standard deviation, a
     * missing factor 2) moves FID by more than 1. */
    {
        const int ds = 8, n = 20000;
        float *x = fbuf((size_t)n * ds), *y = fbuf((size_t)n * ds);
        ganc_rng_normal(&rng, x, (size_t)n * ds, 0.0f, 1.0f);
        ganc_rng_normal(&rng, y, (size_t)n * ds, 0.0f, 1.0f);
        double want3 = 0.0;
        for (int j = 0; j < ds; j++) {
            const double ma = 0.1 * j, sa = 0.5 + 0.1 * j, mb = -0.2 * j + 0.5, sb = 1.0;
            for (int i = 0; i < n; i++) {
                x[(size_t)i * ds + j] = (float)(ma + sa * x[(size_t)i * ds + j]);
                y[(size_t)i * ds + j] = (float)(mb + sb * y[(size_t)i * ds + j]);
            }
            want3 += (ma - mb) * (ma - mb) + (sa - sb) * (sa - sb);
        }
        ganc_moments a, b;
        double fid = NAN;
        if (moments_of(x, n, ds, 1000, &a) == 0 && moments_of(y, n, ds, 777, &b) == 0 &&
            CHECK(ganc_fid_moments(&a, &b, &fid, err) == 0, "fid: %s", err))
            CHECK(fabs(fid - want3) <= 0.2, "sampled Gaussians: FID %.5g, closed form %.5g", fid, want3);
        if (verbose()) printf("  sampled Gaussians: FID %.5g, closed form %.5g\n", fid, want3);
        ganc_moments_free(&a);
        ganc_moments_free(&b);
        free(x), free(y);
    }

    /* FID of feature sets with themselves (full rank, and singular n < d) */
    const char *cases[2] = {"prdc_b", "singular"};
    for (int ci = 0; ci < 2; ci++) {
        fixture_case c;
        if (load_case(cases[ci], &c) != 0) continue;
        ganc_moments m;
        double fid = NAN;
        if (moments_of(c.real, c.nr, c.d, 100, &m) == 0 && CHECK(ganc_fid_moments(&m, &m, &fid, err) == 0, "%s", err)) {
            double *cv = dbuf((size_t)c.d * c.d), tr = 0.0;
            ganc_moments_cov(&m, cv, err);
            for (int i = 0; i < c.d; i++) tr += cv[(size_t)i * c.d + i];
            CHECK(fabs(fid) <= 1e-6 * tr, "%s: FID with itself %.3g (trace %.3g)", cases[ci], fid, tr);
            if (verbose()) printf("  %-10s FID with itself: %.2g of the trace\n", cases[ci], fid / tr);
            free(cv);
        }
        ganc_moments_free(&m);
        fx_free(&c.fx);
    }

    /* refusals */
    c1[3] = NAN;
    double fid = 0.0;
    CHECK(ganc_fid(d, mu1, c1, mu2, c2, GANC_EIG_AUTO, &fid, err) == -1 && strstr(err, "non-finite"),
          "NaN covariance accepted: %s", err);
    free(q), free(c1), free(c2), free(mu1), free(mu2), free(s1), free(s2);
}

/* ---- PRDC closed forms ----------------------------------------------------------------- */

static void test_prdc_closed_forms(void)
{
    fixture_case c;
    if (load_case("prdc_a", &c) != 0) return;
    const int n = c.nr, d = c.d;
    char err[GANC_ERR_LEN] = "";
    ganc_prdc p;
    /* Identical sets: every point lies in its own ball (distance 0 < radius). The balls are
     * open, so each holds the point itself and k - 1 neighbours: density is exactly 1. */
    if (CHECK(ganc_prdc_compute(c.real, n, c.real, n, d, 3, &p, err) == 0, "prdc: %s", err))
        CHECK(p.precision == 1.0 && p.recall == 1.0 && p.coverage == 1.0 && fabs(p.density - 1.0) < 1e-12,
              "identical sets: P %g R %g D %.17g C %g", p.precision, p.recall, p.density, p.coverage);
    /* Far apart: no ball of either set reaches the other. */
    float *far = fbuf((size_t)n * d);
    for (size_t i = 0; i < (size_t)n * d; i++) far[i] = c.real[i] + 1000.0f;
    if (CHECK(ganc_prdc_compute(c.real, n, far, n, d, 0, &p, err) == 0, "prdc: %s", err))
        CHECK(p.precision == 0.0 && p.recall == 0.0 && p.coverage == 0.0 && p.density == 0.0,
              "disjoint sets: P %g R %g D %g C %g", p.precision, p.recall, p.density, p.coverage);
    /* One generated point at a real point: precision 1, density = (#real balls holding it)/(kM). */
    ganc_prdc one;
    CHECK(ganc_prdc_compute(c.real, n, c.real, 4, d, 3, &one, err) == 0, "prdc: %s", err);
    CHECK(one.precision == 1.0, "generated points on real points: precision %g", one.precision);
    /* refusals */
    CHECK(ganc_prdc_compute(c.real, n, c.fake, 3, d, 3, &p, err) == -1 && strstr(err, "at least 4"),
          "n = k accepted: %s", err);
    far[17] = INFINITY;
    CHECK(ganc_prdc_compute(c.real, n, far, n, d, 3, &p, err) == -1 && strstr(err, "non-finite"),
          "infinite feature accepted: %s", err);
    free(far);
    fx_free(&c.fx);
}

/* ---- KID ------------------------------------------------------------------------------- */

/* ganc_kid's subsets are the documented draws: re-draw them here, gather each subset and take
 * its MMD^2 with ganc_kid_exact; the mean and population std must match. */
static void test_kid_subsets(void)
{
    fixture_case c;
    if (load_case("prdc_a", &c) != 0) return;
    const int S = 10, m = 100, d = c.d;
    char err[GANC_ERR_LEN] = "";
    ganc_rng r1, r2;
    ganc_rng_seed(&r1, 99);
    ganc_rng_seed(&r2, 99);
    double mean = NAN, std = NAN;
    CHECK(ganc_kid(c.real, c.nr, c.fake, c.nf, d, S, m, &r1, &mean, &std, err) == 0, "kid: %s", err);
    int32_t *ix = xalloc((size_t)c.nr * sizeof *ix), *iy = xalloc((size_t)c.nf * sizeof *iy);
    float *xs = fbuf((size_t)m * d), *ys = fbuf((size_t)m * d);
    double vals[10], mu = 0.0, var = 0.0;
    for (int s = 0; s < S; s++) {
        int32_t *idx[2] = {ix, iy};
        const int ns[2] = {c.nr, c.nf};
        for (int w = 0; w < 2; w++) {
            for (int i = 0; i < ns[w]; i++) idx[w][i] = i;
            for (int i = 0; i < m; i++) {
                const int j = i + (int)(ganc_rng_u64(&r2) % (uint64_t)(ns[w] - i));
                const int32_t t = idx[w][i];
                idx[w][i] = idx[w][j];
                idx[w][j] = t;
            }
        }
        for (int i = 0; i < m; i++) {
            memcpy(xs + (size_t)i * d, c.real + (size_t)ix[i] * d, (size_t)d * sizeof(float));
            memcpy(ys + (size_t)i * d, c.fake + (size_t)iy[i] * d, (size_t)d * sizeof(float));
        }
        ganc_kid_exact(xs, m, ys, m, d, &vals[s], err);
        mu += vals[s] / S;
    }
    for (int s = 0; s < S; s++) var += (vals[s] - mu) * (vals[s] - mu) / S;
    CHECK(rel1(mean, mu) <= 1e-12 && rel1(std, sqrt(var)) <= 1e-12, "KID subsets: mean %.12g std %.12g, redrawn %.12g %.12g",
          mean, std, mu, sqrt(var));
    CHECK(r1.counter == r2.counter, "KID drew %llu blocks, the documented draws %llu",
          (unsigned long long)r1.counter, (unsigned long long)r2.counter);
    /* Defaults (100 subsets of min(1000, n)): the subsets estimate the full-set value; with
     * 480 of 480 generated rows per subset the spread is small. */
    double full = NAN;
    ganc_kid_exact(c.real, c.nr, c.fake, c.nf, d, &full, err);
    CHECK(ganc_kid(c.real, c.nr, c.fake, c.nf, d, 0, 0, &r1, &mean, &std, err) == 0, "kid: %s", err);
    CHECK(std > 0.0 && fabs(mean - full) <= 5.0 * std / sqrt(100.0) + 1e-3 * full,
          "KID defaults: %.6g +- %.3g, full sets %.6g", mean, std, full);
    /* refusals */
    CHECK(ganc_kid(c.real, c.nr, c.fake, c.nf, d, 1, c.nf + 1, &r1, &mean, &std, err) == -1,
          "subset larger than the set accepted");
    CHECK(ganc_kid_exact(c.real, 1, c.fake, c.nf, d, &mean, err) == -1, "one-row set accepted");
    free(ix), free(iy), free(xs), free(ys);
    fx_free(&c.fx);
}

/* ---- threads --------------------------------------------------------------------------- */

static void test_thread_independence(void)
{
#ifdef _OPENMP
    fixture_case c;
    if (load_case("prdc_b", &c) != 0) return;
    char err[GANC_ERR_LEN] = "";
    ganc_prdc p[2];
    double kid[2], sd[2];
    for (int t = 0; t < 2; t++) {
        ganc_set_threads(t + 1);
        ganc_rng rng;
        ganc_rng_seed(&rng, 3);
        ganc_prdc_compute(c.real, c.nr, c.fake, c.nf, c.d, 3, &p[t], err);
        ganc_kid(c.real, c.nr, c.fake, c.nf, c.d, 4, 200, &rng, &kid[t], &sd[t], err);
    }
    ganc_set_threads(0);
    CHECK(!memcmp(&p[0], &p[1], sizeof p[0]) && kid[0] == kid[1] && sd[0] == sd[1],
          "1 and 2 threads differ: density %.17g / %.17g, KID %.17g / %.17g", p[0].density, p[1].density, kid[0],
          kid[1]);
    fx_free(&c.fx);
#endif
}

/* ---- class histograms ------------------------------------------------------------------ */

static void test_histograms(void)
{
    char err[GANC_ERR_LEN] = "";
    const int32_t labels[7] = {0, 2, 2, 1, 2, 0, 2};
    double h[3];
    CHECK(ganc_label_hist(labels, 7, 3, h, err) == 0 && h[0] == 2 && h[1] == 1 && h[2] == 4, "label counts");
    CHECK(ganc_label_hist(labels, 7, 2, h, err) == -1 && strstr(err, "outside"), "label 2 of 2 classes accepted");

    /* KL([.5 .5 0] || [.25 .25 .5]) = ln 2, with counts or probabilities, eps 0 or tiny */
    const double p[3] = {1, 1, 0}, q[3] = {0.25, 0.25, 0.5};
    CHECK(fabs(ganc_hist_kl(p, q, 3, 0.0) - log(2.0)) < 1e-15, "KL: %.17g", ganc_hist_kl(p, q, 3, 0.0));
    CHECK(fabs(ganc_hist_kl(p, q, 3, -1.0) - log(2.0)) < 1e-8, "KL with default eps");
    CHECK(fabs(ganc_hist_kl(q, q, 3, -1.0)) < 1e-12, "KL of a histogram with itself");
    /* An empty data bin costs p log(p (1 + C eps) / eps) instead of infinity. */
    const double g2[2] = {1, 0}, d2[2] = {0, 5};
    const double want = log((1.0 + 2e-10) / 1e-10);
    CHECK(rel1(ganc_hist_kl(g2, d2, 2, -1.0), want) < 1e-12, "KL empty data bin: %.17g vs %.17g",
          ganc_hist_kl(g2, d2, 2, -1.0), want);
    CHECK(isinf(ganc_hist_kl(g2, d2, 2, 0.0)), "KL without eps on an empty bin should be inf");
    const double neg[2] = {1, -1}, zero[2] = {0, 0};
    CHECK(isnan(ganc_hist_kl(neg, d2, 2, -1.0)) && isnan(ganc_hist_kl(g2, zero, 2, -1.0)), "bad histograms give NaN");

    const float probs[9] = {0.1f, 0.7f, 0.2f, 0.5f, 0.5f, 0.0f, 0.2f, 0.2f, 0.6f};
    CHECK(fabs(ganc_mean_confidence(probs, 3, 3) - (0.7 + 0.5 + 0.6) / 3.0) < 1e-7, "mean confidence %.9g",
          ganc_mean_confidence(probs, 3, 3));
    CHECK(isnan(ganc_mean_confidence(probs, 0, 3)), "confidence of nothing");
    /* largest probabilities 0.7, 0.5, 0.6: below 0.5 none; below 0.6 one (0.5); below 0.65 two */
    CHECK(ganc_unsure_share(probs, 3, 3, 0.5) == 0.0, "unsure below 0.5: %g", ganc_unsure_share(probs, 3, 3, 0.5));
    CHECK(fabs(ganc_unsure_share(probs, 3, 3, 0.6) - 1.0 / 3.0) < 1e-12, "unsure below 0.6: %g",
          ganc_unsure_share(probs, 3, 3, 0.6));
    CHECK(fabs(ganc_unsure_share(probs, 3, 3, 0.65) - 2.0 / 3.0) < 1e-12, "unsure below 0.65: %g",
          ganc_unsure_share(probs, 3, 3, 0.65));
    CHECK(ganc_unsure_share(probs, 3, 3, 0.8) == 1.0, "unsure below 0.8");
    CHECK(isnan(ganc_unsure_share(probs, 0, 3, 0.5)), "unsure of nothing");
    int32_t am[3];
    ganc_argmax_labels(probs, 3, 3, am);
    CHECK(am[0] == 1 && am[1] == 0 && am[2] == 2, "argmax %d %d %d", am[0], am[1], am[2]);
}

/* ---- timing (GANC_METRICS_BENCH=1) ----------------------------------------------------- */

static void bench(void)
{
    const int n = 10000, d = 128;
    float *x = fbuf((size_t)n * d), *y = fbuf((size_t)n * d);
    ganc_rng rng;
    ganc_rng_seed(&rng, 1);
    ganc_rng_normal(&rng, x, (size_t)n * d, 0.0f, 1.0f);
    ganc_rng_normal(&rng, y, (size_t)n * d, 0.1f, 1.1f);
    char err[GANC_ERR_LEN] = "";
    ganc_prdc p;
    double t0 = now();
    CHECK(ganc_prdc_compute(x, n, y, n, d, 3, &p, err) == 0, "prdc: %s", err);
    double t1 = now();
    printf("bench: PRDC n=%d+%d d=%d, %d threads: %.2f s (P %.4f R %.4f D %.4f C %.4f)\n", n, n, d, ganc_threads(),
           t1 - t0, p.precision, p.recall, p.density, p.coverage);
    double kid, sd;
    t0 = now();
    CHECK(ganc_kid(x, n, y, n, d, 0, 0, &rng, &kid, &sd, err) == 0, "kid: %s", err);
    t1 = now();
    printf("bench: KID 100 subsets of 1000, d=%d: %.2f s (%.5g +- %.2g)\n", d, t1 - t0, kid, sd);
    ganc_moments a, b;
    double fid;
    t0 = now();
    moments_of(x, n, d, 500, &a);
    moments_of(y, n, d, 500, &b);
    t1 = now();
    ganc_fid_moments(&a, &b, &fid, err);
    double t2 = now();
    printf("bench: moments of 2 x %d x %d: %.3f s; FID (%s): %.3f s (%.5g)\n", n, d, t1 - t0,
           ganc_eig_have_lapack() ? "dsyevd" : "Jacobi", t2 - t1, fid);
    double *cv = dbuf((size_t)d * d);
    ganc_moments_cov(&b, cv, err);
    t1 = now();
    ganc_fid(d, a.mean, cv, b.mean, cv, GANC_EIG_JACOBI, &fid, err);
    printf("bench: FID with Jacobi: %.3f s\n", now() - t1);
    ganc_moments_free(&a);
    ganc_moments_free(&b);
    free(cv), free(x), free(y);
}

int main(void)
{
    test_fixture("prdc_a");
    test_fixture("prdc_b");
    test_fixture("singular");
    test_moments_batching();
    test_moments_subset();
    test_fid_closed_forms();
    test_prdc_closed_forms();
    test_kid_subsets();
    test_thread_independence();
    test_histograms();
    if (getenv("GANC_METRICS_BENCH")) bench();
    return check_finish("metrics");
}
