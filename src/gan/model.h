/* Model files: the generator and discriminator declared as text, with training defaults.
 *
 *   # comment
 *   [generator]            input: z as (z_dim, 1, 1); output must match the data's (C, H, W)
 *   deconv 128 k=3 pad=valid bias=0
 *   ...
 *   deconv $c k=5 stride=2 pad=same
 *   sigmoid                last layer: sigmoid (pixels in [0, 1]) or tanh ([-1, 1])
 *   [discriminator]        input: the data's (C, H, W); output: one logit
 *   conv 32 k=5 stride=2 pad=same
 *   ...
 *   [train]                defaults for this model; command-line flags override them
 *   lr_g = 2e-4
 *   [train ring]           defaults for --data ring only, over [train]'s (flags still win)
 *   lr_g = 1e-4
 *
 * Layer lines may use $z (noise dimension), $c, $h, $w (data shape), $pixels (c*h*w), $dout
 * (D's outputs per sample: 1, or 1 + K with --info-codes K or --cond acgan on K classes) and
 * $classes (a conditional run's K). */
#ifndef GANC_MODEL_H
#define GANC_MODEL_H

#include "gan/config.h"

typedef struct {
    char source[512]; /* preset name or file path, for messages */
    char *text;       /* the whole file (stored in checkpoints) */
} ganc_model;

/* Loads a preset by name, or a file. */
int ganc_model_load(const char *name_or_path, ganc_model *m, char err[GANC_ERR_LEN]);
/* From text already in memory (a checkpoint's copy). */
int ganc_model_from_text(const char *text, const char *source, ganc_model *m, char err[GANC_ERR_LEN]);
void ganc_model_free(ganc_model *m);

/* Applies the [train] section to cfg. Errors name source:line. */
int ganc_model_apply_train(const ganc_model *m, ganc_config *cfg, char err[GANC_ERR_LEN]);
/* Applies the [train DATA] section for this data name (the --data value as given), if any. */
int ganc_model_apply_train_data(const ganc_model *m, const char *data, ganc_config *cfg, char err[GANC_ERR_LEN]);

/* Builds G (input z_dim x 1 x 1) and D (input the data with cfg->pack times its channels:
 * PacGAN) for batches up to cfg->batch; checks that G's output is the data shape, ends in
 * sigmoid/tanh (setting the pixel range *lo, *hi), and that D outputs one logit per sample
 * (plus its guesses: info_codes of the InfoGAN code, K classes with --cond acgan; $dout is
 * their number plus 1). With points (2-D data) G may end in any layer. Errors name source:line.
 *
 * --cond (cfg->classes = K classes, at least 2) on a model whose lines do not name their
 * classes puts the class in:
 *   concat      `embed N classes=K` (N = cfg->cond_dim, else min(K, 64)) first in G, on z, and
 *               in D after its first activation that follows a weighted layer, as N more
 *               channels of its first hidden features (D's input when it has none);
 *   projection  every batchnorm of G conditional (classes=K; without one, the embed on z), and
 *               D's last weighted layer, its logit ('dense 1', or a convolution to one value
 *               over its whole input), becomes `project classes=K`;
 *   acgan       the embed on z, and D's last weighted layer gives $dout = 1 + K outputs.
 * A model that writes classes= (with $classes) is built as written, and needs --cond. */
int ganc_model_build(const ganc_model *m, const ganc_config *cfg, ganc_shape data, int points, ganc_net **g,
                     ganc_net **d, float *lo, float *hi, char err[GANC_ERR_LEN]);

/* G alone, as ganc_model_build makes it (the same layers, checks and pixel range), its
 * discriminator's lines skipped: for sampling from a generator without its D (gan/generator.c). */
int ganc_model_build_generator(const ganc_model *m, const ganc_config *cfg, ganc_shape data, int points, ganc_net **g,
                               float *lo, float *hi, char err[GANC_ERR_LEN]);

/* The shape the generator makes for data of this shape (its lines may use $c $h $w), its
 * discriminator left unbuilt: for a tool without data to pick the size a model is made for. */
int ganc_model_generator_shape(const ganc_model *m, int z_dim, ganc_shape data, ganc_shape *out, char err[GANC_ERR_LEN]);

/* Names of the built-in presets, NULL-terminated. */
const char *const *ganc_model_presets(void);

#endif
