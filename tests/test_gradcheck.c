/* Every layer's backward (input and parameter gradients) against central finite differences
 * of L = sum(r * y) for a random r, on odd shapes, stride 2, padding, batch 1 and > 1.
 * The loss is accumulated in double and the difference quotient is Richardson-extrapolated
 * from steps h and h/2 (error O(h^4)), using the exact float perturbation actually applied.
 * Inputs within 3h of a kink (ReLU family at 0) are moved away from it.
 * Spectral norm's backward treats u and v as constants (as PyTorch does), so its finite
 * differences are taken in eval mode, where u and v stay as stored: either as the test sets
 * them, or as a training forward (one power iteration) left them. */
#include "check.h"
#include "ganc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP 5e-3
#define MAX_CHECKED 48 /* elements checked per tensor (all when fewer) */
#define TOL 2e-3       /* |fd - analytic| <= TOL * (|analytic| + max|analytic| of the tensor) */

typedef struct {
    const char *spec;
    int c, h, w, n;
    int eval;          /* 1: eval mode (batch norm on running statistics, no dropout); 2: the
                          analytic gradients of a training forward, finite differences in eval
                          mode from the state that forward left (spectral norm's u, v fixed) */
    int kinked;        /* 1: keep inputs away from 0 */
} gc_case;

