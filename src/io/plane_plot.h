/* Pictures of a 2-D GAN as GAN Lab draws them: the discriminator's output D(x) as a heat map
 * over the plane (green where D says "real", purple where it says "generated", white at 0.5),
 * real points as green dots, generated points as purple dots, and an optional title. */
#ifndef GANC_PLANE_PLOT_H
#define GANC_PLANE_PLOT_H

#include "ganc.h"

/* The window onto the plane: x from xmin (left edge) to xmax (right edge), y from ymin (bottom
 * edge) to ymax (top edge). For a data set, {-b, b, -b, b} with b = ganc_toy2d.bound. */
typedef struct {
    float xmin, xmax, ymin, ymax;
} ganc_plane_bounds;

typedef struct {
    ganc_plane_bounds bounds;
    /* D(x) as a probability in [0, 1] at the grid_w x grid_h points ganc_plane_grid_points
     * gives (cell centres, top row first); each cell is drawn in its value's colour. Values
     * outside [0, 1] are clamped, NaN is drawn grey. NULL: white background, no heat map. */
    const float *d_prob;
    int grid_w, grid_h;
    const float *real; /* n_real points, row-major (x, y); may be NULL when n_real = 0 */
    int n_real;
    const float *fake; /* n_fake generated points, drawn over the real ones */
    int n_fake;
    const char *title; /* NULL or "": none */
} ganc_plane_view;

#define GANC_PLANE_REAL_RGB 0x1A9850u /* dots of real points */
#define GANC_PLANE_FAKE_RGB 0x762A83u /* dots of generated points */
#define GANC_PLANE_NAN_RGB 0xBBBBBBu  /* heat map cells where D is NaN */
#define GANC_PLANE_TEXT_RGB 0x222222u /* the title */

/* The grid_w * grid_h points (x, y), row-major from the top-left cell, at which the caller
 * evaluates D for ganc_plane_view.d_prob: cell (r, c) has centre
 * (xmin + (c + 0.5) (xmax - xmin) / grid_w, ymax - (r + 0.5) (ymax - ymin) / grid_h). */
void ganc_plane_grid_points(ganc_plane_bounds b, int grid_w, int grid_h, float *xy);

/* The heat map's colour (0xRRGGBB) for D(x) = p. */
uint32_t ganc_plane_heat_rgb(float p);

/* A 256-colour palette for GIF animations of plane plots (ganc_gif_open): the heat map's
 * ramp at 193 evenly spaced values of D (entry i is ganc_plane_heat_rgb(i / 192)), the dot,
 * NaN and title colours and black, then a coarse 4x4x3 colour cube and greys for anything
 * else drawn on a frame. Every pixel ganc_plane_render draws is then within a few levels per
 * channel of a palette entry, and the dots, text and white exactly on one. */
#define GANC_PLANE_PALETTE_SIZE 256
void ganc_plane_palette(uint32_t pal[GANC_PLANE_PALETTE_SIZE]);

/* The pixel (column, row; row 0 at the top) of a w x h picture of bounds b that contains the
 * point (x, y); it may lie outside the picture. Returns 0 when (x, y) is not finite. */
int ganc_plane_to_pixel(ganc_plane_bounds b, int w, int h, double x, double y, int *px, int *py);

/* Draws the view into rgb (w * h * 3 bytes, row-major RGB). w and h from 16 to 8192. Points
 * outside the bounds or not finite are left out. Returns 0, or -1 with err for bad arguments. */
int ganc_plane_render(const ganc_plane_view *v, uint8_t *rgb, int w, int h, char err[GANC_ERR_LEN]);

/* ganc_plane_render into a PNG at path, written atomically (io/atomic.h). */
int ganc_plane_png(const char *path, const ganc_plane_view *v, int w, int h, char err[GANC_ERR_LEN]);

#endif
