/* A network: a sequence of layers over one contiguous parameter buffer, one gradient buffer
 * and one state buffer, with named views into them. ganc_net_build allocates every buffer
 * the network will use (activations for max_batch samples, saved values, scratch, gradient
 * ping-pong), so forward and backward never allocate. */
#include "ganc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The scratch of one or more networks (ganc_net_share_work): one block per thread of the
 * widest layer, then the largest block a layer's threads share (ganc_pass.shared), then the
 * backward pass's two gradient buffers. Only scratch within a layer's call, or within one
 * backward, lives there, so networks that never run at the same time can use one: the
 * largest of their needs instead of the sum. */
typedef struct {
    float *data;
    size_t floats;
    int refs;
} net_work;

struct ganc_net {
    char name[32];
    ganc_shape input;
    ganc_layer *layers;
    int n_layers, cap_layers;
    int built, max_batch, training, work_slots;
    size_t n_params, n_state;
    float *params, *grads, *state, *saved, *acts;
    net_work *work;
    size_t work_shared_at; /* ganc_pass.shared: work->data + this, after the threads' blocks */
    size_t grad_at, grad_floats; /* the gradient buffers: work->data + grad_at, and grad_floats on */
    ganc_view *views;
    int n_views;
    ganc_rng rng;
    const float *last_x;
    int last_n;
    const int32_t *labels; /* ganc_net_set_labels */
    int mix_to;            /* ganc_net_set_class_mix: -1 off */
    float mix_t;
    int profiling;
    double *prof_fwd, *prof_bwd;
    void (*sum)(void *ctx, double *v, int n); /* ganc_net_set_sum */
    void *sum_ctx;
    int shard_first, shard_total; /* ganc_net_set_shard */
    int bf16; /* ganc_net_set_precision */
};

ganc_net *ganc_net_create(const char *name, ganc_shape input)
{
    ganc_net *net = ganc_alloc(sizeof *net);
    snprintf(net->name, sizeof net->name, "%s", name);
    net->input = input;
    net->training = 1;
    net->mix_to = -1;
    ganc_rng_seed(&net->rng, 0);
    return net;
}

static void drop_work(ganc_net *net)
{
    if (net->work && --net->work->refs == 0) {
        ganc_free(net->work->data);
        ganc_free(net->work);
    }
    net->work = NULL;
}

void ganc_net_share_work(ganc_net *net, ganc_net *with)
{
    if (net->built || net == with) return;
    if (!with->work) {
        with->work = ganc_alloc(sizeof *with->work);
        with->work->refs = 1;
    }
    drop_work(net);
    net->work = with->work;
    net->work->refs++;
}

/* The network's scratch holds at least `floats`. A shared block too small for it is freed
 * before the larger one is allocated (its contents are scratch), so that both are not
 * resident at once. */
static void reserve_work(ganc_net *net, size_t floats)
{
    if (!net->work) {
        net->work = ganc_alloc(sizeof *net->work);
        net->work->refs = 1;
    }
    if (net->work->data && net->work->floats >= floats) return;
    ganc_free(net->work->data);
    net->work->data = ganc_alloc(sizeof(float) * floats);
    net->work->floats = floats;
}

void ganc_net_free(ganc_net *net)
{
    if (!net) return;
    for (int i = 0; i < net->n_layers; i++) ganc_free(net->layers[i].own);
    ganc_free(net->layers);
    ganc_free(net->params);
    ganc_free(net->grads);
    ganc_free(net->state);
    ganc_free(net->saved);
    ganc_free(net->acts);
    drop_work(net);
    ganc_free(net->views);
    ganc_free(net->prof_fwd);
    ganc_free(net->prof_bwd);
    ganc_free(net);
}

/* c*h*w: 0 when a side is below 1, SIZE_MAX when the product overflows. */
static size_t shape_floats(ganc_shape s)
{
    if (s.c < 1 || s.h < 1 || s.w < 1) return 0;
    return ganc_size_mul(ganc_size_mul((size_t)s.c, (size_t)s.h), (size_t)s.w);
}

