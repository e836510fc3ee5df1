/* The adversarial game: k discriminator updates on m real and m generated samples, then one
 * generator update through a frozen D. The losses are the rows of gan/losses.h: D's on its
 * real and generated scores, G's on its samples' scores, and how D is kept Lipschitz (wgan
 * clips D's parameters to [-clip, clip] after each D step; wgan-gp adds
 * gp * mean (||grad D(x^)|| - 1)^2 on interpolates x^ of real and generated samples).
 * Any loss may add R1 (r1/2 * mean ||grad D(x)||^2 on real samples) and instance noise; with
 * PacGAN packing D sees batch/pack samples of pack*C channels (consecutive samples, which is
 * the same memory as the unpacked batch).
 * InfoGAN (--info-codes K): z's last K components are a one-hot code c ~ U{0..K-1}; D outputs
 * its logit and K code logits q; D's loss on generated samples and G's loss each add
 * info_weight * CE(softmax(q), c) (the variational lower bound on the mutual information of c
 * and G(z, c), Chen et al. 2016); the real samples carry no code.
 * Class-conditional (--cond, K classes): each generated sample has a class, drawn from the
 * training set's class frequencies (ganc_game_set_class_prior, kept in checkpoints: sampling
 * draws by them too; uniform without them), given to G
 * and, with the sample, to D; the real samples come with their labels. The networks read the
 * classes through their conditional layers (gan/model.h says where --cond puts them). With
 * --cond acgan D's output is its logit and K class logits, and both players add cond_weight *
 * the class cross-entropy: D on the real samples' labels and on the generated samples' classes,
 * G on its samples' classes. Outside training a sample's class travels with its noise: a
 * latent vector is z_dim noise values and then its class as a float (ganc_game_latent).
 * DiffAugment (--diffaug, gan/diffaug.h): every batch D sees, real or generated, in D's steps
 * and in G's, first goes through random transforms drawn anew for each of its samples (the real
 * and the generated batch each get their own draws), and G's gradient comes back through their
 * adjoint. Everything else acts on what D sees: instance noise is added to the augmented
 * batch, R1 is the gradient at the augmented reals (as DiffAugment's StyleGAN2 code does),
 * WGAN-GP's interpolates lie between the augmented real and generated batches of the step,
 * PacGAN packs augmented samples, D's mbstd statistic and top-k's scores are over augmented
 * samples, and InfoGAN's code guesses are made on augmented generated samples (so G is asked
 * for codes that survive the transforms, as it is asked for realism that does).
 * The draws come from a stream of their own whose key is the run's seed and the step
 * (ganc_game_set_schedule places it), so a resumed run draws exactly what a straight one does
 * and nothing else in the run draws differently with the option on. */
#ifndef GANC_GAME_H
#define GANC_GAME_H

#include "gan/config.h"
#include "gan/diffaug.h"
#include "gan/penalty.h"

typedef struct {
    double d_loss;       /* D's loss on its real and generated samples plus the penalties, last D step */
    double g_loss;       /* the generator's loss as configured, last G step */
    double d_real;       /* mean D(x), last D step: a probability for the cross-entropy losses, else the score */
    double d_fake;       /* mean D(G(z)), likewise */
    double penalty;      /* the gradient penalties' value (gp and r1), last D step */
    double gnorm_d, gnorm_g; /* L2 norms of the last gradients */
    double info_loss;    /* --info-codes: cross-entropy of D's guess of G's code, last G step (log K: no idea);
                          * --cond acgan: of D's guess of the class of G's samples */
    double class_real;   /* --cond acgan: D's class cross-entropy on the real samples, last D step */
} ganc_game_stats;

