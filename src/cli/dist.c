/* See dist.h. Deterministic sums: MPI_Allreduce's order of additions is the library's choice
 * (by algorithm, message size and process layout), so the gradients are reduced here instead:
 * v is cut into N parts, process r receives part r of every process, adds them in rank order
 * and sends the result to all. The same bytes travel as in a ring all-reduce (2 (N-1)/N of v
 * per process), and every float of the result is one fixed sum, so two runs with the same N
 * give identical files.
 *
 * Every exchange is point-to-point messages (MPI_Isend/MPI_Irecv, one per pair of processes,
 * which is how MPI's all-to-all does it anyway) so that a process knows, while it waits, from
 * which processes their messages have come: when a process dies, the launcher (mpirun, srun)
 * sends the others SIGTERM, then SIGKILL a moment later; a process that received a stop signal
 * and still waits a little later (dist_grace) reports, the lowest such, one line naming the
 * processes it still waits for and the run's last checkpoint (cli_dist_set_progress), and
 * leaves, rather than hanging or being killed without a word. A stop asked for by the user
 * (Ctrl-C to mpirun) finds every process answering: the run stops and checkpoints as usual. */
#include "cli/dist.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A process's size and rank as OpenMPI's mpirun, PMIx (srun, OpenMPI 5) and PMI (MPICH, Slurm's
 * PMI2) launchers pass them: the one place that reads the launcher's environment. */
static const char *const size_names[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", NULL};
static const char *const rank_names[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", NULL};

/* The first of names that is set and not empty, or NULL */
static const char *env_first(const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v) return v;
    }
    return NULL;
}

int cli_dist_launched_size(void)
{
    const char *v = env_first(size_names);
    const int n = v ? atoi(v) : 1;
    return n > 0 ? n : 1;
}

int cli_dist_launched_rank(void)
{
    const char *v = env_first(rank_names);
    return v ? atoi(v) : 0;
}

#ifdef GANC_HAVE_MPI
#include <mpi.h>
#include <sched.h>
#include <unistd.h>

static int dist_rank, dist_size = 1, dist_on;
static MPI_Comm comm;    /* the run's own copy of MPI_COMM_WORLD: no message of another library meets ours */
static float *part;      /* N received copies of this process's part */
static size_t part_cap;
static int *counts, *offs; /* each part's length and start, in floats */
static MPI_Request *reqs;  /* 2 (N - 1): receives first, then sends */
static int *done_idx;      /* MPI_Testsome's answer */
static int *arrived;       /* which processes' messages of the current exchange have come */
static int *peer;          /* 2 (N - 1): the process of each request */
static int *cnt3;          /* 3 N: counts and offsets of gather_all, and of mean_floats' phases */
static int *maxes;         /* N: cli_dist_max's values */

/* the watch: a stop signal's arrival, and what to say if the others then stop answering */
static volatile sig_atomic_t signalled;
static struct timespec signal_time;
static double dist_grace = 0.3;
static long long watch_step;
static const char *watch_ckpt, *watch_dir;

/* How long after a stop signal a process may still wait for the others before it reports them:
 * under a time the launcher gives between SIGTERM and SIGKILL. OpenMPI's mpirun gives 1 s
 * (its odls_base_sigkill_timeout, which mpirun hands on as OMPI_MCA_odls_base_sigkill_timeout
 * when set); Slurm gives its KillWait, 30 s by default. */
static double grace_seconds(void)
{
    const char *t = getenv("OMPI_MCA_odls_base_sigkill_timeout");
    if (t && atof(t) > 0.0) return atof(t) * 0.3;
    if (getenv("OMPI_COMM_WORLD_SIZE")) return 0.3;
    return 10.0;
}

