/* libFuzzer harnesses: the readers take paths, so each input is written to a private file. */
#ifndef GANC_FUZZ_COMMON_H
#define GANC_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline const char *fuzz_path(const char *suffix)
{
    static char path[256];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/ganc_fuzz_%d%s", (int)getpid(), suffix);
    return path;
}

static inline const char *fuzz_write(const uint8_t *data, size_t size, const char *suffix)
{
    const char *path = fuzz_path(suffix);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    return path;
}

#endif