typedef struct {
    ganc_net *g, *d;
    ganc_optim opt_g, opt_d;
    int batch, z_dim, pack;
    const ganc_loss_def *loss;
    float clip, gp, r1, inst_noise;
    double noise_scale; /* instance noise's current sigma (the trainer anneals it) */
    ganc_zdist z_dist;
    int z_modes;       /* mixture: K components, their means in z_centers (K x z_dim) */
    float *z_centers;
    float truncation;  /* > 0: ganc_game_noise truncates to [-t, t] (the training steps do not) */
    float real_target; /* 1, or 1 - label smoothing */
    double top_k;      /* fraction of G's samples its update learns from (the trainer anneals it) */
    float *order;      /* scratch for top-k: G's sample scores, sorted */
    int info_k;        /* InfoGAN: z's last info_k components are a one-hot code; D outputs 1 + info_k */
    float info_weight;
    int classes;       /* conditional: K classes (0: unconditional) */
    ganc_cond cond;
    int latent;        /* floats per latent vector: z_dim, plus 1 for the class when conditional */
    int guesses;       /* D's outputs besides its logit: info_k, or K with acgan */
    float guess_weight; /* the guesses' cross-entropy weight: info_weight, or cond_weight */
    int cond_fake;      /* acgan: D's class term also on generated samples */
    int sample_class;  /* ganc_game_noise's class: -1 drawn uniformly, else this one for every sample */
    int32_t *fake_labels; /* the classes of the last training draw (batch) */
    int32_t *gen_labels;  /* scratch: the classes of a chunk ganc_game_generate makes (batch) */
    float *gen_z;         /* scratch: that chunk's noise, without the class (batch x z_dim) */
    uint64_t *class_cum;  /* cumulative class counts of the training set (K), NULL: uniform */
    int mix_to;           /* ganc_game_generate blends each sample's class with this one (-1: off) ... */
    float mix_t;          /* ... by this weight: sampling between classes (ganc_net_set_class_mix) */
    int sample_code;   /* ganc_game_noise's code: -1 drawn uniformly, else this one for every sample */
    int32_t *codes;    /* the codes of the last training draw */
    float *score;      /* column 0 of D's output (its logit) when D also guesses codes */
    float *dout;       /* D's output gradient, batch x (1 + info_k), when it guesses codes */
    float *q;          /* scratch: D's code guesses, then their gradient, batch x info_k */
    ganc_rng noise;
    float *z, *dlogit, *dfake;
    float *d_in;          /* D's input with instance noise, or the gradient penalty's interpolates */
    ganc_penalty_work pen;
    unsigned diffaug;     /* GANC_AUG_* kinds, 0: off */
    ganc_diffaug aug;     /* the transforms and their last draw */
    uint64_t seed;        /* the run's seed: with the step, the key of the transforms' draws */
    ganc_rng aug_rng;     /* the current step's draws (ganc_game_set_schedule) */
    float *aug_real, *aug_fake; /* the augmented batches of the last step, batch x sample each */
    float ema_decay;      /* 0: no EMA */
    float *ema, *ema_swap; /* EMA of G's parameters; scratch to swap them in for sampling */
    /* ... and of G's state (batch norm's running statistics, which belong to the live weights:
     * the averaged weights sampled with the live statistics shift every batch-norm output) */
    float *ema_state, *ema_state_swap;
    size_t n_state;
    /* Data parallel (ganc_game_set_shard): this process computes samples [shard_off, shard_off
     * + batch) of a global batch of draw_batch; the noise is drawn for the whole global batch,
     * so every process's stream stays the one-process stream, and its share is kept. */
    int draw_batch, shard_off;
    /* Called on each player's gradient after its backward and before its optimizer step (NULL:
     * none): data-parallel runs replace the local mean by the global one there. */
    void (*reduce)(void *ctx, float *grad, size_t n);
    void *reduce_ctx;
    /* Handed to both networks for the passes of the training steps only (ganc_net_set_sum;
     * NULL: none): a data-parallel run's --sync-bn adds batch norm's sums over the processes
     * there. Every other pass (pictures, evaluation, sampling) stays this process's own, so
     * that process 0 may run them alone. */
    void (*sum)(void *ctx, double *v, int n);
    void *sum_ctx;
    /* Data parallel (ganc_game_set_gather): gathers every process's n floats into all (ranks x
     * n, rank order): top-k's scores and the gradient penalties' step; NULL: one process. */
    void (*gather)(void *ctx, const float *mine, int n, float *all);
    void *gather_ctx;
    float *gathered; /* the global batch's scores (draw_batch), for top-k */
    ganc_game_stats stats;
} ganc_game;

/* Takes ownership of g and d (built for cfg->batch). */
void ganc_game_init(ganc_game *gm, ganc_net *g, ganc_net *d, const ganc_config *cfg);
/* Makes the game compute share `rank` of `ranks` equal, contiguous shares of its global batch
 * (which ranks must divide): its steps then take batch / ranks real samples (the caller's
 * share of the batch's indices) and use that share of the global batch's noise and generated
 * classes. Only draws over the batch that this knows how to share are allowed with ranks > 1:
 * the CLI refuses the others (src/cli/train_dist.c). ranks = 1 changes nothing. */
void ganc_game_set_shard(ganc_game *gm, int rank, int ranks);
/* The gather of a data-parallel game (after ganc_game_set_shard): top-k keeps the global
 * batch's best, and the gradient penalties take the global batch's step. */
void ganc_game_set_gather(ganc_game *gm, void (*gather)(void *ctx, const float *mine, int n, float *all), void *ctx);
void ganc_game_free(ganc_game *gm);

/* Factor on both learning rates at `step` of a run of `total` steps: 1, or with
 * cfg->lr_decay_from > 0 a linear fall from 1 at that step to 0 at cfg->lr_decay_to (or at
 * `total` when that is 0), and 0 from there on. A pure function of the step: a run stopped and
 * resumed follows the same schedule as a straight one, as long as the end of the fall is the
 * same (which --lr-decay-to fixes when the first leg is run with a smaller --steps). */
