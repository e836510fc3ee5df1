/* ganc classifier train: the feature network of `ganc eval`, trained on a data set's labels and
 * written as a safetensors file with its architecture and test accuracy. */
#include "cli/splits.h"
#include "eval/classifier.h"
#include "ganc_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ganc classifier train --data NAME|IDX --out FILE [options]\n\n"
            "Trains the feature network of 'ganc eval' on the labels beside the IDX file and writes\n"
            "it to FILE (safetensors), with its test accuracy.\n\n"
            "  --data NAME|IDX   fashion-mnist, mnist-10k or an IDX images file (labels beside it)\n"
            "  --out FILE        the classifier file to write\n"
            "  --test IDX        test images (default: the t10k-* file beside a train-* file)\n"
            "  --split N         train on images 0..N-1 of --data, test on the rest\n"
            "                    (mnist-10k: 8000 unless given)\n"
            "  --epochs N        passes over the training images (default 5)\n"
            "  --batch B         images per step (default 64)\n"
            "  --lr LR           Adam's peak learning rate, cosine-decayed to LR/100 (default 0.002)\n"
            "  --arch FILE       layer lines ending in 'dense CLASSES' (default: the built-in network,\n"
            "                    in src/eval/classifier.c)\n"
            "  --limit N         train on the first N training images only (quick checks)\n"
            "  --seed S          seeds the weights, the data order and dropout (default 1)\n"
            "  --threads T       worker threads, 0: all cores (default 0)\n");
}

/* A whole (small) text file into buf. */
static int read_arch(const char *path, char *buf, size_t cap, char err[GANC_ERR_LEN])
{
    FILE *f = fopen(path, "rb");
    if (!f) return ganc_fail(err, "--arch %s: cannot open: %s", path, strerror(errno));
    const size_t n = fread(buf, 1, cap, f);
    const int bad = ferror(f) || n == cap || memchr(buf, 0, n);
    fclose(f);
    if (bad) return ganc_fail(err, "--arch %s: unreadable, binary or longer than %zu bytes", path, cap - 1);
    buf[n] = 0;
    return 0;
}

