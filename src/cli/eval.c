/* ganc eval: sample-quality numbers in a trained classifier's feature space (issue 6).
 *
 * What is scored depends on the arguments, one function each:
 *   eval_run      RUN|CHECKPOINT: N samples of the run's generator
 *   eval_samples  --samples FILE.npy: another program's samples
 *   eval_floor    --data alone: N real training images (the best a generator could score)
 * Each builds an image source and hands it to score_images, which scores it against the test
 * split of the data (src/cli/splits.c). A run of another kind (the 2-D toy sets, scored by modes
 * and high-quality samples rather than features) gets its own function beside eval_run,
 * chosen in cmd_eval's dispatch.
 *
 * Stacked MNIST: 3-channel images scored by a 1-channel classifier. The reference is then
 * stacked too: STACKED_REF_N samples composed from the test split's digits. */
#include "cli/flags.h"
#include "cli/splits.h"
#include "eval/conditional.h"
#include "eval/evaluate.h"
#include "gan/reject.h"
#include "ganc_internal.h"
#include "io/image.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_N 10000
#define STACKED_N 26000          /* docs/design.md §5: modes hit by 26,000 samples */
#define STACKED_REF_N 10000      /* stacked reference images composed from the test digits */
#define STACKED_REF_SEED 0x54455354ull /* "TEST": their composition (the training set uses another) */
#define FEATURE_BATCH 250

typedef struct {
    const char *run, *classifier, *data, *test, *samples;
    int split, n, threads, feature_batch;
    double reject, truncation; /* < 0: the run's own --reject, --truncation */
    const char *precision_text; /* NULL: the run's */
    int precision;
    uint64_t seed;
    int json, have_n, have_seed;
    cli_data_flags fit; /* --size, --crop, ...: how the reference data's images are fitted */
} eval_opts;

static const char about[] =
    "Scores N images against the data's test split in the classifier's penultimate features:\n"
    "FID, KID, precision, recall, density, coverage (k = 3), the KL of the predicted class\n"
    "histogram from the test split's, the mean confidence and the share of images the\n"
    "classifier cannot name (unsure: largest class probability below 0.5). 3-channel images with a\n"
    "1-channel classifier are Stacked MNIST: also the modes hit (of 1000) and their KL from uniform.";