static const gc_case cases[] = {
    {"dense 7", 5, 1, 1, 3, 0, 0},
    {"dense 4 bias=0", 2, 3, 3, 1, 0, 0},
    {"conv 4 k=3", 3, 5, 6, 2, 0, 0},
    {"conv 3 k=3 stride=2 pad=1", 2, 7, 8, 1, 0, 0},
    {"conv 5 k=5 stride=2 pad=same", 2, 9, 7, 3, 0, 0},
    {"conv 2 k=4 stride=2 pad=same bias=0", 1, 6, 6, 2, 0, 0},
    {"conv 3 k=3 pad=valid", 2, 5, 5, 2, 0, 0},
    {"conv 2 k=1", 3, 3, 4, 2, 0, 0},
    {"conv 3 k=4 pad=valid", 2, 4, 4, 3, 0, 0},        /* one output over the whole input: dense path */
    {"conv 2 k=3 pad=valid bias=0", 3, 3, 3, 2, 0, 0},
    {"deconv 3 k=3", 2, 3, 3, 2, 0, 0},
    {"deconv 2 k=5 stride=2 pad=same", 3, 4, 3, 2, 0, 0},
    {"deconv 3 k=4 stride=2 pad=1 outpad=1", 2, 3, 3, 1, 0, 0},
    {"deconv 4 k=3 pad=valid", 5, 1, 1, 3, 0, 0},
    {"deconv 2 k=2 stride=3 pad=valid", 2, 2, 3, 1, 0, 0},
    {"deconv 2 k=3 stride=2 pad=same bias=0", 2, 3, 4, 2, 0, 0},
    {"batchnorm", 3, 4, 5, 2, 0, 0},
    {"batchnorm", 6, 1, 1, 5, 0, 0},
    {"batchnorm eps=1e-3", 2, 3, 3, 1, 0, 0},
    {"batchnorm", 3, 2, 3, 2, 1, 0},
    {"relu", 3, 4, 5, 2, 0, 1},
    {"lrelu slope=0.1", 3, 4, 5, 2, 0, 1},
    {"elu", 3, 4, 5, 2, 0, 1},
    {"elu alpha=0.5", 2, 3, 3, 1, 0, 1},
    {"concat_elu", 3, 3, 5, 2, 0, 1},
    {"concat_elu alpha=0.7", 4, 1, 1, 3, 0, 1},
    {"tanh", 3, 4, 5, 2, 0, 0},
    {"sigmoid", 3, 4, 5, 2, 0, 0},
    {"dropout p=0.3", 3, 4, 4, 2, 0, 0},
    {"dropout p=0.3", 3, 4, 4, 2, 1, 0},
    {"flatten", 2, 3, 2, 2, 0, 0},
    {"reshape 3 2 2", 12, 1, 1, 2, 0, 0},
    {"maxout 4 pieces=3", 5, 1, 1, 3, 0, 0},
    {"maxout 3 pieces=2 bias=0", 2, 3, 3, 2, 0, 0},
    {"maxout 2 pieces=5", 3, 1, 1, 1, 0, 0},
    {"mbstd", 3, 2, 2, 4, 0, 0},
    {"mbstd group=2", 2, 3, 3, 4, 0, 0},
    {"mbstd", 5, 1, 1, 3, 0, 0},
    {"mbstd group=3", 4, 1, 1, 6, 1, 0},
    {"mbstd group=4", 3, 1, 1, 6, 0, 0}, /* 4 does not divide 6: groups of 3 */
    {"dense 4 sn", 5, 1, 1, 3, 1, 0},
    {"dense 4 sn", 5, 1, 1, 3, 2, 0},
    {"dense 1 bias=0 sn", 3, 2, 2, 2, 2, 0},
    {"conv 3 k=3 stride=2 pad=same sn", 2, 5, 5, 2, 1, 0},
    {"conv 3 k=3 stride=2 pad=same sn", 2, 5, 5, 2, 2, 0},
    {"conv 2 k=3 pad=valid sn", 3, 3, 3, 2, 2, 0},
    {"deconv 3 k=4 pad=valid bias=0 sn", 4, 1, 1, 2, 2, 0},
    {"deconv 2 k=4 stride=2 pad=1 sn", 3, 3, 3, 2, 1, 0},
    {"deconv 2 k=4 stride=2 pad=1 sn", 3, 3, 3, 2, 2, 0},
    {"maxout 3 pieces=3 sn", 4, 1, 1, 3, 2, 0},
    /* stacks: gradients flow through every layer's input gradient */
    {"conv 4 k=3 stride=2 pad=same bias=0\nbatchnorm\nelu\ndropout p=0.2\nflatten\ndense 3", 2, 7, 7, 3, 0, 0},
    {"deconv 6 k=3 pad=valid bias=0\nbatchnorm\nconcat_elu\ndeconv 2 k=4 stride=2 pad=same\ntanh", 4, 1, 1, 2, 0, 0},
    {"dense 12 bias=0\nbatchnorm\nsigmoid\nreshape 3 2 2\ndeconv 2 k=3 stride=2 pad=same\nsigmoid", 5, 1, 1, 4, 0, 0},
    {"conv 3 k=3 pad=same sn\nelu\nmbstd group=2\nconv 2 k=3 stride=2\nflatten\nmaxout 3 pieces=2 sn\ndense 1 sn", 2,
     5, 5, 4, 2, 0},
    {"gelu", 3, 4, 5, 2, 0, 0},
    /* conditional layers: each sample's class drawn at random (run_case) */
    {"embed 3 classes=4", 2, 3, 2, 5, 0, 0},
    {"embed 2 classes=3", 5, 1, 1, 4, 0, 0},
    {"project classes=3", 2, 2, 3, 5, 0, 0},
    {"project classes=2 bias=0 sn", 3, 2, 2, 4, 2, 0},
    {"batchnorm classes=3", 3, 4, 3, 6, 0, 0},
    {"batchnorm classes=4", 6, 1, 1, 7, 0, 0},
    {"batchnorm classes=2", 2, 3, 3, 3, 1, 0},
    {"embed 2 classes=3\nconv 3 k=3 pad=same bias=0\nbatchnorm classes=3\nelu\nflatten\nproject classes=3", 2, 4, 4, 6,
     0, 0},
    {"dense 6\ngelu\ndense 2", 4, 1, 1, 3, 0, 0},
};

typedef struct {
    ganc_net *net;
    float *x, *r;
    size_t n_in, n_out;
    int n;
    ganc_rng rng_at_start; /* dropout draws the same mask in every evaluation */
    float *state_at_start; /* and a training forward starts from the same state (sn's u, v) */
    int32_t labels[16];    /* a conditional network's classes, one per sample */
} problem;

static double loss_of(problem *p)
{
    *ganc_net_rng(p->net) = p->rng_at_start;
    if (ganc_net_training(p->net))
        memcpy(ganc_net_state(p->net), p->state_at_start, sizeof(float) * ganc_net_state_count(p->net));
    const float *y = ganc_net_forward(p->net, p->x, p->n);
    double s = 0.0;
    for (size_t i = 0; i < p->n_out; i++) s += (double)p->r[i] * y[i];
    return s;
}

