/* DiffAugment in the game (--diffaug, gan/game.c): a small convolutional D on 3x8x8 pictures
 * and a dense G, with every transform on. The test replays the step's draws itself, from the
 * documented stream (ganc_game_aug_stream: the run's seed and the step) and the game's noise
 * stream, and computes what the game should have computed another way:
 *   D step  D's loss and penalty from D's logits (and, for the penalties, D's input gradient by
 *           a backward pass of its own) on batches it transformed with its own ganc_diffaug:
 *           R1 at the augmented reals, WGAN-GP's interpolates between the augmented batches,
 *           PacGAN packing augmented samples, instance noise added after the transforms;
 *   G step  G's parameter gradient against central finite differences of G's loss through the
 *           same fixed draws, so the gradient must come back through the transforms' adjoint.
 * Also: the refused combinations, and the option's text form. */
#include "check.h"
#include "nets.h"
#include "gan/game.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { Z_DIM = 4, C = 3, H = 8, W = 8, SAMPLE = C * H * W, BATCH = 6, STEP = 3 };
#define ALL (GANC_AUG_COLOR | GANC_AUG_TRANSLATION | GANC_AUG_CUTOUT)

typedef struct {
    const char *what;
    ganc_loss loss;
    int pack;
    float r1, inst_noise;
} game_case;

/* G: z -> dense -> tanh -> 3x8x8; D: a strided convolution, tanh, a dense logit (smooth, so
 * that finite differences are accurate; no batch norm, so samples do not interact). */
static int make_game(ganc_game *gm, ganc_config *cfg, const game_case *gc)
{
    ganc_config_defaults(cfg);
    cfg->z_dim = Z_DIM;
    cfg->batch = BATCH;
    cfg->loss = gc->loss;
    cfg->pack = gc->pack;
    cfg->r1 = gc->r1;
    cfg->inst_noise = gc->inst_noise;
    cfg->diffaug = ALL;
    cfg->seed = 5;
    char gtext[64];
    snprintf(gtext, sizeof gtext, "dense %d\ntanh\nreshape %d %d %d\n", SAMPLE, C, H, W);
    ganc_net *g = test_make_net("G", (ganc_shape){Z_DIM, 1, 1}, gtext, BATCH);
    ganc_net *d = test_make_net("D", (ganc_shape){gc->pack * C, H, W}, "conv 4 k=3 stride=2 pad=same\ntanh\nflatten\ndense 1\n",
                                BATCH / gc->pack);
    if (!g || !d) {
        ganc_net_free(g);
        ganc_net_free(d);
        return -1;
    }
    ganc_rng init;
    ganc_rng_seed(&init, 17);
    ganc_net_init(g, GANC_INIT_TORCH, &init);
    ganc_net_init(d, GANC_INIT_TORCH, &init);
    ganc_game_init(gm, g, d, cfg);
    if (!CHECK(gm->diffaug == ALL, "%s: the game took --diffaug", gc->what)) {
        ganc_game_free(gm);
        return -1;
    }
    /* step STEP of a run: the stream the draws come from is keyed by it */
    ganc_game_set_schedule(gm, cfg, STEP, 10);
    return 0;
}

static double softplus(double v) { return v > 0 ? v + log1p(exp(-v)) : log1p(exp(v)); }

/* D's logits (one per pack) on the n samples of x. */
static void d_logits(ganc_net *d, const float *x, int n, int pack, double *s)
{
    const float *out = ganc_net_forward(d, x, n / pack);
    for (int i = 0; i < n / pack; i++) s[i] = out[i];
}

/* The squared norm of D's input gradient at each of D's n/pack inputs in x, by a backward
 * pass from ones (D's samples are independent, so the gradient of the sum is each one's). */
static void input_grad_norms(ganc_net *d, const float *x, int n, int pack, double *norm2)
{
    static float ones[BATCH], dx[BATCH * SAMPLE];
    const int nd = n / pack;
    const size_t per = (size_t)SAMPLE * pack;
    for (int i = 0; i < nd; i++) ones[i] = 1.0f;
    ganc_net_forward(d, x, nd);
    ganc_net_backward(d, ones, dx, 0);
    for (int i = 0; i < nd; i++) {
        norm2[i] = 0.0;
        for (size_t j = 0; j < per; j++) norm2[i] += (double)dx[i * per + j] * dx[i * per + j];
    }
}

