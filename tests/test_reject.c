/* Discriminator rejection sampling (gan/reject.c) against closed forms. G is the identity on
 * z ~ N(0, I_2) and D's logit is s(x) = a x1 + b, so the accepted density is
 *   phi(x1) min(1, exp(a x1 + b - M)) phi(x2),
 * with M the quantile of s over the burn-in. With the maximum (q = 1), M lies beyond almost every
 * draw and the rule is an exponential tilt: x1 ~ N(a, 1). With a quantile below 1, the
 * accepted x1's mean and acceptance rate come from a numerical integral of that density. */
#include "check.h"
#include "gan/reject.h"
#include "nets.h"
#include "ganc_internal.h"

#include <math.h>
#include <string.h>

static ganc_net *linear_net(const char *name, float w1, float w2, float bias, int out, int batch)
{
    ganc_net *net = test_dense_net(name, 2, out, batch);
    if (!net) return NULL;
    float *p = ganc_net_params(net); /* dense: weights (out x in), then bias */
    if (out == 2) {
        p[0] = 1.0f, p[1] = 0.0f, p[2] = 0.0f, p[3] = 1.0f, p[4] = 0.0f, p[5] = 0.0f;
    } else {
        p[0] = w1, p[1] = w2, p[2] = bias;
    }
    return net;
}

static int make_game(ganc_game *gm, float a, float b, int pack, float smooth)
{
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    cfg.label_smooth = smooth;
    cfg.z_dim = 2;
    cfg.batch = 100;
    cfg.pack = pack;
    ganc_net *g = linear_net("G", 0, 0, 0, 2, cfg.batch), *d = linear_net("D", a, 0.0f, b, 1, cfg.batch);
    if (!g || !d) return -1;
    ganc_game_init(gm, g, d, &cfg);
    return 0;
}

static double phi(double x) { return 0.3989422804014327 * exp(-0.5 * x * x); /* 1 / sqrt(2 pi) */ }

/* The density ratio D's logit s stands for: s itself, or with label smoothing (real target
 * t = 1 - smooth) log(D / (t - D)), D = sigmoid(s), the optimum's inverse (capped as ganc's). */
static double log_ratio(double s, double smooth)
{
    if (smooth == 0.0) return s;
    const double d = 1.0 / (1.0 + exp(-s)), t = 1.0 - smooth;
    return d < t ? fmin(log(d / (t - d)), 50.0) : 50.0;
}

/* Mean of x1 and the acceptance rate under phi(x1) min(1, exp(L(a x1 + b) - m)), L the log
 * ratio above: midpoint rule. */
static void tilted_reference(double a, double b, double smooth, double m, double *mean, double *rate)
{
    double z = 0.0, s = 0.0;
    const double h = 1e-4;
    for (double x = -12.0 + h / 2; x < 12.0; x += h) {
        const double t = log_ratio(a * x + b, smooth) - m, w = phi(x) * (t < 0.0 ? exp(t) : 1.0) * h;
        z += w;
        s += w * x;
    }
    *mean = s / z;
    *rate = z;
}

static void moments(const float *x, int n, double mean[2], double var[2])
{
    for (int k = 0; k < 2; k++) {
        double s = 0.0, ss = 0.0;
        for (int i = 0; i < n; i++) s += x[2 * i + k];
        mean[k] = s / n;
        for (int i = 0; i < n; i++) ss += (x[2 * i + k] - mean[k]) * (x[2 * i + k] - mean[k]);
        var[k] = ss / (n - 1);
    }
}

/* The q-quantile of N(0, 1) for the q used below (scipy.stats.norm.ppf) */
static double normal_quantile(double q) { return q == 0.5 ? 0.0 : q == 0.9 ? 1.2815515655446004 : NAN; }

/* What a draw's progress callback saw. */
typedef struct {
    int calls, last_accepted, monotone, n;
    int64_t last_candidates;
} progress_log;

