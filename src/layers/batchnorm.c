/* Batch normalisation over (N, H, W) per channel, affine (gamma = weight, beta = bias).
 * Conditional (`batchnorm classes=K`, as SNGAN's and BigGAN's generators): the same
 * normalisation, then a gain and bias per class and channel, gamma[c][ch] and beta[c][ch] for
 * a sample of class c (weight and bias are K x C); the statistics are the whole batch's.
 * Training: batch statistics (biased variance), running statistics updated as PyTorch does
 * (unbiased variance, r = (1 - momentum) r + momentum stat). Eval: running statistics.
 * Saved for backward: the mean and 1/sqrt(var + eps) that the forward used.
 * Synchronised (a pass with a `sum`, from a data-parallel run's --sync-bn): in training the
 * per-channel sums (forward: of x, then of (x - mean)^2, with the sample count; backward: of
 * dy and dy (x - mean)) are added over the processes before use, so that each process
 * normalises its share by the global batch's statistics and N processes compute what one
 * computes on the whole batch, up to float rounding; the running statistics are the same on
 * every process. The layer knows nothing of MPI: `sum` is the caller's. */
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int bn_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    if (!(L->spec.eps > 0.0f)) return ganc_fail(err, "batchnorm eps must be positive");
    if (!(L->spec.momentum >= 0.0f && L->spec.momentum <= 1.0f))
        return ganc_fail(err, "batchnorm momentum must be in [0, 1]");
    const int c = L->in.c, k = L->spec.classes > 0 ? L->spec.classes : 1;
    L->out = L->in;
    L->n_weight = L->n_bias = (size_t)k * (size_t)c;
    L->n_state = 2 * (size_t)c;
    L->state_names[0] = "running_mean";
    L->state_names[1] = "running_var";
    L->state_counts[0] = L->state_counts[1] = (size_t)c;
    L->n_saved_fixed = 2 * (size_t)c;
    L->weight_ndim = L->spec.classes > 0 ? 2 : 1;
    L->weight_dims[0] = L->spec.classes > 0 ? k : c;
    L->weight_dims[1] = c;
    return 0;
}

static void bn_reset_state(ganc_layer *L)
{
    const int c = L->in.c;
    for (int i = 0; i < c; i++) {
        L->state[i] = 0.0f;
        L->state[c + i] = 1.0f;
    }
}

static void bn_init(ganc_layer *L, ganc_init_scheme scheme, ganc_rng *rng)
{
    const size_t n = L->n_weight; /* C, or K x C gains for a conditional one */
    if (scheme == GANC_INIT_DCGAN)
        ganc_rng_normal(rng, L->weight, n, 1.0f, 0.02f);
    else
        for (size_t i = 0; i < n; i++) L->weight[i] = 1.0f;
    for (size_t i = 0; i < n; i++) L->bias[i] = 0.0f;
    bn_reset_state(L);
}

/* Sums in double over 8 independent lanes, so the loops vectorise without reassociating
 * anything the compiler would have to prove (no fast-math). */
#define LANES 8

static void sum_plane(const float *x, size_t n, double acc[LANES])
{
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) acc[l] += x[j + l];
    for (; j < n; j++) acc[0] += x[j];
}

static void sumsq_plane(const float *x, size_t n, double mu, double acc[LANES])
{
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) {
            const double d = x[j + l] - mu;
            acc[l] += d * d;
        }
    for (; j < n; j++) acc[0] += (x[j] - mu) * (x[j] - mu);
}

/* sum(dy) and sum(dy * (x - mean)) */
static void sums_backward_plane(const float *x, const float *dy, size_t n, float mean, double a[LANES], double b[LANES])
{
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) {
            a[l] += dy[j + l];
            b[l] += (double)dy[j + l] * (double)(x[j + l] - mean);
        }
    for (; j < n; j++) {
        a[0] += dy[j];
        b[0] += (double)dy[j] * (double)(x[j] - mean);
    }
}

static double lanes_total(const double acc[LANES])
{
    double s = 0.0;
    for (int l = 0; l < LANES; l++) s += acc[l];
    return s;
}

/* The statistics' last step, one place for every path (per channel, per row block, and the
 * data-parallel batch's): channel ch's saved mean and 1/sqrt(var + eps) from the batch's mean
 * mu and sum of squared deviations ss over count values, and its running statistics updated. */
