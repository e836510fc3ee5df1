/* ganc train: a run from flags (or --resume DIR), writing samples, log, plot and checkpoints
 * into the run directory. Everything that can be wrong with the input is found before the
 * directory is created, so a failed start leaves nothing behind. */
#include "cli/cli.h"
#include "gan/diagnose.h"
#include "cli/toy_view.h"
#include "cli/train_eval.h"
#include "data/data.h"
#include "ganc_internal.h"
#include "io/atomic.h"
#include "io/image.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_FLAGS = 64 };

typedef struct {
    char key[64];
    const char *value;
} flag;

/* Flags a resumed run may change: none of them changes what the run computes. */
static const char *const resumable[] = {"steps",     "epochs",     "sample_every", "log_every", "ckpt_every",
                                        "keep",      "grid",       "threads",      "on_nan",    "eval_every",
                                        "eval_n",    "classifier", "truncation", NULL};

enum { MAX_ROLLBACKS = 3 };

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static void usage(FILE *out)
{
    fprintf(out, "usage: ganc train --out DIR [options]\n"
                 "       ganc train --resume DIR [--steps N]\n\n"
                 "Trains a GAN; DIR receives samples/, log.jsonl, loss.png and ckpt/.\n\n"
                 "options (defaults: built-in, then the model's [train] section, then its [train DATA] section for\n"
                 "the chosen --data, then these flags):\n");
    ganc_config d;
    ganc_config_defaults(&d);
    for (int i = 0; i < ganc_config_option_count(); i++) {
        const ganc_config_option *o = ganc_config_option_at(i);
        char name[64], flagtxt[96], buf[64];
        snprintf(name, sizeof name, "%s", o->key);
        for (char *p = name; *p; p++)
            if (*p == '_') *p = '-';
        snprintf(flagtxt, sizeof flagtxt, "--%s %s", name, o->arg);
        fprintf(out, "  %-28s %s (default %s)\n", flagtxt, o->help, ganc_config_get(&d, o->key, buf));
    }
    fprintf(out, "  %-28s %s\n  %-28s %s\n", "--out DIR", "run directory to create", "--resume DIR",
            "continue the run in DIR up to --steps");
}

typedef struct {
    float *step, *d_loss, *g_loss, *d_real, *d_fake;
    int n, cap;
} history;

