/* Threads. Results must not depend on how many threads run: the layers that split a batch over
 * threads (conv, deconv) ask OpenMP for one thread per part, but OpenMP may grant fewer
 * (OMP_DYNAMIC, OMP_THREAD_LIMIT, a region nested in another), and every part must still be
 * computed as it would have been (the reference: the same network run normally); mbstd's sum
 * must come out the same with 1, 2 or 3 threads (the reference: 1 thread). And the kernels'
 * per-thread scratch must be kept, handed on when a thread exits and freed by ganc_shutdown. */
#include "check.h"
#include "nets.h"
#include "ganc.h"
#include "ganc_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* What one forward and backward leave: the output, the input gradient, the parameter gradients. */
typedef struct {
    float *y, *dx, *grads;
} pass_out;

/* Convolutions (with bias, without, spectrally normalised) and transposed convolutions, so
 * every split loop and the per-thread gradient sums of both layers run. */
static const char *const NET_TEXT = "conv 6 k=3 stride=2 pad=same\n"
                                    "lrelu\n"
                                    "conv 5 k=3 pad=same bias=0 sn\n"
                                    "elu\n"
                                    "deconv 4 k=4 stride=2 pad=same\n"
                                    "deconv 2 k=3 pad=same sn\n";
static const ganc_shape NET_IN = {3, 10, 10};
enum { BATCH = 7 }; /* odd, so the parts are unequal */

static void run_pass(ganc_net *net, const float *x, const float *dy, pass_out *o)
{
    const size_t out = ganc_shape_size(ganc_net_output_shape(net)) * BATCH;
    ganc_net_zero_grad(net);
    memcpy(o->y, ganc_net_forward(net, x, BATCH), sizeof(float) * out);
    ganc_net_backward(net, dy, o->dx, 1);
    memcpy(o->grads, ganc_net_grads(net), sizeof(float) * ganc_net_param_count(net));
}

/* run_pass from inside a parallel region whose nested regions get one thread each (as a
 * library call from a user's own parallel loop would); *granted: the threads a nested region
 * asking for `slots` actually got. Without OpenMP a plain run_pass. */
static void run_pass_limited(ganc_net *net, const float *x, const float *dy, pass_out *o, int slots, int *granted)
{
#ifdef _OPENMP
    const int levels = omp_get_max_active_levels();
    omp_set_max_active_levels(1);
#pragma omp parallel num_threads(2)
    {
#pragma omp master
        {
#pragma omp parallel num_threads(slots)
            {
#pragma omp master
                *granted = omp_get_num_threads();
            }
            run_pass(net, x, dy, o);
        }
    }
    omp_set_max_active_levels(levels);
#else
    (void)slots;
    *granted = 1;
    run_pass(net, x, dy, o);
#endif
}

/* Two identical networks built for `slots` parts; both see a first batch normally (which leaves
 * every part's scratch and partial gradients dirty, and the outputs of that batch in place),
 * then a second batch: A normally, B with one thread. B must match A bit for bit. And A's
 * second batch must match a third identical network C's, for which the first batch was a
 * forward pass only (the same spectral-norm steps, no partial gradients left behind): each
 * part starts its partial gradients from zero on every batch, whatever the last one left. */
