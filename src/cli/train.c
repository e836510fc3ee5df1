/* ganc train: a run from flags (or --resume DIR), writing samples, log, plot and checkpoints
 * into the run directory. Everything that can be wrong with the input is found before the
 * directory is created, so a failed start leaves nothing behind. Here: the flags and the
 * session; run_dir.c makes the directory, train_run.c trains, train_dist.c shares the run out
 * over the processes of mpirun -np N (process 0 makes the directory and writes everything). */
#include "cli/cli.h"
#include "cli/dist.h"
#include "cli/flags.h"
#include "cli/run_dir.h"
#include "cli/serve.h"
#include "cli/train_dist.h"
#include "cli/train_eval.h"
#include "cli/train_run.h"
#include "ganc_internal.h"

#include <stdio.h>
#include <string.h>

enum { MAX_FLAGS = 64 };

/* The options of src/gan/config.c on the command line, in their order: a new run applies them
 * over the model's [train] sections, a resumed one over its checkpoint's. */
typedef struct {
    struct {
        char key[64]; /* "lr_g" */
        const char *value;
    } at[MAX_FLAGS];
    int n;
    const char *model, *data; /* --model and --data, which decide the [train] sections */
} config_flags;

/* Flags a resumed run may change: none of them changes what the run computes. */
static const char *const resumable[] = {"steps",     "epochs",     "sample_every", "log_every", "ckpt_every",
                                        "keep",      "grid",       "threads",      "on_nan",    "eval_every",
                                        "eval_n",    "classifier", "truncation", NULL};

/* cli_command.other: --KEY VALUE for every KEY of the option table (and its old names). */
static int config_flag(void *ctx, const char *name, const char *value, char err[GANC_ERR_LEN])
{
    config_flags *cf = ctx;
    ganc_config probe;
    ganc_config_defaults(&probe);
    char buf[64];
    if (strncmp(name, "--", 2) || !ganc_config_get(&probe, name + 2, buf)) return 1;
    if (!value) return 0;
    if (ganc_config_set(&probe, name + 2, value, err)) return -1;
    if (cf->n == MAX_FLAGS) return ganc_fail(err, "too many flags");
    char *key = cf->at[cf->n].key;
    snprintf(key, sizeof cf->at[0].key, "%s", name + 2);
    for (char *p = key; *p; p++)
        if (*p == '-') *p = '_';
    cf->at[cf->n++].value = value;
    if (!strcmp(key, "model")) cf->model = value;
    if (!strcmp(key, "data")) cf->data = value;
    return 0;
}

/* cli_command.other_help: the option table's rows, with the built-in defaults. */
static void config_help(void *ctx, FILE *out)
{
    (void)ctx;
    ganc_config d;
    ganc_config_defaults(&d);
    for (int i = 0; i < ganc_config_option_count(); i++) {
        const ganc_config_option *o = ganc_config_option_at(i);
        char name[64], buf[64], note[128];
        snprintf(name, sizeof name, "--%s", o->key);
        for (char *p = name; *p; p++)
            if (*p == '_') *p = '-';
        const char *def = ganc_config_get(&d, o->key, buf);
        snprintf(note, sizeof note, "default %s", def[0] ? def : "none");
        cli_flags_row(out, name, o->arg, o->help, note);
    }
}

