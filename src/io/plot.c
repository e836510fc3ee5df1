/* Line plots to PNG (loss.png during training): white background, light grid lines at "nice"
 * tick values, a framed plot area with tick labels, a title, a legend of up to 4 series and
 * 2-pixel Bresenham lines. Non-finite points are skipped (the line breaks there; a point with
 * no finite neighbour is drawn as a dot). Text uses the 5x7 font in font.c in every build. */
#include "ganc_internal.h"
#include "io/image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In font.c. */
int ganc_font_text_width(const char *s, int scale);
void ganc_font_draw(uint8_t *rgb, int w, int h, int x, int y, const char *s, int scale, uint32_t color);

#define MAX_SERIES 4
#define MIN_W 160
#define MIN_H 120
#define MAX_DIM 8192
#define FONT_H 7

#define COL_BG 0xFFFFFFu
#define COL_GRID 0xE8E8E8u
#define COL_FRAME 0x555555u
#define COL_TEXT 0x222222u
#define COL_TICK_TEXT 0x444444u
#define COL_NODATA 0x999999u

typedef struct {
    uint8_t *px;
    int w, h;
    int l, t, r, b; /* plot area, inclusive */
} canvas;

static void put(const canvas *c, int x, int y, uint32_t col)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    uint8_t *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
    p[0] = (uint8_t)(col >> 16);
    p[1] = (uint8_t)(col >> 8);
    p[2] = (uint8_t)col;
}

static void fill_rect(const canvas *c, int x0, int y0, int x1, int y1, uint32_t col)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) put(c, x, y, col);
}

/* A thick x thick brush (top-left at x, y), clipped to the plot area. */
static void dab(const canvas *c, int x, int y, int thick, uint32_t col)
{
    for (int dy = 0; dy < thick; dy++)
        for (int dx = 0; dx < thick; dx++) {
            int px = x + dx, py = y + dy;
            if (px < c->l || px > c->r || py < c->t || py > c->b) continue;
            put(c, px, py, col);
        }
}

