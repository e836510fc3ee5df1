/* Reader for the .gfx fixtures written by tools/make_fixtures.py (format in
 * tests/fixtures/README.md). */
#ifndef GANC_TEST_FIXTURE_H
#define GANC_TEST_FIXTURE_H

#include <stddef.h>

typedef struct {
    char name[64];
    int dtype; /* 0 float32, 1 text */
    int ndim;
    int dims[8];
    size_t count; /* floats, or bytes of text */
    void *data;   /* text is NUL-terminated */
} fx_entry;

typedef struct {
    int n;
    fx_entry *e;
} fx_file;

int fx_load(const char *path, fx_file *f); /* 0 on success; prints why on failure */
const fx_entry *fx_get(const fx_file *f, const char *name);
const float *fx_floats(const fx_file *f, const char *name); /* NULL when absent */
void fx_free(fx_file *f);

#endif
