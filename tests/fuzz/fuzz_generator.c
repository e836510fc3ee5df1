#include "fuzz_common.h"
#include "ganc.h"

#include <string.h>

/* The inference API's reader (gan/export.c: exported generators and training checkpoints, each
 * read for G alone, a path of its own beside the checkpoint loader's) from any bytes: a refusal
 * names the file; a file it opens must draw (what the reader accepts, drawing relies on: the
 * code inside z, the classes, the shapes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[GANC_ERR_LEN];
    const char *path = fuzz_write(data, size, ".safetensors");
    ganc_generator *gen = ganc_generator_open(path, 2, err);
    if (!gen) {
        if (!strstr(err, path)) abort();
        return 0;
    }
    const size_t floats = 2 * ganc_shape_size(ganc_generator_shape(gen));
    float *x = malloc(sizeof(float) * floats);
    int32_t classes[2];
    if (!x || ganc_generator_sample(gen, NULL, 2, x, floats, classes, err)) abort();
    free(x);
    ganc_generator_close(gen);
    return 0;
}
