/* safetensors files (https://huggingface.co/docs/safetensors): 8-byte little-endian header
 * length N, N bytes of JSON ({"name": {"dtype": "F32", "shape": [...], "data_offsets": [b, e]},
 * ..., "__metadata__": {"key": "string value", ...}}), then the data. Offsets are relative to
 * the end of the header, tensors are laid out without gaps in the order written. */
#ifndef GANC_SAFETENSORS_H
#define GANC_SAFETENSORS_H

#include "ganc.h"

typedef enum { GANC_ST_F32, GANC_ST_I64, GANC_ST_U8 } ganc_st_dtype;

typedef struct {
    char name[128];
    ganc_st_dtype dtype;
    int ndim;
    int64_t dims[4];
    const void *data; /* writer: caller's memory; reader: points into the loaded file */
    size_t nbytes;
} ganc_st_tensor;

typedef struct {
    char key[64];
    char *value; /* malloc'ed (reader) or caller's (writer) */
} ganc_st_meta;

/* Writes atomically: a temp file, fsync, rename over PATH, fsync of the directory. On any
 * error (disk full, unwritable directory) PATH is left as it was and the temp file removed. */
int ganc_st_write(const char *path, const ganc_st_tensor *t, int n_tensors, const ganc_st_meta *meta, int n_meta,
                  char err[GANC_ERR_LEN]);

/* A loaded file: validates the header length against the file size, the JSON, every dtype,
 * shape and offset (in range, matching dtype*shape, not overlapping, covering the data). */
typedef struct {
    uint8_t *buf; /* whole file */
    size_t size;
    int n_tensors;
    ganc_st_tensor *tensors;
    int n_meta;
    ganc_st_meta *meta;
} ganc_st_file;

int ganc_st_read(const char *path, ganc_st_file *f, char err[GANC_ERR_LEN]);
const ganc_st_tensor *ganc_st_find(const ganc_st_file *f, const char *name);
const char *ganc_st_meta_get(const ganc_st_file *f, const char *key); /* NULL when absent */
void ganc_st_free(ganc_st_file *f);

#endif
