/* The NPY data-set reader on any file: the input is split at its first "LABELS" marker into an
 * images file and, when the marker is there, the labels file beside it (X_labels.npy), so that
 * both readers and their agreement (the count) are explored. A set that loads is whole (pixels
 * for every image, every label below n_classes); a refusal names one of the two files. */
#include "data/data.h"
#include "fuzz_common.h"

#include <string.h>

static void put(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
}

/* The first "LABELS" in the input, or NULL (memmem is not POSIX). */
static const uint8_t *marker(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 6 <= size; i++)
        if (!memcmp(data + i, "LABELS", 6)) return data + i;
    return NULL;
}

/* err is "PATH: ..." for path. */
static int names(const char *err, const char *path)
{
    const size_t n = strlen(path);
    return !strncmp(err, path, n) && !strncmp(err + n, ": ", 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char images[256], labels[256];
    if (!images[0]) {
        snprintf(images, sizeof images, "/tmp/ganc_fuzz_npy_set_%d.npy", (int)getpid());
        snprintf(labels, sizeof labels, "/tmp/ganc_fuzz_npy_set_%d_labels.npy", (int)getpid());
    }
    const uint8_t *cut = marker(data, size);
    if (cut) {
        put(images, data, (size_t)(cut - data));
        put(labels, cut + 6, size - (size_t)(cut - data) - 6);
    } else {
        put(images, data, size);
        unlink(labels);
    }
    char err[GANC_ERR_LEN];
    ganc_dataset ds;
    if (ganc_dataset_load_npy(images, &ds, err) == 0) {
        const size_t bytes = (size_t)ds.n * ganc_shape_size(ds.shape);
        size_t lit = 0;
        for (size_t i = 0; i < bytes; i++) lit += ds.pixels[i] != 0; /* ASan: all of it is there */
        if (lit > bytes || ds.n < 1 || (ds.shape.c != 1 && ds.shape.c != 3) || (cut && !ds.labels) || (!cut && ds.labels)) abort();
        for (int i = 0; ds.labels && i < ds.n; i++)
            if (ds.labels[i] >= ds.n_classes) abort();
        ganc_dataset_free(&ds);
    } else if ((!names(err, images) && !names(err, labels)) || strchr(err, '\n')) {
        abort();
    }
    return 0;
}
