/* The adversarial game: k discriminator updates on m real and m generated samples (sigmoid
 * cross-entropy, real -> 1, fake -> 0), then one generator update through a frozen D, with
 * the non-saturating loss -log D(G(z)) or the original minimax log(1 - D(G(z))). */
#ifndef GANC_GAME_H
#define GANC_GAME_H

#include "gan/config.h"

typedef struct {
    double d_loss;       /* BCE(D(x), 1) + BCE(D(G(z)), 0), last D step */
    double g_loss;       /* the generator's loss as configured, last G step */
    double d_real;       /* mean D(x) (a probability), last D step */
    double d_fake;       /* mean D(G(z)), last D step */
    double gnorm_d, gnorm_g; /* L2 norms of the last gradients */
} ganc_game_stats;

typedef struct {
    ganc_net *g, *d;
    ganc_optim opt_g, opt_d;
    int batch, z_dim;
    ganc_gloss g_loss;
    ganc_zdist z_dist;
    float real_target; /* 1, or 1 - label smoothing */
    ganc_rng noise;
    float *z, *dlogit, *dfake;
    float ema_decay;      /* 0: no EMA */
    float *ema, *ema_swap; /* EMA of G's parameters; scratch to swap them in for sampling */
    ganc_game_stats stats;
} ganc_game;

/* Takes ownership of g and d (built for cfg->batch). */
void ganc_game_init(ganc_game *gm, ganc_net *g, ganc_net *d, const ganc_config *cfg);
void ganc_game_free(ganc_game *gm);

void ganc_game_d_step(ganc_game *gm, const float *real);
void ganc_game_g_step(ganc_game *gm);

/* Draws n noise vectors from gm's distribution with the given generator. */
void ganc_game_noise(const ganc_game *gm, ganc_rng *rng, float *z, int n);
/* G in eval mode on n noise vectors (any n; done in chunks of the built batch), with the
 * EMA weights when the game keeps them. */
void ganc_game_generate(ganc_game *gm, const float *z, int n, float *out);

#endif
