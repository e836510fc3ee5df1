#include "data/data.h"
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[GANC_ERR_LEN];
    const char *path = fuzz_write(data, size, "-images-idx3-ubyte");
    ganc_dataset ds;
    if (ganc_dataset_load_idx(path, &ds, err) == 0) ganc_dataset_free(&ds);
    else if (!strstr(err, path)) abort(); /* every message names the file */
    return 0;
}