static void test_fewer_threads_than_parts(int slots)
{
    const int saved = ganc_threads();
    ganc_set_threads(slots);
    ganc_net *a = test_make_net("a", NET_IN, NET_TEXT, BATCH), *b = test_make_net("b", NET_IN, NET_TEXT, BATCH);
    ganc_net *c = test_make_net("c", NET_IN, NET_TEXT, BATCH);
    if (!a || !b || !c) goto done;
    ganc_rng rng;
    ganc_rng_seed(&rng, 77);
    ganc_net_init(a, GANC_INIT_TORCH, &rng);
    ganc_rng_seed(&rng, 77);
    ganc_net_init(b, GANC_INIT_TORCH, &rng);
    ganc_rng_seed(&rng, 77);
    ganc_net_init(c, GANC_INIT_TORCH, &rng);

    const size_t n_in = ganc_shape_size(NET_IN) * BATCH, n_out = ganc_shape_size(ganc_net_output_shape(a)) * BATCH;
    const size_t n_par = ganc_net_param_count(a);
    float *x1 = check_floats(n_in), *x2 = check_floats(n_in), *dy1 = check_floats(n_out), *dy2 = check_floats(n_out);
    ganc_rng_normal(&rng, x1, n_in, 0.0f, 1.0f);
    ganc_rng_normal(&rng, x2, n_in, 0.0f, 1.0f);
    ganc_rng_normal(&rng, dy1, n_out, 0.0f, 1.0f);
    ganc_rng_normal(&rng, dy2, n_out, 0.0f, 1.0f);
    pass_out ra = {check_floats(n_out), check_floats(n_in), check_floats(n_par)}, rb = {check_floats(n_out), check_floats(n_in), check_floats(n_par)};
    pass_out rc = {check_floats(n_out), check_floats(n_in), check_floats(n_par)};

    run_pass(a, x1, dy1, &ra);
    run_pass(b, x1, dy1, &rb);
    run_pass(a, x2, dy2, &ra);
    int granted = 0;
    run_pass_limited(b, x2, dy2, &rb, slots, &granted);
#ifdef _OPENMP
    CHECK(granted == 1, "%d parts: the limited region got %d threads, not 1 (the test would prove nothing)", slots,
          granted);
#endif
    CHECK(!memcmp(ra.y, rb.y, sizeof(float) * n_out), "%d parts run by %d thread(s): the output differs", slots, granted);
    CHECK(!memcmp(ra.dx, rb.dx, sizeof(float) * n_in), "%d parts run by %d thread(s): the input gradient differs", slots,
          granted);
    CHECK(!memcmp(ra.grads, rb.grads, sizeof(float) * n_par),
          "%d parts run by %d thread(s): the parameter gradients differ", slots, granted);
    ganc_net_forward(c, x1, BATCH);
    run_pass(c, x2, dy2, &rc);
    CHECK(!memcmp(ra.grads, rc.grads, sizeof(float) * n_par),
          "%d parts: the second batch's parameter gradients differ from those of a network with no backward before",
          slots);

    free(x1), free(x2), free(dy1), free(dy2);
    free(ra.y), free(ra.dx), free(ra.grads), free(rb.y), free(rb.dx), free(rb.grads);
    free(rc.y), free(rc.dx), free(rc.grads);
done:
    ganc_net_free(a);
    ganc_net_free(b);
    ganc_net_free(c);
    ganc_set_threads(saved);
}

/* The minibatch-stddev statistic is a mean over features of a sum that runs over threads. Its
 * output is a float and the sum a double, so an order that differs shows only near a float's
 * rounding midpoint; this batch puts it there. Samples are +a_f, -a_f, +a_f, -a_f, so feature
 * f's sd is exactly a_f (mean 0; the 1e-8 vanishes next to a_f^2 >= 2^28): 2^68, 2^44, then
 * 16382 features of 2^14. Added one by one after the first two, each 2^14 is a quarter of the
 * running sum's last place and is lost, and the mean (2^68 + 2^44) / 2^14 = 2^54 + 2^30 lies
 * exactly halfway between two floats (rounding to 2^54); summed apart first, the 2^14s add up
 * to enough to round it up to 2^54 + 2^31. So runs with 1, 2 and 3 threads agree only when the
 * sum's order does not depend on the threads. A batch of normal draws is checked as well. */
