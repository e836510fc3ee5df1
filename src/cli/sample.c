/* ganc sample and ganc info: read a run's checkpoint, draw from G or describe the run. */
#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/sample_interp.h"
#include "cli/toy_view.h"
#include "ganc_internal.h"
#include "io/image.h"
#include "gan/reject.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A conditional run's .npy samples: their classes beside them, in FILE.labels.npy, as int32
 * (N,), which is how `ganc eval` and NumPy read labels. */
static int write_labels(const char *outp, const int32_t *labels, int n, char err[GANC_ERR_LEN])
{
    char path[1100];
    snprintf(path, sizeof path, "%.*s.labels.npy", (int)(strlen(outp) - 4), outp);
    return ganc_npy_write_labels(path, labels, n, err);
}


int cmd_sample(int argc, char **argv)
{
    const char *src = NULL, *outp = NULL;
    int n = 64, threads = 0, have_threads = 0, have_seed = 0, by_code = 0, have_n = 0;
    int steps = 10, have_steps = 0, walk = 0;
    const char *interp = NULL, *interp_class = NULL, *gif = NULL;
    int code = -1; /* < 0: drawn uniformly */
    int by_class = 0;
    const char *class_text = NULL;
    uint64_t seed = 0;
    double reject = -1.0, truncation = -1.0; /* < 0: the run's own setting */
    const char *precision_text = NULL;
    int precision = 0;
    cli_flag flags[] = {
        {"-n", "N", "samples to draw (with --by-code: of each code; with --walk: in each frame, 16 if not given)",
         CLI_INT, 1, 1000000, .dest = &n, .given = &have_n},
        {"-o", "FILE.png|FILE.npy|FILE.gif", "where to write them: .png a grid of the samples; .npy a float32 array "
         "(N, C, H, W) with values in [0, 1] (2-D runs: (N, 2) points; .png shows them over D's map); with --interp "
         ".png the frames as one row, .gif their animation; with --walk .gif", CLI_TEXT, .dest = &outp,
         .def = "none: required, except that --interp and --walk may write --gif FILE alone"},
        {"--seed", "S", "noise seed", CLI_SEED, .dest = &seed,
         .def = "the run's seed, whose noise the run's pictures show", .given = &have_seed},
        {"--reject", "Q", "discriminator rejection sampling, M at D's Q-quantile (1: exact; 0: off; see ganc train "
         "--help)", CLI_NUM, 0.0, 1.0, .dest = &reject, .def = "the run's --reject"},
        {"--truncation", "T", "draw z from N(0, 1) truncated to [-T, T]: more typical samples, less variety (0: off)",
         CLI_NUM, 0.0, 100.0, .dest = &truncation, .def = "the run's --truncation"},
        {"--code", "C", "runs with --info-codes K: every sample with code C (0..K-1) -- one kind of sample, as G "
         "learnt to keep them apart", CLI_INT, 0, 1023, .dest = &code, .def = "codes drawn uniformly"},
        {"--by-code", NULL, "runs with --info-codes K: N samples of each code, K rows of N (the same noise down each "
         "column, unless --reject redraws it): what each code learnt", CLI_SWITCH, .dest = &by_code},
        {"--class", "C|NAME", "conditional runs (--cond): every sample of class C, a number or one of the run's class "
         "names (ganc info lists them)", CLI_TEXT, .dest = &class_text, .def = "classes drawn uniformly"},
        {"--by-class", NULL, "conditional runs: N samples of each class, a row per class (the same noise down each "
         "column, unless --reject redraws it)", CLI_SWITCH, .dest = &by_class},
        {"--interp", "A,B", "frames from seed A's noise to seed B's, each the noise `ganc sample --seed A -n 1 "
         "--reject 0` draws (--truncation and --code apply): a normal z moves along the great circle (slerp, which "
         "keeps z's length, where G was trained), a uniform or mixture z along the straight line; an InfoGAN code is "
         "held at A's (or C). -o FILE.png: the frames in one row; -o FILE.gif or --gif FILE: an animated GIF playing "
         "them forth and back", CLI_TEXT, .dest = &interp, .def = "off"},
        {"--interp-class", "A,B", "conditional runs: frames from class A to class B (numbers or names) with the noise "
         "of --seed held, G's class vectors blended from A's to B's: the first frame is `ganc sample --class A -n 1`, "
         "the last --class B's. Written as --interp's", CLI_TEXT, .dest = &interp_class, .def = "off"},
        {"--steps", "N", "--interp, --interp-class: frames from A to B, both included", CLI_INT, 2, 1000, .dest = &steps,
         .given = &have_steps},
        {"--walk", "N", "a looping animated GIF of N frames, each a grid of -n samples, each sample moving through 4 "
         "keypoints drawn from --seed and back to the first (slerp for a normal z, straight lines otherwise); the "
         "first frame is the grid `ganc sample --seed S -n N --reject 0` draws", CLI_INT, 2, 1000, .dest = &walk,
         .def = "off"},
        {"--gif", "FILE", "--interp or --walk: the animated GIF (ganc built with giflib)", CLI_TEXT, .dest = &gif},
        {"--threads", "T", "worker threads (0: all cores)", CLI_INT, 0, 1024, .dest = &threads, .given = &have_threads},
        {"--precision", "fp32|bf16|auto", CLI_PRECISION_HELP, CLI_TEXT, .dest = &precision_text, .def = "the run's"},
    };
    const cli_command cmd = {
        .name = "sample",
        .usage = "ganc sample DIR|CHECKPOINT -n N -o FILE.png|FILE.npy [options]\n"
                 "ganc sample DIR|CHECKPOINT --interp A,B [--steps N] -o FILE.png|FILE.gif [--gif FILE] [options]\n"
                 "ganc sample DIR|CHECKPOINT --walk N [-n N] -o FILE.gif|--gif FILE [options]",
        .about = "Draws N samples from the run's generator (eval mode, newest checkpoint of DIR), or frames along "
                 "a path through its noise.",
        .flags = flags,
        .n_flags = (int)(sizeof flags / sizeof flags[0]),
        .operand = "DIR|CHECKPOINT",
        .operand_help = "a run directory (its newest checkpoint) or one checkpoint file",
        .operand_dest = &src,
        .operand_required = 1,
    };
    char path[1100], err[GANC_ERR_LEN];
    const int parsed = cli_flags_read(&cmd, argc, argv);
    if (parsed) return parsed > 0 ? 0 : 1;
    if (have_threads) ganc_set_threads(threads); /* unset, OpenMP's own default stands */
    if (cli_precision_flag("sample", precision_text, &precision, err)) return cli_error("%s", err);
    cli_latent latent = {.interp = interp, .interp_class = interp_class, .walk = walk, .steps = steps, .have_steps = have_steps, .n = n,
                         .have_n = have_n, .have_seed = have_seed, .by_code = by_code, .reject = reject, .out = outp,
                         .gif = gif};
    if (cli_latent_check(&latent, err)) return cli_error("%s", err);
    if (latent.on && by_class) return cli_error("sample: --by-class draws rows of samples; not with --interp, --interp-class or --walk");
    if (interp_class && class_text) return cli_error("sample: --interp-class A,B names its classes; not with --class");
    if (!latent.on && !outp) return cli_error("sample: -o FILE.png|FILE.npy|FILE.gif is required");
    const int npy = outp && ganc_ends_with(outp, ".npy");
    if (!latent.on && !npy && !ganc_ends_with(outp, ".png"))
        return cli_error("sample: -o %s: the file name must end in .png or .npy%s", outp,
                         ganc_ends_with(outp, ".gif") ? " (.gif: with --interp or --walk)" : "");

    ganc_session s;
    if (cli_find_checkpoint(src, path, sizeof path, err) || ganc_checkpoint_load(path, &s, err)) return cli_error("%s", err);
    if (precision_text) ganc_session_set_precision(&s, precision);
    /* --interp and --walk draw G alone, whatever the run's --reject (cli_latent_check refused a
     * positive one given here) */
    if (ganc_session_sampling(&s, latent.on ? 0.0 : reject, truncation, err)) {
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
            if (!k) return cli_error("sample: --code %d: this run has no InfoGAN code (train with --info-codes K)", code);
            return cli_error("sample: --code %d: this run's codes are 0..%d (--info-codes %d)", code, k - 1, k);
        }
        s.game.sample_code = (int)code;
    }
    if (by_class && (by_code || class_text || !s.game.classes)) {
        const char *why = !s.game.classes ? "sample: --by-class: this run is not conditional (train with --cond on labelled data)"
                          : by_code       ? "sample: --by-class and --by-code: one kind of row at a time"
                                          : "sample: --by-class draws every class; not with --class";
        ganc_session_free(&s);
        return cli_error("%s", why);
    }
    if (class_text && cli_parse_class(&s, "--class", class_text, &s.game.sample_class, err)) {
        ganc_session_free(&s);
        return cli_error("%s", err);
    }
    if (latent.on) {
        const int rc = cli_latent_run(&s, &latent, have_seed ? seed : s.cfg.seed, err);
        ganc_session_free(&s);
        return rc ? cli_error("%s", err) : 0;
    }
    const size_t sample = ganc_shape_size(s.data_shape);
    const long rows = by_code ? s.cfg.info_codes : by_class ? s.game.classes : 1, total = n * rows;
    if ((double)total * (double)(sample + (size_t)ganc_game_latent(&s.game)) * 4.0 > 8e9) {
        ganc_session_free(&s);
        return cli_error("sample: %ld samples would need more than 8 GB", total);
    }
    float *x = malloc(sizeof(float) * (size_t)total * sample);
    int32_t *labels = s.game.classes ? malloc(sizeof(int32_t) * (size_t)total) : NULL;
    int status = 0;
    if (!x || (s.game.classes && !labels)) {
        status = cli_error("sample: out of memory for %ld samples", total);
        goto out;
    }
    /* the default seed matches the run's sample grids; ganc eval --seed S draws these samples */
    const uint64_t noise_seed = cli_sample_stream(have_seed ? seed : s.cfg.seed);
    ganc_reject_stats st;
    cli_draw_progress prog;
    cli_draw_progress_start(&prog);
    int drawn = 0;
    int64_t candidates = 0;
    for (long r = 0; r < rows && !drawn; r++) {
        /* a fixed code draws nothing from the stream: every row gets the same noise */
        if (by_code) s.game.sample_code = (int)r;
        if (by_class) s.game.sample_class = (int)r;
        drawn = ganc_game_draw(&s.game, s.cfg.reject, noise_seed, (int)n, x + (size_t)r * (size_t)n * sample,
                               labels ? labels + r * n : NULL, &st,
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
    } else if (npy && labels && write_labels(outp, labels, (int)total, err)) {
        rc = -1;
    } else if (npy) {
        const float scale = 1.0f / (s.hi - s.lo);
        for (size_t i = 0; i < (size_t)total * sample; i++) {
            float v = (x[i] - s.lo) * scale;
            x[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
        const int dims[4] = {(int)total, s.data_shape.c, s.data_shape.h, s.data_shape.w};
        rc = ganc_npy_write(outp, x, 4, dims, err);
    } else {
        rc = ganc_png_grid(outp, x, (int)total, s.data_shape, s.lo, s.hi, by_code || by_class ? (int)n : 0, err);
    }
    if (rc) status = cli_error("%s", err);
    else if (s.cfg.reject > 0.0f)
        fprintf(stderr, "ganc: wrote %ld samples from step %" PRId64 " to %s (D rejection sampling: kept %ld of %lld)\n",
                total, s.step, outp, total, (long long)candidates);
    else fprintf(stderr, "ganc: wrote %ld samples from step %" PRId64 " to %s%s\n", total, s.step, outp,
                 by_code ? " (one row per code)" : by_class ? " (one row per class)" : "");
out:
    free(x);
    free(labels);
    ganc_session_free(&s);
    return status;
}

int cmd_info(int argc, char **argv)
{
    const char *src = NULL;
    const cli_command cmd = {
        .name = "info",
        .usage = "ganc info DIR|CHECKPOINT",
        .about = "Prints the model, step, hyper-parameters and parameter counts of a run.",
        .operand = "DIR|CHECKPOINT",
        .operand_help = "a run directory (its newest checkpoint) or one checkpoint file",
        .operand_dest = &src,
        .operand_required = 1,
    };
    char path[1100], err[GANC_ERR_LEN];
    const int parsed = cli_flags_read(&cmd, argc, argv);
    if (parsed) return parsed > 0 ? 0 : 1;
    ganc_session s;
    if (cli_find_checkpoint(src, path, sizeof path, err) || ganc_checkpoint_load(path, &s, err)) return cli_error("%s", err);
    printf("checkpoint   %s\n", path);
    printf("model        %s\n", s.model.source);
    printf("step         %" PRId64 " (epoch %" PRId64 ", position %d)\n", s.step, s.epoch, s.pos);
    printf("data shape   %d x %d x %d, pixels in [%g, %g]\n", s.data_shape.c, s.data_shape.h, s.data_shape.w, s.lo, s.hi);
    printf("generator    %zu parameters, %d layers\n", ganc_net_param_count(s.game.g), ganc_net_layer_count(s.game.g));
    printf("discriminator %zu parameters, %d layers\n", ganc_net_param_count(s.game.d), ganc_net_layer_count(s.game.d));
    if (s.classes) {
        /* one line: the names separated by commas (the checkpoint keeps one a line) */
        printf("classes      %d:", ganc_session_class_count(&s));
        for (const char *c = s.classes; *c;) {
            const size_t len = strcspn(c, "\n");
            printf(" %.*s%s", (int)len, c, c[len] ? "," : "");
            c += len + (c[len] != 0);
        }
        printf("\n");
    }
    printf("hyper-parameters:\n");
    for (int i = 0; i < ganc_config_option_count(); i++) {
        char buf[64];
        const char *key = ganc_config_option_at(i)->key;
        printf("  %-14s %s\n", key, ganc_config_get(&s.cfg, key, buf));
    }
    ganc_session_free(&s);
    return 0;
}
