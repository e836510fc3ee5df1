/* Core behaviour of the library against independent references: Philox known-answer vectors,
 * statistical bounds on the random draws, the layer-line parser, network shapes, parameter
 * counts and views in closed form, the no-allocation guarantee, batch-norm/dropout modes,
 * initialiser distributions, optimizer steps computed by hand in double, and the BCE loss
 * against long-double closed forms. Statistical checks use 5-standard-error bounds. */
#include "check.h"
#include "nets.h"
#include "ganc.h"
#include "ganc_internal.h"
#include "kernels/vmath.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSIG 5.0 /* standard errors allowed in statistical checks */

/* ---- helpers --------------------------------------------------------------------------- */

static int shape_eq(ganc_shape a, ganc_shape b) { return a.c == b.c && a.h == b.h && a.w == b.w; }

typedef struct {
    double mean, var, m4; /* mean, variance (population, about the sample mean), E[(x-mean)^4] */
} moments;

static moments moments_of(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i];
    const double mu = s / (double)n;
    double s2 = 0.0, s4 = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = x[i] - mu;
        s2 += d * d;
        s4 += d * d * d * d;
    }
    return (moments){mu, s2 / (double)n, s4 / (double)n};
}

/* ---- 1. Philox4x32-10 known answers (Random123 kat_vectors) ----------------------------- */

