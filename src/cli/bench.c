/* ganc bench: training speed of a model on synthetic data (one D step + one G step per
 * iteration), as the median over timed iterations after a warm-up, with achieved GFLOP/s
 * against a measured sgemm peak and, with --profile, the time of every layer. */
#include "cli/cli.h"
#include "cli/flags.h"
#include "ganc_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* FLOPs of one iteration: D step = D fwd+bwd on real, G fwd, D fwd+bwd on fake;
 * G step = G fwd, D fwd, D backward to its input only, G bwd. First layers compute no
 * input gradient where none is needed. */
static double iteration_flops(const ganc_net *g, const ganc_net *d, int m)
{
    double total = 0.0;
    for (int i = 0; i < ganc_net_layer_count(d); i++) {
        const double f = ganc_net_layer_flops(d, i, m);
        total += 3 * f;                      /* forwards: real, fake, G step */
        total += 2 * (f + (i ? f : 0.0));    /* D step backwards: weights + inputs */
        total += f;                          /* G step: input gradient only */
    }
    for (int i = 0; i < ganc_net_layer_count(g); i++) {
        const double f = ganc_net_layer_flops(g, i, m);
        total += 2 * f + f + (i ? f : 0.0);  /* two forwards, one backward */
    }
    return total;
}

/* GFLOP/s of ganc_sgemm on n = 2048 squares (the protocol's peak, docs/design.md §5: OpenBLAS where
 * linked; own = 1 times our own AVX-512 or AVX2 kernels instead, where the build has them). */
static double sgemm_peak(int own)
{
    const int was = ganc_sgemm_own_kernels(-1);
    ganc_sgemm_own_kernels(own);
    const int n = 2048;
    float *a = ganc_alloc(sizeof(float) * n * n), *b = ganc_alloc(sizeof(float) * n * n), *c = ganc_alloc(sizeof(float) * n * n);
    ganc_rng r;
    ganc_rng_seed(&r, 1);
    ganc_rng_uniform(&r, a, (size_t)n * n, -1, 1);
    ganc_rng_uniform(&r, b, (size_t)n * n, -1, 1);
    double best = 1e30;
    for (int rep = 0; rep < 4; rep++) {
        const double t0 = cli_now();
        ganc_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        const double t = cli_now() - t0;
        if (t < best) best = t;
    }
    ganc_free(a);
    ganc_free(b);
    ganc_free(c);
    ganc_sgemm_own_kernels(was);
    return 2.0 * n * n * (double)n / best / 1e9;
}

/* forwards: how many forward calls the network makes per iteration (D 3, G 2). */
static void print_profile(const char *title, const ganc_net *net, int iters, int m, int forwards)
{
    const double *fwd, *bwd;
    ganc_net_profile(net, &fwd, &bwd);
    printf("\n%s (ms per iteration)\n  %-3s %-28s %-12s %8s %8s %8s\n", title, "#", "layer", "output", "forward", "backward", "GFLOP/s");
    for (int i = 0; i < ganc_net_layer_count(net); i++) {
        const ganc_layer_spec *sp = ganc_net_layer_spec(net, i);
        const ganc_shape o = ganc_net_layer_output_shape(net, i);
        char name[40], shape[24];
        snprintf(name, sizeof name, "%s", ganc_layer_type_name(sp->type));
        if (sp->type == GANC_LAYER_CONV || sp->type == GANC_LAYER_DECONV)
            snprintf(name, sizeof name, "%s %d k=%d s=%d", ganc_layer_type_name(sp->type), sp->units, sp->k, sp->stride);
        else if (sp->type == GANC_LAYER_DENSE)
            snprintf(name, sizeof name, "dense %d", sp->units);
        snprintf(shape, sizeof shape, "%dx%dx%d", o.c, o.h, o.w);
        const double f = fwd[i] / iters * 1e3, b = bwd[i] / iters * 1e3;
        const double fl = ganc_net_layer_flops(net, i, m);
        printf("  %-3d %-28s %-12s %8.3f %8.3f", i, name, shape, f, b);
        if (fl > 0) printf(" %8.1f", fl / 1e9 / (fwd[i] / iters / forwards));
        printf("\n");
    }
}