/* What D sees of the batch x: x through `a`'s next draw from rng (into y), then instance
 * noise of sigma from the noise stream (into seen; a copy of y when sigma is 0). */
static void look(ganc_diffaug *a, ganc_rng *rng, const float *x, float *y, float *seen, ganc_rng *noise, double sigma)
{
    ganc_diffaug_draw(a, BATCH, rng);
    ganc_diffaug_forward(a, x, y);
    memcpy(seen, y, sizeof(float) * BATCH * SAMPLE);
    if (sigma > 0.0) {
        static float e[BATCH * SAMPLE];
        ganc_rng_normal(noise, e, BATCH * SAMPLE, 0.0f, (float)sigma);
        for (int j = 0; j < BATCH * SAMPLE; j++) seen[j] += e[j];
    }
}

/* D's loss and penalty of one D step, against the same computed on batches transformed here. */
static void test_d_step(const game_case *gc)
{
    ganc_config cfg;
    ganc_game gm;
    if (make_game(&gm, &cfg, gc)) return;
    static float real[BATCH * SAMPLE], ar[BATCH * SAMPLE], af[BATCH * SAMPLE], nr[BATCH * SAMPLE],
        nf[BATCH * SAMPLE], gx[BATCH * SAMPLE], mix[BATCH * SAMPLE], z[BATCH * Z_DIM];
    ganc_rng r;
    ganc_rng_seed(&r, 31);
    ganc_rng_uniform(&r, real, BATCH * SAMPLE, -1.0f, 1.0f);
    const size_t nd_params = ganc_net_param_count(gm.d);
    float *before = ganc_alloc(sizeof(float) * nd_params);
    memcpy(before, ganc_net_params(gm.d), sizeof(float) * nd_params);
    ganc_rng noise = gm.noise, aug;
    const double sigma = gm.noise_scale;
    ganc_game_d_step(&gm, real, NULL);
    const double got = gm.stats.d_loss, got_pen = gm.stats.penalty;
    memcpy(ganc_net_params(gm.d), before, sizeof(float) * nd_params); /* D as the step found it */

    /* the step's draws, replayed: the real batch's (and its noise), z, the generated batch's
     * (and its noise), then GP's mixing weights */
    ganc_diffaug a;
    char err[GANC_ERR_LEN];
    if (!CHECK(ganc_diffaug_init(&a, ALL, (ganc_shape){C, H, W}, BATCH, err) == 0, "diffaug init: %s", err)) goto out;
    ganc_game_aug_stream(cfg.seed, STEP, &aug);
    look(&a, &aug, real, ar, nr, &noise, sigma);
    ganc_rng_normal(&noise, z, BATCH * Z_DIM, 0.0f, 1.0f);
    CHECK(!memcmp(z, gm.z, sizeof z), "%s: the replayed z is the step's", gc->what);
    memcpy(gx, ganc_net_forward(gm.g, z, BATCH), sizeof gx);
    look(&a, &aug, gx, af, nf, &noise, sigma);

    const int nd = BATCH / gc->pack;
    double sr[BATCH], sf[BATCH], loss = 0.0, pen = 0.0, n2[BATCH];
    d_logits(gm.d, nr, BATCH, gc->pack, sr);
    d_logits(gm.d, nf, BATCH, gc->pack, sf);
    const int wgan = gc->loss == GANC_LOSS_WGAN_GP;
    for (int i = 0; i < nd; i++) loss += (wgan ? sf[i] - sr[i] : softplus(-sr[i]) + softplus(sf[i])) / nd;
    if (gc->r1 > 0.0f) { /* at the reals as D saw them: augmented (then noised) */
        input_grad_norms(gm.d, nr, BATCH, gc->pack, n2);
        for (int i = 0; i < nd; i++) pen += gc->r1 / 2.0 * n2[i] / nd;
    }
    if (wgan) { /* e T(x) + (1 - e) T'(G(z)), one e per input of D, between the augmented batches */
        float e[BATCH];
        ganc_rng_uniform(&noise, e, (size_t)nd, 0.0f, 1.0f);
        const size_t per = (size_t)SAMPLE * gc->pack;
        for (int i = 0; i < nd; i++)
            for (size_t j = i * per; j < (i + 1) * per; j++) mix[j] = e[i] * ar[j] + (1.0f - e[i]) * af[j];
        input_grad_norms(gm.d, mix, BATCH, gc->pack, n2);
        for (int i = 0; i < nd; i++) pen += cfg.gp * (sqrt(n2[i]) - 1.0) * (sqrt(n2[i]) - 1.0) / nd;
    }
    CHECK(fabs(got_pen - pen) <= 1e-4 * (1e-3 + fabs(pen)), "%s: D step's penalty %.7g, on the batches transformed here %.7g",
          gc->what, got_pen, pen);
    CHECK(fabs(got - (loss + pen)) <= 1e-5 * (1.0 + fabs(loss + pen)),
          "%s: D step's loss %.7g, on the batches transformed here %.7g (loss %.7g, penalty %.7g)", gc->what, got,
          loss + pen, loss, pen);
    ganc_diffaug_free(&a);
out:
    ganc_free(before);
    ganc_game_free(&gm);
}

