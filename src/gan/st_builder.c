/* A growing list of safetensors entries (see st_builder.h). */
#include "gan/st_builder.h"
#include "ganc_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ganc_st_builder_init(ganc_st_builder *b) { memset(b, 0, sizeof *b); }

void ganc_st_builder_free(ganc_st_builder *b)
{
    for (int i = 0; i < b->n_meta; i++) free(b->meta[i].value);
    free(b->meta);
    free(b->tensors);
    memset(b, 0, sizeof *b);
}

/* Room for one more of *n items of `size` bytes in *items (capacity *cap), doubling. */
static int grow(ganc_st_builder *b, void **items, int n, int *cap, size_t size)
{
    if (b->err[0]) return -1;
    if (n < *cap) return 0;
    if (*cap > INT_MAX / 2) return ganc_fail(b->err, "more than %d entries", *cap);
    const int want = *cap ? 2 * *cap : 64;
    void *p = realloc(*items, (size_t)want * size);
    if (!p) return ganc_fail(b->err, "out of memory listing %d entries", n + 1);
    *items = p;
    *cap = want;
    return 0;
}

void ganc_st_builder_tensor(ganc_st_builder *b, const char *name, const float *data, int ndim, const int *dims)
{
    if (grow(b, (void **)&b->tensors, b->n_tensors, &b->cap_tensors, sizeof *b->tensors)) return;
    ganc_st_tensor *t = &b->tensors[b->n_tensors];
    memset(t, 0, sizeof *t);
    if (strlen(name) >= sizeof t->name) {
        ganc_fail(b->err, "tensor name '%.40s...' is longer than %zu bytes", name, sizeof t->name - 1);
        return;
    }
    if (ndim < 0 || ndim > 4) {
        ganc_fail(b->err, "tensor '%s' has %d dimensions (at most 4)", name, ndim);
        return;
    }
    memcpy(t->name, name, strlen(name) + 1);
    t->dtype = GANC_ST_F32;
    t->ndim = ndim;
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        t->dims[i] = dims[i];
        count *= (size_t)dims[i];
    }
    t->data = data;
    t->nbytes = count * sizeof(float);
    b->n_tensors++;
}

void ganc_st_builder_meta(ganc_st_builder *b, const char *key, const char *fmt, ...)
{
    if (grow(b, (void **)&b->meta, b->n_meta, &b->cap_meta, sizeof *b->meta)) return;
    ganc_st_meta *m = &b->meta[b->n_meta];
    if (strlen(key) >= sizeof m->key) {
        ganc_fail(b->err, "metadata key '%.40s...' is longer than %zu bytes", key, sizeof m->key - 1);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    const int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *value = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!value) {
        ganc_fail(b->err, "metadata '%s': %s", key, len < 0 ? "cannot format its value" : "out of memory");
        return;
    }
    va_start(ap, fmt);
    vsnprintf(value, (size_t)len + 1, fmt, ap);
    va_end(ap);
    memcpy(m->key, key, strlen(key) + 1);
    m->value = value;
    b->n_meta++;
}

int ganc_st_builder_write(const ganc_st_builder *b, const char *path, char err[GANC_ERR_LEN])
{
    if (b->err[0]) return ganc_fail(err, "%s: %s", path, b->err);
    return ganc_st_write(path, b->tensors, b->n_tensors, b->meta, b->n_meta, err);
}
