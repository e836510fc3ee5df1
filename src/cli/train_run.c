/* The training loop (see train_run.h): one iteration is --d-steps D updates and one G update;
 * after it, whatever is due at that step is written. */
#include "cli/train_run.h"
#include "cli/cli.h"
#include "cli/dist.h"
#include "cli/run_dir.h"
#include "cli/toy_view.h"
#include "cli/train_log.h"
#include "cli/train_dist.h"
#include "gan/diagnose.h"
#include "ganc_internal.h"
#include "io/image.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { MAX_ROLLBACKS = 3 };
/* What a process asks the others for at the top of each iteration besides a signal's number:
 * to stop because it failed (a write of process 0's). */
enum { STOP_FAILED = 1000 };

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig)
{
    stop_signal = sig;
    cli_dist_signalled(); /* (over MPI: a process that then waits for the others watches them) */
}

typedef struct {
    ganc_session *s;
    const char *dir;
    cli_train_eval *evals;
    const ganc_source *src;
    const ganc_toy2d *toy; /* a 2-D run (src's): the plane's pictures and metrics */
    int64_t total; /* the step the run ends at */
    ganc_batcher batcher;
    float *real;             /* the last real batch */
    int32_t *idx;            /* its indices into ds */
    int32_t *labels;         /* its classes, for a conditional run (else NULL) */
    float *grid_z, *grid_pix; /* the pictures' fixed noise and their samples */
    cli_toy_view toy_view;
    ganc_diagnose diag;
    cli_train_log log;
    cli_progress prog;
    int rollbacks;
    int writer; /* this process writes the run's files: the only one, or process 0 of several */
    char last_ckpt[1100]; /* the newest checkpoint of the run ("" none): what a fault report names */
    double t_last; /* when step_last was logged: sec_per_step */
    double ex_last; /* the time in exchanges then (several processes) */
    double t_start; /* the loop's start, and the exchanges' totals then: the end's summary */
    double ex_start, ex_bytes_start;
    int64_t step_start;
    int64_t step_last;
} train_run;

/* The data set, checked against the run: the same image shape, at least one batch. */
static int open_data(train_run *r, char err[GANC_ERR_LEN])
{
    const ganc_session *s = r->s;
    r->toy = r->src->toy;
    const ganc_shape got = r->src->shape, want = s->data_shape;
    if (got.c != want.c || got.h != want.h || got.w != want.w)
        return ganc_fail(err, "%s: images are %dx%dx%d but the run was trained on %dx%dx%d", s->cfg.data, got.c, got.h,
                         got.w, want.c, want.h, want.w);
    if (s->game.classes && (!r->src->ds.labels || r->src->ds.n_classes > s->game.classes))
        return ganc_fail(err, "%s: the run is conditional on %d classes, and this data has %s", s->cfg.data,
                         s->game.classes, r->src->ds.labels ? "more" : "no labels");
    if (s->cfg.batch > r->src->n)
        return ganc_fail(err, "--batch %d is larger than the data set (%d images)", s->cfg.batch, r->src->n);
    const int64_t per_iter = (int64_t)s->cfg.batch * s->cfg.d_steps;
    const int64_t per_epoch = ((int64_t)r->src->n + per_iter - 1) / per_iter;
    r->total = s->cfg.steps ? s->cfg.steps : (int64_t)s->cfg.epochs * per_epoch;
    return 0;
}

/* The batch order (from the seed, at the checkpoint's position), buffers, the pictures' noise,
 * the log read back and, for 2-D runs, the picture of the plane. */