static void test_philox_kat(void)
{
    static const struct {
        uint32_t ctr[4], key[2], want[4];
    } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
        {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
         {0xffffffffu, 0xffffffffu},
         {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
        {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
         {0xa4093822u, 0x299f31d0u},
         {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
    };
    for (size_t t = 0; t < sizeof kat / sizeof kat[0]; t++) {
        philox_block b = ganc_philox4x32_10(kat[t].ctr, kat[t].key);
        for (int j = 0; j < 4; j++)
            CHECK(b.v[j] == kat[t].want[j], "philox KAT %zu lane %d: got 0x%08x, want 0x%08x", t, j, b.v[j],
                  kat[t].want[j]);
    }
    /* The stream is Philox keyed by the seed with counter = block index (rng.c's layout):
     * ganc_rng_u64 returns lanes 1:0 of block `counter`. */
    ganc_rng r;
    const uint64_t seed = 0x0123456789abcdefull;
    ganc_rng_seed(&r, seed);
    r.counter = 0x100000005ull;
    const uint32_t ctr[4] = {5, 1, 0, 0}, key[2] = {0x89abcdefu, 0x01234567u};
    philox_block b = ganc_philox4x32_10(ctr, key);
    const uint64_t got = ganc_rng_u64(&r);
    CHECK(got == (((uint64_t)b.v[1] << 32) | b.v[0]), "ganc_rng_u64 is not Philox(counter, seed) lanes 1:0");
    CHECK(r.counter == 0x100000006ull, "ganc_rng_u64 advanced the counter to %llu",
          (unsigned long long)r.counter);
}

/* ---- 2. random draws -------------------------------------------------------------------- */

static void test_rng_uniform(void)
{
    const size_t n = 1000000;
    float *x = check_floats(n);
    ganc_rng r;
    ganc_rng_seed(&r, 12345);
    const float lo = -1.5f, hi = 2.5f;
    ganc_rng_uniform(&r, x, n, lo, hi);
    size_t outside = 0;
    for (size_t i = 0; i < n; i++)
        if (!(x[i] >= lo && x[i] < hi)) outside++;
    CHECK(outside == 0, "uniform: %zu of %zu draws outside [%g, %g)", outside, n, lo, hi);
    const double w = (double)hi - lo, mean = 0.5 * ((double)lo + hi), var = w * w / 12.0;
    const double var_of_var = (w * w * w * w / 80.0 - var * var) / (double)n; /* mu4 = w^4/80 */
    moments m = moments_of(x, n);
    CHECK(fabs(m.mean - mean) <= NSIG * sqrt(var / n), "uniform mean %.6f, want %.6f", m.mean, mean);
    CHECK(fabs(m.var - var) <= NSIG * sqrt(var_of_var), "uniform variance %.6f, want %.6f", m.var, var);
    /* Each quarter of the range holds a quarter of the draws. */
    size_t bins[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        int b = (int)((x[i] - lo) / w * 4.0);
        bins[b < 0 ? 0 : b > 3 ? 3 : b]++;
    }
    for (int b = 0; b < 4; b++)
        CHECK(fabs((double)bins[b] - n / 4.0) <= NSIG * sqrt(n * 0.25 * 0.75), "uniform quarter %d holds %zu of %zu",
              b, bins[b], n);
    /* ganc_rng_double: [0, 1), mean 1/2, variance 1/12. */
    double s = 0.0, s2 = 0.0;
    int bad = 0;
    const int nd = 200000;
    for (int i = 0; i < nd; i++) {
        const double u = ganc_rng_double(&r);
        if (!(u >= 0.0 && u < 1.0)) bad++;
        s += u;
        s2 += u * u;
    }
    const double dm = s / nd, dv = s2 / nd - dm * dm;
    CHECK(bad == 0, "ganc_rng_double: %d values outside [0, 1)", bad);
    CHECK(fabs(dm - 0.5) <= NSIG * sqrt(1.0 / 12.0 / nd), "ganc_rng_double mean %.6f", dm);
    CHECK(fabs(dv - 1.0 / 12.0) <= NSIG * sqrt((1.0 / 80.0 - 1.0 / 144.0) / nd), "ganc_rng_double variance %.6f", dv);
    free(x);
}

static void test_rng_normal(void)
{
    const size_t n = 1000000;
    float *x = check_floats(n);
    ganc_rng r;
    ganc_rng_seed(&r, 777);
    ganc_rng_normal(&r, x, n, 0.0f, 1.0f);
    int finite = 1;
    for (size_t i = 0; i < n; i++) finite &= isfinite(x[i]) != 0;
    CHECK(finite, "normal draws are not all finite");
    moments m = moments_of(x, n);
    CHECK(fabs(m.mean) <= NSIG / sqrt((double)n), "normal mean %.6f, want 0", m.mean);
    /* Var of the sample variance of N(0,1): 2/n. */
    CHECK(fabs(m.var - 1.0) <= NSIG * sqrt(2.0 / n), "normal variance %.6f, want 1", m.var);
    /* E z^4 = 3, Var z^4 = E z^8 - 9 = 105 - 9 = 96. */
    CHECK(fabs(m.m4 - 3.0) <= NSIG * sqrt(96.0 / n), "normal 4th moment %.5f, want 3", m.m4);
    /* P(|z| > 2) = 0.0455003. */
    size_t tail = 0;
    for (size_t i = 0; i < n; i++) tail += fabsf(x[i]) > 2.0f;
    const double pt = 0.04550026;
    CHECK(fabs((double)tail / n - pt) <= NSIG * sqrt(pt * (1 - pt) / n), "normal P(|z|>2) = %.5f, want %.5f",
          (double)tail / n, pt);
    /* Shifted and scaled. */
    ganc_rng_normal(&r, x, n, 2.0f, 3.0f);
    m = moments_of(x, n);
    CHECK(fabs(m.mean - 2.0) <= NSIG * 3.0 / sqrt((double)n), "normal(2, 3) mean %.5f", m.mean);
    CHECK(fabs(sqrt(m.var) - 3.0) <= NSIG * 3.0 / sqrt(2.0 * n), "normal(2, 3) std %.5f", sqrt(m.var));
    free(x);
}

static void test_rng_bernoulli_permutation(void)
{
    const size_t n = 1000000;
    float *x = check_floats(n);
    ganc_rng r;
    ganc_rng_seed(&r, 99);
    const float ps[] = {0.3f, 0.9f, 0.01f};
    for (int t = 0; t < 3; t++) {
        const double p = ps[t];
        ganc_rng_bernoulli(&r, x, n, ps[t]);
        size_t ones = 0, other = 0;
        for (size_t i = 0; i < n; i++) {
            if (x[i] == 1.0f) ones++;
            else if (x[i] != 0.0f) other++;
        }
        CHECK(other == 0, "bernoulli(%g): %zu values neither 0 nor 1", p, other);
        CHECK(fabs((double)ones / n - p) <= NSIG * sqrt(p * (1 - p) / n), "bernoulli(%g) frequency %.6f", p,
              (double)ones / n);
    }
    ganc_rng_bernoulli(&r, x, 1000, 0.0f);
    int any = 0;
    for (int i = 0; i < 1000; i++) any |= x[i] != 0.0f;
    CHECK(!any, "bernoulli(0) produced a one");
    ganc_rng_bernoulli(&r, x, 1000, 1.0f);
    int all = 1;
    for (int i = 0; i < 1000; i++) all &= x[i] == 1.0f;
    CHECK(all, "bernoulli(1) produced a zero");
    /* the batched generator against the scalar Philox (checked by the known-answer test): value
     * i is word i%4 of block counter + i/4, including a counter carrying into its high word, a
     * seed with high bits, ragged lengths, and thresholds on both sides of 2^31 (the vector
     * path compares words as signed after flipping their top bit) */
    const size_t lens[3] = {37, 64, 100003};
    const uint64_t starts[3] = {0, 0xFFFFFFF5u, 123456789012345ull};
    const float probs[3] = {0.3f, 0.5f, 0.77f};
    for (int t = 0; t < 3; t++) {
        ganc_rng_seed(&r, 0xA5A5A5A500000007ull + (uint64_t)t);
        r.counter = starts[t];
        const uint64_t seed = r.seed;
        ganc_rng_bernoulli(&r, x, lens[t], probs[t]);
        size_t bad = 0;
        for (size_t i = 0; i < lens[t]; i++) {
            const uint64_t c = starts[t] + i / 4;
            const uint32_t ctr[4] = {(uint32_t)c, (uint32_t)(c >> 32), 0, 0}, key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
            const philox_block b = ganc_philox4x32_10(ctr, key);
            const float want = (double)b.v[i % 4] < probs[t] * 4294967296.0 ? 1.0f : 0.0f;
            bad += x[i] != want;
        }
        CHECK(bad == 0 && r.counter == starts[t] + (lens[t] + 3) / 4,
              "bernoulli n=%zu from counter %llu: %zu values differ from scalar Philox", lens[t],
              (unsigned long long)starts[t], bad);
    }

    /* Permutation: every index exactly once, and not the identity. */
    enum { PN = 1000 };
    int32_t perm[PN];
    int seen[PN];
    ganc_rng_permutation(&r, perm, PN);
    memset(seen, 0, sizeof seen);
    int valid = 1, fixed = 0;
    for (int i = 0; i < PN; i++) {
        if (perm[i] < 0 || perm[i] >= PN || seen[perm[i]]++) valid = 0;
        else fixed += perm[i] == i;
    }
    CHECK(valid, "ganc_rng_permutation(1000) is not a permutation");
    CHECK(fixed < 10, "ganc_rng_permutation(1000) has %d fixed points (expected about 1)", fixed);
    /* Uniformity: over many permutations of 4, P(out[i] == j) = 1/4 for each (i, j). */
    const int trials = 40000;
    int count[4][4];
    memset(count, 0, sizeof count);
    for (int t = 0; t < trials; t++) {
        int32_t p4[4];
        ganc_rng_permutation(&r, p4, 4);
        for (int i = 0; i < 4; i++) count[i][p4[i] & 3]++;
    }
    double worst = 0.0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double d = fabs(count[i][j] - trials / 4.0) / sqrt(trials * 0.25 * 0.75);
            if (d > worst) worst = d;
        }
    CHECK(worst <= NSIG, "permutation positions are not uniform (%.2f standard errors)", worst);
    int32_t one = -7;
    ganc_rng_permutation(&r, &one, 1);
    CHECK(one == 0, "permutation of 1 is {%d}", one);
    free(x);
}

/* A part of a draw (a data-parallel process's share) is exactly that slice of the whole draw,
 * and leaves the stream where the whole draw does, for every alignment of its start. */
static void test_rng_parts(void)
{
    const size_t total = 200003;
    float *whole = check_floats(total), *part = check_floats(total);
    const size_t cuts[][2] = {{0, 0}, {0, 1}, {1, 2}, {2, 3}, {3, 1}, {3, 5}, {4, 4}, {5, 70001}, {100000, 100003}, {7, 0}};
    for (int kind = 0; kind < 3; kind++)
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            const size_t first = cuts[c][0], n = cuts[c][1];
            ganc_rng a, b;
            ganc_rng_seed(&a, 77);
            ganc_rng_seed(&b, 77);
            ganc_rng_u64(&a); /* a stream not at its start */
            ganc_rng_u64(&b);
            if (kind == 0) {
                ganc_rng_uniform(&a, whole, total, -2.0f, 3.0f);
                ganc_rng_uniform_part(&b, part, first, n, total, -2.0f, 3.0f);
            } else if (kind == 1) {
                ganc_rng_normal(&a, whole, total, 0.5f, 2.0f);
                ganc_rng_normal_part(&b, part, first, n, total, 0.5f, 2.0f);
            } else {
                ganc_rng_bernoulli(&a, whole, total, 0.3f);
                ganc_rng_bernoulli_part(&b, part, first, n, total, 0.3f);
            }
            CHECK(!memcmp(whole + first, part, sizeof(float) * n), "rng part %d [%zu, +%zu) of %zu: not the whole draw's", kind,
                  first, n, total);
            CHECK(a.counter == b.counter && ganc_rng_u64(&a) == ganc_rng_u64(&b),
                  "rng part %d [%zu, +%zu): the stream is left elsewhere than by the whole draw", kind, first, n);
        }
    free(whole);
    free(part);
}

static void test_rng_streams(void)
{
    const size_t n = 300000, m = 7;
    float *a = check_floats(n), *b = check_floats(n);
    ganc_rng r1, r2;
    /* Same seed, same stream; another seed, another stream. */
    ganc_rng_seed(&r1, 42);
    ganc_rng_seed(&r2, 42);
    ganc_rng_uniform(&r1, a, 1001, 0.0f, 1.0f);
    ganc_rng_uniform(&r2, b, 1001, 0.0f, 1.0f);
    CHECK(!memcmp(a, b, 1001 * sizeof(float)), "same seed gave different uniform streams");
    CHECK(ganc_rng_u64(&r1) == ganc_rng_u64(&r2), "same seed gave different u64 values");
    ganc_rng_seed(&r2, 43);
    ganc_rng_uniform(&r2, b, 1001, 0.0f, 1.0f);
    ganc_rng_seed(&r1, 42);
    ganc_rng_uniform(&r1, a, 1001, 0.0f, 1.0f);
    size_t same = 0;
    for (int i = 0; i < 1001; i++) same += a[i] == b[i];
    CHECK(same < 5, "seeds 42 and 43 share %zu of 1001 values", same);

    /* Counter: a fill of n then of m advances it by ceil(n/4) + ceil(m/4). */
    ganc_rng_seed(&r1, 5);
    CHECK(r1.seed == 5 && r1.counter == 0, "ganc_rng_seed left seed %llu counter %llu", (unsigned long long)r1.seed,
          (unsigned long long)r1.counter);
    const size_t sizes[][2] = {{1, 1}, {5, 3}, {8, 9}, {299999, 2}, {0, 6}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        ganc_rng_seed(&r1, 5);
        ganc_rng_normal(&r1, a, sizes[t][0], 0.0f, 1.0f);
        ganc_rng_uniform(&r1, a, sizes[t][1], 0.0f, 1.0f);
        const uint64_t want = (sizes[t][0] + 3) / 4 + (sizes[t][1] + 3) / 4;
        CHECK(r1.counter == want, "fill of %zu then %zu: counter %llu, want %llu", sizes[t][0], sizes[t][1],
              (unsigned long long)r1.counter, (unsigned long long)want);
        ganc_rng_seed(&r1, 5);
        ganc_rng_bernoulli(&r1, a, sizes[t][0], 0.5f);
        ganc_rng_bernoulli(&r1, a, sizes[t][1], 0.5f);
        CHECK(r1.counter == want, "bernoulli fills of %zu then %zu: counter %llu, want %llu", sizes[t][0],
              sizes[t][1], (unsigned long long)r1.counter, (unsigned long long)want);
    }

    /* Value i depends only on (seed, counter, i): a short fill is a prefix of a long one (which
     * takes the parallel path), and a fill resumed at block k continues the stream. */
    ganc_rng_seed(&r1, 8);
    ganc_rng_normal(&r1, a, n, 0.0f, 1.0f);
    ganc_rng_seed(&r2, 8);
    ganc_rng_normal(&r2, b, m, 0.0f, 1.0f);
    CHECK(!memcmp(a, b, m * sizeof(float)), "a fill of %zu is not a prefix of a fill of %zu", m, n);
    r2.counter = 1000;
    ganc_rng_normal(&r2, b, 40, 0.0f, 1.0f);
    CHECK(!memcmp(a + 4000, b, 40 * sizeof(float)), "a fill at counter 1000 is not values 4000.. of the stream");

    /* Thread-count independence (fills above 65536 run an OpenMP parallel for). */
    const int saved_threads = ganc_threads();
    ganc_set_threads(1);
    ganc_rng_seed(&r1, 2024);
    r1.counter = 17;
    ganc_rng_normal(&r1, a, n, 0.5f, 2.0f);
    ganc_set_threads(2);
    ganc_rng_seed(&r2, 2024);
    r2.counter = 17;
    ganc_rng_normal(&r2, b, n, 0.5f, 2.0f);
    CHECK(!memcmp(a, b, n * sizeof(float)), "normal fill of %zu differs between 1 and 2 threads", n);
    CHECK(r1.counter == r2.counter, "counters differ between 1 and 2 threads");
    ganc_set_threads(1);
    ganc_rng_uniform(&r1, a, n, -1.0f, 1.0f);
    ganc_set_threads(2);
    ganc_rng_uniform(&r2, b, n, -1.0f, 1.0f);
    CHECK(!memcmp(a, b, n * sizeof(float)), "uniform fill of %zu differs between 1 and 2 threads", n);
    ganc_set_threads(saved_threads);
    free(a);
    free(b);
}

/* ---- 3. layer-line parser --------------------------------------------------------------- */

static int parse_ok(const char *line, ganc_layer_spec *sp)
{
    char err[GANC_ERR_LEN] = "";
    return CHECK(ganc_layer_spec_parse(line, sp, err) == 0, "'%s' was rejected: %s", line, err);
}

/* The line must be rejected with a message that contains `needle` (when not NULL). */
static void parse_bad(const char *line, const char *needle)
{
    char err[GANC_ERR_LEN] = "";
    ganc_layer_spec sp;
    if (!CHECK(ganc_layer_spec_parse(line, &sp, err) == -1, "'%s' was accepted", line)) return;
    CHECK(strlen(err) > 0, "'%s' was rejected without a message", line);
    if (needle) CHECK(strstr(err, needle) != NULL, "rejection of '%s' does not mention '%s': %s", line, needle, err);
}

/* The line parses but ganc_net_add refuses it on a network of input `in`, adding nothing. */
static void add_bad(ganc_shape in, const char *line, const char *why)
{
    char err[GANC_ERR_LEN] = "";
    ganc_layer_spec sp;
    if (!parse_ok(line, &sp)) return;
    ganc_net *net = ganc_net_create("bad", in);
    CHECK(ganc_net_add(net, &sp, err) == -1, "ganc_net_add accepted '%s' (%s)", line, why);
    CHECK(strlen(err) > 0, "ganc_net_add rejected '%s' without a message", line);
    CHECK(ganc_net_layer_count(net) == 0, "a rejected '%s' still added a layer", line);
    ganc_net_free(net);
}

/* ganc_net_add_text of `text` on a fresh 1x8x8 network (freed again); err is cleared first. */
static int add_text_8x8(const char *text, const char *source, int first_line, char err[GANC_ERR_LEN])
{
    ganc_net *net = ganc_net_create("txt", (ganc_shape){1, 8, 8});
    err[0] = 0;
    const int rc = ganc_net_add_text(net, text, source, first_line, err);
    ganc_net_free(net);
    return rc;
}

static void test_parser(void)
{
    ganc_layer_spec sp;
    if (parse_ok("conv 64 k=5 stride=2 pad=same", &sp))
        CHECK(sp.type == GANC_LAYER_CONV && sp.units == 64 && sp.k == 5 && sp.stride == 2 &&
                  sp.pad_mode == GANC_PAD_SAME && sp.bias == 1,
              "conv line: type %d units %d k %d stride %d pad_mode %d bias %d", sp.type, sp.units, sp.k, sp.stride,
              sp.pad_mode, sp.bias);
    if (parse_ok("deconv 32 k=5 stride=2 pad=1 outpad=1 bias=0", &sp))
        CHECK(sp.type == GANC_LAYER_DECONV && sp.units == 32 && sp.k == 5 && sp.stride == 2 &&
                  sp.pad_mode == GANC_PAD_EXPLICIT && sp.pad == 1 && sp.outpad == 1 && sp.bias == 0,
              "deconv line: type %d units %d k %d stride %d pad_mode %d pad %d outpad %d bias %d", sp.type, sp.units,
              sp.k, sp.stride, sp.pad_mode, sp.pad, sp.outpad, sp.bias);
    if (parse_ok("conv 16 k=3", &sp))
        CHECK(sp.stride == 1 && sp.pad_mode == GANC_PAD_EXPLICIT && sp.pad == 0 && sp.bias == 1,
              "conv defaults: stride %d pad_mode %d pad %d bias %d", sp.stride, sp.pad_mode, sp.pad, sp.bias);
    if (parse_ok("conv 8 k=3 pad=valid", &sp)) CHECK(sp.pad_mode == GANC_PAD_VALID, "pad=valid not recorded");
    if (parse_ok("dropout keep=0.9", &sp))
        CHECK(sp.type == GANC_LAYER_DROPOUT && fabsf(sp.p - 0.1f) <= 1e-6f, "dropout keep=0.9: p = %.8f", sp.p);
    if (parse_ok("dropout p=0.25", &sp)) CHECK(sp.p == 0.25f, "dropout p=0.25: p = %.8f", sp.p);
    if (parse_ok("dropout", &sp)) CHECK(sp.p == 0.5f, "dropout default p = %.8f, want 0.5", sp.p);
    if (parse_ok("lrelu", &sp)) CHECK(sp.type == GANC_LAYER_LRELU && sp.alpha == 0.2f, "lrelu default slope %g", sp.alpha);
    if (parse_ok("lrelu slope=0.01", &sp)) CHECK(sp.alpha == 0.01f, "lrelu slope=0.01 gave %g", sp.alpha);
    if (parse_ok("elu", &sp)) CHECK(sp.type == GANC_LAYER_ELU && sp.alpha == 1.0f, "elu default alpha %g", sp.alpha);
    if (parse_ok("batchnorm eps=1e-3 momentum=0.2", &sp))
        CHECK(sp.type == GANC_LAYER_BATCHNORM && sp.eps == 1e-3f && sp.momentum == 0.2f,
              "batchnorm line: eps %g momentum %g", sp.eps, sp.momentum);
    if (parse_ok("batchnorm", &sp))
        CHECK(sp.eps == 1e-5f && sp.momentum == 0.1f, "batchnorm defaults: eps %g momentum %g", sp.eps, sp.momentum);
    if (parse_ok("reshape 128 1 1", &sp))
        CHECK(sp.type == GANC_LAYER_RESHAPE && shape_eq(sp.reshape, (ganc_shape){128, 1, 1}),
              "reshape line: %d %d %d", sp.reshape.c, sp.reshape.h, sp.reshape.w);
    if (parse_ok("  \tdense 10   # ten logits", &sp))
        CHECK(sp.type == GANC_LAYER_DENSE && sp.units == 10 && sp.bias == 1, "dense line with comment: units %d",
              sp.units);
    if (parse_ok("dense 7 bias=0\r", &sp)) CHECK(sp.units == 7 && sp.bias == 0, "dense 7 bias=0: %d %d", sp.units, sp.bias);
    static const char *const simple[] = {"relu", "tanh", "sigmoid", "flatten", "concat_elu"};
    static const ganc_layer_type simple_t[] = {GANC_LAYER_RELU, GANC_LAYER_TANH, GANC_LAYER_SIGMOID,
                                               GANC_LAYER_FLATTEN, GANC_LAYER_CONCAT_ELU};
    for (int i = 0; i < 5; i++)
        if (parse_ok(simple[i], &sp))
            CHECK(sp.type == simple_t[i] && !strcmp(ganc_layer_type_name(sp.type), simple[i]),
                  "'%s' parsed as type %d (%s)", simple[i], sp.type, ganc_layer_type_name(sp.type));

    parse_bad("convolution 64 k=5", "convolution");
    parse_bad("conv 64", "k=");
    parse_bad("conv 64 stride=2", NULL);
    parse_bad("conv 64 k=0", NULL);
    parse_bad("conv 64 k=abc", "abc");
    parse_bad("conv 64 k=5 dilation=2", "dilation");
    parse_bad("dense", NULL);
    parse_bad("dense 10 20", "20");
    parse_bad("relu 3", NULL);
    parse_bad("conv 64 k=5 pad=foo", "foo");
    parse_bad("reshape 1 2", NULL);
    parse_bad("dense -3", NULL);
    parse_bad("dense 0", NULL);
    parse_bad("dropout p=1", NULL);
    parse_bad("dropout keep=0", NULL);
    parse_bad("batchnorm eps=0", NULL);
    parse_bad("batchnorm momentum=nan", NULL);
    parse_bad("dense 10 bias=2", NULL);
    parse_bad("dense 10 k=3", "k"); /* k is not an option of dense */
    parse_bad("", NULL);
    parse_bad("   # only a comment", NULL);

    /* maxout, mbstd and the sn flag */
    if (parse_ok("maxout 200 pieces=5", &sp))
        CHECK(sp.type == GANC_LAYER_MAXOUT && sp.units == 200 && sp.pieces == 5 && sp.bias == 1 && !sp.sn,
              "maxout line: type %d units %d pieces %d bias %d sn %d", sp.type, sp.units, sp.pieces, sp.bias, sp.sn);
    if (parse_ok("maxout 8 pieces=2 bias=0 sn", &sp))
        CHECK(sp.units == 8 && sp.pieces == 2 && sp.bias == 0 && sp.sn == 1, "maxout with sn: %d %d %d %d", sp.units,
              sp.pieces, sp.bias, sp.sn);
    if (parse_ok("mbstd", &sp)) CHECK(sp.type == GANC_LAYER_MBSTD && sp.group == 0, "mbstd default group %d", sp.group);
    if (parse_ok("mbstd group=4", &sp)) CHECK(sp.group == 4, "mbstd group=4 gave %d", sp.group);
    if (parse_ok("dense 1 sn", &sp)) CHECK(sp.type == GANC_LAYER_DENSE && sp.units == 1 && sp.sn == 1, "dense 1 sn");
    if (parse_ok("conv 64 k=5 stride=2 sn pad=same", &sp))
        CHECK(sp.sn == 1 && sp.k == 5 && sp.pad_mode == GANC_PAD_SAME, "conv with sn among options");
    if (parse_ok("deconv 3 k=4 sn", &sp)) CHECK(sp.sn == 1, "deconv sn");
    if (parse_ok("dense 3", &sp)) CHECK(sp.sn == 0, "dense without sn has sn %d", sp.sn);
    parse_bad("maxout 200", "pieces=");
    parse_bad("maxout pieces=5", "units");
    parse_bad("maxout 200 pieces=1", "pieces=1");
    parse_bad("maxout 200 pieces=0", "pieces");
    parse_bad("maxout 200 pieces=x", "pieces");
    parse_bad("maxout 200 pieces=5 k=3", "k");
    parse_bad("mbstd 4", "4");
    parse_bad("mbstd group=1", "group=1");
    parse_bad("mbstd group=-2", "group");
    parse_bad("mbstd sn", "sn");
    parse_bad("batchnorm sn", "batchnorm");
    parse_bad("relu sn", "relu");
    parse_bad("dense 10 sn=1", "sn");
    parse_bad("dense sn", "dense N");

    add_bad((ganc_shape){8, 4, 4}, "deconv 8 k=3 stride=2 pad=1 outpad=2", "outpad >= stride");
    add_bad((ganc_shape){8, 4, 4}, "deconv 8 k=3 stride=1 pad=1 outpad=1", "outpad >= stride");
    add_bad((ganc_shape){3, 4, 4}, "conv 8 k=7 pad=1", "kernel 7 > padded input 6");
    add_bad((ganc_shape){3, 3, 3}, "conv 8 k=5 pad=valid", "kernel 5 > input 3");
    add_bad((ganc_shape){3, 4, 4}, "reshape 3 4 5", "48 values into 60");
    /* The same geometry that fits is accepted. */
    {
        char err[GANC_ERR_LEN] = "";
        ganc_net *net = ganc_net_create("ok", (ganc_shape){3, 4, 4});
        if (parse_ok("conv 8 k=6 pad=1", &sp)) CHECK(ganc_net_add(net, &sp, err) == 0, "conv k=6 pad=1 on 4x4: %s", err);
        if (parse_ok("reshape 2 1 4", &sp)) CHECK(ganc_net_add(net, &sp, err) == 0, "reshape 2 1 4 of 8x1x1: %s", err);
        if (parse_ok("deconv 4 k=3 stride=2 pad=1 outpad=1", &sp))
            CHECK(ganc_net_add(net, &sp, err) == 0, "deconv outpad=1 stride=2: %s", err);
        /* conv: 4 + 2 - 6 + 1 = 1; ConvTranspose2d: (1-1)*2 - 2 + 3 + 1 = 2 and (4-1)*2 - 2 + 3 + 1 = 8. */
        CHECK(ganc_net_layer_count(net) == 3 && shape_eq(ganc_net_output_shape(net), (ganc_shape){4, 2, 8}),
              "conv/reshape/deconv chain: %d layers, output %dx%dx%d", ganc_net_layer_count(net),
              ganc_net_output_shape(net).c, ganc_net_output_shape(net).h, ganc_net_output_shape(net).w);
        ganc_net_free(net);
    }

    /* ganc_net_add_text names the source and the line, counting blank and comment lines. */
    {
        char err[GANC_ERR_LEN] = "";
        CHECK(add_text_8x8("# a model\n\nconv 8 k=0\nrelu\n", "model.txt", 1, err) == -1, "add_text accepted conv k=0");
        CHECK(strstr(err, "model.txt:3:") != NULL, "add_text error does not name model.txt:3: '%s'", err);

        CHECK(add_text_8x8("conv 4 k=3 pad=same\n   \t\n reshape 4 8 9 # wrong\n", "model.txt", 1, err) == -1,
              "add_text accepted a mismatched reshape");
        CHECK(strstr(err, "model.txt:3:") != NULL, "add_text network error does not name model.txt:3: '%s'", err);

        CHECK(add_text_8x8("conv 4 k=3 pad=same\r\n# c\r\nfoo\r\n", "cfg.ini", 20, err) == -1,
              "add_text accepted an unknown type");
        CHECK(strstr(err, "cfg.ini:22:") != NULL, "add_text with first_line 20 does not name cfg.ini:22: '%s'", err);

        CHECK(add_text_8x8("conv 4 k=3 sn\n# the stability lab\nmbstd\nlrelu sn\n", "lab.gan", 1, err) == -1,
              "add_text accepted sn on lrelu");
        CHECK(strstr(err, "lab.gan:4:") && strstr(err, "lrelu") && strstr(err, "sn"),
              "add_text error for 'lrelu sn' does not name lab.gan:4, the layer and sn: '%s'", err);

        CHECK(add_text_8x8("flatten\nmaxout 10 pieces=1\n", "lab.gan", 1, err) == -1,
              "add_text accepted maxout pieces=1");
        CHECK(strstr(err, "lab.gan:2:") && strstr(err, "pieces"), "maxout pieces=1 error: '%s'", err);

        ganc_net *net = ganc_net_create("txt", (ganc_shape){1, 8, 8});
        CHECK(ganc_net_add_text(net, "\n# c\nconv 4 k=3 pad=same\n\nrelu\nflatten", "m", 1, err) == 0,
              "add_text rejected a valid model: %s", err);
        CHECK(ganc_net_layer_count(net) == 3, "add_text added %d layers, want 3", ganc_net_layer_count(net));
        CHECK(shape_eq(ganc_net_output_shape(net), (ganc_shape){256, 1, 1}), "valid model output %d",
              ganc_net_output_shape(net).c);
        ganc_net_free(net);
    }
}

/* The registry of layer types (GANC_LAYER_LIST): every type is named, parses back to itself
 * by that name (or says what its line lacks), and the errors that list types name them all. */
static void test_layer_registry(void)
{
    char want[GANC_ERR_LEN * 2] = "unknown layer type 'bogus' (", err[GANC_ERR_LEN] = "";
    for (int t = 0; t < GANC_LAYER_COUNT; t++) {
        const char *name = ganc_layer_type_name((ganc_layer_type)t);
        int same = 0;
        for (int u = 0; u < t; u++) same += !strcmp(name, ganc_layer_type_name((ganc_layer_type)u));
        CHECK(strcmp(name, "?") != 0 && !same, "layer type %d is named '%s', as %d types before it", t, name, same);
        strcat(want, t ? ", " : "");
        strcat(want, name);
        ganc_layer_spec sp;
        char needs[64];
        snprintf(needs, sizeof needs, "%s needs ", name);
        err[0] = 0;
        if (ganc_layer_spec_parse(name, &sp, err) == 0)
            CHECK(sp.type == (ganc_layer_type)t, "'%s' parsed as type %d, want %d", name, sp.type, t);
        else
            CHECK(!strncmp(err, needs, strlen(needs)), "'%s' alone is rejected without saying what it needs: %s",
                  name, err);
    }
    strcat(want, ")");
    CHECK(!strcmp(ganc_layer_type_name(GANC_LAYER_COUNT), "?"), "GANC_LAYER_COUNT has a name");
    err[0] = 0;
    CHECK(ganc_layer_spec_parse("bogus 3 k=1", &(ganc_layer_spec){0}, err) == -1 && !strcmp(err, want),
          "unknown type message: '%s', want '%s'", err, want);
    /* the messages as they read before the types had a registry */
    parse_bad("bogus", "unknown layer type 'bogus' (dense, conv, deconv, maxout, batchnorm, relu, lrelu, elu, "
                       "concat_elu, tanh, sigmoid, ");
    parse_bad("relu sn", "relu has no weight matrix to normalise: sn applies to dense, conv, deconv, maxout and project");
    parse_bad("conv", "conv needs the number of output channels and k=, e.g. conv 64 k=5");
    parse_bad("deconv", "deconv needs the number of output channels and k=, e.g. deconv 64 k=5");
    parse_bad("conv 3", "conv needs a kernel size k=");
    parse_bad("maxout 200", "maxout needs pieces=P (at least 2), e.g. maxout 200 pieces=5");
    parse_bad("reshape 1 2", "reshape needs three sizes: reshape C H W");
    parse_bad("reshape 1 0 2", "reshape size=0 is out of range [1, 1048576]");
    parse_bad("tanh 2", "tanh takes 0 plain numbers, '2' is one too many");
    parse_bad("dense 2 3", "dense takes 1 plain number, '3' is one too many");
    parse_bad("elu slope=1", "elu has no option 'slope'");
    parse_bad("conv 3 k=3 pad=x", "pad (an integer, same or valid) needs an integer, got 'x'");
    parse_bad("dropout keep=2", "keep=2 is out of range [0.001, 1]");
    parse_bad("dense 2 bias_init=x", "bias_init needs a number, got 'x'");
    parse_bad("batchnorm bias=0", "batchnorm has no option 'bias'");
}

/* ---- 4. networks ------------------------------------------------------------------------ */

static const char *const DISC_TEXT = "conv 32 k=5 stride=2 pad=same\n"
                                     "lrelu\n"
                                     "conv 64 k=5 stride=2 pad=same\n"
                                     "batchnorm\n"
                                     "lrelu\n"
                                     "conv 128 k=5 pad=valid\n"
                                     "lrelu\n"
                                     "flatten\n"
                                     "dense 1\n";
static const char *const GEN_TEXT = "deconv 128 k=3 pad=valid\n"
                                    "batchnorm\n"
                                    "relu\n"
                                    "deconv 64 k=5 pad=valid\n"
                                    "batchnorm\n"
                                    "relu\n"
                                    "deconv 32 k=5 stride=2 pad=same\n"
                                    "batchnorm\n"
                                    "relu\n"
                                    "deconv 1 k=5 stride=2 pad=same\n"
                                    "tanh\n";

/* Closed-form parameter and state counts and views of a network, from its shapes and specs. */
static void check_views(ganc_net *net, const char *name)
{
    size_t want_params = 0, want_state = 0;
    int want_views = 0;
    for (int i = 0; i < ganc_net_layer_count(net); i++) {
        const ganc_layer_spec *sp = ganc_net_layer_spec(net, i);
        const ganc_shape in = i ? ganc_net_layer_output_shape(net, i - 1) : ganc_net_input_shape(net);
        const size_t k2 = (size_t)sp->k * sp->k;
        size_t w = 0, b = 0, s = 0;
        int wd[4] = {0, 0, 0, 0}, wn = 0;
        switch (sp->type) {
        case GANC_LAYER_DENSE:
            w = (size_t)sp->units * ganc_shape_size(in);
            b = sp->bias ? (size_t)sp->units : 0;
            wn = 2, wd[0] = sp->units, wd[1] = (int)ganc_shape_size(in);
            break;
        case GANC_LAYER_CONV:
            w = (size_t)sp->units * in.c * k2;
            b = sp->bias ? (size_t)sp->units : 0;
            wn = 4, wd[0] = sp->units, wd[1] = in.c, wd[2] = wd[3] = sp->k;
            break;
        case GANC_LAYER_DECONV:
            w = (size_t)in.c * sp->units * k2;
            b = sp->bias ? (size_t)sp->units : 0;
            wn = 4, wd[0] = in.c, wd[1] = sp->units, wd[2] = wd[3] = sp->k;
            break;
        case GANC_LAYER_BATCHNORM:
            w = b = (size_t)in.c;
            s = 2 * (size_t)in.c;
            wn = 1, wd[0] = in.c;
            break;
        default:
            break;
        }
        want_params += w + b;
        want_state += s;
        char vn[96];
        const struct {
            const char *leaf;
            size_t count;
            int is_state;
        } parts[4] = {{"weight", w, 0}, {"bias", b, 0}, {"running_mean", s / 2, 1}, {"running_var", s / 2, 1}};
        for (int p = 0; p < 4; p++) {
            snprintf(vn, sizeof vn, "%s.%d.%s", name, i, parts[p].leaf);
            const ganc_view *v = ganc_net_find_view(net, vn);
            if (!parts[p].count) {
                CHECK(v == NULL, "%s: unexpected view %s", name, vn);
                continue;
            }
            want_views++;
            if (!CHECK(v != NULL, "%s: no view %s", name, vn)) continue;
            CHECK(v->count == parts[p].count && v->is_state == parts[p].is_state, "%s: %s has %zu values (state %d), want %zu (%d)",
                  name, vn, v->count, v->is_state, parts[p].count, parts[p].is_state);
            size_t prod = 1;
            for (int d = 0; d < v->ndim; d++) prod *= (size_t)v->dims[d];
            CHECK(prod == v->count, "%s: dims of %s multiply to %zu, count %zu", name, vn, prod, v->count);
            if (p == 0)
                CHECK(v->ndim == wn && !memcmp(v->dims, wd, sizeof(int) * (size_t)wn),
                      "%s: %s dims (%d: %d %d %d %d) are not PyTorch's", name, vn, v->ndim, v->dims[0], v->dims[1],
                      v->dims[2], v->dims[3]);
        }
    }
    CHECK(ganc_net_param_count(net) == want_params, "%s: %zu parameters, closed form %zu", name,
          ganc_net_param_count(net), want_params);
    CHECK(ganc_net_state_count(net) == want_state, "%s: %zu state values, closed form %zu", name,
          ganc_net_state_count(net), want_state);
    CHECK(ganc_net_view_count(net) == want_views, "%s: %d views, want %d", name, ganc_net_view_count(net), want_views);

    /* Contiguous, non-overlapping and covering: walking the views in order, each starts where
     * the previous one of its buffer ended, and each buffer ends exactly at its count. */
    size_t next[2] = {0, 0};
    int ok = 1;
    for (int i = 0; i < ganc_net_view_count(net); i++) {
        const ganc_view *v = ganc_net_view(net, i);
        const int st = v->is_state != 0;
        if (v->offset != next[st]) ok = 0;
        next[st] = v->offset + v->count;
        float *data = ganc_net_view_data(net, v);
        float *base = st ? ganc_net_state(net) : ganc_net_params(net);
        if (data != base + v->offset) ok = 0;
        float *grad = ganc_net_view_grad(net, v);
        if (st ? grad != NULL : grad != ganc_net_grads(net) + v->offset) ok = 0;
        if (strncmp(v->name, name, strlen(name)) || v->name[strlen(name)] != '.') ok = 0;
        if (ganc_net_find_view(net, v->name) != v) ok = 0;
    }
    CHECK(ok, "%s: views are not contiguous, in order, named <net>.<layer>.<leaf> and mapped to their buffers", name);
    CHECK(next[0] == ganc_net_param_count(net) && next[1] == ganc_net_state_count(net),
          "%s: views cover %zu params / %zu state, want %zu / %zu", name, next[0], next[1], ganc_net_param_count(net),
          ganc_net_state_count(net));
    CHECK(ganc_net_find_view(net, "nonexistent.0.weight") == NULL, "find_view found a nonexistent view");
}

static void test_reference_shapes(void)
{
    ganc_net *d = test_make_net("disc", (ganc_shape){1, 28, 28}, DISC_TEXT, 4);
    if (d) {
        const ganc_shape want[] = {{32, 14, 14}, {32, 14, 14}, {64, 7, 7}, {64, 7, 7}, {64, 7, 7},
                                   {128, 3, 3},  {128, 3, 3},  {1152, 1, 1}, {1, 1, 1}};
        CHECK(ganc_net_layer_count(d) == 9, "disc has %d layers", ganc_net_layer_count(d));
        for (int i = 0; i < 9 && i < ganc_net_layer_count(d); i++) {
            ganc_shape s = ganc_net_layer_output_shape(d, i);
            CHECK(shape_eq(s, want[i]), "disc layer %d: %dx%dx%d, want %dx%dx%d", i, s.c, s.h, s.w, want[i].c,
                  want[i].h, want[i].w);
        }
        /* 32*1*25+32 + 64*32*25+64 + 2*64 + 128*64*25+128 + 1152+1 */
        CHECK(ganc_net_param_count(d) == 258305, "disc parameter count %zu, want 258305", ganc_net_param_count(d));
        CHECK(ganc_net_max_batch(d) == 4, "disc max batch %d", ganc_net_max_batch(d));
        check_views(d, "disc");
        ganc_net_free(d);
    }
    ganc_net *g = test_make_net("gen", (ganc_shape){128, 1, 1}, GEN_TEXT, 4);
    if (g) {
        const ganc_shape want[] = {{128, 3, 3}, {128, 3, 3}, {128, 3, 3}, {64, 7, 7},  {64, 7, 7}, {64, 7, 7},
                                   {32, 14, 14}, {32, 14, 14}, {32, 14, 14}, {1, 28, 28}, {1, 28, 28}};
        CHECK(ganc_net_layer_count(g) == 11, "gen has %d layers", ganc_net_layer_count(g));
        for (int i = 0; i < 11 && i < ganc_net_layer_count(g); i++) {
            ganc_shape s = ganc_net_layer_output_shape(g, i);
            CHECK(shape_eq(s, want[i]), "gen layer %d: %dx%dx%d, want %dx%dx%d", i, s.c, s.h, s.w, want[i].c,
                  want[i].h, want[i].w);
        }
        /* 128*128*9+128 + 256 + 128*64*25+64 + 128 + 64*32*25+32 + 64 + 32*1*25+1 */
        CHECK(ganc_net_param_count(g) == 404929, "gen parameter count %zu, want 404929", ganc_net_param_count(g));
        CHECK(ganc_net_state_count(g) == 448, "gen state count %zu, want 448", ganc_net_state_count(g));
        CHECK(ganc_net_find_view(g, "gen.0.weight") && ganc_net_find_view(g, "gen.1.running_var") &&
                  ganc_net_find_view(g, "gen.9.bias") && !ganc_net_find_view(g, "gen.2.weight"),
              "gen views are not named gen.<layer>.<leaf>");
        check_views(g, "gen");
        ganc_net_free(g);
    }
}

/* FLOPs of one forward against closed forms: 2 x (multiply-adds per output) x outputs. */
static void test_layer_flops(void)
{
    const char *text = "conv 4 k=3 stride=2 pad=same\n" /* 3x9x9 -> 4x5x5 */
                       "batchnorm\n"
                       "relu\n"
                       "deconv 2 k=4 stride=2 pad=1\n" /* 4x5x5 -> 2x10x10 */
                       "flatten\n"
                       "maxout 3 pieces=2\n" /* 200 -> 3 */
                       "dense 5\n";
    ganc_net *net = test_make_net("flops", (ganc_shape){3, 9, 9}, text, 2);
    if (!net) return;
    const int n = 7;
    const double want[] = {2.0 * n * (4 * 5 * 5) * (3 * 3 * 3), 0, 0, 2.0 * n * (4 * 5 * 5) * (2 * 4 * 4), 0,
                           2.0 * n * (3 * 2) * 200, 2.0 * n * 5 * 3};
    CHECK(ganc_net_layer_count(net) == 7, "flops net has %d layers", ganc_net_layer_count(net));
    for (int i = 0; i < 7 && i < ganc_net_layer_count(net); i++)
        CHECK(ganc_net_layer_flops(net, i, n) == want[i], "layer %d (%s): %g FLOPs, closed form %g", i,
              ganc_layer_type_name(ganc_net_layer_spec(net, i)->type), ganc_net_layer_flops(net, i, n), want[i]);
    ganc_net_free(net);
}

static void test_no_alloc_and_small_batch(void)
{
    const char *text = "conv 6 k=3 stride=2 pad=same\n"
                       "batchnorm\n"
                       "concat_elu\n"
                       "dropout p=0.3\n"
                       "deconv 4 k=4 stride=2 pad=1\n"
                       "lrelu\n"
                       "flatten\n"
                       "dense 16\n"
                       "batchnorm\n"
                       "elu\n"
                       "dense 1\n";
    const int nb = 8;
    const ganc_shape in = {3, 8, 8};
    ganc_net *net = test_make_net("alloc", in, text, nb);
    if (!net) return;
    ganc_rng r;
    ganc_rng_seed(&r, 11);
    ganc_net_init(net, GANC_INIT_TORCH, &r);
    const size_t in_size = ganc_shape_size(in);
    float *x = check_floats(nb * in_size), *dx = check_floats(nb * in_size), dz[8];
    ganc_rng_normal(&r, x, nb * in_size, 0.0f, 1.0f);
    ganc_optim opt, sgd;
    ganc_optim_config cfg = ganc_optim_default(GANC_OPTIM_ADAM);
    ganc_optim_init(&opt, &cfg, ganc_net_param_count(net));
    ganc_optim_config scfg = ganc_optim_default(GANC_OPTIM_SGD);
    scfg.momentum = 0.9f;
    scfg.nesterov = 1;
    scfg.weight_decay = 1e-4f;
    ganc_optim_init(&sgd, &scfg, ganc_net_param_count(net));

    const uint64_t before = ganc_alloc_count();
    int finite = 1;
    for (int it = 0; it < 4; it++) {
        ganc_net_set_training(net, 1);
        const float *z = ganc_net_forward(net, x, it == 2 ? 5 : nb);
        ganc_bce_logits(z, NULL, 1.0f, it == 2 ? 5 : nb, dz, 1.0f);
        ganc_net_zero_grad(net);
        ganc_net_backward(net, dz, dx, 1);
        ganc_optim_step(it & 1 ? &sgd : &opt, ganc_net_params(net), ganc_net_grads(net));
        ganc_net_backward(net, dz, dx, 0);
        ganc_net_set_training(net, 0);
        z = ganc_net_forward(net, x, nb);
        for (int i = 0; i < nb; i++) finite &= isfinite(z[i]) != 0;
        ganc_net_backward(net, dz, NULL, 1);
    }
    const uint64_t after = ganc_alloc_count();
    CHECK(after == before, "%llu allocations during forward/backward/zero_grad/optim_step",
          (unsigned long long)(after - before));
    CHECK(finite, "training a small net produced non-finite outputs");
    CHECK(opt.step == 2 && sgd.step == 2, "optimizer step counters %lld %lld", (long long)opt.step,
          (long long)sgd.step);

    /* Eval mode: a smaller batch gives the same per-sample outputs as the full batch. */
    ganc_net_set_training(net, 0);
    CHECK(ganc_net_training(net) == 0, "set_training(0) not recorded");
    float full[8], part[8];
    memcpy(full, ganc_net_forward(net, x, nb), sizeof full);
    memcpy(part, ganc_net_forward(net, x, 3), 3 * sizeof(float));
    check_close("eval batch of 3 vs first 3 of 8", part, full, 3, 1e-6);
    memcpy(part, ganc_net_forward(net, x + 5 * in_size, 1), sizeof(float));
    check_close("eval batch of 1 (sample 5) vs batch of 8", part, full + 5, 1, 1e-6);
    /* Intermediate layers too: the batch-norm output of sample 2 alone. */
    const size_t l1 = ganc_shape_size(ganc_net_layer_output_shape(net, 1));
    float *bn_full = check_floats(l1);
    ganc_net_forward(net, x, nb);
    memcpy(bn_full, ganc_net_layer_output(net, 1) + 2 * l1, l1 * sizeof(float));
    ganc_net_forward(net, x + 2 * in_size, 1);
    check_close("eval layer 1 of sample 2 alone vs in the batch", ganc_net_layer_output(net, 1), bn_full, l1, 1e-6);
    /* In training mode the batch statistics make the batches differ (batch norm is active). */
    ganc_net_set_training(net, 1);
    memcpy(full, ganc_net_forward(net, x, nb), sizeof full);
    memcpy(part, ganc_net_forward(net, x, 3), 3 * sizeof(float));
    CHECK(check_rel_err(part, full, 3, 1e-12) > 1e-6, "training batch of 3 equals the batch of 8 (no batch stats?)");

    free(bn_full);
    ganc_optim_free(&opt);
    ganc_optim_free(&sgd);
    free(x);
    free(dx);
    ganc_net_free(net);
}

/* ---- 5. train / eval: batch norm and dropout ---------------------------------------------- */

/* Synchronised batch norm (ganc_net_set_sum, a data-parallel run's --sync-bn) without MPI: two
 * threads play two processes, each with half the batch, their `sum` adding the two halves'
 * vectors (in "rank" order) at a barrier. The halves' outputs, input gradients and running
 * statistics must be the whole batch's in one network, and their parameter gradients add up
 * to its; for a plain layer over planes, one after a dense layer (the rows layout, more
 * channels than a block of 64) and a conditional one. */
typedef struct {
    pthread_barrier_t bar;
    double *v[2];
} bn_sim;
typedef struct {
    bn_sim *sim;
    int rank, half;
    ganc_net *net;
    const float *x, *dy;
    float *y, *dx;
    size_t sz;
} bn_sim_part;

static void bn_sim_sum(void *ctx, double *v, int n)
{
    bn_sim_part *p = ctx;
    bn_sim *s = p->sim;
    double *sum = calloc((size_t)n, sizeof(double));
    s->v[p->rank] = v;
    pthread_barrier_wait(&s->bar);
    for (int i = 0; sum && i < n; i++) sum[i] = s->v[0][i] + s->v[1][i];
    pthread_barrier_wait(&s->bar); /* both have read both */
    if (sum) memcpy(v, sum, sizeof(double) * (size_t)n);
    free(sum);
}

static void *bn_sim_run(void *arg)
{
    bn_sim_part *p = arg;
    ganc_net_set_sum(p->net, bn_sim_sum, p);
    ganc_net_zero_grad(p->net);
    const float *y = ganc_net_forward(p->net, p->x, p->half);
    memcpy(p->y, y, sizeof(float) * p->sz * (size_t)p->half);
    ganc_net_backward(p->net, p->dy, p->dx, 1);
    return NULL;
}

static double max_abs_diff(const float *a, const float *b, size_t n, double *scale)
{
    double d = 0.0, m = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (fabs((double)a[i] - b[i]) > d) d = fabs((double)a[i] - b[i]);
        if (fabs(a[i]) > m) m = fabs(a[i]);
    }
    *scale = m;
    return d;
}