/* Before setup computes with them (partly in int): the input holds 1 .. GANC_MAX_LAYER_FLOATS
 * values (the network's input is checked here; a layer's output after setup), a weighted
 * layer's units are in that range too, and the type's own sizes pass its sizes_fit. The parser
 * already keeps them far smaller, but ganc_net_add takes any spec. */
static int layer_sizes_fit(const ganc_layer *L, char err[GANC_ERR_LEN])
{
    const char *name = L->def->name;
    const size_t in = shape_floats(L->in);
    if (in == 0)
        return ganc_fail(err, "%s layer: input %d x %d x %d has a side below 1", name, L->in.c, L->in.h, L->in.w);
    if (in > GANC_MAX_LAYER_FLOATS)
        return ganc_fail(err, "%s layer: input %d x %d x %d is too large (more than %zu values)", name, L->in.c,
                         L->in.h, L->in.w, GANC_MAX_LAYER_FLOATS);
    if (L->def->weighted && L->spec.units > (int)GANC_MAX_LAYER_FLOATS)
        return ganc_fail(err, "%s layer is too large (%d units)", name, L->spec.units);
    return L->def->sizes_fit ? L->def->sizes_fit(L, err) : 0;
}

static ganc_shape current_output(const ganc_net *net)
{
    return net->n_layers ? net->layers[net->n_layers - 1].out : net->input;
}

int ganc_net_add(ganc_net *net, const ganc_layer_spec *spec, char err[GANC_ERR_LEN])
{
    if (net->built) return ganc_fail(err, "network %s is already built", net->name);
    if (net->n_layers == net->cap_layers) {
        int cap = net->cap_layers ? 2 * net->cap_layers : 16;
        ganc_layer *grown = ganc_alloc(sizeof *grown * (size_t)cap);
        if (net->n_layers) memcpy(grown, net->layers, sizeof *grown * (size_t)net->n_layers);
        ganc_free(net->layers);
        net->layers = grown;
        net->cap_layers = cap;
    }
    ganc_layer *L = &net->layers[net->n_layers];
    memset(L, 0, sizeof *L);
    L->spec = *spec;
    L->def = ganc_layer_def_of(spec->type);
    L->in = current_output(net);
    if (!L->def) return ganc_fail(err, "unknown layer type %d", (int)spec->type);
    if (layer_sizes_fit(L, err)) return -1;
    if (L->def->own_size) L->own = ganc_alloc(L->def->own_size);
    if (L->def->setup(L, err)) goto refuse;
    /* Refuse sizes that would need absurd memory long before anything is allocated. */
    const size_t out = shape_floats(L->out);
    if (out == 0 || out > GANC_MAX_LAYER_FLOATS || L->n_weight > GANC_MAX_LAYER_FLOATS || L->n_extra > GANC_MAX_LAYER_FLOATS ||
        L->n_work > GANC_MAX_LAYER_FLOATS || L->n_shared > GANC_MAX_LAYER_FLOATS || L->n_saved_per_sample > GANC_MAX_LAYER_FLOATS) {
        ganc_fail(err, "%s layer is too large (%d x %d x %d output, %zu weights)", L->def->name, L->out.c, L->out.h,
                  L->out.w, L->n_weight);
        goto refuse;
    }
    net->n_layers++;
    return 0;
refuse:
    ganc_free(L->own);
    L->own = NULL;
    return -1;
}

int ganc_net_add_text(ganc_net *net, const char *text, const char *source, int first_line, char err[GANC_ERR_LEN])
{
    int lineno = first_line;
    for (const char *line = text; *line; lineno++) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        if (len >= sizeof buf) return ganc_fail(err, "%s:%d: line is too long", source, lineno);
        memcpy(buf, line, len);
        buf[len] = 0;
        buf[strcspn(buf, "#")] = 0;
        if (strspn(buf, " \t\r") != strlen(buf)) {
            ganc_layer_spec spec;
            char why[GANC_ERR_LEN];
            if (ganc_layer_spec_parse(buf, &spec, why) || ganc_net_add(net, &spec, why))
                return ganc_fail(err, "%s:%d: %s", source, lineno, why);
        }
        line += len + (end ? 1 : 0);
    }
    return 0;
}

