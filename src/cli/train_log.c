/* log.jsonl and loss.png of a training run (see train_log.h). */
#include "cli/train_log.h"
#include "ganc_internal.h"
#include "io/atomic.h"
#include "io/image.h"
#include "io/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int history_add(cli_loss_history *h, double step, const ganc_game_stats *st)
{
    if (h->n == h->cap) {
        const int cap = h->cap ? 2 * h->cap : 1024;
        float **cols[5] = {&h->step, &h->d_loss, &h->g_loss, &h->d_real, &h->d_fake};
        for (int c = 0; c < 5; c++) {
            float *grown = realloc(*cols[c], sizeof(float) * (size_t)cap);
            if (!grown) return -1;
            *cols[c] = grown;
        }
        h->cap = cap;
    }
    h->step[h->n] = (float)step;
    h->d_loss[h->n] = (float)st->d_loss;
    h->g_loss[h->n] = (float)st->g_loss;
    h->d_real[h->n] = (float)st->d_real;
    h->d_fake[h->n] = (float)st->d_fake;
    h->n++;
    return 0;
}

static void history_free(cli_loss_history *h)
{
    free(h->step);
    free(h->d_loss);
    free(h->g_loss);
    free(h->d_real);
    free(h->d_fake);
    memset(h, 0, sizeof *h);
}

void cli_log_number(FILE *f, const char *key, double v)
{
    if (isfinite(v)) fprintf(f, ", \"%s\": %.6g", key, v);
    else fprintf(f, ", \"%s\": null", key);
}

/* ---- reading the log back ---------------------------------------------------------------- */

static double number_or_0(const ganc_json *obj, const char *key)
{
    const ganc_json *v = ganc_json_get(obj, key);
    return v && v->type == GANC_JSON_NUMBER ? v->number : 0.0;
}

/* What one kept line adds to the pictures: the losses, or the metrics. */
static int replay(cli_train_log *l, const ganc_json *line, int64_t step, cli_train_eval *evals)
{
    if (ganc_json_get(line, "d_loss")) { /* warnings and metrics are kept, not drawn here */
        const ganc_game_stats st = {.d_loss = number_or_0(line, "d_loss"),
                                    .g_loss = number_or_0(line, "g_loss"),
                                    .d_real = number_or_0(line, "d_real"),
                                    .d_fake = number_or_0(line, "d_fake")};
        if (history_add(&l->hist, (double)step, &st)) return -1;
    }
    return cli_train_eval_replay(evals, line, step);
}

/* Appends text[0, len) and a newline to the buffer *buf of *cap bytes holding *used. */
static int keep_line(char **buf, size_t *used, size_t *cap, const char *text, size_t len)
{
    if (*used + len + 1 > *cap) {
        size_t want = *cap ? *cap : 1 << 16;
        while (want < *used + len + 1) want *= 2;
        char *grown = realloc(*buf, want);
        if (!grown) return -1;
        *buf = grown;
        *cap = want;
    }
    memcpy(*buf + *used, text, len);
    (*buf)[*used + len] = '\n';
    *used += len + 1;
    return 0;
}

/* Reads every line of l->path; rewrites the file with those up to `step`, replaying them. */
static int reload(cli_train_log *l, int64_t step, cli_train_eval *evals, char err[GANC_ERR_LEN])
{
    FILE *in = fopen(l->path, "r");
    if (!in) return errno == ENOENT ? 0 : ganc_fail(err, "%s: cannot read: %s", l->path, strerror(errno));
    char *line = NULL, *kept = NULL;
    size_t line_cap = 0, used = 0, cap = 0;
    int rc = 0;
    ssize_t got;
    for (long lineno = 1; rc == 0 && (got = getline(&line, &line_cap, in)) > 0; lineno++) {
        size_t len = (size_t)got;
        const int ended = line[len - 1] == '\n';
        len -= (size_t)ended;
        char why[GANC_ERR_LEN];
        ganc_json_doc *doc = NULL;
        const ganc_json *obj = ganc_json_parse(line, len, 0, &doc, why) ? NULL : ganc_json_root(doc);
        const ganc_json *at = ganc_json_get(obj, "step");
        if (!at || at->type != GANC_JSON_NUMBER || !at->is_int) {
            /* A last line without its newline was cut by a killed run: it comes after the
             * checkpoint and is dropped quietly. Any other line that is not ours is said. */
            if (ended || obj)
                fprintf(stderr, "ganc: warning: %s:%ld: not a log line (%s); dropped\n", l->path, lineno,
                        obj ? "no integer \"step\"" : why);
        } else if (at->integer <= step) {
            rc = keep_line(&kept, &used, &cap, line, len) || replay(l, obj, at->integer, evals) ? -1 : 0;
            if (rc) ganc_fail(err, "%s: out of memory", l->path);
        }
        ganc_json_free(doc);
    }
    const int read_error = ferror(in);
    fclose(in);
    free(line);
    if (rc == 0 && read_error) rc = ganc_fail(err, "%s: cannot read", l->path);
    const ganc_io_part part = {kept, used};
    if (rc == 0) rc = ganc_io_write_atomic(l->path, &part, 1, NULL, err);
    free(kept);
    return rc;
}

