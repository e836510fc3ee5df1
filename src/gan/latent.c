/* Latent vectors and G on them (gan/latent.h). */
#include "gan/latent.h"
#include "ganc_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ganc_latent_centers(float *out, int k, int z_dim, float scale)
{
    ganc_rng r;
    ganc_rng_seed(&r, 0x6d69787475726521ull); /* "mixture!": not any run's seed */
    ganc_rng_uniform(&r, out, (size_t)k * z_dim, -scale, scale);
}

void ganc_latent_set_codes(int info_k, int z_dim, ganc_rng *rng, float *z, int n, int stride, int fixed,
                           int32_t *codes)
{
    for (int i = 0; i < n; i++) {
        const int c = fixed >= 0 ? fixed : (int)(ganc_rng_u64(rng) % (uint64_t)info_k);
        float *code = z + (size_t)i * stride + (z_dim - info_k);
        for (int j = 0; j < info_k; j++) code[j] = j == c ? 1.0f : 0.0f;
        if (codes) codes[i] = c;
    }
}

void ganc_latent_add_centers(const float *centers, int modes, int z_dim, ganc_rng *rng, float *z, int n, int stride)
{
    for (int i = 0; i < n; i++) {
        const float *mu = centers + (size_t)(ganc_rng_u64(rng) % (uint64_t)modes) * z_dim;
        for (int j = 0; j < z_dim; j++) z[(size_t)i * stride + j] += mu[j];
    }
}

/* Noise of n vectors at `stride` floats apart (the rest of each left alone): the draws of
 * z_dim values each follow one another in the stream as if the vectors were contiguous. The
 * normal generator makes values in blocks, so all n * z_dim are drawn into the front of z and
 * then spread out from the last vector back: vector i moves to i * stride >= i * z_dim, past
 * the values of every vector before it, so nothing is overwritten before it has moved (and no
 * scratch buffer is needed, which keeps sampling free of allocations). */
static void draw_noise(ganc_rng *rng, float *z, int n, int z_dim, int stride, int uniform)
{
    const size_t count = (size_t)n * z_dim;
    if (uniform) ganc_rng_uniform(rng, z, count, 0.0f, 1.0f);
    else ganc_rng_normal(rng, z, count, 0.0f, 1.0f);
    if (stride == z_dim) return;
    for (int i = n - 1; i > 0; i--) memmove(z + (size_t)i * stride, z + (size_t)i * z_dim, sizeof(float) * z_dim);
}

void ganc_latent_draw(const ganc_latent *l, ganc_rng *rng, float *z, int n)
{
    const int stride = l->latent;
    draw_noise(rng, z, n, l->z_dim, stride, l->z_dist == GANC_Z_UNIFORM);
    const float t = l->truncation;
    /* Redrawing is rejection sampling from the truncated normal; t is at least 0.05
     * (ganc_game_check_truncation), so each redraw lands inside with probability above 4%. */
    if (l->z_dist != GANC_Z_UNIFORM && t > 0.0f)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < l->z_dim; j++) {
                float *v = &z[(size_t)i * stride + j];
                while (*v > t || *v < -t) ganc_rng_normal(rng, v, 1, 0.0f, 1.0f);
            }
    if (l->z_dist == GANC_Z_MIXTURE) ganc_latent_add_centers(l->z_centers, l->z_modes, l->z_dim, rng, z, n, stride);
    if (l->info_k) ganc_latent_set_codes(l->info_k, l->z_dim, rng, z, n, stride, l->code, NULL);
    /* the class: exact as a float (K is at most 65536) */
    for (int i = 0; l->classes && i < n; i++)
        z[(size_t)i * stride + l->z_dim] =
            (float)(l->class_id >= 0 ? l->class_id : ganc_latent_draw_class(l->class_cum, l->classes, rng));
}

int32_t ganc_latent_draw_class(const uint64_t *cum, int classes, ganc_rng *rng)
{
    const uint64_t u = ganc_rng_u64(rng);
    if (!cum) return (int32_t)(u % (uint64_t)classes);
    const uint64_t t = u % cum[classes - 1];
    int lo = 0, hi = classes - 1; /* the first k with t < cum[k] */
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (t < cum[mid]) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

char *ganc_class_counts_text(const uint64_t *cum, int classes)
{
    const size_t cap = (size_t)classes * 21 + 1; /* a 64-bit count and a space each */
    char *text = malloc(cap), *p = text;
    for (int k = 0; text && k < classes; k++)
        p += snprintf(p, cap - (size_t)(p - text), "%s%" PRIu64, k ? " " : "", cum[k] - (k ? cum[k - 1] : 0));
    return text;
}

int ganc_class_counts_parse(const char *text, int classes, uint64_t *cum)
{
    uint64_t total = 0;
    const char *p = text;
    for (int k = 0; k < classes; k++) {
        while (*p == ' ') p++;
        if (*p < '0' || *p > '9') return -1;
        char *end;
        errno = 0;
        const unsigned long long v = strtoull(p, &end, 10);
        if (errno || v > UINT64_MAX - total) return -1;
        cum[k] = total += v;
        p = end;
    }
    while (*p == ' ') p++;
    return *p || !total ? -1 : 0;
}

void ganc_latent_labels(const ganc_latent *l, const float *z, int n, int32_t *labels)
{
    for (int i = 0; i < n; i++) {
        const float c = z[(size_t)i * l->latent + l->z_dim];
        /* a class outside the game's (a caller's mistake) is clamped, never read out of bounds */
        labels[i] = c >= 0.0f && c < (float)l->classes ? (int32_t)c : 0;
    }
}

const float *ganc_latent_forward(ganc_net *g, const ganc_latent *l, const float *z, int n, int32_t *labels,
                                 float *z_only)
{
    if (l->classes) { /* the noise apart from the classes, which G reads as labels */
        ganc_latent_labels(l, z, n, labels);
        for (int j = 0; j < n; j++)
            memcpy(z_only + (size_t)j * l->z_dim, z + (size_t)j * l->latent, sizeof(float) * l->z_dim);
        ganc_net_set_labels(g, labels);
        z = z_only;
    }
    return ganc_net_forward(g, z, n);
}
