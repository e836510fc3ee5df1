#include "fixture.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_u32(FILE *fp, uint32_t *v)
{
    unsigned char b[4];
    if (fread(b, 1, 4, fp) != 4) return -1;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

int fx_load(const char *path, fx_file *f)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "%s: cannot open (run from the repository root)\n", path);
        return -1;
    }
    char magic[8];
    uint32_t n;
    if (fread(magic, 1, 8, fp) != 8 || memcmp(magic, "GANCFX01", 8) || read_u32(fp, &n) || n > 10000) goto bad;
    f->e = calloc(n, sizeof *f->e);
    for (uint32_t i = 0; i < n; i++) {
        fx_entry *e = &f->e[i];
        uint32_t len, dtype, ndim, d;
        if (read_u32(fp, &len) || len >= sizeof e->name || fread(e->name, 1, len, fp) != len) goto bad;
        if (read_u32(fp, &dtype) || dtype > 1 || read_u32(fp, &ndim) || ndim > 8) goto bad;
        e->dtype = (int)dtype;
        e->ndim = (int)ndim;
        e->count = 1;
        for (uint32_t k = 0; k < ndim; k++) {
            if (read_u32(fp, &d) || d > (1u << 24)) goto bad;
            e->dims[k] = (int)d;
            e->count *= d;
        }
        size_t bytes = e->count * (dtype ? 1 : 4);
        e->data = calloc(1, bytes + 1);
        if (fread(e->data, 1, bytes, fp) != bytes) goto bad;
        f->n = (int)i + 1;
    }
    fclose(fp);
    return 0;
bad:
    fprintf(stderr, "%s: malformed fixture\n", path);
    fclose(fp);
    fx_free(f);
    return -1;
}

const fx_entry *fx_get(const fx_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->e[i].name, name)) return &f->e[i];
    return NULL;
}

const float *fx_floats(const fx_file *f, const char *name)
{
    const fx_entry *e = fx_get(f, name);
    return e && e->dtype == 0 ? e->data : NULL;
}

void fx_free(fx_file *f)
{
    for (int i = 0; i < f->n; i++) free(f->e[i].data);
    free(f->e);
    memset(f, 0, sizeof *f);
}