static void set_batch_stats(ganc_layer *L, int ch, double mu, double ss, double count)
{
    const int c = L->in.c;
    const float eps = L->spec.eps, mom = L->spec.momentum;
    float *mean = L->saved, *invstd = L->saved + c, *run_mean = L->state, *run_var = L->state + c;
    const double var = ss / count, unbiased = count > 1 ? ss / (count - 1) : var;
    mean[ch] = (float)mu;
    invstd[ch] = (float)(1.0 / sqrt(var + eps));
    run_mean[ch] = (1.0f - mom) * run_mean[ch] + mom * (float)mu;
    run_var[ch] = (1.0f - mom) * run_var[ch] + mom * (float)unbiased;
}

/* Outside training: the running statistics stand in for the batch's. */
static void set_running_stats(ganc_layer *L, int ch)
{
    const int c = L->in.c;
    L->saved[ch] = L->state[ch];
    L->saved[c + ch] = (float)(1.0 / sqrt((double)L->state[c + ch] + L->spec.eps));
}

/* After a dense layer (H = W = 1) a channel's values lie C floats apart: walking them one
 * channel at a time touches a new cache line per value. These versions walk the rows instead,
 * a block of channels at a time, and add each channel's values in the same order as the plane
 * loops above (sample by sample, in double), so both give the same bits. */
#define ROW_BLOCK 64

static void bn_forward_rows(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    const int c = L->in.c, blocks = (c + ROW_BLOCK - 1) / ROW_BLOCK;
    const float *mean = L->saved, *invstd = L->saved + c;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < blocks; b++) {
        const int c0 = b * ROW_BLOCK, w = c - c0 < ROW_BLOCK ? c - c0 : ROW_BLOCK;
        float scale[ROW_BLOCK], shift[ROW_BLOCK];
        if (p->training) {
            double s[ROW_BLOCK] = {0}, q[ROW_BLOCK] = {0}, mu[ROW_BLOCK];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < w; j++) s[j] += x[(size_t)i * c + c0 + j];
            for (int j = 0; j < w; j++) mu[j] = s[j] / (double)n;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < w; j++) {
                    const double d = x[(size_t)i * c + c0 + j] - mu[j];
                    q[j] += d * d;
                }
            for (int j = 0; j < w; j++) set_batch_stats(L, c0 + j, mu[j], q[j], (double)n);
        } else {
            for (int j = 0; j < w; j++) set_running_stats(L, c0 + j);
        }
        for (int j = 0; j < w; j++) {
            scale[j] = L->weight[c0 + j] * invstd[c0 + j];
            shift[j] = L->bias[c0 + j] - mean[c0 + j] * scale[j];
        }
        for (int i = 0; i < n; i++) {
            const float *xr = x + (size_t)i * c + c0;
            float *yr = y + (size_t)i * c + c0;
            for (int j = 0; j < w; j++) yr[j] = xr[j] * scale[j] + shift[j];
        }
    }
}

static void bn_backward_rows(ganc_layer *L, const float *x, const float *dy, float *dx, int n, int param_grads,
                             const ganc_pass *p)
{
    const int c = L->in.c, blocks = (c + ROW_BLOCK - 1) / ROW_BLOCK;
    const float *mean = L->saved, *invstd = L->saved + c;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < blocks; b++) {
        const int c0 = b * ROW_BLOCK, w = c - c0 < ROW_BLOCK ? c - c0 : ROW_BLOCK;
        double a[ROW_BLOCK] = {0}, bx[ROW_BLOCK] = {0};
        for (int i = 0; i < n; i++) {
            const float *xr = x + (size_t)i * c + c0, *dyr = dy + (size_t)i * c + c0;
            for (int j = 0; j < w; j++) {
                a[j] += dyr[j];
                bx[j] += (double)dyr[j] * (double)(xr[j] - mean[c0 + j]);
            }
        }
        float g[ROW_BLOCK], mdy[ROW_BLOCK], mdyx[ROW_BLOCK];
        for (int j = 0; j < w; j++) {
            const int ch = c0 + j;
            const double sum_dy_xhat = bx[j] * invstd[ch];
            if (param_grads) {
                L->dweight[ch] += (float)sum_dy_xhat;
                L->dbias[ch] += (float)a[j];
            }
            g[j] = L->weight[ch] * invstd[ch];
            mdy[j] = (float)(a[j] / (double)n);
            mdyx[j] = (float)(sum_dy_xhat / (double)n);
        }
        if (!dx) continue;
        for (int i = 0; i < n; i++) {
            const float *xr = x + (size_t)i * c + c0, *dyr = dy + (size_t)i * c + c0;
            float *dxr = dx + (size_t)i * c + c0;
            if (p->training)
                for (int j = 0; j < w; j++) {
                    const float xhat = (xr[j] - mean[c0 + j]) * invstd[c0 + j];
                    dxr[j] = g[j] * (dyr[j] - mdy[j] - xhat * mdyx[j]);
                }
            else
                for (int j = 0; j < w; j++) dxr[j] = g[j] * dyr[j];
        }
    }
}

