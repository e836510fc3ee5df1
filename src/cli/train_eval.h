/* --eval-every during ganc train: every N steps the run's generator is scored and the numbers
 * are appended to log.jsonl and drawn in metrics.png. Image runs: FID, KID, precision, recall,
 * density, coverage, class KL and confidence against the data's test split, in the features of
 * --classifier (whose reference features are computed once). 2-D runs: modes captured, % high
 * quality and reverse KL. Conditional runs add class agreement and intra-class FID (against the
 * classes of the test images). The evaluation uses its own noise and G in eval mode, so a run with
 * it computes exactly what it computes without it. */
#ifndef GANC_CLI_TRAIN_EVAL_H
#define GANC_CLI_TRAIN_EVAL_H

#include "cli/splits.h"
#include "eval/evaluate.h"
#include "io/json.h"

typedef struct {
    int on;
    int have_c, have_sp, have_ref; /* image runs: classifier, data splits, reference features loaded */
    ganc_classifier c;
    cli_split sp;
    ganc_eval_features ref;
    int32_t *ref_labels; /* conditional runs: the reference images' classes */
    int n, cap;          /* metrics history for metrics.png */
    float *step, *a, *b; /* image runs: FID, KID x 100; 2-D runs: modes, high quality % */
} cli_train_eval;

/* Loads what the evaluations need (nothing when eval_every is 0). */
int cli_train_eval_init(cli_train_eval *e, ganc_session *s, char err[GANC_ERR_LEN]);
/* A resumed run: one line of its log.jsonl read back (train_log.c), whose metrics, if it has
 * any, go back into the history drawn in metrics.png. */
int cli_train_eval_replay(cli_train_eval *e, const ganc_json *line, int64_t step);
/* Empties that history (a rollback reads the log back again). */
void cli_train_eval_forget(cli_train_eval *e);
/* Scores the generator now: one line in log, and metrics.png in dir. */
int cli_train_eval_run(cli_train_eval *e, ganc_session *s, FILE *log, const char *dir, char err[GANC_ERR_LEN]);
void cli_train_eval_free(cli_train_eval *e);

#endif
