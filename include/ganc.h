/* ganc — generative adversarial networks in C: public API of the library.
 *
 * A program that only draws from a trained generator needs the last sections, "generators"
 * (ganc_generator_open, _sample, _close) and "pictures"; the rest is the machinery training is
 * built from (layers, networks, optimizers, losses, random numbers).
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

/* ---- version and exports --------------------------------------------------------------- */

/* The library's semantic version. While MAJOR is 0, a MINOR release may change the API and the
 * ABI, so the shared library's SONAME carries both numbers (libganc.so.0.MINOR); a PATCH release
 * changes neither. From 1.0 on the SONAME is libganc.so.MAJOR and only a MAJOR release breaks
 * programs built against an older header. */
#define GANC_VERSION_MAJOR 0
#define GANC_VERSION_MINOR 2
#define GANC_VERSION_PATCH 0
#define GANC_VERSION_STRING "0.2.0"
#define GANC_VERSION_NUMBER (GANC_VERSION_MAJOR * 10000 + GANC_VERSION_MINOR * 100 + GANC_VERSION_PATCH)

/* Marks the functions of this header, the library's public API: the library is compiled with
 * -fvisibility=hidden, so these are the only symbols libganc.so exports (its internal functions
 * cannot clash with a program's own or be called as if they were API). */
#if defined(__GNUC__) || defined(__clang__)
#define GANC_API __attribute__((visibility("default")))
#else
#define GANC_API
#endif

/* The version of the library a program runs with (GANC_VERSION_NUMBER is the one it was
 * compiled against): MAJOR * 10000 + MINOR * 100 + PATCH, and as text ("0.2.0"). */
GANC_API int ganc_version(void);
GANC_API const char *ganc_version_string(void);

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
GANC_API void *ganc_alloc(size_t bytes);
GANC_API void ganc_free(void *p);
GANC_API uint64_t ganc_alloc_count(void);         /* number of ganc_alloc calls so far */
/* Frees what the library keeps between calls (every thread's GEMM packing buffers). Call it
 * when no other ganc call is running, e.g. at exit; later calls allocate them again. */
GANC_API void ganc_shutdown(void);

/* ---- threads --------------------------------------------------------------------------- */

GANC_API void ganc_set_threads(int n);            /* 0 = all cores */
GANC_API int ganc_threads(void);

/* ---- random numbers -------------------------------------------------------------------- */

/* Philox4x32-10, counter based: value i of a fill depends only on (seed, counter, i), never
 * on how many threads produce it. The whole state is two integers, so checkpoints store it. */
typedef struct {
    uint64_t seed;
    uint64_t counter; /* next 128-bit block to draw */
} ganc_rng;

GANC_API void ganc_rng_seed(ganc_rng *r, uint64_t seed);
GANC_API void ganc_rng_uniform(ganc_rng *r, float *out, size_t n, float lo, float hi); /* [lo, hi) */
GANC_API void ganc_rng_normal(ganc_rng *r, float *out, size_t n, float mean, float std);
GANC_API void ganc_rng_bernoulli(ganc_rng *r, float *out, size_t n, float p);          /* 1 with prob p */
GANC_API void ganc_rng_permutation(ganc_rng *r, int32_t *out, size_t n);
GANC_API uint64_t ganc_rng_u64(ganc_rng *r);
GANC_API double ganc_rng_double(ganc_rng *r); /* [0, 1) with 53 random bits */

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
GANC_API int ganc_layer_spec_parse(const char *line, ganc_layer_spec *spec, char err[GANC_ERR_LEN]);
GANC_API const char *ganc_layer_type_name(ganc_layer_type t); /* "dense"; "?" outside the list */

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
GANC_API ganc_net *ganc_net_create(const char *name, ganc_shape input);
GANC_API int ganc_net_add(ganc_net *net, const ganc_layer_spec *spec, char err[GANC_ERR_LEN]);
/* Adds every non-empty line of text; errors name `source` and the line number (counted from
 * first_line). */
GANC_API int ganc_net_add_text(ganc_net *net, const char *text, const char *source, int first_line,
                               char err[GANC_ERR_LEN]);
GANC_API int ganc_net_build(ganc_net *net, int max_batch, char err[GANC_ERR_LEN]);
GANC_API void ganc_net_free(ganc_net *net);

GANC_API void ganc_net_init(ganc_net *net, ganc_init_scheme scheme, ganc_rng *rng);
GANC_API void ganc_net_set_training(ganc_net *net, int training); /* batch norm and dropout modes */
/* Weight of every mbstd layer's appended statistic: 1 as built, 0 switches it off. Returns
 * the number of mbstd layers. */