/* Reads argv into o: 0, 1 after --help, or -1 after an error line. */
static int parse_args(int argc, char **argv, eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n = DEFAULT_N;
    o->feature_batch = FEATURE_BATCH;
    o->seed = 1;
    o->reject = -1.0;
    o->truncation = -1.0;
    char n_default[64];
    snprintf(n_default, sizeof n_default, "%d; Stacked MNIST %d", DEFAULT_N, STACKED_N);
    cli_flag flags[] = {
        {"--classifier", "FILE", "the feature network, from 'ganc classifier train'", CLI_TEXT, .dest = &o->classifier,
         .required = "make one with 'ganc classifier train'"},
        {"--data", "NAME|PATH", "data set whose test split is the reference", CLI_TEXT, .dest = &o->data,
         .def = "the run's"},
        CLI_DATA_FLAGS(&o->fit),
        {"--test", "PATH", "test images", CLI_TEXT, .dest = &o->test, .def = "the data's own test split"},
        {"--split", "N", "test on images N.. of --data", CLI_INT, 1, 1 << 30, .dest = &o->split,
         .def = "none; mnist-10k: 8000"},
        {"--samples", "FILE", "float32 .npy, (N, C, H, W) or (N, H, W), values in [0, 1]", CLI_TEXT,
         .dest = &o->samples},
        {"--n", "N", "images to score", CLI_INT, GANC_PRDC_K + 1, 1000000, .dest = &o->n, .def = n_default,
         .given = &o->have_n},
        {"--seed", "S", "the noise (as 'ganc sample --seed S': the same samples), the floor's choice of images, KID's "
         "subsets", CLI_SEED, .dest = &o->seed, .def = "the run's seed, else 1", .given = &o->have_seed},
        {"--reject", "Q", "draw the run's samples by discriminator rejection, M at D's Q-quantile (1: exact; 0: off)",
         CLI_NUM, 0.0, 1.0, .dest = &o->reject, .def = "the run's --reject"},
        {"--truncation", "T", "draw the run's z from N(0, 1) truncated to [-T, T] (0: off)", CLI_NUM, 0.0, 100.0,
         .dest = &o->truncation, .def = "the run's --truncation"},
        {"--json", NULL, "one JSON object on stdout instead of the table", CLI_SWITCH, .dest = &o->json},
        {"--feature-batch", "B", "images per classifier pass (the numbers do not depend on it)", CLI_INT, 1, 4096,
         .dest = &o->feature_batch},
        {"--threads", "T", "worker threads (0: all cores)", CLI_INT, 0, 1024, .dest = &o->threads},
        {"--precision", "fp32|bf16|auto", CLI_PRECISION_HELP " (the classifier stays fp32)", CLI_TEXT,
         .dest = &o->precision_text, .def = "the run's"},
    };
    const cli_command cmd = {
        .name = "eval",
        .usage = "ganc eval RUN|CHECKPOINT --classifier FILE [options]\n"
                 "ganc eval --samples FILE.npy --data NAME|IDX --classifier FILE [options]\n"
                 "ganc eval --data NAME|IDX --classifier FILE [options]   (real images: the floor)",
        .about = about,
        .flags = flags,
        .n_flags = (int)(sizeof flags / sizeof flags[0]),
        .operand = "RUN|CHECKPOINT",
        .operand_help = "a run directory (its newest checkpoint) or one checkpoint file: N samples of its generator",
        .operand_dest = &o->run,
    };
    char err[GANC_ERR_LEN];
    const int parsed = cli_flags_read(&cmd, argc, argv);
    if (parsed) return parsed; /* 1: --help, -1: refused (printed) */
    if (o->run && o->samples) return -cli_error("eval: give a run or --samples, not both");
    if (!o->run && o->reject >= 0.0) return -cli_error("eval: --reject draws a run's samples; give a run");
    if (!o->run && o->truncation >= 0.0) return -cli_error("eval: --truncation draws a run's samples; give a run");
    if (cli_precision_flag("eval", o->precision_text, &o->precision, err)) return -cli_error("%s", err);
    if (!o->run && o->precision_text) return -cli_error("eval: --precision draws a run's samples; give a run");
    if (!o->run && !o->data) return -cli_error("eval: what to score? a run, --samples FILE.npy with --data, or --data alone");
    return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static void json_num(const char *key, double v, int last)
{
    if (isfinite(v)) printf("\"%s\": %.9g%s", key, v, last ? "" : ", ");
    else printf("\"%s\": null%s", key, last ? "" : ", "); /* JSON has no NaN */
}

/* The conditional scores as JSON members (before the closing ones). */
static void print_json_cond(const ganc_eval_cond_result *r)
{
    json_num("class_agreement", r->agreement, 0);
    json_num("intra_fid", r->intra_fid, 0);
    printf("\"classes_scored\": %d, \"agreement_by_class\": [", r->classes_scored);
    for (int k = 0; k < r->classes; k++)
        if (isfinite(r->agreement_class[k])) printf("%s%.9g", k ? ", " : "", r->agreement_class[k]);
        else printf("%snull", k ? ", " : "");
    printf("], \"fid_by_class\": [");
    for (int k = 0; k < r->classes; k++)
        if (isfinite(r->fid_class[k])) printf("%s%.9g", k ? ", " : "", r->fid_class[k]);
        else printf("%snull", k ? ", " : "");
    printf("], ");
}

static void print_json(const ganc_eval_result *r, const ganc_eval_cond_result *cr)
{
    printf("{\"n\": %d, ", r->n);
    json_num("fid", r->fid, 0);
    json_num("kid", r->kid, 0);
    json_num("kid_std", r->kid_std, 0);
    json_num("precision", r->precision, 0);
    json_num("recall", r->recall, 0);
    json_num("density", r->density, 0);
    json_num("coverage", r->coverage, 0);
    json_num("class_kl", r->class_kl, 0);
    json_num("confidence", r->confidence, 0);
    json_num("confidence_test", r->confidence_ref, 0);
    json_num("unsure", r->unsure, 0);
    json_num("unsure_test", r->unsure_ref, 0);
    if (r->stacked) {
        printf("\"modes\": %d, \"n_modes\": %d, ", r->modes, r->n_modes);
        json_num("mode_kl", r->mode_kl, 0);
    }
    if (cr) print_json_cond(cr);
    printf("\"n_test\": %d, \"n_prdc\": %d}\n", r->n_ref, r->n_prdc);
}

#define TABLE_MAX_CLASSES 20 /* more classes: the means only */

static void print_table_cond(const ganc_eval_cond_result *r, const ganc_session *run)
{
    printf("  class agreement  %.4f   (the classifier names the class asked for)\n", r->agreement);
    printf("  intra-class FID  %.4f   (mean over %d classes%s)\n", r->intra_fid, r->classes_scored,
           r->classes_skipped ? ", others too few images" : "");
    if (r->classes > TABLE_MAX_CLASSES) return;
    char buf[64];
    for (int k = 0; k < r->classes; k++)
        printf("    %-20.20s agreement %.4f  FID %8.4f  (%d samples, %d test images)\n", ganc_session_class_name(run, k, buf, sizeof buf),
               r->agreement_class[k], r->fid_class[k], r->n_class[k], r->n_ref_class[k]);
}

static void print_table(const char *what, const char *test_desc, const ganc_classifier *c, const char *cls_path,
                        const ganc_eval_result *r)
{
    printf("scored      %s\n", what);
    printf("against     %d test images (%s)\n", r->n_ref, test_desc);
    printf("features    %s (%d per image, test accuracy %.2f%%)\n\n", cls_path, c->feature_dim * (r->stacked ? 3 : 1),
           100.0 * c->test_accuracy);
    printf("  n           %d\n", r->n);
    printf("  FID         %.4f\n", r->fid);
    printf("  KID         %.5f +- %.5f\n", r->kid, r->kid_std);
    printf("  precision   %.4f   (k = %d, %d images of each set)\n", r->precision, GANC_PRDC_K, r->n_prdc);
    printf("  recall      %.4f\n", r->recall);
    printf("  density     %.4f\n", r->density);
    printf("  coverage    %.4f\n", r->coverage);
    printf("  class KL    %.5f\n", r->class_kl);
    printf("  confidence  %.4f   (test images: %.4f)\n", r->confidence, r->confidence_ref);
    printf("  unsure      %.4f   (largest class probability below %.1f; test images: %.4f)\n", r->unsure,
           GANC_UNSURE_BELOW, r->unsure_ref);
    if (r->stacked) {
        printf("  modes       %d of %d\n", r->modes, r->n_modes);
        printf("  mode KL     %.4f\n", r->mode_kl);
    }
}

/* ---- scoring ----------------------------------------------------------------------------- */

/* The reference: the test split, or for Stacked MNIST images composed from its digits. */
typedef struct {
    cli_split sp;
    ganc_dataset stacked_test; /* stacked only */
    const ganc_dataset *ds;
    int from, n;
} reference;

/* run_cfg: the run's options (its data and how it was fitted), or NULL without a run; the flags
 * given override them. */
static int reference_load(const eval_opts *o, const ganc_config *run_cfg, int scored_channels, reference *ref,
                          char err[GANC_ERR_LEN])
{
    memset(ref, 0, sizeof *ref);
    ganc_config cfg;
    if (run_cfg) cfg = *run_cfg;
    else ganc_config_defaults(&cfg);
    if (cli_data_flags_apply(&o->fit, o->data, &cfg, err) || cli_split_load(&cfg, o->test, (int)o->split, 1, &ref->sp, err))
        return -1;
    ref->ds = ref->sp.test;
    ref->from = ref->sp.test_from;
    ref->n = ref->sp.test_n;
    if (ref->sp.stacked || (scored_channels == 3 && ref->sp.train.shape.c == 1)) {
        ref->sp.stacked = 1;
        if (ganc_dataset_stack(ref->sp.test, ref->sp.test_from, ref->sp.test_n, STACKED_REF_N, STACKED_REF_SEED,
                               &ref->stacked_test, err))
            return -1;
        ref->ds = &ref->stacked_test;
        ref->from = 0;
        ref->n = STACKED_REF_N;
        char desc[sizeof ref->sp.test_desc];
        snprintf(desc, sizeof desc, "stacked from the digits of %.1000s", ref->sp.test_desc);
        memcpy(ref->sp.test_desc, desc, sizeof desc);
    }
    return 0;
}

static void reference_free(reference *ref)
{
    ganc_dataset_free(&ref->stacked_test);
    cli_split_free(&ref->sp);
}

/* A conditional run's scores: each sample's requested class (src's labels) against the
 * test images' true classes. */
static int score_cond(const ganc_image_source *src, const ganc_image_source *rsrc, const ganc_eval_features *gen,
                      const ganc_eval_features *rf, int classes, ganc_eval_cond_result *cr, char err[GANC_ERR_LEN])
{
    if (!rsrc->label) return ganc_fail(err, "eval: the run is conditional, and the test images have no labels");
    if (gen->classes != classes)
        return ganc_fail(err, "eval: the run is conditional on %d classes and the classifier knows %d: class agreement "
                              "needs a classifier of the run's data", classes, gen->classes);
    int32_t *gl = ganc_alloc(sizeof(int32_t) * (size_t)src->n), *rl = ganc_alloc(sizeof(int32_t) * (size_t)rsrc->n);
    const int rc = ganc_eval_source_labels(src, classes, gl, err) || ganc_eval_source_labels(rsrc, classes, rl, err) ||
                   ganc_eval_cond_compare(gen, gl, rf, rl, cr, err);
    ganc_free(gl);
    ganc_free(rl);
    return rc ? -1 : 0;
}

/* Scores src against the reference and prints the result; with classes > 0 (a conditional
 * run, src labelled with the classes asked for) also class agreement and intra-class FID. */
static int score_images(const eval_opts *o, ganc_classifier *c, const ganc_image_source *src, reference *ref,
                        const char *what, uint64_t seed, int classes, const ganc_session *run)
{
    char err[GANC_ERR_LEN];
    ganc_dataset_source_ctx rctx;
    ganc_image_source rsrc;
    ganc_dataset_source(&rsrc, &rctx, ref->ds, ref->from, NULL, ref->n);
    ganc_eval_features gen = {0}, rf = {0};
    ganc_eval_result r;
    ganc_eval_cond_result cr = {0};
    const double t0 = cli_now();
    if (ganc_eval_features_compute(c, &rsrc, &rf, err) || ganc_eval_features_compute(c, src, &gen, err) ||
        ganc_eval_compare(&gen, &rf, seed, &r, err) || (classes && score_cond(src, &rsrc, &gen, &rf, classes, &cr, err))) {
        ganc_eval_features_free(&gen);
        ganc_eval_features_free(&rf);
        return cli_error("%s", err);
    }
    ganc_eval_features_free(&gen);
    ganc_eval_features_free(&rf);
    if (o->json) {
        print_json(&r, classes ? &cr : NULL);
    } else {
        print_table(what, ref->sp.test_desc, c, o->classifier, &r);
        if (classes) print_table_cond(&cr, run);
    }
    ganc_eval_cond_result_free(&cr);
    fprintf(stderr, "ganc: eval took %.1f s\n", cli_now() - t0);
    return 0;
}

static long default_n(const eval_opts *o, int stacked) { return o->have_n ? o->n : stacked ? STACKED_N : DEFAULT_N; }

/* ---- what is scored ---------------------------------------------------------------------- */

static int eval_run(const eval_opts *o, ganc_classifier *c)
{
    char path[1100], err[GANC_ERR_LEN], what[1300];
    ganc_session s;
    if (cli_find_checkpoint(o->run, path, sizeof path, err) || ganc_checkpoint_load(path, &s, err))
        return cli_error("%s", err);
    if (o->precision_text) ganc_session_set_precision(&s, o->precision);
    reference ref;
    if (reference_load(o, &s.cfg, s.data_shape.c, &ref, err)) {
        ganc_session_free(&s);
        return cli_error("%s", err);
    }
    const long n = default_n(o, ref.sp.stacked);
    ganc_generator_source_ctx gctx;
    ganc_image_source src;
    /* A conditional run from before its checkpoints kept the training set's class counts
     * draws its classes as often as the training split has them, as later runs do: FID
     * compares with test images in those proportions, not uniform ones. */
    if (s.game.classes && !s.game.class_cum && ref.sp.train.labels) {
        int64_t *counts = ganc_alloc(sizeof(int64_t) * (size_t)s.game.classes);
        for (int i = 0; i < ref.sp.train_n; i++)
            if (ref.sp.train.labels[i] < s.game.classes) counts[ref.sp.train.labels[i]]++;
        ganc_game_set_class_prior(&s.game, counts, s.game.classes);
        ganc_free(counts);
    }
    /* the noise of `ganc sample --seed S`, so that its .npy scores as the run does */
    const uint64_t seed = o->have_seed ? o->seed : s.cfg.seed;
    if (ganc_session_sampling(&s, o->reject, o->truncation, err) ||
        ganc_generator_source(&src, &gctx, &s.game, s.data_shape, s.lo, s.hi, (int)n, cli_sample_stream(seed),
                              s.cfg.reject, err)) {
        reference_free(&ref);
        ganc_session_free(&s);
        return cli_error("eval: %s", err);
    }
    snprintf(what, sizeof what, "%s: %ld samples of step %" PRId64 "%s%s", path, n, s.step,
             s.game.ema ? " (EMA weights)" : "", s.cfg.reject > 0.0f ? " (D rejection sampling)" : "");
    const int status = score_images(o, c, &src, &ref, what, seed, s.game.classes, &s);
    ganc_generator_source_free(&gctx);
    reference_free(&ref);
    ganc_session_free(&s);
    return status;
}

static int eval_samples(const eval_opts *o, ganc_classifier *c)
{
    char err[GANC_ERR_LEN], what[1300];
    float *x = NULL;
    int ndim, dims[4];
    if (ganc_npy_read(o->samples, &x, &ndim, dims, err)) return cli_error("%s", err);
    ganc_shape shape;
    if (ndim == 4) shape = (ganc_shape){dims[1], dims[2], dims[3]};
    else if (ndim == 3) shape = (ganc_shape){1, dims[1], dims[2]};
    else {
        free(x);
        return cli_error("%s: an array of %d dimensions; expected (N, C, H, W) or (N, H, W)", o->samples, ndim);
    }
    const size_t count = (size_t)dims[0] * ganc_shape_size(shape);
    for (size_t i = 0; i < count; i++)
        if (!(x[i] >= 0.0f && x[i] <= 1.0f)) {
            const double v = x[i];
            free(x);
            return cli_error("%s: value %g at index %zu is outside [0, 1] (pixels must be scaled to [0, 1])", o->samples,
                             v, i);
        }
    reference ref;
    if (reference_load(o, NULL, shape.c, &ref, err)) {
        free(x);
        return cli_error("%s", err);
    }
    int n = dims[0];
    if (o->have_n && o->n < n) n = (int)o->n;
    ganc_array_source_ctx actx;
    ganc_image_source src;
    ganc_array_source(&src, &actx, x, n, shape);
    snprintf(what, sizeof what, "%s: %d of its %d images", o->samples, n, dims[0]);
    const int status = score_images(o, c, &src, &ref, what, o->seed, 0, NULL);
    reference_free(&ref);
    free(x);
    return status;
}

static int eval_floor(const eval_opts *o, ganc_classifier *c)
{
    char err[GANC_ERR_LEN], what[1300];
    /* the scored channels: stacked data scores stacked training images */
    const int stacked = !strcmp(o->data, "stacked-mnist") || !strncmp(o->data, GANC_STACKED_PREFIX, strlen(GANC_STACKED_PREFIX));
    reference ref;
    if (reference_load(o, NULL, stacked ? 3 : 1, &ref, err)) return cli_error("%s", err);
    ganc_dataset train_stacked = {0};
    const ganc_dataset *train = &ref.sp.train;
    long n = default_n(o, ref.sp.stacked);
    if (ref.sp.stacked) { /* composed from the training digits, with the training set's seed */
        if (ganc_dataset_stack(&ref.sp.train, 0, ref.sp.train_n, (int)n, GANC_STACKED_SEED, &train_stacked, err)) {
            reference_free(&ref);
            return cli_error("%s", err);
        }
        train = &train_stacked;
    } else if (n > ref.sp.train_n) {
        n = ref.sp.train_n; /* all of them */
    }
    /* n training images drawn without replacement, from the seed */
    int32_t *order = ganc_alloc(sizeof(int32_t) * (size_t)train->n);
    ganc_rng rng;
    ganc_rng_seed(&rng, o->seed * 4 + 3);
    const int pool = ref.sp.stacked ? train->n : ref.sp.train_n;
    ganc_rng_permutation(&rng, order, (size_t)pool);
    ganc_dataset_source_ctx dctx;
    ganc_image_source src;
    ganc_dataset_source(&src, &dctx, train, 0, order, (int)n);
    snprintf(what, sizeof what, "%ld real training images of %s (the floor)", n, ref.sp.data_path);
    const int status = score_images(o, c, &src, &ref, what, o->seed, 0, NULL);
    ganc_free(order);
    ganc_dataset_free(&train_stacked);
    reference_free(&ref);
    return status;
}

/* A run of the 2-D sets (ring, grid) named first: scored by modes, not by a classifier. */
static int is_toy_checkpoint(const char *path)
{
    char err[GANC_ERR_LEN];
    ganc_session s;
    if (ganc_checkpoint_load(path, &s, err)) return 0;
    const int toy = s.toy != NULL;
    ganc_session_free(&s);
    return toy;
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o;
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { /* both kinds of run */
            parse_args(1, (char *[]){"--help", NULL}, &o);
            printf("\n");
            return cmd_eval_toy2d(1, (char *[]){"--help", NULL});
        }
    if (argc > 0 && argv[0][0] != '-') { /* a run or checkpoint: say so first when it is not there */
        char path[1100], err[GANC_ERR_LEN];
        if (cli_find_checkpoint(argv[0], path, sizeof path, err)) return cli_error("eval: %s", err);
        if (is_toy_checkpoint(path)) return cmd_eval_toy2d(argc, argv);
    }
    if (parse_args(argc, argv, &o)) return 1;
    ganc_set_threads((int)o.threads);
    char err[GANC_ERR_LEN];
    ganc_classifier c;
    if (ganc_classifier_load(o.classifier, (int)o.feature_batch, &c, err)) return cli_error("%s", err);
    /* the dispatch: one function per kind of thing scored (2-D runs: a branch on the run's
     * data here, to their own function) */
    int status;
    if (o.samples) status = eval_samples(&o, &c);
    else if (o.run) status = eval_run(&o, &c);
    else status = eval_floor(&o, &c);
    ganc_classifier_free(&c);
    return status;
}
