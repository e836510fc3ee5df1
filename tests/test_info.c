/* InfoGAN codes (gan/game.c, --info-codes K): z's last K components are a one-hot code c, D
 * outputs its logit s and K code logits q, and D's loss on generated samples and G's loss each
 * add w * CE(softmax(q), c). With a linear G (x = W z + b) and a linear D ((s, q) = V x + a)
 * every gradient has a closed form, which the test computes in double from the weights before
 * the step, the step's noise and codes, and compares with what the game computed:
 *   D step:  real   d(s_i) = (sigmoid(s_i) - 1) / n, no code term;
 *            fake   d(s_i) = sigmoid(s_i) / n,  d(q_ij) = w (softmax(q_i)_j - [j = c_i]) / n;
 *   G step:  d(x_i) = (sigmoid(s_i) - 1) / n V_0 + w / n sum_j (softmax(q_i)_j - [j = c_i]) V_j,
 * then the dense layers' weight and bias gradients are sums of outer products with their
 * inputs. The noise draws and the refused combinations are checked against their definition.
 * ACGAN (--cond acgan, K classes) is the same head with the class in place of the code: the
 * real samples' term also gets w (softmax(q_i) - onehot(y_i)) / n with their labels y, the
 * generated ones' and G's use the classes the game drew for them (gm.fake_labels). */
#include "check.h"
#include "nets.h"
#include "gan/game.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { K = 3, Z_DIM = 5, X_DIM = 4, D_OUT = 1 + K, BATCH = 40 };
#define WEIGHT 0.7f

static double sigmoid(double s) { return 1.0 / (1.0 + exp(-s)); }

/* x = W z + b for one sample (G's parameters: W [X_DIM][Z_DIM], then b). */
static void g_forward(const float *wg, const float *z, double *x)
{
    for (int o = 0; o < X_DIM; o++) {
        x[o] = wg[X_DIM * Z_DIM + o];
        for (int j = 0; j < Z_DIM; j++) x[o] += (double)wg[o * Z_DIM + j] * z[j];
    }
}

/* (s, q) = V x + a for one sample (D's parameters: V [D_OUT][X_DIM], then a). */
static void d_forward(const float *wd, const double *x, double *out)
{
    for (int o = 0; o < D_OUT; o++) {
        out[o] = wd[D_OUT * X_DIM + o];
        for (int j = 0; j < X_DIM; j++) out[o] += (double)wd[o * X_DIM + j] * x[j];
    }
}

/* The gradient on D's outputs of one generated sample: the GAN term on s (ds), and the code's
 * w * (softmax(q) - onehot(c)) / n on q; returns the sample's cross-entropy. */
static double code_grad(const double *out, int c, double ds, double *dout)
{
    double mx = out[1];
    for (int j = 2; j < D_OUT; j++) mx = out[j] > mx ? out[j] : mx;
    double sum = 0.0;
    for (int j = 1; j < D_OUT; j++) sum += exp(out[j] - mx);
    dout[0] = ds;
    for (int j = 1; j < D_OUT; j++) dout[j] = WEIGHT * (exp(out[j] - mx) / sum - (j - 1 == c)) / BATCH;
    return log(sum) + mx - out[1 + c];
}

static double worst_rel(const float *got, const double *want, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double rel = fabs(got[i] - want[i]) / (fabs(want[i]) + 1e-6);
        worst = rel > worst ? rel : worst;
    }
    return worst;
}

/* The codes in z's last K components of the n vectors: one-hot, and equal to codes[] when given. */
static int codes_ok(const float *z, int n, const int32_t *codes, int *count)
{
    for (int i = 0; i < n; i++) {
        int ones = 0, at = -1;
        for (int j = 0; j < K; j++) {
            const float v = z[(size_t)i * Z_DIM + Z_DIM - K + j];
            if (v == 1.0f) ones++, at = j;
            else if (v != 0.0f) return 0;
        }
        if (ones != 1 || (codes && codes[i] != at)) return 0;
        if (count) count[at]++;
    }
    return 1;
}

/* acgan: 0 InfoGAN, 1 ACGAN, 2 ACGAN whose D learns the real samples' classes only */
static int make_game(ganc_game *gm, ganc_config *cfg, int acgan)
{
    ganc_config_defaults(cfg);
    cfg->z_dim = Z_DIM;
    cfg->batch = BATCH;
    if (acgan) {
        cfg->cond = GANC_COND_ACGAN;
        cfg->classes = K;
        cfg->cond_weight = WEIGHT;
        cfg->cond_fake = acgan == 1;
    } else {
        cfg->info_codes = K;
        cfg->info_weight = WEIGHT;
    }
    return test_dense_game(gm, cfg, X_DIM, D_OUT, 7);
}

