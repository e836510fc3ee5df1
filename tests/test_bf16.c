/* bf16 arithmetic (kernels/bf16.c, the layers' bf16 passes) against references written apart
 * from it.
 *
 * Rounding: ganc_bf16_round1 against (1) a reference written from the definition in another
 * form (the two bfloat16 neighbours, then the half-way rule), on every upper half-word with
 * the lower half-words at and around the half-way point; (2) PyTorch's conversion, from
 * tests/fixtures/bf16_round.txt (edges and 4000 random patterns); (3) named cases: ties to
 * even both ways, subnormals, the overflow to infinity, infinities, NaNs (which stay NaNs:
 * truncating a NaN whose payload is in the low bits would make it an infinity).
 *
 * The bf16 GEMM, on every path this CPU has (the emulation always): every transpose, odd and
 * block-crossing sizes (K across GANC_BF16_KC, M across MC, N across NC), padded leading
 * dimensions, alpha and beta (beta = 0 ignores NaN in C), against a double-precision sum of the
 * *rounded* inputs. Bound: the error of K products summed in fp32 in any order, gamma_K *
 * sum |a_p b_p| with gamma_K = K u / (1 - K u), u = 2^-24, times |alpha|, plus one rounding of
 * each of alpha * s, beta * c and their sum. The products themselves are exact. The test also
 * checks that it can tell: the fp32 GEMM of the unrounded inputs breaks that bound. Then the
 * threaded entry gives the same bits as the serial one.
 *
 * Layers (conv, deconv, dense, maxout, and the paths where conv and deconv run as dense
 * products): a bf16 network's output, input gradient and weight gradient against the fp32
 * network fed the rounded weights, input and output gradient (the same products: within 3e-5 of
 * the largest value, fp32 summation order), its bias gradient against fp32's (fp32 sums of the
 * unrounded gradient), and all of them within 1e-2 of the plain fp32 network (the stated
 * tolerance of bf16 against fp32: inputs carry 8 significant bits, about 2e-3 relative error
 * each). The convolutions also on maps of several chunks with two threads, whose bf16 output
 * must be the same bits as with one. Two networks of different precision in two threads at once
 * give the bits each gives alone (precision is the network's, not the process's). */
#include "bf16_ref.h"
#include "check.h"
#include "ganc.h"
#include "ganc_internal.h"
#include "nets.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- rounding ---- */

/* The definition: of the two bfloat16 values around x (its upper half-word, and the next one
 * away from zero, which past the largest finite value is the infinity), the nearer; at the
 * half-way point, the one whose last bit is 0. Returns the 32-bit pattern. NaN: not asked. */
static uint32_t ref_round(uint32_t u)
{
    const uint32_t below = u & 0xffff0000u, above = below + 0x10000u, low = u & 0xffffu;
    if (low < 0x8000u) return below;
    if (low > 0x8000u) return above;
    return (below & 0x10000u) ? above : below;
}

static int same_rounding(uint32_t in, uint32_t got)
{
    const float x = float_of(in), y = float_of(got);
    if (isnan(x)) return isnan(y) && (got & 0xffffu) == 0 && (got >> 31) == (in >> 31);
    return got == ref_round(in);
}

static void test_round_sweep(void)
{
    static const uint32_t lows[] = {0x0000, 0x0001, 0x7ffe, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x1234, 0xc001};
    long bad = 0, n = 0;
    uint32_t first_bad = 0;
    for (uint32_t hi = 0; hi <= 0xffffu; hi++)
        for (size_t l = 0; l < sizeof lows / sizeof lows[0]; l++) {
            const uint32_t in = hi << 16 | lows[l];
            const uint32_t got = bits_of(ganc_bf16_round1(float_of(in)));
            n++;
            if (!same_rounding(in, got) && bad++ == 0) first_bad = in;
        }
    CHECK(bad == 0, "round: %ld of %ld patterns differ from the definition (first %08x -> %08x, want %08x)", bad, n,
          first_bad, bits_of(ganc_bf16_round1(float_of(first_bad))), ref_round(first_bad));
    /* the array form, in place, gives the same as the scalar one */
    float v[4096], w[4096];
    ganc_rng r;
    ganc_rng_seed(&r, 5);
    ganc_rng_uniform(&r, v, 4096, -3.0f, 3.0f);
    for (int i = 0; i < 4096; i++) w[i] = ganc_bf16_round1(v[i]);
    ganc_bf16_round(v, v, 4096);
    CHECK(memcmp(v, w, sizeof v) == 0, "ganc_bf16_round in place differs from ganc_bf16_round1");
}