static void history_add(history *h, double step, const ganc_game_stats *st)
{
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 1024;
        float **cols[5] = {&h->step, &h->d_loss, &h->g_loss, &h->d_real, &h->d_fake};
        for (int c = 0; c < 5; c++) {
            float *grown = realloc(*cols[c], sizeof(float) * (size_t)cap);
            if (!grown) return;
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
}

static void history_free(history *h)
{
    free(h->step);
    free(h->d_loss);
    free(h->g_loss);
    free(h->d_real);
    free(h->d_fake);
}

/* Keeps the log lines up to `step` (later ones were written after the checkpoint we resume
 * from and will be written again) and rebuilds the plot history from them. */
static int reload_log(const char *path, int64_t step, history *h, char err[GANC_ERR_LEN])
{
    FILE *in = fopen(path, "r");
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
        if (strstr(line, "\"d_loss\"")) history_add(h, (double)s, &st); /* warnings and metrics are kept, not drawn */
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
    if (!kept) return ganc_fail(err, "%s: out of memory", path);
    const ganc_io_part part = {kept, len};
    const int rc = ganc_io_write_atomic(path, &part, 1, NULL, err);
    free(kept);
    return rc;
}

static int draw_plot(const char *dir, const history *h, char err[GANC_ERR_LEN])
{
    char path[1100];
    cli_pathf(path, sizeof path, "%s/loss.png", dir);
    const ganc_series losses[4] = {{"D loss", h->d_loss, 0x1f77b4},
                                   {"G loss", h->g_loss, 0xd62728},
                                   {"D(x)", h->d_real, 0x2ca02c},
                                   {"D(G(z))", h->d_fake, 0xff7f0e}};
    return ganc_plot_png(path, "ganc: losses and D outputs over steps", h->step, h->n, losses, 4, 900, 450, err);
}

static int write_samples(const char *dir, ganc_session *s, const float *z, float *pix, int64_t step,
                         char err[GANC_ERR_LEN])
{
    char path[1100];
    ganc_game_generate(&s->game, z, s->cfg.grid, pix);
    cli_pathf(path, sizeof path, "%s/samples/step_%06" PRId64 ".png", dir, step);
    if (ganc_png_grid(path, pix, s->cfg.grid, s->data_shape, s->lo, s->hi, 0, err)) return -1;
    cli_pathf(path, sizeof path, "%s/samples/latest.png", dir);
    return ganc_png_grid(path, pix, s->cfg.grid, s->data_shape, s->lo, s->hi, 0, err);
}

/* A diagnostic warning: one line on screen (between progress lines) and one in log.jsonl. */
static void warn(FILE *log, cli_progress *prog, int64_t step, const char *msg)
{
    if (prog->tty) fputc('\n', stderr);
    fprintf(stderr, "ganc: warning: %s\n", msg);
    fprintf(log, "{\"step\": %" PRId64 ", \"warning\": \"", step);
    for (const char *c = msg; *c; c++) fputc(*c == '"' || *c == '\\' ? '\'' : *c, log); /* no JSON escapes needed */
    fputs("\"}\n", log);
}

/* Writes ckpt/step_N.safetensors and removes all but the newest `keep`, and any
 * step_N.safetensors.tmp that a killed run left half-written (ours just completed, so every
 * such file in the directory is stale). */
static int write_checkpoint(const char *dir, const ganc_session *s, char err[GANC_ERR_LEN])
{
    char path[1100], ckdir[1100];
    cli_pathf(ckdir, sizeof ckdir, "%s/ckpt", dir);
    cli_pathf(path, sizeof path, "%s/step_%09" PRId64 ".safetensors", ckdir, s->step);
    if (ganc_checkpoint_save(path, s, err)) return -1;
    DIR *d = opendir(ckdir);
    if (!d) return 0;
    char names[1024][32];
    int n = 0;
    const size_t name_len = strlen("step_000000000.safetensors");
    for (struct dirent *e; (e = readdir(d)) && n < 1024;) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "step_", 5) != 0) continue;
        if (len == name_len) {
            snprintf(names[n++], sizeof names[0], "%s", e->d_name);
        } else if (len == name_len + 4 && !strcmp(e->d_name + name_len, ".tmp")) {
            cli_pathf(path, sizeof path, "%s/%s", ckdir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    /* fixed-width names: the lexicographically smallest are the oldest */
    qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    for (int i = 0; i + s->cfg.keep < n; i++) {
        cli_pathf(path, sizeof path, "%s/%s", ckdir, names[i]);
        unlink(path);
    }
    return 0;
}

/* Checks before creating anything that the nearest existing ancestor of the directory is a
 * writable directory, so that the mkdir -p in make_run_dir will work. */
static int check_out_parent(const char *dir, char err[GANC_ERR_LEN])
{
    char parent[1024];
    snprintf(parent, sizeof parent, "%s", dir);
    for (;;) {
        char *slash = strrchr(parent, '/');
        while (slash && slash > parent && slash[1] == 0) { /* trailing slashes */
            *slash = 0;
            slash = strrchr(parent, '/');
        }
        if (!slash) snprintf(parent, sizeof parent, ".");
        else if (slash == parent) parent[1] = 0;
        else *slash = 0;
        struct stat st;
        if (stat(parent, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) return ganc_fail(err, "--out %s: %s is not a directory", dir, parent);
            if (access(parent, W_OK | X_OK) != 0)
                return ganc_fail(err, "--out %s: cannot create it in %s: %s", dir, parent, strerror(errno));
            return 0;
        }
        if (!strcmp(parent, ".") || !strcmp(parent, "/")) return ganc_fail(err, "--out %s: no existing parent directory", dir);
    }
}

/* mkdir -p of the run directory's parents. */
static int make_parents(const char *dir, char err[GANC_ERR_LEN])
{
    char path[1024];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) return ganc_fail(err, "--out %s: cannot create %s: %s", dir, path, strerror(errno));
        *p = '/';
    }
    return 0;
}

