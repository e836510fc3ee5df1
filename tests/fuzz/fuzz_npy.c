#include "fuzz_common.h"
#include "io/image.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[GANC_ERR_LEN];
    const char *path = fuzz_write(data, size, ".npy");
    float *x = NULL;
    int ndim, dims[4];
    if (ganc_npy_read(path, &x, &ndim, dims, err) == 0) free(x);
    else if (!strstr(err, path)) abort();
    return 0;
}