/* The answer D's guesses are scored against for generated sample i: its code or its class. */
static int fake_answer(const ganc_game *gm, int i) { return gm->cond == GANC_COND_ACGAN ? gm->fake_labels[i] : gm->codes[i]; }

static void test_d_step(int acgan)
{
    ganc_config cfg;
    ganc_game gm;
    if (make_game(&gm, &cfg, acgan)) return;
    int32_t labels[BATCH];
    for (int i = 0; i < BATCH; i++) labels[i] = (i * 7) % K;
    float wg[X_DIM * Z_DIM + X_DIM], wd[D_OUT * X_DIM + D_OUT], real[BATCH * X_DIM];
    memcpy(wg, ganc_net_params(gm.g), sizeof wg);
    memcpy(wd, ganc_net_params(gm.d), sizeof wd);
    ganc_rng r;
    ganc_rng_seed(&r, 11);
    ganc_rng_normal(&r, real, BATCH * X_DIM, 0.0f, 1.0f);
    ganc_game_d_step(&gm, real, acgan ? labels : NULL);
    CHECK(acgan || codes_ok(gm.z, BATCH, gm.codes, NULL), "D step: z's last %d components are the one-hot codes drawn", K);

    double want[D_OUT * X_DIM + D_OUT] = {0}, x[X_DIM], out[D_OUT], dout[D_OUT], ce_real = 0.0;
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < BATCH; i++) {
            if (side == 0) for (int j = 0; j < X_DIM; j++) x[j] = real[i * X_DIM + j];
            else g_forward(wg, gm.z + (size_t)i * Z_DIM, x);
            d_forward(wd, x, out);
            if (side == 0 && acgan) { /* real with its class: the logit towards 1 and the class */
                ce_real += code_grad(out, labels[i], (sigmoid(out[0]) - 1.0) / BATCH, dout) / BATCH;
            } else if (side == 0) { /* real: the logit towards 1, no code */
                memset(dout, 0, sizeof dout);
                dout[0] = (sigmoid(out[0]) - 1.0) / BATCH;
            } else if (acgan == 2) { /* --cond-fake off: no class term on generated samples */
                memset(dout, 0, sizeof dout);
                dout[0] = sigmoid(out[0]) / BATCH;
            } else {
                code_grad(out, fake_answer(&gm, i), sigmoid(out[0]) / BATCH, dout);
            }
            for (int o = 0; o < D_OUT; o++) {
                for (int j = 0; j < X_DIM; j++) want[o * X_DIM + j] += dout[o] * x[j];
                want[D_OUT * X_DIM + o] += dout[o];
            }
        }
    const double worst = worst_rel(ganc_net_grads(gm.d), want, sizeof want / sizeof *want);
    CHECK(worst < 1e-4, "%s D step: D's gradient off the closed form by %.3g relative",
          acgan == 2 ? "acgan --cond-fake off" : acgan ? "acgan" : "info", worst);
    CHECK(fabs(gm.stats.class_real - ce_real) < 1e-5 * (1.0 + ce_real), "D step: class_real %.9g, the real samples' class "
          "cross-entropy %.9g", gm.stats.class_real, ce_real);
    ganc_game_free(&gm);
}

static void test_g_step(int acgan)
{
    ganc_config cfg;
    ganc_game gm;
    if (make_game(&gm, &cfg, acgan)) return;
    float wg[X_DIM * Z_DIM + X_DIM], wd[D_OUT * X_DIM + D_OUT];
    memcpy(wg, ganc_net_params(gm.g), sizeof wg);
    memcpy(wd, ganc_net_params(gm.d), sizeof wd);
    ganc_game_g_step(&gm);
    CHECK(acgan || codes_ok(gm.z, BATCH, gm.codes, NULL), "G step: z's last %d components are the one-hot codes drawn", K);

    double want[X_DIM * Z_DIM + X_DIM] = {0}, x[X_DIM], out[D_OUT], dout[D_OUT], ce = 0.0;
    for (int i = 0; i < BATCH; i++) {
        const float *z = gm.z + (size_t)i * Z_DIM;
        g_forward(wg, z, x);
        d_forward(wd, x, out);
        ce += code_grad(out, fake_answer(&gm, i), (sigmoid(out[0]) - 1.0) / BATCH, dout) / BATCH;
        for (int o = 0; o < X_DIM; o++) {
            double dx = 0.0;
            for (int p = 0; p < D_OUT; p++) dx += dout[p] * wd[p * X_DIM + o];
            for (int j = 0; j < Z_DIM; j++) want[o * Z_DIM + j] += dx * z[j];
            want[X_DIM * Z_DIM + o] += dx;
        }
    }
    const double worst = worst_rel(ganc_net_grads(gm.g), want, sizeof want / sizeof *want);
    CHECK(worst < 1e-4, "%s G step: G's gradient off the closed form by %.3g relative", acgan ? "acgan" : "info", worst);
    CHECK(fabs(gm.stats.info_loss - ce) < 1e-5 * (1.0 + ce), "G step: info_loss %.9g, the codes' cross-entropy %.9g",
          gm.stats.info_loss, ce);
    ganc_game_free(&gm);
}

