/* ganc train over several processes (mpirun -np N): one run, its global batch shared out. */
#ifndef GANC_CLI_TRAIN_DIST_H
#define GANC_CLI_TRAIN_DIST_H

#include "gan/session.h"
#include "ganc.h"

/* With N > 1 processes (cli_dist_size): refuses a --batch that N does not divide and every
 * option whose computation looks across the batch in a way not yet shared out (one line in
 * err), else makes s's game compute this process's share of each global batch and average
 * both players' gradients over the processes before every optimizer step; sync_bn (--sync-bn):
 * both networks' batch norms use the global batch's statistics. With one process: nothing
 * (one process's batch norm is the global batch's already). */
int cli_train_dist_setup(ganc_session *s, int sync_bn, char err[GANC_ERR_LEN]);

/* After an iteration: the logged losses and scores become their means over the processes, so
 * that they are the global batch's (and every process takes the same decisions from them). */
void cli_train_dist_stats(ganc_game_stats *st);

#endif
