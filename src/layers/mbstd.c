/* Minibatch standard deviation (Karras et al. 2018, ProGAN): appends one channel holding, for
 * each group of samples, the mean over all features (channels and pixels) of their standard
 * deviation over the group: s = mean_f sqrt(var_g(x_f) + 1e-8), biased variance. A (c, h, w)
 * input gives (c+1, h, w); a feature vector (F, 1, 1) gives F+1 features. D can then see how
 * varied a batch is, which penalises a generator that collapses onto few modes.
 *
 * Groups as ProGAN's reshape [G, M, ...] forms them: with M = n/G groups, sample i belongs to
 * group i % M (groups are strided, not consecutive). G is `group=` (default: the whole batch)
 * capped at n, lowered to the largest divisor of n when it does not divide it (ProGAN
 * requires divisibility; this keeps every batch size usable, and equals ProGAN whenever G
 * divides n).
 *
 * Backward: with v_f the group variance and sd_f = sqrt(v_f + 1e-8),
 * ds/dx_{g,f} = (x_{g,f} - mean_f) / (F G sd_f) (the mean's own term sums to zero), and s's
 * gradient D is the sum of the appended channel's gradient over the group's samples and
 * pixels. Statistics are recomputed from x rather than saved: they are cheap, and nothing
 * then scales with the batch.
 *
 * The appended value is gate * s, gate in [0, 1] (ganc_net_set_mbstd_gate; 1 as built), so a
 * training schedule can fade the statistic out once it has done its work (--mbstd-until):
 * D keeps its shape and weights, and its input gradient loses s's term in proportion.
 *
 * Held (ganc_net_set_mbstd_hold): every forward not held records the mean of s over its
 * groups; a held forward appends gate * that value to every sample, and its backward passes
 * dy's features only (s is a constant then). This is how D scores single points as if they
 * came in a batch of generated samples (the 2-D pictures' map of D over the plane). */
#include "ganc_internal.h"

#include <math.h>
#include <string.h>

#define MBSTD_EPS 1e-8

/* The layer's own state (L->own): the switches below set gate and hold, forward sets held. */
typedef struct {
    float gate; /* weight of the appended statistic (1 as built, 0 off) */
    int hold;   /* append `held` to every sample instead of the batch's statistic */
    float held; /* the mean over groups of the last statistic computed while not held */
} mbstd_state;

static int mbstd_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    if (L->spec.group < 0 || L->spec.group == 1)
        return ganc_fail(err, "mbstd group=%d: a group needs at least 2 samples", L->spec.group);
    L->out = (ganc_shape){L->in.c + 1, L->in.h, L->in.w};
    ((mbstd_state *)L->own)->gate = 1.0f;
    return 0;
}

static int group_size(const ganc_layer *L, int n)
{
    int g = L->spec.group > 0 && L->spec.group < n ? L->spec.group : n;
    while (n % g) g--;
    return g;
}

/* Mean and sd = sqrt(biased variance + eps) of feature f over the G samples of group m. */
static void feature_stats(const float *x, size_t f, size_t size, int m, int groups, int g_size, double *mean,
                          double *sd)
{
    double s = 0.0, ss = 0.0;
    for (int g = 0; g < g_size; g++) s += x[(size_t)(g * groups + m) * size + f];
    const double mu = s / g_size;
    for (int g = 0; g < g_size; g++) {
        const double d = x[(size_t)(g * groups + m) * size + f] - mu;
        ss += d * d;
    }
    *mean = mu;
    *sd = sqrt(ss / g_size + MBSTD_EPS);
}

/* Sum over features of their sd in group m, in an order that does not depend on the number
 * of threads (an OpenMP reduction adds the threads' partial sums in an unspecified order, over
 * shares that depend on how many there are): blocks of SUM_BLOCK features, each summed in order,
 * the block sums added in order. Up to SUM_BLOCK features this is the plain sum in order. */
enum { SUM_BLOCK = 256, SUM_ROUND = 64 /* blocks per parallel loop (their sums on the stack) */ };
static double sd_sum(const float *x, size_t size, int m, int groups, int g_size)
{
    const size_t blocks = (size + SUM_BLOCK - 1) / SUM_BLOCK;
    double total = 0.0;
    for (size_t b0 = 0; b0 < blocks; b0 += SUM_ROUND) {
        const int nb = blocks - b0 < SUM_ROUND ? (int)(blocks - b0) : SUM_ROUND;
        double part[SUM_ROUND];
#pragma omp parallel for schedule(static) if (size * g_size > 32768)
        for (int b = 0; b < nb; b++) {
            const size_t f0 = (b0 + (size_t)b) * SUM_BLOCK, f1 = f0 + SUM_BLOCK < size ? f0 + SUM_BLOCK : size;
            double s = 0.0;
            for (size_t f = f0; f < f1; f++) {
                double mu, sd;
                feature_stats(x, f, size, m, groups, g_size, &mu, &sd);
                s += sd;
            }
            part[b] = s;
        }
        for (int b = 0; b < nb; b++) total += part[b];
    }
    return total;
}

