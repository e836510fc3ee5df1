/* Class-conditional GANs (--cond): where each family puts the class into a model (gan/model.c),
 * against the rules gan/model.h states, layer by layer; the refused models; the generated
 * classes' draw against the training set's frequencies (closed form: binomial shares); the
 * latent vector (the noise identical to an unconditional draw's, the class after it); and a
 * conditional generator fed through its latent vectors against the same network run with the
 * labels set by hand. The gradients of the conditional layers are test_gradcheck's and
 * test_torch_fixtures'; ACGAN's loss is test_info's. */
#include "check.h"
#include "nets.h"
#include "gan/game.h"
#include "gan/model.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K = 3 };

/* Builds the preset (or model text) under --cond `cond` for 1 x 28 x 28 data (dcgan32/64:
 * 3 x 32 x 32, 3 x 64 x 64) with K classes. */
static int build(const char *preset, const char *text, ganc_cond cond, ganc_shape data, ganc_net **g, ganc_net **d,
                 char err[GANC_ERR_LEN])
{
    ganc_model m;
    if (text ? ganc_model_from_text(text, "test.gan", &m, err) : ganc_model_load(preset, &m, err)) return -1;
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    cfg.batch = 4;
    cfg.cond = cond;
    cfg.classes = cond != GANC_COND_OFF ? K : 0;
    float lo, hi;
    int rc = ganc_model_apply_train(&m, &cfg, err);
    cfg.info_codes = 0; /* (the mlp preset's InfoGAN code goes with concat only: test_info) */
    rc = rc || ganc_model_build(&m, &cfg, data, 0, g, d, &lo, &hi, err);
    ganc_model_free(&m);
    return rc ? -1 : 0;
}

static int count_type(const ganc_net *net, ganc_layer_type t, int conditional)
{
    int n = 0;
    for (int i = 0; i < ganc_net_layer_count(net); i++) {
        const ganc_layer_spec *sp = ganc_net_layer_spec(net, i);
        n += sp->type == t && (!conditional || sp->classes == K);
    }
    return n;
}

/* Where the rule puts concat's class vector in D: after its first activation that follows a
 * weighted layer (the index of the layer after it), else first. */
static int first_features(const ganc_net *net)
{
    int weighted = 0;
    for (int i = 0; i < ganc_net_layer_count(net); i++) {
        const ganc_layer_type t = ganc_net_layer_spec(net, i)->type;
        if (weighted && (t == GANC_LAYER_RELU || t == GANC_LAYER_LRELU || t == GANC_LAYER_ELU || t == GANC_LAYER_TANH ||
                         t == GANC_LAYER_SIGMOID || t == GANC_LAYER_GELU || t == GANC_LAYER_CONCAT_ELU))
            return i + 1;
        weighted |= t == GANC_LAYER_DENSE || t == GANC_LAYER_CONV;
    }
    return 0;
}

static ganc_layer_type last_weighted(const ganc_net *net)
{
    ganc_layer_type t = GANC_LAYER_COUNT;
    for (int i = 0; i < ganc_net_layer_count(net); i++) {
        const ganc_layer_type u = ganc_net_layer_spec(net, i)->type;
        if (u == GANC_LAYER_DENSE || u == GANC_LAYER_CONV || u == GANC_LAYER_PROJECT) t = u;
    }
    return t;
}

/* Every preset under every family, against the rules: concat an embed first in G and after
 * D's first hidden activation;
 * projection every batch norm of G conditional (or, with none, the embed on z) and D's head a
 * project layer; acgan the embed on z and D's output 1 + K. */