int cli_dist_init(char *err, size_t err_len)
{
    /* Only under a launcher: without one MPI_Init would start a singleton runtime for nothing.
     * Whether one started this process is not cli_dist_launched_size() > 1: mpirun -np 1 runs
     * under MPI as well, and a PMIx launcher may pass a rank alone (PMIX_RANK; OpenMPI issue
     * 9167 found no size variable beside it), where the size reads as 1. */
    if (!env_first(rank_names) && !env_first(size_names)) return 0;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        snprintf(err, err_len, "train: MPI_Init failed");
        return -1;
    }
    dist_on = 1;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_rank(comm, &dist_rank);
    MPI_Comm_size(comm, &dist_size);
    dist_grace = grace_seconds();
    const size_t n = (size_t)dist_size;
    counts = malloc(sizeof(int) * n);
    offs = malloc(sizeof(int) * n);
    reqs = malloc(sizeof(MPI_Request) * 2 * n);
    done_idx = malloc(sizeof(int) * 2 * n);
    arrived = malloc(sizeof(int) * n);
    peer = malloc(sizeof(int) * 2 * n);
    cnt3 = malloc(sizeof(int) * 3 * n);
    maxes = malloc(sizeof(int) * n);
    if (!counts || !offs || !reqs || !done_idx || !arrived || !peer || !cnt3 || !maxes) {
        snprintf(err, err_len, "train: out of memory");
        return -1;
    }
    return 0;
}

void cli_dist_finalize(void)
{
    if (!dist_on) return;
    free(part);
    free(counts);
    free(offs);
    free(reqs);
    free(done_idx);
    free(arrived);
    free(peer);
    free(cnt3);
    free(maxes);
    part = NULL;
    counts = offs = arrived = done_idx = peer = cnt3 = maxes = NULL;
    reqs = NULL;
    MPI_Comm_free(&comm);
    MPI_Finalize();
    dist_on = 0;
}

int cli_dist_rank(void) { return dist_rank; }
int cli_dist_size(void) { return dist_size; }

void cli_dist_signalled(void)
{
    if (signalled) return;
    clock_gettime(CLOCK_MONOTONIC, &signal_time); /* (async-signal-safe) */
    signalled = 1;
}

void cli_dist_set_progress(long long step, const char *checkpoint, const char *dir)
{
    watch_step = step;
    watch_ckpt = checkpoint;
    watch_dir = dir;
}

static double seconds_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + 1e-9 * (double)(now.tv_nsec - t->tv_nsec);
}

/* The others stopped answering after a stop signal. Process 0 says so, in one line naming the
 * processes whose messages of this exchange have not come (or, when all have, those that do
 * not take this one's: a process that died takes none), and the last checkpoint; process 1
 * instead when process 0 is among those it waits for (process 0 may be the one that died).
 * Every process leaves at once. */
static void report_silent(const int *from, const MPI_Request *r, int n, int recvs)
{
    if (dist_rank == 0 || (dist_rank == 1 && !arrived[0])) {
        int missing = 0;
        for (int q = 0; q < dist_size; q++) missing += !arrived[q];
        char who[256] = "";
        size_t at = 0;
        for (int i = 0, k = 0; i < n && at < sizeof who - 16; i++) {
            /* (completed requests are MPI_REQUEST_NULL) */
            const int recv = i < recvs;
            if (r[i] == MPI_REQUEST_NULL || (missing ? !recv : recv)) continue;
            at += (size_t)snprintf(who + at, sizeof who - at, "%s%d", k++ ? ", " : "", from[i]);
        }
        char ck[1300];
        if (watch_ckpt && watch_ckpt[0])
            snprintf(ck, sizeof ck, "the last checkpoint is %s; continue with: ganc train --resume %s", watch_ckpt,
                     watch_dir ? watch_dir : "DIR");
        else snprintf(ck, sizeof ck, "no checkpoint was written yet");
        fprintf(stderr,
                "ganc: train: stopped at step %lld, waiting for process %s of %d (ended, or still in its step when the "
                "launcher's kill came); %s\n",
                watch_step, who, dist_size, ck);
        fflush(stderr);
    }
    _exit(1);
}

/* Waits for the current exchange's n requests (the first `recvs` of them receives; request i
 * with process from[i]), watching for a stop signal that the others do not follow. */