double ganc_lr_factor(const ganc_config *cfg, int64_t step, int64_t total);
/* Weight of D's minibatch-stddev statistic at `step`: 1, or with cfg->mbstd_until = N > 0 a
 * linear fall from 1 at step N/2 to 0 at N, and 0 from there on; 0 throughout with --mbstd off (a pure function of the step,
 * so resumed runs follow it exactly). */
double ganc_mbstd_gate(const ganc_config *cfg, int64_t step);
/* Fraction of G's samples that its update at `step` of `total` learns from (top-k training):
 * 1, or with cfg->top_k = NU < 1 a linear fall from 1 at step 0 to NU at `total`. */
double ganc_top_k_fraction(const ganc_config *cfg, int64_t step, int64_t total);
/* Everything that follows the step: both optimizers' learning rates (cfg's times
 * ganc_lr_factor), D's mbstd gate, the instance noise's sigma, the top-k fraction and, with
 * --diffaug, the stream of the step's transforms (ganc_game_aug_stream). */
void ganc_game_set_schedule(ganc_game *gm, const ganc_config *cfg, int64_t step, int64_t total);

/* D's update on a real batch; labels: its classes (conditional games), else NULL. */
void ganc_game_d_step(ganc_game *gm, const float *real, const int32_t *labels);
void ganc_game_g_step(ganc_game *gm);

/* Draws n latent vectors (ganc_game_latent floats each) for sampling from gm's distribution
 * with the given generator: with
 * gm->truncation > 0, each normal component outside [-t, t] is drawn again (from the same
 * stream, so a draw is still a pure function of the stream); for a mixture, that is the
 * offset from the component's mean. The training steps draw their
 * own, untruncated noise. With an InfoGAN code, z's last K components are the one-hot code
 * gm->sample_code, or a uniform draw when that is -1; a conditional game's class (the last
 * float) is gm->sample_class, or a uniform draw when that is -1. */
void ganc_game_noise(const ganc_game *gm, ganc_rng *rng, float *z, int n);
/* Floats per latent vector of ganc_game_noise and ganc_game_generate: z_dim, and a class. */
static inline int ganc_game_latent(const ganc_game *gm) { return gm->latent; }
/* Generated samples' classes in training follow counts[k] / sum (the training set's class
 * frequencies, so that D sees the same mix of classes in both batches); n = K. */
void ganc_game_set_class_prior(ganc_game *gm, const int64_t *counts, int n);
/* Refuses --cond settings that cannot work: K below 2, or with PacGAN packing (one class per
 * judged sample), --info-codes with projection or acgan (one head each), R1 or WGAN-GP with
 * acgan (they take D's one logit). */
int ganc_game_check_cond(const ganc_config *cfg, char err[GANC_ERR_LEN]);
/* Refuses --info-codes that cannot work: K of 1, K not below z_dim (G needs noise besides the
 * code), or with what assumes one output per sample (PacGAN packing, the R1 and WGAN-GP
 * penalties) or with a mixture z. */
int ganc_game_check_info(const ganc_config *cfg, char err[GANC_ERR_LEN]);
/* The generator of DiffAugment's draws in `step`: keyed by the run's seed and the step, from
 * its start, so that the draws are a pure function of (seed, step). Within a step the D steps
 * draw first (each: the real batch, then the generated one), then the G step. */
void ganc_game_aug_stream(uint64_t seed, int64_t step, ganc_rng *rng);
/* Refuses --diffaug where the transforms do not fit: 2-D points (`points`, no picture to
 * transform), translation on pictures under 4 pixels a side (its shift, an eighth of the side
 * rounded, would be 0), cutout under 2 (its square, half the side, would be the whole side). */
int ganc_game_check_diffaug(const ganc_config *cfg, ganc_shape data, int points, char err[GANC_ERR_LEN]);
/* Refuses a truncation below 0.05 (other than 0) or with a uniform z. */
int ganc_game_check_truncation(const ganc_config *cfg, char err[GANC_ERR_LEN]);
/* D's logit for each of n samples from D's output (n x (1 + info_k)): column 0, the rest being
 * an InfoGAN code's guesses. */
void ganc_game_logits(const ganc_game *gm, const float *out, int n, float *logits);
/* G in eval mode on n latent vectors (any n; done in chunks of the built batch), with the
 * EMA weights when the game keeps them. */
void ganc_game_generate(ganc_game *gm, const float *z, int n, float *out);
/* The classes of n latent vectors of a conditional game (their last float). */
void ganc_game_latent_labels(const ganc_game *gm, const float *z, int n, int32_t *labels);

#endif