/* Channel ch's mean and 1/sqrt(var + eps) into the saved values: the batch's (and the running
 * statistics updated) when training, else the running statistics. */
static void channel_stats(ganc_layer *L, const float *x, int n, const ganc_pass *p, int ch)
{
    if (!p->training) {
        set_running_stats(L, ch);
        return;
    }
    const size_t plane = (size_t)L->in.h * L->in.w, size = (size_t)L->in.c * plane;
    const double count = (double)n * (double)plane;
    double acc[LANES] = {0};
    for (int i = 0; i < n; i++) sum_plane(x + i * size + ch * plane, plane, acc);
    const double mu = lanes_total(acc) / count;
    double acc2[LANES] = {0};
    for (int i = 0; i < n; i++) sumsq_plane(x + i * size + ch * plane, plane, mu, acc2);
    set_batch_stats(L, ch, mu, lanes_total(acc2), count);
}

/* y = gain (x - mean) invstd + bias over channel ch of n samples, as x scale + shift, with the
 * channel's one gain and bias, or in a conditional layer each sample's class's. */
static void normalise_channel(const ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p, int ch)
{
    const int c = L->in.c, cond = L->spec.classes > 0;
    const size_t plane = (size_t)L->in.h * L->in.w, size = (size_t)c * plane;
    const float mean = L->saved[ch], invstd = L->saved[c + ch];
    for (int i = 0; i < n; i++) {
        float gain = L->weight[ch], bias = L->bias[ch];
        if (cond) {
            const int y_i = ganc_layer_label(L, p, i);
            gain = ganc_class_entry(p, L->weight, y_i, (size_t)c, (size_t)ch);
            bias = ganc_class_entry(p, L->bias, y_i, (size_t)c, (size_t)ch);
        }
        const float scale = gain * invstd, shift = bias - mean * scale;
        const float *xc = x + i * size + ch * plane;
        float *yc = y + i * size + ch * plane;
        for (size_t j = 0; j < plane; j++) yc[j] = xc[j] * scale + shift;
    }
}

/* Channel ch's sums for the backward pass, of g dy and of g dy xhat over the n samples, g each
 * sample's class gain in a conditional layer (summed sample by sample, as each class's gain and
 * bias gain their samples' sums) and 1 in a plain one (the caller applies its one gain); the
 * parameter gradients gain their share when param_grads. */
static void channel_grad_sums(ganc_layer *L, const float *x, const float *dy, int n, int param_grads,
                              const ganc_pass *p, int ch, double *sum_g_dy, double *sum_g_dy_xhat)
{
    const int c = L->in.c;
    const size_t plane = (size_t)L->in.h * L->in.w, size = (size_t)c * plane;
    const float mean = L->saved[ch], invstd = L->saved[c + ch];
    if (L->spec.classes > 0) {
        double g_dy = 0.0, g_dy_xhat = 0.0;
        for (int i = 0; i < n; i++) {
            const size_t at = (size_t)ganc_layer_label(L, p, i) * c + ch;
            double acc_dy[LANES] = {0}, acc_dyx[LANES] = {0};
            sums_backward_plane(x + i * size + ch * plane, dy + i * size + ch * plane, plane, mean, acc_dy, acc_dyx);
            const double sum_dy = lanes_total(acc_dy), sum_dy_xhat = lanes_total(acc_dyx) * invstd;
            if (param_grads) {
                L->dweight[at] += (float)sum_dy_xhat;
                L->dbias[at] += (float)sum_dy;
            }
            g_dy += L->weight[at] * sum_dy;
            g_dy_xhat += L->weight[at] * sum_dy_xhat;
        }
        *sum_g_dy = g_dy;
        *sum_g_dy_xhat = g_dy_xhat;
        return;
    }
    double acc_dy[LANES] = {0}, acc_dyx[LANES] = {0};
    for (int i = 0; i < n; i++)
        sums_backward_plane(x + i * size + ch * plane, dy + i * size + ch * plane, plane, mean, acc_dy, acc_dyx);
    *sum_g_dy = lanes_total(acc_dy);
    *sum_g_dy_xhat = lanes_total(acc_dyx) * invstd;
    if (param_grads) {
        L->dweight[ch] += (float)*sum_g_dy_xhat;
        L->dbias[ch] += (float)*sum_g_dy;
    }
}

