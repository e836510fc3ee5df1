#include "gan/game.h"
#include "gan/latent.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdlib.h>
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

/* Whether D's step adds a gradient penalty, WGAN-GP's or R1's: the game then keeps the
 * penalties' work (gm->pen), and a data-parallel game gives it the gather. */
static int game_has_penalty(const ganc_game *gm)
{
    return gm->loss->lipschitz == GANC_LIPSCHITZ_GP || gm->r1 > 0.0f;
}

void ganc_game_init(ganc_game *gm, ganc_net *g, ganc_net *d, const ganc_config *cfg)
{
    memset(gm, 0, sizeof *gm);
    gm->g = g;
    gm->d = d;
    gm->batch = cfg->batch;
    gm->draw_batch = cfg->batch;
    gm->z_dim = cfg->z_dim;
    gm->pack = cfg->pack;
    gm->loss = ganc_loss_of(cfg->loss);
    gm->clip = cfg->clip;
    gm->gp = cfg->gp;
    gm->r1 = cfg->r1;
    gm->inst_noise = cfg->inst_noise;
    gm->noise_scale = cfg->inst_noise;
    gm->real_target = 1.0f - cfg->label_smooth;
    gm->z_dist = cfg->z_dist;
    gm->truncation = cfg->truncation;
    if (cfg->z_dist == GANC_Z_MIXTURE) {
        gm->z_modes = cfg->z_modes;
        gm->z_centers = ganc_alloc(sizeof(float) * (size_t)cfg->z_modes * cfg->z_dim);
        ganc_latent_centers(gm->z_centers, cfg->z_modes, cfg->z_dim, cfg->z_mode_scale);
    }
    gm->top_k = 1.0;
    gm->info_k = cfg->info_codes;
    gm->info_weight = cfg->info_weight;
    gm->sample_code = -1;
    gm->sample_class = -1;
    gm->mix_to = -1;
    gm->cond = cfg->cond;
    gm->classes = cfg->cond != GANC_COND_OFF ? cfg->classes : 0;
    gm->latent = cfg->z_dim + (gm->classes ? 1 : 0);
    gm->guesses = cfg->cond == GANC_COND_ACGAN ? gm->classes : gm->info_k;
    gm->guess_weight = cfg->cond == GANC_COND_ACGAN ? cfg->cond_weight : cfg->info_weight;
    gm->cond_fake = cfg->cond_fake;
    if (gm->info_k) gm->codes = ganc_alloc(sizeof(int32_t) * (size_t)cfg->batch);
    if (gm->guesses) {
        gm->score = ganc_alloc(sizeof(float) * (size_t)cfg->batch);
        gm->dout = ganc_alloc(sizeof(float) * (size_t)cfg->batch * (1 + (size_t)gm->guesses));
        gm->q = ganc_alloc(sizeof(float) * (size_t)cfg->batch * (size_t)gm->guesses);
    }
    if (gm->classes) {
        gm->fake_labels = ganc_alloc(sizeof(int32_t) * (size_t)cfg->batch);
        gm->gen_labels = ganc_alloc(sizeof(int32_t) * (size_t)cfg->batch);
        gm->gen_z = ganc_alloc(sizeof(float) * (size_t)cfg->batch * cfg->z_dim);
    }
    const ganc_optim_config og = player_optim(cfg, cfg->lr_g), od = player_optim(cfg, cfg->lr_d);
    ganc_optim_init(&gm->opt_g, &og, ganc_net_param_count(g));
    ganc_optim_init(&gm->opt_d, &od, ganc_net_param_count(d));
    /* Independent streams per purpose, all derived from the run's seed. */
    ganc_rng_seed(&gm->noise, cfg->seed * 4 + 1);
    ganc_rng_seed(ganc_net_rng(g), cfg->seed * 4 + 2);
    ganc_rng_seed(ganc_net_rng(d), cfg->seed * 4 + 3);
    const size_t sample = ganc_shape_size(ganc_net_output_shape(g));
    gm->z = ganc_alloc(sizeof(float) * (size_t)cfg->batch * cfg->z_dim);
    gm->dlogit = ganc_alloc(sizeof(float) * (size_t)cfg->batch);
    gm->dfake = ganc_alloc(sizeof(float) * (size_t)cfg->batch * sample);
    if (cfg->top_k < 1.0f) gm->order = ganc_alloc(sizeof(float) * (size_t)cfg->batch);
    const int gp = gm->loss->lipschitz == GANC_LIPSCHITZ_GP;
    if (cfg->inst_noise > 0.0f || gp) gm->d_in = ganc_alloc(sizeof(float) * (size_t)cfg->batch * sample);
    gm->seed = cfg->seed;
    if (cfg->diffaug) {
        char unused[GANC_ERR_LEN]; /* (it fails only on a shape ganc_game_check_diffaug refuses) */
        if (ganc_diffaug_init(&gm->aug, cfg->diffaug, ganc_net_output_shape(g), cfg->batch, unused) == 0) {
            gm->diffaug = cfg->diffaug;
            gm->aug_real = ganc_alloc(sizeof(float) * (size_t)cfg->batch * sample);
            gm->aug_fake = ganc_alloc(sizeof(float) * (size_t)cfg->batch * sample);
            ganc_game_aug_stream(cfg->seed, 0, &gm->aug_rng);
        }
    }
    if (game_has_penalty(gm)) ganc_penalty_work_init(&gm->pen, d);
    gm->ema_decay = cfg->ema;
    if (cfg->ema > 0.0f) {
        const size_t n = ganc_net_param_count(g);
        gm->ema = ganc_alloc(sizeof(float) * n);
        gm->ema_swap = ganc_alloc(sizeof(float) * n);
        memcpy(gm->ema, ganc_net_params(g), sizeof(float) * n);
        gm->n_state = ganc_net_state_count(g);
        if (gm->n_state) {
            gm->ema_state = ganc_alloc(sizeof(float) * gm->n_state);
            gm->ema_state_swap = ganc_alloc(sizeof(float) * gm->n_state);
            memcpy(gm->ema_state, ganc_net_state(g), sizeof(float) * gm->n_state);
        }
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
    ganc_free(gm->order);
    ganc_free(gm->gathered);
    ganc_free(gm->z_centers);
    ganc_free(gm->codes);
    ganc_free(gm->fake_labels);
    ganc_free(gm->gen_labels);
    ganc_free(gm->gen_z);
    ganc_free(gm->class_cum);
    ganc_free(gm->score);
    ganc_free(gm->dout);
    ganc_free(gm->q);
    ganc_free(gm->d_in);
    ganc_free(gm->aug_real);
    ganc_free(gm->aug_fake);
    ganc_diffaug_free(&gm->aug);
    ganc_penalty_work_free(&gm->pen);
    ganc_free(gm->ema);
    ganc_free(gm->ema_swap);
    ganc_free(gm->ema_state);
    ganc_free(gm->ema_state_swap);
    memset(gm, 0, sizeof *gm);
}

/* 1 before `from`, falling linearly to 0 at `end`, 0 after (1 throughout when end <= from). */
static double linear_fall(int64_t step, int64_t from, int64_t end)
{
    if (step < from || end <= from) return 1.0;
    if (step >= end) return 0.0;
    return (double)(end - step) / (double)(end - from);
}

double ganc_lr_factor(const ganc_config *cfg, int64_t step, int64_t total)
{
    if (cfg->lr_decay_from <= 0) return 1.0;
    return linear_fall(step, cfg->lr_decay_from, cfg->lr_decay_to > 0 ? cfg->lr_decay_to : total);
}

double ganc_top_k_fraction(const ganc_config *cfg, int64_t step, int64_t total)
{
    if (cfg->top_k >= 1.0f || total <= 0) return 1.0;
    const double t = step >= total ? 1.0 : (double)step / (double)total;
    return 1.0 - (1.0 - cfg->top_k) * t;
}

double ganc_mbstd_gate(const ganc_config *cfg, int64_t step)
{
    if (cfg->mbstd_off) return 0.0;
    return cfg->mbstd_until > 0 ? linear_fall(step, cfg->mbstd_until / 2, cfg->mbstd_until) : 1.0;
}

void ganc_game_set_schedule(ganc_game *gm, const ganc_config *cfg, int64_t step, int64_t total)
{
    const double f = ganc_lr_factor(cfg, step, total);
    gm->opt_g.cfg.lr = (float)(cfg->lr_g * f);
    gm->opt_d.cfg.lr = (float)(cfg->lr_d * f);
    ganc_net_set_mbstd_gate(gm->d, (float)ganc_mbstd_gate(cfg, step));
    /* instance noise fades linearly from its sigma at step 0 to none at --inst-noise-steps */
    const double fade = 1.0 - (double)step / cfg->inst_noise_steps;
    gm->noise_scale = fade > 0.0 ? cfg->inst_noise * fade : 0.0;
    gm->top_k = ganc_top_k_fraction(cfg, step, total);
    if (gm->diffaug) ganc_game_aug_stream(gm->seed, step, &gm->aug_rng);
}

void ganc_game_aug_stream(uint64_t seed, int64_t step, ganc_rng *rng)
{
    /* A key of its own per step: the noise stream's key turned by "diffaug!", then the step
     * spread over all 64 bits (multiplying by an odd constant keeps distinct steps distinct). */
    const uint64_t base = (seed * 4 + 1) ^ 0x6469666661756721ull;
    ganc_rng_seed(rng, base ^ ((uint64_t)step * 0x9E3779B97F4A7C15ull));
}

int ganc_game_check_diffaug(const ganc_config *cfg, ganc_shape data, int points, char err[GANC_ERR_LEN])
{
    if (!cfg->diffaug) return 0;
    char list[64];
    ganc_diffaug_format(cfg->diffaug, list, sizeof list);
    if (points)
        return ganc_fail(err, "--diffaug %s: the transforms are for pictures, and --data %s is 2-D points (--diffaug none)",
                         list, cfg->data);
    if (cfg->diffaug & GANC_AUG_TRANSLATION && (data.h < 4 || data.w < 4))
        return ganc_fail(err, "--diffaug %s: translation needs pictures of at least 4x4 (its shift is an eighth of the "
                              "side), these are %dx%d",
                         list, data.h, data.w);
    if (cfg->diffaug & GANC_AUG_CUTOUT && (data.h < 2 || data.w < 2))
        return ganc_fail(err, "--diffaug %s: cutout needs pictures of at least 2x2 (its square is half the side), these "
                              "are %dx%d",
                         list, data.h, data.w);
    return 0;
}

int ganc_game_check_truncation(const ganc_config *cfg, char err[GANC_ERR_LEN])
{
    if (cfg->truncation <= 0.0f) return 0;
    if (cfg->z_dist == GANC_Z_UNIFORM)
        return ganc_fail(err, "--truncation %g: truncates a normal z, but this run draws --z-dist uniform", cfg->truncation);
    if (cfg->truncation < 0.05f)
        return ganc_fail(err, "--truncation %g: below 0.05 almost every draw would be redrawn (0 turns it off)", cfg->truncation);
    return 0;
}

int ganc_game_check_info(const ganc_config *cfg, char err[GANC_ERR_LEN])
{
    const int k = cfg->info_codes;
    if (k == 0) return 0;
    if (k < 2) return ganc_fail(err, "--info-codes 1: a code with one value tells G nothing (2 or more; 0: off)");
    if (k >= cfg->z_dim)
        return ganc_fail(err, "--info-codes %d needs --z-dim above %d (the code is z's last %d components, and G needs noise besides)", k, k, k);
    if (cfg->pack != 1) return ganc_fail(err, "--info-codes %d: D guesses one sample's code, not with --pack %d", k, cfg->pack);
    if (cfg->r1 > 0.0f) return ganc_fail(err, "--info-codes %d: the R1 penalty (--r1) takes D's one logit; not with the code's guesses", k);
    if (ganc_loss_of(cfg->loss)->lipschitz == GANC_LIPSCHITZ_GP)
        return ganc_fail(err, "--info-codes %d: --loss %s's gradient penalty takes D's one logit; not with the code's guesses", k,
                         ganc_loss_of(cfg->loss)->name);
    if (cfg->z_dist == GANC_Z_MIXTURE) return ganc_fail(err, "--info-codes %d: not with --z-dist mixture (both are discrete parts of z)", k);
    return 0;
}

int ganc_game_check_cond(const ganc_config *cfg, char err[GANC_ERR_LEN])
{
    if (cfg->cond == GANC_COND_OFF) return 0;
    const char *name = cfg->cond == GANC_COND_CONCAT ? "concat" : cfg->cond == GANC_COND_PROJECTION ? "projection" : "acgan";
    if (cfg->classes < 2) return ganc_fail(err, "--cond %s needs labelled data with at least 2 classes", name);
    if (cfg->pack != 1) return ganc_fail(err, "--cond %s: D judges one sample of one class, not with --pack %d", name, cfg->pack);
    if (cfg->info_codes && cfg->cond != GANC_COND_CONCAT)
        return ganc_fail(err, "--cond %s: the run also has --info-codes %d (a model's [train] may set it), and only "
                              "--cond concat goes with an InfoGAN code (--info-codes 0 turns it off)", name, cfg->info_codes);
    if (cfg->cond == GANC_COND_ACGAN && cfg->r1 > 0.0f)
        return ganc_fail(err, "--cond acgan: the R1 penalty (--r1) takes D's one logit; not with the class guesses");
    if (cfg->cond == GANC_COND_ACGAN && ganc_loss_of(cfg->loss)->lipschitz == GANC_LIPSCHITZ_GP)
        return ganc_fail(err, "--cond acgan: --loss %s's gradient penalty takes D's one logit; not with the class guesses",
                         ganc_loss_of(cfg->loss)->name);
    return 0;
}

void ganc_game_set_class_prior(ganc_game *gm, const int64_t *counts, int n)
{
    if (!gm->classes || n <= 0) return;
    if (!gm->class_cum) gm->class_cum = ganc_alloc(sizeof(uint64_t) * (size_t)gm->classes);
    uint64_t total = 0;
    for (int k = 0; k < gm->classes; k++) gm->class_cum[k] = total += k < n && counts[k] > 0 ? (uint64_t)counts[k] : 0;
    if (!total) { /* no class counted: uniform */
        ganc_free(gm->class_cum);
        gm->class_cum = NULL;
    }
}


void ganc_game_set_shard(ganc_game *gm, int rank, int ranks)
{
    /* The buffers were sized for the global batch, which the share never exceeds; the
     * networks too (they run on any batch up to the one they were built for). */
    gm->batch = gm->draw_batch / ranks;
    gm->shard_off = rank * gm->batch;
}

void ganc_game_set_gather(ganc_game *gm, void (*gather)(void *ctx, const float *mine, int n, float *all), void *ctx)
{
    const int ranks = gm->draw_batch / gm->batch;
    gm->gather = gather;
    gm->gather_ctx = ctx;
    if (gm->order && !gm->gathered) gm->gathered = ganc_alloc(sizeof(float) * (size_t)gm->draw_batch);
    if (game_has_penalty(gm)) {
        gm->pen.gather = gather;
        gm->pen.gather_ctx = ctx;
        gm->pen.ranks = ranks;
        if (!gm->pen.gathered) gm->pen.gathered = ganc_alloc(sizeof(float) * 2 * (size_t)ranks);
    }
}

/* Keeps items [shard_off, shard_off + batch) of a draw for the global batch, moved to the
 * front (nothing to do in a one-process game). */
static void keep_share(const ganc_game *gm, void *v, size_t item)
{
    if (gm->shard_off) memmove(v, (char *)v + (size_t)gm->shard_off * item, (size_t)gm->batch * item);
}

/* The noise (and InfoGAN codes, classes) of the next global batch from the game's stream, of
 * which this process keeps its share: every process draws the same, as one process would. */
static void train_noise(ganc_game *gm)
{
    const int n = gm->draw_batch;
    const size_t count = (size_t)n * gm->z_dim;
    if (gm->z_dist == GANC_Z_UNIFORM) ganc_rng_uniform(&gm->noise, gm->z, count, 0.0f, 1.0f);
    else ganc_rng_normal(&gm->noise, gm->z, count, 0.0f, 1.0f);
    if (gm->z_dist == GANC_Z_MIXTURE) ganc_latent_add_centers(gm->z_centers, gm->z_modes, gm->z_dim, &gm->noise, gm->z, n, gm->z_dim);
    if (gm->info_k) ganc_latent_set_codes(gm->info_k, gm->z_dim, &gm->noise, gm->z, n, gm->z_dim, -1, gm->codes);
    for (int i = 0; gm->classes && i < n; i++) gm->fake_labels[i] = ganc_latent_draw_class(gm->class_cum, gm->classes, &gm->noise);
    keep_share(gm, gm->z, sizeof(float) * gm->z_dim);
    if (gm->info_k) keep_share(gm, gm->codes, sizeof(int32_t));
    if (gm->classes) keep_share(gm, gm->fake_labels, sizeof(int32_t));
}

/* The game's sampling settings as the latent vectors' (gan/latent.h). */
static ganc_latent latent_of(const ganc_game *gm)
{
    return (ganc_latent){.z_dim = gm->z_dim, .latent = gm->latent, .z_dist = gm->z_dist, .z_modes = gm->z_modes,
                         .z_centers = gm->z_centers, .truncation = gm->truncation, .info_k = gm->info_k,
                         .code = gm->sample_code, .classes = gm->classes, .class_id = gm->sample_class,
                         .class_cum = gm->class_cum};
}

void ganc_game_noise(const ganc_game *gm, ganc_rng *rng, float *z, int n)
{
    const ganc_latent l = latent_of(gm);
    ganc_latent_draw(&l, rng, z, n);
}

/* The gradient's Euclidean norm (logged; the diagnoses read it). Eight running sums, so that
 * the compiler can keep them in vector registers: one sum is a chain of dependent additions,
 * and it was most of a G step's own time on the mlp. */
static double norm2(const float *v, size_t n)
{
    double s[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += (double)v[i + j] * v[i + j];
    for (; i < n; i++) s[i % 8] += (double)v[i] * v[i];
    return sqrt(((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
}

static double mean_sigmoid(const float *z, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += z[i] >= 0 ? 1.0 / (1.0 + exp(-z[i])) : exp(z[i]) / (1.0 + exp(z[i]));
    return s / n;
}

static int cmp_desc(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* Top-k training: only the k best-scored of G's n samples keep their gradient, scaled by n / k
 * so that it is the mean over those k (the others would pull G towards the average of modes
 * D already rejects). Ties at the k-th score keep the earlier samples. */
static void keep_top_k(ganc_game *gm, const float *s, int n, float *ds)
{
    /* In a data-parallel game the k best of the global batch (every process's scores, gathered
     * in rank order: the one-process batch's order), of which this process's n start at `first` */
    if (!gm->order) return;
    const float *all = s;
    int total = n, first = 0;
    if (gm->gather) {
        total = gm->draw_batch / gm->pack;
        first = gm->shard_off / gm->pack;
        gm->gather(gm->gather_ctx, s, n, gm->gathered);
        all = gm->gathered;
    }
    const int k = (int)ceil(gm->top_k * total - 1e-9);
    if (k >= total) return;
    for (int i = 0; i < total; i++) gm->order[i] = isnan(all[i]) ? -INFINITY : all[i]; /* a total order for qsort */
    qsort(gm->order, (size_t)total, sizeof(float), cmp_desc);
    const float kth = gm->order[k - 1];
    int above = 0; /* scores strictly above the k-th all stay; ties fill the rest in order */
    for (int i = 0; i < total; i++) above += all[i] > kth;
    int ties = k - above;
    for (int i = 0; i < first; i++) ties -= all[i] == kth && ties > 0; /* (the ties of the processes before) */
    /* ds is d(mean over this process's n)/ds, and the processes' gradients are averaged: the
     * global batch's mean, which the scale makes the mean over the k kept */
    const float scale = (float)total / (float)k;
    for (int i = 0; i < n; i++) {
        const int keep = s[i] > kth || (s[i] == kth && ties-- > 0);
        ds[i] = keep ? ds[i] * scale : 0.0f;
    }
}

static double mean_score(const ganc_game *gm, const float *s, int n)
{
    if (gm->loss->cross_entropy) return mean_sigmoid(s, n);
    double t = 0.0;
    for (int i = 0; i < n; i++) t += s[i];
    return t / n;
}

void ganc_game_logits(const ganc_game *gm, const float *out, int n, float *logits)
{
    const size_t stride = 1 + (size_t)gm->guesses;
    for (int i = 0; i < n; i++) logits[i] = out[(size_t)i * stride];
}

/* D's logits from its output: the output itself, or with guesses (an InfoGAN code, ACGAN's
 * classes) its column 0. */
static const float *logits_of(ganc_game *gm, const float *out, int n)
{
    if (!gm->guesses) return out;
    ganc_game_logits(gm, out, n, gm->score);
    return gm->score;
}

/* The gradient on D's output from ds, the loss's gradient on the logits: ds itself, or with
 * guesses ds in column 0 and, where the samples' answers are known (codes != NULL: an InfoGAN
 * code or a class), the guesses' guess_weight * CE gradient in the rest (none for real samples
 * with InfoGAN: they carry no code). Returns the mean CE (0 without answers). */
static const float *output_grad(ganc_game *gm, const float *out, const float *ds, int n, const int32_t *codes,
                                double *info)
{
    *info = 0.0;
    if (!gm->guesses) return ds;
    const size_t k = (size_t)gm->guesses, w = 1 + k;
    if (codes) {
        for (int i = 0; i < n; i++) memcpy(gm->q + i * k, out + i * w + 1, sizeof(float) * k);
        *info = ganc_softmax_xent(gm->q, codes, n, (int)k, gm->q, gm->guess_weight); /* in place */
    }
    for (int i = 0; i < n; i++) {
        gm->dout[i * w] = ds[i];
        if (codes) memcpy(gm->dout + i * w + 1, gm->q + i * k, sizeof(float) * k);
        else memset(gm->dout + i * w + 1, 0, sizeof(float) * k);
    }
    return gm->dout;
}

/* x (n samples), or with --diffaug x through a fresh draw of the transforms, written to out. */
static const float *augment(ganc_game *gm, const float *x, int n, float *out)
{
    if (!gm->diffaug) return x;
    /* the global batch's draw, this process's share of it (all of it in one process) */
    ganc_diffaug_draw(&gm->aug, gm->draw_batch, &gm->aug_rng);
    ganc_diffaug_keep(&gm->aug, gm->shard_off, n);
    ganc_diffaug_forward(&gm->aug, x, out);
    return out;
}

/* x, or x plus instance noise (in gm->d_in) while its sigma is above 0. */
static const float *d_input(ganc_game *gm, const float *x, size_t count)
{
    if (gm->inst_noise <= 0.0f || gm->noise_scale <= 0.0) return x;
    /* this process's part of the global batch's noise (all of it in one process) */
    const size_t per = count / (size_t)gm->batch;
    ganc_rng_normal_part(&gm->noise, gm->d_in, (size_t)gm->shard_off * per, count, (size_t)gm->draw_batch * per, 0.0f,
                         (float)gm->noise_scale);
    for (size_t i = 0; i < count; i++) gm->d_in[i] += x[i];
    return gm->d_in;
}

/* The answers to D's guesses: ACGAN's classes, or InfoGAN's codes (generated samples only). */
static const int32_t *answers(const ganc_game *gm, const int32_t *real_labels, int real)
{
    if (gm->cond == GANC_COND_ACGAN) return real ? real_labels : gm->fake_labels;
    return real ? NULL : gm->codes;
}

/* The training steps' passes (on: 1) add batch norm's sums with gm->sum and, in a process's
 * share of a global batch, draw their part of the global batch's dropout masks (D's batch is
 * in packs); no other pass does either (process 0's lone passes: pictures, evaluations). */
static void step_passes(ganc_game *gm, int on)
{
    if (gm->sum) {
        ganc_net_set_sum(gm->g, on ? gm->sum : NULL, gm->sum_ctx);
        ganc_net_set_sum(gm->d, on ? gm->sum : NULL, gm->sum_ctx);
    }
    if (gm->batch != gm->draw_batch) {
        ganc_net_set_shard(gm->g, gm->shard_off, on ? gm->draw_batch : 0);
        ganc_net_set_shard(gm->d, gm->shard_off / gm->pack, on ? gm->draw_batch / gm->pack : 0);
    }
}

void ganc_game_d_step(ganc_game *gm, const float *real, const int32_t *labels)
{
    const int m = gm->batch, md = m / gm->pack; /* D's batch: packs of `pack` samples */
    const size_t count = (size_t)m * ganc_shape_size(ganc_net_output_shape(gm->g));
    ganc_net_set_training(gm->g, 1);
    ganc_net_set_training(gm->d, 1);
    ganc_net_zero_grad(gm->d);
    gm->stats.penalty = 0.0;
    step_passes(gm, 1);

    /* Real and fake pass through D separately (each with its own batch statistics) and the
     * backward of one finishes before the other's forward overwrites D's activations. */
    real = augment(gm, real, m, gm->aug_real); /* what D sees of the real batch, before the noise */
    const float *in = d_input(gm, real, count);
    if (gm->classes) ganc_net_set_labels(gm->d, labels);
    const float *out = ganc_net_forward(gm->d, in, md), *logit = logits_of(gm, out, md);
    gm->stats.d_real = mean_score(gm, logit, md);
    double loss = gm->loss->d_loss(logit, md, 1, gm->real_target, gm->dlogit), info;
    ganc_net_backward(gm->d, output_grad(gm, out, gm->dlogit, md, answers(gm, labels, 1), &info), NULL, 1);
    gm->stats.class_real = info;
    loss += info;
    if (gm->r1 > 0.0f) gm->stats.penalty += ganc_grad_penalty(gm->d, &gm->pen, in, md, GANC_PENALTY_R1, gm->r1);

    train_noise(gm);
    if (gm->classes) {
        ganc_net_set_labels(gm->g, gm->fake_labels);
        ganc_net_set_labels(gm->d, gm->fake_labels);
    }
    const float *fake = augment(gm, ganc_net_forward(gm->g, gm->z, m), m, gm->aug_fake);
    out = ganc_net_forward(gm->d, d_input(gm, fake, count), md);
    logit = logits_of(gm, out, md);
    gm->stats.d_fake = mean_score(gm, logit, md);
    loss += gm->loss->d_loss(logit, md, 0, gm->real_target, gm->dlogit);
    const int32_t *fake_answers = gm->cond == GANC_COND_ACGAN && !gm->cond_fake ? NULL : answers(gm, labels, 0);
    ganc_net_backward(gm->d, output_grad(gm, out, gm->dlogit, md, fake_answers, &info), NULL, 1);
    if (gm->cond == GANC_COND_ACGAN) loss += info;

    if (gm->loss->lipschitz == GANC_LIPSCHITZ_GP) {
        /* interpolates x^ = e x + (1 - e) G(z), one e ~ U(0, 1) per (packed) sample of D */
        const size_t per = count / (size_t)md;
        /* (this process's part of the global batch's draw: all of it in one process) */
        ganc_rng_uniform_part(&gm->noise, gm->dlogit, (size_t)(gm->shard_off / gm->pack), (size_t)md,
                              (size_t)(gm->draw_batch / gm->pack), 0.0f, 1.0f);
        for (int i = 0; i < md; i++)
            for (size_t j = (size_t)i * per; j < (size_t)(i + 1) * per; j++)
                gm->d_in[j] = gm->dlogit[i] * real[j] + (1.0f - gm->dlogit[i]) * fake[j];
        /* (a conditional D judges each interpolate with the real sample's class) */
        if (gm->classes) ganc_net_set_labels(gm->d, labels);
        gm->stats.penalty += ganc_grad_penalty(gm->d, &gm->pen, gm->d_in, md, GANC_PENALTY_GP, gm->gp);
    }

    step_passes(gm, 0);
    gm->stats.d_loss = loss + gm->stats.penalty;
    if (gm->reduce) gm->reduce(gm->reduce_ctx, ganc_net_grads(gm->d), ganc_net_param_count(gm->d));
    gm->stats.gnorm_d = norm2(ganc_net_grads(gm->d), ganc_net_param_count(gm->d));
    ganc_optim_step(&gm->opt_d, ganc_net_params(gm->d), ganc_net_grads(gm->d));
    if (gm->loss->lipschitz == GANC_LIPSCHITZ_CLIP) { /* keeps D (roughly) Lipschitz, as the WGAN paper does */
        float *p = ganc_net_params(gm->d);
        const float c = gm->clip;
        for (size_t i = 0, n = ganc_net_param_count(gm->d); i < n; i++) p[i] = p[i] > c ? c : p[i] < -c ? -c : p[i];
    }
}

void ganc_game_g_step(ganc_game *gm)
{
    const int m = gm->batch, md = m / gm->pack;
    const size_t count = (size_t)m * ganc_shape_size(ganc_net_output_shape(gm->g));
    ganc_net_set_training(gm->g, 1);
    ganc_net_set_training(gm->d, 1);
    ganc_net_zero_grad(gm->g);
    step_passes(gm, 1);

    train_noise(gm);
    if (gm->classes) {
        ganc_net_set_labels(gm->g, gm->fake_labels);
        ganc_net_set_labels(gm->d, gm->fake_labels);
    }
    const float *fake = augment(gm, ganc_net_forward(gm->g, gm->z, m), m, gm->aug_fake);
    const float *out = ganc_net_forward(gm->d, d_input(gm, fake, count), md), *logit = logits_of(gm, out, md);
    gm->stats.g_loss = gm->loss->g_loss(logit, md, gm->dlogit);
    keep_top_k(gm, logit, md, gm->dlogit);
    /* (the code's term keeps every sample: top-k chooses what G learns realism from) */
    const float *dout = output_grad(gm, out, gm->dlogit, md, answers(gm, NULL, 0), &gm->stats.info_loss);
    /* D is frozen: only its input gradient is computed (instance noise passes it unchanged). */
    ganc_net_backward(gm->d, dout, gm->dfake, 0);
    if (gm->diffaug) ganc_diffaug_backward(&gm->aug, gm->dfake, gm->dfake); /* the draw of this step's batch */
    ganc_net_backward(gm->g, gm->dfake, NULL, 1);
    step_passes(gm, 0);
    if (gm->reduce) gm->reduce(gm->reduce_ctx, ganc_net_grads(gm->g), ganc_net_param_count(gm->g));
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
        const float *st = ganc_net_state(gm->g);
        for (size_t i = 0; i < gm->n_state; i++) gm->ema_state[i] = b * gm->ema_state[i] + (1.0f - b) * st[i];
    }
}

void ganc_game_generate(ganc_game *gm, const float *z, int n, float *out)
{
    const int was_training = ganc_net_training(gm->g);
    const size_t sample = ganc_shape_size(ganc_net_output_shape(gm->g)), n_params = ganc_net_param_count(gm->g);
    float *params = ganc_net_params(gm->g);
    float *state = ganc_net_state(gm->g);
    if (gm->ema) { /* the average's weights, with the average's batch-norm statistics */
        memcpy(gm->ema_swap, params, sizeof(float) * n_params);
        memcpy(params, gm->ema, sizeof(float) * n_params);
        if (gm->n_state) {
            memcpy(gm->ema_state_swap, state, sizeof(float) * gm->n_state);
            memcpy(state, gm->ema_state, sizeof(float) * gm->n_state);
        }
    }
    ganc_net_set_training(gm->g, 0);
    const ganc_latent l = latent_of(gm);
    ganc_net_set_class_mix(gm->g, gm->mix_to, gm->mix_t); /* (-1 unless a caller blends classes) */
    for (int i = 0; i < n; i += gm->batch) {
        const int chunk = n - i < gm->batch ? n - i : gm->batch;
        const float *y = ganc_latent_forward(gm->g, &l, z + (size_t)i * gm->latent, chunk, gm->gen_labels, gm->gen_z);
        memcpy(out + (size_t)i * sample, y, sizeof(float) * sample * (size_t)chunk);
    }
    ganc_net_set_class_mix(gm->g, -1, 0.0f);
    ganc_net_set_training(gm->g, was_training);
    if (gm->ema) {
        memcpy(params, gm->ema_swap, sizeof(float) * n_params);
        if (gm->n_state) memcpy(state, gm->ema_state_swap, sizeof(float) * gm->n_state);
    }
}

void ganc_game_latent_labels(const ganc_game *gm, const float *z, int n, int32_t *labels)
{
    const ganc_latent l = latent_of(gm);
    ganc_latent_labels(&l, z, n, labels);
}
