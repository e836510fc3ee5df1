/* Interpolation in G's noise space (see interp.h). */
#include "gan/interp.h"

#include <math.h>
#include <string.h>

/* Below this sin w the great circle through a and b is ill-defined (antiparallel) or
 * indistinguishable from the chord (parallel): dividing by it would only amplify rounding. */
#define SLERP_MIN_SIN 1e-6

void ganc_lerp(const float *a, const float *b, int n, double t, float *out)
{
    /* the ends copied, not computed: a + 1 (b - a) need not round to b */
    if (t == 0.0) {
        memmove(out, a, sizeof(float) * (size_t)n);
        return;
    }
    if (t == 1.0) {
        memmove(out, b, sizeof(float) * (size_t)n);
        return;
    }
    for (int i = 0; i < n; i++) out[i] = (float)((double)a[i] + t * ((double)b[i] - (double)a[i]));
}

static double norm(const float *v, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

void ganc_slerp(const float *a, const float *b, int n, double t, float *out)
{
    const double na = norm(a, n), nb = norm(b, n);
    if (t == 0.0 || t == 1.0 || !(na > 0.0) || !(nb > 0.0)) {
        ganc_lerp(a, b, n, t, out);
        return;
    }
    /* The angle as 2 atan2(|u - v|, |u + v|) for the unit vectors u, v: accurate near 0 and
     * near pi, where acos of the dot product loses half its digits. */
    double dm = 0.0, dp = 0.0;
    for (int i = 0; i < n; i++) {
        const double u = a[i] / na, v = b[i] / nb;
        dm += (u - v) * (u - v);
        dp += (u + v) * (u + v);
    }
    const double w = 2.0 * atan2(sqrt(dm), sqrt(dp)), s = sin(w);
    if (s < SLERP_MIN_SIN) {
        ganc_lerp(a, b, n, t, out);
        return;
    }
    const double len = (1.0 - t) * na + t * nb;
    const double ca = len * sin((1.0 - t) * w) / (s * na), cb = len * sin(t * w) / (s * nb);
    for (int i = 0; i < n; i++) out[i] = (float)(ca * a[i] + cb * b[i]);
}

ganc_interp ganc_interp_for(const ganc_game *gm)
{
    return (ganc_interp){.z_dim = ganc_game_latent(gm), .noise_dim = gm->z_dim - gm->info_k,
                         .spherical = gm->z_dist == GANC_Z_NORMAL};
}

void ganc_interp_frame(const ganc_interp *ip, const float *z_a, const float *z_b, double t, float *z)
{
    if (ip->spherical) ganc_slerp(z_a, z_b, ip->noise_dim, t, z);
    else ganc_lerp(z_a, z_b, ip->noise_dim, t, z);
    memmove(z + ip->noise_dim, z_a + ip->noise_dim, sizeof(float) * (size_t)(ip->z_dim - ip->noise_dim));
}

void ganc_walk_frame(const ganc_interp *ip, const float *keys, int n_keys, int n, int f, int frames, float *z)
{
    /* the position in whole keys and a fraction, from integers: frames that land on a key hit
     * it exactly (t = 0), whatever the rounding of f n_keys / frames */
    const long long num = (long long)f * n_keys;
    const int j = (int)(num / frames) % n_keys, next = (j + 1) % n_keys;
    const double t = (double)(num % frames) / (double)frames;
    const size_t zd = (size_t)ip->z_dim, set = (size_t)n * zd;
    for (int i = 0; i < n; i++) {
        float *zi = z + (size_t)i * zd;
        ganc_interp_frame(ip, keys + (size_t)j * set + (size_t)i * zd, keys + (size_t)next * set + (size_t)i * zd, t, zi);
        /* the code of key set 0 throughout: the sample stays one kind while it moves */
        memcpy(zi + ip->noise_dim, keys + (size_t)i * zd + ip->noise_dim, sizeof(float) * (zd - (size_t)ip->noise_dim));
    }
}