/* G's loss on z through fixed draws (a's last) and fixed instance noise e (NULL: none). */
static double g_loss(ganc_game *gm, const game_case *gc, const ganc_diffaug *a, const float *z, const float *e)
{
    static float x[BATCH * SAMPLE];
    ganc_diffaug_forward(a, ganc_net_forward(gm->g, z, BATCH), x);
    if (e)
        for (int j = 0; j < BATCH * SAMPLE; j++) x[j] += e[j];
    double s[BATCH], loss = 0.0;
    const int nd = BATCH / gc->pack;
    d_logits(gm->d, x, BATCH, gc->pack, s);
    for (int i = 0; i < nd; i++) loss += (gc->loss == GANC_LOSS_WGAN_GP ? -s[i] : softplus(-s[i])) / nd;
    return loss;
}

/* G's parameter gradient of one G step against central differences through the same draws. */
static void test_g_step(const game_case *gc)
{
    ganc_config cfg;
    ganc_game gm;
    if (make_game(&gm, &cfg, gc)) return;
    const size_t n = ganc_net_param_count(gm.g);
    float *before = ganc_alloc(sizeof(float) * n), *got = ganc_alloc(sizeof(float) * n), *fd = ganc_alloc(sizeof(float) * n);
    static float z[BATCH * Z_DIM], e[BATCH * SAMPLE];
    memcpy(before, ganc_net_params(gm.g), sizeof(float) * n);
    ganc_rng noise = gm.noise, aug;
    const double sigma = gm.noise_scale;
    ganc_game_g_step(&gm);
    memcpy(got, ganc_net_grads(gm.g), sizeof(float) * n);
    float *p = ganc_net_params(gm.g);
    memcpy(p, before, sizeof(float) * n);

    ganc_diffaug a;
    char err[GANC_ERR_LEN];
    if (!CHECK(ganc_diffaug_init(&a, ALL, (ganc_shape){C, H, W}, BATCH, err) == 0, "diffaug init: %s", err)) goto out;
    ganc_rng_normal(&noise, z, BATCH * Z_DIM, 0.0f, 1.0f);
    CHECK(!memcmp(z, gm.z, sizeof z), "%s: the replayed z is the step's", gc->what);
    if (sigma > 0.0) ganc_rng_normal(&noise, e, BATCH * SAMPLE, 0.0f, (float)sigma);
    ganc_game_aug_stream(cfg.seed, STEP, &aug); /* a G step alone in its step: the stream's first draw */
    ganc_diffaug_draw(&a, BATCH, &aug);
    const double loss = g_loss(&gm, gc, &a, z, sigma > 0.0 ? e : NULL);
    CHECK(fabs(loss - gm.stats.g_loss) <= 1e-5 * (1.0 + fabs(loss)), "%s: G step's loss %.7g, through the draws replayed %.7g",
          gc->what, gm.stats.g_loss, loss);
    const float h = 1e-2f;
    for (size_t k = 0; k < n; k++) {
        const float keep = p[k];
        p[k] = keep + h;
        const double lp = g_loss(&gm, gc, &a, z, sigma > 0.0 ? e : NULL);
        p[k] = keep - h;
        const double lm = g_loss(&gm, gc, &a, z, sigma > 0.0 ? e : NULL);
        p[k] = keep;
        fd[k] = (float)((lp - lm) / (2.0 * h));
    }
    const double rel = check_rel_err(got, fd, n, 1e-6);
    CHECK(rel < 2e-3, "%s: G's gradient through the transforms off central differences by %.3g (max-norm relative)",
          gc->what, rel);
    if (check_verbose || getenv("GANC_TEST_VERBOSE")) printf("  %s: G gradient rel err %.3g\n", gc->what, rel);
    ganc_diffaug_free(&a);
out:
    ganc_free(before);
    ganc_free(got);
    ganc_free(fd);
    ganc_game_free(&gm);
}