static void test_presets(void)
{
    const char *const *names = ganc_model_presets();
    for (int p = 0; names[p]; p++) {
        if (!strcmp(names[p], "toy2d")) continue; /* 2-D points: no labels */
        const int colour = !strcmp(names[p], "dcgan32") || !strcmp(names[p], "dcgan64");
        const ganc_shape data = !colour ? (ganc_shape){1, 28, 28}
                                        : (ganc_shape){3, names[p][5] == '3' ? 32 : 64, names[p][5] == '3' ? 32 : 64};
        char err[GANC_ERR_LEN];
        ganc_net *g0, *d0;
        if (!CHECK(build(names[p], NULL, GANC_COND_OFF, data, &g0, &d0, err) == 0, "%s: %s", names[p], err)) continue;
        const int bn = count_type(g0, GANC_LAYER_BATCHNORM, 0), g_layers = ganc_net_layer_count(g0);
        const int d_layers = ganc_net_layer_count(d0), d_at = first_features(d0);
        ganc_net_free(g0);
        ganc_net_free(d0);
        for (ganc_cond c = GANC_COND_CONCAT; c <= GANC_COND_ACGAN; c++) {
            ganc_net *g, *d;
            if (!CHECK(build(names[p], NULL, c, data, &g, &d, err) == 0, "%s --cond %d: %s", names[p], (int)c, err)) continue;
            const ganc_layer_spec *g0s = ganc_net_layer_spec(g, 0), *d0s = ganc_net_layer_spec(d, 0);
            const int g_embed = g0s->type == GANC_LAYER_EMBED && g0s->classes == K && g0s->units == K;
            const int d_embed = d0s->type == GANC_LAYER_EMBED && d0s->classes == K;
            const ganc_layer_spec *dfs = ganc_net_layer_spec(d, d_at);
            const int d_feature_embed = d_at > 0 && dfs->type == GANC_LAYER_EMBED && dfs->classes == K && dfs->units == K;
            const size_t d_out = ganc_shape_size(ganc_net_output_shape(d));
            CHECK(ganc_net_classes(g) == K && ganc_net_classes(d) == (c == GANC_COND_ACGAN ? 0 : K),
                  "%s --cond %d: G conditional on %d classes, D on %d", names[p], (int)c, ganc_net_classes(g),
                  ganc_net_classes(d));
            if (c == GANC_COND_CONCAT)
                CHECK(g_embed && !d_embed && d_feature_embed && d_out == 1 && ganc_net_layer_count(g) == g_layers + 1 &&
                          ganc_net_layer_count(d) == d_layers + 1 && ganc_net_input_shape(d).c == data.c,
                      "%s concat: an embed of %d values first in G and as layer %d of D", names[p], K, d_at);
            if (c == GANC_COND_PROJECTION)
                CHECK(g_embed == !bn && count_type(g, GANC_LAYER_BATCHNORM, 1) == bn && !d_embed && d_out == 1 &&
                          last_weighted(d) == GANC_LAYER_PROJECT && count_type(d, GANC_LAYER_PROJECT, 1) == 1,
                      "%s projection: %d of G's %d batch norms conditional, D's head %s", names[p],
                      count_type(g, GANC_LAYER_BATCHNORM, 1), bn, ganc_layer_type_name(last_weighted(d)));
            if (c == GANC_COND_ACGAN)
                CHECK(g_embed && !d_embed && d_out == 1 + K && count_type(g, GANC_LAYER_BATCHNORM, 1) == 0,
                      "%s acgan: the embed on z, D gives %zu outputs (want %d)", names[p], d_out, 1 + K);
            ganc_net_free(g);
            ganc_net_free(d);
        }
    }
}

