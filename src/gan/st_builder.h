/* The entries of a safetensors file being put together (a checkpoint): tensors by reference to
 * the caller's memory, metadata formatted into memory of the builder's own. Both lists grow as
 * needed, so nothing is dropped; a key or name too long for the file's entries, or memory
 * running out, fails the build, and ganc_st_builder_write reports the first such failure. */
#ifndef GANC_ST_BUILDER_H
#define GANC_ST_BUILDER_H

#include "io/safetensors.h"

typedef struct {
    ganc_st_tensor *tensors;
    int n_tensors, cap_tensors;
    ganc_st_meta *meta; /* values malloc'ed */
    int n_meta, cap_meta;
    char err[GANC_ERR_LEN]; /* the first failure, "" while none */
} ganc_st_builder;

void ganc_st_builder_init(ganc_st_builder *b);
void ganc_st_builder_free(ganc_st_builder *b);
/* An F32 tensor of ndim (at most 4) dimensions; data must outlive the write. */
void ganc_st_builder_tensor(ganc_st_builder *b, const char *name, const float *data, int ndim, const int *dims);
void ganc_st_builder_meta(ganc_st_builder *b, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes path (atomically, ganc_st_write), or fails with the build's first failure. */
int ganc_st_builder_write(const ganc_st_builder *b, const char *path, char err[GANC_ERR_LEN]);

#endif