GANC_API int ganc_net_set_mbstd_gate(ganc_net *net, float gate);
/* hold = 1: every mbstd layer appends the statistic of the last batch it saw while not held
 * (the mean over its groups) to each sample, whatever batch comes in: D can then score points
 * one by one, e.g. a map of the plane, as if they came in that batch (the 2-D pictures hold a
 * batch of real points). Its input gradient then has no statistic term. hold = 0: the batch's
 * own statistic again.
 * Returns the number of mbstd layers. */
GANC_API int ganc_net_set_mbstd_hold(ganc_net *net, int hold);
GANC_API int ganc_net_training(const ganc_net *net);
/* The arithmetic of the network's matrix products (conv, deconv, dense, maxout; forward and
 * backward): fp32, or bf16 (their inputs rounded to bfloat16, to nearest even, the products
 * summed in fp32). Parameters, gradients, optimizer moments, batch-norm statistics and every
 * other layer stay fp32 either way. A property of the network, so that two networks in two
 * threads may differ; fp32 as built. */
typedef enum { GANC_PRECISION_FP32, GANC_PRECISION_BF16 } ganc_precision;
GANC_API void ganc_net_set_precision(ganc_net *net, ganc_precision precision);
GANC_API ganc_precision ganc_net_precision(const ganc_net *net);
/* The kernels bf16 products run on in this process, chosen by CPUID: "AMX-BF16",
 * "AVX512-BF16", or "emulated" (exact software rounding, fp32 speed at best). */
GANC_API const char *ganc_bf16_kernels(void);
/* Whether bf16 products run in hardware here (AVX512-BF16 or AMX-BF16, not forced to the
 * emulation by GANC_BF16=emulated). */
GANC_API int ganc_bf16_hardware(void);

/* Forward pass on n <= max_batch samples; returns the output (owned by the network, valid
 * until the next forward). The network keeps x and every activation for the next backward.
 * Dropout masks come from the network's own generator (ganc_net_rng: seed it, save it). */
GANC_API const float *ganc_net_forward(ganc_net *net, const float *x, int n);
/* The classes of the samples of the next forward and its backward (n of them, each in
 * [0, ganc_net_classes)), read by the conditional layers; the array must stay unchanged until
 * that backward has run. A forward of a conditional network without labels aborts. */
GANC_API void ganc_net_set_labels(ganc_net *net, const int32_t *labels);
/* For sampling between classes: every sample's class vectors in the conditional layers become
 * (1 - t) its own + t class `to`'s (t = 0: the sample's class, t = 1: class `to`, exactly);
 * to = -1 turns it off. Forward passes only: a backward while it is on aborts. Returns -1
 * (nothing set) for a class outside [0, ganc_net_classes) or a t outside [0, 1]. */
GANC_API int ganc_net_set_class_mix(ganc_net *net, int to, float t);
/* The largest `classes` of the network's layers: 0 for an unconditional network. */
GANC_API int ganc_net_classes(const ganc_net *net);
GANC_API ganc_rng *ganc_net_rng(ganc_net *net);

/* Backward of the last forward: dy is the gradient of the loss wrt the output. Writes the
 * input gradient into dx when dx != NULL; accumulates parameter gradients when
 * param_grads != 0 (0 = only the input gradient, e.g. G's update through a frozen D). */
GANC_API void ganc_net_backward(ganc_net *net, const float *dy, float *dx, int param_grads);

GANC_API void ganc_net_zero_grad(ganc_net *net);

/* Per-layer timing for benchmarks: when on, every forward/backward adds its wall time per
 * layer to the arrays returned by ganc_net_profile (seconds; n_layers each). */
GANC_API void ganc_net_set_profiling(ganc_net *net, int on);
GANC_API void ganc_net_profile(const ganc_net *net, const double **forward, const double **backward);
/* Multiply-adds x 2 of one forward of layer i for n samples, as the layer's file counts them
 * (dense, maxout, conv, deconv; 0 for layers that count none). A backward costs twice that
 * (input and weight gradients). */
GANC_API double ganc_net_layer_flops(const ganc_net *net, int i, int n);

GANC_API ganc_shape ganc_net_input_shape(const ganc_net *net);
GANC_API ganc_shape ganc_net_output_shape(const ganc_net *net);
GANC_API int ganc_net_max_batch(const ganc_net *net);
GANC_API int ganc_net_layer_count(const ganc_net *net);
GANC_API ganc_shape ganc_net_layer_output_shape(const ganc_net *net, int i);
GANC_API const ganc_layer_spec *ganc_net_layer_spec(const ganc_net *net, int i);
/* Output of layer i from the last forward. */
GANC_API const float *ganc_net_layer_output(const ganc_net *net, int i);

