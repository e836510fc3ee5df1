/* ganc — generative adversarial networks in C: public API of the library.
 *
 * Conventions
 * - Tensors are flat float32 buffers in NCHW order; a ganc_shape is the shape of ONE sample
 *   (C, H, W) and the batch size n is passed separately. A dense layer sees C*H*W features.
 * - Parameter layouts follow PyTorch (Linear (out, in); Conv2d (out, in, k, k);
 *   ConvTranspose2d (in, out, k, k); BatchNorm weight = gamma, bias = beta), so that weights
 *   are interchangeable with PyTorch state dicts.
 * - A backward pass writes the input gradient (=) and ACCUMULATES parameter gradients (+=).
 * - Functions that can fail return 0 on success and -1 on error, with a one-line message
 *   in a caller-provided buffer of GANC_ERR_LEN bytes.
 */
#ifndef GANC_H
#define GANC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GANC_ERR_LEN 256

/* ---- memory ---------------------------------------------------------------------------- */

/* The numeric buffers of the library (networks, optimizers, batchers, metrics, the classifier:
 * everything sized by a model and a batch) come from ganc_alloc: 64-byte aligned, zeroed, and
 * counted, so tests prove that nothing is allocated per step once a network is built.
 * Buffers sized by untrusted input or that grow as data arrives (the file readers and writers,
 * images, logs, model text, the command line's sample and point buffers) use malloc/realloc,
 * so that running out of memory is an error their caller can report rather than an abort, and
 * are released with free() by the module that made them. The kernels' per-thread packing
 * buffers are kept between calls (not counted: a thread's first product may come in any step)
 * until ganc_shutdown. */
/* zeroed; aborts with a message on out-of-memory; NULL (with a message) for more than
 * PTRDIFF_MAX bytes, a size no object can have: one computed with an overflow */
void *ganc_alloc(size_t bytes);
void ganc_free(void *p);
uint64_t ganc_alloc_count(void);         /* number of ganc_alloc calls so far */
/* Frees what the library keeps between calls (every thread's GEMM packing buffers). Call it
 * when no other ganc call is running, e.g. at exit; later calls allocate them again. */
void ganc_shutdown(void);

/* ---- threads --------------------------------------------------------------------------- */

void ganc_set_threads(int n);            /* 0 = all cores */
int ganc_threads(void);

/* ---- random numbers -------------------------------------------------------------------- */

/* Philox4x32-10, counter based: value i of a fill depends only on (seed, counter, i), never
 * on how many threads produce it. The whole state is two integers, so checkpoints store it. */
typedef struct {
    uint64_t seed;
    uint64_t counter; /* next 128-bit block to draw */
} ganc_rng;

void ganc_rng_seed(ganc_rng *r, uint64_t seed);
void ganc_rng_uniform(ganc_rng *r, float *out, size_t n, float lo, float hi); /* [lo, hi) */
void ganc_rng_normal(ganc_rng *r, float *out, size_t n, float mean, float std);
void ganc_rng_bernoulli(ganc_rng *r, float *out, size_t n, float p);          /* 1 with prob p */
void ganc_rng_permutation(ganc_rng *r, int32_t *out, size_t n);
uint64_t ganc_rng_u64(ganc_rng *r);
double ganc_rng_double(ganc_rng *r); /* [0, 1) with 53 random bits */

/* ---- shapes ---------------------------------------------------------------------------- */

typedef struct {
    int c, h, w;
} ganc_shape;

static inline size_t ganc_shape_size(ganc_shape s) { return (size_t)s.c * (size_t)s.h * (size_t)s.w; }

/* ---- layers ---------------------------------------------------------------------------- */

/* Every layer type, one line each: X(CONSTANT, name), name as model files write it. The enum
 * below and the library's registry of layer definitions (src/layers/registry.c: each type's
 * options, sizes, passes and FLOP count come from its own file, src/layers/<name>.c or the
 * file it shares) are both generated from this list, so adding a layer is its file plus one
 * line here. The order is the one errors list the types in. */
#define GANC_LAYER_LIST(X)        \
    X(DENSE, dense)               \
    X(CONV, conv)                 \
    X(DECONV, deconv)             \
    X(MAXOUT, maxout)             \
    X(BATCHNORM, batchnorm)       \
    X(RELU, relu)                 \
    X(LRELU, lrelu)               \
    X(ELU, elu)                   \
    X(CONCAT_ELU, concat_elu)     \
    X(TANH, tanh)                 \
    X(SIGMOID, sigmoid)           \
    X(GELU, gelu)                 \
    X(DROPOUT, dropout)           \
    X(MBSTD, mbstd)               \
    X(FLATTEN, flatten)           \
    X(RESHAPE, reshape)           \
    X(EMBED, embed)               \
    X(PROJECT, project)