static void add_view(ganc_net *net, int layer, const char *what, int is_state, size_t offset, size_t count, int ndim,
                     const int *dims)
{
    ganc_view *v = &net->views[net->n_views++];
    snprintf(v->name, sizeof v->name, "%s.%d.%s", net->name, layer, what);
    v->is_state = is_state;
    v->offset = offset;
    v->count = count;
    v->ndim = ndim;
    for (int d = 0; d < ndim; d++) v->dims[d] = dims[d];
}

int ganc_net_build(ganc_net *net, int max_batch, char err[GANC_ERR_LEN])
{
    if (net->built) return ganc_fail(err, "network %s is already built", net->name);
    if (net->n_layers == 0) return ganc_fail(err, "network %s has no layers", net->name);
    if (max_batch <= 0) return ganc_fail(err, "batch size must be positive");
    /* Every size saturates (ganc_size_add, ganc_size_mul), so a sum that would wrap is refused
     * below instead of allocating a small buffer. */
    const size_t batch = (size_t)max_batch, slots = ganc_threads() > 1 ? (size_t)ganc_threads() : 1;
    size_t n_params = 0, n_state = 0, n_saved = 0, n_acts = 0, n_work = 0, n_shared = 0, widest = ganc_shape_size(net->input);
    for (int i = 0; i < net->n_layers; i++) {
        const ganc_layer *L = &net->layers[i];
        const size_t out = ganc_shape_size(L->out);
        n_params = ganc_size_add(n_params, ganc_size_add(ganc_size_add(L->n_weight, L->n_bias), L->n_extra));
        n_state = ganc_size_add(n_state, L->n_state);
        n_saved = ganc_size_add(n_saved, ganc_size_add(L->n_saved_fixed, ganc_size_mul(L->n_saved_per_sample, batch)));
        n_acts = ganc_size_add(n_acts, ganc_size_mul(out, batch));
        if (L->n_work > n_work) n_work = L->n_work;
        if (L->n_shared > n_shared) n_shared = L->n_shared;
        if (out > widest) widest = out;
    }
    /* all the floats allocated below: parameters and gradients, state, saved values, activations,
     * each thread's scratch, the two gradient buffers (a batch of the widest layer, which also
     * bounds every n * size a layer computes in int) */
    size_t total = ganc_size_add(ganc_size_mul(n_params, 2), n_state);
    total = ganc_size_add(total, ganc_size_add(n_saved, n_acts));
    total = ganc_size_add(total, ganc_size_add(ganc_size_mul(n_work, slots), n_shared));
    total = ganc_size_add(total, ganc_size_mul(ganc_size_mul(widest, batch), 2));
    if (total > (size_t)16e9 / sizeof(float) || ganc_size_mul(widest, batch) > (size_t)4e9 / sizeof(float))
        return ganc_fail(err, "network %s at batch %d would need more than 16 GB (activations, saved values, scratch)",
                         net->name, max_batch);
    net->max_batch = max_batch;
    net->n_params = n_params;
    net->n_state = n_state;
    net->params = ganc_alloc(sizeof(float) * n_params);
    net->grads = ganc_alloc(sizeof(float) * n_params);
    net->state = ganc_alloc(sizeof(float) * n_state);
    net->saved = ganc_alloc(sizeof(float) * n_saved);
    net->acts = ganc_alloc(sizeof(float) * n_acts);
    /* One block of scratch per thread for the layers that split the batch over threads. */
    net->work_slots = (int)slots;
    net->work_shared_at = n_work * slots;
    net->grad_at = net->work_shared_at + n_shared;
    net->grad_floats = widest * batch;
    reserve_work(net, net->grad_at + 2 * net->grad_floats);
    net->views = ganc_alloc(sizeof(ganc_view) * 5 * (size_t)net->n_layers); /* weight, bias, extra, 2 states */
    net->prof_fwd = ganc_alloc(sizeof(double) * (size_t)net->n_layers);
    net->prof_bwd = ganc_alloc(sizeof(double) * (size_t)net->n_layers);

    size_t p = 0, s = 0, sv = 0, a = 0;
    for (int i = 0; i < net->n_layers; i++) {
        ganc_layer *L = &net->layers[i];
        if (L->n_weight) {
            L->weight = net->params + p;
            L->dweight = net->grads + p;
            add_view(net, i, L->weight_name ? L->weight_name : "weight", 0, p, L->n_weight, L->weight_ndim,
                     L->weight_dims);
            p += L->n_weight;
        }
        if (L->n_bias) {
            const int dims[1] = {(int)L->n_bias};
            L->bias = net->params + p;
            L->dbias = net->grads + p;
            add_view(net, i, "bias", 0, p, L->n_bias, 1, dims);
            p += L->n_bias;
        }
        if (L->n_extra) {
            L->extra = net->params + p;
            L->dextra = net->grads + p;
            add_view(net, i, L->extra_name, 0, p, L->n_extra, 2, L->extra_dims);
            p += L->n_extra;
        }
        if (L->n_state) { /* the layer names its state's parts (batch norm: running mean, variance) */
            L->state = net->state + s;
            size_t at = s;
            for (int k = 0; k < 2 && L->state_counts[k]; k++) {
                const int dims[1] = {(int)L->state_counts[k]};
                add_view(net, i, L->state_names[k], 1, at, L->state_counts[k], 1, dims);
                at += L->state_counts[k];
            }
            s += L->n_state;
        }
        L->saved = net->saved + sv;
        sv += L->n_saved_fixed + L->n_saved_per_sample * (size_t)max_batch;
        L->out_buf = net->acts + a;
        a += ganc_shape_size(L->out) * (size_t)max_batch;
        if (L->def->reset_state) L->def->reset_state(L);
    }
    net->built = 1;
    return 0;
}

