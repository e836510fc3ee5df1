/* Everything a training run is: its configuration, model text, the two networks in their
 * game with optimizers and random streams, and where it stands (step, data position).
 * A checkpoint is a session written to disk; loading one gives back the same session. */
#ifndef GANC_SESSION_H
#define GANC_SESSION_H

#include "gan/game.h"
#include "gan/model.h"
#include "data/toy2d.h"
#include "io/safetensors.h"
#include "gan/st_builder.h"

typedef struct {
    ganc_config cfg;
    ganc_model model;
    ganc_shape data_shape;
    float lo, hi;      /* pixel range of G's output activation */
    const ganc_toy2d *toy; /* 2-D data set (ring, grid) when --data names one, else NULL */
    ganc_game game;
    int64_t step;      /* iterations completed */
    int64_t epoch;     /* data position: epoch and index within it */
    int pos;
    char *classes;     /* the data's class names, one a line (malloc'd), or NULL: kept in checkpoints */
    int sync_bn;       /* a data-parallel run's --sync-bn: kept in checkpoints, so a resumed run keeps it */
} ganc_session;

/* A fresh session: builds G and D from the model for data_shape and initialises weights. */
int ganc_session_create(ganc_session *s, const ganc_config *cfg, const ganc_model *model, ganc_shape data_shape,
                        char err[GANC_ERR_LEN]);
void ganc_session_free(ganc_session *s);
/* Records the data's n class names (a line break inside a name becomes a space); 0 clears. */
int ganc_session_set_classes(ganc_session *s, char *const *names, int n, char err[GANC_ERR_LEN]);
/* How many class names the session holds (lines of s->classes). */
int ganc_session_class_count(const ganc_session *s);
/* Class k's name (line k of s->classes) into buf (cap bytes, cut short to fit), else its
 * number as text. */
const char *ganc_session_class_name(const ganc_session *s, int k, char *buf, size_t cap);
/* How the run's samples are drawn, changed after it was created or loaded (resume, sample,
 * eval): reject and truncation (< 0: keep the run's), copied where the game reads them and
 * checked (ganc_reject_check, ganc_game_check_truncation). */
int ganc_session_sampling(ganc_session *s, double reject, double truncation, char err[GANC_ERR_LEN]);
/* The arithmetic of G's and D's products from now on (sample, eval and bench --precision): a
 * config's precision value, auto resolved as ganc_config_precision does. The parameters are
 * fp32 whatever the precision, so any checkpoint runs in either. */
void ganc_session_set_precision(ganc_session *s, int precision);

/* safetensors: weights and running statistics under their view names (gen.0.weight ...),
 * optimizer moments (optim.gen.m ...), G's moving average (ema.gen ...), and in the metadata
 * the step, data position, random streams, the model text and every hyper-parameter. Written
 * atomically; nothing is left out (a name too long for the file fails the save). */
int ganc_checkpoint_save(const char *path, const ganc_session *s, char err[GANC_ERR_LEN]);
/* Restores a session exactly, its networks built for the run's batch. */
int ganc_checkpoint_load(const char *path, ganc_session *s, char err[GANC_ERR_LEN]);

/* The pieces of the checkpoint reader that generator files share (gan/export.c). The run's
 * configuration (the config.* metadata over the defaults, each checked as the command line's)
 * and the data shape (data.shape). */
int ganc_checkpoint_config(const ganc_st_file *f, const char *path, ganc_config *cfg, ganc_shape *data,
                           char err[GANC_ERR_LEN]);
/* Every view of net from the tensor of its name: present, F32, of the view's shape and size. */
int ganc_checkpoint_load_net(const ganc_st_file *f, const char *path, ganc_net *net, char err[GANC_ERR_LEN]);
/* Tensor `name` into dst (count floats) after checking its dtype and size. */
int ganc_checkpoint_load_tensor(const ganc_st_file *f, const char *path, const char *name, float *dst, size_t count,
                                char err[GANC_ERR_LEN]);
/* A conditional run's class frequencies (data.class_counts: its training set's counts, which
 * sampling draws classes by): written when the game has them; read into *cum (K cumulative
 * counts, ganc_alloc'd), NULL when the file has none (older runs: classes drawn uniformly). */
void ganc_checkpoint_meta_class_counts(ganc_st_builder *b, const ganc_game *gm);
int ganc_checkpoint_class_cum(const ganc_st_file *f, const char *path, int classes, uint64_t **cum,
                              char err[GANC_ERR_LEN]);

#endif
