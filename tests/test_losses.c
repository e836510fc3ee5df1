/* The loss table (gan/losses.h), every row, so that a new row is checked without a new test:
 *   - its name parses as --loss and --g-loss, reads back, and the error for a wrong name lists it;
 *   - each function's gradient equals a central finite difference of its own value, on D's real
 *     side (targets 1 and 0.9), its generated side and G's, kinks (hinge's) skipped;
 *   - each value equals the loss's closed form written out below from its paper (a row without
 *     one fails: add it here), and so do its cross-entropy and Lipschitz columns; a row marked
 *     cross-entropy has D's loss the sigmoid cross-entropy;
 *   - in a game of one dense layer each (every score a closed form of the weights), one D step's
 *     loss is the closed form on D's real and generated scores plus the penalty, which is
 *     gp (|v| - 1)^2 for a gradient-penalty row (a linear D's input gradient is its weights v)
 *     and 0 otherwise; a clipping row leaves D's parameters in [-clip, clip] and the others do
 *     not; the logged D(x) is the mean sigmoid for cross-entropy rows, the mean score otherwise;
 *     and the G step's loss is G's closed form on the scores of its samples. */
#include "check.h"
#include "nets.h"
#include "gan/config.h"
#include "gan/game.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- closed forms, per sample (s a score, t the real target) ---------------------------- */

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
/* -t log sigmoid(s) - (1 - t) log(1 - sigmoid(s)) */
static double bce(double s, double t) { return t * softplus(-s) + (1.0 - t) * softplus(s); }
static double relu(double x) { return x > 0 ? x : 0.0; }

static double d_bce(double s, int real, double t) { return bce(s, real ? t : 0.0); }
static double g_ns(double s) { return softplus(-s); }           /* -log sigmoid(s) */
static double g_minimax(double s) { return -softplus(s); }      /* log(1 - sigmoid(s)) */
static double d_wasserstein(double s, int real, double t) { return (void)t, real ? -s : s; }
static double g_critic(double s) { return -s; }
static double d_lsgan(double s, int real, double t) { return 0.5 * (s - (real ? t : 0.0)) * (s - (real ? t : 0.0)); }
static double g_lsgan(double s) { return 0.5 * (s - 1.0) * (s - 1.0); }
static double d_hinge(double s, int real, double t) { return (void)t, relu(real ? 1.0 - s : 1.0 + s); }

/* each loss as its paper defines it: D's and G's losses, whether D's is the cross-entropy, and
 * how D is kept Lipschitz */
static const struct {
    const char *name;
    double (*d)(double s, int real, double t);
    double (*g)(double s);
    int cross_entropy;
    ganc_lipschitz lipschitz;
} closed[] = {
    {"ns", d_bce, g_ns, 1, GANC_LIPSCHITZ_NONE},                     /* Goodfellow et al. 2014 */
    {"minimax", d_bce, g_minimax, 1, GANC_LIPSCHITZ_NONE},           /* ibid. */
    {"wgan", d_wasserstein, g_critic, 0, GANC_LIPSCHITZ_CLIP},       /* Arjovsky et al. 2017 */
    {"wgan-gp", d_wasserstein, g_critic, 0, GANC_LIPSCHITZ_GP},      /* Gulrajani et al. 2017 */
    {"lsgan", d_lsgan, g_lsgan, 0, GANC_LIPSCHITZ_NONE},             /* Mao et al. 2017: a = 0, b = c = 1, halved */
    {"hinge", d_hinge, g_critic, 0, GANC_LIPSCHITZ_NONE},            /* Lim & Ye 2017; Miyato et al. 2018 */
};
#define N_CLOSED ((int)(sizeof closed / sizeof closed[0]))

static int closed_of(const char *name)
{
    for (int i = 0; i < N_CLOSED; i++)
        if (!strcmp(closed[i].name, name)) return i;
    return -1;
}

/* One side of a row's loss: D's (side 1 real, 0 generated; target t) or G's (side -1). */
static double row_loss(const ganc_loss_def *l, int side, float t, const float *s, int n, float *ds)
{
    return side < 0 ? l->g_loss(s, n, ds) : l->d_loss(s, n, side, t, ds);
}