static void test_round_torch(void)
{
    FILE *f = fopen("tests/fixtures/bf16_round.txt", "r");
    if (!CHECK(f != NULL, "tests/fixtures/bf16_round.txt: cannot open (run from the repository root)")) return;
    unsigned in, out;
    int n = 0, bad = 0;
    while (fscanf(f, "%x %x", &in, &out) == 2) {
        const uint32_t got = bits_of(ganc_bf16_round1(float_of(in)));
        const int ok = isnan(float_of(in)) ? isnan(float_of(got)) && isnan(float_of(out << 16)) : got == out << 16;
        n++;
        if (!ok && bad++ < 5) CHECK(0, "round: %08x -> %08x, PyTorch %04x", in, got, out);
    }
    fclose(f);
    CHECK(n >= 4000 && bad == 0, "round: %d of %d PyTorch values differ", bad, n);
}

static void test_round_cases(void)
{
    static const struct {
        uint32_t in, want;
        const char *what;
    } cases[] = {
        {0x3f808000u, 0x3f800000u, "1 + 2^-8, a tie: to 1 (even)"},
        {0x3f818000u, 0x3f820000u, "1 + 3 * 2^-8, a tie: up (even)"},
        {0x3f808001u, 0x3f810000u, "just above a tie: up"},
        {0x3f807fffu, 0x3f800000u, "just below a tie: down"},
        {0xbf818000u, 0xbf820000u, "negative tie: away from zero to even"},
        {0x3f7fffffu, 0x3f800000u, "carry into the exponent"},
        {0x00000001u, 0x00000000u, "smallest subnormal: to +0"},
        {0x00008000u, 0x00000000u, "subnormal tie: to 0 (even)"},
        {0x00018000u, 0x00020000u, "subnormal tie: up (even)"},
        {0x007fffffu, 0x00800000u, "largest subnormal: to the smallest normal"},
        {0x80000000u, 0x80000000u, "-0 stays"},
        {0x7f7f7fffu, 0x7f7f0000u, "below the tie at the top: the largest bfloat16"},
        {0x7f7f8000u, 0x7f800000u, "the tie at the top: infinity"},
        {0x7f7fffffu, 0x7f800000u, "FLT_MAX: infinity"},
        {0xff7fffffu, 0xff800000u, "-FLT_MAX: -infinity"},
        {0x7f800000u, 0x7f800000u, "infinity stays"},
        {0xff800000u, 0xff800000u, "-infinity stays"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint32_t got = bits_of(ganc_bf16_round1(float_of(cases[i].in)));
        CHECK(got == cases[i].want, "round %s: %08x -> %08x, want %08x", cases[i].what, cases[i].in, got, cases[i].want);
    }
    static const uint32_t nans[] = {0x7f800001u, 0xff800001u, 0x7fc00000u, 0x7fffffffu, 0xffc0ffffu, 0x7f80ffffu};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        const uint32_t got = bits_of(ganc_bf16_round1(float_of(nans[i])));
        CHECK(isnan(float_of(got)) && (got & 0xffffu) == 0 && got >> 31 == nans[i] >> 31,
              "round: NaN %08x -> %08x, not a NaN of the same sign with a clear low half", nans[i], got);
    }
}

/* ---- the GEMM ---- */

static ganc_rng rng;

