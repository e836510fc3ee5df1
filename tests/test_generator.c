/* The inference API (ganc.h, "generators"; gan/generator.c, gan/export.c): a handle opened on a
 * training checkpoint or on the generator ganc export writes draws, bit for bit, what
 * `ganc sample` draws from the run (ganc_game_draw on the checkpoint's session, the stream of
 * seed * 4 + 6) for plain, EMA, truncated, mixture, InfoGAN and conditional runs, in bytes as
 * in floats, allocating nothing per call, from separate threads at once; and every misuse and
 * bad file is refused with a message saying what is wrong, changing nothing. */
#include "check.h"
#include "eval/classifier.h"
#include "gan/export.h"
#include "gan/reject.h"
#include "ganc_internal.h"
#include "io/image.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* G has batch norm (state the moving average keeps too) and a class-conditional form; D ends in
 * the one dense layer that --cond projection and --info-codes take over. */
static const char *const MODEL = "[generator]\n"
                                 "dense 32 bias=0\n"
                                 "batchnorm\n"
                                 "elu\n"
                                 "dense $pixels\n"
                                 "sigmoid\n"
                                 "reshape $c $h $w\n"
                                 "[discriminator]\n"
                                 "flatten\n"
                                 "dense 16\n"
                                 "lrelu\n"
                                 "dense $dout\n";
static const ganc_shape SHAPE = {3, 4, 5}; /* three channels: the bytes' pixel order shows */
enum { BATCH = 8, N = 19, MAX = 24 }; /* N over two chunks of the run's batch, a ragged third */

static char *tmp_path(const char *name)
{
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", check_tmpdir(), name);
    return p;
}

static void base_config(ganc_config *cfg)
{
    ganc_config_defaults(cfg);
    cfg->z_dim = 8;
    cfg->batch = BATCH;
    cfg->seed = 11;
    cfg->ema = 0.9f;
}

/* A session of MODEL whose live weights, moving average and both batch-norm states all differ
 * (so that sampling with the wrong ones shows), with the class names given (n of them), saved as
 * a checkpoint and exported. */
static int make_run(ganc_session *s, const ganc_config *cfg, const char *ckpt, const char *gen, char *const *names,
                    int n_names)
{
    char err[GANC_ERR_LEN];
    ganc_model m;
    if (!CHECK(ganc_model_from_text(MODEL, "test.gan", &m, err) == 0, "model: %s", err)) return -1;
    const int rc = ganc_session_create(s, cfg, &m, SHAPE, err);
    ganc_model_free(&m);
    if (!CHECK(rc == 0, "session: %s", err)) return -1;
    ganc_game *gm = &s->game;
    ganc_rng r;
    ganc_rng_seed(&r, 99);
    const size_t np = ganc_net_param_count(gm->g), ns = ganc_net_state_count(gm->g);
    float *shift = check_floats(np + ns);
    ganc_rng_normal(&r, shift, np + ns, 0.0f, 0.1f);
    for (size_t i = 0; gm->ema && i < np; i++) gm->ema[i] += shift[i];
    /* running means near 0 and variances near 1, the live and the average's apart */
    float *state = ganc_net_state(gm->g);
    for (size_t i = 0; i < ns; i++) {
        state[i] = (i % 64 < 32 ? 0.0f : 1.0f) + shift[np + i];
        if (gm->ema_state) gm->ema_state[i] = state[i] + 0.05f;
    }
    free(shift);
    s->step = 42;
    if (!CHECK(ganc_session_set_classes(s, names, n_names, err) == 0, "classes: %s", err)) return -1;
    if (!CHECK(ganc_checkpoint_save(ckpt, s, err) == 0, "save: %s", err)) return -1;
    if (!CHECK(ganc_export_save(gen, s, err) == 0, "export: %s", err)) return -1;
    return 0;
}

/* What ganc sample draws: the checkpoint loaded as the command loads it, ganc_game_draw of
 * seed * 4 + 6, with the game's class, code and truncation set as its flags set them. */
