/* ganc eval on a 2-D run: modes captured, % high-quality samples and reverse KL of 2,500
 * generated points (the PacGAN protocol, docs/design.md §5). */
#include "cli/cli.h"
#include "cli/flags.h"
#include "eval/toy2d_metrics.h"
#include "gan/reject.h"
#include "ganc_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_eval_toy2d(ganc_session *s, int n, uint64_t seed, int json)
{
    char err[GANC_ERR_LEN];
    float *x = malloc(sizeof(float) * 2 * (size_t)n);
    int status = 0;
    if (!x) {
        status = cli_error("eval: out of memory for %d samples", n);
        goto out;
    }
    /* its own noise stream, not the pictures' or sample's: an evaluation on fresh draws */
    ganc_reject_stats st;
    cli_draw_progress prog;
    cli_draw_progress_start(&prog);
    const int rc = ganc_game_draw(&s->game, s->cfg.reject, seed * 4 + 9, n, x, NULL, &st, cli_draw_progress_update, &prog, err);
    cli_draw_progress_end(&prog);
    if (rc) {
        status = cli_error("eval: %s", err);
        goto out;
    }
    ganc_toy2d_metrics m;
    if (ganc_toy2d_evaluate(s->toy, x, n, &m, err)) {
        status = cli_error("eval: %s", err);
        goto out;
    }
    if (json) {
        if (ganc_toy2d_metrics_print(stdout, &m)) status = cli_error("eval: cannot write to stdout");
    } else {
        printf("run            %s, step %" PRId64 "\n", s->toy->name, s->step);
        if (s->cfg.reject > 0.0f)
            printf("samples        %d, by D rejection sampling (kept %d of %lld; M = %.3f, the %g-quantile)\n", m.n, st.accepted,
                   (long long)st.candidates, st.m, (double)s->cfg.reject);
        else printf("samples        %d\n", m.n);
        printf("modes          %d of %d\n", m.modes, m.modes_total);
        printf("high quality   %.1f%% (within 3 sigma of a mode)\n", m.high_quality);
        if (isnan(m.reverse_kl)) printf("reverse KL     undefined (no high-quality sample)\n");
        else printf("reverse KL     %.4f\n", m.reverse_kl);
        printf("per mode      ");
        for (int i = 0; i < m.modes_total; i++) printf(" %d", m.hist[i]);
        printf("\n");
    }
out:
    free(x);
    return status;
}

int cmd_eval_toy2d(int argc, char **argv)
{
    const char *src = NULL;
    int n = 2500, json = 0, threads = 0, have_threads = 0;
    uint64_t seed = 1;
    double reject = -1.0, truncation = -1.0; /* < 0: the run's own setting */
    const char *precision_text = NULL;
    int precision = 0;
    cli_flag flags[] = {
        {"--n", "N", "generated points to score (2500: the PacGAN protocol)", CLI_INT, 1, 10000000, .dest = &n},
        {"--seed", "S", "the points' noise", CLI_SEED, .dest = &seed},
        {"--reject", "Q", "draw the points by discriminator rejection, M at D's Q-quantile (1: exact; 0: off)",
         CLI_NUM, 0.0, 1.0, .dest = &reject, .def = "the run's --reject"},
        {"--truncation", "T", "draw z from N(0, 1) truncated to [-T, T] (0: off)", CLI_NUM, 0.0, 100.0,
         .dest = &truncation, .def = "the run's --truncation"},
        {"--json", NULL, "one JSON object on stdout instead of the table", CLI_SWITCH, .dest = &json},
        {"--threads", "T", "worker threads (0: all cores)", CLI_INT, 0, 1024, .dest = &threads, .given = &have_threads},
        {"--precision", "fp32|bf16|auto", CLI_PRECISION_HELP, CLI_TEXT, .dest = &precision_text, .def = "the run's"},
    };
    const cli_command cmd = {
        .name = "eval",
        .usage = "ganc eval RUN|CHECKPOINT [options]   (2-D runs)",
        .about = "2-D runs (--data ring|grid): modes captured, % high-quality samples (within 3 sigma of\n"
                 "their nearest mode) and reverse KL of the mode histogram from uniform, on N generated\n"
                 "points.",
        .flags = flags,
        .n_flags = (int)(sizeof flags / sizeof flags[0]),
        .operand = "RUN|CHECKPOINT",
        .operand_help = "a 2-D run's directory (its newest checkpoint) or one checkpoint file",
        .operand_dest = &src,
        .operand_required = 1,
    };
    char path[1100], err[GANC_ERR_LEN];
    const int parsed = cli_flags_read(&cmd, argc, argv);
    if (parsed) return parsed > 0 ? 0 : 1;
    if (have_threads) ganc_set_threads(threads); /* unset, OpenMP's own default stands */
    if (cli_precision_flag("eval", precision_text, &precision, err)) return cli_error("%s", err);
    ganc_session s;
    if (cli_find_checkpoint(src, path, sizeof path, err) || ganc_checkpoint_load(path, &s, err)) return cli_error("%s", err);
    if (precision_text) ganc_session_set_precision(&s, precision);
    int status;
    if (!s.toy) status = cli_error("eval: %s is not a 2-D run (--data ring|grid)", path);
    else if (ganc_session_sampling(&s, reject, truncation, err)) status = cli_error("eval: %s", err);
    else status = cli_eval_toy2d(&s, n, seed, json);
    ganc_session_free(&s);
    return status;
}