/* Scratch for the synchronised paths (a few doubles per channel, once per pass). */
static double *sync_scratch(size_t n)
{
    double *v = calloc(n, sizeof(double));
    if (!v) {
        fprintf(stderr, "ganc: batchnorm: out of memory for the synchronised statistics\n");
        abort();
    }
    return v;
}

/* Training forward with the statistics of the whole data-parallel batch (see the top). */
static void bn_forward_sync(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    const int c = L->in.c;
    const size_t plane = (size_t)L->in.h * L->in.w, size = (size_t)c * plane;
    double *v = sync_scratch(3 * (size_t)c + 1); /* sums and count (c + 1), squares (c), means (c) */
    double *sq = v + c + 1, *mu = sq + c;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double acc[LANES] = {0};
        for (int i = 0; i < n; i++) sum_plane(x + i * size + ch * plane, plane, acc);
        v[ch] = lanes_total(acc);
    }
    v[c] = (double)n * (double)plane;
    p->sum(p->sum_ctx, v, c + 1);
    const double count = v[c];
    for (int ch = 0; ch < c; ch++) mu[ch] = v[ch] / count;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double acc[LANES] = {0};
        for (int i = 0; i < n; i++) sumsq_plane(x + i * size + ch * plane, plane, mu[ch], acc);
        sq[ch] = lanes_total(acc);
    }
    p->sum(p->sum_ctx, sq, c);
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        set_batch_stats(L, ch, mu[ch], sq[ch], count);
        normalise_channel(L, x, y, n, p, ch);
    }
    free(v);
}

/* Training backward with the whole batch's sums of dy and dy (x - mean) (the forward's
 * statistics were the whole batch's). The parameters' gradients stay this process's share:
 * the caller sums them over the processes as it does every gradient. With a conditional
 * layer the sums are of g_i dy, g_i sample i's gain (as bn_backward). */
static void bn_backward_sync(ganc_layer *L, const float *x, const float *dy, float *dx, int n, int param_grads,
                             const ganc_pass *p)
{
    const int c = L->in.c, cond = L->spec.classes > 0;
    const size_t plane = (size_t)L->in.h * L->in.w, size = (size_t)c * plane;
    const float *mean = L->saved, *invstd = L->saved + c;
    double *v = sync_scratch(2 * (size_t)c + 1); /* sums of (g) dy (c), of (g) dy xhat (c), count */
    double *b = v + c;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) channel_grad_sums(L, x, dy, n, param_grads, p, ch, &v[ch], &b[ch]);
    if (!dx) { /* (the same on every process: all skip the sum) */
        free(v);
        return;
    }
    v[2 * c] = (double)n * (double)plane;
    p->sum(p->sum_ctx, v, 2 * c + 1);
    const double count = v[2 * c];
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float mdy = (float)(v[ch] / count), mdyx = (float)(b[ch] / count);
        for (int i = 0; i < n; i++) {
            /* dx = invstd (g dy - mean(g dy) - xhat mean(g dy xhat)), g the sample's gain */
            const float g = cond ? L->weight[(size_t)ganc_layer_label(L, p, i) * c + ch] : L->weight[ch];
            const float gm = cond ? 1.0f : g; /* (a plain layer's sums are of dy: times its one gain) */
            const float *xc = x + i * size + ch * plane, *dyc = dy + i * size + ch * plane;
            float *dxc = dx + i * size + ch * plane;
            for (size_t j = 0; j < plane; j++) {
                const float xhat = (xc[j] - mean[ch]) * invstd[ch];
                dxc[j] = invstd[ch] * (g * dyc[j] - gm * (mdy + xhat * mdyx));
            }
        }
    }
    free(v);
}

