/* ganc sample and ganc info: read a run's checkpoint, draw from G or describe the run. */
#include "cli/cli.h"
#include "cli/toy_view.h"
#include "ganc_internal.h"
#include "io/image.h"
#include "gan/reject.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int cmd_sample(int argc, char **argv)
{
    const char *src = NULL, *outp = NULL;
    long n = 64;
    unsigned long long seed = 0;
    int have_seed = 0;
    double reject = -1.0, truncation = -1.0; /* < 0: the run's own setting */
    long code = -1;                           /* < 0: drawn uniformly */
    int by_code = 0;                          /* one row of n per code, the same noise in each */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: ganc sample DIR|CHECKPOINT -n N -o FILE.png|FILE.npy [--seed S] [--reject Q]\n"
                   "                   [--truncation T] [--code C | --by-code] [--threads T]\n\n"
                   "Draws N samples from the run's generator (eval mode, newest checkpoint of DIR).\n"
                   "  .png: a grid of the samples; .npy: float32 array (N, C, H, W) with values in [0, 1].\n"
                   "  2-D runs (--data ring|grid): .npy is (N, 2); .png shows the points over D's map.\n"
                   "  --seed S: noise seed (default: the run's seed).\n"
                   "  --reject Q: discriminator rejection sampling, M at D's Q-quantile (1: exact; 0: off;\n"
                   "              default: the run's --reject). See ganc train --help.\n"
                   "  --truncation T: draw z from N(0, 1) truncated to [-T, T]: more typical samples, less\n"
                   "              variety (0: off; default: the run's --truncation).\n"
                   "  --code C: runs with --info-codes K: every sample with code C (0..K-1) instead of codes\n"
                   "              drawn uniformly -- one kind of sample, as G learnt to keep them apart.\n"
                   "  --by-code: runs with --info-codes K: N samples for each code, K rows of N (the same\n"
                   "              noise down each column, unless --reject redraws it): what each code learnt.\n"
                   "  --threads T: worker threads (0: all cores, the default).\n");
            return 0;
        }
        if ((!strcmp(a, "-n") || !strcmp(a, "-o") || !strcmp(a, "--seed") || !strcmp(a, "--reject") ||
             !strcmp(a, "--truncation") || !strcmp(a, "--code") || !strcmp(a, "--threads")) &&
            i + 1 >= argc)
            return cli_error("sample: %s needs a value", a);
        if (!strcmp(a, "-n")) {
            if (cli_parse_long("sample", a, argv[++i], 1, 1000000, &n)) return 1;
        } else if (!strcmp(a, "--reject")) {
            if (cli_parse_double("sample", a, argv[++i], 0.0, 1.0, &reject)) return 1;
        } else if (!strcmp(a, "--truncation")) {
            if (cli_parse_double("sample", a, argv[++i], 0.0, 100.0, &truncation)) return 1;
        } else if (!strcmp(a, "--by-code")) {
            by_code = 1;
        } else if (!strcmp(a, "--code")) {
            if (cli_parse_long("sample", a, argv[++i], 0, 1023, &code)) return 1;
        } else if (!strcmp(a, "--threads")) {
            long t;
            if (cli_parse_long("sample", a, argv[++i], 0, 1024, &t)) return 1;
            ganc_set_threads((int)t);
        } else if (!strcmp(a, "-o")) {
            outp = argv[++i];
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_seed("sample", a, argv[++i], &seed)) return 1;
            have_seed = 1;
        } else if (a[0] == '-') {
            return cli_error("sample: unknown option '%s' (see ganc sample --help)", a);
        } else if (!src) {
            src = a;
        } else {
            return cli_error("sample: unexpected argument '%s'", a);
        }
    }
    if (!src) return cli_error("sample: which run? usage: ganc sample DIR|CHECKPOINT -n N -o FILE");
    if (!outp) return cli_error("sample: -o FILE.png or FILE.npy is required");
    const int npy = ends_with(outp, ".npy");
    if (!npy && !ends_with(outp, ".png")) return cli_error("sample: -o %s: the file name must end in .png or .npy", outp);

    char path[1100], err[GANC_ERR_LEN];
    ganc_session s;
    if (cli_find_checkpoint(src, path, sizeof path, err) || ganc_checkpoint_load(path, &s, err)) return cli_error("%s", err);
    if (ganc_session_sampling(&s, reject, truncation, err)) {
        ganc_session_free(&s);
        return cli_error("sample: %s", err);
    }
    if (by_code && (code >= 0 || !s.cfg.info_codes)) {
        ganc_session_free(&s);
        return cli_error(code >= 0 ? "sample: --by-code draws every code; not with --code"
                                   : "sample: --by-code: this run has no InfoGAN code (train with --info-codes K)");
    }
    if (code >= 0) {
        const int k = s.cfg.info_codes;
        if (code >= k) {
            ganc_session_free(&s);
            if (!k) return cli_error("sample: --code %ld: this run has no InfoGAN code (train with --info-codes K)", code);
            return cli_error("sample: --code %ld: this run's codes are 0..%d (--info-codes %d)", code, k - 1, k);
        }
        s.game.sample_code = (int)code;
    }
    const size_t sample = ganc_shape_size(s.data_shape);
    const long rows = by_code ? s.cfg.info_codes : 1, total = n * rows;
    if ((double)total * (double)(sample + (size_t)s.cfg.z_dim) * 4.0 > 8e9) {
        ganc_session_free(&s);
        return cli_error("sample: %ld samples would need more than 8 GB", total);
    }
    float *x = malloc(sizeof(float) * (size_t)total * sample);
    int status = 0;
    if (!x) {
        status = cli_error("sample: out of memory for %ld samples", n);
        goto out;
    }
    /* the default seed matches the run's sample grids; ganc eval --seed S draws these samples */
    const uint64_t noise_seed = (have_seed ? seed : s.cfg.seed) * 4 + 6;
    ganc_reject_stats st;
    cli_draw_progress prog;
    cli_draw_progress_start(&prog);
    int drawn = 0;
    int64_t candidates = 0;
    for (long r = 0; r < rows && !drawn; r++) {
        /* a fixed code draws nothing from the stream: every row gets the same noise */
        if (by_code) s.game.sample_code = (int)r;
        drawn = ganc_game_draw(&s.game, s.cfg.reject, noise_seed, (int)n, x + (size_t)r * (size_t)n * sample, &st,
                               cli_draw_progress_update, &prog, err);
        candidates += st.candidates;
    }
    cli_draw_progress_end(&prog);
    if (drawn) {
        status = cli_error("sample: %s", err);
        goto out;
    }
    int rc;
    if (s.toy) { /* 2-D points: (N, 2) as they are, or a picture of them over D's map */
        const int dims[2] = {(int)total, 2};
        rc = npy ? ganc_npy_write(outp, x, 2, dims, err) : cli_toy_png(&s, x, (int)total, outp, err);
    } else if (npy) {
        const float scale = 1.0f / (s.hi - s.lo);
        for (size_t i = 0; i < (size_t)total * sample; i++) {
            float v = (x[i] - s.lo) * scale;
            x[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
        const int dims[4] = {(int)total, s.data_shape.c, s.data_shape.h, s.data_shape.w};
        rc = ganc_npy_write(outp, x, 4, dims, err);
    } else {
        rc = ganc_png_grid(outp, x, (int)total, s.data_shape, s.lo, s.hi, by_code ? (int)n : 0, err);
    }
    if (rc) status = cli_error("%s", err);
    else if (s.cfg.reject > 0.0f)
        fprintf(stderr, "ganc: wrote %ld samples from step %" PRId64 " to %s (D rejection sampling: kept %ld of %lld)\n",
                total, s.step, outp, total, (long long)candidates);
    else fprintf(stderr, "ganc: wrote %ld samples from step %" PRId64 " to %s%s\n", total, s.step, outp,
                 by_code ? " (one row per code)" : "");
out:
    free(x);
    ganc_session_free(&s);
    return status;
}

int cmd_info(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        printf("usage: ganc info DIR|CHECKPOINT\n\nPrints the model, step, hyper-parameters and parameter counts of a run.\n");
        return argc < 1;
    }
    if (argc > 1) return cli_error("info: one run or checkpoint at a time");
    char path[1100], err[GANC_ERR_LEN];
    ganc_session s;
    if (cli_find_checkpoint(argv[0], path, sizeof path, err) || ganc_checkpoint_load(path, &s, err)) return cli_error("%s", err);
    printf("checkpoint   %s\n", path);
    printf("model        %s\n", s.model.source);
    printf("step         %" PRId64 " (epoch %" PRId64 ", position %d)\n", s.step, s.epoch, s.pos);
    printf("data shape   %d x %d x %d, pixels in [%g, %g]\n", s.data_shape.c, s.data_shape.h, s.data_shape.w, s.lo, s.hi);
    printf("generator    %zu parameters, %d layers\n", ganc_net_param_count(s.game.g), ganc_net_layer_count(s.game.g));
    printf("discriminator %zu parameters, %d layers\n", ganc_net_param_count(s.game.d), ganc_net_layer_count(s.game.d));
    printf("hyper-parameters:\n");
    for (int i = 0; i < ganc_config_option_count(); i++) {
        char buf[64];
        const char *key = ganc_config_option_at(i)->key;
        printf("  %-14s %s\n", key, ganc_config_get(&s.cfg, key, buf));
    }
    ganc_session_free(&s);
    return 0;
}
