/* Pictures and arrays out: PNG grids of samples, NPY arrays, line plots. */
#ifndef GANC_IMAGE_H
#define GANC_IMAGE_H

#include "ganc.h"

/* ganc_png_grid, the PNG grid of samples, is public: in ganc.h. */
/* The same grid as pixels, for other outputs (the frames of an animation): *w x *h pixels of
 * *channels bytes (3 for c = 3, else 1), row-major, malloc'ed (free with free()); NULL with
 * err, whose messages name `what` (the output's path), on failure. */
uint8_t *ganc_grid_pixels(const float *x, int n, ganc_shape s, float lo, float hi, int cols, const char *what, int *w,
                          int *h, int *channels, char err[GANC_ERR_LEN]);

/* One sample value as a byte of a picture: (v - lo) * scale, scale = 255 / (hi - lo), rounded
 * and clamped to 0..255, NaN as 0. The PNG grids and the library's byte samples
 * (ganc_generator_sample_u8) both use it, so their pixels agree. */
static inline uint8_t ganc_pixel_byte(float v, double lo, double scale)
{
    if (v != v) return 0; /* NaN */
    double t = ((double)v - lo) * scale;
    if (!(t > 0.0)) return 0;
    if (t >= 255.0) return 255;
    return (uint8_t)(t + 0.5);
}

/* Raw RGB (3 bytes/pixel) or grey image to PNG. */
int ganc_png_write(const char *path, const uint8_t *pix, int w, int h, int channels, char err[GANC_ERR_LEN]);
/* The writer used when ganc is built without stb (uncompressed deflate blocks); compiled in
 * every build so that it is tested in every build. */
int ganc_png_write_stored(const char *path, const uint8_t *pix, int w, int h, int channels, char err[GANC_ERR_LEN]);

/* NPY (version 1.0, little-endian float32, C order) of shape dims[0..ndim). */
int ganc_npy_write(const char *path, const float *x, int ndim, const int *dims, char err[GANC_ERR_LEN]);
/* n labels as an int32 (N,) array ('<i4'), atomically, as ganc_npy_write. */
int ganc_npy_write_labels(const char *path, const int32_t *labels, int n, char err[GANC_ERR_LEN]);
/* Reads a float32 NPY (<f4, C order, ndim <= 4); sizes checked against the file before
 * allocating. *data is malloc'ed (free with free()). */
int ganc_npy_read(const char *path, float **data, int *ndim, int dims[4], char err[GANC_ERR_LEN]);

/* An NPY file of any dtype, opened and its header parsed (format versions 1.0, 2.0 and 3.0),
 * for readers that take other dtypes than ganc_npy_read (src/data/npy_set.c). The header is
 * only parsed, not judged: the caller decides which descr, order and rank it accepts, then
 * checks the size with ganc_npy_check_size and reads the data with ganc_npy_read_bytes. */
typedef struct {
    int fd;           /* -1 once closed */
    const char *path; /* as given to ganc_npy_open, for messages */
    char descr[32];   /* as written, e.g. "|u1", "<f4", ">i8" */
    int fortran_order;
    int ndim;         /* 0 to 4 (more dimensions are refused while parsing) */
    int64_t dims[4];  /* each 0 .. INT32_MAX */
    uint64_t data_bytes; /* bytes in the file after the header */
} ganc_npy_file;

/* Opens path and parses its header; on success the file is positioned at the first data byte.
 * `need` names the dtypes the caller takes, for the refusal of a structured dtype. On failure
 * nothing stays open and err is one line "PATH: ...". */
int ganc_npy_open(const char *path, const char *need, ganc_npy_file *f, char err[GANC_ERR_LEN]);
/* *count = the product of the dims, checked without overflow to fill the file's data exactly
 * at `item` bytes each (truncated data and trailing bytes are errors) and to fit in memory. */
int ganc_npy_check_size(const ganc_npy_file *f, size_t item, uint64_t *count, char err[GANC_ERR_LEN]);
/* Reads the next n bytes of data; a file that ends early is an error. */
int ganc_npy_read_bytes(ganc_npy_file *f, void *buf, size_t n, char err[GANC_ERR_LEN]);
void ganc_npy_close(ganc_npy_file *f);

/* A line plot: up to 4 series over a shared x axis, drawn into a PNG with axes, tick labels,
 * a title and a legend. NaN/inf points are skipped. */
typedef struct {
    const char *name;
    const float *y;
    uint32_t rgb; /* 0xRRGGBB */
} ganc_series;

int ganc_plot_png(const char *path, const char *title, const float *x, int n, const ganc_series *series,
                  int n_series, int width, int height, char err[GANC_ERR_LEN]);

#endif
