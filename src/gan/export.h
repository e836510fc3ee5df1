/* Generator files (`ganc export`): a trained G alone, with what sampling from it needs, small
 * enough to ship inside a program (no D, no optimizer moments, one copy of G's weights). And the
 * one reader that gives a G to sample from, from such a file or from a training checkpoint.
 *
 * A generator file is safetensors with
 *   tensors   G's views under their names (gen.0.weight, gen.1.running_mean, ...), holding the
 *             moving average of G's weights and its state when the run keeps one (--ema), else
 *             G's own: the weights `ganc sample` draws with;
 *   metadata  format = "ganc-generator-1", model (the whole model text: G is built from its
 *             [generator] lines), model.source, config.* (every option, as in checkpoints: the
 *             noise's z_dim, z_dist, truncation, mixture, InfoGAN codes, --cond and its classes,
 *             the batch G samples in, the seed `ganc sample` defaults to), data.shape ("C H W"),
 *             data.range ("LO HI", G's pixel range), data.classes (class names, one a line, when
 *             the run has them), step, weights ("ema" or "live") and ganc.version. */
#ifndef GANC_EXPORT_H
#define GANC_EXPORT_H

#include "gan/session.h"

#define GANC_GENERATOR_FORMAT "ganc-generator-1"

/* Writes s's generator to path (atomically, as checkpoints). */
int ganc_export_save(const char *path, const ganc_session *s, char err[GANC_ERR_LEN]);

/* A generator ready to sample: G built for the run's batch, in eval mode, holding the weights
 * and state it samples with (the moving average's, where kept). */
typedef struct {
    ganc_config cfg;
    ganc_net *g;
    ganc_shape data_shape;
    float lo, hi;      /* pixel range of G's output */
    int points;        /* a 2-D run (toy2d data): G makes points, not pictures */
    int64_t step;      /* the training step it comes from */
    char *classes;     /* the data's class names, one a line (malloc'd), or NULL */
    uint64_t *class_cum; /* a conditional run's cumulative class counts (ganc_alloc'd), or NULL: uniform */
    int exported;      /* 1: from a generator file, 0: from a training checkpoint */
} ganc_gen_file;

/* Reads a generator file or a training checkpoint (its G and, with --ema, the average; D and
 * the optimizer are not read). Refuses other files with a message saying what they are (a
 * feature classifier, a safetensors file of something else). */
int ganc_gen_file_load(const char *path, ganc_gen_file *out, char err[GANC_ERR_LEN]);
void ganc_gen_file_free(ganc_gen_file *f);

#endif
