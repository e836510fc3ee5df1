/* log.jsonl and loss.png of a training run (see train_log.h). */
#include "cli/train_log.h"
#include "ganc_internal.h"
#include "io/atomic.h"
#include "io/image.h"

#include <errno.h>
#include <inttypes.h>
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

/* ---- reading the log back ---------------------------------------------------------------- */

/* Keeps the log lines up to `step` (later ones were written after the checkpoint we resume
 * from and will be written again) and rebuilds the plot history from them. */
static int reload(cli_train_log *l, int64_t step, char err[GANC_ERR_LEN])
{
    FILE *in = fopen(l->path, "r");
    if (!in) return 0;
    size_t cap = 1 << 16, len = 0;
    char *kept = malloc(cap), line[1024];
    while (kept && fgets(line, sizeof line, in)) {
        long long s;
        ganc_game_stats st = {0};
        if (sscanf(line, "{\"step\": %lld", &s) != 1 || s > step) continue;
        const char *p;
        if ((p = strstr(line, "\"d_loss\": "))) st.d_loss = atof(p + 10);
        if ((p = strstr(line, "\"g_loss\": "))) st.g_loss = atof(p + 10);
        if ((p = strstr(line, "\"d_real\": "))) st.d_real = atof(p + 10);
        if ((p = strstr(line, "\"d_fake\": "))) st.d_fake = atof(p + 10);
        if (strstr(line, "\"d_loss\"")) history_add(&l->hist, (double)s, &st); /* warnings and metrics are kept, not drawn */
        const size_t n = strlen(line);
        if (len + n > cap) {
            char *grown = realloc(kept, cap *= 2);
            if (!grown) break;
            kept = grown;
        }
        memcpy(kept + len, line, n);
        len += n;
    }
    fclose(in);
    if (!kept) return ganc_fail(err, "%s: out of memory", l->path);
    const ganc_io_part part = {kept, len};
    const int rc = ganc_io_write_atomic(l->path, &part, 1, NULL, err);
    free(kept);
    return rc;
}

static int open_append(cli_train_log *l, char err[GANC_ERR_LEN])
{
    l->f = fopen(l->path, "a");
    return l->f ? 0 : ganc_fail(err, "%s: cannot open: %s", l->path, strerror(errno));
}

int cli_train_log_open(cli_train_log *l, const char *dir, int64_t step, char err[GANC_ERR_LEN])
{
    memset(l, 0, sizeof *l);
    cli_pathf(l->path, sizeof l->path, "%s/log.jsonl", dir);
    return reload(l, step, err) || open_append(l, err) ? -1 : 0;
}

int cli_train_log_rewind(cli_train_log *l, int64_t step, char err[GANC_ERR_LEN])
{
    l->hist.n = 0;
    return reload(l, step, err);
}

/* ---- writing ----------------------------------------------------------------------------- */

void cli_train_log_losses(cli_train_log *l, const ganc_session *s, double epoch, double sec_per_step)
{
    const ganc_game_stats *st = &s->game.stats;
    fprintf(l->f,
            "{\"step\": %" PRId64 ", \"epoch\": %.4f, \"d_loss\": %.6g, \"g_loss\": %.6g, \"d_real\": %.6g, "
            "\"d_fake\": %.6g, \"gnorm_d\": %.6g, \"gnorm_g\": %.6g, \"sec_per_step\": %.6g",
            s->step, epoch, st->d_loss, st->g_loss, st->d_real, st->d_fake, st->gnorm_d, st->gnorm_g, sec_per_step);
    /* InfoGAN: the code's cross-entropy; log K - info_loss bounds the code's mutual information from below */
    if (s->cfg.info_codes) fprintf(l->f, ", \"info_loss\": %.6g", st->info_loss);
    fputs("}\n", l->f);
    history_add(&l->hist, (double)s->step, st); /* out of memory: the plot lacks the point */
}

void cli_train_log_warning(cli_train_log *l, int tty, int64_t step, const char *msg)
{
    if (tty) fputc('\n', stderr);
    fprintf(stderr, "ganc: warning: %s\n", msg);
    fprintf(l->f, "{\"step\": %" PRId64 ", \"warning\": \"", step);
    for (const char *c = msg; *c; c++) fputc(*c == '"' || *c == '\\' ? '\'' : *c, l->f); /* no JSON escapes needed */
    fputs("\"}\n", l->f);
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
