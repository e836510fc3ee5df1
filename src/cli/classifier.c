/* ganc classifier train: the feature network of `ganc eval`, trained on a data set's labels and
 * written as a safetensors file with its architecture and test accuracy. */
#include "cli/flags.h"
#include "cli/splits.h"
#include "eval/classifier.h"
#include "ganc_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The flags of `ganc classifier train`, read into cfg and the rest. */
typedef struct {
    const char *data, *outp, *test, *arch_path;
    int split, limit, threads;
    cli_data_flags fit;
} train_args;

static int parse_args(int argc, char **argv, train_args *a, ganc_classifier_train_cfg *cfg, FILE *help_out)
{
    memset(a, 0, sizeof *a);
    int epochs = cfg->epochs, batch = cfg->batch;
    double lr = cfg->lr;
    cli_flag flags[] = {
        {"--data", "NAME|PATH", "fashion-mnist, mnist-10k, a folder of pictures in class sub-folders, cifar10:DIR, "
         "cifar100:DIR, an NPY array or an IDX images file (with labels)", CLI_TEXT, .dest = &a->data, .required = ""},
        CLI_DATA_FLAGS(&a->fit),
        {"--out", "FILE", "the classifier file to write", CLI_TEXT, .dest = &a->outp, .required = ""},
        {"--test", "PATH", "test images", CLI_TEXT, .dest = &a->test, .def = "the data's own test split"},
        {"--split", "N", "train on images 0..N-1 of --data, test on the rest (a folder or NPY array: N drawn at random)",
         CLI_INT, 1, 1 << 30, .dest = &a->split, .def = "mnist-10k: 8000; a folder or NPY: all but a random tenth"},
        {"--epochs", "N", "passes over the training images", CLI_INT, 1, 10000, .dest = &epochs},
        {"--batch", "B", "images per step", CLI_INT, 1, 4096, .dest = &batch},
        {"--lr", "LR", "Adam's peak learning rate, cosine-decayed to LR/100", CLI_NUM, 0.0, 1.0, .dest = &lr,
         .open = 1},
        {"--arch", "FILE", "layer lines ending in 'dense CLASSES'", CLI_TEXT, .dest = &a->arch_path,
         .def = "the built-in network, in src/eval/classifier.c"},
        {"--limit", "N", "train on the first N training images only (quick checks)", CLI_INT, 1, 1 << 30,
         .dest = &a->limit, .def = "all"},
        {"--seed", "S", "seeds the weights, the data order and dropout", CLI_SEED, .dest = &cfg->seed},
        {"--threads", "T", "worker threads (0: all cores)", CLI_INT, 0, 1024, .dest = &a->threads},
    };
    const cli_command cmd = {
        .name = "classifier train",
        .usage = "ganc classifier train --data NAME|PATH --out FILE [options]",
        .about = "Trains the feature network of 'ganc eval' on the data's labels (the labels file beside an\n"
                 "IDX or NPY file, a folder's class sub-folders, CIFAR's) and writes it to FILE\n"
                 "(safetensors), with its test accuracy.",
        .flags = flags,
        .n_flags = (int)(sizeof flags / sizeof flags[0]),
    };
    if (help_out) {
        cli_flags_help(&cmd, help_out);
        return 1;
    }
    const int parsed = cli_flags_read(&cmd, argc, argv);
    if (parsed) return parsed; /* 1: --help, -1: refused (printed) */
    cfg->epochs = epochs;
    cfg->batch = batch;
    cfg->lr = (float)lr;
    return 0;
}

static int cmd_classifier_train(int argc, char **argv)
{
    ganc_classifier_train_cfg cfg = ganc_classifier_train_defaults();
    train_args a;
    const int parsed = parse_args(argc, argv, &a, &cfg, NULL);
    if (parsed) return parsed > 0 ? 0 : 1;
    const char *data = a.data, *outp = a.outp, *test = a.test, *arch_path = a.arch_path;
    const int split = a.split, limit = a.limit;
    ganc_set_threads(a.threads);

    char err[GANC_ERR_LEN];
    cli_split sp;
    ganc_config data_cfg;
    ganc_config_defaults(&data_cfg);
    if (cli_data_flags_apply(&a.fit, data, &data_cfg, err) || cli_split_load(&data_cfg, test, (int)split, 1, &sp, err))
        return cli_error("%s", err);
    int status = 0;
    ganc_classifier c = {0};
    if (sp.stacked) {
        status = cli_error("classifier train: train it on the plain MNIST file, not on stacked-mnist (eval labels each channel)");
        goto out;
    }
    if (!sp.train.labels || !sp.test->labels) {
        status = cli_error("%s: no labels (an IDX file's labels-idx1-* beside it, a folder's class sub-folders) to train a classifier on",
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
    if (arch_path ? read_arch(arch_path, arch, sizeof arch, err) : (ganc_classifier_default_arch(classes, sp.train.shape, arch, sizeof arch), 0)) {
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
        ganc_classifier_train_cfg cfg = ganc_classifier_train_defaults();
        train_args a;
        parse_args(0, NULL, &a, &cfg, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "train")) return cmd_classifier_train(argc - 1, argv + 1);
    return cli_error("classifier: unknown sub-command '%s' (ganc classifier train ...)", argv[0]);
}
