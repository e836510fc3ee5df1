/* Several threads drawing from one trained generator at once, each with a handle of its own (a
 * handle serves one thread at a time; separate handles share nothing that a draw changes):
 * thread t writes PREFIX-SEED.png, the grid of `ganc sample RUN --seed SEED -n N`, for the
 * seeds t, t + THREADS, t + 2 THREADS, ... below SEEDS.
 *   usage: generate_threads GEN.safetensors PREFIX [THREADS [SEEDS [N]]]
 *   build: cc -pthread generate_threads.c $(pkg-config --cflags --libs ganc) -o generate_threads */
#include <ganc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const char *gen_path, *prefix;
    int first, step, seeds, n;
    int failed;
    char err[GANC_ERR_LEN];
} job;

static void *work(void *arg)
{
    job *j = arg;
    ganc_generator *gen = ganc_generator_open(j->gen_path, j->n, j->err);
    if (!gen) return j->failed = 1, NULL;
    const ganc_shape shape = ganc_generator_shape(gen);
    const size_t floats = (size_t)j->n * ganc_shape_size(shape);
    float lo, hi, *x = malloc(sizeof(float) * floats);
    ganc_generator_range(gen, &lo, &hi);
    ganc_sample_opts opts = ganc_generator_defaults(gen);
    for (int seed = j->first; seed < j->seeds && !j->failed; seed += j->step) {
        char path[4096];
        snprintf(path, sizeof path, "%s-%d.png", j->prefix, seed);
        opts.seed = (uint64_t)seed;
        j->failed = !x || ganc_generator_sample(gen, &opts, j->n, x, floats, NULL, j->err) ||
                    ganc_png_grid(path, x, j->n, shape, lo, hi, 0, j->err);
    }
    free(x);
    ganc_generator_close(gen);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) return fprintf(stderr, "usage: %s GEN.safetensors PREFIX [THREADS [SEEDS [N]]]\n", argv[0]), 2;
    const int threads = argc > 3 ? atoi(argv[3]) : 4, seeds = argc > 4 ? atoi(argv[4]) : 8, n = argc > 5 ? atoi(argv[5]) : 16;
    if (threads < 1 || threads > 64 || n < 1) return fprintf(stderr, "THREADS must be 1..64 and N at least 1\n"), 2;
    ganc_set_threads(1); /* the threads are the parallelism: one core each, none oversubscribed */
    pthread_t tid[64];
    job jobs[64];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){argv[1], argv[2], t, threads, seeds, n, 0, ""};
        if (pthread_create(&tid[t], NULL, work, &jobs[t])) return fprintf(stderr, "cannot start a thread\n"), 1;
    }
    int rc = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        if (jobs[t].failed) rc = fprintf(stderr, "thread %d: %s\n", t, jobs[t].err) > 0;
    }
    ganc_shutdown();
    return rc;
}