static int reference(const char *ckpt, uint64_t seed, int class_id, int code, double truncation, int n, float *out,
                     int32_t *labels, int live)
{
    char err[GANC_ERR_LEN];
    ganc_session s;
    if (!CHECK(ganc_checkpoint_load(ckpt, &s, err) == 0, "reload: %s", err)) return -1;
    if (!CHECK(ganc_session_sampling(&s, -1.0, truncation, err) == 0, "sampling: %s", err)) return -1;
    s.game.sample_class = class_id;
    s.game.sample_code = code;
    float *ema = s.game.ema;
    if (live) s.game.ema = NULL; /* G's own weights: what a reader ignoring the average would give */
    const int rc = ganc_game_draw(&s.game, 0.0, seed * 4 + 6, n, out, labels, NULL, NULL, NULL, err);
    s.game.ema = ema;
    ganc_session_free(&s);
    return CHECK(rc == 0, "draw: %s", err) ? 0 : -1;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fclose(f);
    return n;
}

static size_t sample_floats(int n) { return (size_t)n * ganc_shape_size(SHAPE); }

/* Both files of a run against the reference for one set of options. */
static void same_as_sample(const char *what, const char *ckpt, const char *gen_path, const ganc_sample_opts *o,
                           double truncation)
{
    float *want = check_floats(sample_floats(N)), *got = check_floats(sample_floats(N));
    int32_t want_labels[N], got_labels[N];
    char err[GANC_ERR_LEN];
    if (reference(ckpt, o->seed, o->class_id, o->code, truncation, N, want, want_labels, 0) == 0)
        for (int f = 0; f < 2; f++) {
            const char *path = f ? gen_path : ckpt;
            ganc_generator *gen = ganc_generator_open(path, MAX, err);
            if (!CHECK(gen, "%s: open %s: %s", what, path, err)) continue;
            memset(got_labels, 0x55, sizeof got_labels);
            const int rc = ganc_generator_sample(gen, o, N, got, sample_floats(N), got_labels, err);
            CHECK(rc == 0, "%s: sample: %s", what, err);
            CHECK(memcmp(got, want, sizeof(float) * sample_floats(N)) == 0,
                  "%s: the %s's samples are not ganc sample's (max error %g)", what, f ? "export" : "checkpoint",
                  check_rel_err(got, want, sample_floats(N), 1e-12));
            if (ganc_generator_classes(gen))
                CHECK(memcmp(got_labels, want_labels, sizeof want_labels) == 0, "%s: the samples' classes", what);
            else
                CHECK(got_labels[0] == -1 && got_labels[N - 1] == -1, "%s: an unconditional run's classes are -1", what);
            ganc_generator_close(gen);
        }
    free(want);
    free(got);
}

