/* Interpolation in noise space (gan/interp.c) against closed forms: between unit vectors at
 * angle w, slerp at t is cos(t w) e1 + sin(t w) e2 in the plane they span; its frames keep
 * unit length and are w / (N - 1) apart; for other lengths the length goes linearly and the
 * angle steps stay even; the ends are the inputs bit for bit; where the great circle is
 * undefined (a zero vector, parallel or antiparallel inputs) it is the straight line. The
 * frame and walk functions are checked on the parts the command relies on: which components
 * move, InfoGAN codes held, keypoints hit exactly and a loop without a jump. */
#include "check.h"
#include "gan/interp.h"
#include "ganc_internal.h"
#include "nets.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { DIM = 100, FRAMES = 10 };
#define PI 3.14159265358979323846

static double dot(const float *a, const float *b, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}
static double len(const float *a, int n) { return sqrt(dot(a, a, n)); }
/* The angle between a and b, by atan2 (accurate at small angles, unlike acos). */
static double angle(const float *a, const float *b, int n)
{
    const double na = len(a, n), nb = len(b, n);
    double dm = 0.0, dp = 0.0;
    for (int i = 0; i < n; i++) {
        const double u = a[i] / na, v = b[i] / nb;
        dm += (u - v) * (u - v);
        dp += (u + v) * (u + v);
    }
    return 2.0 * atan2(sqrt(dm), sqrt(dp));
}

static void normal(uint64_t seed, float *v, int n)
{
    ganc_rng r;
    ganc_rng_seed(&r, seed);
    ganc_rng_normal(&r, v, (size_t)n, 0.0f, 1.0f);
}

static void scale_to(float *v, int n, double to)
{
    const double s = to / len(v, n);
    for (int i = 0; i < n; i++) v[i] = (float)(v[i] * s);
}

/* In the plane of e1 and e2: slerp(e1, (cos w, sin w), t) = (cos t w, sin t w), and nothing in
 * the other components. */
static void test_closed_form(void)
{
    const double ws[] = {1e-3, 0.3, 1.5, PI / 2, 2.8, PI - 1e-3};
    for (size_t k = 0; k < sizeof ws / sizeof ws[0]; k++) {
        const double w = ws[k];
        float a[5] = {1, 0, 0, 0, 0}, b[5] = {(float)cos(w), (float)sin(w), 0, 0, 0}, out[5];
        double worst = 0.0;
        for (int f = 0; f <= 20; f++) {
            const double t = f / 20.0;
            ganc_slerp(a, b, 5, t, out);
            /* b's components are floats: its own angle is the exact one to compare against */
            const double wb = atan2((double)b[1], (double)b[0]);
            const double want[5] = {cos(t * wb), sin(t * wb), 0, 0, 0};
            for (int i = 0; i < 5; i++) worst = fmax(worst, fabs(out[i] - want[i]));
        }
        CHECK(worst < 1e-6, "slerp at angle %g: max error %g against (cos tw, sin tw)", w, worst);
    }
}

/* t = 0 and t = 1 return a and b bit for bit, for slerp and lerp, at any lengths. */
static void test_ends(void)
{
    float a[DIM], b[DIM], out[DIM];
    normal(1, a, DIM);
    normal(2, b, DIM);
    scale_to(b, DIM, 3.7);
    ganc_slerp(a, b, DIM, 0.0, out);
    CHECK(!memcmp(out, a, sizeof a), "slerp at t = 0 is a exactly");
    ganc_slerp(a, b, DIM, 1.0, out);
    CHECK(!memcmp(out, b, sizeof b), "slerp at t = 1 is b exactly");
    ganc_lerp(a, b, DIM, 0.0, out);
    CHECK(!memcmp(out, a, sizeof a), "lerp at t = 0 is a exactly");
    ganc_lerp(a, b, DIM, 1.0, out);
    CHECK(!memcmp(out, b, sizeof b), "lerp at t = 1 is b exactly");
    /* in place, as the frame function may be called (out = a) */
    float c[DIM];
    memcpy(c, a, sizeof a);
    ganc_slerp(c, b, DIM, 0.5, c);
    ganc_slerp(a, b, DIM, 0.5, out);
    CHECK(!memcmp(out, c, sizeof c), "slerp in place (out = a) gives what it gives into another buffer");
}

/* FRAMES frames at t = f / (FRAMES - 1) between random vectors of lengths la and lb: each
 * frame's length is (1 - t) la + t lb, and consecutive frames are the same angle apart, the
 * whole angle / (FRAMES - 1). */
