#include "gan/session.h"
#include "gan/latent.h"
#include "gan/export.h"
#include "gan/reject.h"
#include "data/toy2d.h"
#include "ganc_internal.h"
#include "gan/st_builder.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ganc_session_create(ganc_session *s, const ganc_config *cfg, const ganc_model *model, ganc_shape data_shape,
                        char err[GANC_ERR_LEN])
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    /* the checkpoints keep what ran, so that a run resumed on another CPU computes the same */
    s->cfg.precision = ganc_config_precision(cfg);
    s->data_shape = data_shape;
    if (ganc_model_from_text(model->text, model->source, &s->model, err)) return -1;
    ganc_net *g, *d;
    if (cfg->batch % cfg->pack != 0) {
        ganc_fail(err, "--batch %d is not a multiple of --pack %d", cfg->batch, cfg->pack);
        ganc_model_free(&s->model);
        return -1;
    }
    if (ganc_reject_check(cfg, err) || ganc_game_check_truncation(cfg, err)) {
        ganc_model_free(&s->model);
        return -1;
    }
    if (cfg->lr_decay_from > 0 && cfg->lr_decay_to > 0 && cfg->lr_decay_to <= cfg->lr_decay_from) {
        ganc_fail(err, "--lr-decay-to %" PRId64 " must come after --lr-decay-from %" PRId64, cfg->lr_decay_to,
                  cfg->lr_decay_from);
        ganc_model_free(&s->model);
        return -1;
    }
    char unused[GANC_ERR_LEN];
    s->toy = ganc_toy2d_find(cfg->data, unused);
    if (ganc_game_check_info(cfg, err) || ganc_game_check_cond(cfg, err) || ganc_game_check_diffaug(cfg, data_shape, s->toy != NULL, err) ||
        ganc_model_build(&s->model, cfg, data_shape, s->toy != NULL, &g, &d, &s->lo, &s->hi, err)) {
        ganc_model_free(&s->model);
        return -1;
    }
    /* (setting the built value, 1, is how the network counts its mbstd layers) */
    if ((cfg->mbstd_until > 0 || cfg->mbstd_off) && ganc_net_set_mbstd_gate(d, 1.0f) == 0) {
        if (cfg->mbstd_off) ganc_fail(err, "--mbstd off: the model's discriminator has no mbstd layer");
        else ganc_fail(err, "--mbstd-until %" PRId64 ": the model's discriminator has no mbstd layer", cfg->mbstd_until);
        ganc_net_free(g);
        ganc_net_free(d);
        ganc_model_free(&s->model);
        return -1;
    }
    ganc_rng init;
    ganc_rng_seed(&init, cfg->seed * 4);
    ganc_net_init(g, cfg->init, &init);
    ganc_net_init(d, cfg->init, &init);
    ganc_game_init(&s->game, g, d, cfg);
    return 0;
}

int ganc_session_sampling(ganc_session *s, double reject, double truncation, char err[GANC_ERR_LEN])
{
    if (reject >= 0.0) s->cfg.reject = (float)reject;
    if (truncation >= 0.0) s->cfg.truncation = (float)truncation;
    s->game.truncation = s->cfg.truncation;
    return ganc_reject_check(&s->cfg, err) || ganc_game_check_truncation(&s->cfg, err) ? -1 : 0;
}

void ganc_session_set_precision(ganc_session *s, int precision)
{
    s->cfg.precision = precision;
    s->cfg.precision = ganc_config_precision(&s->cfg);
    ganc_net_set_precision(s->game.g, (ganc_precision)s->cfg.precision);
    ganc_net_set_precision(s->game.d, (ganc_precision)s->cfg.precision);
}

void ganc_session_free(ganc_session *s)
{
    ganc_game_free(&s->game);
    ganc_model_free(&s->model);
    free(s->classes);
    s->classes = NULL;
}

int ganc_session_set_classes(ganc_session *s, char *const *names, int n, char err[GANC_ERR_LEN])
{
    free(s->classes);
    s->classes = NULL;
    if (n <= 0 || !names) return 0;
    size_t len = 0;
    for (int k = 0; k < n; k++) len += strlen(names[k] ? names[k] : "") + 1;
    char *p = s->classes = malloc(len);
    if (!p) return ganc_fail(err, "out of memory keeping %d class names", n);
    for (int k = 0; k < n; k++) {
        for (const char *c = names[k] ? names[k] : ""; *c; c++) *p++ = *c == '\n' || *c == '\r' ? ' ' : *c;
        *p++ = k + 1 < n ? '\n' : 0;
    }
    return 0;
}