GANC_API size_t ganc_net_param_count(const ganc_net *net);
GANC_API float *ganc_net_params(ganc_net *net);
GANC_API float *ganc_net_grads(ganc_net *net);
GANC_API size_t ganc_net_state_count(const ganc_net *net);
GANC_API float *ganc_net_state(ganc_net *net);
GANC_API int ganc_net_view_count(const ganc_net *net);
GANC_API const ganc_view *ganc_net_view(const ganc_net *net, int i);
GANC_API const ganc_view *ganc_net_find_view(const ganc_net *net, const char *name);
/* Pointer to a view's first float (in params or state). */
GANC_API float *ganc_net_view_data(ganc_net *net, const ganc_view *v);
GANC_API float *ganc_net_view_grad(ganc_net *net, const ganc_view *v); /* NULL for state views */

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

GANC_API ganc_optim_config ganc_optim_default(ganc_optim_type type);
GANC_API void ganc_optim_init(ganc_optim *opt, const ganc_optim_config *cfg, size_t n);
GANC_API void ganc_optim_free(ganc_optim *opt);
/* One update of params from grads (the caller zeroes grads afterwards). */
GANC_API void ganc_optim_step(ganc_optim *opt, float *params, const float *grads);

/* ---- losses ---------------------------------------------------------------------------- */

/* Mean sigmoid cross-entropy with logits over n values, stable for any finite logit.
 * targets == NULL means every target equals `target`. When dz != NULL, writes
 * dz[i] = scale * d(loss)/dz[i]. Returns the mean loss (computed in double). */
GANC_API double ganc_bce_logits(const float *z, const float *targets, float target, int n, float *dz,
                                float scale);

/* Mean softmax cross-entropy with logits over n rows of k logits (row-major) against integer
 * labels in [0, k): l = logsumexp(z) - z[label], computed with the row maximum subtracted, so
 * it is finite for any finite logits. When dz != NULL, writes
 * dz = scale * (softmax(z) - onehot(label)) / n (the gradient of the mean, scaled). Returns the
 * mean loss (computed in double), or NaN when a label is outside [0, k). */
GANC_API double ganc_softmax_xent(const float *z, const int32_t *labels, int n, int k, float *dz, float scale);
/* Row-wise softmax of n rows of k logits into p (p may equal z). */
GANC_API void ganc_softmax(const float *z, int n, int k, float *p);

/* ---- generators: samples from a trained G (the inference API) --------------------------
 *
 * What a program that ships a trained generator needs, and nothing of training:
 *
 *     char err[GANC_ERR_LEN];
 *     ganc_generator *gen = ganc_generator_open("gen.safetensors", 16, err);
 *     if (!gen) { fprintf(stderr, "%s\n", err); return 1; }
 *     const size_t floats = 16 * ganc_shape_size(ganc_generator_shape(gen));
 *     float *x = malloc(sizeof(float) * floats);
 *     ganc_sample_opts o = ganc_generator_defaults(gen);
 *     o.seed = 42;
 *     if (ganc_generator_sample(gen, &o, 16, x, floats, NULL, err)) ... err says why
 *     ganc_generator_close(gen);
 *
 * Files: a training checkpoint (RUN/ckpt/step_*.safetensors) or a file written by
 * `ganc export RUN -o gen.safetensors` (G alone, much smaller); both open alike.
 *
 * Samples: with the same seed, class, code and truncation, ganc_generator_sample gives n samples
 * equal, bit for bit, to those of `ganc sample RUN --seed S -n n [--class C] [--code C]
 * [--truncation T]` (the same noise stream, G in eval mode, the moving average of G's weights
 * and state where the run keeps one), when both run with the same library build and thread
 * count (ganc_set_threads; `ganc sample --threads`). Rejection sampling (--reject) needs the
 * discriminator and is not offered: a run trained with --reject draws here as
 * `ganc sample --reject 0` does.
 *
 * Errors: a function that can fail returns 0 (open: the handle) on success and -1 (open: NULL)
 * on failure, with a one-line message in err (GANC_ERR_LEN bytes; err may be NULL). A failed
 * call changes neither the handle nor the caller's buffers. Passing a handle that is NULL or
 * closed to the query functions is a programming error, not checked.
 *
 * Lifetime and threads: open allocates all a handle will use (G built for the run's batch,
 * latent vectors for max_batch samples); sampling allocates nothing more (only a thread's
 * first matrix product may allocate that thread's scratch, kept until ganc_shutdown). Strings
 * a handle returns live until it is closed. A handle is used by one thread at a time;
 * separate handles may sample from separate threads at once. Each call spreads G's layers over
 * ganc_threads() threads (OpenMP): with several handles busy at once, ganc_set_threads(1)
 * before opening them keeps the cores from being oversubscribed. */