static void bn_sync_case(const char *what, ganc_shape in, const char *text, int classes)
{
    enum { NB = 8, HALF = NB / 2 };
    ganc_net *whole = test_make_net("bn", in, text, NB), *part[2] = {test_make_net("bn", in, text, HALF),
                                                                      test_make_net("bn", in, text, HALF)};
    if (!whole || !part[0] || !part[1]) return;
    const size_t sz = ganc_shape_size(in), total = NB * sz, np = ganc_net_param_count(whole);
    ganc_rng r;
    ganc_rng_seed(&r, 11);
    ganc_rng_normal(&r, ganc_net_params(whole), np, 1.0f, 0.5f);
    for (int k = 0; k < 2; k++) memcpy(ganc_net_params(part[k]), ganc_net_params(whole), sizeof(float) * np);
    float *x = check_floats(total), *dy = check_floats(total), *yw = check_floats(total), *dxw = check_floats(total);
    float *yp = check_floats(total), *dxp = check_floats(total);
    ganc_rng_normal(&r, x, total, 0.5f, 2.0f);
    ganc_rng_normal(&r, dy, total, 0.0f, 1.0f);
    int32_t labels[NB];
    for (int i = 0; i < NB; i++) labels[i] = classes ? (i * 7 + 1) % classes : 0;
    if (classes) {
        ganc_net_set_labels(whole, labels);
        for (int k = 0; k < 2; k++) ganc_net_set_labels(part[k], labels + k * HALF);
    }
    ganc_net_zero_grad(whole);
    memcpy(yw, ganc_net_forward(whole, x, NB), sizeof(float) * total);
    ganc_net_backward(whole, dy, dxw, 1);

    bn_sim sim;
    pthread_barrier_init(&sim.bar, NULL, 2);
    bn_sim_part p[2];
    pthread_t tid[2];
    for (int k = 0; k < 2; k++) {
        p[k] = (bn_sim_part){&sim, k, HALF, part[k], x + k * HALF * sz, dy + k * HALF * sz, yp + k * HALF * sz,
                             dxp + k * HALF * sz, sz};
        CHECK(pthread_create(&tid[k], NULL, bn_sim_run, &p[k]) == 0, "%s: thread", what);
    }
    for (int k = 0; k < 2; k++) pthread_join(tid[k], NULL);
    pthread_barrier_destroy(&sim.bar);

    double scale, d = max_abs_diff(yw, yp, total, &scale);
    CHECK(d <= 1e-5 * scale, "%s: the halves' outputs differ from the whole batch's by %.3g (of %.3g)", what, d, scale);
    d = max_abs_diff(dxw, dxp, total, &scale);
    CHECK(d <= 1e-5 * scale, "%s: the halves' input gradients differ by %.3g (of %.3g)", what, d, scale);
    float *g = check_floats(np);
    for (size_t i = 0; i < np; i++) g[i] = ganc_net_grads(part[0])[i] + ganc_net_grads(part[1])[i];
    d = max_abs_diff(ganc_net_grads(whole), g, np, &scale);
    CHECK(d <= 1e-5 * scale, "%s: the halves' parameter gradients add up to the whole's within %.3g (of %.3g)", what, d,
          scale);
    const size_t ns = ganc_net_state_count(whole);
    d = max_abs_diff(ganc_net_state(whole), ganc_net_state(part[0]), ns, &scale);
    CHECK(d <= 1e-6 * scale, "%s: running statistics differ from the whole batch's by %.3g", what, d);
    CHECK(!memcmp(ganc_net_state(part[0]), ganc_net_state(part[1]), sizeof(float) * ns),
          "%s: the halves' running statistics differ", what);
    free(g);
    free(x);
    free(dy);
    free(yw);
    free(dxw);
    free(yp);
    free(dxp);
    ganc_net_free(whole);
    ganc_net_free(part[0]);
    ganc_net_free(part[1]);
}