static int start(train_run *r, char err[GANC_ERR_LEN])
{
    ganc_session *s = r->s;
    ganc_batcher_init(&r->batcher, r->src->n, s->cfg.seed * 4 + 5);
    ganc_batcher_seek(&r->batcher, s->epoch, s->pos);
    const size_t sample = ganc_shape_size(s->data_shape);
    r->real = ganc_alloc(sizeof(float) * sample * (size_t)s->cfg.batch);
    r->idx = ganc_alloc(sizeof(int32_t) * (size_t)s->cfg.batch);
    const int k = s->game.classes;
    if (k) { /* generated classes as often as the data's; the pictures' in K blocks, in order */
        r->labels = ganc_alloc(sizeof(int32_t) * (size_t)s->cfg.batch);
        int64_t *counts = ganc_alloc(sizeof(int64_t) * (size_t)k);
        for (int i = 0; i < r->src->n; i++) {
            const int y = ganc_source_label(r->src, i);
            if (y >= 0 && y < k) counts[y]++;
        }
        ganc_game_set_class_prior(&s->game, counts, k);
        ganc_free(counts);
    }
    r->grid_z = ganc_alloc(sizeof(float) * (size_t)s->cfg.grid * ganc_game_latent(&s->game));
    r->grid_pix = ganc_alloc(sizeof(float) * (size_t)s->cfg.grid * sample);
    ganc_rng fixed;
    ganc_rng_seed(&fixed, cli_sample_stream(s->cfg.seed));
    ganc_game_noise(&s->game, &fixed, r->grid_z, s->cfg.grid);
    for (int i = 0; k && i < s->cfg.grid; i++)
        r->grid_z[(size_t)i * ganc_game_latent(&s->game) + s->cfg.z_dim] = (float)((int64_t)i * k / s->cfg.grid);
    ganc_diagnose_init(&r->diag, s->cfg.loss);
    if (!r->writer) return 0; /* the other processes of a data-parallel run write nothing */
    if (cli_train_log_open(&r->log, r->dir, s->step, r->evals, err) || cli_write_data_report(r->src, r->dir, err))
        return -1;
    if (r->toy) {
        char gif[1100];
        cli_pathf(gif, sizeof gif, "%s/samples/run.gif", r->dir);
        if (cli_toy_view_init(&r->toy_view, s, gif, err)) return -1;
    }
    fprintf(stderr, "ganc: training %s on %s from step %" PRId64 " to %" PRId64 " -> %s\n", s->model.source,
            r->src->desc, s->step, r->total, r->dir);
    return 0;
}

static void one_iteration(train_run *r)
{
    ganc_session *s = r->s;
    ganc_game_set_schedule(&s->game, &s->cfg, s->step, r->total);
    /* The batcher deals the global batch's indices on every process; each one loads and
     * computes its share (the whole batch in a one-process run). */
    const int32_t *share = r->idx + s->game.shard_off;
    const int m = s->game.batch;
    for (int k = 0; k < s->cfg.d_steps; k++) {
        ganc_batcher_next(&r->batcher, s->cfg.batch, r->idx);
        ganc_source_fill(r->src, share, m, r->batcher.epoch, s->lo, s->hi, r->real);
        for (int i = 0; r->labels && i < m; i++) r->labels[i] = ganc_source_label(r->src, share[i]);
        ganc_game_d_step(&s->game, r->real, r->labels);
    }
    ganc_game_g_step(&s->game);
    cli_train_dist_stats(&s->game.stats);
    s->step++;
    s->epoch = r->batcher.epoch;
    s->pos = r->batcher.pos;
}

/* --on-nan rollback: replaces the session by the newest checkpoint, keeping this invocation's
 * options, halves both learning rates, and puts the data position and the log back there. */
static int rollback(train_run *r, const char *ck, char err[GANC_ERR_LEN])
{
    ganc_config cfg = r->s->cfg;
    ganc_session_free(r->s);
    if (ganc_checkpoint_load(ck, r->s, err)) return -1;
    cfg.lr_g *= 0.5f;
    cfg.lr_d *= 0.5f;
    r->s->cfg = cfg;
    ganc_batcher_seek(&r->batcher, r->s->epoch, r->s->pos);
    return cli_train_log_rewind(&r->log, r->s->step, r->evals, err);
}

/* After a step whose loss or gradient is not finite: 0 when rolled back (the loop goes on),
 * else the exit status after a message. */
static int not_finite(train_run *r)
{
    ganc_session *s = r->s;
    const ganc_game_stats *st = &s->game.stats;
    const char *player = isfinite(st->d_loss) && isfinite(st->gnorm_d) ? "generator" : "discriminator";
    char ck[1100], err[GANC_ERR_LEN];
    const char *why_not = NULL;
    if (s->cfg.on_nan == GANC_ONNAN_STOP) why_not = " (the last good checkpoint is kept; --on-nan rollback retries)";
    else if (r->rollbacks == MAX_ROLLBACKS) why_not = " after 3 rollbacks";
    else if (cli_find_checkpoint(r->dir, ck, sizeof ck, err)) why_not = " (no checkpoint to roll back to)";
    if (why_not)
        return cli_error("step %" PRId64 ": the %s's loss or gradient is not finite; stopping%s", s->step, player, why_not);
    const int64_t failed = s->step;
    if (rollback(r, ck, err)) return cli_error("%s", err);
    r->rollbacks++;
    fprintf(stderr, "ganc: step %" PRId64 ": the %s's loss or gradient is not finite; rolled back to step %" PRId64
                    " with learning rates halved (G %g, D %g), %d of %d\n",
            failed, player, s->step, s->cfg.lr_g, s->cfg.lr_d, r->rollbacks, MAX_ROLLBACKS);
    r->step_last = s->step;
    return 0;
}

