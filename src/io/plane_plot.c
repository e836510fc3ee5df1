/* GAN Lab-style pictures of a 2-D GAN (see plane_plot.h).
 *
 * The heat map is drawn cell by cell, each pixel taking the value of the grid cell that holds
 * its centre: the caller decides the resolution (a 40 x 40 grid costs D 1,600 evaluations per
 * frame; grid = picture size gives a smooth map) and the picture shows exactly what D was
 * asked, with no interpolation inventing values between cells. The colours are pale so the
 * dots stay visible on them. Text uses the 5x7 font in font.c, as the line plots do. */
#include "io/plane_plot.h"
#include "ganc_internal.h"
#include "io/image.h"

#include <math.h>
#include <stdlib.h>

/* In font.c (declared where used; it has no header of its own). */
int ganc_font_text_width(const char *s, int scale);
void ganc_font_draw(uint8_t *rgb, int w, int h, int x, int y, const char *s, int scale, uint32_t color);

#define MIN_DIM 16
#define MAX_DIM 8192
#define HEAT_REAL 0xA6DBA0u /* D = 1: light green */
#define HEAT_FAKE 0xC2A5CFu /* D = 0: light purple */
#define DOT_R 1 /* dots are (2 DOT_R + 1)² pixels */
#define FONT_H 9 /* glyph rows including descenders */

void ganc_plane_grid_points(ganc_plane_bounds b, int grid_w, int grid_h, float *xy)
{
    const double dx = ((double)b.xmax - b.xmin) / grid_w, dy = ((double)b.ymax - b.ymin) / grid_h;
    for (int r = 0; r < grid_h; r++)
        for (int c = 0; c < grid_w; c++) {
            float *p = xy + 2 * ((size_t)r * (size_t)grid_w + (size_t)c);
            p[0] = (float)(b.xmin + (c + 0.5) * dx);
            p[1] = (float)(b.ymax - (r + 0.5) * dy);
        }
}

static uint32_t mix(uint32_t a, uint32_t b, double t) /* a at t = 0, b at t = 1 */
{
    uint32_t out = 0;
    for (int s = 16; s >= 0; s -= 8) {
        double ca = (a >> s) & 0xFF, cb = (b >> s) & 0xFF;
        out |= (uint32_t)lround(ca + (cb - ca) * t) << s;
    }
    return out;
}

uint32_t ganc_plane_heat_rgb(float p)
{
    if (isnan(p)) return GANC_PLANE_NAN_RGB;
    double q = p < 0.0f ? 0.0 : p > 1.0f ? 1.0 : (double)p;
    /* white at 0.5, so "D cannot tell" reads as blank and certainty as colour */
    return q >= 0.5 ? mix(0xFFFFFFu, HEAT_REAL, 2.0 * q - 1.0) : mix(0xFFFFFFu, HEAT_FAKE, 1.0 - 2.0 * q);
}

#define RAMP_STEPS 192 /* ramp entries 0..192: D = 0, 1/192, ..., 1 (white at 96) */

void ganc_plane_palette(uint32_t pal[GANC_PLANE_PALETTE_SIZE])
{
    int n = 0;
    for (int i = 0; i <= RAMP_STEPS; i++) pal[n++] = ganc_plane_heat_rgb((float)i / RAMP_STEPS);
    pal[n++] = GANC_PLANE_NAN_RGB;
    pal[n++] = GANC_PLANE_REAL_RGB;
    pal[n++] = GANC_PLANE_FAKE_RGB;
    pal[n++] = GANC_PLANE_TEXT_RGB;
    pal[n++] = 0x000000u;
    for (int r = 0; r < 4; r++) /* 48 entries: levels 0, 85, 170, 255 for r and g, 0, 128, 255 for b */
        for (int g = 0; g < 4; g++)
            for (int b = 0; b < 3; b++) pal[n++] = (uint32_t)(r * 85) << 16 | (uint32_t)(g * 85) << 8 | (uint32_t)(b * 255 / 2);
    for (int k = 1; n < GANC_PLANE_PALETTE_SIZE; k++) pal[n++] = 0x010101u * (uint32_t)(k * 255 / 11); /* 10 greys */
}

int ganc_plane_to_pixel(ganc_plane_bounds b, int w, int h, double x, double y, int *px, int *py)
{
    if (!isfinite(x) || !isfinite(y)) return 0;
    double fx = (x - b.xmin) / ((double)b.xmax - b.xmin) * w;
    double fy = (b.ymax - y) / ((double)b.ymax - b.ymin) * h;
    /* clamp far-away points before converting, so the int conversion is always defined */
    fx = fx < -1.0 ? -1.0 : fx > w ? w : fx;
    fy = fy < -1.0 ? -1.0 : fy > h ? h : fy;
    *px = (int)floor(fx);
    *py = (int)floor(fy);
    return 1;
}

