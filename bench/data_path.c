/* bench_data_path (make bench, after the speed table): images/s of the training data path
 * alone, on one thread, for a folder-sized set of colour pictures, so that it can be set
 * beside what training consumes. The data path is what a run does for every real batch before
 * D sees it:
 *
 *   the batcher's shuffled indices (ganc_batcher_next)
 *   -> bytes of the set mapped from its cache file, to floats in [-1, 1] (ganc_dataset_fill)
 *   -> a horizontal flip of half the samples (a local flip: what --xflip adds)
 *   -> DiffAugment color,translation,cutout (ganc_diffaug_draw + ganc_diffaug_forward)
 *
 * The set is N random pictures written with ganc_image_cache_write and mapped back with
 * ganc_image_cache_read, as a folder run maps its cache (src/data/folder.h); the pixels' values
 * do not change the work. The file is in the page cache, as it is for a run after its first
 * epoch; one epoch's worth of batches is run first, untimed.
 *
 *   build/bench_data_path [--n N] [--size S] [--channels C] [--batch B] [--epochs E]
 *                         [--consumes R]
 *
 * Prints images/s of the whole path and the time per batch of each stage; with --consumes R
 * (the images/s a training run uses, e.g. batch x it/s of `ganc bench`), the ratio and
 * whether it is at least 10. */
#include "data/data.h"
#include "data/folder.h"
#include "gan/diffaug.h"
#include "ganc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { STAGES = 4 };
static const char *const stage_names[STAGES] = {"shuffle", "fill", "flip", "diffaug"};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Each picture of the batch whose flip[i] is set, mirrored left to right, plane by plane. */
static void flip_batch(float *x, const uint8_t *flip, int n, ganc_shape s)
{
    const size_t size = ganc_shape_size(s);
    for (int i = 0; i < n; i++) {
        if (!flip[i]) continue;
        float *row = x + (size_t)i * size;
        for (int r = 0; r < s.c * s.h; r++, row += s.w)
            for (int a = 0, b = s.w - 1; a < b; a++, b--) {
                const float t = row[a];
                row[a] = row[b];
                row[b] = t;
            }
    }
}

static int arg_int(int argc, char **argv, int *i, const char *name, int lo, int hi, int *out)
{
    if (strcmp(argv[*i], name)) return 0;
    char *end = NULL;
    const long v = *i + 1 < argc ? strtol(argv[*i + 1], &end, 10) : 0;
    if (!end || *end || v < lo || v > hi) {
        fprintf(stderr, "bench_data_path: %s needs an integer in [%d, %d]\n", name, lo, hi);
        exit(2);
    }
    *out = (int)v;
    ++*i;
    return 1;
}