/* A conditional layer (`classes=K`) shares the statistics and the normalisation with a plain
 * one; only the gain and bias are each sample's class's (normalise_channel). */
static void bn_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    if (p->sum && p->training) {
        bn_forward_sync(L, x, y, n, p);
        return;
    }
    if (L->spec.classes == 0 && L->in.h * L->in.w == 1) {
        bn_forward_rows(L, x, y, n, p);
        return;
    }
    const int c = L->in.c;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        channel_stats(L, x, n, p, ch);
        normalise_channel(L, x, y, n, p, ch);
    }
}

/* Plain: dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)) over the channel's values.
 * Conditional, with g_i the gain of sample i's class, dL/dxhat = g_i dy, so
 * dx = invstd (g_i dy - mean(g dy) - xhat mean(g dy xhat)); each class's gain and bias gain the
 * sums of dy xhat and dy over its samples. (The two are kept apart, not one with g_i = gamma:
 * their float operations differ, and so would the plain layer's bits.) A channel's parameters
 * belong to that channel's iteration alone, so the threads never share one. */
static void bn_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                        int param_grads, const ganc_pass *p)
{
    (void)y;
    if (p->sum && p->training) {
        bn_backward_sync(L, x, dy, dx, n, param_grads, p);
        return;
    }
    const int c = L->in.c, cond = L->spec.classes > 0;
    if (!cond && L->in.h * L->in.w == 1) {
        bn_backward_rows(L, x, dy, dx, n, param_grads, p);
        return;
    }
    const size_t plane = (size_t)L->in.h * L->in.w, size = (size_t)c * plane;
    const double count = (double)n * (double)plane;
    const float *mean = L->saved, *invstd = L->saved + c;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double sum_dy, sum_dy_xhat; /* (of g dy and g dy xhat in a conditional layer) */
        channel_grad_sums(L, x, dy, n, param_grads, p, ch, &sum_dy, &sum_dy_xhat);
        if (!dx) continue;
        const float mdy = (float)(sum_dy / count), mdyx = (float)(sum_dy_xhat / count);
        for (int i = 0; i < n; i++) {
            const float *xc = x + i * size + ch * plane, *dyc = dy + i * size + ch * plane;
            float *dxc = dx + i * size + ch * plane;
            if (cond) {
                const float g = L->weight[(size_t)ganc_layer_label(L, p, i) * c + ch];
                if (p->training)
                    for (size_t j = 0; j < plane; j++) {
                        const float xhat = (xc[j] - mean[ch]) * invstd[ch];
                        dxc[j] = invstd[ch] * (g * dyc[j] - mdy - xhat * mdyx);
                    }
                else
                    for (size_t j = 0; j < plane; j++) dxc[j] = g * invstd[ch] * dyc[j];
                continue;
            }
            const float g = L->weight[ch] * invstd[ch];
            if (p->training)
                for (size_t j = 0; j < plane; j++) {
                    const float xhat = (xc[j] - mean[ch]) * invstd[ch];
                    dxc[j] = g * (dyc[j] - mdy - xhat * mdyx);
                }
            else
                for (size_t j = 0; j < plane; j++) dxc[j] = g * dyc[j];
        }
    }
}

static const ganc_layer_option bn_options[] = {
    GANC_FLOAT_OPTION("eps", eps, 1e-12, 1.0, 1e-5),
    GANC_FLOAT_OPTION("momentum", momentum, 0.0, 1.0, 0.1),
    GANC_INT_OPTION("classes", classes, 0, GANC_MAX_CLASSES, 0),
    GANC_OPTIONS_END,
};

const ganc_layer_def ganc_batchnorm_def = {
    .name = "batchnorm",
    .options = bn_options,
    .setup = bn_setup,
    .init = bn_init,
    .reset_state = bn_reset_state,
    .forward = bn_forward,
    .backward = bn_backward,
};
