/* The training loop of ganc train, once the session and its run directory exist. */
#ifndef GANC_CLI_TRAIN_RUN_H
#define GANC_CLI_TRAIN_RUN_H

#include "cli/train_eval.h"
#include "gan/session.h"

/* Trains s from its step to the run's last (--steps, or --epochs over the data), writing
 * log.jsonl, pictures, --eval-every metrics and checkpoints into dir on their schedules.
 * Ends early on SIGINT or SIGTERM (with a checkpoint) or on a non-finite loss that --on-nan
 * does not cure. src: the run's data (cli_open_source), checked against the run's shape. Returns the command's exit status, after any message. */
int cli_train_run(ganc_session *s, const char *dir, cli_train_eval *evals, const ganc_source *src);

#endif