int ganc_session_class_count(const ganc_session *s)
{
    if (!s->classes) return 0;
    int n = 1;
    for (const char *c = s->classes; *c; c++) n += *c == '\n';
    return n;
}

const char *ganc_session_class_name(const ganc_session *s, int k, char *buf, size_t cap)
{
    int line = 0;
    for (const char *p = s->classes; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (line++ == k) {
            snprintf(buf, cap, "%.*s", (int)strcspn(p, "\n"), p);
            return buf;
        }
    snprintf(buf, cap, "%d", k);
    return buf;
}

/* ---- checkpoint ------------------------------------------------------------------------ */

static void add_net(ganc_st_builder *b, ganc_net *net)
{
    for (int i = 0; i < ganc_net_view_count(net); i++) {
        const ganc_view *v = ganc_net_view(net, i);
        ganc_st_builder_tensor(b, v->name, ganc_net_view_data(net, v), v->ndim, v->dims);
    }
}

static void add_rng(ganc_st_builder *b, const char *key, const ganc_rng *r)
{
    ganc_st_builder_meta(b, key, "%" PRIu64 " %" PRIu64, r->seed, r->counter);
}

int ganc_checkpoint_save(const char *path, const ganc_session *s, char err[GANC_ERR_LEN])
{
    ganc_st_builder b;
    ganc_st_builder_init(&b);
    const ganc_game *gm = &s->game;
    add_net(&b, gm->g);
    add_net(&b, gm->d);
    int dims[1] = {(int)gm->opt_g.n};
    ganc_st_builder_tensor(&b, "optim.gen.m", gm->opt_g.m, 1, dims);
    ganc_st_builder_tensor(&b, "optim.gen.v", gm->opt_g.v, 1, dims);
    dims[0] = (int)gm->opt_d.n;
    ganc_st_builder_tensor(&b, "optim.disc.m", gm->opt_d.m, 1, dims);
    ganc_st_builder_tensor(&b, "optim.disc.v", gm->opt_d.v, 1, dims);
    if (gm->ema) {
        dims[0] = (int)gm->opt_g.n;
        ganc_st_builder_tensor(&b, "ema.gen", gm->ema, 1, dims);
        if (gm->n_state) {
            dims[0] = (int)gm->n_state;
            ganc_st_builder_tensor(&b, "ema.gen_state", gm->ema_state, 1, dims);
        }
    }

    ganc_st_builder_meta(&b, "format", "ganc-checkpoint-1");
    ganc_st_builder_meta(&b, "step", "%" PRId64, s->step);
    ganc_st_builder_meta(&b, "data.epoch", "%" PRId64, s->epoch);
    ganc_st_builder_meta(&b, "data.pos", "%d", s->pos);
    ganc_st_builder_meta(&b, "data.shape", "%d %d %d", s->data_shape.c, s->data_shape.h, s->data_shape.w);
    add_rng(&b, "rng.noise", &gm->noise);
    add_rng(&b, "rng.gen", ganc_net_rng(gm->g));
    add_rng(&b, "rng.disc", ganc_net_rng(gm->d));
    ganc_st_builder_meta(&b, "optim.gen.step", "%" PRId64, gm->opt_g.step);
    ganc_st_builder_meta(&b, "optim.disc.step", "%" PRId64, gm->opt_d.step);
    ganc_st_builder_meta(&b, "model.source", "%s", s->model.source);
    for (int i = 0; i < ganc_config_option_count(); i++) {
        const char *key = ganc_config_option_at(i)->key;
        char buf[64], name[128]; /* (a name cut short here is still too long for the builder) */
        snprintf(name, sizeof name, "config.%s", key);
        ganc_st_builder_meta(&b, name, "%s", ganc_config_get(&s->cfg, key, buf));
    }
    ganc_st_builder_meta(&b, "model", "%s", s->model.text);
    if (s->classes) ganc_st_builder_meta(&b, "data.classes", "%s", s->classes);
    if (s->sync_bn) ganc_st_builder_meta(&b, "train.sync_bn", "1");
    ganc_checkpoint_meta_class_counts(&b, &s->game);
    const int rc = ganc_st_builder_write(&b, path, err);
    ganc_st_builder_free(&b);
    return rc;
}

static int meta_i64(const ganc_st_file *f, const char *path, const char *key, int64_t *out, char err[GANC_ERR_LEN])
{
    const char *v = ganc_st_meta_get(f, key);
    char *end;
    if (!v) return ganc_fail(err, "%s: not a ganc checkpoint (no '%s' in its metadata)", path, key);
    long long x = strtoll(v, &end, 10);
    if (end == v || *end) return ganc_fail(err, "%s: metadata '%s' is not an integer: '%.40s'", path, key, v);
    *out = x;
    return 0;
}

static int meta_rng(const ganc_st_file *f, const char *path, const char *key, ganc_rng *r, char err[GANC_ERR_LEN])
{
    const char *v = ganc_st_meta_get(f, key);
    if (!v || sscanf(v, "%" SCNu64 " %" SCNu64, &r->seed, &r->counter) != 2)
        return ganc_fail(err, "%s: metadata '%s' is missing or malformed", path, key);
    return 0;
}

int ganc_checkpoint_load_tensor(const ganc_st_file *f, const char *path, const char *name, float *dst, size_t count,
                       char err[GANC_ERR_LEN])
{
    const ganc_st_tensor *t = ganc_st_find(f, name);
    if (!t) return ganc_fail(err, "%s: tensor '%s' is missing", path, name);
    if (t->dtype != GANC_ST_F32 || t->nbytes != count * sizeof(float))
        return ganc_fail(err, "%s: tensor '%s' has the wrong type or size for this model (%zu bytes, expected %zu F32)",
                         path, name, t->nbytes, count * sizeof(float));
    memcpy(dst, t->data, t->nbytes); /* data may be unaligned in files from other writers */
    return 0;
}

int ganc_checkpoint_load_net(const ganc_st_file *f, const char *path, ganc_net *net, char err[GANC_ERR_LEN])
{
    for (int i = 0; i < ganc_net_view_count(net); i++) {
        const ganc_view *v = ganc_net_view(net, i);
        const ganc_st_tensor *t = ganc_st_find(f, v->name);
        if (t && t->ndim == v->ndim)
            for (int d = 0; d < v->ndim; d++)
                if (t->dims[d] != v->dims[d])
                    return ganc_fail(err, "%s: tensor '%s' has the wrong shape for this model", path, v->name);
        if (ganc_checkpoint_load_tensor(f, path, v->name, ganc_net_view_data(net, v), v->count, err)) return -1;
    }
    return 0;
}

int ganc_checkpoint_config(const ganc_st_file *f, const char *path, ganc_config *cfg, ganc_shape *data,
                           char err[GANC_ERR_LEN])
{
    ganc_config_defaults(cfg);
    for (int i = 0; i < ganc_config_option_count(); i++) {
        const char *key = ganc_config_option_at(i)->key;
        char name[80], why[GANC_ERR_LEN];
        snprintf(name, sizeof name, "config.%s", key);
        const char *v = ganc_st_meta_get(f, name);
        if (v && ganc_config_set(cfg, key, v, why)) return ganc_fail(err, "%s: metadata %s: %s", path, name, why);
    }
    const char *shape = ganc_st_meta_get(f, "data.shape");
    ganc_shape ds;
    if (!shape || sscanf(shape, "%d %d %d", &ds.c, &ds.h, &ds.w) != 3 || ds.c <= 0 || ds.h <= 0 || ds.w <= 0 ||
        ds.c > 4096 || ds.h > 4096 || ds.w > 4096)
        return ganc_fail(err, "%s: metadata data.shape is malformed", path);
    *data = ds;
    return 0;
}

int ganc_checkpoint_load(const char *path, ganc_session *s, char err[GANC_ERR_LEN])
{
    ganc_st_file f;
    memset(s, 0, sizeof *s);
    if (ganc_st_read(path, &f, err)) return -1;
    int rc = -1;
    const char *format = ganc_st_meta_get(&f, "format"), *text = ganc_st_meta_get(&f, "model");
    const char *shape = ganc_st_meta_get(&f, "data.shape"), *source = ganc_st_meta_get(&f, "model.source");
    if (format && !strcmp(format, GANC_GENERATOR_FORMAT)) {
        /* G alone: nothing to resume, score or reject with */
        ganc_fail(err, "%s: a generator exported by ganc export, not a training checkpoint: programs sample it through "
                       "the library (ganc_generator_open); this command needs the run's checkpoint", path);
        goto out;
    }
    if (!format || strcmp(format, "ganc-checkpoint-1") || !text || !shape) {
        ganc_fail(err, "%s: not a ganc checkpoint (format, model or data.shape missing in its metadata)", path);
        goto out;
    }
    ganc_config cfg;
    ganc_shape ds;
    if (ganc_checkpoint_config(&f, path, &cfg, &ds, err)) goto out;
    ganc_model model;
    /* The original source name is kept, so a resumed run writes the same checkpoints. */
    if (ganc_model_from_text(text, source ? source : "model", &model, err)) goto out;
    rc = ganc_session_create(s, &cfg, &model, ds, err);
    ganc_model_free(&model);
    if (rc) goto out;
    rc = -1;
    ganc_game *gm = &s->game;
    if (ganc_checkpoint_load_net(&f, path, gm->g, err) || ganc_checkpoint_load_net(&f, path, gm->d, err) ||
        ganc_checkpoint_load_tensor(&f, path, "optim.gen.m", gm->opt_g.m, gm->opt_g.n, err) ||
        ganc_checkpoint_load_tensor(&f, path, "optim.gen.v", gm->opt_g.v, gm->opt_g.n, err) ||
        ganc_checkpoint_load_tensor(&f, path, "optim.disc.m", gm->opt_d.m, gm->opt_d.n, err) ||
        ganc_checkpoint_load_tensor(&f, path, "optim.disc.v", gm->opt_d.v, gm->opt_d.n, err) ||
        (gm->ema && ganc_checkpoint_load_tensor(&f, path, "ema.gen", gm->ema, gm->opt_g.n, err)))
        goto fail;
    if (gm->ema && gm->n_state) {
        /* checkpoints from before the state was averaged: start its average at the live state */
        if (!ganc_st_find(&f, "ema.gen_state")) memcpy(gm->ema_state, ganc_net_state(gm->g), sizeof(float) * gm->n_state);
        else if (ganc_checkpoint_load_tensor(&f, path, "ema.gen_state", gm->ema_state, gm->n_state, err)) goto fail;
    }
    int64_t pos;
    if (meta_i64(&f, path, "step", &s->step, err) || meta_i64(&f, path, "data.epoch", &s->epoch, err) ||
        meta_i64(&f, path, "data.pos", &pos, err) || meta_i64(&f, path, "optim.gen.step", &gm->opt_g.step, err) ||
        meta_i64(&f, path, "optim.disc.step", &gm->opt_d.step, err) || meta_rng(&f, path, "rng.noise", &gm->noise, err) ||
        meta_rng(&f, path, "rng.gen", ganc_net_rng(gm->g), err) || meta_rng(&f, path, "rng.disc", ganc_net_rng(gm->d), err))
        goto fail;
    if (s->step < 0 || s->epoch < 0 || pos < 0 || pos > INT32_MAX) {
        ganc_fail(err, "%s: metadata step or data position is negative", path);
        goto fail;
    }
    s->pos = (int)pos;
    if (gm->classes && ganc_checkpoint_class_cum(&f, path, gm->classes, &gm->class_cum, err)) goto fail;
    const char *classes = ganc_st_meta_get(&f, "data.classes");
    if (classes && !(s->classes = strdup(classes))) {
        ganc_fail(err, "%s: out of memory", path);
        goto fail;
    }
    const char *sync_bn = ganc_st_meta_get(&f, "train.sync_bn"); /* (absent: off, as in older checkpoints) */
    if (sync_bn && strcmp(sync_bn, "1")) {
        ganc_fail(err, "%s: metadata 'train.sync_bn' is '%.40s', not 1", path, sync_bn);
        goto fail;
    }
    s->sync_bn = sync_bn != NULL;
    /* D as it stands at this step (sampling with --reject scores through it) */
    ganc_net_set_mbstd_gate(gm->d, (float)ganc_mbstd_gate(&s->cfg, s->step));
    rc = 0;
    goto out;
fail:
    ganc_session_free(s);
out:
    ganc_st_free(&f);
    return rc;
}

void ganc_checkpoint_meta_class_counts(ganc_st_builder *b, const ganc_game *gm)
{
    if (!gm->class_cum) return;
    char *text = ganc_class_counts_text(gm->class_cum, gm->classes);
    if (text) ganc_st_builder_meta(b, "data.class_counts", "%s", text);
    else ganc_st_builder_meta(b, "data.class_counts", "%s", ""); /* out of memory: the parse refuses it */
    free(text);
}

int ganc_checkpoint_class_cum(const ganc_st_file *f, const char *path, int classes, uint64_t **cum,
                              char err[GANC_ERR_LEN])
{
    *cum = NULL;
    const char *text = ganc_st_meta_get(f, "data.class_counts");
    if (!text) return 0;
    uint64_t *c = ganc_alloc(sizeof(uint64_t) * (size_t)classes);
    if (ganc_class_counts_parse(text, classes, c)) {
        ganc_free(c);
        return ganc_fail(err, "%s: metadata data.class_counts is not %d counts with a positive total", path, classes);
    }
    *cum = c;
    return 0;
}
