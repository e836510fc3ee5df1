/* Train and test splits of a data set, shared by `ganc classifier train` and `ganc eval`, so
 * that both pick the same test images for the same flags. In order of precedence:
 *   --test IDX     that file;
 *   --split N      images N.. of the data file itself (the first N train);
 *   its own        CIFAR's test batch;
 *   a t10k-* file  beside a train-* file (MNIST's and Fashion-MNIST's own test split);
 *   mnist-10k      the last 2,000 of its 10,000 (its README's conventional split);
 *   a folder or an NPY array: a random tenth (from a fixed seed, the same every time), or with
 *                  --split N all but N drawn at random: their images come in class order, so
 *                  the first N would leave whole classes out of training. */
#include "cli/splits.h"
#include "ganc_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MNIST10K_SPLIT 8000
#define SHUFFLED_SPLIT_SEED 0x53504c54ull /* "SPLT" */

/* Folders and NPY arrays: train and test are drawn from one fixed permutation of the images. */
static int shuffled_split(cli_split *sp, int split, char err[GANC_ERR_LEN])
{
    const int n = sp->train.n;
    if (!split) split = n - n / 10;
    if (split < 1 || split >= n)
        return ganc_fail(err, "--split %d: must leave images on both sides of the %d in %s", split, n, sp->data_path);
    int32_t *order = ganc_alloc(sizeof(int32_t) * (size_t)n);
    ganc_rng rng;
    ganc_rng_seed(&rng, SHUFFLED_SPLIT_SEED);
    ganc_rng_permutation(&rng, order, (size_t)n);
    ganc_dataset all = sp->train, train;
    int rc = ganc_dataset_subset(&all, order, split, &train, err);
    if (rc == 0 && (rc = ganc_dataset_subset(&all, order + split, n - split, &sp->own_test, err))) ganc_dataset_free(&train);
    ganc_free(order);
    if (rc) return -1;
    ganc_dataset_free(&all);
    sp->train = train;
    sp->train_n = split;
    sp->test = &sp->own_test;
    sp->test_n = n - split;
    snprintf(sp->test_desc, sizeof sp->test_desc, "drawn at random from %s, the rest train",
             sp->data_path);
    return 0;
}

/* The t10k-* file beside a train-* file, when there is one. */
static int beside_t10k(const char *path, char out[1024])
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strncmp(base, "train-", 6) != 0) return 0;
    snprintf(out, 1024, "%.*st10k-%s", (int)(base - path), path, base + 6);
    return access(out, R_OK) == 0;
}

static int same_shape(ganc_shape a, ganc_shape b) { return a.c == b.c && a.h == b.h && a.w == b.w; }

/* Opens path as a whole set of images (no mirroring) into ds; *class_ordered (may be NULL):
 * whether its images come in class order (ganc_source.class_ordered). */
static int open_images(const char *path, const ganc_config *cfg, int test, int verbose, ganc_dataset *ds,
                       int *class_ordered, char err[GANC_ERR_LEN])
{
    ganc_source src;
    if (cli_open_path(path, cfg, test, verbose, &src, err)) return -1;
    if (src.kind != GANC_SOURCE_IMAGES) {
        ganc_source_close(&src);
        return ganc_fail(err, "%s: 2-D points have no test split (ganc eval scores 2-D runs by their modes)", path);
    }
    if (class_ordered) *class_ordered = src.class_ordered;
    *ds = src.ds; /* the images move out; the rest of the source goes */
    memset(&src.ds, 0, sizeof src.ds);
    ganc_source_close(&src);
    return 0;
}

int cli_split_load(const ganc_config *data_cfg, const char *test, int split, int verbose, cli_split *sp,
                   char err[GANC_ERR_LEN])
{
    memset(sp, 0, sizeof *sp);
    char path[1024], tpath[1024];
    ganc_config c = *data_cfg;
    const ganc_config *cfg = &c;
    c.xflip = 0;
    if (cli_resolve_data(cfg->data, path, sizeof path, err)) return -1;
    const size_t plen = strlen(GANC_STACKED_PREFIX);
    if (!strncmp(path, GANC_STACKED_PREFIX, plen)) { /* the splits are the base's; callers compose */
        sp->stacked = 1;
        memmove(path, path + plen, strlen(path + plen) + 1);
    }
    snprintf(sp->data_path, sizeof sp->data_path, "%s", path);
    int class_ordered = 0;
    if (open_images(path, cfg, 0, verbose, &sp->train, &class_ordered, err)) return -1;
    sp->train_n = sp->train.n;
    if (test) {
        if (open_images(test, cfg, 0, verbose, &sp->own_test, NULL, err)) goto fail;
        if (!same_shape(sp->own_test.shape, sp->train.shape)) {
            ganc_fail(err, "--test %s: images are %dx%dx%d, the data's are %dx%dx%d", test, sp->own_test.shape.c,
                      sp->own_test.shape.h, sp->own_test.shape.w, sp->train.shape.c, sp->train.shape.h,
                      sp->train.shape.w);
            goto fail;
        }
        sp->test = &sp->own_test;
        sp->test_n = sp->own_test.n;
        snprintf(sp->test_desc, sizeof sp->test_desc, "%s", test);
        return 0;
    }
    if (!split && (!strncmp(path, "cifar10:", 8) || !strncmp(path, "cifar100:", 9))) {
        if (open_images(path, cfg, 1, verbose, &sp->own_test, NULL, err)) goto fail;
        sp->test = &sp->own_test;
        sp->test_n = sp->own_test.n;
        snprintf(sp->test_desc, sizeof sp->test_desc, "the test batch of %s", path);
        return 0;
    }
    if (!split && beside_t10k(path, tpath)) {
        if (open_images(tpath, cfg, 0, verbose, &sp->own_test, NULL, err)) goto fail;
        sp->test = &sp->own_test;
        sp->test_n = sp->own_test.n;
        snprintf(sp->test_desc, sizeof sp->test_desc, "%s", tpath);
        return 0;
    }
    if (class_ordered) {
        if (shuffled_split(sp, split, err)) goto fail;
        return 0;
    }
    if (!split && ganc_ends_with(path, "/mnist-10k/images-idx3-ubyte.gz")) split = MNIST10K_SPLIT;
    if (!split) {
        ganc_fail(err, "%s: no test split of its own: pass --test PATH or --split N (train on the first N images, test on the rest)", path);
        goto fail;
    }
    if (split < 1 || split >= sp->train.n) {
        ganc_fail(err, "--split %d: must leave images on both sides of the %d in %s", split, sp->train.n, path);
        goto fail;
    }
    sp->train_n = split;
    sp->test = &sp->train;
    sp->test_from = split;
    sp->test_n = sp->train.n - split;
    snprintf(sp->test_desc, sizeof sp->test_desc, "images %d..%d of %s", split, sp->train.n - 1, path);
    return 0;
fail:
    cli_split_free(sp);
    return -1;
}

void cli_split_free(cli_split *sp)
{
    ganc_dataset_free(&sp->train);
    ganc_dataset_free(&sp->own_test);
    memset(sp, 0, sizeof *sp);
}