typedef void gemm_entry(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

/* One product through fn; returns the largest error as a fraction of its bound (> 1: broken). */
static double gemm_case(gemm_entry *fn, int ta, int tb, int m, int n, int k, float alpha, float beta, int pad,
                        float *c_out)
{
    bf16_case t;
    bf16_case_make(&t, &rng, ta, tb, m, n, k, alpha, beta, pad);
    fn(ta, tb, m, n, k, alpha, t.a, t.lda, t.b, t.ldb, beta, t.c, t.ldc);
    const double worst = bf16_case_error(&t);
    if (c_out) memcpy(c_out, t.c, sizeof(float) * (size_t)m * t.ldc);
    bf16_case_free(&t);
    return worst;
}

static const struct {
    int m, n, k, pad;
} shapes[] = {
    {1, 1, 1, 0},   {3, 5, 7, 1},    {17, 33, 300, 0}, /* K across GANC_BF16_KC */
    {37, 2100, 5, 2},                                  /* N across GANC_BF16_NC */
    {1030, 3, 9, 0},                                   /* M across GANC_BF16_MC */
    {64, 200, 520, 3}, {8, 48, 256, 0}, {9, 17, 513, 0},
};

static void test_gemm_path(ganc_bf16_path path)
{
    if (ganc_bf16_use(path)) return;
    const char *name = ganc_bf16_path_name(path);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++) {
            const int ta = t & 1, tb = t >> 1, m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
            const float alpha = s % 2 ? 0.75f : 1.0f, beta = s % 3 == 1 ? -1.5f : s % 3 == 2 ? 1.0f : 0.0f;
            const double e = gemm_case(ganc_sgemm_bf16_serial, ta, tb, m, n, k, alpha, beta, shapes[s].pad, NULL);
            CHECK(e <= 1.0, "bf16 gemm (%s) %s%s m %d n %d k %d alpha %g beta %g: error %.3g of the bound", name,
                  ta ? "T" : "N", tb ? "T" : "N", m, n, k, alpha, beta, e);
        }
}

/* The fp32 GEMM of the same (unrounded) inputs must break the bound: the test tells bf16 from
 * fp32. */
static void test_gemm_tells(void)
{
    const double e = gemm_case(ganc_sgemm_serial, 0, 0, 8, 9, 40, 1.0f, 0.0f, 0, NULL);
    CHECK(e > 10.0, "the fp32 GEMM of unrounded inputs meets the bf16 bound (%.3g of it): the check cannot tell", e);
}

/* ganc_sgemm_bf16 (split over threads) gives the serial product's bits. */
static void test_gemm_threads(void)
{
    ganc_set_threads(2);
    static const int sizes[][3] = {{64, 900, 300}, {700, 40, 260}, {33, 4100, 7}};
    for (int s = 0; s < 3; s++)
        for (int t = 0; t < 4; t++) {
            const int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2], ta = t & 1, tb = t >> 1;
            float *c1 = check_floats((size_t)m * n), *c2 = check_floats((size_t)m * n);
            ganc_rng_seed(&rng, 77);
            gemm_case(ganc_sgemm_bf16_serial, ta, tb, m, n, k, 1.0f, 0.0f, 0, c1);
            ganc_rng_seed(&rng, 77);
            const double e = gemm_case(ganc_sgemm_bf16, ta, tb, m, n, k, 1.0f, 0.0f, 0, c2);
            CHECK(e <= 1.0 && memcmp(c1, c2, sizeof(float) * (size_t)m * n) == 0,
                  "bf16 gemm over 2 threads, %d x %d x %d: not the serial product's bits (error %.3g of the bound)", m,
                  n, k, e);
            free(c1), free(c2);
        }
    ganc_set_threads(1);
}

/* ---- layers ---- */

typedef struct {
    const char *text;
    ganc_shape in;
    int n, threads;
} layer_case;

static const layer_case layer_cases[] = {
    {"dense 24", {40, 1, 1}, 5, 1},
    {"maxout 6 pieces=3", {30, 1, 1}, 7, 1},
    {"conv 6 k=3 stride=2 pad=same", {3, 9, 9}, 4, 1},
    {"conv 5 k=4", {2, 4, 4}, 6, 1}, /* one output position: conv as a dense product */
    {"deconv 4 k=4 stride=2 pad=1", {3, 5, 5}, 3, 1},
    {"deconv 6 k=4", {8, 1, 1}, 5, 1}, /* from 1x1: deconv as a dense product */
    {"conv 16 k=5 stride=2 pad=same", {8, 28, 28}, 40, 2},  /* several chunks, two threads */
    {"deconv 8 k=4 stride=2 pad=1", {16, 14, 14}, 40, 2},
};

typedef struct {
    float *y, *dx, *grads;
} pass_out;