static void wait_all(int n, int recvs, const int *from)
{
    for (int r = 0; r < dist_size; r++) arrived[r] = r == dist_rank;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int left = n;
    int *idx = done_idx, got;
    while (left > 0) {
        /* (MPI_Testsome reports the requests completed since the last call, any number) */
        MPI_Testsome(n, reqs, &got, idx, MPI_STATUSES_IGNORE);
        if (got == MPI_UNDEFINED) break;
        for (int i = 0; i < got; i++)
            if (idx[i] < recvs) arrived[from[idx[i]]] = 1;
        left -= got;
        if (left > 0) {
            /* (a process that comes to an exchange late after the signal gives the others a
             * moment to answer: their messages may still be on the way) */
            if (signalled && seconds_since(&signal_time) > dist_grace && seconds_since(&start) > dist_grace / 4)
                report_silent(from, reqs, n, recvs);
            sched_yield(); /* (processes may share cores: let the one computing run) */
        }
    }
}

/* Every process sends the `send_count` values at send[r] to each process r (send_count[r]
 * values at send + send_off[r]) and receives recv_count values from each into recv +
 * recv_off[r]; its own part is copied. Types: MPI_FLOAT, MPI_DOUBLE, MPI_INT, 64-bit. */
static double exchange_seconds, exchange_bytes; /* cli_dist_exchange_totals */

static void exchange(const void *send, const int *send_count, const int *send_off, void *recv, const int *recv_count,
                     const int *recv_off, MPI_Datatype type, size_t size)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int *const from = peer;
    int n = 0;
    for (int r = 0; r < dist_size; r++)
        if (r != dist_rank) {
            from[n] = r;
            MPI_Irecv((char *)recv + size * (size_t)recv_off[r], recv_count[r], type, r, 0, comm, &reqs[n++]);
        }
    const int recvs = n;
    for (int r = 0; r < dist_size; r++)
        if (r != dist_rank) {
            from[n] = r;
            MPI_Isend((const char *)send + size * (size_t)send_off[r], send_count[r], type, r, 0, comm, &reqs[n++]);
        }
    if (send_count[dist_rank])
        memmove((char *)recv + size * (size_t)recv_off[dist_rank], (const char *)send + size * (size_t)send_off[dist_rank],
                size * (size_t)send_count[dist_rank]);
    wait_all(n, recvs, from);
    for (int r = 0; r < dist_size; r++)
        if (r != dist_rank) exchange_bytes += (double)size * send_count[r];
    exchange_seconds += seconds_since(&t0);
}

void cli_dist_exchange_totals(double *seconds, double *bytes)
{
    *seconds = exchange_seconds;
    *bytes = exchange_bytes;
}

/* Each process's n values into all (n per process, in rank order). */
static void gather_all(const void *v, int n, void *all, MPI_Datatype type, size_t size)
{
    int *cnt = cnt3, *zero = cnt3 + dist_size, *at = cnt3 + 2 * dist_size;
    for (int r = 0; r < dist_size; r++) {
        cnt[r] = n;
        zero[r] = 0;
        at[r] = r * n;
    }
    exchange(v, cnt, zero, all, cnt, at, type, size);
}