/* --shape C H W: the synthetic images' shape */
static int parse_shape(const char *cmd, const cli_flag *f, char **v, char err[GANC_ERR_LEN])
{
    ganc_shape *shape = f->dest;
    char what[3][64];
    const char *names = "CHW";
    for (int k = 0; k < 3; k++) snprintf(what[k], sizeof what[k], "%s: %s %c", cmd, f->name, names[k]);
    return cli_flag_int(what[0], v[0], 1, 64, &shape->c, err) || cli_flag_int(what[1], v[1], 1, 1024, &shape->h, err) ||
                   cli_flag_int(what[2], v[2], 1, 1024, &shape->w, err)
               ? -1
               : 0;
}

/* Without --shape: 1x28x28 for a model that makes it (as before), else the size the model's
 * generator makes, with 3 channels when its channels follow the data's ($c: the presets for
 * colour pictures, dcgan32 and dcgan64), else the channels it makes. */
static int default_shape(const ganc_model *model, int z_dim, ganc_shape *shape, char err[GANC_ERR_LEN])
{
    ganc_shape grey, colour;
    if (ganc_model_generator_shape(model, z_dim, *shape, &grey, err)) return -1;
    if (grey.c == shape->c && grey.h == shape->h && grey.w == shape->w) return 0;
    const ganc_shape three = {3, grey.h, grey.w};
    if (ganc_model_generator_shape(model, z_dim, three, &colour, err)) return -1;
    *shape = colour.c == 3 && grey.c == 1 ? colour : grey;
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    const char *model_name = "dcgan28";
    int batch = 0, threads = 0, iters = 20, warmup = 3, profile = 0, shape_given = 0, precision = GANC_PRECISION_FP32;
    const char *precision_text = NULL;
    ganc_shape shape = {1, 28, 28};
    cli_flag flags[] = {
        {"--model", "NAME|FILE", "model preset or model file", CLI_TEXT, .dest = &model_name},
        {"--batch", "B", "samples per batch", CLI_INT, 1, 65536, .dest = &batch, .def = "the model's"},
        {"--threads", "T", "worker threads (0: all cores)", CLI_INT, 0, 1024, .dest = &threads},
        {"--iters", "N", "timed iterations", CLI_INT, 1, 100000, .dest = &iters},
        {"--warmup", "N", "untimed iterations first", CLI_INT, 0, 100000, .dest = &warmup},
        {"--shape", "C H W", "the synthetic images' shape", CLI_VALUES, .dest = &shape, .nargs = 3,
         .parse = parse_shape, .given = &shape_given,
         .def = "1 28 28, else the generator's output (3 channels for $c); 2-D models: 2 1 1"},
        {"--profile", NULL, "also the time of every layer", CLI_SWITCH, .dest = &profile},
        {"--precision", "fp32|bf16|auto", "arithmetic of the matrix products: fp32, bf16 (inputs rounded to "
         "bfloat16, fp32 sums; on the kernels the line 'precision' names) or auto (as ganc train --precision)",
         CLI_TEXT, .dest = &precision_text, .def = "fp32"},
    };
    const cli_command cmd = {
        .name = "bench",
        .usage = "ganc bench [options]",
        .about = "Times training iterations (1 D step + 1 G step) on synthetic data: median over N\n"
                 "iterations after the warm-up ones; prints iterations/s, images/s, GFLOP/s and the share\n"
                 "of a measured sgemm peak (n = 2048, OpenBLAS where linked), then which GEMM ran\n"
                 "(GANC_GEMM=blas: OpenBLAS instead of ganc's AVX-512/AVX2 kernels) and, with --precision\n"
                 "bf16, which bf16 kernels (AMX-BF16, AVX512-BF16 or emulated; GANC_BF16=emulated forces the\n"
                 "last); --profile adds per-layer times.",
        .flags = flags,
        .n_flags = (int)(sizeof flags / sizeof flags[0]),
    };
    char err[GANC_ERR_LEN];
    const int parsed = cli_flags_read(&cmd, argc, argv);
    if (parsed) return parsed > 0 ? 0 : 1;
    if (cli_precision_flag("bench", precision_text, &precision, err)) return cli_error("%s", err);
    ganc_config cfg;
    ganc_model model;
    ganc_config_defaults(&cfg);
    if (ganc_model_load(model_name, &model, err) || ganc_model_apply_train(&model, &cfg, err)) return cli_error("%s", err);
    char unused[GANC_ERR_LEN];
    if (!shape_given && ganc_toy2d_find(cfg.data, unused)) shape = (ganc_shape){2, 1, 1}; /* a 2-D model */
    else if (!shape_given && default_shape(&model, cfg.z_dim, &shape, err)) {
        ganc_model_free(&model);
        return cli_error("%s", err);
    }
    if (batch) cfg.batch = batch;
    cfg.threads = threads;
    cfg.precision = precision;
    ganc_set_threads(threads);
    ganc_session s;
    int rc = ganc_session_create(&s, &cfg, &model, shape, err);
    ganc_model_free(&model);
    if (rc) return cli_error("%s", err);

    const size_t n = (size_t)cfg.batch * ganc_shape_size(shape);
    float *real = ganc_alloc(sizeof(float) * n);
    ganc_rng r;
    ganc_rng_seed(&r, 3);
    ganc_rng_uniform(&r, real, n, s.lo, s.hi);
    double *times = ganc_alloc(sizeof(double) * (size_t)iters);
    for (int it = 0; it < warmup + iters; it++) {
        if (it == warmup && profile) {
            ganc_net_set_profiling(s.game.g, 1);
            ganc_net_set_profiling(s.game.d, 1);
        }
        const double t0 = cli_now();
        ganc_game_d_step(&s.game, real, NULL);
        ganc_game_g_step(&s.game);
        if (it >= warmup) times[it - warmup] = cli_now() - t0;
    }
    qsort(times, (size_t)iters, sizeof *times, cmp_double);
    const double med = times[iters / 2], flops = iteration_flops(s.game.g, s.game.d, cfg.batch);
    const int own = ganc_sgemm_own_kernels(-1);
    const double peak = sgemm_peak(0), own_peak = own ? sgemm_peak(1) : 0.0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("model %s  shape %dx%dx%d  batch %d  threads %d  iterations %d (median of %d, after %d warm-up)\n", model_name,
           shape.c, shape.h, shape.w, cfg.batch, ganc_threads(), iters, iters, warmup);
    printf("parameters G %zu D %zu\n", ganc_net_param_count(s.game.g), ganc_net_param_count(s.game.d));
    printf("iter/s %.2f  images/s %.0f  ms/iter %.2f (min %.2f)  MFLOP/image %.1f  GFLOP/s %.1f  sgemm peak %.0f GFLOP/s "
           "(%.0f%%)  peak RSS %.0f MB\n",
           1.0 / med, cfg.batch / med, med * 1e3, times[0] * 1e3, flops / cfg.batch / 1e6, flops / med / 1e9, peak,
           100.0 * flops / med / 1e9 / peak, ru.ru_maxrss / 1024.0);
    if (own)
        printf("gemm: ganc's %s kernels (%.0f GFLOP/s at n = 2048; GANC_GEMM=blas for the peak's path)\n",
               ganc_sgemm_own_name(), own_peak);
    else
        printf("gemm: the peak's path (OpenBLAS where linked, else portable loops)\n");
    if (s.cfg.precision == GANC_PRECISION_BF16)
        printf("precision bf16: %s kernels%s\n", ganc_bf16_kernels(),
               ganc_bf16_hardware() ? "" : " (exact rounding to bfloat16, then the fp32 GEMM: no faster than fp32)");
    else
        printf("precision fp32%s\n", precision == GANC_PRECISION_AUTO ? " (auto: no bf16 in hardware here, or the model is "
                                                                      "not one shown to train as well in bf16)" : "");
    if (ganc_conv_winograd(-1))
        printf("convolutions: Winograd F(2x2,2x2) for the 4x4 stride-2 padding-1 layers of 16 channels or more%s "
               "(GANC_CONV=im2col for im2col everywhere; GFLOP/s counts the direct products)\n",
               s.cfg.precision == GANC_PRECISION_BF16 ? " in fp32 passes (bf16 ones use im2col)" : "");
    else
        printf("convolutions: im2col (GANC_CONV=im2col)\n");
    if (profile) {
        print_profile("discriminator", s.game.d, iters, cfg.batch, 3);
        print_profile("generator", s.game.g, iters, cfg.batch, 2);
    }
    ganc_free(real);
    ganc_free(times);
    ganc_session_free(&s);
    return 0;
}