/* Forward and backward of net on x, dy; the results copied out. */
static pass_out run(ganc_net *net, const float *x, const float *dy, int n)
{
    const size_t out = (size_t)n * ganc_shape_size(ganc_net_output_shape(net));
    const size_t in = (size_t)n * ganc_shape_size(ganc_net_input_shape(net)), np = ganc_net_param_count(net);
    pass_out r = {check_floats(out), check_floats(in), check_floats(np)};
    memcpy(r.y, ganc_net_forward(net, x, n), sizeof(float) * out);
    ganc_net_zero_grad(net);
    ganc_net_backward(net, dy, r.dx, 1);
    memcpy(r.grads, ganc_net_grads(net), sizeof(float) * np);
    return r;
}

static void pass_free(pass_out *r) { free(r->y), free(r->dx), free(r->grads); }

/* Relative error of a view's gradient (kind: "weight" or "bias"). */
static void compare_grads(const char *what, const layer_case *lc, ganc_net *net, const float *got, const float *want,
                          const char *kind, double tol)
{
    for (int i = 0; i < ganc_net_view_count(net); i++) {
        const ganc_view *v = ganc_net_view(net, i);
        const size_t len = strlen(v->name), kl = strlen(kind);
        if (v->is_state || len < kl || strcmp(v->name + len - kl, kind)) continue;
        const double e = check_rel_err(got + v->offset, want + v->offset, v->count, 1e-3);
        CHECK(e <= tol, "%s: '%s' d%s: %.3g from %s (tolerance %g)", lc->text, v->name, kind, e, what, tol);
    }
}

static void test_layer(const layer_case *lc)
{
    ganc_set_threads(lc->threads);
    ganc_net *b = test_make_net("b", lc->in, lc->text, lc->n), *f = test_make_net("f", lc->in, lc->text, lc->n);
    if (!b || !f) {
        ganc_net_free(b), ganc_net_free(f);
        return;
    }
    ganc_rng init;
    ganc_rng_seed(&init, 11);
    ganc_net_init(b, GANC_INIT_TORCH, &init);
    ganc_rng_seed(&init, 11);
    ganc_net_init(f, GANC_INIT_TORCH, &init);
    ganc_net_set_precision(b, GANC_PRECISION_BF16);
    CHECK(ganc_net_precision(b) == GANC_PRECISION_BF16 && ganc_net_precision(f) == GANC_PRECISION_FP32,
          "%s: ganc_net_precision does not say what was set", lc->text);
    const int n = lc->n;
    const size_t in = (size_t)n * ganc_shape_size(lc->in), out = (size_t)n * ganc_shape_size(ganc_net_output_shape(b));
    float *x = check_floats(in), *dy = check_floats(out), *xr = check_floats(in), *dyr = check_floats(out);
    ganc_rng_uniform(&rng, x, in, -1.0f, 1.0f);
    ganc_rng_uniform(&rng, dy, out, -1.0f, 1.0f);
    ganc_bf16_round(x, xr, in);
    ganc_bf16_round(dy, dyr, out);

    pass_out got = run(b, x, dy, n);
    pass_out plain = run(f, x, dy, n); /* fp32 throughout */
    /* the fp32 network fed what the bf16 products see: weights, input and gradient rounded */
    float *params = ganc_net_params(f);
    for (int i = 0; i < ganc_net_view_count(f); i++) {
        const ganc_view *v = ganc_net_view(f, i);
        const size_t len = strlen(v->name);
        if (!v->is_state && len >= 6 && !strcmp(v->name + len - 6, "weight"))
            ganc_bf16_round(params + v->offset, params + v->offset, v->count);
    }
    pass_out rounded = run(f, xr, dyr, n);

    const double tight = 3e-5, loose = 1e-2;
    double e = check_rel_err(got.y, rounded.y, out, 1e-3);
    CHECK(e <= tight, "%s: bf16 output %.3g from fp32 of the rounded inputs", lc->text, e);
    e = check_rel_err(got.dx, rounded.dx, in, 1e-3);
    CHECK(e <= tight, "%s: bf16 input gradient %.3g from fp32 of the rounded inputs", lc->text, e);
    compare_grads("fp32 of the rounded inputs", lc, b, got.grads, rounded.grads, "weight", tight);
    compare_grads("fp32 (the bias sums the unrounded gradient)", lc, b, got.grads, plain.grads, "bias", 1e-6);
    e = check_rel_err(got.y, plain.y, out, 1e-3);
    CHECK(e <= loose, "%s: bf16 output %.3g from fp32 (tolerance %g)", lc->text, e, loose);
    CHECK(e > 1e-5, "%s: bf16 output only %.3g from fp32: were the inputs rounded?", lc->text, e);
    e = check_rel_err(got.dx, plain.dx, in, 1e-3);
    CHECK(e <= loose, "%s: bf16 input gradient %.3g from fp32 (tolerance %g)", lc->text, e, loose);
    compare_grads("fp32", lc, b, got.grads, plain.grads, "weight", loose);

    if (lc->threads > 1) { /* the same output bits on one thread */
        ganc_set_threads(1);
        const float *y1 = ganc_net_forward(b, x, n);
        CHECK(memcmp(y1, got.y, sizeof(float) * out) == 0, "%s: bf16 output on 1 thread differs from 2 threads'",
              lc->text);
    }
    pass_free(&got), pass_free(&plain), pass_free(&rounded);
    free(x), free(dy), free(xr), free(dyr);
    ganc_net_free(b), ganc_net_free(f);
    ganc_set_threads(1);
}