static void test_plain_run(void)
{
    const char *ckpt = tmp_path("plain.ckpt.safetensors"), *gen_path = tmp_path("plain.gen.safetensors");
    ganc_config cfg;
    base_config(&cfg);
    ganc_session s;
    if (make_run(&s, &cfg, ckpt, gen_path, NULL, 0)) return;
    char err[GANC_ERR_LEN];
    /* small enough to ship: one copy of G, no D, no optimizer moments */
    const long ckpt_size = file_size(ckpt), gen_size = file_size(gen_path);
    CHECK(gen_size > 0 && gen_size * 3 < ckpt_size, "the export has %ld bytes, the checkpoint %ld", gen_size, ckpt_size);
    ganc_generator *gen = ganc_generator_open(gen_path, MAX, err);
    if (!CHECK(gen, "open: %s", err)) goto out;
    const ganc_shape sh = ganc_generator_shape(gen);
    float lo = -9, hi = -9;
    ganc_generator_range(gen, &lo, &hi);
    CHECK(sh.c == SHAPE.c && sh.h == SHAPE.h && sh.w == SHAPE.w, "shape %dx%dx%d", sh.c, sh.h, sh.w);
    CHECK(lo == 0.0f && hi == 1.0f, "range [%g, %g]: G ends in sigmoid", lo, hi);
    CHECK(ganc_generator_z_dim(gen) == 8 && ganc_generator_max_batch(gen) == MAX && ganc_generator_step(gen) == 42,
          "z dim %d, max batch %d, step %lld", ganc_generator_z_dim(gen), ganc_generator_max_batch(gen),
          (long long)ganc_generator_step(gen));
    CHECK(ganc_generator_classes(gen) == 0 && ganc_generator_codes(gen) == 0 && !ganc_generator_class_name(gen, 0) &&
              ganc_generator_find_class(gen, "0") == -1,
          "no classes, no codes");
    const ganc_sample_opts d = ganc_generator_defaults(gen);
    CHECK(d.seed == 11 && d.class_id == -1 && d.code == -1 && d.truncation < 0, "defaults: the run's seed, all drawn");

    /* the same samples as ganc sample: default seed, another seed, a truncation */
    same_as_sample("plain, the run's seed", ckpt, gen_path, &d, -1.0);
    ganc_sample_opts o = d;
    o.seed = 123456789012345ull;
    same_as_sample("plain, --seed", ckpt, gen_path, &o, -1.0);
    o.truncation = 0.5;
    same_as_sample("plain, --truncation 0.5", ckpt, gen_path, &o, 0.5);
    /* opts NULL is the defaults */
    float *a = check_floats(sample_floats(N)), *b = check_floats(sample_floats(N)), *live = check_floats(sample_floats(N));
    CHECK(ganc_generator_sample(gen, NULL, N, a, sample_floats(N), NULL, err) == 0 &&
              ganc_generator_sample(gen, &d, N, b, sample_floats(N), NULL, err) == 0 &&
              memcmp(a, b, sizeof(float) * sample_floats(N)) == 0,
          "opts NULL draws the defaults");
    /* the moving average is what is drawn: G's own weights give other samples */
    if (reference(ckpt, d.seed, -1, -1, -1.0, N, live, NULL, 1) == 0)
        CHECK(check_rel_err(a, live, sample_floats(N), 1e-12) > 1e-3, "the live weights' samples are as the average's");

    /* bf16 products (ganc_generator_set_precision): other samples, close to fp32's; fp32 again:
     * the first samples, bit for bit */
    float *half = check_floats(sample_floats(N));
    ganc_generator_set_precision(gen, GANC_PRECISION_BF16);
    if (CHECK(ganc_generator_sample(gen, &d, N, half, sample_floats(N), NULL, err) == 0, "bf16 draw: %s", err)) {
        const double e = check_rel_err(half, a, sample_floats(N), 1e-3);
        CHECK(e > 0 && e < 0.05, "bf16 samples %.3g from fp32's (want different, within 0.05)", e);
    }
    ganc_generator_set_precision(gen, GANC_PRECISION_FP32);
    CHECK(ganc_generator_sample(gen, &d, N, half, sample_floats(N), NULL, err) == 0 &&
              memcmp(half, a, sizeof(float) * sample_floats(N)) == 0,
          "back to fp32: not the first samples' bits");
    free(half);

    /* bytes: each float as the PNG writer makes it a byte, planes made pixels */
    uint8_t *bytes = malloc(sample_floats(N));
    if (CHECK(bytes && ganc_generator_sample_u8(gen, &d, N, bytes, sample_floats(N), NULL, err) == 0, "u8: %s", err)) {
        int bad = 0;
        const size_t plane = (size_t)SHAPE.h * SHAPE.w;
        for (int i = 0; i < N; i++)
            for (size_t p = 0; p < plane; p++)
                for (int c = 0; c < SHAPE.c; c++)
                    bad += bytes[(size_t)i * plane * SHAPE.c + p * SHAPE.c + c] !=
                           ganc_pixel_byte(a[(size_t)i * plane * SHAPE.c + (size_t)c * plane + p], 0.0, 255.0);
        CHECK(bad == 0, "u8: %d bytes differ from the floats' pixels", bad);
    }
    free(bytes);

    /* nothing allocated per call, after the first (which may take a thread's GEMM scratch) */
    const uint64_t before = ganc_alloc_count();
    for (int k = 0; k < 3; k++) ganc_generator_sample(gen, &o, MAX, live, 0, NULL, err); /* refused: no buffer */
    float *big = check_floats(sample_floats(MAX));
    for (int k = 0; k < 3; k++) ganc_generator_sample(gen, &o, MAX, big, sample_floats(MAX), NULL, err);
    CHECK(ganc_alloc_count() == before, "%llu allocations in 6 draws",
          (unsigned long long)(ganc_alloc_count() - before));
    free(big);
    free(a);
    free(b);
    free(live);
    ganc_generator_close(gen);
out:
    ganc_session_free(&s);
}