static int cmd_classifier_train(int argc, char **argv)
{
    const char *data = NULL, *outp = NULL, *test = NULL, *arch_path = NULL;
    long split = 0, limit = 0, threads = 0;
    ganc_classifier_train_cfg cfg = ganc_classifier_train_defaults();
    for (int i = 0; i < argc;) {
        char key[64];
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        const int r = cli_next_flag(argc, argv, &i, key, &v);
        if (r == 1) return cli_error("classifier train: unexpected argument '%s' (see ganc classifier train --help)", argv[i]);
        if (r == -1) return cli_error("classifier train: --%s needs a value", key);
        long x = 0;
        int bad = 0;
        if (!strcmp(key, "data")) data = v;
        else if (!strcmp(key, "out")) outp = v;
        else if (!strcmp(key, "test")) test = v;
        else if (!strcmp(key, "arch")) arch_path = v;
        else if (!strcmp(key, "split")) bad = cli_parse_long("classifier train", key, v, 1, 1L << 30, &split);
        else if (!strcmp(key, "limit")) bad = cli_parse_long("classifier train", key, v, 1, 1L << 30, &limit);
        else if (!strcmp(key, "threads")) bad = cli_parse_long("classifier train", key, v, 0, 1024, &threads);
        else if (!strcmp(key, "epochs")) bad = cli_parse_long("classifier train", key, v, 1, 10000, &x) || (cfg.epochs = (int)x, 0);
        else if (!strcmp(key, "batch")) bad = cli_parse_long("classifier train", key, v, 1, 4096, &x) || (cfg.batch = (int)x, 0);
        else if (!strcmp(key, "seed")) {
            unsigned long long seed;
            bad = cli_parse_seed("classifier train", key, v, &seed) || (cfg.seed = seed, 0);
        } else if (!strcmp(key, "lr")) {
            char *end;
            const double lr = strtod(v, &end);
            if (end == v || *end || !(lr > 0 && lr < 1)) return cli_error("classifier train: --lr must be in (0, 1), got '%s'", v);
            cfg.lr = (float)lr;
        } else {
            return cli_error("classifier train: unknown option '--%s' (see ganc classifier train --help)", key);
        }
        if (bad) return 1;
    }
    if (!data) return cli_error("classifier train: --data NAME|IDX is required");
    if (!outp) return cli_error("classifier train: --out FILE is required");
    ganc_set_threads((int)threads);

    char err[GANC_ERR_LEN];
    cli_split sp;
    if (cli_split_load(data, test, (int)split, &sp, err)) return cli_error("%s", err);
    int status = 0;
    ganc_classifier c = {0};
    if (sp.stacked) {
        status = cli_error("classifier train: train it on the plain MNIST file, not on stacked-mnist (eval labels each channel)");
        goto out;
    }
    if (!sp.train.labels || !sp.test->labels) {
        status = cli_error("%s: no labels beside the images (labels-idx1-* is needed to train a classifier)",
                           !sp.train.labels ? sp.data_path : sp.test_desc);
        goto out;
    }
    const int n_train = limit && limit < sp.train_n ? (int)limit : sp.train_n;
    const int classes = sp.train.n_classes > sp.test->n_classes ? sp.train.n_classes : sp.test->n_classes;
    if (classes < 2) {
        status = cli_error("%s: the labels name only one class", sp.data_path);
        goto out;
    }
    if (cfg.batch > n_train) {
        status = cli_error("classifier train: --batch %d is larger than the %d training images", cfg.batch, n_train);
        goto out;
    }
    char arch[8192];
    if (arch_path ? read_arch(arch_path, arch, sizeof arch, err) : (ganc_classifier_default_arch(classes, arch, sizeof arch), 0)) {
        status = cli_error("%s", err);
        goto out;
    }
    ganc_classifier_trainer t;
    if (ganc_classifier_create(&c, arch, sp.train.shape, classes, cfg.batch, cfg.seed, err) ||
        ganc_classifier_trainer_init(&t, &c, &sp.train, n_train, &cfg, err)) {
        status = cli_error("%s", err);
        goto out;
    }
    fprintf(stderr, "ganc: training a %d-class classifier on %d images of %s (%dx%dx%d), %d epochs; test: %d (%s)\n",
            classes, n_train, sp.data_path, sp.train.shape.c, sp.train.shape.h, sp.train.shape.w, cfg.epochs,
            sp.test_n, sp.test_desc);
    const double t0 = cli_now();
    const int64_t per_epoch = t.total / cfg.epochs;
    for (int e = 0; e < cfg.epochs; e++) {
        int64_t correct = 0;
        double loss = 0.0;
        for (int64_t s = 0; s < per_epoch; s++) loss += ganc_classifier_trainer_step(&t, &correct);
        fprintf(stderr, "ganc: epoch %d/%d: loss %.4f, training accuracy %.2f%%, %.0f s\n", e + 1, cfg.epochs,
                loss / (double)per_epoch, 100.0 * (double)correct / (double)(per_epoch * cfg.batch), cli_now() - t0);
    }
    const double train_s = cli_now() - t0;
    ganc_classifier_trainer_free(&t);
    double acc;
    if (ganc_classifier_accuracy(&c, sp.test, sp.test_from, sp.test_n, &acc, err)) {
        status = cli_error("%s", err);
        goto out;
    }
    c.test_accuracy = acc;
    /* no training time in the file: the same seed gives the same bytes */
    char seed[32], epochs[16], ntr[16], nte[16];
    snprintf(seed, sizeof seed, "%" PRIu64, cfg.seed);
    snprintf(epochs, sizeof epochs, "%d", cfg.epochs);
    snprintf(ntr, sizeof ntr, "%d", n_train);
    snprintf(nte, sizeof nte, "%d", sp.test_n);
    ganc_st_meta extra[] = {{"data", sp.data_path}, {"test", sp.test_desc}, {"seed", seed}, {"epochs", epochs},
                            {"train_images", ntr}, {"test_images", nte}};
    if (ganc_classifier_save(outp, &c, extra, (int)(sizeof extra / sizeof extra[0]), err)) {
        status = cli_error("%s", err);
        goto out;
    }
    fprintf(stderr, "ganc: test accuracy %.2f%% on %d images (%s); trained in %.0f s -> %s\n", 100.0 * acc, sp.test_n,
            sp.test_desc, train_s, outp);
out:
    ganc_classifier_free(&c);
    cli_split_free(&sp);
    return status;
}

int cmd_classifier(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "train")) return cmd_classifier_train(argc - 1, argv + 1);
    return cli_error("classifier: unknown sub-command '%s' (ganc classifier train ...)", argv[0]);
}