/* ---- two precisions in two threads ---- */

typedef struct {
    ganc_net *net;
    const float *x, *want;
    size_t out;
    int n, same;
} thread_job;

static void *forward_many(void *arg)
{
    thread_job *j = arg;
    j->same = 1;
    for (int it = 0; it < 20; it++)
        j->same &= memcmp(ganc_net_forward(j->net, j->x, j->n), j->want, sizeof(float) * j->out) == 0;
    return NULL;
}

static void test_two_threads(void)
{
    const char *text = "conv 8 k=3 stride=2 pad=same\nlrelu\nflatten\ndense 5";
    const ganc_shape in = {3, 12, 12};
    const int n = 6;
    ganc_net *net[2];
    float *want[2], x[6 * 3 * 12 * 12];
    ganc_rng_uniform(&rng, x, sizeof x / sizeof x[0], -1.0f, 1.0f);
    for (int i = 0; i < 2; i++) {
        if (!(net[i] = test_make_net(i ? "f" : "b", in, text, n))) return;
        ganc_rng init;
        ganc_rng_seed(&init, 3);
        ganc_net_init(net[i], GANC_INIT_TORCH, &init);
        ganc_net_set_precision(net[i], i ? GANC_PRECISION_FP32 : GANC_PRECISION_BF16);
        want[i] = check_floats(5 * n);
        memcpy(want[i], ganc_net_forward(net[i], x, n), sizeof(float) * 5 * n);
    }
    CHECK(memcmp(want[0], want[1], sizeof(float) * 5 * n) != 0, "two threads: bf16 and fp32 outputs are the same");
    thread_job jobs[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        jobs[i] = (thread_job){net[i], x, want[i], (size_t)5 * n, n, 0};
        CHECK(pthread_create(&t[i], NULL, forward_many, &jobs[i]) == 0, "starting a thread");
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK(jobs[i].same, "two threads: the %s network's outputs differ from its own alone", i ? "fp32" : "bf16");
        ganc_net_free(net[i]);
        free(want[i]);
    }
}

int main(void)
{
    ganc_set_threads(1);
    test_round_sweep();
    test_round_torch();
    test_round_cases();
    ganc_rng_seed(&rng, 23);
    for (int p = 0; p < GANC_BF16_PATHS; p++) {
        if (ganc_bf16_available((ganc_bf16_path)p)) printf("bf16 gemm path: %s\n", ganc_bf16_path_name((ganc_bf16_path)p));
        test_gemm_path((ganc_bf16_path)p);
    }
    ganc_bf16_use(GANC_BF16_EMULATED);
    test_gemm_tells();
    test_gemm_threads();
    for (size_t i = 0; i < sizeof layer_cases / sizeof layer_cases[0]; i++) test_layer(&layer_cases[i]);
    test_two_threads();
    ganc_shutdown();
    return check_finish("bf16");
}
