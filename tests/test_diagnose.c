/* Training diagnostics (src/gan/diagnose.c) on made-up histories whose verdict is known:
 * D winning for long enough, a collapse of diversity, losses oscillating without a trend;
 * and the cases that must stay silent (healthy numbers, a trend, a G that starts out plain). */
#include "check.h"
#include "gan/diagnose.h"

#include <math.h>
#include <string.h>

static ganc_game_stats stats(double d_real, double d_fake, double g_loss)
{
    ganc_game_stats st = {0};
    st.d_real = d_real;
    st.d_fake = d_fake;
    st.g_loss = g_loss;
    st.d_loss = 1.0;
    return st;
}

int main(void)
{
    char msg[512];
    ganc_diagnose d;

    /* D has won after 10 logged points in a row, once; not with a non-probability loss */
    ganc_diagnose_init(&d, GANC_LOSS_NS);
    int fired = 0, at = -1;
    for (int i = 0; i < 30; i++) {
        ganc_game_stats st = stats(0.99, 0.01, 5.0);
        if (ganc_diagnose_step(&d, &st, (i + 1) * 10, 10, msg, sizeof msg)) fired++, at = i;
    }
    CHECK(fired == 1 && at == 9, "D has won: warned %d times, first at point %d (want once, at 9)", fired, at);
    CHECK(strstr(msg, "D has won") && strstr(msg, "100 steps"), "D has won message: %s", msg);
    ganc_game_stats healthy = stats(0.6, 0.4, 1.0);
    ganc_diagnose_step(&d, &healthy, 400, 10, msg, sizeof msg);
    fired = 0;
    for (int i = 0; i < 10; i++) {
        ganc_game_stats st = stats(0.99, 0.01, 5.0);
        fired += ganc_diagnose_step(&d, &st, 500 + i * 10, 10, msg, sizeof msg);
    }
    CHECK(fired == 1, "D has won: re-armed after recovery (%d warnings)", fired);
    /* every loss of the table: only where D's outputs are probabilities (wgan's, lsgan's and
     * hinge's scores are not; tests/test_losses checks the column against the definitions) */
    for (int l = 0; l < GANC_LOSS_COUNT; l++) {
        ganc_diagnose_init(&d, (ganc_loss)l);
        fired = 0;
        for (int i = 0; i < 30; i++) {
            ganc_game_stats st = stats(0.99, 0.01, 5.0);
            fired += ganc_diagnose_step(&d, &st, i, 1, msg, sizeof msg);
        }
        const ganc_loss_def *def = ganc_loss_of((ganc_loss)l);
        CHECK(fired == def->cross_entropy, "--loss %s: %d D-has-won warnings, want %d", def->name, fired,
              def->cross_entropy);
    }
    ganc_diagnose_init(&d, GANC_LOSS_NS);
    fired = 0;
    for (int i = 0; i < 9; i++) {
        ganc_game_stats st = stats(0.99, 0.01, 5.0);
        fired += ganc_diagnose_step(&d, &st, i, 1, msg, sizeof msg);
    }
    CHECK(fired == 0, "9 points are not enough (%d)", fired);

    /* oscillation: G's loss alternating 0.5 / 4 without trend warns; a steady trend does not */
    ganc_diagnose_init(&d, GANC_LOSS_NS);
    fired = 0;
    for (int i = 0; i < 60; i++) {
        ganc_game_stats st = stats(0.6, 0.4, i % 2 ? 4.0 : 0.5);
        fired += ganc_diagnose_step(&d, &st, i, 1, msg, sizeof msg);
    }
    CHECK(fired == 1 && strstr(msg, "oscillate"), "oscillation warned %d times: %s", fired, msg);
    ganc_diagnose_init(&d, GANC_LOSS_NS);
    fired = 0;
    for (int i = 0; i < 60; i++) {
        ganc_game_stats st = stats(0.6, 0.4, 0.5 + 0.1 * i + (i % 2 ? 0.3 : 0.0));
        fired += ganc_diagnose_step(&d, &st, i, 1, msg, sizeof msg);
    }
    CHECK(fired == 0, "a loss with a trend is no oscillation (%d)", fired);
    ganc_diagnose_init(&d, GANC_LOSS_NS);
    fired = 0;
    for (int i = 0; i < 60; i++) {
        ganc_game_stats st = stats(0.6, 0.4, 0.7 + 0.01 * (i % 3));
        fired += ganc_diagnose_step(&d, &st, i, 1, msg, sizeof msg);
    }
    CHECK(fired == 0, "small noise is no oscillation (%d)", fired);

    /* collapse: a fall below 0.2 of the data's diversity and below half of G's best */
    ganc_diagnose_init(&d, GANC_LOSS_NS);
    CHECK(ganc_diagnose_samples(&d, 1.0, 10.0, 100, msg, sizeof msg) == 0, "a G that starts plain is no collapse");
    CHECK(ganc_diagnose_samples(&d, 6.0, 10.0, 200, msg, sizeof msg) == 0, "healthy diversity");
    CHECK(ganc_diagnose_samples(&d, 1.0, 10.0, 300, msg, sizeof msg) == 1 && strstr(msg, "collapsed") &&
              strstr(msg, "0.10"),
          "a fall to 0.1 of the data's warns: %s", msg);
    CHECK(ganc_diagnose_samples(&d, 0.5, 10.0, 400, msg, sizeof msg) == 0, "warned once");
    CHECK(ganc_diagnose_samples(&d, 8.0, 10.0, 500, msg, sizeof msg) == 0, "recovered");
    CHECK(ganc_diagnose_samples(&d, 1.0, 10.0, 600, msg, sizeof msg) == 1, "re-armed after recovery");

    /* diversity: mean distance between consecutive samples */
    const float pts[6] = {0, 0, 3, 4, 3, 4};
    CHECK(fabs(ganc_diversity(pts, 3, 2) - 2.5) < 1e-12, "diversity of (0,0),(3,4),(3,4) is 2.5, got %g",
          ganc_diversity(pts, 3, 2));

    /* the learning-rate schedule: constant, or linear from --lr-decay-from to 0 at the end */
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    CHECK(ganc_lr_factor(&cfg, 999, 1000) == 1.0, "no decay: factor 1");
    cfg.lr_decay_from = 600;
    const int64_t steps_at[6] = {0, 599, 600, 700, 999, 1000};
    const double want[6] = {1.0, 1.0, 1.0, 0.75, 0.0025, 0.0};
    for (int i = 0; i < 6; i++)
        CHECK(fabs(ganc_lr_factor(&cfg, steps_at[i], 1000) - want[i]) < 1e-12, "decay from 600 of 1000: step %d factor %g, want %g",
              (int)steps_at[i], ganc_lr_factor(&cfg, steps_at[i], 1000), want[i]);
    CHECK(ganc_lr_factor(&cfg, 700, 600) == 1.0, "a run shorter than the decay start keeps its rates");
    cfg.lr_decay_to = 800; /* a fixed end: the run's length no longer matters */
    CHECK(fabs(ganc_lr_factor(&cfg, 700, 1000) - 0.5) < 1e-12 && fabs(ganc_lr_factor(&cfg, 700, 700) - 0.5) < 1e-12 &&
              ganc_lr_factor(&cfg, 900, 1000) == 0.0,
          "decay from 600 to 800: factor %g at 700, %g after 800", ganc_lr_factor(&cfg, 700, 1000),
          ganc_lr_factor(&cfg, 900, 1000));
    /* --mbstd-until N: the statistic's weight is 1 until N/2, falls linearly, 0 from N on */
    ganc_config_defaults(&cfg);
    CHECK(ganc_mbstd_gate(&cfg, 123456) == 1.0, "no --mbstd-until: gate 1");
    cfg.mbstd_until = 1000;
    const int64_t gate_at[6] = {0, 499, 500, 750, 999, 5000};
    const double gate_want[6] = {1.0, 1.0, 1.0, 0.5, 0.002, 0.0};
    for (int i = 0; i < 6; i++)
        CHECK(fabs(ganc_mbstd_gate(&cfg, gate_at[i]) - gate_want[i]) < 1e-12, "mbstd until 1000: step %d gate %g, want %g",
              (int)gate_at[i], ganc_mbstd_gate(&cfg, gate_at[i]), gate_want[i]);
    /* --mbstd off: 0 at every step, with or without a fade */
    cfg.mbstd_off = 1;
    for (int i = 0; i < 6; i++)
        CHECK(ganc_mbstd_gate(&cfg, gate_at[i]) == 0.0, "--mbstd off: step %d gate %g, want 0", (int)gate_at[i],
              ganc_mbstd_gate(&cfg, gate_at[i]));
    cfg.mbstd_until = 0;
    CHECK(ganc_mbstd_gate(&cfg, 0) == 0.0, "--mbstd off without --mbstd-until: gate 0");
    return check_finish("diagnose");
}