/* The mixture of normals, an InfoGAN code, a conditional run with named classes. */
static void test_run_kinds(void)
{
    char err[GANC_ERR_LEN];
    ganc_config cfg;
    base_config(&cfg);
    cfg.z_dist = GANC_Z_MIXTURE;
    cfg.z_modes = 3;
    ganc_session s;
    const char *ckpt = tmp_path("mix.ckpt.safetensors"), *gen_path = tmp_path("mix.gen.safetensors");
    if (make_run(&s, &cfg, ckpt, gen_path, NULL, 0) == 0) {
        const ganc_sample_opts o = {.seed = 5, .class_id = -1, .code = -1, .truncation = 1.0};
        same_as_sample("mixture, truncated", ckpt, gen_path, &o, 1.0);
        ganc_session_free(&s);
    }

    base_config(&cfg);
    cfg.info_codes = 3;
    cfg.ema = 0.0f; /* a run without the average: G's own weights */
    ckpt = tmp_path("info.ckpt.safetensors"), gen_path = tmp_path("info.gen.safetensors");
    if (make_run(&s, &cfg, ckpt, gen_path, NULL, 0) == 0) {
        ganc_generator *gen = ganc_generator_open(gen_path, MAX, err);
        if (CHECK(gen, "open: %s", err)) {
            CHECK(ganc_generator_codes(gen) == 3, "codes %d", ganc_generator_codes(gen));
            ganc_generator_close(gen);
        }
        ganc_sample_opts o = {.seed = 6, .class_id = -1, .code = -1, .truncation = -1.0};
        same_as_sample("info codes drawn", ckpt, gen_path, &o, -1.0);
        o.code = 2;
        same_as_sample("info --code 2", ckpt, gen_path, &o, -1.0);
        ganc_session_free(&s);
    }

    base_config(&cfg);
    cfg.cond = GANC_COND_PROJECTION;
    cfg.classes = 3;
    ckpt = tmp_path("cond.ckpt.safetensors"), gen_path = tmp_path("cond.gen.safetensors");
    char *names[] = {"cat", "dog", "bird"};
    if (make_run(&s, &cfg, ckpt, gen_path, names, 3) == 0) {
        ganc_generator *gen = ganc_generator_open(gen_path, MAX, err);
        if (CHECK(gen, "open: %s", err)) {
            const char *dog = ganc_generator_class_name(gen, 1);
            CHECK(ganc_generator_classes(gen) == 3 && dog && !strcmp(dog, "dog") && !ganc_generator_class_name(gen, 3) &&
                      !ganc_generator_class_name(gen, -1),
                  "3 classes, class 1 named dog (%s)", dog ? dog : "NULL");
            CHECK(ganc_generator_find_class(gen, "bird") == 2 && ganc_generator_find_class(gen, "1") == 1 &&
                      ganc_generator_find_class(gen, "fish") == -1 && ganc_generator_find_class(gen, "3") == -1 &&
                      ganc_generator_find_class(gen, "") == -1,
                  "classes found by name and number");
            ganc_generator_close(gen);
        }
        ganc_sample_opts o = {.seed = 7, .class_id = -1, .code = -1, .truncation = -1.0};
        same_as_sample("conditional, classes drawn", ckpt, gen_path, &o, -1.0);
        o.class_id = 1;
        same_as_sample("conditional --class 1", ckpt, gen_path, &o, -1.0);
        ganc_session_free(&s);
    }
}

/* Writes a copy of `from` with tensor `drop` left out and metadata `key` set to `value` (NULL:
 * unchanged). */