static void log_losses(train_run *r)
{
    const ganc_session *s = r->s;
    const double now = cli_now(), steps = (double)(s->step - r->step_last), sec = (now - r->t_last) / steps;
    double ex_sec, ex_bytes;
    cli_dist_exchange_totals(&ex_sec, &ex_bytes);
    const double ex_per_step = cli_dist_size() > 1 ? (ex_sec - r->ex_last) / steps : -1.0;
    r->ex_last = ex_sec;
    r->t_last = now;
    r->step_last = s->step;
    cli_train_log_losses(&r->log, s, (double)r->batcher.epoch + (double)r->batcher.pos / r->src->n, sec, ex_per_step);
    char warning[512];
    if (ganc_diagnose_step(&r->diag, &s->game.stats, s->step, s->cfg.log_every, warning, sizeof warning))
        cli_train_log_warning(&r->log, r->prog.tty, s->step, warning);
    fflush(r->log.f);
}

/* samples/step_N.png and latest.png (2-D runs: the plane with D's map), loss.png, and the
 * diagnosis of the pictured samples' diversity against the last real batch's. */
static int pictures(train_run *r, char err[GANC_ERR_LEN])
{
    ganc_session *s = r->s;
    const size_t sample = ganc_shape_size(s->data_shape);
    if (r->toy) {
        if (cli_toy_view_draw(&r->toy_view, s, r->dir, s->step, err)) return -1;
    } else {
        char path[1100];
        ganc_game_generate(&s->game, r->grid_z, s->cfg.grid, r->grid_pix);
        cli_pathf(path, sizeof path, "%s/samples/step_%06" PRId64 ".png", r->dir, s->step);
        if (ganc_png_grid(path, r->grid_pix, s->cfg.grid, s->data_shape, s->lo, s->hi, 0, err)) return -1;
        cli_pathf(path, sizeof path, "%s/samples/latest.png", r->dir);
        if (ganc_png_grid(path, r->grid_pix, s->cfg.grid, s->data_shape, s->lo, s->hi, 0, err)) return -1;
    }
    if (cli_train_log_plot(&r->log, r->dir, err)) return -1;
    const double fake_div = r->toy ? ganc_diversity(r->toy_view.fake, CLI_TOY_POINTS, sample)
                                   : ganc_diversity(r->grid_pix, s->cfg.grid, sample);
    const int m = s->game.batch; /* (this process's share of the batch: all of it in one process) */
    const int n_real = r->toy ? m : s->cfg.grid < m ? s->cfg.grid : m;
    char warning[512];
    if (ganc_diagnose_samples(&r->diag, fake_div, ganc_diversity(r->real, n_real, sample), s->step, warning,
                              sizeof warning)) {
        cli_train_log_warning(&r->log, r->prog.tty, s->step, warning);
        fflush(r->log.f);
    }
    return 0;
}

/* Whatever is due after the step: log line, pictures, evaluation, checkpoint, progress. */
static int after_step(train_run *r, char err[GANC_ERR_LEN])
{
    ganc_session *s = r->s;
    const int last = s->step == r->total;
    if (s->step % s->cfg.log_every == 0 || last) log_losses(r);
    if (((s->cfg.sample_every && s->step % s->cfg.sample_every == 0) || last) && pictures(r, err)) return -1;
    if (r->evals->on && (s->step % s->cfg.eval_every == 0 || last)) {
        if (cli_train_eval_run(r->evals, s, r->log.f, r->dir, err)) return -1;
        fflush(r->log.f);
    }
    if ((s->step % s->cfg.ckpt_every == 0 || last) && cli_run_dir_checkpoint(r->dir, s, err)) return -1;
    cli_progress_update(&r->prog, s->step, &s->game.stats,
                        last || (!r->prog.tty && s->step % (s->cfg.log_every * 10) == 0));
    return 0;
}

/* status: non-zero when this process failed to start (it said why): the others learn of it at
 * the loop's first agreement and none trains. */