/* A model that names its classes is built as written; the refused ones say why. */
static void test_models(void)
{
    static const char named[] = "[generator]\nembed 2 classes=$classes\ndense $pixels\nsigmoid\nreshape $c $h $w\n"
                                "[discriminator]\nflatten\nproject classes=$classes\n";
    static const char plain_head[] = "[generator]\ndense $pixels\nsigmoid\nreshape $c $h $w\n"
                                     "[discriminator]\nconv 1 k=3 pad=same\nflatten\n";
    static const char no_bn[] = "[generator]\ndense $pixels\nsigmoid\nreshape $c $h $w\n[discriminator]\nflatten\ndense 1 sn\n";
    const ganc_shape data = {1, 6, 6};
    char err[GANC_ERR_LEN] = "";
    ganc_net *g, *d;
    if (CHECK(build(NULL, named, GANC_COND_PROJECTION, data, &g, &d, err) == 0, "a model naming its classes: %s", err)) {
        CHECK(ganc_net_layer_count(g) == 4 && ganc_net_layer_count(d) == 2 && ganc_net_layer_spec(g, 0)->units == 2,
              "a model naming its classes is built as written (%d and %d layers)", ganc_net_layer_count(g),
              ganc_net_layer_count(d));
        ganc_net_free(g);
        ganc_net_free(d);
    }
    if (CHECK(build(NULL, no_bn, GANC_COND_CONCAT, data, &g, &d, err) == 0, "concat on a D without hidden layers: %s", err)) {
        CHECK(ganc_net_layer_spec(d, 0)->type == GANC_LAYER_EMBED && ganc_net_layer_spec(d, 0)->classes == K,
              "concat on a D without an activation before its logit: the class vector on D's input");
        ganc_net_free(g);
        ganc_net_free(d);
    }
    if (CHECK(build(NULL, no_bn, GANC_COND_PROJECTION, data, &g, &d, err) == 0, "projection without batch norm: %s", err)) {
        const ganc_layer_spec *head = ganc_net_layer_spec(d, 1);
        CHECK(ganc_net_layer_spec(g, 0)->type == GANC_LAYER_EMBED && head->type == GANC_LAYER_PROJECT && head->sn,
              "projection without batch norm in G: the embed on z; D's 'dense 1 sn' becomes a project layer with sn");
        ganc_net_free(g);
        ganc_net_free(d);
    }
    struct {
        const char *what, *text;
        ganc_cond cond;
        const char *says;
    } refused[] = {
        {"named classes without --cond", named, GANC_COND_OFF, "--cond"},
        {"named classes without $classes or --cond", "[generator]\ndense $pixels\nsigmoid\nreshape $c $h $w\n"
         "[discriminator]\nflatten\nproject classes=3\n", GANC_COND_OFF, "trains with --cond"},
        {"$classes without --cond", "[generator]\ndense $classes\n[discriminator]\ndense 1\n", GANC_COND_OFF,
         "$classes: this run is not conditional"},
        {"projection on a head that is not the logit's", plain_head, GANC_COND_PROJECTION, "projection head"},
        {"acgan on a D of the wrong width", "[generator]\ndense $pixels\nsigmoid\nreshape $c $h $w\n"
                                            "[discriminator]\nflatten\ndense 2\n", GANC_COND_ACGAN, "--cond acgan"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        err[0] = 0;
        const int rc = build(NULL, refused[i].text, refused[i].cond, data, &g, &d, err);
        CHECK(rc != 0 && strstr(err, refused[i].says) && strstr(err, "test.gan"), "%s: refused naming the model and '%s' "
              "(%s)", refused[i].what, refused[i].says, err);
        if (!rc) {
            ganc_net_free(g);
            ganc_net_free(d);
        }
    }
}

/* A dense game made conditional (the layers ignore the class; the game draws them). */
static int make_game(ganc_game *gm, int batch, ganc_cond cond)
{
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    cfg.z_dim = 5;
    cfg.batch = batch;
    cfg.cond = cond;
    cfg.classes = cond != GANC_COND_OFF ? K : 0;
    return test_dense_game(gm, &cfg, 4, 1, 3);
}

/* Generated classes follow the training set's counts {1, 0, 3}: shares 1/4, 0, 3/4, each count
 * within 5 binomial standard deviations; and uniform without a prior. */
static void test_prior(void)
{
    enum { BATCH = 50, STEPS = 200, N = BATCH * STEPS };
    ganc_game gm;
    if (make_game(&gm, BATCH, GANC_COND_CONCAT)) return;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) ganc_game_set_class_prior(&gm, (const int64_t[K]){1, 0, 3}, K);
        const double share[2][K] = {{1.0 / 3, 1.0 / 3, 1.0 / 3}, {0.25, 0.0, 0.75}};
        int count[K] = {0}, outside = 0;
        for (int s = 0; s < STEPS; s++) {
            ganc_game_g_step(&gm);
            for (int i = 0; i < BATCH; i++) {
                const int y = gm.fake_labels[i];
                if (y < 0 || y >= K) outside++;
                else count[y]++;
            }
        }
        CHECK(outside == 0, "generated classes outside [0, %d): %d", K, outside);
        for (int k = 0; k < K; k++) {
            const double p = share[pass][k], sd = sqrt(N * p * (1.0 - p));
            CHECK(fabs(count[k] - N * p) <= 5.0 * sd, "%s: class %d drawn %d of %d times (want %.0f +- %.0f)",
                  pass ? "prior {1, 0, 3}" : "no prior", k, count[k], N, N * p, 5.0 * sd);
        }
        /* sampling (ganc_game_noise) draws its classes by the same frequencies */
        float z[N * 6];
        ganc_rng r;
        ganc_rng_seed(&r, 12 + (uint64_t)pass);
        ganc_game_noise(&gm, &r, z, N);
        int drawn[K] = {0};
        for (int i = 0; i < N; i++) drawn[(int)z[i * 6 + 5]]++;
        for (int k = 0; k < K; k++) {
            const double p = share[pass][k], sd = sqrt(N * p * (1.0 - p));
            CHECK(fabs(drawn[k] - N * p) <= 5.0 * sd, "%s: sampling drew class %d %d of %d times (want %.0f +- %.0f)",
                  pass ? "prior {1, 0, 3}" : "no prior", k, drawn[k], N, N * p, 5.0 * sd);
        }
    }
    ganc_game_free(&gm);
}

/* The latent vectors of a conditional game: the noise is the unconditional game's draw from
 * the same stream, value for value, and the class follows it (uniform, or the one asked for). */
