/* Periodic evaluation during training (see train_eval.h). */
#include "cli/train_eval.h"
#include "cli/train_log.h"
#include "eval/conditional.h"
#include "gan/reject.h"
#include "eval/toy2d_metrics.h"
#include "ganc_internal.h"
#include "io/image.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_point(cli_train_eval *e, double step, double a, double b)
{
    if (e->n == e->cap) {
        const int cap = e->cap ? 2 * e->cap : 64;
        float *s = realloc(e->step, sizeof(float) * cap), *x = s ? realloc(e->a, sizeof(float) * cap) : NULL;
        if (s) e->step = s;
        if (x) e->a = x;
        float *y = x ? realloc(e->b, sizeof(float) * cap) : NULL;
        if (!y) return -1;
        e->b = y;
        e->cap = cap;
    }
    e->step[e->n] = (float)step;
    e->a[e->n] = (float)a;
    e->b[e->n] = (float)b;
    e->n++;
    return 0;
}

/* A number of a log line read back; NaN where it is missing or null (as written for NaN). */
static double number_or_nan(const ganc_json *line, const char *key)
{
    const ganc_json *v = ganc_json_get(line, key);
    return v && v->type == GANC_JSON_NUMBER ? v->number : NAN;
}

int cli_train_eval_replay(cli_train_eval *e, const ganc_json *line, int64_t step)
{
    if (!e->on) return 0;
    if (ganc_json_get(line, "fid"))
        return add_point(e, (double)step, number_or_nan(line, "fid"), 100.0 * number_or_nan(line, "kid"));
    if (ganc_json_get(line, "modes"))
        return add_point(e, (double)step, number_or_nan(line, "modes"), number_or_nan(line, "high_quality"));
    return 0;
}

void cli_train_eval_forget(cli_train_eval *e) { e->n = 0; }

int cli_train_eval_init(cli_train_eval *e, ganc_session *s, char err[GANC_ERR_LEN])
{
    memset(e, 0, sizeof *e);
    if (s->cfg.eval_every <= 0) return 0;
    e->on = 1;
    if (!s->toy) {
        if (!s->cfg.classifier[0])
            return ganc_fail(err, "--eval-every needs --classifier FILE (make one with: ganc classifier train --data %s "
                                  "--out cls.safetensors)",
                             s->cfg.data);
        if (ganc_classifier_load(s->cfg.classifier, 100, &e->c, err)) return -1;
        e->have_c = 1;
        if (cli_split_load(&s->cfg, NULL, 0, 0, &e->sp, err)) return -1;
        e->have_sp = 1;
        ganc_dataset_source_ctx ctx;
        ganc_image_source src;
        const int n_ref = e->sp.test_n < s->cfg.eval_n ? e->sp.test_n : s->cfg.eval_n;
        ganc_dataset_source(&src, &ctx, e->sp.test, e->sp.test_from, NULL, n_ref);
        if (ganc_eval_features_compute(&e->c, &src, &e->ref, err)) return -1;
        e->have_ref = 1;
        if (s->game.classes) {
            if (e->ref.classes != s->game.classes)
                return ganc_fail(err, "--classifier %s knows %d classes and the run is conditional on %d: class "
                                      "agreement needs a classifier of the run's data",
                                 s->cfg.classifier, e->ref.classes, s->game.classes);
            e->ref_labels = ganc_alloc(sizeof(int32_t) * (size_t)n_ref);
            if (ganc_eval_source_labels(&src, s->game.classes, e->ref_labels, err)) return -1;
        }
    }
    return 0;
}

static int draw(cli_train_eval *e, ganc_session *s, const char *dir, char err[GANC_ERR_LEN])
{
    char path[1100];
    cli_pathf(path, sizeof path, "%s/metrics.png", dir);
    const ganc_series img[2] = {{"FID", e->a, 0x1f77b4}, {"KID x 100", e->b, 0xd62728}};
    const ganc_series toy[2] = {{"modes", e->a, 0x1f77b4}, {"high quality %", e->b, 0x2ca02c}};
    return ganc_plot_png(path, s->toy ? "ganc: modes captured and % high-quality samples" : "ganc: FID and KID over steps",
                         e->step, e->n, s->toy ? toy : img, 2, 900, 450, err);
}