static int open_append(cli_train_log *l, char err[GANC_ERR_LEN])
{
    l->f = fopen(l->path, "a");
    return l->f ? 0 : ganc_fail(err, "%s: cannot open: %s", l->path, strerror(errno));
}

int cli_train_log_open(cli_train_log *l, const char *dir, int64_t step, cli_train_eval *evals,
                       char err[GANC_ERR_LEN])
{
    memset(l, 0, sizeof *l);
    cli_pathf(l->path, sizeof l->path, "%s/log.jsonl", dir);
    return reload(l, step, evals, err) || open_append(l, err) ? -1 : 0;
}

int cli_train_log_rewind(cli_train_log *l, int64_t step, cli_train_eval *evals, char err[GANC_ERR_LEN])
{
    if (l->f) fclose(l->f); /* the file is replaced: appends must go to the new one */
    l->f = NULL;
    history_free(&l->hist);
    cli_train_eval_forget(evals);
    return reload(l, step, evals, err) || open_append(l, err) ? -1 : 0;
}

/* ---- writing ----------------------------------------------------------------------------- */

void cli_train_log_losses(cli_train_log *l, const ganc_session *s, double epoch, double sec_per_step,
                          double exchange_sec_per_step)
{
    const ganc_game_stats *st = &s->game.stats;
    fprintf(l->f, "{\"step\": %" PRId64 ", \"epoch\": %.4f", s->step, epoch);
    cli_log_number(l->f, "d_loss", st->d_loss);
    cli_log_number(l->f, "g_loss", st->g_loss);
    cli_log_number(l->f, "d_real", st->d_real);
    cli_log_number(l->f, "d_fake", st->d_fake);
    cli_log_number(l->f, "gnorm_d", st->gnorm_d);
    cli_log_number(l->f, "gnorm_g", st->gnorm_g);
    cli_log_number(l->f, "sec_per_step", sec_per_step);
    if (exchange_sec_per_step >= 0.0) cli_log_number(l->f, "exchange_sec_per_step", exchange_sec_per_step);
    /* InfoGAN: the code's cross-entropy; log K - info_loss bounds the code's mutual information from below */
    if (s->cfg.info_codes) cli_log_number(l->f, "info_loss", st->info_loss);
    if (s->cfg.cond == GANC_COND_ACGAN) { /* D's class cross-entropy on real samples, G's on its own */
        cli_log_number(l->f, "class_real", st->class_real);
        cli_log_number(l->f, "class_fake", st->info_loss);
    }
    fputs("}\n", l->f);
    history_add(&l->hist, (double)s->step, st); /* out of memory: the plot lacks the point */
}

void cli_train_log_warning(cli_train_log *l, int tty, int64_t step, const char *msg)
{
    if (tty) fputc('\n', stderr);
    fprintf(stderr, "ganc: warning: %s\n", msg);
    const size_t len = strlen(msg);
    char *quoted = malloc(ganc_json_escape(NULL, msg, len) + 1);
    if (!quoted) return;
    quoted[ganc_json_escape(quoted, msg, len)] = 0;
    fprintf(l->f, "{\"step\": %" PRId64 ", \"warning\": %s}\n", step, quoted);
    free(quoted);
}

int cli_train_log_plot(const cli_train_log *l, const char *dir, char err[GANC_ERR_LEN])
{
    char path[1100];
    cli_pathf(path, sizeof path, "%s/loss.png", dir);
    const cli_loss_history *h = &l->hist;
    const ganc_series losses[4] = {{"D loss", h->d_loss, 0x1f77b4},
                                   {"G loss", h->g_loss, 0xd62728},
                                   {"D(x)", h->d_real, 0x2ca02c},
                                   {"D(G(z))", h->d_fake, 0xff7f0e}};
    return ganc_plot_png(path, "ganc: losses and D outputs over steps", h->step, h->n, losses, 4, 900, 450, err);
}

void cli_train_log_close(cli_train_log *l)
{
    if (l->f) fclose(l->f);
    history_free(&l->hist);
    memset(l, 0, sizeof *l);
}
