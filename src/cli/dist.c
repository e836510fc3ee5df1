/* See dist.h. Deterministic sums: MPI_Allreduce's order of additions is the library's choice
 * (by algorithm, message size and process layout), so the gradients are reduced here instead:
 * v is cut into N parts, process r receives part r of every process (MPI_Alltoallv), adds them
 * in rank order and sends the result to all (MPI_Allgatherv). The same bytes travel as in a
 * ring all-reduce (2 (N-1)/N of v per process), and every float of the result is one fixed
 * sum, so two runs with the same N give identical files. */
#include "cli/dist.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef GANC_HAVE_MPI
#include <mpi.h>

static int dist_rank, dist_size = 1, dist_on;
static float *part;      /* N received copies of this process's part */
static size_t part_cap;
static int *counts, *offs; /* each part's length and start, in floats */
static int *rcounts, *roffs; /* what arrives: N blocks of this process's part, block r from rank r */

/* Whether a launcher started this process: OpenMPI's mpirun, PMIx (srun, OpenMPI 5) or PMI
 * (MPICH, older Slurm). Without one MPI_Init would start a singleton runtime for nothing. */
static int launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK") || getenv("PMI_SIZE");
}

int cli_dist_init(char *err, size_t err_len)
{
    if (!launched()) return 0;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        snprintf(err, err_len, "train: MPI_Init failed");
        return -1;
    }
    dist_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &dist_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &dist_size);
    counts = malloc(sizeof(int) * (size_t)dist_size);
    offs = malloc(sizeof(int) * (size_t)dist_size);
    rcounts = malloc(sizeof(int) * (size_t)dist_size);
    roffs = malloc(sizeof(int) * (size_t)dist_size);
    if (!counts || !offs || !rcounts || !roffs) {
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
    free(rcounts);
    free(roffs);
    part = NULL;
    counts = offs = rcounts = roffs = NULL;
    MPI_Finalize();
    dist_on = 0;
}

int cli_dist_rank(void) { return dist_rank; }
int cli_dist_size(void) { return dist_size; }

void cli_dist_mean_floats(float *v, size_t n)
{
    if (dist_size == 1) return;
    const int N = dist_size;
    /* (part is kept from step to step: nothing is allocated per step once it fits) */
    /* parts as equal as can be, the first n % N one longer (counts are ints: MPI's) */
    for (int r = 0, at = 0; r < N; r++) {
        counts[r] = (int)(n / (size_t)N + ((size_t)r < n % (size_t)N));
        offs[r] = at;
        at += counts[r];
    }
    const size_t mine = (size_t)counts[dist_rank];
    if (part_cap < mine * (size_t)N) {
        free(part);
        part_cap = mine * (size_t)N;
        part = malloc(sizeof(float) * (part_cap ? part_cap : 1));
        if (!part) {
            fprintf(stderr, "ganc: train: out of memory for the gradient exchange\n");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
    for (int r = 0; r < N; r++) {
        rcounts[r] = (int)mine;
        roffs[r] = r * (int)mine;
    }
    MPI_Alltoallv(v, counts, offs, MPI_FLOAT, part, rcounts, roffs, MPI_FLOAT, MPI_COMM_WORLD);
    float *out = v + offs[dist_rank];
    const double scale = 1.0 / N;
    for (size_t i = 0; i < mine; i++) {
        double s = 0.0;
        for (int r = 0; r < N; r++) s += part[(size_t)r * mine + i]; /* rank order, always */
        out[i] = (float)(s * scale);
    }
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, v, counts, offs, MPI_FLOAT, MPI_COMM_WORLD);
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
    MPI_Allgather(v, n, MPI_DOUBLE, all, n, MPI_DOUBLE, MPI_COMM_WORLD);
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int r = 0; r < dist_size; r++) s += all[(size_t)r * (size_t)n + (size_t)i];
        v[i] = s;
    }
    free(all);
}

int cli_dist_first_other(const unsigned long long *h, int n, int *which)
{
    if (dist_size == 1) return -1;
    unsigned long long *all = malloc(sizeof(unsigned long long) * (size_t)n * (size_t)dist_size);
    if (!all) {
        fprintf(stderr, "ganc: train: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Allgather(h, n, MPI_UNSIGNED_LONG_LONG, all, n, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
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
    int m = x;
    MPI_Allreduce(&x, &m, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD); /* (an int maximum has no order to fix) */
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

#endif
