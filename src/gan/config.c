/* The option table and its parser. Values are range-checked here, once, for every source. */
#include "gan/config.h"
#include "data/source.h"
#include "gan/diffaug.h"
#include "ganc_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_INT, T_I64, T_U64, T_FLOAT, T_STR, T_ENUM, T_AUG } opt_type; /* T_AUG: gan/diffaug.h's list */

typedef struct {
    ganc_config_option pub;
    opt_type type;
    size_t offset;
    double lo, hi;
    const char *choices; /* T_ENUM: space-separated names, value = index */
    /* T_STR: hi = 1 when the value may be empty */
} option;

static int check_size(const char *v, char err[GANC_ERR_LEN])
{
    int h, w;
    return ganc_parse_size(v, &h, &w, err);
}

static int check_background(const char *v, char err[GANC_ERR_LEN])
{
    uint8_t rgb[3];
    return ganc_parse_background(v, rgb, err);
}

/* Text options that are not 512-byte names: their field's size and the check of a value. */
static const struct {
    const char *key;
    size_t cap;
    int (*check)(const char *value, char err[GANC_ERR_LEN]);
} text_rules[] = {
    {"size", sizeof(((ganc_config *)0)->size), check_size},
    {"background", sizeof(((ganc_config *)0)->background), check_background},
};