typedef struct ganc_generator ganc_generator;

/* Opens a checkpoint or exported generator for draws of up to max_batch samples a call
 * (1 .. 1000000; memory for that many latent vectors is kept). */
GANC_API ganc_generator *ganc_generator_open(const char *path, int max_batch, char err[GANC_ERR_LEN]);
GANC_API void ganc_generator_close(ganc_generator *gen); /* NULL is allowed */

GANC_API ganc_shape ganc_generator_shape(const ganc_generator *gen); /* one sample, (C, H, W) */
GANC_API int ganc_generator_max_batch(const ganc_generator *gen);
/* The pixel range of ganc_generator_sample's floats: [0, 1] (G ends in sigmoid) or [-1, 1]
 * (tanh). The bytes of ganc_generator_sample_u8 map it to 0..255. */
GANC_API void ganc_generator_range(const ganc_generator *gen, float *lo, float *hi);
GANC_API int ganc_generator_z_dim(const ganc_generator *gen); /* noise values per sample */
/* Conditional runs (--cond): the number of classes K; 0 for an unconditional run. */
GANC_API int ganc_generator_classes(const ganc_generator *gen);
/* Class k's name as the data named it ("Sneaker"); NULL for k outside [0, K) or a class the data
 * did not name. */
GANC_API const char *ganc_generator_class_name(const ganc_generator *gen, int k);
/* The class a name or number ("Sneaker", "7") stands for, as `ganc sample --class`; -1: none. */
GANC_API int ganc_generator_find_class(const ganc_generator *gen, const char *name_or_number);
/* InfoGAN runs (--info-codes K): the number of codes K; 0 without. */
GANC_API int ganc_generator_codes(const ganc_generator *gen);
GANC_API int64_t ganc_generator_step(const ganc_generator *gen); /* the training step it holds */
/* The arithmetic of G's products from now on (ganc_net_set_precision): the run's own (its
 * --precision) until set. The weights are fp32 either way; the two precisions' samples differ
 * in their last bits. */
GANC_API void ganc_generator_set_precision(ganc_generator *gen, ganc_precision precision);

typedef struct {
    uint64_t seed;     /* as `ganc sample --seed S` */
    int class_id;      /* conditional runs: every sample of this class (0 .. K-1); -1: classes drawn
                        * uniformly, as ganc sample draws them */
    int code;          /* InfoGAN runs: every sample with this code (0 .. K-1); -1: drawn uniformly */
    double truncation; /* normal z truncated to [-t, t] (t >= 0.05); 0: off; < 0: the run's setting */
} ganc_sample_opts;

/* The draw `ganc sample RUN` makes without options: the run's seed, classes and codes drawn,
 * the run's truncation. */
GANC_API ganc_sample_opts ganc_generator_defaults(const ganc_generator *gen);

/* Draws n samples (1 .. max_batch) into out, n x C x H x W floats (NCHW, as the rest of ganc) in
 * the pixel range; capacity is out's size in floats (a smaller one is an error, nothing is
 * written). opts NULL: the defaults. classes, when not NULL, receives each sample's class
 * (n of them; -1 for an unconditional run). */
GANC_API int ganc_generator_sample(ganc_generator *gen, const ganc_sample_opts *opts, int n, float *out,
                                   size_t capacity, int32_t *classes, char err[GANC_ERR_LEN]);
/* The same samples as bytes, n x H x W x C (interleaved: pixel by pixel, as image files store
 * them), each value round(255 (v - lo) / (hi - lo)) clamped to 0..255: the values ganc's PNGs
 * hold. capacity in bytes. Not for 2-D runs, whose samples are points. */
GANC_API int ganc_generator_sample_u8(ganc_generator *gen, const ganc_sample_opts *opts, int n, uint8_t *out,
                                      size_t capacity, int32_t *classes, char err[GANC_ERR_LEN]);

/* ---- pictures -------------------------------------------------------------------------- */

/* Writes n samples of shape s (NCHW floats with values in [lo, hi]) as a PNG grid with `cols`
 * columns (0: about square) and a 2-pixel border between cells: the file `ganc sample -o
 * FILE.png` writes. c = 1 gives grey, c = 3 RGB (planes are channels); other c: the first
 * channel as grey. */
GANC_API int ganc_png_grid(const char *path, const float *x, int n, ganc_shape s, float lo, float hi, int cols,
                           char err[GANC_ERR_LEN]);

#ifdef __cplusplus
}
#endif
#endif