/* --resume DIR: its newest checkpoint, with the flags a resumed run may change. */
static int resume_session(const char *dir, const config_flags *cf, ganc_session *s, char err[GANC_ERR_LEN])
{
    char ck[1100];
    if (cli_find_checkpoint(dir, ck, sizeof ck, err) || ganc_checkpoint_load(ck, s, err)) return -1;
    for (int i = 0; i < cf->n; i++) {
        int ok = 0;
        for (int k = 0; resumable[k]; k++) ok |= !strcmp(resumable[k], cf->at[i].key);
        if (!ok) {
            char name[64];
            snprintf(name, sizeof name, "%s", cf->at[i].key);
            for (char *p = name; *p; p++)
                if (*p == '_') *p = '-';
            ganc_session_free(s);
            return ganc_fail(err, "train: --%s cannot change when resuming (it would not continue the same run)", name);
        }
        ganc_config_set(&s->cfg, cf->at[i].key, cf->at[i].value, err);
    }
    /* The networks size their per-thread scratch, and so how their sums are split, by the
     * thread count when they are built; the loader built them before the run's count was
     * known. Build them again under it, so the resumed run adds in the same order as a
     * straight one (e.g. --threads 3 on 2 cores: 3 partials, not 2). */
    const int built_for = ganc_threads();
    ganc_set_threads(s->cfg.threads);
    if (ganc_threads() != built_for) {
        const ganc_config cfg = s->cfg;
        ganc_session_free(s);
        if (ganc_checkpoint_load(ck, s, err)) return -1;
        s->cfg = cfg;
    }
    /* (--truncation may have changed above; the game keeps its own copy) */
    if (ganc_session_sampling(s, -1.0, -1.0, err)) {
        ganc_session_free(s);
        return -1;
    }
    return 0;
}

/* A new run: defaults, the model's [train] and [train DATA] sections, then the flags. */
static int new_session(const config_flags *cf, ganc_session *s, ganc_source *src, char err[GANC_ERR_LEN])
{
    ganc_config cfg;
    ganc_model model;
    ganc_config_defaults(&cfg);
    if (ganc_model_load(cf->model ? cf->model : cfg.model, &model, err)) return -1;
    /* then the model's defaults for the chosen data set ([train ring]; --data, else [train]'s) */
    if (ganc_model_apply_train(&model, &cfg, err) ||
        ganc_model_apply_train_data(&model, cf->data ? cf->data : cfg.data, &cfg, err)) {
        ganc_model_free(&model);
        return -1;
    }
    for (int i = 0; i < cf->n; i++) ganc_config_set(&cfg, cf->at[i].key, cf->at[i].value, err);
    /* The data shape decides the networks: the data is opened before the session exists. */
    if (cli_open_source(&cfg, 0, 1, src, err)) {
        ganc_model_free(&model);
        return -1;
    }
    if (cli_cond_classes(&cfg, src, err)) {
        ganc_model_free(&model);
        ganc_source_close(src);
        return -1;
    }
    ganc_set_threads(cfg.threads); /* before the networks are built: per-thread scratch */
    int rc = ganc_session_create(s, &cfg, &model, src->shape, err);
    ganc_model_free(&model);
    if (rc == 0 && (rc = cli_source_classes(src, s, err))) ganc_session_free(s);
    if (rc) ganc_source_close(src);
    return rc;
}

/* The processes agree whether all of them are ready to train (failed: this one is not, err
 * saying why). One line per failure: process 0's when it failed (every process checks the same
 * flags, model and data, so a failure there is usually everyone's), else each failed
 * process's own, naming it. Returns 0 when all are ready. */
static int all_ready(int failed, const char *err)
{
    const int rank = cli_dist_rank(), worst = cli_dist_max(failed ? (rank == 0 ? 2 : 1) : 0);
    if (failed && rank == 0) cli_error("%s", err);
    else if (failed && worst == 1) cli_error("process %d of %d: %s", rank, cli_dist_size(), err);
    return worst;
}

/* A failure before training: said once (all_ready), exit status 1. */
static int start_failed(const char *err)
{
    all_ready(1, err);
    return 1;
}