static void test_frames(uint64_t seed, double la, double lb)
{
    float a[DIM], b[DIM], fr[FRAMES][DIM];
    normal(seed, a, DIM);
    normal(seed + 100, b, DIM);
    scale_to(a, DIM, la);
    scale_to(b, DIM, lb);
    const double w = angle(a, b, DIM), step = w / (FRAMES - 1);
    double worst_len = 0.0, worst_step = 0.0;
    for (int f = 0; f < FRAMES; f++) {
        const double t = (double)f / (FRAMES - 1);
        ganc_slerp(a, b, DIM, t, fr[f]);
        worst_len = fmax(worst_len, fabs(len(fr[f], DIM) - ((1 - t) * la + t * lb)) / fmax(la, lb));
        if (f) worst_step = fmax(worst_step, fabs(angle(fr[f - 1], fr[f], DIM) - step));
    }
    CHECK(worst_len < 1e-6, "slerp |a| = %g, |b| = %g: lengths off the line by %g (relative)", la, lb, worst_len);
    CHECK(worst_step < 1e-5 * w, "slerp |a| = %g, |b| = %g: angle steps off %g (whole angle %g) by %g", la, lb, step, w,
          worst_step);
    /* and the frames stay in the plane of a and b: fr = alpha a + beta b with the closed form's
     * weights for equal lengths (Shoemake) */
    if (la == lb) {
        double worst = 0.0;
        for (int f = 1; f < FRAMES - 1; f++) {
            const double t = (double)f / (FRAMES - 1), s = sin(w);
            for (int i = 0; i < DIM; i++)
                worst = fmax(worst, fabs(fr[f][i] - (sin((1 - t) * w) * a[i] + sin(t * w) * b[i]) / s));
        }
        CHECK(worst < 1e-5 * la, "slerp of equal lengths %g: off Shoemake's formula by %g", la, worst);
    }
}

/* Where the great circle is undefined, slerp is lerp, bit for bit, and finite. */
static void test_degenerate(void)
{
    float a[DIM], b[DIM], s[DIM], l[DIM];
    normal(5, a, DIM);
    const char *what[] = {"parallel (b = 2a)", "antiparallel (b = -a)", "a zero vector a", "a zero vector b",
                          "both zero"};
    for (int k = 0; k < 5; k++) {
        float aa[DIM];
        memcpy(aa, a, sizeof a);
        for (int i = 0; i < DIM; i++) {
            b[i] = k == 0 ? 2.0f * a[i] : k == 1 ? -a[i] : k == 2 ? a[i] : 0.0f;
            if (k == 2 || k == 4) aa[i] = 0.0f;
        }
        int finite = 1;
        for (int f = 0; f < FRAMES; f++) {
            const double t = (double)f / (FRAMES - 1);
            ganc_slerp(aa, b, DIM, t, s);
            ganc_lerp(aa, b, DIM, t, l);
            for (int i = 0; i < DIM; i++) finite &= isfinite(s[i]);
            if (memcmp(s, l, sizeof s)) {
                CHECK(0, "slerp, %s, t = %g: not the straight line", what[k], t);
                break;
            }
        }
        CHECK(finite, "slerp, %s: finite", what[k]);
    }
    /* a tiny angle (1e-8: sin w below the threshold) is the straight line as well, and close to
     * what the great circle would be */
    float c[2] = {1.0f, 0.0f}, d[2] = {1.0f, 1e-8f}, out[2];
    ganc_slerp(c, d, 2, 0.5, out);
    CHECK(out[0] == 1.0f && fabs(out[1] - 5e-9) < 1e-15, "slerp at angle 1e-8: (%g, %g), want (1, 5e-9)", out[0], out[1]);
}

