/* ganc: train, sample and inspect generative adversarial networks. */
#include "cli/cli.h"
#include "cli/dist.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "ganc %s: generative adversarial networks in C\n\n"
                 "usage: ganc COMMAND [options]   (ganc COMMAND --help for its options)\n\n"
                 "commands:\n"
                 "  train    train a GAN:            ganc train --out runs/fashion\n"
                 "  sample   draw from a trained G:  ganc sample runs/fashion -n 64 -o grid.png\n"
                 "  info     describe a run:         ganc info runs/fashion\n"
                 "  export   G alone, for programs:  ganc export runs/fashion -o gen.safetensors\n"
                 "  bench    training speed:         ganc bench --model dcgan28 --batch 64 --profile\n"
                 "  classifier eval's features:     ganc classifier train --data fashion-mnist --out cls.safetensors\n"
                 "  eval     sample quality:         ganc eval runs/fashion --classifier cls.safetensors\n"
                 "           2-D mode coverage:      ganc eval runs/ring --json\n"
                 "  serve    a live dashboard:       ganc serve runs/fashion runs/mnist --port 8080\n"
                 "  report   a run as one HTML file: ganc report runs/fashion -o report.html\n"
                 "  models   list the model presets\n\n"
                 "presets: ",
            ganc_version_string());
    const char *const *p = ganc_model_presets();
    for (int i = 0; p[i]; i++) fprintf(out, "%s%s", i ? ", " : "", p[i]);
    fprintf(out, " (models/*.gan; --model FILE for your own)\n");
}

int main(int argc, char **argv)
{
    /* A file-size limit (ulimit -f) must surface as a write error with a message, not kill us. */
    signal(SIGXFSZ, SIG_IGN);
    /* The GEMM's per-thread packing buffers are kept between calls: free them at the end, so
     * that leak checkers see nothing left (exit runs this after the command has returned). */
    atexit(ganc_shutdown);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        /* the optional parts this binary was built with (Makefile probes) */
        printf("ganc %s (built with:%s%s%s%s%s%s%s)\n", ganc_version_string(),
#ifdef _OPENMP
               " openmp",
#else
               "",
#endif
#ifdef GANC_HAVE_OPENBLAS
               " openblas",
#else
               "",
#endif
#ifdef GANC_HAVE_ZLIB
               " zlib",
#else
               "",
#endif
#ifdef GANC_HAVE_STB
               " stb",
#else
               "",
#endif
#ifdef GANC_HAVE_GIF
               " gif",
#else
               "",
#endif
#ifdef GANC_HAVE_MPI
               " mpi", /* data-parallel ganc train under mpirun */
#else
               "",
#endif
#ifdef GANC_HAVE_MHD
               " http" /* libmicrohttpd: ganc serve, ganc train --serve */
#else
               ""
#endif
        );
        return 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "train") && cli_dist_launched_size() > 1) {
        /* (each process would do the whole job, and write the same files) */
        if (cli_dist_launched_rank() == 0)
            fprintf(stderr,
                    "ganc: %s: only ganc train shares its work over processes; started as %d processes, each would do "
                    "all of it: run ganc %s without mpirun or srun\n",
                    cmd, cli_dist_launched_size(), cmd);
        return 2;
    }
    if (!strcmp(cmd, "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "sample")) return cmd_sample(argc - 2, argv + 2);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "export")) return cmd_export(argc - 2, argv + 2);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 2, argv + 2);
    if (!strcmp(cmd, "classifier")) return cmd_classifier(argc - 2, argv + 2);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 2, argv + 2);
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 2, argv + 2);
    if (!strcmp(cmd, "report")) return cmd_report(argc - 2, argv + 2);
    if (!strcmp(cmd, "models")) {
        const char *const *p = ganc_model_presets();
        for (int i = 0; p[i]; i++) printf("%s\n", p[i]);
        return 0;
    }
    fprintf(stderr, "ganc: unknown command '%s' (train, sample, info, export, bench, classifier, eval, serve, report, models; see ganc --help)\n", cmd);
    return 2;
}