/* Sampling noise: one-hot codes, uniform over the K values (each count within 5 standard
 * deviations of n/K), the rest N(0, 1) (truncated when asked); a fixed code everywhere. */
static void test_noise(void)
{
    ganc_config cfg;
    ganc_game gm;
    if (make_game(&gm, &cfg, 0)) return;
    enum { N = 30000 };
    float *z = ganc_alloc(sizeof(float) * N * Z_DIM);
    ganc_rng r;
    ganc_rng_seed(&r, 3);
    ganc_game_noise(&gm, &r, z, N);
    int count[K] = {0};
    CHECK(codes_ok(z, N, NULL, count), "sampling noise: one-hot codes");
    const double e = (double)N / K, sd = sqrt(N * (1.0 / K) * (1.0 - 1.0 / K));
    for (int j = 0; j < K; j++) CHECK(fabs(count[j] - e) < 5 * sd, "code %d drawn %d times of %d (want %.0f +- %.0f)", j, count[j], N, e, 5 * sd);
    double m = 0.0, v = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < Z_DIM - K; j++) m += z[i * Z_DIM + j];
    m /= (double)N * (Z_DIM - K);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < Z_DIM - K; j++) v += (z[i * Z_DIM + j] - m) * (z[i * Z_DIM + j] - m);
    v /= (double)N * (Z_DIM - K);
    CHECK(fabs(m) < 0.03 && fabs(v - 1.0) < 0.05, "the noise beside the code: mean %g, variance %g (want 0, 1)", m, v);

    gm.sample_code = 2;
    gm.truncation = 0.5f;
    ganc_game_noise(&gm, &r, z, N);
    for (int j = 0; j < K; j++) count[j] = 0;
    CHECK(codes_ok(z, N, NULL, count) && count[2] == N, "--code 2: every sample's code is 2 (%d of %d)", count[2], N);
    int inside = 1;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < Z_DIM - K; j++) inside &= fabsf(z[i * Z_DIM + j]) <= 0.5f;
    CHECK(inside, "truncation 0.5 keeps the noise beside the code in [-0.5, 0.5]");
    ganc_free(z);
    ganc_game_free(&gm);
}

static void test_refused(void)
{
    struct {
        const char *what;
        int k, z_dim, pack;
        float r1;
        ganc_loss loss;
        ganc_zdist z_dist;
        int ok;
    } cases[] = {
        {"off", 0, 100, 2, 1.0f, GANC_LOSS_WGAN_GP, GANC_Z_MIXTURE, 1},
        {"10 of 100 with ns", 10, 100, 1, 0.0f, GANC_LOSS_NS, GANC_Z_NORMAL, 1},
        {"with hinge and a uniform z", 10, 100, 1, 0.0f, GANC_LOSS_HINGE, GANC_Z_UNIFORM, 1},
        {"one value", 1, 100, 1, 0.0f, GANC_LOSS_NS, GANC_Z_NORMAL, 0},
        {"as many as z", 100, 100, 1, 0.0f, GANC_LOSS_NS, GANC_Z_NORMAL, 0},
        {"--pack 2", 10, 100, 2, 0.0f, GANC_LOSS_NS, GANC_Z_NORMAL, 0},
        {"--r1", 10, 100, 1, 1.0f, GANC_LOSS_NS, GANC_Z_NORMAL, 0},
        {"wgan-gp", 10, 100, 1, 0.0f, GANC_LOSS_WGAN_GP, GANC_Z_NORMAL, 0},
        {"a mixture z", 10, 100, 1, 0.0f, GANC_LOSS_NS, GANC_Z_MIXTURE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ganc_config cfg;
        ganc_config_defaults(&cfg);
        cfg.info_codes = cases[i].k;
        cfg.z_dim = cases[i].z_dim;
        cfg.pack = cases[i].pack;
        cfg.r1 = cases[i].r1;
        cfg.loss = cases[i].loss;
        cfg.z_dist = cases[i].z_dist;
        char err[GANC_ERR_LEN] = "";
        const int rc = ganc_game_check_info(&cfg, err);
        CHECK((rc == 0) == cases[i].ok && (rc == 0 || strstr(err, "--info-codes")), "--info-codes %s: %s (%s)",
              cases[i].what, rc ? "refused" : "accepted", err);
    }
}

int main(void)
{
    test_d_step(0);
    test_g_step(0);
    test_d_step(1);
    test_g_step(1);
    test_d_step(2);
    test_g_step(2);
    test_noise();
    test_refused();
    return check_finish("info");
}