static int train(int argc, char **argv)
{
    config_flags cf = {0};
    const char *out = NULL, *resume = NULL;
    int sync_bn = 0, serve_port = CLI_SERVE_PORT, serve = 0;
    const char *serve_host = "127.0.0.1";
    cli_flag flags[] = {
        {"--out", "DIR", "the run directory to create (this, or --resume)", CLI_TEXT, .dest = &out},
        {"--resume", "DIR", "continue the run in DIR up to --steps", CLI_TEXT, .dest = &resume},
        {"--sync-bn", NULL,
         "under mpirun: batch norm normalises by the whole batch's statistics, summed over the processes, so that N "
         "processes compute one process's run (default: each its own share's); a resumed run keeps it. In one "
         "process it changes nothing",
         CLI_SWITCH, .dest = &sync_bn},
        {"--serve", "[PORT]", "also serve the run's live dashboard (ganc serve's page) on PORT while it trains; the "
         "server has threads of its own and training never waits for it", CLI_OPT_INT, 0, 65535, .dest = &serve_port,
         .given = &serve, .def = "off; PORT 8080 when left out"},
        {"--host", "ADDR", "--serve's address (anything but a loopback address lets other machines see the run, and "
         "says so)", CLI_TEXT, .dest = &serve_host},
    };
    const cli_command cmd = {
        .name = "train",
        .usage = "ganc train --out DIR [options]\n"
                 "ganc train --resume DIR [--steps N]",
        .about = "Trains a GAN; DIR receives samples/, log.jsonl, loss.png and ckpt/.\n\n"
                 "Options are taken from the built-in defaults (shown), then the model's [train] section,\n"
                 "then its [train DATA] section for the chosen --data, then these flags.",
        .flags = flags,
        .n_flags = (int)(sizeof flags / sizeof flags[0]),
        .other = config_flag,
        .other_help = config_help,
        .other_ctx = &cf,
    };
    char err[GANC_ERR_LEN];
    const int parsed = cli_flags_parse(&cmd, argc, argv, err);
    if (parsed > 0) cli_flags_help(&cmd, stdout);
    if (parsed > 0) return 0; /* (--help: the same on every process, no agreement needed) */
    if (parsed) return start_failed(err);
    if (resume && out && strcmp(resume, out)) return start_failed("train: give either --out or --resume, not both");
    if ((out && strlen(out) > 900) || (resume && strlen(resume) > 900)) return start_failed("train: the run directory path is too long");
    if (!resume && !out) return start_failed("train: --out DIR is required (or --resume DIR)");
    if (serve && !web_server_available())
        return start_failed("train: --serve: this build of ganc has no HTTP server (built without libmicrohttpd)");

    ganc_session s;
    ganc_source src;
    if (resume ? resume_session(resume, &cf, &s, err) : new_session(&cf, &s, &src, err)) return start_failed(err);
    s.sync_bn |= sync_bn; /* (a resumed run keeps its checkpoint's) */
    if (resume && cli_open_source(&s.cfg, 0, 1, &src, err)) {
        ganc_session_free(&s);
        return start_failed(err);
    }
    /* What --eval-every needs is loaded before a new run's directory exists: a missing or
     * wrong classifier leaves nothing behind. So is every refusal of a data-parallel run; then
     * process 0 alone makes the directory. */
    const char *dir = resume ? resume : out;
    cli_train_eval evals;
    cli_train_serve web = {0}; /* --serve: process 0 binds its port before the directory exists */
    /* (agreements: no process fails after the directory exists, unless in making it) */
    int status = all_ready(cli_train_eval_init(&evals, &s, err) || cli_train_dist_setup(&s, s.sync_bn, err) ||
                               (serve && cli_dist_rank() == 0 && cli_train_serve_listen(&web, serve_host, serve_port, err)),
                           err) ? 1 : 0;
    /* (then, all being ready, whether all were given the same: a collective every one joins) */
    if (!status) status = all_ready(cli_train_dist_check_same(&s, &src, s.sync_bn, err), err) ? 1 : 0;
    if (!status) {
        const int failed = cli_dist_rank() == 0 && ((resume ? cli_run_dir_reopen(resume, err) : cli_run_dir_create(out, err)) ||
                                                    (web.server && cli_train_serve_start(&web, dir, &s, err)));
        status = all_ready(failed, err) ? 1 : cli_train_run(&s, dir, &evals, &src);
    }
    cli_train_serve_stop(&web);
    cli_train_eval_free(&evals);
    ganc_source_close(&src);
    ganc_session_free(&s);
    return status;
}

int cmd_train(int argc, char **argv)
{
    char err[GANC_ERR_LEN];
    if (cli_dist_init(err, sizeof err)) return cli_error("%s", err);
    const int status = train(argc, argv);
    cli_dist_finalize();
    return status;
}