#define OFF(f) offsetof(ganc_config, f)
static const option options[] = {
    {{"model", "NAME|FILE", "model preset (dcgan28, mlp) or model file", 0}, T_STR, OFF(model), 0, 0, NULL},
    {{"data", "NAME|PATH", "fashion-mnist, mnist-10k, stacked-mnist[:IDX] (three digits as RGB), ring, grid (2-D points), a folder of pictures (its sub-folders are the classes), cifar10:DIR, cifar100:DIR, an NPY array, or an IDX images file", 1}, T_STR, OFF(data), 0, 0, NULL},
    {{"size", "S|HxW", "the images' size: every image is fitted to it (area filter down, bilinear up; see --crop); 0: the data's own (a folder's pictures must then agree)", 1}, T_STR, OFF(size), 0, 0, NULL},
    {{"crop", "center|pad", "an image of another aspect ratio than --size keeps its centre (center) or is shrunk whole into it, the rest filled with --background (pad)", 1}, T_ENUM, OFF(crop), 0, 0, "center pad"},
    {{"channels", "auto|1|3", "grey or RGB images (auto: the data's own; a folder is RGB when any picture has colour)", 1}, T_ENUM, OFF(channels), 0, 0, "auto 1 3"},
    {{"background", "white|black|R,G,B", "the colour under transparent pixels and around padded images", 1}, T_STR, OFF(background), 0, 0, NULL},
    {{"strict", "off|on", "a broken picture in a data folder stops the run (off: it is skipped and named)", 1}, T_ENUM, OFF(strict), 0, 0, "off on"},
    {{"xflip", "off|on", "every image also mirrored left-right (twice the images per epoch; for small sets, as StyleGAN2-ADA's --mirror)", 1}, T_ENUM, OFF(xflip), 0, 0, "off on"},
    {{"z_dim", "N", "dimension of the noise z", 1}, T_INT, OFF(z_dim), 1, 65536, NULL},
    {{"z_dist", "normal|uniform|mixture", "distribution of z: N(0, 1), U(0, 1), or a mixture of --z-modes Gaussians N(mu_k, I) with equal weights (a static Gaussian-mixture prior, Ben-Yosef & Weinshall 2018: G need not tear one Gaussian into separate modes)", 1}, T_ENUM, OFF(z_dist), 0, 0, "normal uniform mixture"},
    {{"z_modes", "K", "--z-dist mixture: number of Gaussians", 1}, T_INT, OFF(z_modes), 1, 4096, NULL},
    {{"z_mode_scale", "C", "--z-dist mixture: the means are drawn once from U(-C, C) per component (from a fixed stream: the same means for every run with this --z-dim, K and C)", 1}, T_FLOAT, OFF(z_mode_scale), 0, 100, NULL},
    {{"batch", "M", "samples per batch (m real and m generated)", 1}, T_INT, OFF(batch), 1, 65536, NULL},
    {{"d_steps", "K", "discriminator updates per generator update", 1}, T_INT, OFF(d_steps), 1, 100, NULL},
    {{"loss", GANC_LOSS_ARG, GANC_LOSS_HELP, 1}, T_ENUM, OFF(loss), 0, 0, GANC_LOSS_CHOICES}, /* gan/losses.h */
    {{"clip", "C", "wgan: clip D's parameters to [-C, C] after each D step", 1}, T_FLOAT, OFF(clip), 0, 100, NULL},
    {{"gp", "L", "wgan-gp: weight of the gradient penalty L * E (||grad D(x^)|| - 1)^2", 1}, T_FLOAT, OFF(gp), 0, 1e6, NULL},
    {{"r1", "G", "R1 penalty G/2 * E ||grad D(x)||^2 on real samples, with any loss (0: off)", 1}, T_FLOAT, OFF(r1), 0, 1e6, NULL},
    {{"pack", "N", "PacGAN: D judges N samples at once (the batch must be a multiple of N)", 1}, T_INT, OFF(pack), 1, 64, NULL},
    {{"inst_noise", "S", "instance noise: N(0, S^2) added to D's real and generated inputs, S annealed linearly to 0 (0: off)", 1}, T_FLOAT, OFF(inst_noise), 0, 100, NULL},
    {{"inst_noise_steps", "N", "steps over which the instance noise fades to 0", 1}, T_INT, OFF(inst_noise_steps), 1, 1e9, NULL},
    {{"diffaug", "LIST", "differentiable augmentation (DiffAugment, Zhao et al. 2020) for small sets: random color, translation and/or cutout (comma-separated), drawn anew for every sample, applied to everything D sees, real and generated, in D's and G's steps, G's gradient flowing back through them (none: off; pictures only)", 1}, T_AUG, OFF(diffaug), 0, 0, NULL},
    {{"optim", "adam|sgd", "optimizer of both players", 1}, T_ENUM, OFF(optim), 0, 0, "adam sgd"},
    {{"lr_g", "LR", "generator learning rate", 1}, T_FLOAT, OFF(lr_g), 0, 10, NULL},
    {{"lr_d", "LR", "discriminator learning rate", 1}, T_FLOAT, OFF(lr_d), 0, 10, NULL},
    {{"beta1", "B", "Adam beta1", 1}, T_FLOAT, OFF(beta1), 0, 0.999999, NULL},
    {{"beta2", "B", "Adam beta2", 1}, T_FLOAT, OFF(beta2), 0, 0.999999, NULL},
    {{"adam_eps", "E", "Adam epsilon (large values, e.g. 1, damp steps on small gradients)", 1}, T_FLOAT, OFF(adam_eps), 0, 10, NULL},
    {{"momentum", "M", "SGD momentum", 1}, T_FLOAT, OFF(momentum), 0, 0.999999, NULL},
    {{"weight_decay", "W", "L2 weight decay of both optimizers", 1}, T_FLOAT, OFF(weight_decay), 0, 1, NULL},
    {{"lr_decay_from", "N", "from step N on, both learning rates fall linearly to 0 at --lr-decay-to (0: constant)", 1}, T_I64, OFF(lr_decay_from), 0, 1e12, NULL},
    {{"mbstd", "on|off", "D's mbstd layers: off makes their statistic 0 throughout (D without them, in effect: e.g. a preset's D for a data set it does not help)", 1}, T_ENUM, OFF(mbstd_off), 0, 0, "on off"},
    {{"mbstd_until", "N", "D's mbstd layers: their statistic fades linearly from step N/2 and is off from step N on (0: on throughout)", 1}, T_I64, OFF(mbstd_until), 0, 1e12, NULL},
    {{"lr_decay_to", "N", "the step where the decaying learning rates reach 0 (0: the run's last step, so that a run continued to more steps decays anew)", 1}, T_I64, OFF(lr_decay_to), 0, 1e12, NULL},
    {{"label_smooth", "S", "one-sided label smoothing: D's target for real samples is 1 - S", 1}, T_FLOAT, OFF(label_smooth), 0, 0.5, NULL},
    {{"top_k", "NU", "top-k training (Sinha et al. 2020): G's update uses only the k of its m samples that D scores highest, k/m falling linearly from 1 at step 0 to NU at the run's last step (1: off)", 1}, T_FLOAT, OFF(top_k), 0.01, 1, NULL},
    {{"info_codes", "K", "InfoGAN (Chen et al. 2016): the last K components of z are a one-hot code c drawn uniformly from K values; D's last layer gives 1 + K outputs (write `dense $dout`), its logit and a guess of c, and both players also minimise --info-weight times the guess's cross-entropy, so that G makes K kinds of sample it keeps apart (0: off)", 1}, T_INT, OFF(info_codes), 0, 1024, NULL},
    {{"info_weight", "L", "--info-codes: weight of the code's cross-entropy in both players' losses", 1}, T_FLOAT, OFF(info_weight), 0, 100, NULL},
    {{"cond", "off|concat|projection|acgan", "class-conditional GAN on labelled data: G makes a sample of the class asked for, D judges a sample with its class. concat (Mirza & Osindero 2014): a learned class vector (--cond-dim) joined to z and, as extra channels, to D's input; projection (Miyato & Koyama 2018): D's logit plus the inner product of its last features with a class embedding, G's batch norms with a gain and bias per class; acgan (Odena et al. 2017): the class vector joined to z, D also classifies (its last layer gets 1 + K outputs) and both players minimise --cond-weight times the class cross-entropy. A model whose layers already name their classes (classes=$classes) is used as written", 1}, T_ENUM, OFF(cond), 0, 0, "off concat projection acgan"},
    {{"cond_dim", "N", "--cond concat or acgan: size of the learned class vector (0: the number of classes, at most 64)", 1}, T_INT, OFF(cond_dim), 0, 4096, NULL},
    {{"cond_weight", "L", "--cond acgan: weight of the class cross-entropy in both players' losses", 1}, T_FLOAT, OFF(cond_weight), 0, 100, NULL},
    {{"cond_fake", "on|off", "--cond acgan: D's class guesses also learn the classes of generated samples (on: the paper's loss, where D and G cooperate on them) or of real samples only (off)", 1}, T_ENUM, OFF(cond_fake), 0, 0, "off on"},
    {{"classes", "K", "--cond: the number of classes (0: the data's; a larger K leaves room for classes the data lacks)", 0}, T_INT, OFF(classes), 0, 65536, NULL},
    {{"ema", "B", "keep an exponential moving average of G's weights with decay B (e.g. 0.999) and sample from it (0: off)", 1}, T_FLOAT, OFF(ema), 0, 0.99999, NULL},
    {{"reject", "Q", "discriminator rejection sampling (Azadi et al. 2019) whenever samples are drawn from the run (ganc sample, ganc eval, --eval-every; not the training pictures): keep each of G's samples with probability min(1, exp(s - M)), s D's logit, M the Q-quantile of s on 10,000 draws (1: the paper's exact rule; 0: off). Needs a cross-entropy --loss and --pack 1", 1}, T_FLOAT, OFF(reject), 0, 1, NULL},
    {{"truncation", "T", "the truncation trick (Brock et al. 2019): whenever samples are drawn from the run (pictures, ganc sample, ganc eval), each component of z is drawn from N(0, 1) again until it lies in [-T, T] -- more typical samples, less variety; training draws are not truncated (0: off; needs --z-dist normal, or mixture: then the offset from the component's mean is truncated)", 1}, T_FLOAT, OFF(truncation), 0, 100, NULL},
    {{"steps", "N", "total iterations of the run (one iteration = k D steps + 1 G step)", 1}, T_I64, OFF(steps), 0, 1e12, NULL},
    {{"epochs", "N", "run length in passes over the data, when --steps is 0", 1}, T_INT, OFF(epochs), 0, 1e6, NULL},
    {{"seed", "S", "seed of every random draw", 0}, T_U64, OFF(seed), 0, 0, NULL},
    {{"init", "dcgan|torch", "weight init: N(0, 0.02) or PyTorch's defaults", 1}, T_ENUM, OFF(init), 0, 0, "torch dcgan"},
    {{"sample_every", "N", "write samples/step_N.png every N steps (0: never)", 0}, T_INT, OFF(sample_every), 0, 1e9, NULL},
    {{"log_every", "N", "append to log.jsonl every N steps", 0}, T_INT, OFF(log_every), 1, 1e9, NULL},
    {{"ckpt_every", "N", "write a checkpoint every N steps (and at the end)", 0}, T_INT, OFF(ckpt_every), 1, 1e9, NULL},
    {{"keep", "K", "checkpoints kept in the run directory", 0}, T_INT, OFF(keep), 1, 1000, NULL},
    {{"grid", "N", "samples in each picture", 0}, T_INT, OFF(grid), 1, 1024, NULL},
    {{"threads", "T", "worker threads (0: all cores)", 0}, T_INT, OFF(threads), 0, 1024, NULL},
    {{"precision", "fp32|bf16|auto", "arithmetic of the matrix products of conv, deconv, dense and maxout, forward and backward: fp32, or bf16 (inputs rounded to bfloat16, sums in fp32; weights, optimizer, batch norm and losses stay fp32), on AMX-BF16 or AVX512-BF16 where the CPU has them, else emulated (exact, not faster); auto: bf16 where the CPU has it in hardware and the model has been shown to train as well in bf16, else fp32", 0}, T_ENUM, OFF(precision), 0, 0, "fp32 bf16 auto"},
    {{"eval_every", "N", "every N steps: FID, KID, precision/recall, ... (with --classifier) or, for 2-D runs, modes and high quality, into log.jsonl and metrics.png (0: never)", 0}, T_INT, OFF(eval_every), 0, 1e9, NULL},
    {{"eval_n", "N", "generated samples per --eval-every evaluation", 0}, T_INT, OFF(eval_n), 10, 1e6, NULL},
    {{"classifier", "FILE", "feature network for --eval-every on images (ganc classifier train)", 0}, T_STR, OFF(classifier), 0, 1, NULL},
    {{"on_nan", "stop|rollback", "on a non-finite loss: stop, or reload the last checkpoint with halved learning rates (3 times at most)", 0}, T_ENUM, OFF(on_nan), 0, 0, "stop rollback"},
};
#define N_OPTIONS ((int)(sizeof options / sizeof options[0]))

