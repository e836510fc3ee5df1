/* ganc eval on a 2-D run: modes captured, % high-quality samples and reverse KL of 2,500
 * generated points (the PacGAN protocol, GUIDE §5). */
#include "cli/cli.h"
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
    const int rc = ganc_game_draw(&s->game, s->cfg.reject, seed * 4 + 9, n, x, &st, cli_draw_progress_update, &prog, err);
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
    long n = 2500;
    unsigned long long seed = 1;
    int json = 0;
    double reject = -1.0, truncation = -1.0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage (2-D runs): ganc eval RUN|CHECKPOINT [--n N] [--seed S] [--reject Q] [--truncation T]\n"
                   "                        [--threads T] [--json]\n\n"
                   "2-D runs (--data ring|grid): modes captured, %% high-quality samples (within 3 sigma of\n"
                   "their nearest mode) and reverse KL of the mode histogram from uniform, on N generated\n"
                   "points (default 2500, the PacGAN protocol). --json prints one JSON object.\n"
                   "--reject Q draws the points by discriminator rejection (1: exact; 0: off; default: the\n"
                   "run's --reject); --truncation T draws z truncated to [-T, T] (0: off; default: the run's).\n");
            return 0;
        }
        if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--n") || !strcmp(a, "--seed") || !strcmp(a, "--threads") || !strcmp(a, "--reject") ||
                   !strcmp(a, "--truncation")) {
            if (i + 1 >= argc) return cli_error("eval: %s needs a value", a);
            const char *v = argv[++i];
            long t;
            if (!strcmp(a, "--threads")) {
                if (cli_parse_long("eval", a, v, 0, 1024, &t)) return 1;
                ganc_set_threads((int)t);
            } else if (!strcmp(a, "--reject")) {
                if (cli_parse_double("eval", a, v, 0.0, 1.0, &reject)) return 1;
            } else if (!strcmp(a, "--truncation")) {
                if (cli_parse_double("eval", a, v, 0.0, 100.0, &truncation)) return 1;
            } else if (!strcmp(a, "--n")) {
                if (cli_parse_long("eval", a, v, 1, 10000000, &n)) return 1;
            } else if (cli_parse_seed("eval", a, v, &seed)) {
                return 1;
            }
        } else if (a[0] == '-') {
            return cli_error("eval: unknown option '%s' (see ganc eval --help)", a);
        } else if (!src) {
            src = a;
        } else {
            return cli_error("eval: unexpected argument '%s'", a);
        }
    }
    if (!src) return cli_error("eval: which run? usage: ganc eval RUN [--n N] [--json]");
    char path[1100], err[GANC_ERR_LEN];
    ganc_session s;
    if (cli_find_checkpoint(src, path, sizeof path, err) || ganc_checkpoint_load(path, &s, err)) return cli_error("%s", err);
    int status;
    if (!s.toy) status = cli_error("eval: %s is not a 2-D run (--data ring|grid)", path);
    else if (ganc_session_sampling(&s, reject, truncation, err)) status = cli_error("eval: %s", err);
    else status = cli_eval_toy2d(&s, (int)n, seed, json);
    ganc_session_free(&s);
    return status;
}