int main(int argc, char **argv)
{
    int n = 2000, size = 64, channels = 3, batch = 64, epochs = 10;
    double consumes = 0.0;
    for (int i = 1; i < argc; i++) {
        if (arg_int(argc, argv, &i, "--n", 1, 1 << 20, &n) || arg_int(argc, argv, &i, "--size", 1, 1024, &size) ||
            arg_int(argc, argv, &i, "--channels", 1, 3, &channels) ||
            arg_int(argc, argv, &i, "--batch", 1, 65536, &batch) || arg_int(argc, argv, &i, "--epochs", 1, 1000, &epochs))
            continue;
        if (!strcmp(argv[i], "--consumes") && i + 1 < argc) {
            char *end;
            consumes = strtod(argv[++i], &end);
            if (*end || !(consumes > 0.0)) {
                fprintf(stderr, "bench_data_path: --consumes needs a positive number of images/s\n");
                return 2;
            }
            continue;
        }
        fprintf(stderr, "bench_data_path: unknown argument '%s' (--n --size --channels --batch --epochs --consumes)\n",
                argv[i]);
        return 2;
    }
    if (channels == 2 || batch > n) {
        fprintf(stderr, "bench_data_path: --channels must be 1 or 3 and --batch at most --n\n");
        return 2;
    }
    ganc_set_threads(1);

    /* the set, through its cache file */
    char err[GANC_ERR_LEN], path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/ganc-data-path.%ld.cache", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    const uint64_t key = 0x6461746170617468ull;
    ganc_dataset made, ds;
    memset(&made, 0, sizeof made);
    made.n = n;
    made.shape = (ganc_shape){channels, size, size};
    const size_t bytes = (size_t)n * ganc_shape_size(made.shape);
    made.pixels = malloc(bytes);
    if (!made.pixels) {
        fprintf(stderr, "bench_data_path: out of memory for %d pictures\n", n);
        return 1;
    }
    ganc_rng rng;
    ganc_rng_seed(&rng, 1);
    for (size_t j = 0; j < bytes; j += 8) {
        const uint64_t r = ganc_rng_u64(&rng);
        for (size_t b = 0; b < 8 && j + b < bytes; b++) made.pixels[j + b] = (uint8_t)(r >> (8 * b));
    }
    const int wrote = ganc_image_cache_write(path, key, &made, NULL, err);
    ganc_dataset_free(&made);
    if (wrote || ganc_image_cache_read(path, key, &ds, NULL, err)) {
        fprintf(stderr, "bench_data_path: %s\n", err);
        unlink(path);
        return 1;
    }
    unlink(path); /* the mapping stays valid */

    ganc_diffaug aug;
    if (ganc_diffaug_init(&aug, GANC_AUG_COLOR | GANC_AUG_TRANSLATION | GANC_AUG_CUTOUT, ds.shape, batch, err)) {
        fprintf(stderr, "bench_data_path: %s\n", err);
        ganc_dataset_free(&ds);
        return 1;
    }
    ganc_batcher batcher;
    ganc_batcher_init(&batcher, ds.n, 7);
    int32_t *idx = malloc(sizeof *idx * (size_t)batch);
    uint8_t *flip = malloc((size_t)batch);
    float *x = ganc_alloc(sizeof(float) * (size_t)batch * ganc_shape_size(ds.shape));
    if (!idx || !flip || !x) {
        fprintf(stderr, "bench_data_path: out of memory for a batch of %d\n", batch);
        return 1;
    }

    const int per_epoch = (ds.n + batch - 1) / batch, warm = per_epoch, timed = per_epoch * epochs;
    double stage[STAGES] = {0}, total = 0.0;
    for (int b = 0; b < warm + timed; b++) {
        double t[STAGES + 1];
        t[0] = now();
        ganc_batcher_next(&batcher, batch, idx);
        t[1] = now();
        ganc_dataset_fill(&ds, idx, batch, -1.0f, 1.0f, x);
        t[2] = now();
        for (int i = 0; i < batch; i += 64) {
            const uint64_t r = ganc_rng_u64(&rng);
            for (int k = 0; k < 64 && i + k < batch; k++) flip[i + k] = (uint8_t)(r >> k & 1);
        }
        flip_batch(x, flip, batch, ds.shape);
        t[3] = now();
        ganc_diffaug_draw(&aug, batch, &rng);
        ganc_diffaug_forward(&aug, x, x);
        t[4] = now();
        if (b < warm) continue;
        for (int k = 0; k < STAGES; k++) stage[k] += t[k + 1] - t[k];
        total += t[STAGES] - t[0];
    }
    const double images = (double)timed * batch, rate = images / total;
    printf("data path: %d pictures %dx%dx%d mapped from a cache file, batch %d, 1 thread, %d batches (%d epochs)\n", ds.n,
           ds.shape.c, ds.shape.h, ds.shape.w, batch, timed, epochs);
    printf("data path images/s %.0f  ms/batch %.3f (", rate, 1e3 * total / timed);
    for (int k = 0; k < STAGES; k++) printf("%s%s %.3f", k ? ", " : "", stage_names[k], 1e3 * stage[k] / timed);
    printf(")\n");
    if (consumes > 0.0)
        printf("training consumes images/s %.1f  data_ratio=%.0f (%s 10)\n", consumes, rate / consumes,
               rate / consumes >= 10.0 ? "at least" : "BELOW");

    free(idx);
    free(flip);
    ganc_free(x);
    ganc_batcher_free(&batcher);
    ganc_diffaug_free(&aug);
    ganc_dataset_free(&ds);
    return 0;
}