static void test_latent(void)
{
    enum { N = 3000 };
    ganc_game plain, cond;
    if (make_game(&plain, 8, GANC_COND_OFF) || make_game(&cond, 8, GANC_COND_PROJECTION)) return;
    CHECK(ganc_game_latent(&plain) == 5 && ganc_game_latent(&cond) == 6, "latent sizes %d and %d (want 5, 6)",
          ganc_game_latent(&plain), ganc_game_latent(&cond));
    float *a = ganc_alloc(sizeof(float) * N * 5), *b = ganc_alloc(sizeof(float) * N * 6);
    for (int pass = 0; pass < 2; pass++) {
        plain.truncation = cond.truncation = pass ? 0.7f : 0.0f;
        cond.sample_class = pass ? 2 : -1;
        ganc_rng r1, r2;
        ganc_rng_seed(&r1, 42);
        ganc_rng_seed(&r2, 42);
        ganc_game_noise(&plain, &r1, a, N);
        ganc_game_noise(&cond, &r2, b, N);
        int same = 1, count[K] = {0}, whole = 1;
        for (int i = 0; i < N; i++) {
            same &= !memcmp(a + (size_t)i * 5, b + (size_t)i * 6, sizeof(float) * 5);
            const float c = b[(size_t)i * 6 + 5];
            whole &= c == floorf(c) && c >= 0.0f && c < K;
            if (whole) count[(int)c]++;
        }
        CHECK(same, "%s: a conditional game's noise is the unconditional draw's", pass ? "truncated" : "plain");
        CHECK(whole, "the class after the noise is a whole number in [0, %d)", K);
        if (pass) CHECK(count[2] == N, "sample_class 2: every class is 2 (%d of %d)", count[2], N);
        else
            for (int k = 0; k < K; k++) {
                const double sd = sqrt(N * (1.0 / K) * (1.0 - 1.0 / K));
                CHECK(fabs(count[k] - N / (double)K) <= 5 * sd, "class %d drawn %d of %d times", k, count[k], N);
            }
    }
    ganc_free(a);
    ganc_free(b);
    ganc_game_free(&plain);
    ganc_game_free(&cond);
}

/* A conditional G fed latent vectors in chunks (ganc_game_generate) against the same network
 * run on the noise with the classes set by hand, one class per sample. */
static void test_generate(void)
{
    enum { BATCH = 4, N = 11, Z = 5 };
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    cfg.z_dim = Z;
    cfg.batch = BATCH;
    cfg.cond = GANC_COND_PROJECTION;
    cfg.classes = K;
    ganc_net *g = test_make_net("G", (ganc_shape){Z, 1, 1}, "embed 2 classes=3\ndense 6 bias=0\nbatchnorm classes=3\n"
                                "tanh\n", BATCH);
    ganc_net *d = test_dense_net("D", 6, 1, BATCH), *ref = test_make_net("R", (ganc_shape){Z, 1, 1},
                                 "embed 2 classes=3\ndense 6 bias=0\nbatchnorm classes=3\ntanh\n", 1);
    if (!CHECK(g && d && ref, "building the networks")) return;
    ganc_rng init;
    ganc_rng_seed(&init, 5);
    ganc_net_init(g, GANC_INIT_TORCH, &init);
    ganc_net_init(d, GANC_INIT_TORCH, &init);
    float *st = ganc_net_state(g);
    for (size_t i = 0; i < ganc_net_state_count(g); i++) st[i] = 0.5f + 0.1f * (float)i; /* running statistics */
    memcpy(ganc_net_params(ref), ganc_net_params(g), sizeof(float) * ganc_net_param_count(g));
    memcpy(ganc_net_state(ref), st, sizeof(float) * ganc_net_state_count(g));
    ganc_net_set_training(ref, 0);
    ganc_game gm;
    ganc_game_init(&gm, g, d, &cfg);
    float z[N * (Z + 1)], x[N * 6];
    ganc_rng r;
    ganc_rng_seed(&r, 9);
    ganc_game_noise(&gm, &r, z, N);
    ganc_game_generate(&gm, z, N, x);
    double worst = 0.0;
    int classes_seen = 0;
    for (int i = 0; i < N; i++) {
        const int32_t y = (int32_t)z[i * (Z + 1) + Z];
        classes_seen |= 1 << y;
        ganc_net_set_labels(ref, &y);
        const float *want = ganc_net_forward(ref, z + i * (Z + 1), 1);
        for (int j = 0; j < 6; j++) worst = fmax(worst, fabs(want[j] - x[i * 6 + j]));
    }
    CHECK(worst < 1e-6, "conditional G through its latent vectors differs from the same G given the classes: %.3g", worst);
    CHECK(classes_seen == 7, "the %d samples cover the %d classes", N, K);
    ganc_game_free(&gm);
    ganc_net_free(ref);
}