/* ganc_interp_for: the interpolation that suits each z, only the noise part moving. */
static void test_interp_for(void)
{
    struct {
        ganc_zdist dist;
        int codes, spherical;
    } cases[] = {{GANC_Z_NORMAL, 0, 1}, {GANC_Z_UNIFORM, 0, 0}, {GANC_Z_MIXTURE, 0, 0}, {GANC_Z_NORMAL, 3, 1},
                 {GANC_Z_UNIFORM, 3, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ganc_config cfg;
        ganc_config_defaults(&cfg);
        cfg.z_dim = 8;
        cfg.batch = 4;
        cfg.z_dist = cases[k].dist;
        cfg.info_codes = cases[k].codes;
        ganc_game gm;
        if (test_dense_game(&gm, &cfg, 2, 1 + cases[k].codes, 3)) continue;
        const ganc_interp ip = ganc_interp_for(&gm);
        CHECK(ip.z_dim == 8 && ip.noise_dim == 8 - cases[k].codes && ip.spherical == cases[k].spherical,
              "interp for z_dist %d with %d codes: z_dim %d, noise_dim %d, spherical %d", (int)cases[k].dist,
              cases[k].codes, ip.z_dim, ip.noise_dim, ip.spherical);
        ganc_game_free(&gm);
    }
}

/* A frame: the noise part slerped (or lerped), the code part z_a's, bit for bit. */
static void test_frame(void)
{
    enum { Z = 12, K = 4 };
    float za[Z], zb[Z], z[Z], want[Z];
    normal(7, za, Z);
    normal(8, zb, Z);
    for (int j = 0; j < K; j++) { /* codes 1 and 3 */
        za[Z - K + j] = j == 1 ? 1.0f : 0.0f;
        zb[Z - K + j] = j == 3 ? 1.0f : 0.0f;
    }
    for (int spherical = 0; spherical <= 1; spherical++) {
        const ganc_interp ip = {.z_dim = Z, .noise_dim = Z - K, .spherical = spherical};
        for (int f = 0; f < FRAMES; f++) {
            const double t = (double)f / (FRAMES - 1);
            ganc_interp_frame(&ip, za, zb, t, z);
            (spherical ? ganc_slerp : ganc_lerp)(za, zb, Z - K, t, want);
            CHECK(!memcmp(z, want, sizeof(float) * (Z - K)), "frame %d (%s): the noise part is the %s", f,
                  spherical ? "slerp" : "lerp", spherical ? "slerp" : "lerp");
            CHECK(!memcmp(z + Z - K, za + Z - K, sizeof(float) * K), "frame %d (%s): the code is z_a's, held", f,
                  spherical ? "slerp" : "lerp");
        }
        ganc_interp_frame(&ip, za, zb, 1.0, z);
        CHECK(!memcmp(z, zb, sizeof(float) * (Z - K)), "%s: the last frame's noise is z_b's", spherical ? "slerp" : "lerp");
    }
    /* the same z_a and z_b (what a caller moving a class label passes): every frame is z_a */
    const ganc_interp ip = {.z_dim = Z, .noise_dim = Z - K, .spherical = 1};
    ganc_interp_frame(&ip, za, za, 0.37, z);
    double worst = 0.0;
    for (int i = 0; i < Z; i++) worst = fmax(worst, fabs(z[i] - za[i]));
    CHECK(worst < 1e-6, "z_a to z_a: every frame is z_a (off by %g)", worst);
}

/* The walk: key set j at frame j frames / n_keys exactly, codes of key set 0 throughout, and
 * the last frame one even step before the first (no jump where the loop closes). */
static void test_walk(void)
{
    enum { Z = 10, K = 2, KEYS = 4, N = 3, PER = 5, WF = KEYS * PER };
    float keys[KEYS * N * Z], fr[WF][N * Z];
    normal(11, keys, KEYS * N * Z);
    for (int s = 0; s < KEYS * N; s++) /* each keypoint its own code, (s mod K) */
        for (int j = 0; j < K; j++) keys[(size_t)s * Z + Z - K + j] = j == s % K ? 1.0f : 0.0f;
    const ganc_interp ip = {.z_dim = Z, .noise_dim = Z - K, .spherical = 1};
    for (int f = 0; f < WF; f++) ganc_walk_frame(&ip, keys, KEYS, N, f, WF, fr[f]);
    for (int j = 0; j < KEYS; j++) {
        int hit = 1;
        for (int i = 0; i < N; i++) hit &= !memcmp(fr[j * PER] + i * Z, keys + ((size_t)j * N + i) * Z, sizeof(float) * (Z - K));
        CHECK(hit, "walk: frame %d is key set %d exactly", j * PER, j);
    }
    int codes = 1;
    for (int f = 0; f < WF; f++)
        for (int i = 0; i < N; i++) codes &= !memcmp(fr[f] + i * Z + Z - K, keys + (size_t)i * Z + Z - K, sizeof(float) * K);
    CHECK(codes, "walk: every frame keeps key set 0's codes");
    for (int i = 0; i < N; i++) {
        /* the last segment (key KEYS-1 -> key 0): PER even steps, the last from frame WF-1 to 0 */
        const double w = angle(keys + ((size_t)(KEYS - 1) * N + i) * Z, keys + (size_t)i * Z, Z - K) / PER;
        const double closing = angle(fr[WF - 1] + i * Z, fr[0] + i * Z, Z - K),
                     before = angle(fr[WF - 2] + i * Z, fr[WF - 1] + i * Z, Z - K);
        CHECK(fabs(closing - w) < 1e-5 && fabs(before - w) < 1e-5,
              "walk, sample %d: the loop closes with the segment's even step %g (last step %g, one before %g)", i, w,
              closing, before);
    }
    /* frames that do not divide evenly: still key set 0 at frame 0, and every frame finite */
    float z[N * Z];
    ganc_walk_frame(&ip, keys, KEYS, N, 0, 7, z);
    CHECK(!memcmp(z, keys, sizeof z), "walk of 7 frames: frame 0 is key set 0 exactly");
    int finite = 1;
    for (int f = 0; f < 7; f++) {
        ganc_walk_frame(&ip, keys, KEYS, N, f, 7, z);
        for (int i = 0; i < N * Z; i++) finite &= isfinite(z[i]);
    }
    CHECK(finite, "walk of 7 frames: finite");
}

int main(void)
{
    test_closed_form();
    test_ends();
    test_frames(21, 1.0, 1.0); /* unit vectors: unit length throughout */
    test_frames(22, 10.0, 10.0);
    test_frames(23, 9.0, 11.5); /* lengths that differ: the length goes linearly */
    test_frames(24, 0.5, 4.0);
    test_degenerate();
    test_interp_for();
    test_frame();
    test_walk();
    return check_finish("interp");
}
