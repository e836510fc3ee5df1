/* The image cache reader on any file. The input's bytes 8..15 are taken as the key asked for,
 * so the fuzzer gets past the key check; a set that loads must be whole (every pixel and label
 * read), a refusal must name the file. */
#include "data/folder.h"
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[GANC_ERR_LEN];
    const char *path = fuzz_write(data, size, ".gancset");
    uint64_t key = 0;
    for (int i = 0; i < 8 && 8 + (size_t)i < size; i++) key |= (uint64_t)data[8 + i] << (8 * i);
    ganc_dataset ds;
    if (ganc_image_cache_read(path, key, &ds, err) == 0) {
        unsigned sum = 0;
        const size_t n = (size_t)ds.n * ganc_shape_size(ds.shape);
        for (size_t i = 0; i < n; i++) sum += ds.pixels[i];
        for (int i = 0; ds.labels && i < ds.n; i++)
            if (ds.labels[i] >= ds.n_classes || !ds.class_names[ds.labels[i]]) abort();
        if (sum == 1u << 31) abort(); /* keeps the reads */
        ganc_dataset_free(&ds);
    } else if (!strstr(err, path)) {
        abort();
    }
    return 0;
}
