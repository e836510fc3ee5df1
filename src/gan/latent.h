/* The latent vectors G makes samples from, outside training: the noise (normal, uniform or a
 * mixture of normals, optionally truncated), an InfoGAN code, a conditional run's class as the
 * last float, and G run on them in chunks. The game draws its samples through these
 * (ganc_game_noise, ganc_game_generate), and so does the library's generator handle
 * (gan/generator.c), which has G alone: both draw the same vectors from the same stream. */
#ifndef GANC_LATENT_H
#define GANC_LATENT_H

#include "gan/config.h"

typedef struct {
    int z_dim;
    int latent;             /* floats per vector: z_dim, plus 1 for the class when conditional */
    ganc_zdist z_dist;
    int z_modes;            /* mixture: K means of z_dim values each, in z_centers */
    const float *z_centers;
    float truncation;       /* > 0: normal components outside [-t, t] are drawn again */
    int info_k;             /* InfoGAN: z's last info_k components are a one-hot code ... */
    int code;               /* ... this one, or drawn uniformly when -1 */
    int classes;            /* conditional: K classes (0: unconditional) ... */
    int class_id;           /* ... every vector of this class, or drawn when -1 ... */
    const uint64_t *class_cum; /* ... by these cumulative counts (the training set's), NULL: uniformly */
} ganc_latent;

/* A class drawn from rng: k with probability (cum[k] - cum[k - 1]) / cum[K - 1], or uniformly
 * when cum is NULL (one 64-bit draw either way; the modulo's bias is below total / 2^64). */
int32_t ganc_latent_draw_class(const uint64_t *cum, int classes, ganc_rng *rng);
/* The training set's class counts as metadata text, "n0 n1 ..." from cumulative counts
 * (malloc'd; NULL when out of memory), and back: 0, or -1 when the text is not K counts
 * with a positive total. */
char *ganc_class_counts_text(const uint64_t *cum, int classes);
int ganc_class_counts_parse(const char *text, int classes, uint64_t *cum);

/* The mixture's means: K x z_dim values from U(-scale, scale), from a stream of their own that
 * depends on nothing else, so that training, sampling and a resumed run all see the same. */
void ganc_latent_centers(float *out, int k, int z_dim, float scale);

/* Draws n latent vectors (l->latent floats each) from rng: the normal or uniform values of
 * all n first (so that the unconditional noise is the same stream a conditional run's is),
 * then the truncation's redraws, the mixture's means, the codes and the classes. Allocates
 * nothing. */
void ganc_latent_draw(const ganc_latent *l, ganc_rng *rng, float *z, int n);
/* The classes of n latent vectors (their last float; one outside [0, K) reads as 0). */
void ganc_latent_labels(const ganc_latent *l, const float *z, int n, int32_t *labels);

/* The pieces ganc_latent_draw shares with the training steps' own noise. InfoGAN: the last
 * info_k of z_dim components of each of the n vectors (stride floats apart) become a one-hot
 * code, `fixed` or drawn uniformly (the modulo's bias is below K / 2^64); codes (may be NULL)
 * receives them. */
void ganc_latent_set_codes(int info_k, int z_dim, ganc_rng *rng, float *z, int n, int stride, int fixed,
                           int32_t *codes);
/* Mixture: moves each of the n offsets in z to one of the K means, chosen uniformly. */
void ganc_latent_add_centers(const float *centers, int modes, int z_dim, ganc_rng *rng, float *z, int n, int stride);

/* G on n <= its built batch latent vectors, in whatever mode and with whatever weights it has:
 * a conditional G reads each vector's class as its label and the rest as its input, gathered
 * into z_only (n x z_dim) with the classes in labels (n); both scratch of the caller's, unused
 * when unconditional. Returns G's output (owned by G, valid until its next forward). */
const float *ganc_latent_forward(ganc_net *g, const ganc_latent *l, const float *z, int n, int32_t *labels,
                                 float *z_only);

#endif