static void test_batchnorm_sync(void)
{
    bn_sync_case("batchnorm over planes", (ganc_shape){3, 4, 5}, "batchnorm momentum=0.3", 0);
    bn_sync_case("batchnorm after dense (rows)", (ganc_shape){70, 1, 1}, "batchnorm", 0);
    bn_sync_case("conditional batchnorm", (ganc_shape){3, 2, 3}, "batchnorm classes=3", 3);
}

static void test_batchnorm_modes(void)
{
    const ganc_shape in = {3, 4, 5};
    const int nb = 6, plane = 20;
    const float mom = 0.3f, eps = 1e-3f;
    ganc_net *net = test_make_net("bn", in, "batchnorm momentum=0.3 eps=1e-3", nb);
    if (!net) return;
    const size_t sz = ganc_shape_size(in), total = nb * sz;
    float *x = check_floats(total), *x2 = check_floats(total);
    ganc_rng r;
    ganc_rng_seed(&r, 3);
    ganc_rng_normal(&r, x, total, 0.0f, 1.0f);
    for (int i = 0; i < nb; i++)
        for (int c = 0; c < 3; c++)
            for (int j = 0; j < plane; j++) x[i * sz + c * plane + j] = x[i * sz + c * plane + j] * (1.0f + c) + 2.0f * c - 1.0f;
    ganc_rng_normal(&r, x2, total, 0.5f, 2.0f);
    float *gamma = ganc_net_view_data(net, ganc_net_find_view(net, "bn.0.weight"));
    float *beta = ganc_net_view_data(net, ganc_net_find_view(net, "bn.0.bias"));
    const float *rm = ganc_net_view_data(net, ganc_net_find_view(net, "bn.0.running_mean"));
    const float *rv = ganc_net_view_data(net, ganc_net_find_view(net, "bn.0.running_var"));
    CHECK(rm[0] == 0.0f && rm[2] == 0.0f && rv[0] == 1.0f && rv[2] == 1.0f, "running stats do not start at (0, 1)");
    const float g[3] = {1.5f, -0.5f, 2.0f}, b[3] = {0.25f, 1.0f, -3.0f};
    memcpy(gamma, g, sizeof g);
    memcpy(beta, b, sizeof b);

    const float *y = ganc_net_forward(net, x, nb);
    double mean[3], var[3];
    for (int c = 0; c < 3; c++) {
        double s = 0, ss = 0;
        for (int i = 0; i < nb; i++)
            for (int j = 0; j < plane; j++) s += x[i * sz + c * plane + j];
        mean[c] = s / (nb * plane);
        for (int i = 0; i < nb; i++)
            for (int j = 0; j < plane; j++) {
                const double d = x[i * sz + c * plane + j] - mean[c];
                ss += d * d;
            }
        var[c] = ss / (nb * plane);
        const double unbiased = ss / (nb * plane - 1);
        CHECK(fabs(rm[c] - mom * mean[c]) <= 1e-6 * (1 + fabs(mean[c])), "channel %d running_mean %.7f, want m*mean = %.7f",
              c, rm[c], mom * mean[c]);
        const double want_rv = (1.0 - mom) * 1.0 + mom * unbiased;
        CHECK(fabs(rv[c] - want_rv) <= 1e-6 * want_rv, "channel %d running_var %.7f, want %.7f", c, rv[c], want_rv);
        /* Training output: normalised with the batch statistics. */
        double worst = 0;
        for (int i = 0; i < nb; i++)
            for (int j = 0; j < plane; j++) {
                const size_t k = i * sz + c * plane + j;
                const double want = g[c] * (x[k] - mean[c]) / sqrt(var[c] + eps) + b[c];
                if (fabs(y[k] - want) > worst) worst = fabs(y[k] - want);
            }
        CHECK(worst <= 1e-5 * (1 + fabs(g[c]) * 4), "channel %d training output off by %.3g", c, worst);
    }
    /* Eval mode: y = gamma (x - running_mean) / sqrt(running_var + eps) + beta, and the running
     * statistics stay as they are. */
    float rm_before[3], rv_before[3];
    memcpy(rm_before, rm, sizeof rm_before);
    memcpy(rv_before, rv, sizeof rv_before);
    ganc_net_set_training(net, 0);
    y = ganc_net_forward(net, x2, nb);
    double worst = 0;
    for (int i = 0; i < nb; i++)
        for (int c = 0; c < 3; c++)
            for (int j = 0; j < plane; j++) {
                const size_t k = i * sz + c * plane + j;
                const double want = g[c] * ((double)x2[k] - rm[c]) / sqrt((double)rv[c] + eps) + b[c];
                if (fabs(y[k] - want) / (1 + fabs(want)) > worst) worst = fabs(y[k] - want) / (1 + fabs(want));
            }
    CHECK(worst <= 1e-5, "eval batch norm differs from the running-stats closed form by %.3g", worst);
    CHECK(!memcmp(rm_before, rm, sizeof rm_before) && !memcmp(rv_before, rv, sizeof rv_before),
          "eval forward changed the running statistics");
    /* Eval backward: dx = gamma / sqrt(running_var + eps) * dy. */
    float *dy = check_floats(total), *dx = check_floats(total);
    ganc_rng_normal(&r, dy, total, 0.0f, 1.0f);
    ganc_net_backward(net, dy, dx, 0);
    worst = 0;
    for (int i = 0; i < nb; i++)
        for (int c = 0; c < 3; c++)
            for (int j = 0; j < plane; j++) {
                const size_t k = i * sz + c * plane + j;
                const double want = g[c] / sqrt((double)rv[c] + eps) * dy[k];
                if (fabs(dx[k] - want) > worst) worst = fabs(dx[k] - want);
            }
    CHECK(worst <= 1e-5, "eval batch-norm backward differs from gamma/sqrt(rv+eps)*dy by %.3g", worst);
    free(x);
    free(x2);
    free(dy);
    free(dx);
    ganc_net_free(net);
}