void ganc_net_init(ganc_net *net, ganc_init_scheme scheme, ganc_rng *rng)
{
    for (int i = 0; i < net->n_layers; i++) {
        ganc_layer *L = &net->layers[i];
        /* State first: init may draw some of it (spectral norm's u and v) */
        if (L->def->reset_state) L->def->reset_state(L);
        if (L->def->init) L->def->init(L, scheme, rng);
        if (L->spec.has_bias_init)
            for (size_t j = 0; j < L->n_bias; j++) L->bias[j] = L->spec.bias_init;
    }
}

static int pass_slots(const ganc_net *net)
{
    const int t = ganc_threads();
    return t < 1 ? 1 : t < net->work_slots ? t : net->work_slots;
}

void ganc_net_set_training(ganc_net *net, int training) { net->training = training != 0; }

int ganc_net_training(const ganc_net *net) { return net->training; }
void ganc_net_set_precision(ganc_net *net, ganc_precision precision) { net->bf16 = precision == GANC_PRECISION_BF16; }
ganc_precision ganc_net_precision(const ganc_net *net) { return net->bf16 ? GANC_PRECISION_BF16 : GANC_PRECISION_FP32; }
ganc_rng *ganc_net_rng(ganc_net *net) { return &net->rng; }
void ganc_net_set_labels(ganc_net *net, const int32_t *labels) { net->labels = labels; }

void ganc_net_set_sum(ganc_net *net, void (*sum)(void *ctx, double *v, int n), void *ctx)
{
    net->sum = sum;
    net->sum_ctx = ctx;
}

void ganc_net_set_shard(ganc_net *net, int first, int total)
{
    net->shard_first = total ? first : 0;
    net->shard_total = total;
}

int ganc_net_set_class_mix(ganc_net *net, int to, float t)
{
    if (to >= ganc_net_classes(net) || to < -1 || !(t >= 0.0f && t <= 1.0f)) return -1;
    net->mix_to = to;
    net->mix_t = t;
    return 0;
}

int ganc_net_classes(const ganc_net *net)
{
    int k = 0;
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].spec.classes > k) k = net->layers[i].spec.classes;
    return k;
}

const float *ganc_net_forward(ganc_net *net, const float *x, int n)
{
    if (!net->built || n <= 0 || n > net->max_batch) {
        fprintf(stderr, "ganc: forward of %s with batch %d (built for %d)\n", net->name, n, net->max_batch);
        abort();
    }
    if (!net->labels && ganc_net_classes(net)) {
        fprintf(stderr, "ganc: forward of the conditional network %s without labels\n", net->name);
        abort();
    }
    const ganc_pass pass = {net->training, &net->rng, net->work->data, net->work->data + net->work_shared_at,
                           pass_slots(net), net->labels, net->mix_to, net->mix_t,
                           net->sum, net->sum_ctx, net->shard_first, net->shard_total, net->bf16};
    const float *in = x;
    for (int i = 0; i < net->n_layers; i++) {
        ganc_layer *L = &net->layers[i];
        const double t0 = net->profiling ? now_seconds() : 0.0;
        L->def->forward(L, in, L->out_buf, n, &pass);
        if (net->profiling) net->prof_fwd[i] += now_seconds() - t0;
        in = L->out_buf;
    }
    net->last_x = x;
    net->last_n = n;
    return in;
}

