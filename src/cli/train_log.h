/* log.jsonl of a training run, one JSON object per line: the losses every --log-every steps,
 * the diagnostics' warnings and the --eval-every metrics, each with its "step". A resumed run
 * reads it back with the JSON parser (any line length), keeps the lines up to the checkpoint's
 * step and rebuilds from them what it draws: the losses in loss.png, the metrics in
 * metrics.png. */
#ifndef GANC_CLI_TRAIN_LOG_H
#define GANC_CLI_TRAIN_LOG_H

#include "cli/cli.h"
#include "cli/train_eval.h"

#include <stdio.h>

typedef struct {
    float *step, *d_loss, *g_loss, *d_real, *d_fake;
    int n, cap;
} cli_loss_history;

typedef struct {
    char path[1100]; /* DIR/log.jsonl */
    FILE *f;         /* open for appending */
    cli_loss_history hist;
} cli_train_log;

/* Keeps the lines of DIR/log.jsonl up to `step` (later ones were written after the checkpoint
 * the run continues from, and will be written again), rebuilds the loss history and the
 * metrics of evals from them, and opens the log for appending. A new run starts it empty. */
int cli_train_log_open(cli_train_log *l, const char *dir, int64_t step, cli_train_eval *evals,
                       char err[GANC_ERR_LEN]);
/* The same again after a rollback to `step`. */
int cli_train_log_rewind(cli_train_log *l, int64_t step, cli_train_eval *evals, char err[GANC_ERR_LEN]);
/* One line of losses; sec_per_step is the only number in it that is a timing. */
/* exchange_sec_per_step: a run over several processes' time in exchanges per step (process 0's,
 * waiting for the others included); below 0: not logged (one process). */
void cli_train_log_losses(cli_train_log *l, const ganc_session *s, double epoch, double sec_per_step,
                          double exchange_sec_per_step);
/* A diagnostic warning: on stderr (after a newline that ends a progress line redrawn on a
 * terminal, tty) and as a line of log.jsonl. */
void cli_train_log_warning(cli_train_log *l, int tty, int64_t step, const char *msg);
/* DIR/loss.png from the loss history. */
int cli_train_log_plot(const cli_train_log *l, const char *dir, char err[GANC_ERR_LEN]);
void cli_train_log_close(cli_train_log *l);

/* `, "key": v` with v as %.6g, or null where v is not finite (JSON has no NaN). */
void cli_log_number(FILE *f, const char *key, double v);

#endif