/* d loss / d v by central differences at steps h and h/2, Richardson-extrapolated. */
static double numeric_derivative(problem *p, float *v)
{
    const float v0 = *v;
    double d[2];
    for (int k = 0; k < 2; k++) {
        const double h = STEP / (1 << k);
        const float plus = (float)(v0 + h), minus = (float)(v0 - h);
        *v = plus;
        const double lp = loss_of(p);
        *v = minus;
        const double lm = loss_of(p);
        d[k] = (lp - lm) / ((double)plus - (double)minus);
    }
    *v = v0;
    return (4.0 * d[1] - d[0]) / 3.0;
}

static double max_abs(const float *v, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

/* case_scale: the largest analytic gradient of the whole case. A tensor whose true gradient
 * is zero (a bias right before batch norm) is then compared in absolute terms. */
static void check_tensor(problem *p, const char *what, float *values, const float *analytic, size_t count,
                         double case_scale, ganc_rng *pick)
{
    const double scale = fmax(max_abs(analytic, count), 1e-3 * case_scale);
    double worst = 0.0;
    size_t worst_i = 0;
    for (size_t k = 0; k < count && k < MAX_CHECKED; k++) {
        const size_t i = count <= MAX_CHECKED ? k : (size_t)(ganc_rng_u64(pick) % count);
        const double fd = numeric_derivative(p, &values[i]);
        const double err = fabs(fd - analytic[i]) / (fabs(analytic[i]) + scale + 1e-12);
        if (!(err <= worst)) {
            worst = err;
            worst_i = i;
        }
    }
    if (getenv("GANC_TEST_VERBOSE")) printf("  %-60s max err %.2e\n", what, worst);
    CHECK(worst <= TOL, "%s: element %zu differs from finite differences (relative %.3g)", what, worst_i, worst);
}

static void run_case(const gc_case *tc, int index)
{
    char err[GANC_ERR_LEN], what[160];
    problem p = {0};
    p.n = tc->n;
    p.net = ganc_net_create("g", (ganc_shape){tc->c, tc->h, tc->w});
    if (!CHECK(ganc_net_add_text(p.net, tc->spec, "case", 1, err) == 0 && ganc_net_build(p.net, tc->n, err) == 0,
               "case %d (%s): %s", index, tc->spec, err)) {
        ganc_net_free(p.net);
        return;
    }
    ganc_rng rng;
    ganc_rng_seed(&rng, 777 + (uint64_t)index);
    if (ganc_net_classes(p.net)) {
        for (int i = 0; i < tc->n && i < 16; i++) p.labels[i] = (int32_t)(ganc_rng_u64(&rng) % (uint64_t)ganc_net_classes(p.net));
        ganc_net_set_labels(p.net, p.labels);
    }
    float *params = ganc_net_params(p.net);
    const size_t n_params = ganc_net_param_count(p.net);
    ganc_rng_normal(&rng, params, n_params, 0.0f, 0.5f);
    /* Eval-mode batch norm needs plausible running statistics (variance > 0). */
    float *state = ganc_net_state(p.net);
    for (int i = 0; i < ganc_net_view_count(p.net); i++) {
        const ganc_view *v = ganc_net_view(p.net, i);
        if (!v->is_state) continue;
        float *s = state + v->offset;
        ganc_rng_uniform(&rng, s, v->count, 0.0f, 1.0f);
        if (strstr(v->name, "running_var"))
            for (size_t j = 0; j < v->count; j++) s[j] += 0.5f;
    }
    ganc_net_set_training(p.net, tc->eval != 1);
    ganc_rng_seed(ganc_net_rng(p.net), 99);
    p.rng_at_start = *ganc_net_rng(p.net);
    p.state_at_start = malloc(sizeof(float) * (ganc_net_state_count(p.net) + 1));
    memcpy(p.state_at_start, state, sizeof(float) * ganc_net_state_count(p.net));

    p.n_in = (size_t)tc->n * ganc_shape_size(ganc_net_input_shape(p.net));
    p.n_out = (size_t)tc->n * ganc_shape_size(ganc_net_output_shape(p.net));
    p.x = malloc(sizeof(float) * p.n_in);
    p.r = malloc(sizeof(float) * p.n_out);
    float *dx = malloc(sizeof(float) * p.n_in), *dx_only = malloc(sizeof(float) * p.n_in);
    float *grads = malloc(sizeof(float) * (n_params + 1));
    ganc_rng_normal(&rng, p.x, p.n_in, 0.0f, 1.0f);
    ganc_rng_normal(&rng, p.r, p.n_out, 0.0f, 1.0f);
    if (tc->kinked)
        for (size_t i = 0; i < p.n_in; i++)
            if (fabsf(p.x[i]) < 3 * STEP) p.x[i] = p.x[i] < 0 ? -3 * (float)STEP : 3 * (float)STEP;

    /* Analytic gradients, then the same backward without parameter gradients. */
    loss_of(&p);
    ganc_net_zero_grad(p.net);
    ganc_net_backward(p.net, p.r, dx, 1);
    memcpy(grads, ganc_net_grads(p.net), sizeof(float) * n_params);
    loss_of(&p);
    ganc_net_zero_grad(p.net);
    ganc_net_backward(p.net, p.r, dx_only, 0);
    int untouched = 1;
    for (size_t i = 0; i < n_params; i++) untouched &= ganc_net_grads(p.net)[i] == 0.0f;
    CHECK(untouched, "case %d (%s): backward without parameter gradients wrote some", index, tc->spec);
    CHECK(memcmp(dx, dx_only, sizeof(float) * p.n_in) == 0,
          "case %d (%s): input gradient depends on the parameter-gradient flag", index, tc->spec);
    /* Parameter gradients accumulate: a second backward adds the same amount again. */
    if (n_params) {
        loss_of(&p);
        ganc_net_zero_grad(p.net);
        ganc_net_backward(p.net, p.r, NULL, 1);
        ganc_net_backward(p.net, p.r, NULL, 1);
        float *twice = ganc_net_grads(p.net);
        for (size_t i = 0; i < n_params; i++) twice[i] *= 0.5f;
        const double e = check_rel_err(twice, grads, n_params, 1e-12);
        CHECK(e < 1e-6, "case %d (%s): two backwards did not accumulate to twice the gradient (%.3g)", index,
              tc->spec, e);
    }

    if (tc->eval == 2) { /* the state the analytic gradients saw, then held fixed */
        loss_of(&p);
        ganc_net_set_training(p.net, 0);
    }
    ganc_rng pick;
    ganc_rng_seed(&pick, 4242 + (uint64_t)index);
    const double case_scale = fmax(max_abs(dx, p.n_in), max_abs(grads, n_params));
    snprintf(what, sizeof what, "[%d] %.40s: input", index, tc->spec);
    for (char *c = what; *c; c++)
        if (*c == '\n') *c = '|';
    check_tensor(&p, what, p.x, dx, p.n_in, case_scale, &pick);
    for (int i = 0; i < ganc_net_view_count(p.net); i++) {
        const ganc_view *v = ganc_net_view(p.net, i);
        if (v->is_state) continue;
        snprintf(what, sizeof what, "[%d] %s", index, v->name);
        check_tensor(&p, what, params + v->offset, grads + v->offset, v->count, case_scale, &pick);
    }
    free(p.x);
    free(p.r);
    free(p.state_at_start);
    free(dx);
    free(dx_only);
    free(grads);
    ganc_net_free(p.net);
}

/* Every registered layer type has a case of its own (a one-line case of that type). */
static void check_every_type_has_a_case(void)
{
    int covered[GANC_LAYER_COUNT] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ganc_layer_spec sp;
        char err[GANC_ERR_LEN];
        if (!strchr(cases[i].spec, '\n') && ganc_layer_spec_parse(cases[i].spec, &sp, err) == 0) covered[sp.type] = 1;
    }
    for (int t = 0; t < GANC_LAYER_COUNT; t++)
        CHECK(covered[t], "layer type %s has no gradient check case", ganc_layer_type_name((ganc_layer_type)t));
}

int main(void)
{
    const int count = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < count; i++) run_case(&cases[i], i);
    check_every_type_has_a_case();
    return check_finish("gradcheck");
}