static void test_dropout_modes(void)
{
    const ganc_shape in = {500, 2, 2};
    const int nb = 50;
    const size_t total = nb * ganc_shape_size(in);
    const struct {
        const char *line;
        double p;
    } cases[] = {{"dropout p=0.3", 0.3}, {"dropout keep=0.9", 0.1}, {"dropout", 0.5}};
    float *x = check_floats(total), *y1 = check_floats(total), *dy = check_floats(total), *dx = check_floats(total);
    ganc_rng r;
    ganc_rng_seed(&r, 21);
    for (int t = 0; t < 3; t++) {
        ganc_net *net = test_make_net("drop", in, cases[t].line, nb);
        if (!net) continue;
        ganc_rng_seed(ganc_net_rng(net), 1000 + t);
        ganc_rng_uniform(&r, x, total, 0.5f, 2.0f);
        ganc_rng_normal(&r, dy, total, 0.0f, 1.0f);
        const double p = cases[t].p, scale = 1.0 / (1.0 - p);
        const float fscale = 1.0f / (1.0f - ganc_net_layer_spec(net, 0)->p);

        /* Training: about p of the units are zero, the others are x / (1 - p). */
        const float *y = ganc_net_forward(net, x, nb);
        size_t zeros = 0, bad_scale = 0;
        for (size_t i = 0; i < total; i++) {
            if (y[i] == 0.0f) zeros++;
            else if (fabs((double)y[i] / x[i] - scale) > 1e-6 * scale) bad_scale++;
        }
        CHECK(fabs((double)zeros / total - p) <= NSIG * sqrt(p * (1 - p) / total), "%s: %.5f of units dropped, want %g",
              cases[t].line, (double)zeros / total, p);
        CHECK(bad_scale == 0, "%s: %zu survivors not scaled by 1/(1-p) = %.7f", cases[t].line, bad_scale, scale);
        memcpy(y1, y, total * sizeof(float));

        /* Backward passes the same mask: dx = dy * y / x exactly where kept, 0 where dropped. */
        ganc_net_backward(net, dy, dx, 1);
        size_t bad_mask = 0;
        for (size_t i = 0; i < total; i++) {
            if (y1[i] == 0.0f ? dx[i] != 0.0f : fabs(dx[i] - (double)dy[i] * fscale) > 1e-6 * fabs(dy[i] * fscale))
                bad_mask++;
        }
        CHECK(bad_mask == 0, "%s: backward disagrees with the forward mask at %zu units", cases[t].line, bad_mask);

        /* A second training forward draws a fresh mask. */
        y = ganc_net_forward(net, x, nb);
        size_t diff = 0;
        for (size_t i = 0; i < total; i++) diff += (y[i] == 0.0f) != (y1[i] == 0.0f);
        CHECK(diff > total * p * (1 - p), "%s: second mask differs at only %zu units", cases[t].line, diff);

        /* The mask comes from the network's generator: same seed, same mask. */
        ganc_rng_seed(ganc_net_rng(net), 1000 + t);
        y = ganc_net_forward(net, x, nb);
        CHECK(!memcmp(y, y1, total * sizeof(float)), "%s: reseeding the net's generator did not repeat the mask",
              cases[t].line);

        /* Eval: the identity, forward and backward. */
        ganc_net_set_training(net, 0);
        y = ganc_net_forward(net, x, nb);
        CHECK(!memcmp(y, x, total * sizeof(float)), "%s: eval forward is not the identity", cases[t].line);
        ganc_net_backward(net, dy, dx, 1);
        CHECK(!memcmp(dx, dy, total * sizeof(float)), "%s: eval backward is not the identity", cases[t].line);
        ganc_net_free(net);
    }
    free(x);
    free(y1);
    free(dy);
    free(dx);
}

/* ---- 6. initialisers -------------------------------------------------------------------- */

/* Uniform(-bound, bound): all within, the extreme close to the bound, and mean square
 * bound^2/3 within 5 standard errors (Var w^2 = 4 bound^4 / 45). */
static void check_uniform_init(const char *what, const float *w, size_t n, double bound)
{
    double ss = 0.0, mx = 0.0, s = 0.0;
    size_t outside = 0;
    for (size_t i = 0; i < n; i++) {
        const double a = fabs((double)w[i]);
        if (a > bound * (1 + 1e-6)) outside++;
        if (a > mx) mx = a;
        ss += a * a;
        s += w[i];
    }
    CHECK(outside == 0, "%s: %zu of %zu values outside +-%.6f", what, outside, n, bound);
    CHECK(mx >= bound * (1 - 10.0 / n), "%s: largest |w| %.6f, bound %.6f (wrong fan-in?)", what, mx, bound);
    const double b2 = bound * bound;
    CHECK(fabs(ss / n - b2 / 3) <= NSIG * sqrt(4.0 * b2 * b2 / 45.0 / n), "%s: mean square %.4g, want %.4g", what,
          ss / n, b2 / 3);
    CHECK(fabs(s / n) <= NSIG * bound / sqrt(3.0 * n), "%s: mean %.4g", what, s / n);
}

static void check_normal_init(const char *what, const float *w, size_t n, double mean, double std)
{
    moments m = moments_of(w, n);
    CHECK(fabs(m.mean - mean) <= NSIG * std / sqrt((double)n), "%s: mean %.5f, want %.5f", what, m.mean, mean);
    CHECK(fabs(sqrt(m.var) - std) <= NSIG * std / sqrt(2.0 * n), "%s: std %.5f, want %.5f", what, sqrt(m.var), std);
}

static int all_equal(const float *w, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] != v) return 0;
    return 1;
}

static void test_init(void)
{
    /* dense 512 -> 256; conv 32 -> 64 k=5 (fan-in 800); deconv 32 -> 16 k=4 (PyTorch's fan-in
     * uses the OUTPUT channels: 16*16 = 256, not 32*16 = 512); batchnorm over 4096 channels. */
    ganc_net *dn = test_make_net("d", (ganc_shape){512, 1, 1}, "dense 256", 1);
    ganc_net *cn = test_make_net("c", (ganc_shape){32, 6, 6}, "conv 64 k=5", 1);
    ganc_net *tn = test_make_net("t", (ganc_shape){32, 3, 3}, "deconv 16 k=4", 1);
    ganc_net *bn = test_make_net("b", (ganc_shape){4096, 1, 1}, "batchnorm", 1);
    if (!dn || !cn || !tn || !bn) goto out;
    ganc_rng r;
    ganc_rng_seed(&r, 31337);

    ganc_net_init(dn, GANC_INIT_TORCH, &r);
    ganc_net_init(cn, GANC_INIT_TORCH, &r);
    ganc_net_init(tn, GANC_INIT_TORCH, &r);
    ganc_net_init(bn, GANC_INIT_TORCH, &r);
    const ganc_view *v;
    v = ganc_net_find_view(dn, "d.0.weight");
    check_uniform_init("torch dense weight", ganc_net_view_data(dn, v), v->count, 1.0 / sqrt(512.0));
    v = ganc_net_find_view(dn, "d.0.bias");
    {
        const float *bb = ganc_net_view_data(dn, v);
        double mx = 0;
        for (size_t i = 0; i < v->count; i++) mx = fmax(mx, fabs(bb[i]));
        CHECK(mx <= 1.0 / sqrt(512.0) && mx > 0.5 / sqrt(512.0), "torch dense bias: max |b| %.5f, bound %.5f", mx,
              1.0 / sqrt(512.0));
    }
    v = ganc_net_find_view(cn, "c.0.weight");
    check_uniform_init("torch conv weight", ganc_net_view_data(cn, v), v->count, 1.0 / sqrt(32.0 * 25));
    v = ganc_net_find_view(cn, "c.0.bias");
    {
        const float *bb = ganc_net_view_data(cn, v);
        double mx = 0;
        for (size_t i = 0; i < v->count; i++) mx = fmax(mx, fabs(bb[i]));
        CHECK(mx <= 1.0 / sqrt(800.0) && mx > 0.5 / sqrt(800.0), "torch conv bias: max |b| %.5f", mx);
    }
    v = ganc_net_find_view(tn, "t.0.weight");
    check_uniform_init("torch deconv weight", ganc_net_view_data(tn, v), v->count, 1.0 / sqrt(16.0 * 16));
    v = ganc_net_find_view(tn, "t.0.bias");
    {
        const float *bb = ganc_net_view_data(tn, v);
        double mx = 0;
        for (size_t i = 0; i < v->count; i++) mx = fmax(mx, fabs(bb[i]));
        CHECK(mx <= 1.0 / 16.0, "torch deconv bias: max |b| %.5f > 1/16", mx);
    }
    CHECK(all_equal(ganc_net_view_data(bn, ganc_net_find_view(bn, "b.0.weight")), 4096, 1.0f) &&
              all_equal(ganc_net_view_data(bn, ganc_net_find_view(bn, "b.0.bias")), 4096, 0.0f),
          "torch batchnorm init is not gamma = 1, beta = 0");

    /* DCGAN: N(0, 0.02) weights, zero biases, gamma ~ N(1, 0.02), beta 0, stats reset. */
    float *st = ganc_net_state(bn);
    for (int i = 0; i < 8192; i++) st[i] = 7.0f;
    ganc_net_init(dn, GANC_INIT_DCGAN, &r);
    ganc_net_init(cn, GANC_INIT_DCGAN, &r);
    ganc_net_init(tn, GANC_INIT_DCGAN, &r);
    ganc_net_init(bn, GANC_INIT_DCGAN, &r);
    v = ganc_net_find_view(dn, "d.0.weight");
    check_normal_init("dcgan dense weight", ganc_net_view_data(dn, v), v->count, 0.0, 0.02);
    v = ganc_net_find_view(cn, "c.0.weight");
    check_normal_init("dcgan conv weight", ganc_net_view_data(cn, v), v->count, 0.0, 0.02);
    v = ganc_net_find_view(tn, "t.0.weight");
    check_normal_init("dcgan deconv weight", ganc_net_view_data(tn, v), v->count, 0.0, 0.02);
    CHECK(all_equal(ganc_net_view_data(dn, ganc_net_find_view(dn, "d.0.bias")), 256, 0.0f) &&
              all_equal(ganc_net_view_data(cn, ganc_net_find_view(cn, "c.0.bias")), 64, 0.0f) &&
              all_equal(ganc_net_view_data(tn, ganc_net_find_view(tn, "t.0.bias")), 16, 0.0f),
          "dcgan biases are not all zero");
    check_normal_init("dcgan batchnorm gamma", ganc_net_view_data(bn, ganc_net_find_view(bn, "b.0.weight")), 4096, 1.0,
                      0.02);
    CHECK(all_equal(ganc_net_view_data(bn, ganc_net_find_view(bn, "b.0.bias")), 4096, 0.0f),
          "dcgan batchnorm beta is not zero");
    CHECK(all_equal(st, 4096, 0.0f) && all_equal(st + 4096, 4096, 1.0f),
          "init did not reset the running statistics to (0, 1)");
out:
    ganc_net_free(dn);
    ganc_net_free(cn);
    ganc_net_free(tn);
    ganc_net_free(bn);
}

