/* Pictures and arrays out: PNG grids of samples, NPY arrays, line plots. */
#ifndef GANC_IMAGE_H
#define GANC_IMAGE_H

#include "ganc.h"

/* Writes n samples of shape (c, h, w) with values in [lo, hi] as a PNG grid with `cols`
 * columns (0: about square) and a 2-pixel border between cells. c = 1 gives grey, c = 3 RGB
 * (planes are channels); other c: the first channel as grey. */
int ganc_png_grid(const char *path, const float *x, int n, ganc_shape s, float lo, float hi, int cols,
                  char err[GANC_ERR_LEN]);

/* Raw RGB (3 bytes/pixel) or grey image to PNG. */
int ganc_png_write(const char *path, const uint8_t *pix, int w, int h, int channels, char err[GANC_ERR_LEN]);
/* The writer used when ganc is built without stb (uncompressed deflate blocks); compiled in
 * every build so that it is tested in every build. */
int ganc_png_write_stored(const char *path, const uint8_t *pix, int w, int h, int channels, char err[GANC_ERR_LEN]);

/* NPY (version 1.0, little-endian float32, C order) of shape dims[0..ndim). */
int ganc_npy_write(const char *path, const float *x, int ndim, const int *dims, char err[GANC_ERR_LEN]);
/* Reads a float32 NPY (<f4, C order, ndim <= 4); sizes checked against the file before
 * allocating. *data is malloc'ed (free with free()). */
int ganc_npy_read(const char *path, float **data, int *ndim, int dims[4], char err[GANC_ERR_LEN]);

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