#define GANC_LAYER_ENUM_ENTRY_(constant, name) GANC_LAYER_##constant,
typedef enum { GANC_LAYER_LIST(GANC_LAYER_ENUM_ENTRY_) GANC_LAYER_COUNT } ganc_layer_type;
#undef GANC_LAYER_ENUM_ENTRY_

typedef enum { GANC_PAD_EXPLICIT, GANC_PAD_SAME, GANC_PAD_VALID } ganc_pad_mode;

/* What a model-file line declares; geometry is resolved when the layer joins a network. Each
 * field belongs to the layers whose files name it as an option or size (the defaults are
 * theirs too); other layers leave it 0. */
typedef struct {
    ganc_layer_type type;
    int units;            /* dense/maxout: output features; conv/deconv: output channels */
    int k, stride;        /* square kernels */
    ganc_pad_mode pad_mode;
    int pad, outpad;      /* GANC_PAD_EXPLICIT: symmetric padding, deconv output padding */
    int bias;             /* dense/conv/deconv/maxout have a bias (default 1) */
    float eps, momentum;  /* batch norm */
    float alpha;          /* lrelu slope, elu/concat_elu alpha */
    float p;              /* dropout: probability of DROPPING a unit (PyTorch's p) */
    ganc_shape reshape;   /* reshape target */
    int has_bias_init;    /* bias_init=V: biases start at V instead of the scheme's value */
    float bias_init;
    int pieces;           /* maxout: linear pieces per unit (>= 2) */
    int group;            /* mbstd: samples per group (0: the whole batch) */
    int sn;               /* dense/conv/deconv/maxout: spectrally normalised weight */
    int classes;          /* > 0: a conditional layer (embed, project, batchnorm classes=K) that reads
                           * each sample's class in [0, classes) (ganc_net_set_labels) */
} ganc_layer_spec;

/* Parses one layer line ("conv 64 k=5 stride=2 pad=same"). Comments (#) and surrounding
 * blanks are ignored; an empty line is an error here (callers skip those). */
int ganc_layer_spec_parse(const char *line, ganc_layer_spec *spec, char err[GANC_ERR_LEN]);
const char *ganc_layer_type_name(ganc_layer_type t); /* "dense"; "?" outside the list */

/* ---- networks -------------------------------------------------------------------------- */

typedef struct ganc_net ganc_net;

/* A named view into a network's parameter or state buffer ("gen.3.weight"). */
typedef struct {
    char name[64];
    int is_state;         /* 0: in params/grads; 1: in state (batch-norm running stats, sn u/v) */
    size_t offset, count; /* in floats */
    int ndim;
    int dims[4];
} ganc_view;

typedef enum { GANC_INIT_TORCH, GANC_INIT_DCGAN } ganc_init_scheme;

/* Build a network: create with the per-sample input shape, add layers, then build for the
 * largest batch it will see. Building allocates every buffer the network will ever use. */
ganc_net *ganc_net_create(const char *name, ganc_shape input);
int ganc_net_add(ganc_net *net, const ganc_layer_spec *spec, char err[GANC_ERR_LEN]);
/* Adds every non-empty line of text; errors name `source` and the line number (counted from
 * first_line). */
int ganc_net_add_text(ganc_net *net, const char *text, const char *source, int first_line,
                      char err[GANC_ERR_LEN]);
int ganc_net_build(ganc_net *net, int max_batch, char err[GANC_ERR_LEN]);
void ganc_net_free(ganc_net *net);

void ganc_net_init(ganc_net *net, ganc_init_scheme scheme, ganc_rng *rng);
void ganc_net_set_training(ganc_net *net, int training); /* batch norm and dropout modes */
/* Weight of every mbstd layer's appended statistic: 1 as built, 0 switches it off. Returns
 * the number of mbstd layers. */
int ganc_net_set_mbstd_gate(ganc_net *net, float gate);
/* hold = 1: every mbstd layer appends the statistic of the last batch it saw while not held
 * (the mean over its groups) to each sample, whatever batch comes in: D can then score points
 * one by one, e.g. a map of the plane, as if they came in that batch (the 2-D pictures hold a
 * batch of real points). Its input gradient then has no statistic term. hold = 0: the batch's
 * own statistic again.
 * Returns the number of mbstd layers. */
int ganc_net_set_mbstd_hold(ganc_net *net, int hold);
int ganc_net_training(const ganc_net *net);

/* Forward pass on n <= max_batch samples; returns the output (owned by the network, valid
 * until the next forward). The network keeps x and every activation for the next backward.
 * Dropout masks come from the network's own generator (ganc_net_rng: seed it, save it). */
const float *ganc_net_forward(ganc_net *net, const float *x, int n);
/* The classes of the samples of the next forward and its backward (n of them, each in
 * [0, ganc_net_classes)), read by the conditional layers; the array must stay unchanged until
 * that backward has run. A forward of a conditional network without labels aborts. */