static int rewrite(const char *from, const char *to, const char *drop, const char *key, const char *value)
{
    char err[GANC_ERR_LEN];
    ganc_st_file f;
    if (!CHECK(ganc_st_read(from, &f, err) == 0, "read %s: %s", from, err)) return -1;
    ganc_st_tensor *t = malloc(sizeof *t * (size_t)f.n_tensors);
    ganc_st_meta *m = malloc(sizeof *m * (size_t)f.n_meta);
    int nt = 0, nm = 0;
    for (int i = 0; i < f.n_tensors; i++)
        if (!drop || strcmp(f.tensors[i].name, drop)) t[nt++] = f.tensors[i];
    for (int i = 0; i < f.n_meta; i++) {
        m[nm] = f.meta[i];
        if (key && !strcmp(m[nm].key, key)) m[nm].value = (char *)value;
        nm++;
    }
    const int rc = ganc_st_write(to, t, nt, m, nm, err);
    free(t);
    free(m);
    ganc_st_free(&f);
    return CHECK(rc == 0, "write %s: %s", to, err) ? 0 : -1;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

/* open fails, and its message holds `want` */
static void refused(const char *what, const char *path, int max_batch, const char *want)
{
    char err[GANC_ERR_LEN] = "";
    ganc_generator *gen = ganc_generator_open(path, max_batch, err);
    CHECK(!gen && strstr(err, want), "%s: %s (wanted a refusal saying '%s')", what, gen ? "opened" : err, want);
    ganc_generator_close(gen);
}

static void test_bad_files(void)
{
    char err[GANC_ERR_LEN];
    ganc_config cfg;
    base_config(&cfg);
    ganc_session s;
    const char *ckpt = tmp_path("bad.ckpt.safetensors"), *gen_path = tmp_path("bad.gen.safetensors");
    if (make_run(&s, &cfg, ckpt, gen_path, NULL, 0)) return;
    ganc_session_free(&s);
    refused("a missing file", tmp_path("nothing.safetensors"), 4, "No such file");
    refused("no path", NULL, 4, "no path");
    refused("max_batch 0", gen_path, 0, "max_batch 0 is outside 1 .. 1000000");
    refused("max_batch too large", gen_path, 1000001, "outside 1 .. 1000000");

    /* a feature classifier is a ganc safetensors file, but no generator */
    ganc_classifier c;
    const char *cls = tmp_path("cls.safetensors");
    if (CHECK(ganc_classifier_create(&c, "flatten\ndense 3", SHAPE, 3, 4, 1, err) == 0, "classifier: %s", err)) {
        CHECK(ganc_classifier_save(cls, &c, NULL, 0, err) == 0, "classifier save: %s", err);
        ganc_classifier_free(&c);
        refused("a classifier", cls, 4, "a feature classifier (ganc classifier train), not a generator");
    }

    /* truncated, garbage, damaged header */
    FILE *f = fopen(gen_path, "rb");
    static uint8_t buf[1 << 20];
    const size_t size = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    CHECK(size > 1000 && size < sizeof buf, "export size %zu", size);
    const char *cut = tmp_path("cut.safetensors");
    write_bytes(cut, buf, size / 2);
    refused("a truncated file", cut, 4, cut);
    write_bytes(cut, buf, 6);
    refused("a file of 6 bytes", cut, 4, cut);
    write_bytes(cut, "not a safetensors file at all, just text\n", 41);
    refused("text", cut, 4, cut);
    buf[9] ^= 0x20; /* the JSON's first key's first character (after the 8-byte length and '{') */
    write_bytes(cut, buf, size);
    refused("a damaged header", cut, 4, cut);

    /* well-formed files that are not what they claim */
    const char *other = tmp_path("other.safetensors");
    if (rewrite(gen_path, other, NULL, "format", "something-else-1") == 0)
        refused("another format", other, 4, "neither a ganc checkpoint nor a generator from ganc export");
    if (rewrite(gen_path, other, "gen.0.weight", NULL, NULL) == 0) refused("a missing tensor", other, 4, "tensor 'gen.0.weight' is missing");
    if (rewrite(ckpt, other, "ema.gen", NULL, NULL) == 0) refused("a checkpoint without its average", other, 4, "tensor 'ema.gen' is missing");
    if (rewrite(gen_path, other, NULL, "config.z_dim", "9") == 0) refused("a z dim the weights do not fit", other, 4, "wrong shape");
    if (rewrite(gen_path, other, NULL, "config.info_codes", "8") == 0) refused("a code as long as z", other, 4, "--info-codes 8 needs --z-dim above 8");
    if (rewrite(gen_path, other, NULL, "config.cond", "concat") == 0) refused("--cond without classes", other, 4, "needs labelled data");
    if (rewrite(gen_path, other, NULL, "config.truncation", "0.01") == 0) refused("a truncation below 0.05", other, 4, "below 0.05");
    if (rewrite(gen_path, other, NULL, "model", "[generator]\nconv\n[discriminator]\ndense 1\n") == 0) refused("a broken model", other, 4, "conv needs");
    if (rewrite(gen_path, other, NULL, "data.shape", "1 6") == 0) refused("a broken shape", other, 4, "data.shape is malformed");
    if (rewrite(gen_path, other, NULL, "step", "-3") == 0) refused("a negative step", other, 4, "'step' is missing or malformed");

    /* the commands that need a run say what an exported file is */
    CHECK(ganc_checkpoint_load(gen_path, &s, err) == -1 && strstr(err, "a generator exported by ganc export"),
          "ganc sample on an export: %s", err);
}

static void test_bad_calls(void)
{
    char err[GANC_ERR_LEN];
    ganc_config cfg;
    base_config(&cfg);
    cfg.z_dist = GANC_Z_UNIFORM;
    ganc_session s;
    const char *ckpt = tmp_path("calls.ckpt.safetensors"), *gen_path = tmp_path("calls.gen.safetensors");
    if (make_run(&s, &cfg, ckpt, gen_path, NULL, 0)) return;
    ganc_session_free(&s);
    ganc_generator *gen = ganc_generator_open(gen_path, 4, err);
    if (!CHECK(gen, "open: %s", err)) return;
    const size_t need = sample_floats(4);
    float *x = check_floats(need + 1);
    uint8_t bytes[4 * 60 + 1];
    for (size_t i = 0; i <= need; i++) x[i] = -7.0f;
    memset(bytes, 0xab, sizeof bytes);
    const ganc_sample_opts d = ganc_generator_defaults(gen);
    struct {
        const char *what;
        ganc_sample_opts o;
        int n;
        size_t capacity;
        const char *want;
    } cases[] = {
        {"a buffer one float short", d, 4, need - 1, "the buffer holds 239 floats; 4 samples of 3x4x5 need 240"},
        {"n = 0", d, 0, need, "n = 0 samples; this generator draws 1 .. 4 a call"},
        {"n above max_batch", d, 5, need + 60, "n = 5 samples; this generator draws 1 .. 4"},
        {"a class, unconditional", {.seed = 1, .class_id = 0, .code = -1, .truncation = -1}, 4, need, "this run is not conditional"},
        {"a class below -1", {.seed = 1, .class_id = -2, .code = -1, .truncation = -1}, 4, need, "not conditional"},
        {"a code without codes", {.seed = 1, .class_id = -1, .code = 0, .truncation = -1}, 4, need, "no InfoGAN code"},
        {"truncation of a uniform z", {.seed = 1, .class_id = -1, .code = -1, .truncation = 1}, 4, need, "this run draws --z-dist uniform"},
        {"truncation above 100", {.seed = 1, .class_id = -1, .code = -1, .truncation = 1e9}, 4, need, "at most 100"},
        {"truncation NaN", {.seed = 1, .class_id = -1, .code = -1, .truncation = NAN}, 4, need, "truncation NaN"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int rc = ganc_generator_sample(gen, &cases[i].o, cases[i].n, x, cases[i].capacity, NULL, err);
        CHECK(rc == -1 && strstr(err, cases[i].want), "%s: %s (wanted '%s')", cases[i].what, rc ? err : "drawn",
              cases[i].want);
    }
    int untouched = 1;
    for (size_t i = 0; i <= need; i++) untouched &= x[i] == -7.0f;
    CHECK(untouched, "a refused draw wrote into the buffer");
    CHECK(ganc_generator_sample(gen, &d, 4, NULL, need, NULL, err) == -1 && strstr(err, "no output buffer"), "NULL buffer: %s", err);
    CHECK(ganc_generator_sample(NULL, &d, 4, x, need, NULL, err) == -1 && strstr(err, "no generator"), "NULL handle: %s", err);
    CHECK(ganc_generator_sample(gen, &d, 4, x, need - 1, NULL, NULL) == -1, "err NULL: still refused, no crash");
    CHECK(ganc_generator_sample_u8(gen, &d, 4, bytes, 4 * 60 - 1, NULL, err) == -1 &&
              strstr(err, "the buffer holds 239 bytes; 4 samples of 3x4x5 need 240") && bytes[0] == 0xab,
          "u8, a buffer one byte short: %s", err);
    CHECK(ganc_generator_sample_u8(gen, &d, 4, bytes, 4 * 60, NULL, err) == 0 && bytes[4 * 60] == 0xab,
          "u8 writes n x H x W x C bytes and no more: %s", err);
    CHECK(ganc_generator_sample(gen, &d, 4, x, need, NULL, err) == 0 && x[need] == -7.0f,
          "floats: n x C x H x W and no more: %s", err);
    free(x);
    ganc_generator_close(gen);
    ganc_generator_close(NULL);
}

/* Separate handles in separate threads at once draw what each draws alone. */
enum { THREADS = 3, ROUNDS = 4 };
typedef struct {
    const char *path;
    int t, ok;
    float *out; /* ROUNDS x N samples */
} job;

static void *work(void *arg)
{
    job *j = arg;
    char err[GANC_ERR_LEN];
    ganc_generator *gen = ganc_generator_open(j->path, N, err);
    j->ok = gen != NULL;
    for (int r = 0; gen && r < ROUNDS; r++) {
        ganc_sample_opts o = ganc_generator_defaults(gen);
        o.seed = (uint64_t)(j->t * 100 + r);
        j->ok &= ganc_generator_sample(gen, &o, N, j->out + (size_t)r * sample_floats(N), sample_floats(N), NULL, err) == 0;
    }
    ganc_generator_close(gen);
    return NULL;
}

static void test_threads(void)
{
    ganc_config cfg;
    base_config(&cfg);
    ganc_session s;
    const char *ckpt = tmp_path("threads.ckpt.safetensors"), *gen_path = tmp_path("threads.gen.safetensors");
    if (make_run(&s, &cfg, ckpt, gen_path, NULL, 0)) return;
    ganc_session_free(&s);
    job jobs[THREADS], alone[THREADS];
    pthread_t tid[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){gen_path, t, 0, check_floats(ROUNDS * sample_floats(N))};
        alone[t] = (job){gen_path, t, 0, check_floats(ROUNDS * sample_floats(N))};
        work(&alone[t]);
    }
    int started = 0;
    for (int t = 0; t < THREADS; t++) started += pthread_create(&tid[t], NULL, work, &jobs[t]) == 0;
    if (CHECK(started == THREADS, "started %d threads", started)) {
        for (int t = 0; t < THREADS; t++) pthread_join(tid[t], NULL);
        for (int t = 0; t < THREADS; t++)
            CHECK(jobs[t].ok && alone[t].ok &&
                      memcmp(jobs[t].out, alone[t].out, sizeof(float) * ROUNDS * sample_floats(N)) == 0,
                  "thread %d's draws are not those of the same handle alone", t);
    }
    for (int t = 0; t < THREADS; t++) {
        free(jobs[t].out);
        free(alone[t].out);
    }
}

int main(void)
{
    CHECK(ganc_version() == GANC_VERSION_NUMBER && !strcmp(ganc_version_string(), GANC_VERSION_STRING),
          "ganc_version %d (%s), header %d", ganc_version(), ganc_version_string(), GANC_VERSION_NUMBER);
    test_plain_run();
    test_run_kinds();
    test_bad_files();
    test_bad_calls();
    test_threads();
    ganc_shutdown();
    return check_finish("generator");
}