/* samples/ and ckpt/ (also on resume: a run whose samples/ was deleted goes on) */
static int make_run_subdirs(const char *dir, char err[GANC_ERR_LEN])
{
    char sub[1100];
    cli_pathf(sub, sizeof sub, "%s/samples", dir);
    if (mkdir(sub, 0777) != 0 && errno != EEXIST) return ganc_fail(err, "%s: cannot create: %s", sub, strerror(errno));
    cli_pathf(sub, sizeof sub, "%s/ckpt", dir);
    if (mkdir(sub, 0777) != 0 && errno != EEXIST) return ganc_fail(err, "%s: cannot create: %s", sub, strerror(errno));
    return 0;
}

static int make_run_dir(const char *dir, char err[GANC_ERR_LEN])
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        DIR *d = opendir(dir);
        if (!d) return ganc_fail(err, "--out %s: exists and is not a readable directory", dir);
        int entries = 0;
        for (struct dirent *e; (e = readdir(d));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries++;
        closedir(d);
        if (entries)
            return ganc_fail(err, "--out %s: directory is not empty (continue a run with --resume %s)", dir, dir);
    } else if (make_parents(dir, err) != 0) {
        return -1;
    } else if (mkdir(dir, 0777) != 0) {
        return ganc_fail(err, "--out %s: cannot create: %s", dir, strerror(errno));
    }
    return make_run_subdirs(dir, err);
}

/* --on-nan rollback: replaces the session by the newest checkpoint, keeping this invocation's
 * options, halves both learning rates, and puts the data position and log back there. */
static int rollback(ganc_session *s, const char *ck, ganc_batcher *batcher, const char *log_path, history *hist,
                    char err[GANC_ERR_LEN])
{
    ganc_config cfg = s->cfg;
    ganc_session_free(s);
    if (ganc_checkpoint_load(ck, s, err)) return -1;
    cfg.lr_g *= 0.5f;
    cfg.lr_d *= 0.5f;
    s->cfg = cfg;
    ganc_batcher_seek(batcher, s->epoch, s->pos);
    hist->n = 0;
    return reload_log(log_path, s->step, hist, err);
}