/* ---- 7. optimizers ------------------------------------------------------------------------ */

enum { ON = 67 }; /* (not a multiple of 8: the vector loop and its scalar tail) */

static void opt_data(ganc_rng *r, float *p, float *g0, float *g1)
{
    ganc_rng_uniform(r, p, ON, -2.0f, 2.0f);
    ganc_rng_normal(r, g0, ON, 0.0f, 1.0f);
    ganc_rng_normal(r, g1, ON, 0.0f, 1.0f);
    /* Spread the gradients over many magnitudes, where eps matters too, with both signs. */
    for (int i = 0; i < ON; i++) {
        g0[i] *= powf(10.0f, (float)(i % 12) - 9.0f);
        g1[i] *= powf(10.0f, (float)((i * 7) % 12) - 9.0f);
    }
    g0[0] = 0.0f;
}

/* |got - want| within a few float roundings of the parameter plus a relative error of the step. */
static int param_close(float got, double want, double prev, double step)
{
    return fabs(got - want) <= 4.0 * FLT_EPSILON * fmax(fabs(want), fabs(prev)) + 1e-5 * fabs(step) + 1e-30;
}

static void test_adam(void)
{
    float p[ON], g0[ON], g1[ON], p0[ON], p1[ON];
    ganc_rng r;
    ganc_rng_seed(&r, 4);
    const float epss[] = {1e-8f, 1e-3f};
    const float wds[] = {0.0f, 0.1f};
    for (int e = 0; e < 2; e++)
        for (int w = 0; w < 2; w++) {
            opt_data(&r, p, g0, g1);
            memcpy(p0, p, sizeof p);
            ganc_optim_config cfg = ganc_optim_default(GANC_OPTIM_ADAM);
            CHECK(cfg.beta1 == 0.9f && cfg.beta2 == 0.999f && cfg.eps == 1e-8f && cfg.lr == 1e-3f,
                  "Adam defaults are not PyTorch's");
            cfg.lr = 0.01f;
            cfg.beta1 = 0.5f; /* the DCGAN setting */
            cfg.eps = epss[e];
            cfg.weight_decay = wds[w];
            ganc_optim opt;
            ganc_optim_init(&opt, &cfg, ON);
            const double lr = cfg.lr, b1 = cfg.beta1, b2 = cfg.beta2, eps = cfg.eps, wd = cfg.weight_decay;

            /* Step 1: m_hat = g, v_hat = g^2, so p1 = p0 - lr g / (|g| + eps), g including wd p0. */
            ganc_optim_step(&opt, p, g0);
            int bad1 = 0, bad2 = 0;
            double m[ON], v[ON];
            for (int i = 0; i < ON; i++) {
                const double g = (double)g0[i] + wd * p0[i];
                const double step = lr * g / (fabs(g) + eps);
                if (!param_close(p[i], p0[i] - step, p0[i], step)) {
                    if (!bad1)
                        fprintf(stderr, "  adam step 1 [%d]: got %.9g want %.9g (g %.3g)\n", i, p[i], p0[i] - step, g);
                    bad1++;
                }
                m[i] = (1 - b1) * g;
                v[i] = (1 - b2) * g * g;
            }
            CHECK(bad1 == 0, "Adam (eps %g, wd %g) step 1 differs from -lr g/(|g|+eps) at %d of %d", eps, wd, bad1, ON);
            memcpy(p1, p, sizeof p);

            /* Step 2 by hand, in double, from the library's p1. */
            ganc_optim_step(&opt, p, g1);
            const double bc1 = 1 - b1 * b1, bc2 = 1 - b2 * b2;
            for (int i = 0; i < ON; i++) {
                const double g = (double)g1[i] + wd * p1[i];
                const double m2 = b1 * m[i] + (1 - b1) * g, v2 = b2 * v[i] + (1 - b2) * g * g;
                const double step = lr / bc1 * m2 / (sqrt(v2) / sqrt(bc2) + eps);
                if (!param_close(p[i], p1[i] - step, p1[i], step)) {
                    if (!bad2) fprintf(stderr, "  adam step 2 [%d]: got %.9g want %.9g\n", i, p[i], p1[i] - step);
                    bad2++;
                }
            }
            CHECK(bad2 == 0, "Adam (eps %g, wd %g) step 2 differs from the hand recurrence at %d of %d", eps, wd, bad2,
                  ON);
            CHECK(opt.step == 2, "Adam step counter %lld", (long long)opt.step);
            ganc_optim_free(&opt);
        }
    /* A parameter with zero gradient and no decay stays where it is. */
    {
        ganc_optim_config cfg = ganc_optim_default(GANC_OPTIM_ADAM);
        ganc_optim opt;
        ganc_optim_init(&opt, &cfg, 3);
        float q[3] = {1.0f, -2.0f, 3.0f}, z[3] = {0, 0, 0};
        ganc_optim_step(&opt, q, z);
        CHECK(q[0] == 1.0f && q[1] == -2.0f && q[2] == 3.0f, "Adam moved parameters with zero gradient");
        ganc_optim_free(&opt);
    }
}

static void test_sgd(void)
{
    float p[ON], g0[ON], g1[ON], g2[ON], p0[ON], p1[ON], p2[ON];
    ganc_rng r;
    ganc_rng_seed(&r, 5);
    for (int variant = 0; variant < 4; variant++) {
        /* 0: plain, 1: momentum, 2: nesterov, 3: momentum + weight decay */
        opt_data(&r, p, g0, g1);
        ganc_rng_normal(&r, g2, ON, 0.0f, 0.1f);
        memcpy(p0, p, sizeof p);
        ganc_optim_config cfg = ganc_optim_default(GANC_OPTIM_SGD);
        cfg.lr = 0.05f;
        cfg.momentum = variant ? 0.9f : 0.0f;
        cfg.nesterov = variant == 2;
        cfg.weight_decay = variant == 3 ? 0.01f : 0.0f;
        const double lr = cfg.lr, mom = cfg.momentum, wd = cfg.weight_decay;
        ganc_optim opt;
        ganc_optim_init(&opt, &cfg, ON);
        int bad[3] = {0, 0, 0};
        double buf[ON];
        ganc_optim_step(&opt, p, g0);
        for (int i = 0; i < ON; i++) {
            const double g = (double)g0[i] + wd * p0[i];
            buf[i] = g;
            const double d = variant == 2 ? g + mom * g : g; /* p1 = p0 - lr g0 (nesterov: (1+mom) g0) */
            bad[0] += !param_close(p[i], p0[i] - lr * d, p0[i], lr * d);
        }
        memcpy(p1, p, sizeof p);
        ganc_optim_step(&opt, p, g1);
        for (int i = 0; i < ON; i++) {
            const double g = (double)g1[i] + wd * p1[i];
            buf[i] = mom * buf[i] + g; /* p2 = p1 - lr (mom g0 + g1) */
            const double d = variant == 2 ? g + mom * buf[i] : variant ? buf[i] : g;
            bad[1] += !param_close(p[i], p1[i] - lr * d, p1[i], lr * d);
        }
        memcpy(p2, p, sizeof p);
        ganc_optim_step(&opt, p, g2);
        for (int i = 0; i < ON; i++) {
            const double g = (double)g2[i] + wd * p2[i];
            buf[i] = mom * buf[i] + g;
            const double d = variant == 2 ? g + mom * buf[i] : variant ? buf[i] : g;
            bad[2] += !param_close(p[i], p2[i] - lr * d, p2[i], lr * d);
        }
        for (int s = 0; s < 3; s++)
            CHECK(bad[s] == 0, "SGD variant %d (mom %g nesterov %d wd %g) step %d differs at %d of %d", variant, mom,
                  cfg.nesterov, wd, s + 1, bad[s], ON);
        ganc_optim_free(&opt);
    }
    /* The exact textbook numbers: p = 1, g0 = 1, g1 = 2, lr 0.5, momentum 0.5. */
    ganc_optim_config cfg = ganc_optim_default(GANC_OPTIM_SGD);
    cfg.lr = 0.5f;
    cfg.momentum = 0.5f;
    ganc_optim opt;
    ganc_optim_init(&opt, &cfg, 1);
    float q = 1.0f, ga = 1.0f, gb = 2.0f;
    ganc_optim_step(&opt, &q, &ga);
    CHECK(q == 0.5f, "SGD momentum step 1: %g, want 0.5", q);
    ganc_optim_step(&opt, &q, &gb);
    CHECK(q == -0.75f, "SGD momentum step 2: %g, want 0.5 - 0.5 * (0.5 + 2) = -0.75", q);
    ganc_optim_free(&opt);
    cfg.nesterov = 1;
    ganc_optim_init(&opt, &cfg, 1);
    q = 1.0f;
    ganc_optim_step(&opt, &q, &ga);
    CHECK(q == 0.25f, "SGD nesterov step 1: %g, want 1 - 0.5 * 1.5 = 0.25", q);
    ganc_optim_step(&opt, &q, &gb);
    CHECK(q == -1.375f, "SGD nesterov step 2: %g, want 0.25 - 0.5 * (2 + 0.5 * 2.5) = -1.375", q);
    ganc_optim_free(&opt);
}

/* ---- 8. BCE with logits ------------------------------------------------------------------- */

