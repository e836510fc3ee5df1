/* Train and test splits of a data set, shared by `ganc classifier train` and `ganc eval`, so
 * that both pick the same test images for the same flags. In order of precedence:
 *   --test IDX     that file;
 *   --split N      images N.. of the data file itself (the first N train);
 *   a t10k-* file  beside a train-* file (MNIST's and Fashion-MNIST's own test split);
 *   mnist-10k      the last 2,000 of its 10,000 (its README's conventional split). */
#include "cli/splits.h"
#include "ganc_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MNIST10K_SPLIT 8000

/* The t10k-* file beside a train-* file, when there is one. */
static int beside_t10k(const char *path, char out[1024])
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strncmp(base, "train-", 6) != 0) return 0;
    snprintf(out, 1024, "%.*st10k-%s", (int)(base - path), path, base + 6);
    return access(out, R_OK) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int same_shape(ganc_shape a, ganc_shape b) { return a.c == b.c && a.h == b.h && a.w == b.w; }

int cli_split_load(const char *data, const char *test, int split, cli_split *sp, char err[GANC_ERR_LEN])
{
    memset(sp, 0, sizeof *sp);
    char path[1024], tpath[1024];
    if (cli_resolve_data(data, path, sizeof path, err)) return -1;
    const size_t plen = strlen(GANC_STACKED_PREFIX);
    if (!strncmp(path, GANC_STACKED_PREFIX, plen)) { /* the splits are the base's; callers compose */
        sp->stacked = 1;
        memmove(path, path + plen, strlen(path + plen) + 1);
    }
    snprintf(sp->data_path, sizeof sp->data_path, "%s", path);
    if (ganc_dataset_load_idx(path, &sp->train, err)) return -1;
    sp->train_n = sp->train.n;
    if (test) {
        if (ganc_dataset_load_idx(test, &sp->own_test, err)) goto fail;
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
    if (!split && beside_t10k(path, tpath)) {
        if (ganc_dataset_load_idx(tpath, &sp->own_test, err)) goto fail;
        sp->test = &sp->own_test;
        sp->test_n = sp->own_test.n;
        snprintf(sp->test_desc, sizeof sp->test_desc, "%s", tpath);
        return 0;
    }
    if (!split && ends_with(path, "/mnist-10k/images-idx3-ubyte.gz")) split = MNIST10K_SPLIT;
    if (!split) {
        ganc_fail(err, "%s: no test split (no t10k-* file beside it): pass --test IDX or --split N", path);
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