static double closed_loss(int c, int side, double t, const float *s, int n)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) total += side < 0 ? closed[c].g(s[i]) : closed[c].d(s[i], side, t);
    return total / n;
}

enum { N = 9 };

/* The row's gradient on one side against central differences of its value, its value against
 * the closed form (c >= 0), and that it writes exactly n gradients. */
static void check_side(const ganc_loss_def *l, int c, int side, float t, const float *s0)
{
    const char *what = side < 0 ? "G" : side ? "D real" : "D fake";
    float s[N], ds[N + 1], scratch[N];
    memcpy(s, s0, sizeof s);
    ds[N] = 12345.0f;
    const double value = row_loss(l, side, t, s, N, ds);
    CHECK(ds[N] == 12345.0f, "%s, %s: writes past its n gradients", l->name, what);
    if (c >= 0) {
        const double want = closed_loss(c, side, t, s, N);
        CHECK(fabs(value - want) <= 1e-9 * (1.0 + fabs(want)), "%s, %s (target %g): value %.12g, closed form %.12g",
              l->name, what, t, value, want);
    }
    int kinks = 0;
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
        const float si = s[i];
        s[i] = si + 1e-3f;
        const double hp = (double)s[i] - si, up = row_loss(l, side, t, s, N, scratch);
        s[i] = si - 1e-3f;
        const double hm = si - (double)s[i], down = row_loss(l, side, t, s, N, scratch);
        s[i] = si;
        /* a kink between the two points shows as one-sided slopes 1/n apart (a smooth loss's
         * differ by about h * its second derivative / n) */
        if (fabs((up - value) / hp - (value - down) / hm) > 0.1 / N) {
            kinks++;
            continue;
        }
        const double fd = (up - down) / (hp + hm), err = fabs(ds[i] - fd) / (fabs(fd) + 1.0 / N);
        worst = err > worst ? err : worst;
    }
    CHECK(worst < 1e-4, "%s, %s (target %g): gradient off its finite difference by %.3g relative", l->name, what, t,
          worst);
    CHECK(kinks <= 1, "%s, %s: %d of %d scores at a kink (too few checked)", l->name, what, kinks, N);
}

static void test_row(ganc_loss id)
{
    const ganc_loss_def *l = ganc_loss_of(id);
    const char *name = l->name;
    if (!CHECK(name && name[0] && !strpbrk(name, " |") && l->help && l->help[0] && l->d_loss && l->g_loss,
               "row %d: a name without spaces, help and both functions", (int)id))
        return;
    CHECK(l->cross_entropy == 0 || l->cross_entropy == 1, "%s: cross_entropy is 0 or 1", name);
    CHECK(l->lipschitz == GANC_LIPSCHITZ_NONE || l->lipschitz == GANC_LIPSCHITZ_CLIP || l->lipschitz == GANC_LIPSCHITZ_GP,
          "%s: a known Lipschitz constraint", name);
    for (int j = 0; j < (int)id; j++) CHECK(strcmp(ganc_loss_of((ganc_loss)j)->name, name), "%s: name repeated", name);

    /* the option parser takes its name (both spellings) and gives it back */
    ganc_config cfg;
    char err[GANC_ERR_LEN], buf[64];
    const char *keys[2] = {"loss", "g-loss"};
    for (int k = 0; k < 2; k++) {
        ganc_config_defaults(&cfg);
        cfg.loss = id == GANC_LOSS_NS ? GANC_LOSS_COUNT - 1 : GANC_LOSS_NS;
        CHECK(ganc_config_set(&cfg, keys[k], name, err) == 0 && cfg.loss == id, "--%s %s: parsed as row %d", keys[k],
              name, (int)cfg.loss);
        const char *back = ganc_config_get(&cfg, "loss", buf);
        CHECK(back && !strcmp(back, name), "--%s %s reads back as '%s'", keys[k], name, back ? back : "(null)");
    }

    /* scores in [-4, 4], one of them 0 */
    float s[N];
    ganc_rng r;
    ganc_rng_seed(&r, 17 + (uint64_t)id);
    ganc_rng_uniform(&r, s, N, -4.0f, 4.0f);
    s[N / 2] = 0.0f;
    const int c = closed_of(name);
    if (CHECK(c >= 0, "loss '%s' has no closed form in tests/test_losses.c: add one", name))
        CHECK(l->cross_entropy == closed[c].cross_entropy && l->lipschitz == closed[c].lipschitz,
              "%s: cross-entropy %d and Lipschitz constraint %d, its definition's %d and %d", name, l->cross_entropy,
              (int)l->lipschitz, closed[c].cross_entropy, (int)closed[c].lipschitz);
    const float targets[2] = {1.0f, 0.9f};
    for (int k = 0; k < 2; k++) check_side(l, c, 1, targets[k], s);
    check_side(l, c, 0, 1.0f, s);
    check_side(l, c, -1, 1.0f, s);
    if (l->cross_entropy) { /* what --reject and the "D has won" warning rely on */
        float ds[N];
        const double real = l->d_loss(s, N, 1, 1.0f, ds), fake = l->d_loss(s, N, 0, 1.0f, ds);
        double want_real = 0.0, want_fake = 0.0;
        for (int i = 0; i < N; i++) want_real += bce(s[i], 1.0) / N, want_fake += bce(s[i], 0.0) / N;
        CHECK(fabs(real - want_real) < 1e-9 && fabs(fake - want_fake) < 1e-9,
              "%s is marked cross-entropy: D's loss %.9g, %.9g, the sigmoid cross-entropy's %.9g, %.9g", name, real,
              fake, want_real, want_fake);
    }
}