void ganc_net_set_labels(ganc_net *net, const int32_t *labels);
/* For sampling between classes: every sample's class vectors in the conditional layers become
 * (1 - t) its own + t class `to`'s (t = 0: the sample's class, t = 1: class `to`, exactly);
 * to = -1 turns it off. Forward passes only: a backward while it is on aborts. Returns -1
 * (nothing set) for a class outside [0, ganc_net_classes) or a t outside [0, 1]. */
int ganc_net_set_class_mix(ganc_net *net, int to, float t);
/* The largest `classes` of the network's layers: 0 for an unconditional network. */
int ganc_net_classes(const ganc_net *net);
ganc_rng *ganc_net_rng(ganc_net *net);

/* Backward of the last forward: dy is the gradient of the loss wrt the output. Writes the
 * input gradient into dx when dx != NULL; accumulates parameter gradients when
 * param_grads != 0 (0 = only the input gradient, e.g. G's update through a frozen D). */
void ganc_net_backward(ganc_net *net, const float *dy, float *dx, int param_grads);

void ganc_net_zero_grad(ganc_net *net);

/* Per-layer timing for benchmarks: when on, every forward/backward adds its wall time per
 * layer to the arrays returned by ganc_net_profile (seconds; n_layers each). */
void ganc_net_set_profiling(ganc_net *net, int on);
void ganc_net_profile(const ganc_net *net, const double **forward, const double **backward);
/* Multiply-adds x 2 of one forward of layer i for n samples, as the layer's file counts them
 * (dense, maxout, conv, deconv; 0 for layers that count none). A backward costs twice that
 * (input and weight gradients). */
double ganc_net_layer_flops(const ganc_net *net, int i, int n);

ganc_shape ganc_net_input_shape(const ganc_net *net);
ganc_shape ganc_net_output_shape(const ganc_net *net);
int ganc_net_max_batch(const ganc_net *net);
int ganc_net_layer_count(const ganc_net *net);
ganc_shape ganc_net_layer_output_shape(const ganc_net *net, int i);
const ganc_layer_spec *ganc_net_layer_spec(const ganc_net *net, int i);
/* Output of layer i from the last forward. */
const float *ganc_net_layer_output(const ganc_net *net, int i);

size_t ganc_net_param_count(const ganc_net *net);
float *ganc_net_params(ganc_net *net);
float *ganc_net_grads(ganc_net *net);
size_t ganc_net_state_count(const ganc_net *net);
float *ganc_net_state(ganc_net *net);
int ganc_net_view_count(const ganc_net *net);
const ganc_view *ganc_net_view(const ganc_net *net, int i);
const ganc_view *ganc_net_find_view(const ganc_net *net, const char *name);
/* Pointer to a view's first float (in params or state). */
float *ganc_net_view_data(ganc_net *net, const ganc_view *v);
float *ganc_net_view_grad(ganc_net *net, const ganc_view *v); /* NULL for state views */

/* ---- optimizers ------------------------------------------------------------------------ */

typedef enum { GANC_OPTIM_ADAM, GANC_OPTIM_SGD } ganc_optim_type;

typedef struct {
    ganc_optim_type type;
    float lr;
    float beta1, beta2, eps; /* Adam */
    float momentum;          /* SGD */
    int nesterov;            /* SGD */
    float weight_decay;      /* L2 added to the gradient, as torch.optim.Adam/SGD do */
} ganc_optim_config;

typedef struct {
    ganc_optim_config cfg;
    size_t n;
    int64_t step;   /* number of steps taken */
    float *m, *v;   /* Adam moments / SGD momentum buffer (m) */
} ganc_optim;

ganc_optim_config ganc_optim_default(ganc_optim_type type);
void ganc_optim_init(ganc_optim *opt, const ganc_optim_config *cfg, size_t n);
void ganc_optim_free(ganc_optim *opt);
/* One update of params from grads (the caller zeroes grads afterwards). */
void ganc_optim_step(ganc_optim *opt, float *params, const float *grads);

/* ---- losses ---------------------------------------------------------------------------- */

/* Mean sigmoid cross-entropy with logits over n values, stable for any finite logit.
 * targets == NULL means every target equals `target`. When dz != NULL, writes
 * dz[i] = scale * d(loss)/dz[i]. Returns the mean loss (computed in double). */
double ganc_bce_logits(const float *z, const float *targets, float target, int n, float *dz,
                       float scale);

/* Mean softmax cross-entropy with logits over n rows of k logits (row-major) against integer
 * labels in [0, k): l = logsumexp(z) - z[label], computed with the row maximum subtracted, so
 * it is finite for any finite logits. When dz != NULL, writes
 * dz = scale * (softmax(z) - onehot(label)) / n (the gradient of the mean, scaled). Returns the
 * mean loss (computed in double), or NaN when a label is outside [0, k). */
double ganc_softmax_xent(const float *z, const int32_t *labels, int n, int k, float *dz, float scale);
/* Row-wise softmax of n rows of k logits into p (p may equal z). */
void ganc_softmax(const float *z, int n, int k, float *p);

#ifdef __cplusplus
}
#endif
#endif