static void log_progress(void *ctx, const ganc_reject_stats *st, int n)
{
    progress_log *p = ctx;
    p->monotone &= st->accepted >= p->last_accepted && st->candidates > p->last_candidates;
    p->calls++;
    p->last_accepted = st->accepted;
    p->last_candidates = st->candidates;
    p->n = n;
}

static void test_tilt(float a, float b, double q, float smooth)
{
    ganc_game gm;
    if (!CHECK(make_game(&gm, a, b, 1, smooth) == 0, "building the linear game")) return;
    enum { N = 20000 };
    static float x[2 * N];
    ganc_rng noise, coins;
    ganc_rng_seed(&noise, 11);
    ganc_rng_seed(&coins, 12);
    ganc_reject_config cfg = ganc_reject_default();
    cfg.quantile = q;
    ganc_reject_stats st;
    char err[GANC_ERR_LEN];
    const int rc = ganc_reject_draw(&gm, &cfg, &noise, &coins, N, x, &st, err);
    CHECK(rc == 0 && st.accepted == N, "a=%g q=%g: draw failed: %s", a, q, rc ? err : "");
    double mean[2], var[2], want_mean, want_rate;
    moments(x, N, mean, var);
    /* M's value is random (a quantile of 10,000 logits); the reference uses the one drawn */
    tilted_reference(a, b, smooth, st.m, &want_mean, &want_rate);
    if (q < 1.0 && a > 0.0f && smooth == 0.0f) /* M is the burn-in's q-quantile of a x1 + b (10,000 draws: a few % of a) */
        CHECK(fabs(st.m - (a * normal_quantile(q) + b)) < 0.06 * a, "a=%g b=%g q=%g: M %.4f, want %.4f", a, b, q, st.m,
              a * normal_quantile(q) + b);
    if (q == 1.0 && smooth == 0.0f) CHECK(fabs(want_mean - a) < 0.02, "a=%g: with M at the maximum the tilt's mean is a (%g)", a, want_mean);
    const double se = 1.0 / sqrt((double)N); /* x1's standard deviation is at most 1 */
    CHECK(fabs(mean[0] - want_mean) < 4.0 * se, "a=%g b=%g q=%g: mean x1 %.4f, want %.4f", a, b, q, mean[0], want_mean);
    CHECK(fabs(mean[1]) < 4.0 * se, "a=%g q=%g: mean x2 %.4f, want 0 (D ignores it)", a, q, mean[1]);
    CHECK(fabs(var[1] - 1.0) < 0.05, "a=%g q=%g: var x2 %.4f, want 1", a, q, var[1]);
    if (q == 1.0 && smooth == 0.0f) CHECK(fabs(var[0] - 1.0) < 0.05, "a=%g: var x1 %.4f, want 1 (a shifted normal)", a, var[0]);
    /* the burn-in's decisions use the same M, so the whole draw follows the rate */
    const double rate = (double)N / (double)st.candidates;
    const double chunk = 10000.0 / (double)st.candidates; /* the last chunk is cut short */
    CHECK(rate >= want_rate * 0.95 - chunk && rate <= want_rate * 1.05 + chunk,
          "a=%g q=%g: accepted %d of %lld (%.4f), want about %.4f", a, q, N, (long long)st.candidates, rate,
          want_rate);
    ganc_game_free(&gm);
}