static void line(const canvas *c, int x0, int y0, int x1, int y1, int thick, uint32_t col)
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (;;) {
        dab(c, x0, y0, thick, col);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

/* ---- ticks ----------------------------------------------------------------------------- */

typedef struct {
    double step;
    int decimals;
    int n;
    double v[32];
    char label[32][24];
} ticks;

/* A step of 1, 2, 2.5 or 5 times a power of ten giving about `target` intervals. */
static double nice_step(double range, int target, double *nf_out)
{
    double raw = range / target, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    double nf = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
    if (nf == 10) {
        nf = 1;
        mag *= 10;
    }
    *nf_out = nf;
    return nf * mag;
}

static void format_tick(char *out, size_t cap, double v, double step, double nf, double vmax, int allow_k)
{
    if (fabs(v) < step * 1e-6) v = 0.0;
    if (vmax >= 1e7 || step < 1e-5) {
        snprintf(out, cap, "%.3g", v);
        return;
    }
    const char *suffix = "";
    if (allow_k && vmax >= 1e4 && step >= 1000) {
        if (v == 0.0) {
            snprintf(out, cap, "0");
            return;
        }
        v /= 1000;
        step /= 1000;
        suffix = "k";
    }
    int d = (int)-floor(log10(step) + 1e-9) + (nf == 2.5 ? 1 : 0);
    if (d < 0) d = 0;
    snprintf(out, cap, "%.*f%s", d, v, suffix);
}

/* Ticks in [lo, hi] for about `target` intervals. */
static void make_ticks(ticks *t, double lo, double hi, int target, int allow_k)
{
    double nf;
    t->step = nice_step(hi - lo, target, &nf);
    double k0 = ceil(lo / t->step - 1e-9);
    double vmax = fmax(fabs(lo), fabs(hi));
    t->n = 0;
    for (int i = 0; i < 32; i++) {
        double v = (k0 + i) * t->step;
        if (v > hi + t->step * 1e-9) break;
        t->v[t->n] = v;
        format_tick(t->label[t->n], sizeof t->label[0], v, t->step, nf, vmax, allow_k);
        t->n++;
    }
}

static int max_label_width(const ticks *t)
{
    int m = 0;
    for (int i = 0; i < t->n; i++) {
        int w = ganc_font_text_width(t->label[i], 1);
        if (w > m) m = w;
    }
    return m;
}

/* ---- plot ------------------------------------------------------------------------------ */

/* col mixed with white: a = 1 keeps the colour, a = 0 gives white. */
static uint32_t tint(uint32_t col, double a)
{
    uint32_t out = 0;
    for (int sh = 16; sh >= 0; sh -= 8) {
        double v = 255.0 - (255.0 - (double)((col >> sh) & 0xFF)) * a;
        out |= (uint32_t)lround(v) << sh;
    }
    return out;
}

static double xval(const float *x, int i) { return x ? (double)x[i] : (double)i; }

/* Lines between consecutive finite points; a finite point with no finite neighbour becomes
 * a 5x5 dot. */
static void draw_series(const canvas *c, const float *x, const float *y, int n, double x0, double y0, double sx,
                        double sy, int thick, uint32_t col)
{
    int have_prev = 0, px0 = 0, py0 = 0;
    for (int i = 0; i < n; i++) {
        double xv = xval(x, i), yv = y[i];
        if (!isfinite(xv) || !isfinite(yv)) {
            have_prev = 0;
            continue;
        }
        int px = (int)lround(c->l + (xv - x0) * sx), py = (int)lround(c->b - (yv - y0) * sy);
        if (have_prev) {
            line(c, px0, py0, px, py, thick, col);
        } else {
            int next_ok = i + 1 < n && isfinite(xval(x, i + 1)) && isfinite(y[i + 1]);
            if (!next_ok)
                for (int dy = -2; dy <= 2; dy++)
                    for (int dx = -2; dx <= 2; dx++)
                        if (abs(dx) + abs(dy) < 4) dab(c, px + dx, py + dy, 1, col);
        }
        have_prev = 1;
        px0 = px;
        py0 = py;
    }
}

int ganc_plot_png(const char *path, const char *title, const float *x, int n, const ganc_series *series,
                  int n_series, int width, int height, char err[GANC_ERR_LEN])
{
    const char *p = path && *path ? path : "(empty path)";
    if (width < MIN_W || height < MIN_H || width > MAX_DIM || height > MAX_DIM)
        return ganc_fail(err, "%s: plot size %dx%d out of range (%dx%d to %dx%d)", p, width, height, MIN_W, MIN_H,
                         MAX_DIM, MAX_DIM);
    if (n < 0) return ganc_fail(err, "%s: negative point count %d", p, n);
    if (n_series < 0 || n_series > MAX_SERIES)
        return ganc_fail(err, "%s: %d series (0 to %d supported)", p, n_series, MAX_SERIES);
    if (n_series > 0 && !series) return ganc_fail(err, "%s: no series given", p);
    for (int s = 0; s < n_series; s++)
        if (n > 0 && !series[s].y) return ganc_fail(err, "%s: series %d has no data", p, s);

    /* data ranges over finite points */
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    int any = 0;
    for (int i = 0; i < n; i++) {
        double xv = xval(x, i);
        if (!isfinite(xv)) continue;
        for (int s = 0; s < n_series; s++) {
            double yv = series[s].y[i];
            if (!isfinite(yv)) continue;
            any = 1;
            x0 = fmin(x0, xv);
            x1 = fmax(x1, xv);
            y0 = fmin(y0, yv);
            y1 = fmax(y1, yv);
        }
    }
    if (!any) {
        x0 = 0, x1 = 1, y0 = 0, y1 = 1;
        if (n > 0 && x && isfinite(x[0]) && isfinite(x[n - 1]) && x[n - 1] > x[0]) x0 = x[0], x1 = x[n - 1];
        else if (n > 1 && !x) x1 = n - 1;
    } else {
        if (x1 - x0 <= fabs(x0) * 1e-9) {
            double d = x0 != 0 ? fabs(x0) * 0.5 : 1.0;
            x0 -= d;
            x1 += d;
        }
        if (y1 - y0 <= fmax(fabs(y0), fabs(y1)) * 1e-6) {
            double d = y0 != 0 ? fabs(y0) * 0.1 : 1.0;
            y0 -= d;
            y1 += d;
        } else {
            double pad = (y1 - y0) * 0.06;
            y0 -= pad;
            y1 += pad;
        }
    }

    /* layout: title and legend on top, y labels left, x labels below */
    int tscale = width >= 400 ? 2 : 1;
    int top = 14;
    int title_h = title && *title ? FONT_H * tscale : FONT_H;
    int legend_w = 0;
    char names[MAX_SERIES][48];
    for (int s = 0; s < n_series; s++) {
        if (series[s].name && *series[s].name) snprintf(names[s], sizeof names[s], "%s", series[s].name);
        else snprintf(names[s], sizeof names[s], "series %d", s + 1);
        legend_w += 18 + 5 + ganc_font_text_width(names[s], 1) + (s + 1 < n_series ? 16 : 0);
    }
    int right_margin = 26, left_guess = 60;
    int title_w = title && *title ? ganc_font_text_width(title, tscale) : 0;
    int legend_own_row = title_w + 30 + legend_w > width - left_guess - right_margin;
    int plot_t = top + title_h + 14 + (legend_own_row && n_series ? FONT_H + 10 : 0);
    int plot_b = height - 1 - (FONT_H + 8 + 12);
    if (plot_b - plot_t < 20) plot_b = plot_t + 20;

    ticks yt;
    int ytarget = (plot_b - plot_t) / 65;
    if (ytarget < 3) ytarget = 3;
    if (ytarget > 8) ytarget = 8;
    make_ticks(&yt, y0, y1, ytarget, 0);
    int plot_l = 14 + max_label_width(&yt) + 8;
    int plot_r = width - 1 - right_margin;

    ticks xt;
    int xtarget = (plot_r - plot_l) / 110;
    if (xtarget < 2) xtarget = 2;
    if (xtarget > 10) xtarget = 10;
    for (;; xtarget--) {
        make_ticks(&xt, x0, x1, xtarget, 1);
        double spacing = xt.step / (x1 - x0) * (plot_r - plot_l);
        if (xtarget <= 1 || max_label_width(&xt) + 14 <= spacing) break;
    }

    size_t npx = (size_t)width * (size_t)height * 3;
    uint8_t *img = malloc(npx);
    if (!img) return ganc_fail(err, "%s: cannot write: out of memory", p);
    memset(img, 0xFF, npx);
    canvas c = {img, width, height, plot_l, plot_t, plot_r, plot_b};
    double sx = (plot_r - plot_l) / (x1 - x0), sy = (plot_b - plot_t) / (y1 - y0);
#define PX(v) ((int)lround(plot_l + ((v) - x0) * sx))
#define PY(v) ((int)lround(plot_b - ((v) - y0) * sy))

    /* grid */
    for (int i = 0; i < yt.n; i++) {
        int y = PY(yt.v[i]);
        if (y > plot_t && y < plot_b) fill_rect(&c, plot_l, y, plot_r, y, COL_GRID);
    }
    for (int i = 0; i < xt.n; i++) {
        int xx = PX(xt.v[i]);
        if (xx > plot_l && xx < plot_r) fill_rect(&c, xx, plot_t, xx, plot_b, COL_GRID);
    }

    /* series: 2-pixel lines through the points. With more points than pixel columns the raw
     * line is drawn in a light tint and the mean of each pixel column on top of it. */
    int plot_w = plot_r - plot_l + 1;
    int dense = n > plot_w;
    double *bsum = NULL;
    int *bcnt = NULL;
    if (dense) {
        bsum = malloc(sizeof(double) * (size_t)plot_w);
        bcnt = malloc(sizeof(int) * 2 * (size_t)plot_w);
        if (!bsum || !bcnt) {
            free(bsum);
            free(bcnt);
            free(img);
            return ganc_fail(err, "%s: cannot write: out of memory", p);
        }
    }
    for (int s = 0; s < n_series; s++) {
        const float *y = series[s].y;
        uint32_t col = series[s].rgb & 0xFFFFFFu;
        if (dense) col = tint(col, 0.35);
        draw_series(&c, x, y, n, x0, y0, sx, sy, dense ? 1 : 2, col);
    }
    for (int s = 0; dense && s < n_series; s++) {
        const float *y = series[s].y;
        uint32_t col = series[s].rgb & 0xFFFFFFu;
        memset(bsum, 0, sizeof(double) * (size_t)plot_w);
        memset(bcnt, 0, sizeof(int) * 2 * (size_t)plot_w);
        for (int i = 0; i < n; i++) {
            double xv = xval(x, i);
            if (!isfinite(xv)) continue;
            int b = PX(xv) - plot_l;
            if (b < 0) b = 0;
            if (b >= plot_w) b = plot_w - 1;
            bcnt[2 * b + 1]++; /* points in the column */
            if (isfinite(y[i])) {
                bsum[b] += y[i];
                bcnt[2 * b]++; /* finite points in the column */
            }
        }
        int have_prev = 0, px0 = 0, py0 = 0;
        for (int b = 0; b < plot_w; b++) {
            if (!bcnt[2 * b + 1]) continue;
            if (!bcnt[2 * b]) {
                have_prev = 0;
                continue;
            }
            int px = plot_l + b, py = PY(bsum[b] / bcnt[2 * b]);
            if (have_prev) line(&c, px0, py0, px, py, 2, col);
            else dab(&c, px, py, 2, col);
            have_prev = 1;
            px0 = px;
            py0 = py;
        }
    }
    free(bsum);
    free(bcnt);

    /* frame, ticks and labels */
    fill_rect(&c, plot_l - 1, plot_t - 1, plot_r + 1, plot_t - 1, COL_FRAME);
    fill_rect(&c, plot_l - 1, plot_b + 1, plot_r + 1, plot_b + 1, COL_FRAME);
    fill_rect(&c, plot_l - 1, plot_t - 1, plot_l - 1, plot_b + 1, COL_FRAME);
    fill_rect(&c, plot_r + 1, plot_t - 1, plot_r + 1, plot_b + 1, COL_FRAME);
    for (int i = 0; i < yt.n; i++) {
        int y = PY(yt.v[i]);
        fill_rect(&c, plot_l - 5, y, plot_l - 2, y, COL_FRAME);
        int w = ganc_font_text_width(yt.label[i], 1);
        ganc_font_draw(img, width, height, plot_l - 8 - w, y - FONT_H / 2, yt.label[i], 1, COL_TICK_TEXT);
    }
    for (int i = 0; i < xt.n; i++) {
        int xx = PX(xt.v[i]);
        fill_rect(&c, xx, plot_b + 2, xx, plot_b + 5, COL_FRAME);
        int w = ganc_font_text_width(xt.label[i], 1);
        ganc_font_draw(img, width, height, xx - w / 2, plot_b + 9, xt.label[i], 1, COL_TICK_TEXT);
    }
    if (!any) {
        const char *msg = "no data";
        int w = ganc_font_text_width(msg, 2);
        ganc_font_draw(img, width, height, (plot_l + plot_r) / 2 - w / 2, (plot_t + plot_b) / 2 - FONT_H, msg, 2,
                       COL_NODATA);
    }

    /* title and legend */
    if (title && *title) ganc_font_draw(img, width, height, plot_l, top, title, tscale, COL_TEXT);
    if (n_series > 0) {
        int lx = plot_r + 1 - legend_w;
        int ly = legend_own_row ? top + title_h + 8 : top + (title_h - FONT_H) / 2;
        if (lx < plot_l) lx = plot_l;
        for (int s = 0; s < n_series; s++) {
            uint32_t col = series[s].rgb & 0xFFFFFFu;
            fill_rect(&c, lx, ly + 2, lx + 17, ly + 4, col);
            lx += 18 + 5;
            ganc_font_draw(img, width, height, lx, ly, names[s], 1, COL_TEXT);
            lx += ganc_font_text_width(names[s], 1) + 16;
        }
    }
#undef PX
#undef PY

    int rc = ganc_png_write(path, img, width, height, 3, err);
    free(img);
    return rc;
}