void ganc_config_defaults(ganc_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->model, sizeof c->model, "dcgan28");
    snprintf(c->data, sizeof c->data, "fashion-mnist");
    snprintf(c->size, sizeof c->size, "0");
    snprintf(c->background, sizeof c->background, "white");
    c->z_dim = 100;
    c->z_dist = GANC_Z_NORMAL;
    c->z_modes = 10;
    c->z_mode_scale = 1.0f;
    c->batch = 64;
    c->d_steps = 1;
    c->loss = GANC_LOSS_NS;
    c->clip = 0.01f;
    c->gp = 10.0f;
    c->pack = 1;
    c->eval_n = 2000;
    c->inst_noise_steps = 3000;
    c->top_k = 1.0f;
    c->info_weight = 1.0f;
    c->cond_weight = 1.0f;
    c->cond_fake = 1;
    c->optim = GANC_OPTIM_ADAM;
    c->lr_g = 2e-4f;
    c->lr_d = 2e-4f;
    c->beta1 = 0.5f;
    c->beta2 = 0.999f;
    c->adam_eps = 1e-8f;
    c->momentum = 0.9f;
    c->steps = 3000;
    c->seed = 1;
    c->init = GANC_INIT_DCGAN;
    c->sample_every = 250;
    c->log_every = 10;
    c->ckpt_every = 500;
    c->keep = 3;
    c->grid = 64;
}

