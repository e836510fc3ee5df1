#include "fuzz_common.h"
#include "gan/session.h"
#include "io/safetensors.h"

#include <string.h>

/* Both the generic reader and the checkpoint loader on top of it (metadata, shapes, model). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[GANC_ERR_LEN];
    const char *path = fuzz_write(data, size, ".safetensors");
    ganc_st_file f;
    if (ganc_st_read(path, &f, err) == 0) ganc_st_free(&f);
    else if (!strstr(err, path)) abort();
    ganc_session s;
    if (ganc_checkpoint_load(path, &s, err) == 0) ganc_session_free(&s);
    return 0;
}
