#include "gan/game.h"
#include "ganc_internal.h"

#include <math.h>
#include <string.h>

static ganc_optim_config player_optim(const ganc_config *cfg, float lr)
{
    ganc_optim_config o = ganc_optim_default(cfg->optim);
    o.lr = lr;
    o.beta1 = cfg->beta1;
    o.beta2 = cfg->beta2;
    o.eps = cfg->adam_eps;
    o.momentum = cfg->momentum;
    o.weight_decay = cfg->weight_decay;
    return o;
}

void ganc_game_init(ganc_game *gm, ganc_net *g, ganc_net *d, const ganc_config *cfg)
{
    memset(gm, 0, sizeof *gm);
    gm->g = g;
    gm->d = d;
    gm->batch = cfg->batch;
    gm->z_dim = cfg->z_dim;
    gm->g_loss = cfg->g_loss;
    gm->z_dist = cfg->z_dist;
    gm->real_target = 1.0f - cfg->label_smooth;
    const ganc_optim_config og = player_optim(cfg, cfg->lr_g), od = player_optim(cfg, cfg->lr_d);
    ganc_optim_init(&gm->opt_g, &og, ganc_net_param_count(g));
    ganc_optim_init(&gm->opt_d, &od, ganc_net_param_count(d));
    /* Independent streams per purpose, all derived from the run's seed. */
    ganc_rng_seed(&gm->noise, cfg->seed * 4 + 1);
    ganc_rng_seed(ganc_net_rng(g), cfg->seed * 4 + 2);
    ganc_rng_seed(ganc_net_rng(d), cfg->seed * 4 + 3);
    gm->z = ganc_alloc(sizeof(float) * (size_t)cfg->batch * cfg->z_dim);
    gm->dlogit = ganc_alloc(sizeof(float) * (size_t)cfg->batch);
    gm->dfake = ganc_alloc(sizeof(float) * (size_t)cfg->batch * ganc_shape_size(ganc_net_output_shape(g)));
    gm->ema_decay = cfg->ema;
    if (cfg->ema > 0.0f) {
        const size_t n = ganc_net_param_count(g);
        gm->ema = ganc_alloc(sizeof(float) * n);
        gm->ema_swap = ganc_alloc(sizeof(float) * n);
        memcpy(gm->ema, ganc_net_params(g), sizeof(float) * n);
    }
}

void ganc_game_free(ganc_game *gm)
{
    ganc_optim_free(&gm->opt_g);
    ganc_optim_free(&gm->opt_d);
    ganc_net_free(gm->g);
    ganc_net_free(gm->d);
    ganc_free(gm->z);
    ganc_free(gm->dlogit);
    ganc_free(gm->dfake);
    ganc_free(gm->ema);
    ganc_free(gm->ema_swap);
    memset(gm, 0, sizeof *gm);
}

void ganc_game_noise(const ganc_game *gm, ganc_rng *rng, float *z, int n)
{
    const size_t count = (size_t)n * gm->z_dim;
    if (gm->z_dist == GANC_Z_UNIFORM) ganc_rng_uniform(rng, z, count, 0.0f, 1.0f);
    else ganc_rng_normal(rng, z, count, 0.0f, 1.0f);
}

