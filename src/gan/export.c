/* Generator files: written from a session, read (with training checkpoints) into a G ready to
 * sample (gan/export.h). */
#include "gan/export.h"
#include "data/toy2d.h"
#include "eval/classifier.h"
#include "gan/model.h"
#include "gan/st_builder.h"
#include "ganc_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ganc_export_save(const char *path, const ganc_session *s, char err[GANC_ERR_LEN])
{
    const ganc_game *gm = &s->game;
    ganc_net *g = gm->g;
    /* the average's values sit at the same offsets as the live ones (gan/game.c) */
    float *params = gm->ema ? gm->ema : ganc_net_params(g);
    float *state = gm->ema && gm->n_state ? gm->ema_state : ganc_net_state(g);
    ganc_st_builder b;
    ganc_st_builder_init(&b);
    for (int i = 0; i < ganc_net_view_count(g); i++) {
        const ganc_view *v = ganc_net_view(g, i);
        ganc_st_builder_tensor(&b, v->name, (v->is_state ? state : params) + v->offset, v->ndim, v->dims);
    }
    ganc_st_builder_meta(&b, "format", "%s", GANC_GENERATOR_FORMAT);
    ganc_st_builder_meta(&b, "model", "%s", s->model.text);
    ganc_st_builder_meta(&b, "model.source", "%s", s->model.source);
    for (int i = 0; i < ganc_config_option_count(); i++) {
        const char *key = ganc_config_option_at(i)->key;
        char buf[64], name[128];
        snprintf(name, sizeof name, "config.%s", key);
        ganc_st_builder_meta(&b, name, "%s", ganc_config_get(&s->cfg, key, buf));
    }
    ganc_st_builder_meta(&b, "data.shape", "%d %d %d", s->data_shape.c, s->data_shape.h, s->data_shape.w);
    ganc_st_builder_meta(&b, "data.range", "%g %g", (double)s->lo, (double)s->hi);
    if (s->classes) ganc_st_builder_meta(&b, "data.classes", "%s", s->classes);
    ganc_checkpoint_meta_class_counts(&b, gm);
    ganc_st_builder_meta(&b, "step", "%" PRId64, s->step);
    ganc_st_builder_meta(&b, "weights", "%s", gm->ema ? "ema" : "live");
    ganc_st_builder_meta(&b, "ganc.version", "%s", GANC_VERSION_STRING);
    const int rc = ganc_st_builder_write(&b, path, err);
    ganc_st_builder_free(&b);
    return rc;
}

/* What the file is, when it is no generator: the message names it. */
static int refuse(const ganc_st_file *f, const char *path, char err[GANC_ERR_LEN])
{
    const char *format = ganc_st_meta_get(f, "format");
    if (format && !strcmp(format, GANC_CLASSIFIER_FORMAT))
        return ganc_fail(err, "%s: a feature classifier (ganc classifier train), not a generator: open a training "
                              "checkpoint or a file written by ganc export",
                         path);
    return ganc_fail(err, "%s: neither a ganc checkpoint nor a generator from ganc export (format '%.40s')", path,
                     format ? format : "missing");
}

/* A checkpoint's G samples with the moving average when the run keeps one: its weights, and
 * its state where the checkpoint has it (older ones averaged the weights only, and their
 * sampling used the live state). */
static int load_average(const ganc_st_file *f, const char *path, ganc_net *g, char err[GANC_ERR_LEN])
{
    if (ganc_checkpoint_load_tensor(f, path, "ema.gen", ganc_net_params(g), ganc_net_param_count(g), err)) return -1;
    if (!ganc_net_state_count(g) || !ganc_st_find(f, "ema.gen_state")) return 0;
    return ganc_checkpoint_load_tensor(f, path, "ema.gen_state", ganc_net_state(g), ganc_net_state_count(g), err);
}

static int load(const ganc_st_file *f, const char *path, ganc_gen_file *out, char err[GANC_ERR_LEN])
{
    const char *format = ganc_st_meta_get(f, "format"), *text = ganc_st_meta_get(f, "model");
    const char *source = ganc_st_meta_get(f, "model.source"), *step = ganc_st_meta_get(f, "step");
    const int exported = format && !strcmp(format, GANC_GENERATOR_FORMAT);
    if (!exported && !(format && !strcmp(format, "ganc-checkpoint-1"))) return refuse(f, path, err);
    if (!text) return ganc_fail(err, "%s: no model text in its metadata", path);
    out->exported = exported;
    if (ganc_checkpoint_config(f, path, &out->cfg, &out->data_shape, err)) return -1;
    char *end;
    out->step = step ? strtoll(step, &end, 10) : -1;
    if (!step || end == step || *end || out->step < 0) return ganc_fail(err, "%s: metadata 'step' is missing or malformed", path);
    /* what drawing the latent vectors relies on (z's code inside z, K classes), as a run checks it */
    const ganc_config *cfg = &out->cfg;
    char why[GANC_ERR_LEN];
    if (ganc_game_check_truncation(cfg, why) || ganc_game_check_info(cfg, why) || ganc_game_check_cond(cfg, why))
        return ganc_fail(err, "%s: %s", path, why);
    char unused[GANC_ERR_LEN];
    out->points = ganc_toy2d_find(cfg->data, unused) != NULL;
    ganc_model model;
    int built = ganc_model_from_text(text, source ? source : "model", &model, why);
    if (built == 0) {
        built = ganc_model_build_generator(&model, cfg, out->data_shape, out->points, &out->g, &out->lo, &out->hi, why);
        ganc_model_free(&model);
    }
    if (built) return ganc_fail(err, "%s: its model: %s", path, why); /* (the model's errors name its source) */
    if (ganc_checkpoint_load_net(f, path, out->g, err)) return -1;
    if (!exported && cfg->ema > 0.0f && load_average(f, path, out->g, err)) return -1;
    ganc_net_set_training(out->g, 0);
    const char *classes = ganc_st_meta_get(f, "data.classes");
    if (classes && !(out->classes = strdup(classes))) return ganc_fail(err, "%s: out of memory", path);
    if (cfg->cond != GANC_COND_OFF && ganc_checkpoint_class_cum(f, path, cfg->classes, &out->class_cum, err)) return -1;
    return 0;
}

int ganc_gen_file_load(const char *path, ganc_gen_file *out, char err[GANC_ERR_LEN])
{
    memset(out, 0, sizeof *out);
    ganc_st_file f;
    if (ganc_st_read(path, &f, err)) return -1;
    const int rc = load(&f, path, out, err);
    ganc_st_free(&f);
    if (rc) ganc_gen_file_free(out);
    return rc;
}

void ganc_gen_file_free(ganc_gen_file *f)
{
    ganc_net_free(f->g);
    free(f->classes);
    ganc_free(f->class_cum);
    memset(f, 0, sizeof *f);
}