/* ---- the game: one D step and one G step of a linear G and D --------------------------- */

enum { Z_DIM = 3, X_DIM = 2, BATCH = 16 };
#define CLIP 0.05f
#define GP 10.0f
#define SMOOTH 0.1f

/* D's score of x = W z + b (real == NULL) or of real[i]: v . x + a */
static double score(const float *wg, const float *wd, const float *z, const float *real)
{
    double s = wd[X_DIM];
    for (int o = 0; o < X_DIM; o++) {
        double x = real ? real[o] : wg[X_DIM * Z_DIM + o];
        if (!real)
            for (int j = 0; j < Z_DIM; j++) x += (double)wg[o * Z_DIM + j] * z[j];
        s += wd[o] * x;
    }
    return s;
}

static double mean_closed(int c, int side, const double *s, double *mean_score, double *mean_prob)
{
    double total = 0.0;
    *mean_score = *mean_prob = 0.0;
    for (int i = 0; i < BATCH; i++) {
        total += side < 0 ? closed[c].g(s[i]) : closed[c].d(s[i], side, 1.0 - SMOOTH);
        *mean_score += s[i] / BATCH;
        *mean_prob += 1.0 / (1.0 + exp(-s[i])) / BATCH;
    }
    return total / BATCH;
}

static void test_game(ganc_loss id)
{
    const ganc_loss_def *l = ganc_loss_of(id);
    const int c = closed_of(l->name);
    if (c < 0) return; /* (test_row failed it) */
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    cfg.z_dim = Z_DIM;
    cfg.batch = BATCH;
    cfg.loss = id;
    cfg.clip = CLIP;
    cfg.gp = GP;
    cfg.label_smooth = SMOOTH;
    ganc_game gm;
    if (test_dense_game(&gm, &cfg, X_DIM, 1, 3)) return;
    float wg[X_DIM * Z_DIM + X_DIM], wd[X_DIM + 1], real[BATCH * X_DIM];
    memcpy(wg, ganc_net_params(gm.g), sizeof wg);
    memcpy(wd, ganc_net_params(gm.d), sizeof wd);
    ganc_rng r;
    ganc_rng_seed(&r, 23);
    ganc_rng_normal(&r, real, BATCH * X_DIM, 0.0f, 1.0f);
    ganc_game_d_step(&gm, real, NULL);

    double sr[BATCH], sf[BATCH], mean_r, prob_r, mean_f, prob_f;
    for (int i = 0; i < BATCH; i++) {
        sr[i] = score(wg, wd, NULL, real + i * X_DIM);
        sf[i] = score(wg, wd, gm.z + i * Z_DIM, NULL);
    }
    const double lr = mean_closed(c, 1, sr, &mean_r, &prob_r), lf = mean_closed(c, 0, sf, &mean_f, &prob_f);
    const double vnorm = sqrt((double)wd[0] * wd[0] + (double)wd[1] * wd[1]);
    const double pen = l->lipschitz == GANC_LIPSCHITZ_GP ? GP * (vnorm - 1.0) * (vnorm - 1.0) : 0.0;
    const ganc_game_stats *st = &gm.stats;
    CHECK(fabs(st->penalty - pen) <= 1e-4 * (1.0 + pen), "%s: D step's penalty %.6g, want %.6g", l->name, st->penalty, pen);
    CHECK(fabs(st->d_loss - (lr + lf + pen)) <= 1e-5 * (1.0 + fabs(lr + lf + pen)),
          "%s: D step's loss %.7g, closed form %.7g (real %.7g, generated %.7g, penalty %.7g)", l->name, st->d_loss,
          lr + lf + pen, lr, lf, pen);
    const double want_r = l->cross_entropy ? prob_r : mean_r, want_f = l->cross_entropy ? prob_f : mean_f;
    CHECK(fabs(st->d_real - want_r) < 1e-5 && fabs(st->d_fake - want_f) < 1e-5,
          "%s: logged D(x) %.6g, D(G(z)) %.6g, want %.6g, %.6g (%s)", l->name, st->d_real, st->d_fake, want_r, want_f,
          l->cross_entropy ? "mean sigmoid" : "mean score");
    const float *p = ganc_net_params(gm.d);
    int outside = 0;
    for (int i = 0; i < X_DIM + 1; i++) outside += p[i] > CLIP || p[i] < -CLIP;
    if (l->lipschitz == GANC_LIPSCHITZ_CLIP) CHECK(outside == 0, "%s: %d of D's parameters outside [-clip, clip]", l->name, outside);
    else CHECK(outside > 0, "%s: D's parameters were clipped (none outside [-%g, %g])", l->name, CLIP, CLIP);

    memcpy(wd, ganc_net_params(gm.d), sizeof wd);
    ganc_game_g_step(&gm);
    for (int i = 0; i < BATCH; i++) sf[i] = score(wg, wd, gm.z + i * Z_DIM, NULL);
    const double lg = mean_closed(c, -1, sf, &mean_f, &prob_f);
    CHECK(fabs(st->g_loss - lg) <= 1e-5 * (1.0 + fabs(lg)), "%s: G step's loss %.7g, closed form %.7g", l->name,
          st->g_loss, lg);
    ganc_game_free(&gm);
}