/* The presets whose bf16 training matched fp32's at the same budget and seeds (FID within 10%,
 * docs/results.md "bf16"): what --precision auto may run in bf16. */
static const char *const bf16_shown[] = {"dcgan28", NULL}; /* FID 0.79-0.95 of fp32's on 3 seeds */

ganc_precision ganc_config_precision(const ganc_config *c)
{
    if (c->precision != GANC_PRECISION_AUTO) return c->precision == GANC_PRECISION_BF16 ? GANC_PRECISION_BF16 : GANC_PRECISION_FP32;
    if (!ganc_bf16_hardware()) return GANC_PRECISION_FP32;
    for (int i = 0; bf16_shown[i]; i++)
        if (!strcmp(c->model, bf16_shown[i])) return GANC_PRECISION_BF16;
    return GANC_PRECISION_FP32;
}

static const option *find(const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "%s", key);
    for (char *p = k; *p; p++)
        if (*p == '-') *p = '_';
    if (!strcmp(k, "g_loss")) snprintf(k, sizeof k, "loss"); /* its first name, kept for old runs */
    for (int i = 0; i < N_OPTIONS; i++)
        if (!strcmp(options[i].pub.key, k)) return &options[i];
    return NULL;
}

static void dashed(const char *key, char out[64])
{
    snprintf(out, 64, "%s", key);
    for (char *p = out; *p; p++)
        if (*p == '_') *p = '-';
}