static void test_mbstd_thread_counts(void)
{
    enum { N = 4, C = 64, H = 16, W = 16, F = C * H * W }; /* F * N > 32768: the parallel path */
    const size_t out_n = (size_t)N * (F + H * W);
    ganc_net *net = test_make_net("mbstd", (ganc_shape){C, H, W}, "mbstd\n", N);
    if (!net) return;
    float *x = check_floats((size_t)N * F), *dy = check_floats(out_n), *y1 = check_floats(out_n), *dx1 = check_floats((size_t)N * F),
          *dx = check_floats((size_t)N * F);
    ganc_rng rng;
    ganc_rng_seed(&rng, 5);
    ganc_rng_normal(&rng, dy, out_n, 0.0f, 1.0f);
    const int saved = ganc_threads();
    for (int data = 0; data < 2; data++) {
        if (data == 0)
            for (int i = 0; i < N; i++)
                for (int f = 0; f < F; f++) {
                    const float a = f == 0 ? 0x1p68f : f == 1 ? 0x1p44f : 0x1p14f;
                    x[(size_t)i * F + f] = i % 2 ? -a : a;
                }
        else
            ganc_rng_normal(&rng, x, (size_t)N * F, 0.0f, 1.0f);
        const char *what = data == 0 ? "a sum on a rounding midpoint" : "normal draws";
        for (int threads = 1; threads <= 3; threads++) {
            ganc_set_threads(threads);
            const float *y = ganc_net_forward(net, x, N);
            ganc_net_backward(net, dy, threads == 1 ? dx1 : dx, 0);
            if (threads == 1) {
                memcpy(y1, y, sizeof(float) * out_n);
                continue;
            }
            CHECK(!memcmp(y, y1, sizeof(float) * out_n),
                  "mbstd on %s: the output with %d threads differs from 1 thread's (statistic %.9g, not %.9g)", what,
                  threads, y[F], y1[F]);
            CHECK(!memcmp(dx, dx1, sizeof(float) * (size_t)N * F),
                  "mbstd on %s: the input gradient with %d threads differs from 1 thread's", what, threads);
        }
    }
    ganc_set_threads(saved);
    free(x), free(dy), free(y1), free(dx1), free(dx);
    ganc_net_free(net);
}

/* ---- the kernels' per-thread scratch (the AVX-512 GEMM's packing buffers) ----------------- */

typedef struct {
    float *got;
    pthread_barrier_t *all_have_one; /* NULL: exit at once */
} scratch_job;

static void *take_scratch(void *arg)
{
    scratch_job *j = arg;
    j->got = ganc_kernel_scratch();
    if (j->got) j->got[GANC_KERNEL_SCRATCH_FLOATS - 1] = 1.0f; /* the whole block is there (ASan) */
    if (j->all_have_one) pthread_barrier_wait(j->all_have_one);
    return NULL;
}

/* A thread keeps its block between calls; a thread that exits hands its block to the next one
 * (threads that come and go do not pile blocks up); ganc_shutdown frees every block, and a call
 * after it gets a new one. The count of blocks is the reference. The sanitizer build's leak
 * check sees whether ganc_shutdown really freed them. */
static void test_kernel_scratch(void)
{
    ganc_shutdown();
    CHECK(ganc_kernel_scratch_blocks() == 0, "%zu scratch blocks after ganc_shutdown", ganc_kernel_scratch_blocks());
    float *mine = ganc_kernel_scratch();
    CHECK(mine && (uintptr_t)mine % 64 == 0 && ganc_kernel_scratch() == mine && ganc_kernel_scratch_blocks() == 1,
          "the main thread's scratch is missing, unaligned, not kept or not counted once");

    scratch_job one[4] = {{0}};
    for (int i = 0; i < 4; i++) {
        pthread_t t;
        if (!CHECK(pthread_create(&t, NULL, take_scratch, &one[i]) == 0, "starting a thread")) return;
        pthread_join(t, NULL);
    }
    CHECK(one[0].got && one[0].got != mine && one[1].got == one[0].got && one[3].got == one[0].got &&
              ganc_kernel_scratch_blocks() == 2,
          "4 threads one after another: %zu blocks (want 2: each exited thread's block goes to the next)",
          ganc_kernel_scratch_blocks());

    enum { AT_ONCE = 3 };
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, AT_ONCE);
    scratch_job many[AT_ONCE];
    pthread_t t[AT_ONCE];
    for (int i = 0; i < AT_ONCE; i++) {
        many[i] = (scratch_job){NULL, &barrier};
        if (!CHECK(pthread_create(&t[i], NULL, take_scratch, &many[i]) == 0, "starting a thread")) return;
    }
    for (int i = 0; i < AT_ONCE; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    int distinct = 1;
    for (int i = 0; i < AT_ONCE; i++)
        for (int k = 0; k < i; k++) distinct &= many[i].got && many[i].got != many[k].got && many[i].got != mine;
    CHECK(distinct && ganc_kernel_scratch_blocks() == 1 + AT_ONCE,
          "%d threads at once: %zu blocks (want %d: the spare one reused, one each, none shared)", AT_ONCE,
          ganc_kernel_scratch_blocks(), 1 + AT_ONCE);

    ganc_shutdown();
    CHECK(ganc_kernel_scratch_blocks() == 0, "%zu scratch blocks left after ganc_shutdown",
          ganc_kernel_scratch_blocks());
    mine = ganc_kernel_scratch();
    CHECK(mine && ganc_kernel_scratch_blocks() == 1, "no new scratch after ganc_shutdown");
    ganc_shutdown();
}