void ganc_net_backward(ganc_net *net, const float *dy, float *dx, int param_grads)
{
    if (net->mix_to >= 0) {
        fprintf(stderr, "ganc: backward of %s while it mixes classes (a sampling-only setting)\n", net->name);
        abort();
    }
    const ganc_pass pass = {net->training, &net->rng, net->work->data, net->work->data + net->work_shared_at,
                           pass_slots(net), net->labels, -1, 0.0f,
                           net->sum, net->sum_ctx, net->shard_first, net->shard_total, net->bf16};
    float *const grad_a = net->work->data + net->grad_at, *const grad_b = grad_a + net->grad_floats;
    const float *grad_out = dy;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        ganc_layer *L = &net->layers[i];
        const float *in = i ? net->layers[i - 1].out_buf : net->last_x;
        float *grad_in = i ? (grad_out == grad_a ? grad_b : grad_a) : dx;
        const double t0 = net->profiling ? now_seconds() : 0.0;
        L->def->backward(L, in, L->out_buf, grad_out, grad_in, net->last_n, param_grads, &pass);
        if (net->profiling) net->prof_bwd[i] += now_seconds() - t0;
        grad_out = grad_in;
    }
}

void ganc_net_zero_grad(ganc_net *net) { memset(net->grads, 0, sizeof(float) * net->n_params); }

void ganc_net_set_profiling(ganc_net *net, int on) { net->profiling = on != 0; }

void ganc_net_profile(const ganc_net *net, const double **forward, const double **backward)
{
    *forward = net->prof_fwd;
    *backward = net->prof_bwd;
}

double ganc_net_layer_flops(const ganc_net *net, int i, int n)
{
    const ganc_layer *L = &net->layers[i];
    return L->def->flops ? L->def->flops(L, n) : 0.0;
}

ganc_shape ganc_net_input_shape(const ganc_net *net) { return net->input; }
ganc_shape ganc_net_output_shape(const ganc_net *net) { return current_output(net); }
int ganc_net_max_batch(const ganc_net *net) { return net->max_batch; }
int ganc_net_layer_count(const ganc_net *net) { return net->n_layers; }
ganc_shape ganc_net_layer_output_shape(const ganc_net *net, int i) { return net->layers[i].out; }
const ganc_layer_spec *ganc_net_layer_spec(const ganc_net *net, int i) { return &net->layers[i].spec; }
ganc_layer *ganc_net_layer(ganc_net *net, int i) { return &net->layers[i]; }
const float *ganc_net_layer_output(const ganc_net *net, int i) { return net->layers[i].out_buf; }
size_t ganc_net_param_count(const ganc_net *net) { return net->n_params; }
float *ganc_net_params(ganc_net *net) { return net->params; }
float *ganc_net_grads(ganc_net *net) { return net->grads; }
size_t ganc_net_state_count(const ganc_net *net) { return net->n_state; }
float *ganc_net_state(ganc_net *net) { return net->state; }
int ganc_net_view_count(const ganc_net *net) { return net->n_views; }
const ganc_view *ganc_net_view(const ganc_net *net, int i) { return &net->views[i]; }

const ganc_view *ganc_net_find_view(const ganc_net *net, const char *name)
{
    for (int i = 0; i < net->n_views; i++)
        if (!strcmp(net->views[i].name, name)) return &net->views[i];
    return NULL;
}

float *ganc_net_view_data(ganc_net *net, const ganc_view *v)
{
    return (v->is_state ? net->state : net->params) + v->offset;
}

float *ganc_net_view_grad(ganc_net *net, const ganc_view *v) { return v->is_state ? NULL : net->grads + v->offset; }
