/* The `ganc` command: shared pieces of the sub-commands. */
#ifndef GANC_CLI_H
#define GANC_CLI_H

#include "data/data.h"
#include "data/source.h"
#include "gan/session.h"

#include <stdio.h>

int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_classifier(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_serve(int argc, char **argv);  /* src/cli/serve.c */
int cmd_report(int argc, char **argv); /* src/cli/report.c */
int cmd_eval_toy2d(int argc, char **argv); /* ganc eval on a 2-D run (called by cmd_eval) */
/* Metrics of a 2-D run on n fresh generated points: a table, or one JSON object. */
int cli_eval_toy2d(ganc_session *s, int n, uint64_t seed, int json);

/* The noise stream of a run's pictures, of `ganc sample --seed S` and of `ganc eval --seed S`:
 * one place, so that they all draw the same samples from a seed, and so do --interp's ends and
 * --walk's first frame. */
static inline uint64_t cli_sample_stream(uint64_t seed) { return seed * 4 + 6; }

/* snprintf for file paths; a path that does not fit is cut (run directories are limited to
 * 900 characters when a run starts, so this never happens to ours). */
void cli_pathf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prints "ganc: MESSAGE" to stderr and returns 1 (the exit status of a failed command). */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The newest checkpoint of a run directory (DIR/ckpt/step_*.safetensors), or PATH itself
 * when it is a file. Returns -1 with a message when there is none. */
int cli_find_checkpoint(const char *dir_or_file, char *path, size_t cap, char err[GANC_ERR_LEN]);

/* --precision of sample, eval and bench (NULL: not given, *out untouched): the value as the
 * option table reads it (fp32, bf16 or auto) into *out, else -1 with one line naming the
 * command and the flag in err. */
int cli_precision_flag(const char *cmd, const char *value, int *out, char err[GANC_ERR_LEN]);
#define CLI_PRECISION_HELP                                                                                       \
    "arithmetic of G's and D's matrix products: fp32, bf16 (inputs rounded to bfloat16, fp32 sums; the "       \
    "checkpoint's fp32 weights either way) or auto (bf16 where the CPU has it and the model trains as well)"

/* Resolves --data: "fashion-mnist", "mnist-10k" or a path. */
int cli_resolve_data(const char *name, char *path, size_t cap, char err[GANC_ERR_LEN]);

/* Opens cfg's --data (resolved by cli_resolve_data) with its data options (--size, --crop, ...);
 * test: a source's own test split (CIFAR). verbose: a folder's decoding progress and what its
 * walk found (the cache, broken pictures: the first CLI_BROKEN_SHOWN) go to stderr. */
enum { CLI_BROKEN_SHOWN = 5 };
int cli_open_source(const ganc_config *cfg, int test, int verbose, ganc_source *src, char err[GANC_ERR_LEN]);
/* The same for a path already resolved (cfg gives the options only). */
int cli_open_path(const char *path, const ganc_config *cfg, int test, int verbose, ganc_source *src,
                  char err[GANC_ERR_LEN]);
/* Records src's class names in s (its checkpoints keep them): the source's names, else the
 * label numbers; none for an unlabelled or stacked set. */
/* --cond: the run's classes from the data (cfg->classes when 0), refusing data without labels
 * and a --classes below the data's; then ganc_game_check_cond. Nothing for an unconditional run. */
int cli_cond_classes(ganc_config *cfg, const ganc_source *src, char err[GANC_ERR_LEN]);
int cli_source_classes(const ganc_source *src, ganc_session *s, char err[GANC_ERR_LEN]);
/* DIR/data.txt: what the run trains on, the cache, every broken picture, the class names. */
int cli_write_data_report(const ganc_source *src, const char *dir, char err[GANC_ERR_LEN]);

/* Progress on a terminal (one redrawn line) or plain lines otherwise. */
typedef struct {
    int tty;
    int64_t total, first;
    double start, last_draw;
} cli_progress;

double cli_now(void);
void cli_progress_start(cli_progress *p, int64_t first_step, int64_t total);
void cli_progress_update(cli_progress *p, int64_t step, const ganc_game_stats *st, int force);
void cli_progress_end(cli_progress *p);

struct ganc_reject_stats;
/* Progress of a draw by discriminator rejection (ganc_game_draw's callback; ctx a
 * cli_draw_progress): nothing for the first 2 seconds, then on a terminal one redrawn line
 * (kept, candidates, acceptance, ETA), elsewhere a line every 30 seconds. */
typedef struct {
    int tty, shown;
    double start, last;
} cli_draw_progress;
void cli_draw_progress_start(cli_draw_progress *p);
void cli_draw_progress_update(void *ctx, const struct ganc_reject_stats *st, int n);
void cli_draw_progress_end(cli_draw_progress *p);

#endif
