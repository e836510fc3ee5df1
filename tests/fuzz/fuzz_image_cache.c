/* The image cache reader on any file. The input's bytes 8..15 are taken as the key asked for,
 * so the fuzzer gets past the key check; a set that loads must be whole (every pixel and label
 * read) with its report (every broken picture's line and the note read), a refusal must name
 * the file and leave the report empty. */
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
    ganc_folder_report r;
    memset(&r, 0, sizeof r);
    if (ganc_image_cache_read(path, key, &ds, &r, err) == 0) {
        unsigned sum = 0;
        const size_t n = (size_t)ds.n * ganc_shape_size(ds.shape);
        for (size_t i = 0; i < n; i++) sum += ds.pixels[i];
        for (int i = 0; ds.labels && i < ds.n; i++)
            if (ds.labels[i] >= ds.n_classes || !ds.class_names[ds.labels[i]]) abort();
        if (r.broken < 0 || r.ignored < 0 || (r.broken && !r.broken_names)) abort();
        for (int i = 0; i < r.broken; i++) sum += (unsigned)strlen(r.broken_names[i]);
        if (memchr(r.note, 0, sizeof r.note) == NULL) abort();
        if (sum == 1u << 31) abort(); /* keeps the reads */
        ganc_dataset_free(&ds);
    } else if (!strstr(err, path) || r.broken || r.broken_names || r.ignored || r.note[0]) {
        abort();
    }
    ganc_folder_report_free(&r);
    return 0;
}