/* A wrong name is refused with every row's name in the message. */
static void test_unknown_name(void)
{
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    char err[GANC_ERR_LEN];
    const int rc = ganc_config_set(&cfg, "g-loss", "wasserstein", err);
    CHECK(rc != 0 && strstr(err, "--g-loss") && strstr(err, "wasserstein"), "--g-loss wasserstein refused: %s", err);
    for (int i = 0; i < GANC_LOSS_COUNT; i++) {
        const char *name = ganc_loss_of((ganc_loss)i)->name;
        char word[72]; /* the name as a whole word of the list: a blank before, a blank or a comma after */
        snprintf(word, sizeof word, " %s", name);
        int listed = 0;
        for (const char *p = strstr(err, word); p && !listed; p = strstr(p + 1, word))
            listed = p[strlen(word)] == ' ' || p[strlen(word)] == ',';
        CHECK(listed, "the error lists '%s': %s", name, err);
    }
}

int main(void)
{
    ganc_set_threads(1);
    CHECK(GANC_LOSS_COUNT >= 1, "the table has rows");
    for (int i = 0; i < GANC_LOSS_COUNT; i++) {
        test_row((ganc_loss)i);
        test_game((ganc_loss)i);
    }
    test_unknown_name();
    return check_finish("losses");
}
