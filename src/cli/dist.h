/* The processes of one data-parallel run (MPI), as ganc train needs them. Built without MPI
 * (make MPI=0, or no MPI found) and in a process not started by an MPI launcher, there is one
 * process and every call below is a no-op on it: the one-process run is exactly the run it
 * was before MPI existed, and MPI is not even initialised. */
#ifndef GANC_CLI_DIST_H
#define GANC_CLI_DIST_H

#include <stddef.h>

/* How many processes a launcher (mpirun, srun) started with this one, and this one's rank
 * among them, from the environment alone (no MPI call): 1 and 0 when none did. */
int cli_dist_launched_size(void);
int cli_dist_launched_rank(void);

/* Joins the run's processes when an MPI launcher (mpirun, srun) started this one. Returns 0, or
 * -1 with a message in err. */
int cli_dist_init(char *err, size_t err_len);
void cli_dist_finalize(void);
int cli_dist_rank(void);
int cli_dist_size(void);

/* v (n floats) becomes the mean over the processes of their v, the same on every process and
 * the same from run to run: each process sums one contiguous part of v over all processes in
 * rank order (in double), scales it by 1 / N and sends it back to all (a reduce-scatter and an
 * all-gather, each of them ordered by rank rather than by arrival). */
void cli_dist_mean_floats(float *v, size_t n);
/* The same for n doubles (small: the logged losses). */
void cli_dist_mean_doubles(double *v, int n);
/* v (n doubles, small: batch norm's per-channel sums under --sync-bn) becomes the sum over the
 * processes of their v, added in rank order: the same on every process and from run to run. */
void cli_dist_sum_doubles(double *v, int n);
/* Every process's n floats into all (N x n, in rank order), the same on every process. */
void cli_dist_gather_floats(const float *mine, int n, float *all);
/* The lowest process whose h (n values: hashes) differs from process 0's, with in *which the
 * first index that differs; -1 when all agree (always in one process). */
int cli_dist_first_other(const unsigned long long *h, int n, int *which);
/* The largest of the processes' x (any process's failure or stop request, for all to act on). */
int cli_dist_max(int x);
/* The watch over the others while this process waits for them (see dist.c): a stop signal
 * arrived (async-signal-safe; call it from the handler), and what to report if the others then
 * stop answering: the run's step and its last checkpoint (NULL or "": none yet) and directory,
 * strings the caller keeps. */
void cli_dist_signalled(void);
void cli_dist_set_progress(long long step, const char *checkpoint, const char *dir);
/* This process's time in exchanges with the others so far (seconds, waiting for them
 * included) and the bytes it sent them. */
void cli_dist_exchange_totals(double *seconds, double *bytes);
/* Ends every process of the run at once with this status (a failure that the others cannot
 * learn of at their next cli_dist_max). */
void cli_dist_abort(int status);

#endif
