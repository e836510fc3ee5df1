/* The run directory of ganc train: DIR with samples/ and ckpt/ (log.jsonl, loss.png and
 * metrics.png are written by their own modules), and the checkpoints kept in ckpt/. */
#ifndef GANC_CLI_RUN_DIR_H
#define GANC_CLI_RUN_DIR_H

#include "gan/session.h"

/* --out DIR: creates DIR (and its missing parents), which must be new or empty, with
 * samples/ and ckpt/. Whether it can is checked before anything is created. */
int cli_run_dir_create(const char *dir, char err[GANC_ERR_LEN]);
/* --resume DIR: samples/ and ckpt/ again where they are missing (a run whose samples/ was
 * deleted goes on). */
int cli_run_dir_reopen(const char *dir, char err[GANC_ERR_LEN]);
/* Writes DIR/ckpt/step_N.safetensors and removes all but the newest s->cfg.keep, and any
 * temp file (step_N.safetensors.tmp.PID.N) that a killed run left half-written. */
int cli_run_dir_checkpoint(const char *dir, const ganc_session *s, char err[GANC_ERR_LEN]);

#endif
