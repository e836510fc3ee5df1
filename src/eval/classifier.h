/* The feature network of `ganc eval` (docs/design.md §5: no Inception weights offline): a small CNN classifier trained on a
 * data set's labels. Its penultimate activations are the feature space of FID, KID and
 * precision/recall; its softmax gives class histograms and confidence.
 *
 * The architecture is model text (one layer per line, as in model files), stored in the file
 * with the weights, so a classifier file is self-describing: safetensors with the weights under
 * the network's view names (cls.0.weight, cls.1.running_mean, ...) and in the metadata
 * format = "ganc-classifier-1", arch, shape "C H W", classes, test_accuracy, plus whatever the
 * trainer adds (data, seed, ...). Inputs are pixels in [0, 1]. */
#ifndef GANC_EVAL_CLASSIFIER_H
#define GANC_EVAL_CLASSIFIER_H

#include "data/data.h"
#include "ganc.h"
#include "io/safetensors.h"

#define GANC_CLASSIFIER_FORMAT "ganc-classifier-1"

typedef struct {
    ganc_net *net;
    char *arch;            /* the layer lines (malloc'ed) */
    ganc_shape shape;      /* input shape of one image */
    int classes;
    int feature_layer;     /* layer whose output is the feature vector: the one before the last dense */
    int feature_dim;
    double test_accuracy;  /* NaN when not measured */
    char data[512];        /* what it was trained on (metadata "data"), for messages */
} ganc_classifier;

/* The built-in architecture for `classes` classes and inputs of `shape`, as text (stride-2
 * conv/batchnorm/relu blocks until the side is at most 8, at least two; a dense feature layer,
 * dropout, dense classes). Returns the length written (snprintf's). */
int ganc_classifier_default_arch(int classes, ganc_shape shape, char *buf, size_t cap);

/* Builds the network from arch for inputs of `shape` and batches up to max_batch, initialised
 * from seed (PyTorch's default initialisation; dropout masks from a stream of the same seed).
 * The arch must end in `dense classes`, with at least one layer before it. */
int ganc_classifier_create(ganc_classifier *c, const char *arch, ganc_shape shape, int classes, int max_batch,
                           uint64_t seed, char err[GANC_ERR_LEN]);
void ganc_classifier_free(ganc_classifier *c);

/* Writes the weights, running statistics and metadata (the fixed keys above, then extra). */
int ganc_classifier_save(const char *path, const ganc_classifier *c, const ganc_st_meta *extra, int n_extra,
                         char err[GANC_ERR_LEN]);
/* Loads a file written by ganc_classifier_save, building the network for max_batch. */
int ganc_classifier_load(const char *path, int max_batch, ganc_classifier *c, char err[GANC_ERR_LEN]);

/* Eval mode on n images (pixels in [0, 1], any n: done in chunks of the built batch).
 * features: n x feature_dim, probs: n x classes (softmax); either may be NULL. Each image's
 * outputs depend on that image alone (batch norm uses its running statistics). */
void ganc_classifier_run(ganc_classifier *c, const float *x, int n, float *features, float *probs);

/* ---- training ---------------------------------------------------------------------------- */

typedef struct {
    int epochs, batch;
    float lr;           /* Adam's peak learning rate; it follows a cosine from lr to lr/100 */
    float weight_decay;
    uint64_t seed;      /* the data order (the weights' seed is the one given to create) */
} ganc_classifier_train_cfg;

ganc_classifier_train_cfg ganc_classifier_train_defaults(void);

/* One training run's state: everything a step touches is allocated by init, none by step. */
typedef struct {
    ganc_classifier *c;
    const ganc_dataset *ds;
    ganc_classifier_train_cfg cfg;
    ganc_optim opt;
    ganc_batcher batcher;
    int32_t *idx, *labels;
    float *x, *dz;
    int64_t step, total; /* steps taken, steps of the run (epochs x ceil(n_train / batch)) */
} ganc_classifier_trainer;

/* Trains on ds's images [0, n_train), which must have labels below c->classes; c must be built
 * for cfg->batch or more. */
int ganc_classifier_trainer_init(ganc_classifier_trainer *t, ganc_classifier *c, const ganc_dataset *ds, int n_train,
                                 const ganc_classifier_train_cfg *cfg, char err[GANC_ERR_LEN]);
/* One Adam step on the next batch; returns the batch's mean loss and adds its correct
 * predictions (training mode) to *correct when correct != NULL. */
double ganc_classifier_trainer_step(ganc_classifier_trainer *t, int64_t *correct);
void ganc_classifier_trainer_free(ganc_classifier_trainer *t);

/* Fraction of images [from, from + n) of ds whose argmax class is their label (eval mode). */
int ganc_classifier_accuracy(ganc_classifier *c, const ganc_dataset *ds, int from, int n, double *accuracy,
                             char err[GANC_ERR_LEN]);

#endif