/* Sampling between classes (ganc_net_set_class_mix): t = 0 and 1 give classes a and b
 * exactly; t = 0.3 gives what the same network computes for class a with a's rows of every
 * class table (embedding, conditional gains and biases, projection embedding) replaced by hand
 * with 0.7 a's + 0.3 b's; bad settings are refused; a backward while mixing aborts (not run). */
static void test_class_mix(void)
{
    enum { N = 3, C = 2 };
    static const char text[] = "embed 2 classes=3\nconv 2 k=3 pad=same bias=0\nbatchnorm classes=3\nelu\nproject classes=3\n";
    ganc_net *net = test_make_net("M", (ganc_shape){C, 4, 4}, text, N), *ref = test_make_net("R", (ganc_shape){C, 4, 4}, text, N);
    if (!CHECK(net && ref, "building the networks")) return;
    ganc_rng r;
    ganc_rng_seed(&r, 8);
    ganc_rng_normal(&r, ganc_net_params(net), ganc_net_param_count(net), 0.0f, 0.5f);
    float *st = ganc_net_state(net);
    for (size_t i = 0; i < ganc_net_state_count(net); i++) st[i] = 0.3f + 0.05f * (float)i;
    memcpy(ganc_net_state(ref), st, sizeof(float) * ganc_net_state_count(net));
    ganc_net_set_training(net, 0);
    ganc_net_set_training(ref, 0);
    float x[N * C * 16], y_mix[N], y_a[N], y_b[N];
    ganc_rng_normal(&r, x, sizeof x / sizeof *x, 0.0f, 1.0f);
    const int32_t a[N] = {0, 0, 0}, b[N] = {2, 2, 2};
    ganc_net_set_labels(net, a);
    memcpy(y_a, ganc_net_forward(net, x, N), sizeof y_a);
    ganc_net_set_labels(net, b);
    memcpy(y_b, ganc_net_forward(net, x, N), sizeof y_b);
    ganc_net_set_labels(net, a);
    CHECK(ganc_net_set_class_mix(net, 2, 0.0f) == 0 && !memcmp(ganc_net_forward(net, x, N), y_a, sizeof y_a),
          "mixing at t = 0 is class a, bit for bit");
    CHECK(ganc_net_set_class_mix(net, 2, 1.0f) == 0 && !memcmp(ganc_net_forward(net, x, N), y_b, sizeof y_b),
          "mixing at t = 1 is class b, bit for bit");
    CHECK(ganc_net_set_class_mix(net, 2, 0.3f) == 0, "mixing at t = 0.3");
    memcpy(y_mix, ganc_net_forward(net, x, N), sizeof y_mix);
    /* the reference: a's rows blended by hand in every class table (K rows of width each) */
    memcpy(ganc_net_params(ref), ganc_net_params(net), sizeof(float) * ganc_net_param_count(net));
    for (int v = 0; v < ganc_net_view_count(ref); v++) {
        const ganc_view *view = ganc_net_view(ref, v);
        const int layer = atoi(strchr(view->name, '.') + 1);
        if (view->is_state || !ganc_net_layer_spec(ref, layer)->classes) continue;
        if (ganc_net_layer_spec(ref, layer)->type == GANC_LAYER_PROJECT && strstr(view->name, ".embed") == NULL) continue;
        float *t = ganc_net_view_data(ref, view);
        const size_t width = view->count / K;
        for (size_t j = 0; j < width; j++) t[j] = 0.7f * t[j] + 0.3f * t[2 * width + j];
    }
    ganc_net_set_labels(ref, a);
    const float *want = ganc_net_forward(ref, x, N);
    double worst = 0.0;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(want[i] - y_mix[i]) / (fabs(want[i]) + 1e-3));
    CHECK(worst < 1e-5, "mixing at t = 0.3 against the tables blended by hand: %.3g relative", worst);
    CHECK(ganc_net_set_class_mix(net, 3, 0.5f) != 0 && ganc_net_set_class_mix(net, 1, 1.5f) != 0 &&
              ganc_net_set_class_mix(net, -2, 0.5f) != 0,
          "a mixing class outside [0, %d) or a t outside [0, 1] is refused", K);
    ganc_net_free(net);
    ganc_net_free(ref);
}

int main(void)
{
    test_class_mix();
    test_presets();
    test_models();
    test_prior();
    test_latent();
    test_generate();
    return check_finish("cond");
}