static void test_bce(void)
{
    const float extremes[] = {1e4f, -1e4f, 88.0f, -88.0f, 1e30f, -1e30f, 0.0f, 100.0f, -100.0f};
    const int ne = (int)(sizeof extremes / sizeof extremes[0]);
    const float targets[] = {0.0f, 1.0f, 0.5f, 0.3f};
    float dz[16];
    for (int t = 0; t < 4; t++) {
        const double loss = ganc_bce_logits(extremes, NULL, targets[t], ne, dz, 1.0f);
        int finite = isfinite(loss) != 0;
        for (int i = 0; i < ne; i++) finite &= isfinite(dz[i]) != 0;
        CHECK(finite, "bce with extreme logits, target %g: loss or gradient not finite", targets[t]);
        for (int i = 0; i < ne; i++) {
            const float zi = extremes[i];
            const double l1 = ganc_bce_logits(&zi, NULL, targets[t], 1, &dz[15], 1.0f);
            /* Closed forms: for |z| >= 88, max(z,0) - z t (log(1+e^-|z|) < 1e-38); log 2 at 0. */
            const long double want = zi == 0.0f ? 0.69314718055994530942L
                                                : (zi > 0 ? (long double)zi : 0.0L) - (long double)zi * targets[t];
            CHECK(isfinite(l1) && fabsl((long double)l1 - want) <= 1e-6L * fabsl(want) + 1e-30L,
                  "bce(z=%g, t=%g) = %.9g, want %.9Lg", zi, targets[t], l1, want);
            /* gradient sigmoid(z) - t with sigmoid(z) = 1, 0 or 1/2 up to e^-88 */
            const double want_dz = (zi > 0 ? 1.0 : zi < 0 ? 0.0 : 0.5) - targets[t];
            CHECK(fabs(dz[15] - want_dz) <= 1e-30 + 1e-7 * fabs(want_dz), "bce grad(z=%g, t=%g) = %.9g, want %.9g", zi,
                  targets[t], dz[15], want_dz);
        }
    }
    /* z = 0: loss log 2 whatever the target. */
    const float zero = 0.0f;
    for (int t = 0; t < 4; t++) {
        const double l = ganc_bce_logits(&zero, NULL, targets[t], 1, NULL, 1.0f);
        CHECK(fabs(l - 0.69314718055994530942) <= 1e-15, "bce(0, t=%g) = %.17g, want log 2", targets[t], l);
    }
    /* Target 1, z = 1e4: loss 0 and gradient 0; target 0, z = 1e4: loss 1e4. */
    const float big = 1e4f;
    float g = 1.0f;
    double l = ganc_bce_logits(&big, NULL, 1.0f, 1, &g, 1.0f);
    CHECK(l == 0.0 && g == 0.0f, "bce(1e4, t=1): loss %g, grad %g, want 0 and 0", l, g);
    l = ganc_bce_logits(&big, NULL, 0.0f, 1, &g, 1.0f);
    CHECK(fabs(l - 1e4) <= 1e-6 * 1e4 && g == 1.0f, "bce(1e4, t=0): loss %.9g, grad %g, want 1e4 and 1", l, g);

    /* A range of logits: loss and gradient against long-double closed forms, with per-value
     * targets, a mean over n and a scale. */
    enum { N = 201 };
    float z[N], tt[N], got[N], got2[N];
    for (int i = 0; i < N; i++) {
        z[i] = -40.0f + 0.4f * (float)i + 0.0137f * (float)(i % 7);
        tt[i] = (float)(i % 5) * 0.25f;
    }
    const float scale = -2.5f;
    const double loss = ganc_bce_logits(z, tt, 0.0f, N, got, scale);
    long double want_loss = 0.0L;
    int bad = 0;
    for (int i = 0; i < N; i++) {
        const long double zi = z[i], ti = tt[i];
        want_loss += (zi > 0 ? zi : 0.0L) - zi * ti + log1pl(expl(-fabsl(zi)));
        const long double sig = 1.0L / (1.0L + expl(-zi));
        const long double want = (sig - ti) / N * scale;
        /* float rounding of the result plus double rounding of sigmoid(z) - t */
        const long double tol = 4.0L * FLT_EPSILON * fabsl(want) + 4.0L * DBL_EPSILON * fabsl((long double)scale) / N;
        if (!(fabsl((long double)got[i] - want) <= tol)) {
            if (!bad) fprintf(stderr, "  bce grad z=%g t=%g: got %.9g want %.9Lg\n", z[i], tt[i], got[i], want);
            bad++;
        }
    }
    want_loss /= N;
    CHECK(bad == 0, "bce gradient differs from (sigmoid(z)-t)/n*scale at %d of %d logits", bad, N);
    CHECK(fabsl((long double)loss - want_loss) <= 1e-12L * fabsl(want_loss), "bce mean loss %.15g, want %.15Lg", loss,
          want_loss);
    /* A scalar target equals the same target given per value; dz == NULL changes nothing. */
    for (int i = 0; i < N; i++) tt[i] = 1.0f;
    const double la = ganc_bce_logits(z, tt, 0.0f, N, got, 1.0f);
    const double lb = ganc_bce_logits(z, NULL, 1.0f, N, got2, 1.0f);
    const double lc = ganc_bce_logits(z, NULL, 1.0f, N, NULL, 1.0f);
    CHECK(la == lb && lb == lc && !memcmp(got, got2, sizeof got), "scalar target differs from per-value targets");
    CHECK(ganc_bce_logits(z, NULL, 1.0f, 0, NULL, 1.0f) == 0.0, "bce over 0 values is not 0");
}

/* The vectorisable exp(x) - 1 behind ELU, sigmoid and tanh, against libm's in double:
 * relative error within 4 float ulps over [-90, 0], exactly -1 far left, 0 at 0. */
static void test_vmath(void)
{
    double worst = 0.0;
    float worst_x = 0.0f;
    for (int i = 0; i <= 2000000; i++) {
        const float x = -90.0f * (float)i / 2000000.0f;
        const double want = expm1((double)x), got = ganc_expm1_neg(x);
        const double rel = fabs(got - want) / fabs(want == 0.0 ? 1.0 : want);
        if (rel > worst) {
            worst = rel;
            worst_x = x;
        }
    }
    for (float x = -1e-3f; x < 0.0f; x *= 0.5f) {
        const double rel = fabs(ganc_expm1_neg(x) - expm1((double)x)) / fabs(expm1((double)x));
        if (rel > worst) {
            worst = rel;
            worst_x = x;
        }
        if (x > -1e-30f) break;
    }
    CHECK(worst <= 4 * FLT_EPSILON, "ganc_expm1_neg: relative error %.3g at x = %.9g", worst, worst_x);
    CHECK(ganc_expm1_neg(-1000.0f) == -1.0f && ganc_expm1_neg(0.0f) == 0.0f, "ganc_expm1_neg limits");
}

/* The activations bit for bit as they have always been computed: the ?: formulas written out
 * here, one value at a time, against the layers' vectorised loops (which select with
 * ganc_select), on values with both zeros, tiny, huge, infinite and NaN ones among them (a
 * checkpoint depends on every bit). */
static float ref_sigmoid(float v)
{
    const float e = ganc_expm1_neg(-fabsf(v)) + 1.0f, s = 1.0f / (1.0f + e);
    return v >= 0.0f ? s : e * s;
}

static float ref_tanh(float v)
{
    const float em1 = ganc_expm1_neg(-2.0f * fabsf(v)), t = -em1 / (em1 + 2.0f);
    return v >= 0.0f ? t : -t;
}

static void test_activation_bits(void)
{
    enum { N = 4, F = 1000 };
    static float x[N * F], dy[N * F], dx[N * F];
    ganc_rng rng;
    ganc_rng_seed(&rng, 77);
    ganc_rng_normal(&rng, x, N * F, 0.0f, 3.0f);
    ganc_rng_normal(&rng, dy, N * F, 0.0f, 1.0f);
    const float special[] = {0.0f, -0.0f, 1e-40f, -1e-40f, FLT_MIN, -FLT_MIN, 88.0f, -88.0f, 1e30f, -1e30f,
                             INFINITY, -INFINITY, NAN, -NAN};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) x[3 * i + 5] = special[i];
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) dy[7 * i + 100] = special[i];
    const char *names[5] = {"relu", "lrelu slope=0.2", "elu alpha=0.7", "tanh", "sigmoid"};
    for (int k = 0; k < 5; k++) {
        ganc_net *net = test_make_net("act", (ganc_shape){F, 1, 1}, names[k], N);
        if (!net) return;
        const float *y = ganc_net_forward(net, x, N);
        ganc_net_backward(net, dy, dx, 1);
        int bad_y = 0, bad_dx = 0;
        for (int i = 0; i < N * F; i++) {
            const float v = x[i];
            float want_y, want_d;
            switch (k) {
            case 0: want_y = v > 0.0f ? v : 0.0f; want_d = dy[i] * (v > 0.0f ? 1.0f : 0.0f); break;
            case 1: want_y = v > 0.0f ? v : 0.2f * v; want_d = dy[i] * (v > 0.0f ? 1.0f : 0.2f); break;
            case 2: want_y = v > 0.0f ? v : 0.7f * ganc_expm1_neg(v < 0.0f ? v : 0.0f);
                    want_d = dy[i] * (v > 0.0f ? 1.0f : want_y + 0.7f); break;
            case 3: want_y = ref_tanh(v); want_d = dy[i] * (1.0f - want_y * want_y); break;
            default: want_y = ref_sigmoid(v); want_d = dy[i] * (want_y * (1.0f - want_y)); break;
            }
            bad_y += memcmp(&y[i], &want_y, sizeof(float)) != 0;
            bad_dx += memcmp(&dx[i], &want_d, sizeof(float)) != 0;
        }
        CHECK(bad_y == 0 && bad_dx == 0, "%s: %d outputs and %d input gradients differ from the formula in their bits",
              names[k], bad_y, bad_dx);
        ganc_net_free(net);
    }
    /* and the blend itself, on the same values */
    int bad = 0;
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        for (size_t j = 0; j < sizeof special / sizeof special[0]; j++)
            for (int c = 0; c < 2; c++) {
                const float got = ganc_select(c, special[i], special[j]), want = c ? special[i] : special[j];
                bad += memcmp(&got, &want, sizeof got) != 0;
            }
    CHECK(bad == 0, "ganc_select: %d of %d selections differ from ?: in their bits", bad, 2 * 14 * 14);
}

/* ---- maxout, mbstd, spectral norm ------------------------------------------------------- */
/* The mbstd gate (--mbstd-until's schedule) against the gate-1 layer, itself checked against
 * PyTorch (tests/fixtures/layer_mbstd_*): the features pass unchanged at any gate, the appended
 * statistic and its input-gradient term scale linearly, and gate 0 leaves dx = dy's features. */
static void test_mbstd_gate(void)
{
    enum { N = 4, F = 3 };
    ganc_net *net = test_make_net("gate", (ganc_shape){F, 1, 1}, "mbstd group=2\n", N);
    if (!net) return;
    CHECK(ganc_net_set_mbstd_gate(net, 1.0f) == 1, "set_mbstd_gate does not count the one mbstd layer");
    float x[N * F], dy[N * (F + 1)], y1[N * (F + 1)], dx1[N * F], dx0[N * F], dxh[N * F];
    ganc_rng rng;
    ganc_rng_seed(&rng, 4242);
    ganc_rng_normal(&rng, x, N * F, 0.0f, 1.0f);
    ganc_rng_normal(&rng, dy, N * (F + 1), 0.0f, 1.0f);
    const float gates[3] = {1.0f, 0.3f, 0.0f};
    for (int k = 0; k < 3; k++) {
        ganc_net_set_mbstd_gate(net, gates[k]);
        const float *y = ganc_net_forward(net, x, N);
        float *dx = k == 0 ? dx1 : k == 1 ? dxh : dx0;
        if (k == 0) memcpy(y1, y, sizeof y1);
        int same_features = 1;
        double worst = 0.0;
        for (int i = 0; i < N; i++) {
            for (int f = 0; f < F; f++) same_features &= y[i * (F + 1) + f] == x[i * F + f];
            worst = fmax(worst, fabs(y[i * (F + 1) + F] - gates[k] * y1[i * (F + 1) + F]));
        }
        CHECK(same_features && worst <= 1e-6, "mbstd gate %g: features changed or statistic off by %.3g", gates[k], worst);
        ganc_net_backward(net, dy, dx, 0);
    }
    /* dx = dy_features + gate * term: the gate-0.3 term is 0.3 of the gate-1 one */
    double worst = 0.0;
    int plain = 1;
    for (int i = 0; i < N; i++)
        for (int f = 0; f < F; f++) {
            const float base = dy[i * (F + 1) + f];
            plain &= dx0[i * F + f] == base;
            worst = fmax(worst, fabs((dxh[i * F + f] - base) - 0.3 * (dx1[i * F + f] - base)));
        }
    CHECK(plain && worst <= 1e-6, "mbstd gate: dx at gate 0 is not dy's features, or the 0.3 term is off by %.3g", worst);
    ganc_net_free(net);
}

/* Held statistic (ganc_net_set_mbstd_hold): a held forward appends, to every sample of any
 * batch, the mean over groups of the statistic of the last batch seen unheld, computed here
 * from its definition (groups strided: sample i in group i % (N / G); biased variance + 1e-8);
 * its backward passes dy's features; released, the batch's own statistic is back. */
static void test_mbstd_hold(void)
{
    enum { N = 6, F = 3, G = 3, M = N / G, K = 4 };
    ganc_net *net = test_make_net("hold", (ganc_shape){F, 1, 1}, "mbstd group=3\n", N);
    if (!net) return;
    float x[N * F], q[K * F], dy[K * (F + 1)], dx[K * F], y0[N * (F + 1)];
    ganc_rng rng;
    ganc_rng_seed(&rng, 77);
    ganc_rng_normal(&rng, x, N * F, 0.0f, 1.0f);
    ganc_rng_normal(&rng, q, K * F, 3.0f, 5.0f);
    ganc_rng_normal(&rng, dy, K * (F + 1), 0.0f, 1.0f);
    double want = 0.0;
    for (int m = 0; m < M; m++) {
        double s = 0.0;
        for (int f = 0; f < F; f++) {
            double mu = 0.0, v = 0.0;
            for (int g = 0; g < G; g++) mu += x[(g * M + m) * F + f] / G;
            for (int g = 0; g < G; g++) v += (x[(g * M + m) * F + f] - mu) * (x[(g * M + m) * F + f] - mu) / G;
            s += sqrt(v + 1e-8) / F;
        }
        want += s / M;
    }
    memcpy(y0, ganc_net_forward(net, x, N), sizeof y0);
    CHECK(ganc_net_set_mbstd_gate(net, 0.5f) == 1 && ganc_net_set_mbstd_hold(net, 1) == 1, "hold does not count the mbstd layer");
    const float *y = ganc_net_forward(net, q, K);
    double worst = 0.0;
    int copied = 1;
    for (int i = 0; i < K; i++) {
        for (int f = 0; f < F; f++) copied &= y[i * (F + 1) + f] == q[i * F + f];
        worst = fmax(worst, fabs(y[i * (F + 1) + F] - 0.5 * want));
    }
    CHECK(copied && worst <= 1e-6, "held mbstd: features changed, or the statistic is off by %.3g (want 0.5 x %.6f)", worst, want);
    ganc_net_backward(net, dy, dx, 0);
    int plain = 1;
    for (int i = 0; i < K; i++)
        for (int f = 0; f < F; f++) plain &= dx[i * F + f] == dy[i * (F + 1) + f];
    CHECK(plain, "held mbstd: dx is not dy's features");
    ganc_net_set_mbstd_hold(net, 0);
    ganc_net_set_mbstd_gate(net, 1.0f);
    y = ganc_net_forward(net, x, N);
    int same = 1;
    for (int i = 0; i < N * (F + 1); i++) same &= y[i] == y0[i];
    CHECK(same, "released mbstd: the batch's own statistic is not back");
    ganc_net_free(net);
}