static void mbstd_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    (void)p;
    const size_t size = ganc_shape_size(L->in), plane = (size_t)L->in.h * L->in.w, out_size = size + plane;
    mbstd_state *const st = L->own;
    if (st->hold) {
        const float s = st->gate * st->held;
        for (int i = 0; i < n; i++) {
            float *yi = y + (size_t)i * out_size;
            memcpy(yi, x + (size_t)i * size, sizeof(float) * size);
            for (size_t j = 0; j < plane; j++) yi[size + j] = s;
        }
        return;
    }
    const int g_size = group_size(L, n), groups = n / g_size;
    double over_groups = 0.0;
    for (int m = 0; m < groups; m++) {
        const double total = sd_sum(x, size, m, groups, g_size);
        over_groups += total / (double)size;
        const float s = (float)(st->gate * (total / (double)size));
        for (int g = 0; g < g_size; g++) {
            const int i = g * groups + m;
            float *yi = y + (size_t)i * out_size;
            memcpy(yi, x + (size_t)i * size, sizeof(float) * size);
            for (size_t j = 0; j < plane; j++) yi[size + j] = s;
        }
    }
    st->held = (float)(over_groups / groups);
}

static void mbstd_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                           int param_grads, const ganc_pass *p)
{
    (void)y;
    (void)param_grads;
    (void)p;
    if (!dx) return;
    const size_t size = ganc_shape_size(L->in), plane = (size_t)L->in.h * L->in.w, out_size = size + plane;
    const mbstd_state *const st = L->own;
    if (st->hold) {
        for (int i = 0; i < n; i++) memcpy(dx + (size_t)i * size, dy + (size_t)i * out_size, sizeof(float) * size);
        return;
    }
    const int g_size = group_size(L, n), groups = n / g_size;
    for (int m = 0; m < groups; m++) {
        double d = 0.0;
        for (int g = 0; g < g_size; g++) {
            const float *ds = dy + (size_t)(g * groups + m) * out_size + size;
            for (size_t j = 0; j < plane; j++) d += ds[j];
        }
        const double scale = st->gate * d / ((double)size * g_size);
#pragma omp parallel for schedule(static) if (size * g_size > 32768)
        for (size_t f = 0; f < size; f++) {
            double mu, sd;
            feature_stats(x, f, size, m, groups, g_size, &mu, &sd);
            for (int g = 0; g < g_size; g++) {
                const size_t i = (size_t)(g * groups + m);
                dx[i * size + f] = dy[i * out_size + f] + (float)(scale * (x[i * size + f] - mu) / sd);
            }
        }
    }
}

static const ganc_layer_option mbstd_options[] = {GANC_INT_OPTION("group", group, 2, GANC_MAX_SIZE, 0), GANC_OPTIONS_END};

const ganc_layer_def ganc_mbstd_def = {
    .name = "mbstd",
    .options = mbstd_options,
    .setup = mbstd_setup,
    .forward = mbstd_forward,
    .backward = mbstd_backward,
    .own_size = sizeof(mbstd_state),
};

/* The public switches (ganc.h): every mbstd layer of the network; returns how many. */
int ganc_net_set_mbstd_gate(ganc_net *net, float gate)
{
    int count = 0;
    for (int i = 0; i < ganc_net_layer_count(net); i++) {
        ganc_layer *L = ganc_net_layer(net, i);
        if (L->def != &ganc_mbstd_def) continue;
        ((mbstd_state *)L->own)->gate = gate;
        count++;
    }
    return count;
}

int ganc_net_set_mbstd_hold(ganc_net *net, int hold)
{
    int count = 0;
    for (int i = 0; i < ganc_net_layer_count(net); i++) {
        ganc_layer *L = ganc_net_layer(net, i);
        if (L->def != &ganc_mbstd_def) continue;
        ((mbstd_state *)L->own)->hold = hold != 0;
        count++;
    }
    return count;
}