int ganc_config_set(ganc_config *c, const char *key, const char *value, char err[GANC_ERR_LEN])
{
    const option *o = find(key);
    char name[64];
    if (!o) return ganc_fail(err, "unknown option '%s'", key);
    dashed(key, name); /* errors name the option as the user wrote it */
    void *field = (char *)c + o->offset;
    char *end;
    errno = 0;
    switch (o->type) {
    case T_INT:
    case T_I64: {
        long long v = strtoll(value, &end, 10);
        if (end == value || *end || errno || v < o->lo || v > o->hi) /* the wording of src/cli/flags.c */
            return ganc_fail(err, "--%s needs an integer in [%.0f, %.0f], got '%s'", name, o->lo, o->hi, value);
        if (o->type == T_INT) *(int *)field = (int)v;
        else *(int64_t *)field = v;
        return 0;
    }
    case T_U64: {
        if (value[0] == '-') return ganc_fail(err, "--%s needs a non-negative integer, got '%s'", name, value);
        unsigned long long v = strtoull(value, &end, 10);
        if (end == value || *end || errno) return ganc_fail(err, "--%s needs a non-negative integer, got '%s'", name, value);
        *(uint64_t *)field = v;
        return 0;
    }
    case T_FLOAT: {
        double v = strtod(value, &end);
        if (end == value || *end || errno || !(v >= o->lo && v <= o->hi)) /* NaN is outside too */
            return ganc_fail(err, "--%s needs a number in [%g, %g], got '%s'", name, o->lo, o->hi, value);
        *(float *)field = (float)v;
        return 0;
    }
    case T_STR: {
        size_t cap = 512;
        if (!value[0] && o->hi != 1) return ganc_fail(err, "--%s needs a value", name);
        for (size_t i = 0; i < sizeof text_rules / sizeof text_rules[0]; i++) {
            if (strcmp(text_rules[i].key, o->pub.key)) continue;
            if (text_rules[i].check(value, err)) return -1;
            cap = text_rules[i].cap;
        }
        if (strlen(value) >= cap) return ganc_fail(err, "--%s value is too long", name);
        snprintf((char *)field, cap, "%s", value);
        return 0;
    }
    case T_ENUM: {
        int idx = 0;
        for (const char *s = o->choices; *s; idx++) {
            size_t len = strcspn(s, " ");
            if (strlen(value) == len && !strncmp(s, value, len)) {
                *(int *)field = idx;
                return 0;
            }
            s += len + (s[len] == ' ');
        }
        return ganc_fail(err, "--%s needs one of: %s, got '%s'", name, o->choices, value);
    }
    case T_AUG: return ganc_diffaug_parse(value, (unsigned *)field, err);
    }
    return -1;
}

const char *ganc_config_get(const ganc_config *c, const char *key, char buf[64])
{
    const option *o = find(key);
    if (!o) return NULL;
    const void *field = (const char *)c + o->offset;
    switch (o->type) {
    case T_INT: snprintf(buf, 64, "%d", *(const int *)field); break;
    case T_I64: snprintf(buf, 64, "%" PRId64, *(const int64_t *)field); break;
    case T_U64: snprintf(buf, 64, "%" PRIu64, *(const uint64_t *)field); break;
    case T_FLOAT: {
        /* the shortest text that reads back as the same float: 0.0002, not 0.000199999995 */
        const float v = *(const float *)field;
        char text[64];
        int digits = 6;
        do {
            snprintf(text, sizeof text, "%.*g", digits, v);
        } while ((float)strtod(text, NULL) != v && ++digits <= 9); /* as ganc_config_set reads it */
        memcpy(buf, text, sizeof text);
        break;
    }
    case T_STR: return (const char *)field;
    case T_ENUM: {
        int idx = *(const int *)field;
        const char *s = o->choices;
        for (int i = 0; i < idx && *s; i++) s += strcspn(s, " ") + 1;
        size_t len = strcspn(s, " ");
        snprintf(buf, 64, "%.*s", (int)len, s);
        break;
    }
    case T_AUG: ganc_diffaug_format(*(const unsigned *)field, buf, 64); break;
    }
    return buf;
}

int ganc_config_option_count(void) { return N_OPTIONS; }
const ganc_config_option *ganc_config_option_at(int i) { return &options[i].pub; }

int ganc_source_options_from_config(const ganc_config *c, ganc_source_options *o, char err[GANC_ERR_LEN])
{
    static const int channels_of[] = {0, 1, 3}; /* the choices "auto 1 3" */
    ganc_source_options_default(o);
    if (ganc_parse_size(c->size, &o->height, &o->width, err) || ganc_parse_background(c->background, o->background, err))
        return -1;
    o->fit = c->crop ? GANC_FIT_PAD : GANC_FIT_CROP;
    o->channels = channels_of[c->channels];
    o->strict = c->strict;
    o->xflip = c->xflip;
    o->seed = c->seed * 4 + 7; /* the 2-D sets' points: the stream runs have always used */
    return 0;
}