static void test_plain_draw_and_refusals(void)
{
    ganc_game gm;
    if (!CHECK(make_game(&gm, 1.0f, 0.0f, 1, 0.0f) == 0, "building the linear game")) return;
    /* quantile 0: the plain draw, noise then G (here the identity: the noise itself) */
    enum { N = 1000 };
    static float x[2 * N], z[2 * N];
    ganc_rng r1, r2, coins;
    ganc_rng_seed(&r2, 5);
    ganc_rng_seed(&coins, 6);
    char err[GANC_ERR_LEN];
    ganc_reject_stats st;
    CHECK(ganc_game_draw(&gm, 0.0, 5, N, x, NULL, &st, NULL, NULL, err) == 0 && st.accepted == N && st.candidates == N, "plain draw");
    ganc_game_noise(&gm, &r2, z, N);
    CHECK(check_rel_err(x, z, 2 * N, 1.0) < 1e-6, "the plain draw is G on the noise");
    progress_log log = {0, 0, 1, 0, 0};
    CHECK(ganc_game_draw(&gm, 0.5, 5, N, x, NULL, &st, log_progress, &log, err) == 0 && log.calls > 0 && log.monotone &&
              log.last_accepted == N && log.last_candidates == st.candidates && log.n == N,
          "progress: %d calls, last kept %d of %d (%lld candidates; the draw's %lld), monotone %d", log.calls,
          log.last_accepted, log.n, (long long)log.last_candidates, (long long)st.candidates, log.monotone);
    /* D that rejects (nearly) everything: the draw gives up with a message instead of looping */
    float *p = ganc_net_params(gm.d);
    p[0] = 40.0f; /* M is the largest of 10,000 logits; nearly every other is far below it */
    ganc_reject_config cfg = ganc_reject_default();
    cfg.max_tries = 2.0;
    ganc_rng_seed(&r1, 5);
    enum { HOPELESS = 20000 };
    static float y[2 * HOPELESS];
    const int rc = ganc_reject_draw(&gm, &cfg, &r1, &coins, HOPELESS, y, &st, err);
    CHECK(rc != 0 && strstr(err, "fewer than 1 in 2"), "a hopeless D stops the draw: %s", rc ? err : "(succeeded)");
    ganc_game_free(&gm);
    /* packed D and non-cross-entropy losses are refused */
    ganc_config cfg2;
    ganc_config_defaults(&cfg2);
    cfg2.reject = 1.0f;
    CHECK(ganc_reject_check(&cfg2, err) == 0, "ns with pack 1 is accepted");
    cfg2.pack = 2;
    CHECK(ganc_reject_check(&cfg2, err) != 0 && strstr(err, "--pack"), "pack 2 refused: %s", err);
    cfg2.pack = 1;
    cfg2.loss = GANC_LOSS_HINGE;
    CHECK(ganc_reject_check(&cfg2, err) != 0 && strstr(err, "--loss"), "hinge refused: %s", err);
    /* every loss of the table: accepted exactly when D's loss is the cross-entropy, and the
     * refusal names the losses that are */
    for (int l = 0; l < GANC_LOSS_COUNT; l++) {
        const ganc_loss_def *def = ganc_loss_of((ganc_loss)l);
        cfg2.loss = (ganc_loss)l;
        const int refused = ganc_reject_check(&cfg2, err) != 0;
        CHECK(refused == !def->cross_entropy, "--loss %s with --reject: %s", def->name, refused ? err : "accepted");
        for (int k = 0; refused && k < GANC_LOSS_COUNT; k++)
            if (ganc_loss_of((ganc_loss)k)->cross_entropy)
                CHECK(strstr(err, ganc_loss_of((ganc_loss)k)->name) != NULL, "the refusal names --loss %s: %s",
                      ganc_loss_of((ganc_loss)k)->name, err);
    }
    cfg2.loss = GANC_LOSS_HINGE;
    cfg2.reject = 0.0f;
    CHECK(ganc_reject_check(&cfg2, err) == 0, "no rejection: any loss");
}

int main(void)
{
    ganc_set_threads(1);
    test_tilt(1.0f, 0.0f, 1.0, 0.0f);
    test_tilt(-0.5f, 0.3f, 1.0, 0.0f);
    test_tilt(1.0f, 0.0f, 0.5, 0.0f);
    test_tilt(2.0f, -1.0f, 0.9, 0.0f);
    /* label smoothing: the accepted x1 follows D / (t - D), not exp(s) */
    test_tilt(1.0f, -1.0f, 0.99, 0.2f);
    test_tilt(0.7f, 0.0f, 0.9, 0.1f);
    test_plain_draw_and_refusals();
    return check_finish("test_reject");
}