/* The stream is a pure function of (seed, step): a resumed run redraws what a straight one did. */
static void test_stream(void)
{
    ganc_rng a, b, c;
    ganc_game_aug_stream(7, 12, &a);
    ganc_game_aug_stream(7, 12, &b);
    ganc_game_aug_stream(7, 13, &c);
    const uint64_t va = ganc_rng_u64(&a), vb = ganc_rng_u64(&b), vc = ganc_rng_u64(&c);
    CHECK(va == vb && va != vc, "the draws' stream: the same for the same (seed, step), another for the next step");
    ganc_game_aug_stream(8, 12, &c);
    CHECK(ganc_rng_u64(&c) != va, "the draws' stream: another for another seed");
}

static void test_refused(void)
{
    struct {
        const char *what;
        unsigned kinds;
        ganc_shape shape;
        int points, ok;
    } cases[] = {
        {"off on 2-D points", 0, {2, 1, 1}, 1, 1},
        {"all three on 3x28x28", ALL, {3, 28, 28}, 0, 1},
        {"color on 2-D points", GANC_AUG_COLOR, {2, 1, 1}, 1, 0},
        {"translation on 4x4", GANC_AUG_TRANSLATION, {1, 4, 4}, 0, 1},
        {"translation on 3x8", GANC_AUG_TRANSLATION, {1, 3, 8}, 0, 0},
        {"cutout on 2x2", GANC_AUG_CUTOUT, {1, 2, 2}, 0, 1},
        {"cutout on 8x1", GANC_AUG_CUTOUT, {1, 8, 1}, 0, 0},
        {"color on 1x1 pictures", GANC_AUG_COLOR, {3, 1, 1}, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ganc_config cfg;
        ganc_config_defaults(&cfg);
        cfg.diffaug = cases[i].kinds;
        char err[GANC_ERR_LEN] = "";
        const int rc = ganc_game_check_diffaug(&cfg, cases[i].shape, cases[i].points, err);
        CHECK((rc == 0) == cases[i].ok && (rc == 0 || (strstr(err, "--diffaug") && !strchr(err, '\n'))),
              "--diffaug %s: %s (%s)", cases[i].what, rc ? "refused" : "accepted", err);
    }
}

/* The option goes through the table like any other (command line, [train], checkpoints). */
static void test_option(void)
{
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    char buf[64], err[GANC_ERR_LEN];
    const char *v = ganc_config_get(&cfg, "diffaug", buf);
    CHECK(cfg.diffaug == 0 && v && !strcmp(v, "none"), "--diffaug is off by default ('%s')", v ? v : "(null)");
    CHECK(ganc_config_set(&cfg, "diffaug", "cutout,color", err) == 0 && cfg.diffaug == (GANC_AUG_CUTOUT | GANC_AUG_COLOR),
          "--diffaug cutout,color is read");
    v = ganc_config_get(&cfg, "diffaug", buf);
    CHECK(v && !strcmp(v, "color,cutout"), "... and written as 'color,cutout' ('%s')", v ? v : "(null)");
    CHECK(ganc_config_set(&cfg, "diffaug", "colour", err) != 0 && strstr(err, "'colour'"), "a wrong name is refused: %s", err);
    CHECK(ganc_config_set(&cfg, "diffaug", "none", err) == 0 && cfg.diffaug == 0, "none turns it off");
}

int main(void)
{
    ganc_set_threads(1);
    const game_case cases[] = {
        {"ns", GANC_LOSS_NS, 1, 0.0f, 0.0f},
        {"ns, R1, pack 2, instance noise", GANC_LOSS_NS, 2, 3.0f, 0.1f},
        {"wgan-gp, pack 2", GANC_LOSS_WGAN_GP, 2, 0.0f, 0.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        test_d_step(&cases[i]);
        test_g_step(&cases[i]);
    }
    test_stream();
    test_refused();
    test_option();
    return check_finish("game_diffaug");
}