int cmd_train(int argc, char **argv)
{
    flag flags[MAX_FLAGS];
    int n_flags = 0;
    const char *out = NULL, *resume = NULL, *model_name = NULL, *data_name = NULL;
    char err[GANC_ERR_LEN];
    for (int i = 0; i < argc;) {
        char key[64];
        const char *value;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        int r = cli_next_flag(argc, argv, &i, key, &value);
        if (r == 1) return cli_error("train: unexpected argument '%s' (see ganc train --help)", argv[i]);
        if (r == -1) return cli_error("train: --%s needs a value", key);
        if (!strcmp(key, "out")) out = value;
        else if (!strcmp(key, "resume")) resume = value;
        else if (n_flags == MAX_FLAGS) return cli_error("train: too many flags");
        else {
            ganc_config probe;
            ganc_config_defaults(&probe);
            if (ganc_config_set(&probe, key, value, err)) return cli_error("train: %s", err);
            if (!strcmp(key, "model")) model_name = value;
            if (!strcmp(key, "data")) data_name = value;
            snprintf(flags[n_flags].key, sizeof flags[n_flags].key, "%s", key);
            flags[n_flags++].value = value;
        }
    }
    if (resume && out && strcmp(resume, out)) return cli_error("train: give either --out or --resume, not both");
    if ((out && strlen(out) > 900) || (resume && strlen(resume) > 900)) return cli_error("train: the run directory path is too long");
    if (!resume && !out) return cli_error("train: --out DIR is required (or --resume DIR)");

    ganc_session s;
    const char *dir = resume ? resume : out;
    if (resume) {
        char ck[1100];
        if (cli_find_checkpoint(resume, ck, sizeof ck, err) || ganc_checkpoint_load(ck, &s, err))
            return cli_error("%s", err);
        for (int i = 0; i < n_flags; i++) {
            int ok = 0;
            for (int k = 0; resumable[k]; k++) ok |= !strcmp(resumable[k], flags[i].key);
            if (!ok) {
                ganc_session_free(&s);
                return cli_error("train: --%s cannot change when resuming (it would not continue the same run)",
                                 flags[i].key);
            }
            ganc_config_set(&s.cfg, flags[i].key, flags[i].value, err);
        }
        /* The networks size their per-thread scratch, and so how their sums are split, by the
         * thread count when they are built; the loader built them before the run's count was
         * known. Build them again under it, so the resumed run adds in the same order as a
         * straight one (e.g. --threads 3 on 2 cores: 3 partials, not 2). */
        const int built_for = ganc_threads();
        ganc_set_threads(s.cfg.threads);
        if (ganc_threads() != built_for) {
            const ganc_config cfg = s.cfg;
            ganc_session_free(&s);
            if (ganc_checkpoint_load(ck, &s, err)) return cli_error("%s", err);
            s.cfg = cfg;
        }
        /* (--truncation may have changed above; the game keeps its own copy) */
        if (ganc_session_sampling(&s, -1.0, -1.0, err)) {
            ganc_session_free(&s);
            return cli_error("%s", err);
        }
    } else {
        ganc_config cfg;
        ganc_model model;
        ganc_config_defaults(&cfg);
        if (ganc_model_load(model_name ? model_name : cfg.model, &model, err)) return cli_error("%s", err);
        if (ganc_model_apply_train(&model, &cfg, err)) {
            ganc_model_free(&model);
            return cli_error("%s", err);
        }
        /* then the model's defaults for the chosen data set ([train ring]; --data, else [train]'s) */
        if (ganc_model_apply_train_data(&model, data_name ? data_name : cfg.data, &cfg, err)) {
            ganc_model_free(&model);
            return cli_error("%s", err);
        }
        for (int i = 0; i < n_flags; i++) ganc_config_set(&cfg, flags[i].key, flags[i].value, err);
        /* The data shape decides the networks; load data first, create the session, then the dir. */
        char data_path[1024];
        ganc_dataset probe;
        const ganc_toy2d *probe_toy;
        if (cli_open_data(cfg.data, &probe, &probe_toy, data_path, sizeof data_path, err)) {
            ganc_model_free(&model);
            return cli_error("%s", err);
        }
        const ganc_shape shape = probe.shape;
        ganc_dataset_free(&probe);
        ganc_set_threads(cfg.threads); /* before the networks are built: per-thread scratch */
        int rc = ganc_session_create(&s, &cfg, &model, shape, err);
        ganc_model_free(&model);
        if (rc) return cli_error("%s", err);
    }
    /* What --eval-every needs is loaded before a new run's directory exists: a missing or
     * wrong classifier leaves nothing behind. */
    char log_path[1100];
    cli_pathf(log_path, sizeof log_path, "%s/log.jsonl", dir);
    cli_train_eval evals;
    if (cli_train_eval_init(&evals, &s, log_path, err)) {
        cli_train_eval_free(&evals);
        ganc_session_free(&s);
        return cli_error("%s", err);
    }
    if (resume ? make_run_subdirs(resume, err) : (check_out_parent(out, err) || make_run_dir(out, err))) {
        cli_train_eval_free(&evals);
        ganc_session_free(&s);
        return cli_error("%s", err);
    }

    ganc_set_threads(s.cfg.threads);
    char data_path[1024];
    ganc_dataset ds;
    const ganc_toy2d *toy;
    if (cli_open_data(s.cfg.data, &ds, &toy, data_path, sizeof data_path, err)) {
        cli_train_eval_free(&evals);
        ganc_session_free(&s);
        return cli_error("%s", err);
    }
    if (ds.shape.c != s.data_shape.c || ds.shape.h != s.data_shape.h || ds.shape.w != s.data_shape.w) {
        ganc_dataset_free(&ds);
        cli_train_eval_free(&evals);
        ganc_session_free(&s);
        return cli_error("%s: images are %dx%dx%d but the run was trained on %dx%dx%d", data_path, ds.shape.c,
                         ds.shape.h, ds.shape.w, s.data_shape.c, s.data_shape.h, s.data_shape.w);
    }
    if (s.cfg.batch > ds.n) {
        ganc_dataset_free(&ds);
        cli_train_eval_free(&evals);
        ganc_session_free(&s);
        return cli_error("--batch %d is larger than the data set (%d images)", s.cfg.batch, ds.n);
    }
    const int64_t per_epoch = ((int64_t)ds.n + (int64_t)s.cfg.batch * s.cfg.d_steps - 1) / ((int64_t)s.cfg.batch * s.cfg.d_steps);
    const int64_t total = s.cfg.steps ? s.cfg.steps : (int64_t)s.cfg.epochs * per_epoch;

    ganc_batcher batcher;
    ganc_batcher_init(&batcher, ds.n, s.cfg.seed * 4 + 5);
    ganc_batcher_seek(&batcher, s.epoch, s.pos);
    const size_t sample = ganc_shape_size(s.data_shape);
    float *real = ganc_alloc(sizeof(float) * sample * (size_t)s.cfg.batch);
    int32_t *idx = ganc_alloc(sizeof(int32_t) * (size_t)s.cfg.batch);
    float *grid_z = ganc_alloc(sizeof(float) * (size_t)s.cfg.grid * s.cfg.z_dim);
    float *grid_pix = ganc_alloc(sizeof(float) * (size_t)s.cfg.grid * sample);
    ganc_rng fixed;
    ganc_rng_seed(&fixed, s.cfg.seed * 4 + 6);
    ganc_game_noise(&s.game, &fixed, grid_z, s.cfg.grid);

    cli_toy_view toy_view = {0};
    ganc_diagnose diag;
    ganc_diagnose_init(&diag, s.cfg.loss);
    char warning[512];
    history hist = {0};
    int status = 0;
    FILE *log = NULL;
    if (reload_log(log_path, s.step, &hist, err) || !(log = fopen(log_path, "a"))) {
        status = cli_error("%s", err[0] ? err : "cannot open log.jsonl");
        goto done;
    }
    if (toy) {
        char gif[1100];
        cli_pathf(gif, sizeof gif, "%s/samples/run.gif", dir);
        if (cli_toy_view_init(&toy_view, &s, gif, err)) {
            status = cli_error("%s", err);
            goto done;
        }
        fprintf(stderr, "ganc: training %s on %s (2-D points, %d modes) from step %" PRId64 " to %" PRId64 " -> %s\n",
                s.model.source, data_path, toy->n_modes, s.step, total, dir);
    } else {
        fprintf(stderr, "ganc: training %s on %s (%d images %dx%dx%d) from step %" PRId64 " to %" PRId64 " -> %s\n",
                s.model.source, data_path, ds.n, s.data_shape.c, s.data_shape.h, s.data_shape.w, s.step, total, dir);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    cli_progress prog;
    int rollbacks = 0;
    cli_progress_start(&prog, s.step, total);
    double t_last = cli_now();
    int64_t step_last = s.step;
    while (s.step < total && !stop_signal) {
        ganc_game_set_schedule(&s.game, &s.cfg, s.step, total);
        for (int k = 0; k < s.cfg.d_steps; k++) {
            ganc_batcher_next(&batcher, s.cfg.batch, idx);
            if (toy) ganc_toy2d_fill(toy, s.cfg.seed * 4 + 7, batcher.epoch, idx, s.cfg.batch, real);
            else ganc_dataset_fill(&ds, idx, s.cfg.batch, s.lo, s.hi, real);
            ganc_game_d_step(&s.game, real);
        }
        ganc_game_g_step(&s.game);
        s.step++;
        s.epoch = batcher.epoch;
        s.pos = batcher.pos;
        const ganc_game_stats *st = &s.game.stats;
        if (!isfinite(st->d_loss) || !isfinite(st->gnorm_d) || !isfinite(st->g_loss) || !isfinite(st->gnorm_g)) {
            const char *player = isfinite(st->d_loss) && isfinite(st->gnorm_d) ? "generator" : "discriminator";
            char ck[1100];
            if (s.cfg.on_nan == GANC_ONNAN_STOP || rollbacks == MAX_ROLLBACKS ||
                cli_find_checkpoint(dir, ck, sizeof ck, err)) {
                status = cli_error("step %" PRId64 ": the %s's loss or gradient is not finite; stopping%s", s.step, player,
                                   s.cfg.on_nan == GANC_ONNAN_STOP ? " (the last good checkpoint is kept; --on-nan rollback retries)"
                                   : rollbacks == MAX_ROLLBACKS ? " after 3 rollbacks" : " (no checkpoint to roll back to)");
                break;
            }
            const int64_t failed = s.step;
            if (rollback(&s, ck, &batcher, log_path, &hist, err)) {
                status = cli_error("%s", err);
                break;
            }
            rollbacks++;
            fprintf(stderr, "ganc: step %" PRId64 ": the %s's loss or gradient is not finite; rolled back to step %" PRId64
                            " with learning rates halved (G %g, D %g), %d of %d\n",
                    failed, player, s.step, s.cfg.lr_g, s.cfg.lr_d, rollbacks, MAX_ROLLBACKS);
            step_last = s.step;
            continue;
        }
        const int last = s.step == total;
        if (s.step % s.cfg.log_every == 0 || last) {
            const double now = cli_now(), sec = (now - t_last) / (double)(s.step - step_last);
            t_last = now;
            step_last = s.step;
            fprintf(log,
                    "{\"step\": %" PRId64 ", \"epoch\": %.4f, \"d_loss\": %.6g, \"g_loss\": %.6g, \"d_real\": %.6g, "
                    "\"d_fake\": %.6g, \"gnorm_d\": %.6g, \"gnorm_g\": %.6g, \"sec_per_step\": %.6g",
                    s.step, (double)batcher.epoch + (double)batcher.pos / ds.n, st->d_loss, st->g_loss, st->d_real,
                    st->d_fake, st->gnorm_d, st->gnorm_g, sec);
            /* InfoGAN: the code's cross-entropy; log K - info_loss bounds the code's mutual information from below */
            if (s.cfg.info_codes) fprintf(log, ", \"info_loss\": %.6g", st->info_loss);
            fputs("}\n", log);
            history_add(&hist, (double)s.step, st);
            if (ganc_diagnose_step(&diag, st, s.step, s.cfg.log_every, warning, sizeof warning))
                warn(log, &prog, s.step, warning);
            fflush(log);
        }
        if ((s.cfg.sample_every && s.step % s.cfg.sample_every == 0) || last) {
            if ((toy ? cli_toy_view_draw(&toy_view, &s, dir, s.step, err)
                     : write_samples(dir, &s, grid_z, grid_pix, s.step, err)) ||
                draw_plot(dir, &hist, err)) {
                status = cli_error("%s", err);
                break;
            }
            /* the grid's samples (or the 2-D picture's points) against the last real batch */
            const double fake_div = toy ? ganc_diversity(toy_view.fake, CLI_TOY_POINTS, sample)
                                        : ganc_diversity(grid_pix, s.cfg.grid, sample);
            const int n_real = s.cfg.grid < s.cfg.batch ? s.cfg.grid : s.cfg.batch;
            if (ganc_diagnose_samples(&diag, fake_div, ganc_diversity(real, toy ? s.cfg.batch : n_real, sample), s.step,
                                     warning, sizeof warning)) {
                warn(log, &prog, s.step, warning);
                fflush(log);
            }
        }
        if (evals.on && (s.step % s.cfg.eval_every == 0 || last)) {
            if (cli_train_eval_run(&evals, &s, log, dir, err)) {
                status = cli_error("%s", err);
                break;
            }
            fflush(log);
        }
        if (s.step % s.cfg.ckpt_every == 0 || last) {
            if (write_checkpoint(dir, &s, err)) {
                status = cli_error("%s", err);
                break;
            }
        }
        cli_progress_update(&prog, s.step, st, last || (!prog.tty && s.step % (s.cfg.log_every * 10) == 0));
    }
    cli_progress_end(&prog);
    if (stop_signal && status == 0) {
        if (write_checkpoint(dir, &s, err)) cli_error("%s", err);
        else fprintf(stderr, "ganc: stopped at step %" PRId64 "; continue with: ganc train --resume %s\n", s.step, dir);
        status = 128 + stop_signal;
    } else if (status == 0) {
        fprintf(stderr, "ganc: done: %s/samples/latest.png, %s/loss.png, %s/ckpt/\n", dir, dir, dir);
    }
done:
    if (cli_toy_view_finish(&toy_view, err) && status == 0) status = cli_error("%s", err);
    cli_train_eval_free(&evals);
    if (log) fclose(log);
    history_free(&hist);
    ganc_free(real);
    ganc_free(idx);
    ganc_free(grid_z);
    ganc_free(grid_pix);
    ganc_batcher_free(&batcher);
    ganc_dataset_free(&ds);
    ganc_session_free(&s);
    return status;
}