int cli_train_eval_run(cli_train_eval *e, ganc_session *s, FILE *log, const char *dir, char err[GANC_ERR_LEN])
{
    const int n = s->cfg.eval_n;
    /* noise of its own, the same at every evaluation: the scores follow G, not the draw */
    const uint64_t seed = s->cfg.seed * 4 + 10;
    if (s->toy) {
        float *x = ganc_alloc(sizeof(float) * 2 * (size_t)n);
        ganc_toy2d_metrics m;
        int rc = ganc_game_draw(&s->game, s->cfg.reject, seed, n, x, NULL, NULL, NULL, NULL, err) ||
                 ganc_toy2d_evaluate(s->toy, x, n, &m, err);
        ganc_free(x);
        if (rc) return -1;
        fprintf(log, "{\"step\": %" PRId64 ", \"modes\": %d, \"modes_total\": %d", s->step, m.modes, m.modes_total);
        cli_log_number(log, "high_quality", m.high_quality);
        cli_log_number(log, "reverse_kl", isnan(m.reverse_kl) ? -1.0 : m.reverse_kl);
        fprintf(log, ", \"n\": %d}\n", m.n);
        if (add_point(e, (double)s->step, m.modes, m.high_quality)) return ganc_fail(err, "out of memory");
        return draw(e, s, dir, err);
    }
    ganc_generator_source_ctx gctx;
    ganc_image_source src;
    if (ganc_generator_source(&src, &gctx, &s->game, s->data_shape, s->lo, s->hi, n, seed, s->cfg.reject, err))
        return -1;
    ganc_eval_features gen;
    int32_t *labels = s->game.classes ? ganc_alloc(sizeof(int32_t) * (size_t)n) : NULL;
    int rc = ganc_eval_features_compute(&e->c, &src, &gen, err) ||
             (labels && ganc_eval_source_labels(&src, s->game.classes, labels, err));
    ganc_generator_source_free(&gctx);
    if (rc) {
        ganc_free(labels);
        return -1;
    }
    ganc_eval_result r;
    ganc_eval_cond_result cr = {0};
    rc = ganc_eval_compare(&gen, &e->ref, seed, &r, err) ||
         (labels && ganc_eval_cond_compare(&gen, labels, &e->ref, e->ref_labels, &cr, err));
    ganc_eval_features_free(&gen);
    ganc_free(labels);
    if (rc) return -1;
    fprintf(log, "{\"step\": %" PRId64, s->step);
    const char *const keys[] = {"fid",      "kid",      "precision", "recall", "density",
                                "coverage", "class_kl", "confidence", "unsure"};
    const double values[] = {r.fid,      r.kid,      r.precision,  r.recall, r.density,
                             r.coverage, r.class_kl, r.confidence, r.unsure};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) cli_log_number(log, keys[k], values[k]);
    if (s->game.classes) {
        cli_log_number(log, "class_agreement", cr.agreement);
        cli_log_number(log, "intra_fid", cr.intra_fid);
        ganc_eval_cond_result_free(&cr);
    }
    fprintf(log, ", \"n\": %d}\n", r.n);
    if (add_point(e, (double)s->step, r.fid, 100.0 * r.kid)) return ganc_fail(err, "out of memory");
    return draw(e, s, dir, err);
}

void cli_train_eval_free(cli_train_eval *e)
{
    if (e->have_ref) ganc_eval_features_free(&e->ref);
    ganc_free(e->ref_labels);
    if (e->have_sp) cli_split_free(&e->sp);
    if (e->have_c) ganc_classifier_free(&e->c);
    free(e->step);
    free(e->a);
    free(e->b);
    memset(e, 0, sizeof *e);
}