static int loop(train_run *r, int status)
{
    ganc_session *s = r->s;
    char err[GANC_ERR_LEN];
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    /* SIGUSR1 too: mpirun forwards it to every process at once (SIGINT and SIGTERM it turns
     * into its own kill: SIGTERM after 1 s, SIGKILL 1 s later), and Slurm sends it ahead of a
     * job's end (sbatch --signal=USR1@120): a checkpoint however long a step takes */
    signal(SIGUSR1, on_signal);
    if (r->writer) cli_progress_start(&r->prog, s->step, r->total);
    r->t_last = r->t_start = cli_now();
    r->step_last = r->step_start = s->step;
    cli_dist_exchange_totals(&r->ex_start, &r->ex_bytes_start);
    r->ex_last = r->ex_start;
    if (s->step > 0) { /* resumed: the checkpoint it started from */
        cli_pathf(r->last_ckpt, sizeof r->last_ckpt, "%s/ckpt/step_%09" PRId64 ".safetensors", r->dir, s->step);
        if (access(r->last_ckpt, F_OK) != 0) r->last_ckpt[0] = 0;
    }
    while (s->step < r->total) {
        cli_dist_set_progress(s->step, r->last_ckpt, r->dir);
        /* Every process leaves at the same step: on a signal to any of them, or when process 0
         * could not write (it said why); one process just asks itself. */
        const int stop = cli_dist_max(status ? STOP_FAILED : (int)stop_signal);
        if (stop == STOP_FAILED) {
            if (!status) status = 1;
            break;
        }
        if (stop) {
            stop_signal = stop;
            break;
        }
        one_iteration(r);
        const ganc_game_stats *st = &s->game.stats;
        if (!isfinite(st->d_loss) || !isfinite(st->gnorm_d) || !isfinite(st->g_loss) || !isfinite(st->gnorm_g)) {
            if ((status = not_finite(r))) break;
            continue;
        }
        if (r->writer && after_step(r, err)) status = cli_error("%s", err); /* (the loop's top stops all) */
        else if (s->step % s->cfg.ckpt_every == 0 || s->step == r->total) /* (process 0 wrote it: every process knows) */
            cli_pathf(r->last_ckpt, sizeof r->last_ckpt, "%s/ckpt/step_%09" PRId64 ".safetensors", r->dir, s->step);
    }
    if (r->writer) cli_progress_end(&r->prog);
    if (r->writer && cli_dist_size() > 1 && s->step > r->step_start) { /* what the processes cost each other */
        double ex, bytes;
        cli_dist_exchange_totals(&ex, &bytes);
        const double steps = (double)(s->step - r->step_start), per = (cli_now() - r->t_start) / steps;
        fprintf(stderr,
                "ganc: %d processes: %.1f ms per step, %.1f ms of it (%.0f%%) in exchanges (waiting included), %.1f MB "
                "sent per step by process 0\n",
                cli_dist_size(), 1e3 * per, 1e3 * (ex - r->ex_start) / steps, 100.0 * (ex - r->ex_start) / steps / per,
                (bytes - r->ex_bytes_start) / steps / 1e6);
    }
    if (stop_signal && status == 0) {
        if (r->writer && cli_run_dir_checkpoint(r->dir, s, err)) cli_error("%s", err);
        else if (r->writer)
            fprintf(stderr, "ganc: stopped at step %" PRId64 "; continue with: ganc train --resume %s\n", s->step,
                    r->dir);
        status = 128 + stop_signal;
    } else if (status == 0 && r->writer) {
        fprintf(stderr, "ganc: done: %s/samples/latest.png, %s/loss.png, %s/ckpt/\n", r->dir, r->dir, r->dir);
    }
    return status;
}

int cli_train_run(ganc_session *s, const char *dir, cli_train_eval *evals, const ganc_source *src)
{
    train_run r;
    memset(&r, 0, sizeof r);
    r.s = s;
    r.dir = dir;
    r.evals = evals;
    r.src = src;
    r.writer = cli_dist_rank() == 0;
    char err[GANC_ERR_LEN];
    ganc_set_threads(s->cfg.threads);
    int status = open_data(&r, err) || start(&r, err) ? cli_error("%s", err) : 0;
    status = loop(&r, status);
    if (cli_toy_view_finish(&r.toy_view, err) && status == 0) status = cli_error("%s", err);
    cli_train_log_close(&r.log);
    ganc_free(r.real);
    ganc_free(r.idx);
    ganc_free(r.labels);
    ganc_free(r.grid_z);
    ganc_free(r.grid_pix);
    ganc_batcher_free(&r.batcher);
    return status;
}
