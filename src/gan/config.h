/* Hyper-parameters of a training run. One table describes every option once: its name,
 * range, default and help; the command line (--lr-g), a model file's [train] section
 * (lr_g = ...) and a checkpoint's metadata all go through ganc_config_set. */
#ifndef GANC_CONFIG_H
#define GANC_CONFIG_H

#include "ganc.h"
#include "gan/losses.h" /* ganc_loss: the game's loss (both players), a row of its table */

typedef enum { GANC_Z_NORMAL, GANC_Z_UNIFORM, GANC_Z_MIXTURE } ganc_zdist;
typedef enum { GANC_ONNAN_STOP, GANC_ONNAN_ROLLBACK } ganc_onnan;
/* Where the class of a class-conditional GAN enters (gan/model.h says how a model is changed). */
typedef enum { GANC_COND_OFF, GANC_COND_CONCAT, GANC_COND_PROJECTION, GANC_COND_ACGAN } ganc_cond;

typedef struct {
    char model[512];   /* preset name or model file */
    char data[512];    /* a data set's name, file or folder (src/data/source.h) */
    /* how an image set is fitted to one shape (src/data/source.h; ganc_source_options_from_config) */
    char size[16];       /* "S", "HxW", or "0": the data's own */
    int crop;            /* 0 centre crop, 1 pad, for aspect ratios that differ */
    int channels;        /* 0 the data's own, 1 grey, 2 RGB (an index: see channels_of) */
    char background[16]; /* "white", "black" or "R,G,B": under transparency and padding */
    int strict;          /* a broken picture in a folder stops the run */
    int xflip;           /* every image also mirrored left-right */
    char classifier[512]; /* --eval-every: the feature network (ganc classifier train); "" none */
    int eval_every, eval_n; /* metrics every N steps (0: never) on eval_n generated samples */
    int z_dim;
    ganc_zdist z_dist;
    int z_modes;        /* mixture: number of Gaussians N(mu_k, I) ... */
    float z_mode_scale; /* ... with means mu_k ~ U(-scale, scale)^z_dim, the same for every run */
    int batch;
    int d_steps;
    ganc_loss loss;
    float clip;         /* wgan: D's parameters are clipped to [-clip, clip] after each D step */
    float gp;           /* wgan-gp: weight of the gradient penalty */
    float r1;           /* > 0: R1 penalty r1/2 * E ||grad_x D(x)||^2 on real data, any loss */
    int pack;           /* PacGAN: D judges `pack` samples at once, concatenated along channels */
    float inst_noise;   /* > 0: instance noise N(0, s^2) on D's inputs, s annealed linearly to 0 */
    int inst_noise_steps; /* ... at this step (fixed, so that a resumed run anneals as a straight one) */
    unsigned diffaug;   /* DiffAugment: GANC_AUG_* transforms (gan/diffaug.h) on all D sees; 0: off */
    ganc_optim_type optim;
    float lr_g, lr_d, beta1, beta2, adam_eps, momentum, weight_decay;
    int64_t lr_decay_from; /* > 0: learning rates fall linearly from this step ... */
    int64_t lr_decay_to;   /* ... to 0 at this one (0: the run's last step) */
    int mbstd_off;       /* D's mbstd layers append 0: the model's D without them, in effect */
    int64_t mbstd_until; /* > 0: D's mbstd statistic fades linearly from step/2 to off at this step */
    float label_smooth; /* one-sided: D's target for real samples is 1 - label_smooth */
    float top_k;        /* < 1: G learns from its best-scored samples only, a fraction falling to this */
    int info_codes;     /* > 0: InfoGAN: z's last info_codes components are a one-hot code ... */
    float info_weight;  /* ... that D's extra outputs guess, both players minimising this times its cross-entropy */
    ganc_cond cond;     /* class-conditional: how G and D are told the class */
    int cond_dim;       /* concat: size of the learned class vector (0: the number of classes, at most 64) */
    float cond_weight;  /* acgan: weight of the class cross-entropy in both players' losses */
    int cond_fake;      /* acgan: D also learns the classes of generated samples (the paper's loss) */
    int classes;        /* conditional runs: the number of classes (0: the data's, set when training starts) */
    float ema;          /* > 0: exponential moving average of G's weights, used for sampling */
    float reject;      /* > 0: draw samples by discriminator rejection, M at this quantile of D's logits */
    float truncation;  /* > 0: sampling draws z from N(0, 1) truncated to [-t, t] (not training) */
    int64_t steps;     /* total iterations of the run (0: from epochs) */
    int epochs;        /* used when steps == 0 */
    uint64_t seed;
    ganc_init_scheme init;
    int sample_every, log_every, ckpt_every, keep, grid;
    int threads;
    /* the networks' products: GANC_PRECISION_FP32, _BF16 (ganc.h), or GANC_PRECISION_AUTO, which
     * a session replaces by what ganc_config_precision gives when it starts */
    int precision;
    ganc_onnan on_nan; /* non-finite loss or gradient: stop, or reload the last checkpoint */
} ganc_config;

enum { GANC_PRECISION_AUTO = 2 }; /* --precision auto: after fp32 and bf16 in the option's choices */

void ganc_config_defaults(ganc_config *c);
/* The precision a run with these options uses: auto is bf16 where the CPU multiplies bf16 in
 * hardware (ganc_bf16_hardware) and the model is one whose bf16 training has been shown to
 * match fp32's (docs/results.md, "bf16"), else fp32. */
ganc_precision ganc_config_precision(const ganc_config *c);
/* key uses '_' or '-' ("lr_g", "lr-g"). Errors say what was expected. */
int ganc_config_set(ganc_config *c, const char *key, const char *value, char err[GANC_ERR_LEN]);
/* Value of one option as text (for checkpoints and --help). NULL for an unknown key. */
const char *ganc_config_get(const ganc_config *c, const char *key, char buf[64]);

typedef struct {
    const char *key, *arg, *help;
    int in_model; /* may appear in a model file's [train] section */
} ganc_config_option;

int ganc_config_option_count(void);
const ganc_config_option *ganc_config_option_at(int i);

/* The data options (size, crop, channels, background, strict, xflip; the 2-D sets' seed) as
 * the data layer takes them. */
#include "data/source.h"
int ganc_source_options_from_config(const ganc_config *c, ganc_source_options *o, char err[GANC_ERR_LEN]);

#endif