static double vec_norm(const float *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

/* The view `name` exists with `count` values and the state flag; returns its data or NULL. */
static float *expect_view(ganc_net *net, const char *name, size_t count, int is_state)
{
    const ganc_view *v = ganc_net_find_view(net, name);
    if (!CHECK(v != NULL, "no view %s", name)) return NULL;
    CHECK(v->count == count && v->is_state == is_state, "%s: %zu values (state %d), want %zu (%d)", name, v->count,
          v->is_state, count, is_state);
    return ganc_net_view_data(net, v);
}

/* Views named as PyTorch's spectral_norm names them (weight_orig, weight_u, weight_v; u as
 * long as the matrix has rows: outputs, or a ConvTranspose2d's output channels), u and v
 * drawn as unit vectors, shapes grown by mbstd, nothing allocated per step at any batch size
 * (mbstd's groups change with it), eval mode leaving u and v alone. */
static void test_stability_layers(void)
{
    const char *text = "conv 4 k=3 stride=2 pad=same sn\n" /* 4x3x3 */
                       "lrelu\n"
                       "mbstd group=4\n"                   /* 5x3x3 */
                       "deconv 3 k=4 stride=2 pad=1 sn\n"  /* 3x6x6 */
                       "flatten\n"                         /* 108 */
                       "maxout 6 pieces=3 sn\n"
                       "maxout 4 pieces=2\n"
                       "dense 1 sn\n";
    const int nb = 8;
    const ganc_shape in = {2, 6, 6};
    ganc_net *net = test_make_net("s", in, text, nb);
    if (!net) return;
    CHECK(shape_eq(ganc_net_layer_output_shape(net, 2), (ganc_shape){5, 3, 3}), "mbstd does not add one channel");
    CHECK(shape_eq(ganc_net_layer_output_shape(net, 5), (ganc_shape){6, 1, 1}), "maxout 6 pieces=3 output %d",
          ganc_net_layer_output_shape(net, 5).c);
    ganc_rng r;
    ganc_rng_seed(&r, 5);
    ganc_net_init(net, GANC_INIT_DCGAN, &r);
    CHECK(!ganc_net_find_view(net, "s.0.weight") && !ganc_net_find_view(net, "s.2.weight"),
          "an sn layer has a plain weight view, or mbstd has parameters");
    expect_view(net, "s.0.weight_orig", 4 * 2 * 9, 0);
    expect_view(net, "s.3.weight_orig", 5 * 3 * 16, 0);
    expect_view(net, "s.5.weight_orig", 18 * 108, 0);
    expect_view(net, "s.5.bias", 18, 0);
    expect_view(net, "s.6.weight", 8 * 6, 0);
    const struct {
        const char *name;
        size_t count;
    } uv[] = {{"s.0.weight_u", 4},  {"s.0.weight_v", 18}, {"s.3.weight_u", 3},
              {"s.3.weight_v", 80}, {"s.5.weight_u", 18}, {"s.5.weight_v", 108},
              {"s.7.weight_u", 1},  {"s.7.weight_v", 4}};
    size_t state = 0;
    for (int i = 0; i < 8; i++) {
        const float *d = expect_view(net, uv[i].name, uv[i].count, 1);
        state += uv[i].count;
        if (!d) continue;
        CHECK(fabs(vec_norm(d, uv[i].count) - 1.0) < 1e-5, "%s has norm %.7f after init", uv[i].name,
              vec_norm(d, uv[i].count));
        /* drawn, not the constant unit vector reset_state leaves */
        CHECK(uv[i].count == 1 || d[0] != d[1], "%s was not drawn at random", uv[i].name);
    }
    CHECK(ganc_net_state_count(net) == state, "state count %zu, want %zu", ganc_net_state_count(net), state);

    const size_t in_size = ganc_shape_size(in), n_state = ganc_net_state_count(net);
    float *x = check_floats(nb * in_size), *dx = check_floats(nb * in_size), *before = check_floats(n_state), dz[8];
    ganc_rng_normal(&r, x, nb * in_size, 0.0f, 1.0f);
    ganc_optim opt;
    ganc_optim_config cfg = ganc_optim_default(GANC_OPTIM_ADAM);
    ganc_optim_init(&opt, &cfg, ganc_net_param_count(net));
    static const int batches[] = {8, 5, 3, 1, 6};
    int finite = 1, eval_kept = 1, train_moved = 1;
    const uint64_t allocs = ganc_alloc_count();
    for (int it = 0; it < 5; it++) {
        const int n = batches[it];
        ganc_net_set_training(net, 1);
        memcpy(before, ganc_net_state(net), sizeof(float) * n_state);
        const float *z = ganc_net_forward(net, x, n);
        train_moved &= memcmp(before, ganc_net_state(net), sizeof(float) * n_state) != 0;
        ganc_bce_logits(z, NULL, 1.0f, n, dz, 1.0f);
        ganc_net_zero_grad(net);
        ganc_net_backward(net, dz, dx, 1);
        ganc_optim_step(&opt, ganc_net_params(net), ganc_net_grads(net));
        ganc_net_set_training(net, 0);
        memcpy(before, ganc_net_state(net), sizeof(float) * n_state);
        z = ganc_net_forward(net, x, n);
        eval_kept &= memcmp(before, ganc_net_state(net), sizeof(float) * n_state) == 0;
        for (int i = 0; i < n; i++) finite &= isfinite(z[i]) != 0;
        ganc_net_backward(net, dz, dx, 1);
    }
    CHECK(ganc_alloc_count() == allocs, "%llu allocations in steps with maxout, mbstd and sn",
          (unsigned long long)(ganc_alloc_count() - allocs));
    CHECK(finite, "maxout/mbstd/sn network produced non-finite outputs");
    CHECK(train_moved, "a training forward left spectral norm's u and v unchanged");
    CHECK(eval_kept, "an eval forward changed spectral norm's u or v");
    ganc_optim_free(&opt);
    free(x);
    free(dx);
    free(before);
    ganc_net_free(net);
}

/* Training forwards are power iterations: sigma = u.Wv converges to the largest singular
 * value of W (found here by 2000 power iterations on W^T W in double), and the layer's output
 * is x W^T / sigma + b with that sigma. */
static void test_spectral_norm_converges(void)
{
    enum { OUT = 5, IN = 7, N = 3 };
    ganc_net *net = test_make_net("c", (ganc_shape){IN, 1, 1}, "dense 5 sn\n", N);
    if (!net) return;
    ganc_rng r;
    ganc_rng_seed(&r, 8);
    ganc_net_init(net, GANC_INIT_TORCH, &r);
    const float *w = ganc_net_view_data(net, ganc_net_find_view(net, "c.0.weight_orig"));
    const float *b = ganc_net_view_data(net, ganc_net_find_view(net, "c.0.bias"));
    const float *u = ganc_net_view_data(net, ganc_net_find_view(net, "c.0.weight_u"));
    const float *v = ganc_net_view_data(net, ganc_net_find_view(net, "c.0.weight_v"));
    double q[IN], t[OUT];
    for (int j = 0; j < IN; j++) q[j] = 1.0 + 0.1 * j;
    double top = 0.0;
    for (int it = 0; it < 2000; it++) {
        for (int i = 0; i < OUT; i++) {
            t[i] = 0.0;
            for (int j = 0; j < IN; j++) t[i] += w[i * IN + j] * q[j];
        }
        double nq = 0.0;
        for (int j = 0; j < IN; j++) {
            q[j] = 0.0;
            for (int i = 0; i < OUT; i++) q[j] += w[i * IN + j] * t[i];
            nq += q[j] * q[j];
        }
        nq = sqrt(nq);
        top = sqrt(nq); /* |W^T W q| for a unit q -> sigma_max^2 */
        for (int j = 0; j < IN; j++) q[j] /= nq;
    }
    float x[N * IN];
    ganc_rng_normal(&r, x, N * IN, 0.0f, 1.0f);
    ganc_net_set_training(net, 1);
    for (int it = 0; it < 200; it++) ganc_net_forward(net, x, N);
    double sigma = 0.0;
    for (int i = 0; i < OUT; i++) {
        double wv = 0.0;
        for (int j = 0; j < IN; j++) wv += w[i * IN + j] * v[j];
        sigma += u[i] * wv;
    }
    CHECK(fabs(sigma - top) <= 1e-4 * top, "sigma after 200 power iterations %.7g, largest singular value %.7g",
          sigma, top);
    ganc_net_set_training(net, 0);
    const float *y = ganc_net_forward(net, x, N);
    double worst = 0.0;
    for (int s = 0; s < N; s++)
        for (int i = 0; i < OUT; i++) {
            double want = b[i];
            for (int j = 0; j < IN; j++) want += w[i * IN + j] * x[s * IN + j] / sigma;
            worst = fmax(worst, fabs(y[s * OUT + i] - want));
        }
    CHECK(worst < 1e-5, "sn dense output differs from x W^T / sigma + b by %.3g", worst);
    ganc_net_free(net);
}

/* ---- sizes that overflow ------------------------------------------------------------------ */

/* ganc_alloc refuses (NULL) a size no object can have instead of rounding it up past SIZE_MAX
 * to a tiny block; ordinary sizes still come back zeroed and 64-byte aligned. */
static void test_alloc_sizes(void)
{
    const size_t huge[3] = {SIZE_MAX - 10, SIZE_MAX - 63, (size_t)PTRDIFF_MAX + 1};
    for (int i = 0; i < 3; i++) {
        void *p = ganc_alloc(huge[i]);
        CHECK(p == NULL, "ganc_alloc(%zu) returned a block instead of NULL", huge[i]);
        ganc_free(p);
    }
    unsigned char *p = ganc_alloc(100);
    int zero = 1;
    for (int i = 0; i < 100; i++) zero &= p[i] == 0;
    CHECK(p && ((uintptr_t)p % 64) == 0 && zero, "ganc_alloc(100): not a zeroed 64-byte aligned block");
    ganc_free(p);
}

/* A network whose sizes overflow (an input of 2^64 values wraps to 0 in size_t; 2^48 wraps to 0
 * as a dense layer's int input size; a transposed convolution's output side past INT_MAX) or
 * would need more memory than the limit only in its saved values is refused with an error at
 * ganc_net_add or ganc_net_build, before anything is allocated for it. */
static void test_size_overflow_refused(void)
{
    static const struct {
        ganc_shape in;
        const char *line, *why, *needle;
    } bad[] = {
        {{1 << 22, 1 << 21, 1 << 21}, "dense 4", "input of 2^64 values",
         "input 4194304 x 2097152 x 2097152 is too large"},
        {{1 << 16, 1 << 16, 1 << 16}, "dense 4", "input of 2^48 values", "input 65536 x 65536 x 65536 is too large"},
        {{1 << 16, 1 << 16, 1 << 16}, "flatten", "input of 2^48 values", "too large"},
        {{0, 5, 5}, "flatten", "input with no channels", "input 0 x 5 x 5 has a side below 1"},
        {{1, 1 << 27, 1}, "deconv 1 k=64 stride=64 pad=valid", "output side 2^33", "deconv layer is too large"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[GANC_ERR_LEN] = "";
        ganc_net *net = ganc_net_create("big", bad[i].in);
        int rc = ganc_net_add_text(net, bad[i].line, "big", 1, err);
        if (rc == 0) rc = ganc_net_build(net, 2, err);
        CHECK(rc == -1 && strstr(err, bad[i].needle), "%s (%s) was not refused with '%s': %s", bad[i].line,
              bad[i].why, bad[i].needle, rc ? err : "accepted");
        ganc_net_free(net);
    }
    /* specs the parser would refuse, given to ganc_net_add directly: units x pieces past INT_MAX,
     * kernels whose k * k is past INT_MAX (each type's sizes_fit), a weighted layer's units past
     * the float limit (ganc_net_add's own check for every weighted type) */
    static const struct {
        const char *line, *why, *needle;
    } spec_bad[] = {
        {"maxout 2 pieces=2", "units and pieces 2^20", "units times its pieces"},
        {"deconv 2 k=3", "k 2^20", "k, stride, pad and outpad are at most"},
        {"conv 2 k=3", "k 2^20", "k, stride, pad and outpad are at most"},
        {"dense 2", "units 2^29", "(536870912 units)"},
    };
    for (int i = 0; i < 4; i++) {
        ganc_layer_spec sp;
        char err[GANC_ERR_LEN] = "";
        if (!CHECK(ganc_layer_spec_parse(spec_bad[i].line, &sp, err) == 0, "parsing %s: %s", spec_bad[i].line, err))
            continue;
        if (i == 0) sp.units = sp.pieces = 1 << 20;
        else if (i < 3) sp.k = 1 << 20;
        else sp.units = 1 << 29;
        ganc_net *net = ganc_net_create("spec", (ganc_shape){2, 4, 4});
        const int rc = ganc_net_add(net, &sp, err); /* before CHECK's arguments read err */
        CHECK(rc == -1 && strstr(err, spec_bad[i].needle), "%s with %s was not refused with '%s': %s",
              spec_bad[i].line, spec_bad[i].why, spec_bad[i].needle, rc ? err : "accepted");
        ganc_net_free(net);
    }
    /* 1024 units of 256 pieces keep 2^18 + 2^10 floats per sample for backward: at a batch of
     * 2^19 that is 2^39 bytes, though activations and weights are small */
    char err[GANC_ERR_LEN] = "";
    ganc_net *net = ganc_net_create("saved", (ganc_shape){8, 1, 1});
    int rc = ganc_net_add_text(net, "maxout 1024 pieces=256", "saved", 1, err);
    CHECK(rc == 0, "maxout 1024 pieces=256 on 8 inputs was refused: %s", err);
    if (rc == 0) {
        const uint64_t before = ganc_alloc_count();
        rc = ganc_net_build(net, 1 << 19, err);
        CHECK(rc == -1 && strstr(err, "GB"), "a build needing 2^39 bytes of saved values was not refused: %s",
              rc ? err : "built");
        CHECK(ganc_alloc_count() == before, "the refused build allocated %llu blocks",
              (unsigned long long)(ganc_alloc_count() - before));
    }
    ganc_net_free(net);
}

int main(void)
{
    test_vmath();
    test_activation_bits();
    test_philox_kat();
    test_rng_uniform();
    test_rng_normal();
    test_rng_bernoulli_permutation();
    test_rng_streams();
    test_rng_parts();
    test_parser();
    test_layer_registry();
    test_reference_shapes();
    test_layer_flops();
    test_no_alloc_and_small_batch();
    test_stability_layers();
    test_mbstd_gate();
    test_mbstd_hold();
    test_spectral_norm_converges();
    test_batchnorm_modes();
    test_batchnorm_sync();
    test_dropout_modes();
    test_init();
    test_adam();
    test_sgd();
    test_bce();
    test_alloc_sizes();
    test_size_overflow_refused();
    return check_finish("core");
}