static double norm2(const float *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

static double mean_sigmoid(const float *z, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += z[i] >= 0 ? 1.0 / (1.0 + exp(-z[i])) : exp(z[i]) / (1.0 + exp(z[i]));
    return s / n;
}

void ganc_game_d_step(ganc_game *gm, const float *real)
{
    const int m = gm->batch;
    ganc_net_set_training(gm->g, 1);
    ganc_net_set_training(gm->d, 1);
    ganc_net_zero_grad(gm->d);

    /* Real and fake pass through D separately (each with its own batch statistics) and the
     * backward of one finishes before the other's forward overwrites D's activations. */
    const float *logit = ganc_net_forward(gm->d, real, m);
    gm->stats.d_real = mean_sigmoid(logit, m);
    double loss = ganc_bce_logits(logit, NULL, gm->real_target, m, gm->dlogit, 1.0f);
    ganc_net_backward(gm->d, gm->dlogit, NULL, 1);

    ganc_game_noise(gm, &gm->noise, gm->z, m);
    const float *fake = ganc_net_forward(gm->g, gm->z, m);
    logit = ganc_net_forward(gm->d, fake, m);
    gm->stats.d_fake = mean_sigmoid(logit, m);
    loss += ganc_bce_logits(logit, NULL, 0.0f, m, gm->dlogit, 1.0f);
    ganc_net_backward(gm->d, gm->dlogit, NULL, 1);

    gm->stats.d_loss = loss;
    gm->stats.gnorm_d = norm2(ganc_net_grads(gm->d), ganc_net_param_count(gm->d));
    ganc_optim_step(&gm->opt_d, ganc_net_params(gm->d), ganc_net_grads(gm->d));
}

void ganc_game_g_step(ganc_game *gm)
{
    const int m = gm->batch;
    ganc_net_set_training(gm->g, 1);
    ganc_net_set_training(gm->d, 1);
    ganc_net_zero_grad(gm->g);

    ganc_game_noise(gm, &gm->noise, gm->z, m);
    const float *fake = ganc_net_forward(gm->g, gm->z, m);
    const float *logit = ganc_net_forward(gm->d, fake, m);
    if (gm->g_loss == GANC_GLOSS_NS) {
        gm->stats.g_loss = ganc_bce_logits(logit, NULL, 1.0f, m, gm->dlogit, 1.0f);
    } else {
        /* minimise log(1 - D(G(z))) = -BCE(D(G(z)), 0): the same gradient with its sign flipped */
        gm->stats.g_loss = -ganc_bce_logits(logit, NULL, 0.0f, m, gm->dlogit, -1.0f);
    }
    /* D is frozen: only its input gradient is computed. */
    ganc_net_backward(gm->d, gm->dlogit, gm->dfake, 0);
    ganc_net_backward(gm->g, gm->dfake, NULL, 1);
    gm->stats.gnorm_g = norm2(ganc_net_grads(gm->g), ganc_net_param_count(gm->g));
    ganc_optim_step(&gm->opt_g, ganc_net_params(gm->g), ganc_net_grads(gm->g));
    if (gm->ema) {
        /* The decay ramps up as (1 + t) / (10 + t) so the average forgets the random initial
         * weights quickly (as TensorFlow's ExponentialMovingAverage with num_updates). */
        const double t = (double)gm->opt_g.step, ramp = (1.0 + t) / (10.0 + t);
        const float b = (float)(ramp < gm->ema_decay ? ramp : gm->ema_decay);
        const float *p = ganc_net_params(gm->g);
        const size_t n = ganc_net_param_count(gm->g);
        for (size_t i = 0; i < n; i++) gm->ema[i] = b * gm->ema[i] + (1.0f - b) * p[i];
    }
}

void ganc_game_generate(ganc_game *gm, const float *z, int n, float *out)
{
    const int was_training = ganc_net_training(gm->g);
    const size_t sample = ganc_shape_size(ganc_net_output_shape(gm->g)), n_params = ganc_net_param_count(gm->g);
    float *params = ganc_net_params(gm->g);
    if (gm->ema) { /* the average's weights, with the live batch-norm statistics */
        memcpy(gm->ema_swap, params, sizeof(float) * n_params);
        memcpy(params, gm->ema, sizeof(float) * n_params);
    }
    ganc_net_set_training(gm->g, 0);
    for (int i = 0; i < n; i += gm->batch) {
        const int chunk = n - i < gm->batch ? n - i : gm->batch;
        const float *y = ganc_net_forward(gm->g, z + (size_t)i * gm->z_dim, chunk);
        memcpy(out + (size_t)i * sample, y, sizeof(float) * sample * (size_t)chunk);
    }
    ganc_net_set_training(gm->g, was_training);
    if (gm->ema) memcpy(params, gm->ema_swap, sizeof(float) * n_params);
}
