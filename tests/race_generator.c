/* The inference API's promise for threads: separate handles may be opened and drawn from by
 * separate threads at once. Built and run by `make tsan` under ThreadSanitizer, which fails the
 * run on any report: state shared by the handles without synchronisation (the reader's tables,
 * a buffer kept between calls, the kernels' per-thread scratch) is reported whatever the timing.
 * THREADS plain pthreads (OpenMP is off in that build) start together, each opening its own
 * handle on one exported generator and drawing ROUNDS grids of its own seeds; every draw is then
 * compared with the same draw made afterwards by one thread alone. */
#include "check.h"
#include "gan/export.h"
#include "ganc_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 4, ROUNDS = 3, N = 10 };

static const char *const MODEL = "[generator]\n"
                                 "dense 16 bias=0\n"
                                 "batchnorm\n"
                                 "relu\n"
                                 "dense $pixels\n"
                                 "tanh\n"
                                 "reshape $c $h $w\n"
                                 "[discriminator]\n"
                                 "flatten\n"
                                 "dense 1\n";
static const ganc_shape SHAPE = {3, 4, 4};
static char path[512];
static pthread_barrier_t start;

typedef struct {
    int t, ok;
    float out[ROUNDS][N * 48];
} job;

static void *draw(void *arg)
{
    job *j = arg;
    pthread_barrier_wait(&start);
    char err[GANC_ERR_LEN];
    ganc_generator *gen = ganc_generator_open(path, N, err);
    j->ok = gen != NULL;
    for (int r = 0; gen && r < ROUNDS; r++) {
        ganc_sample_opts o = ganc_generator_defaults(gen);
        o.seed = (uint64_t)(10 * j->t + r);
        j->ok &= ganc_generator_sample(gen, &o, N, j->out[r], sizeof j->out[r] / sizeof(float), NULL, err) == 0;
    }
    ganc_generator_close(gen);
    return NULL;
}

int main(void)
{
    char err[GANC_ERR_LEN];
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    cfg.z_dim = 6;
    cfg.batch = 4;
    cfg.ema = 0.5f;
    ganc_model m;
    ganc_session s;
    snprintf(path, sizeof path, "%s/gen.safetensors", check_tmpdir());
    if (!CHECK(ganc_model_from_text(MODEL, "race.gan", &m, err) == 0, "model: %s", err)) return check_finish("race_generator");
    const int made = ganc_session_create(&s, &cfg, &m, SHAPE, err);
    ganc_model_free(&m);
    if (!CHECK(made == 0, "session: %s", err)) return check_finish("race_generator");
    CHECK(ganc_export_save(path, &s, err) == 0, "export: %s", err);
    ganc_session_free(&s);

    static job together[THREADS], alone[THREADS];
    pthread_t tid[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (int t = 0; t < THREADS; t++) {
        together[t].t = alone[t].t = t;
        if (pthread_create(&tid[t], NULL, draw, &together[t]) != 0) {
            fprintf(stderr, "race_generator: cannot start thread %d\n", t);
            exit(2);
        }
    }
    for (int t = 0; t < THREADS; t++) pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&start);
    pthread_barrier_init(&start, NULL, 1);
    for (int t = 0; t < THREADS; t++) {
        draw(&alone[t]);
        CHECK(together[t].ok && alone[t].ok && !memcmp(together[t].out, alone[t].out, sizeof together[t].out),
              "thread %d: its draws among the others differ from the same draws alone", t);
    }
    pthread_barrier_destroy(&start);
    ganc_shutdown();
    return check_finish("race_generator");
}