static void put(uint8_t *rgb, int w, int h, int x, int y, uint32_t col)
{
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
    p[0] = (uint8_t)(col >> 16);
    p[1] = (uint8_t)(col >> 8);
    p[2] = (uint8_t)col;
}

static void dots(uint8_t *rgb, int w, int h, ganc_plane_bounds b, const float *pts, int n, uint32_t col)
{
    for (int i = 0; i < n; i++) {
        int px, py;
        if (!ganc_plane_to_pixel(b, w, h, pts[2 * i], pts[2 * i + 1], &px, &py)) continue;
        if (px < 0 || py < 0 || px >= w || py >= h) continue; /* outside the bounds */
        for (int dy = -DOT_R; dy <= DOT_R; dy++)
            for (int dx = -DOT_R; dx <= DOT_R; dx++) put(rgb, w, h, px + dx, py + dy, col);
    }
}

int ganc_plane_render(const ganc_plane_view *v, uint8_t *rgb, int w, int h, char err[GANC_ERR_LEN])
{
    if (!v || !rgb) return ganc_fail(err, "plane plot: no view or no pixels");
    if (w < MIN_DIM || h < MIN_DIM || w > MAX_DIM || h > MAX_DIM)
        return ganc_fail(err, "plane plot: size %dx%d outside %d..%d", w, h, MIN_DIM, MAX_DIM);
    const ganc_plane_bounds b = v->bounds;
    if (!isfinite(b.xmin) || !isfinite(b.xmax) || !isfinite(b.ymin) || !isfinite(b.ymax) || !(b.xmax > b.xmin) ||
        !(b.ymax > b.ymin))
        return ganc_fail(err, "plane plot: bad bounds [%g, %g] x [%g, %g]", b.xmin, b.xmax, b.ymin, b.ymax);
    if (v->d_prob && (v->grid_w < 1 || v->grid_h < 1))
        return ganc_fail(err, "plane plot: D grid of %dx%d", v->grid_w, v->grid_h);
    if (v->n_real < 0 || v->n_fake < 0 || (v->n_real > 0 && !v->real) || (v->n_fake > 0 && !v->fake))
        return ganc_fail(err, "plane plot: missing points");

    for (int y = 0; y < h; y++) {
        /* the cell holding the pixel's centre, (2y + 1) / 2h of the way down, in integers */
        int r = v->d_prob ? (int)((2 * (int64_t)y + 1) * v->grid_h / (2 * (int64_t)h)) : 0;
        for (int x = 0; x < w; x++) {
            uint32_t col = 0xFFFFFFu;
            if (v->d_prob) {
                int c = (int)((2 * (int64_t)x + 1) * v->grid_w / (2 * (int64_t)w));
                col = ganc_plane_heat_rgb(v->d_prob[(size_t)r * (size_t)v->grid_w + (size_t)c]);
            }
            put(rgb, w, h, x, y, col);
        }
    }
    dots(rgb, w, h, b, v->real, v->n_real, GANC_PLANE_REAL_RGB);
    dots(rgb, w, h, b, v->fake, v->n_fake, GANC_PLANE_FAKE_RGB);
    if (v->title && *v->title) {
        /* on a white box, so it stays legible over any colour of the map */
        const int x0 = 6, y0 = 6, tw = ganc_font_text_width(v->title, 1);
        for (int y = y0 - 2; y < y0 + FONT_H + 1; y++)
            for (int x = x0 - 2; x < x0 + tw + 2; x++) put(rgb, w, h, x, y, 0xFFFFFFu);
        ganc_font_draw(rgb, w, h, x0, y0, v->title, 1, GANC_PLANE_TEXT_RGB);
    }
    return 0;
}

int ganc_plane_png(const char *path, const ganc_plane_view *v, int w, int h, char err[GANC_ERR_LEN])
{
    if (w < MIN_DIM || h < MIN_DIM || w > MAX_DIM || h > MAX_DIM)
        return ganc_fail(err, "%s: plane plot size %dx%d outside %d..%d", path ? path : "", w, h, MIN_DIM, MAX_DIM);
    uint8_t *rgb = malloc(3 * (size_t)w * (size_t)h);
    if (!rgb) return ganc_fail(err, "%s: cannot write: out of memory", path ? path : "");
    int rc = ganc_plane_render(v, rgb, w, h, err);
    if (rc == 0) rc = ganc_png_write(path, rgb, w, h, 3, err);
    free(rgb);
    return rc;
}
