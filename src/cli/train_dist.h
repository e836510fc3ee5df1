/* ganc train over several processes (mpirun -np N): one run, its global batch shared out. */
#ifndef GANC_CLI_TRAIN_DIST_H
#define GANC_CLI_TRAIN_DIST_H

#include "data/source.h"
#include "gan/session.h"
#include "ganc.h"

/* With N > 1 processes (cli_dist_size): refuses a --batch that N does not divide and every
 * option whose computation looks across the batch in a way not yet shared out (one line in
 * err), else makes s's game compute this process's share of each global batch and average
 * both players' gradients over the processes before every optimizer step; sync_bn (--sync-bn):
 * both networks' batch norms use the global batch's statistics. With one process: nothing
 * (one process's batch norm is the global batch's already). */
int cli_train_dist_setup(ganc_session *s, int sync_bn, char err[GANC_ERR_LEN]);

/* With N > 1 processes: refuses (one line in err, the same on every process, naming the
 * first process that differs from process 0) a run whose processes were started with other
 * options (every option's value, and --sync-bn), another model or checkpoint (the model text,
 * both networks' weights and state, the step and data position) or other data (its samples'
 * bytes and labels, or a 2-D set's seed), each compared by a 64-bit hash. Every process must
 * call it, after all are ready. With one process: nothing. */
int cli_train_dist_check_same(const ganc_session *s, const ganc_source *src, int sync_bn, char err[GANC_ERR_LEN]);

/* After an iteration: the logged losses and scores become their means over the processes, so
 * that they are the global batch's (and every process takes the same decisions from them). */
void cli_train_dist_stats(ganc_game_stats *st);

#endif