void cli_dist_mean_floats(float *v, size_t n)
{
    if (dist_size == 1) return;
    const int N = dist_size;
    /* parts as equal as can be, the first n % N one longer (counts are ints: MPI's) */
    for (int r = 0, at = 0; r < N; r++) {
        counts[r] = (int)(n / (size_t)N + ((size_t)r < n % (size_t)N));
        offs[r] = at;
        at += counts[r];
    }
    const size_t mine = (size_t)counts[dist_rank];
    /* (part is kept from step to step: nothing is allocated per step once it fits) */
    if (part_cap < mine * (size_t)N) {
        free(part);
        part_cap = mine * (size_t)N;
        part = malloc(sizeof(float) * (part_cap ? part_cap : 1));
        if (!part) {
            fprintf(stderr, "ganc: train: out of memory for the gradient exchange\n");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
    int *rcount = cnt3, *roff = cnt3 + N;
    for (int r = 0; r < N; r++) {
        rcount[r] = (int)mine;
        roff[r] = r * (int)mine;
    }
    /* part r of every process to process r (a reduce-scatter) */
    exchange(v, counts, offs, part, rcount, roff, MPI_FLOAT, sizeof(float));
    float *out = v + offs[dist_rank];
    const double scale = 1.0 / N;
    for (size_t i = 0; i < mine; i++) {
        double s = 0.0;
        for (int r = 0; r < N; r++) s += part[(size_t)r * mine + i]; /* rank order, always */
        out[i] = (float)(s * scale);
    }
    /* each process's summed part to all (an all-gather) */
    for (int r = 0; r < N; r++) {
        rcount[r] = (int)mine;
        roff[r] = offs[dist_rank];
    }
    exchange(v, rcount, roff, v, counts, offs, MPI_FLOAT, sizeof(float));
}

void cli_dist_mean_doubles(double *v, int n)
{
    if (dist_size == 1) return;
    cli_dist_sum_doubles(v, n);
    for (int i = 0; i < n; i++) v[i] /= dist_size;
}

void cli_dist_sum_doubles(double *v, int n)
{
    if (dist_size == 1) return;
    double *all = malloc(sizeof(double) * (size_t)n * (size_t)dist_size);
    if (!all) {
        fprintf(stderr, "ganc: train: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    gather_all(v, n, all, MPI_DOUBLE, sizeof(double));
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int r = 0; r < dist_size; r++) s += all[(size_t)r * (size_t)n + (size_t)i];
        v[i] = s;
    }
    free(all);
}

void cli_dist_gather_floats(const float *mine, int n, float *all)
{
    if (dist_size == 1) {
        memcpy(all, mine, sizeof(float) * (size_t)n);
        return;
    }
    gather_all(mine, n, all, MPI_FLOAT, sizeof(float));
}

int cli_dist_first_other(const unsigned long long *h, int n, int *which)
{
    if (dist_size == 1) return -1;
    unsigned long long *all = malloc(sizeof(unsigned long long) * (size_t)n * (size_t)dist_size);
    if (!all) {
        fprintf(stderr, "ganc: train: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    gather_all(h, n, all, MPI_UNSIGNED_LONG_LONG, sizeof(unsigned long long));
    int rank = -1;
    for (int r = 1; r < dist_size && rank < 0; r++)
        for (int i = 0; i < n; i++)
            if (all[(size_t)r * (size_t)n + (size_t)i] != all[i]) {
                rank = r;
                *which = i;
                break;
            }
    free(all);
    return rank;
}

int cli_dist_max(int x)
{
    if (dist_size == 1) return x;
    int *all = maxes;
    gather_all(&x, 1, all, MPI_INT, sizeof(int));
    int m = x;
    for (int r = 0; r < dist_size; r++) m = all[r] > m ? all[r] : m;
    return m;
}

void cli_dist_abort(int status)
{
    if (dist_size > 1) MPI_Abort(MPI_COMM_WORLD, status);
    exit(status);
}

#else /* one process */

int cli_dist_init(char *err, size_t err_len)
{
    (void)err;
    (void)err_len;
    return 0;
}
void cli_dist_finalize(void) {}
int cli_dist_rank(void) { return 0; }
int cli_dist_size(void) { return 1; }
void cli_dist_mean_floats(float *v, size_t n)
{
    (void)v;
    (void)n;
}
void cli_dist_mean_doubles(double *v, int n)
{
    (void)v;
    (void)n;
}
void cli_dist_sum_doubles(double *v, int n)
{
    (void)v;
    (void)n;
}
int cli_dist_first_other(const unsigned long long *h, int n, int *which)
{
    (void)h;
    (void)n;
    (void)which;
    return -1;
}
int cli_dist_max(int x) { return x; }
void cli_dist_abort(int status) { exit(status); }
void cli_dist_gather_floats(const float *mine, int n, float *all) { memcpy(all, mine, sizeof(float) * (size_t)n); }
void cli_dist_signalled(void) {}
void cli_dist_exchange_totals(double *seconds, double *bytes)
{
    *seconds = 0.0;
    *bytes = 0.0;
}
void cli_dist_set_progress(long long step, const char *checkpoint, const char *dir)
{
    (void)step;
    (void)checkpoint;
    (void)dir;
}

#endif
