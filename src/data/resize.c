/* Channels and size of a decoded picture (resize.h has the filter's definition). */
#include "data/resize.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Most input pixels one output pixel reads along an axis. */
static int max_taps(int in, int out) { return out < in ? in / out + 2 : 2; }

/* Output pixel x's taps along an axis of `in` pixels resized to `out`: input pixels
 * first .. first + n - 1 with weights w[0 .. n). */
static void axis_taps(int x, int in, int out, int *first, int *n, float *w)
{
    if (out < in) {
        /* Area filter in exact integers: scaled by `out`, output x covers [x in, (x + 1) in) and
         * input i covers [i out, (i + 1) out); the overlap divided by `in` is i's weight. */
        const long long a = (long long)x * in, b = a + in;
        const int lo = (int)(a / out), hi = (int)((b + out - 1) / out); /* [lo, hi) */
        *first = lo;
        *n = hi - lo;
        for (int i = lo; i < hi; i++) {
            const long long s = (long long)i * out, e = s + out;
            const long long overlap = (e < b ? e : b) - (s > a ? s : a);
            w[i - lo] = (float)((double)overlap / in);
        }
        return;
    }
    if (out == in) {
        *first = x;
        *n = 1;
        w[0] = 1.0f;
        return;
    }
    /* Linear between pixel centres, clamped at the edges. */
    const double u = (x + 0.5) * in / out - 0.5;
    int i0 = (int)floor(u);
    double f = u - i0;
    if (i0 < 0) i0 = 0, f = 0.0;
    if (i0 >= in - 1) i0 = in - 1, f = 0.0;
    *first = i0;
    *n = f > 0.0 ? 2 : 1;
    w[0] = (float)(1.0 - f);
    w[1] = (float)f;
}

size_t ganc_resize_scratch(int w, int h, int ow, int oh)
{
    return (size_t)h * (size_t)ow + (size_t)max_taps(w, ow) + (size_t)max_taps(h, oh);
}

static uint8_t to_byte(double v)
{
    v = floor(v + 0.5);
    return (uint8_t)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
}

void ganc_resize_plane(const uint8_t *src, size_t stride, int x0, int y0, int w, int h, uint8_t *dst, int ow, int oh,
                       float *scratch)
{
    float *rows = scratch;                         /* h x ow: the horizontal pass */
    float *wx = rows + (size_t)h * (size_t)ow;     /* one output column's taps */
    float *wy = wx + max_taps(w, ow);              /* one output row's taps */
    for (int x = 0; x < ow; x++) {
        int first, n;
        axis_taps(x, w, ow, &first, &n, wx);
        for (int y = 0; y < h; y++) {
            const uint8_t *row = src + (size_t)(y0 + y) * stride + (size_t)(x0 + first);
            double acc = 0.0;
            for (int t = 0; t < n; t++) acc += (double)wx[t] * row[t];
            rows[(size_t)y * (size_t)ow + (size_t)x] = (float)acc;
        }
    }
    for (int y = 0; y < oh; y++) {
        int first, n;
        axis_taps(y, h, oh, &first, &n, wy);
        for (int x = 0; x < ow; x++) {
            double acc = 0.0;
            for (int t = 0; t < n; t++) acc += (double)wy[t] * rows[(size_t)(first + t) * (size_t)ow + (size_t)x];
            dst[(size_t)y * (size_t)ow + (size_t)x] = to_byte(acc);
        }
    }
}

static uint8_t luma(int r, int g, int b) { return (uint8_t)((299 * r + 587 * g + 114 * b + 500) / 1000); }

void ganc_image_planes(const uint8_t *src, int w, int h, int in_c, int out_c, const uint8_t bg[3], uint8_t *dst)
{
    const size_t plane = (size_t)w * (size_t)h;
    const int has_alpha = in_c == 2 || in_c == 4, colour = in_c >= 3;
    for (size_t p = 0; p < plane; p++) {
        const uint8_t *px = src + p * (size_t)in_c;
        int rgb[3] = {px[0], colour ? px[1] : px[0], colour ? px[2] : px[0]};
        if (has_alpha) {
            const int a = px[in_c - 1];
            for (int k = 0; k < 3; k++) rgb[k] = (rgb[k] * a + bg[k] * (255 - a) + 127) / 255;
        }
        if (out_c == 1)
            dst[p] = colour ? luma(rgb[0], rgb[1], rgb[2]) : (uint8_t)rgb[0];
        else
            for (int k = 0; k < 3; k++) dst[(size_t)k * plane + p] = (uint8_t)rgb[k];
    }
}

/* n * num / den rounded to the nearest integer, at least 1. */
static int scaled(int n, int num, int den)
{
    const long long v = ((long long)n * num + den / 2) / den;
    return v < 1 ? 1 : (int)v;
}

int ganc_fit_planes(const uint8_t *src, int c, int w, int h, uint8_t *dst, int ow, int oh, ganc_fit_mode mode,
                    const uint8_t bg[3], char err[GANC_ERR_LEN])
{
    const int wider = (long long)w * oh > (long long)h * ow; /* the input's aspect ratio is wider */
    const size_t in_plane = (size_t)w * (size_t)h, out_plane = (size_t)ow * (size_t)oh;
    if (mode == GANC_FIT_CROP) {
        const int cw = wider ? scaled(h, ow, oh) : w, ch = wider ? h : scaled(w, oh, ow);
        const int x0 = (w - cw) / 2, y0 = (h - ch) / 2;
        float *scratch = malloc(sizeof(float) * ganc_resize_scratch(cw, ch, ow, oh));
        if (!scratch) return ganc_fail(err, "out of memory resizing a %dx%d image", w, h);
        for (int k = 0; k < c; k++)
            ganc_resize_plane(src + (size_t)k * in_plane, (size_t)w, x0, y0, cw, ch, dst + (size_t)k * out_plane, ow,
                              oh, scratch);
        free(scratch);
        return 0;
    }
    /* PAD: the whole input into the centred (bw, bh) box, the rest background. */
    const int bw = wider ? ow : scaled(w, oh, h), bh = wider ? scaled(h, ow, w) : oh;
    const int bx = (ow - bw) / 2, by = (oh - bh) / 2;
    float *scratch = malloc(sizeof(float) * ganc_resize_scratch(w, h, bw, bh));
    uint8_t *box = malloc((size_t)bw * (size_t)bh);
    if (!scratch || !box) {
        free(scratch);
        free(box);
        return ganc_fail(err, "out of memory resizing a %dx%d image", w, h);
    }
    for (int k = 0; k < c; k++) {
        uint8_t *out = dst + (size_t)k * out_plane;
        memset(out, c == 1 ? luma(bg[0], bg[1], bg[2]) : bg[k], out_plane);
        ganc_resize_plane(src + (size_t)k * in_plane, (size_t)w, 0, 0, w, h, box, bw, bh, scratch);
        for (int y = 0; y < bh; y++)
            memcpy(out + (size_t)(by + y) * (size_t)ow + (size_t)bx, box + (size_t)y * (size_t)bw, (size_t)bw);
    }
    free(scratch);
    free(box);
    return 0;
}