/* Model lines parsed by several threads at once (the library opens generators, and so parses
 * their model text, in whichever thread asks) give what one thread's parse gives: a parser with
 * hidden shared state (strtok) mixes the threads' words up. The reference: each line parsed
 * alone before the threads start. */
enum { PARSERS = 4, PARSE_ROUNDS = 3000 };
static const char *const parse_lines[] = {"conv 64 k=5 stride=2 pad=same bias=0", "deconv 3 k=4 stride=2 pad=1 outpad=1",
                                          "batchnorm eps=1e-3 momentum=0.2 classes=7", "reshape 3 8 8",
                                          "maxout 12 pieces=3 bias=0", "embed 16 classes=10", "dense 1 sn"};
#define N_PARSE_LINES ((int)(sizeof parse_lines / sizeof parse_lines[0]))
static ganc_layer_spec parse_want[N_PARSE_LINES];
static pthread_barrier_t parse_start;

static void *parse_many(void *arg)
{
    const int id = (int)(intptr_t)arg;
    long wrong = 0;
    pthread_barrier_wait(&parse_start);
    for (int r = 0; r < PARSE_ROUNDS; r++) {
        const int k = (r + id) % N_PARSE_LINES;
        ganc_layer_spec sp;
        char err[GANC_ERR_LEN];
        wrong += ganc_layer_spec_parse(parse_lines[k], &sp, err) != 0 || memcmp(&sp, &parse_want[k], sizeof sp) != 0;
    }
    return (void *)(intptr_t)wrong;
}

static void test_parse_in_threads(void)
{
    char err[GANC_ERR_LEN];
    for (int k = 0; k < N_PARSE_LINES; k++) {
        memset(&parse_want[k], 0, sizeof parse_want[k]);
        if (!CHECK(ganc_layer_spec_parse(parse_lines[k], &parse_want[k], err) == 0, "%s: %s", parse_lines[k], err)) return;
    }
    pthread_t t[PARSERS];
    pthread_barrier_init(&parse_start, NULL, PARSERS);
    for (int i = 0; i < PARSERS; i++) pthread_create(&t[i], NULL, parse_many, (void *)(intptr_t)i);
    long wrong = 0;
    for (int i = 0; i < PARSERS; i++) {
        void *w;
        pthread_join(t[i], &w);
        wrong += (long)(intptr_t)w;
    }
    pthread_barrier_destroy(&parse_start);
    CHECK(wrong == 0, "%ld of %d layer lines parsed by %d threads at once came out otherwise than alone", wrong,
          PARSERS * PARSE_ROUNDS, PARSERS);
}

int main(void)
{
    test_parse_in_threads();
    test_fewer_threads_than_parts(2);
    test_fewer_threads_than_parts(3);
    test_mbstd_thread_counts();
    test_kernel_scratch();
    return check_finish("threads");
}
