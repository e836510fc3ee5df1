/* PNG output: raw images and sample grids.
 *
 * With stb (GANC_HAVE_STB) images are compressed by stb_image_write; without it they are
 * written by ganc_png_write_stored: a valid PNG whose zlib stream uses "stored" (uncompressed)
 * deflate blocks. The stored writer is compiled in every build so its output is always tested.
 * Every file is written by ganc_io_write_atomic (io/atomic.h), so a reader (a user looking at
 * samples/latest.png during training) never sees a half-written image. */
#include "ganc_internal.h"
#include "io/atomic.h"
#include "io/image.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef GANC_HAVE_STB
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop
#endif


/* ---- the stored-deflate PNG writer ----------------------------------------------------- */

static void crc_table_fill(uint32_t t[256])
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[n] = c;
    }
}

static uint32_t crc_update(const uint32_t t[256], uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) crc = t[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int png_color_type(int channels)
{
    static const int types[5] = {-1, 0, 4, 2, 6}; /* grey, grey+alpha, RGB, RGBA */
    return channels >= 1 && channels <= 4 ? types[channels] : -1;
}

/* Largest raw image (filter bytes included) either writer accepts: keeps every size in an
 * int for stb and a single IDAT chunk well under 2^31. */
#define PNG_MAX_RAW (1u << 30)

static int png_check_args(const char *path, const uint8_t *pix, int w, int h, int channels, char err[GANC_ERR_LEN])
{
    if (!path || !*path) return ganc_fail(err, "(empty path): cannot write: no file name");
    if (png_color_type(channels) < 0) return ganc_fail(err, "%s: cannot write PNG with %d channels (1 to 4)", path, channels);
    if (w < 1 || h < 1) return ganc_fail(err, "%s: cannot write a %dx%d PNG", path, w, h);
    if (((uint64_t)w * (uint64_t)channels + 1) * (uint64_t)h > PNG_MAX_RAW)
        return ganc_fail(err, "%s: %dx%d image too large for PNG output", path, w, h);
    if (!pix) return ganc_fail(err, "%s: no pixels", path);
    return 0;
}

int ganc_png_write_stored(const char *path, const uint8_t *pix, int w, int h, int channels, char err[GANC_ERR_LEN])
{
    if (png_check_args(path, pix, w, h, channels, err)) return -1;
    size_t row = (size_t)w * (size_t)channels, raw = (row + 1) * (size_t)h;
    size_t nblocks = (raw + 65534) / 65535;
    size_t zlen = 2 + raw + 5 * nblocks + 4;
    size_t total = 8 + (12 + 13) + (12 + zlen) + 12;
    uint8_t *png = malloc(total);
    if (!png) return ganc_fail(err, "%s: cannot write: out of memory", path);
    uint32_t crct[256];
    crc_table_fill(crct);

    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    uint8_t *p = png;
    memcpy(p, sig, 8);
    p += 8;

    /* IHDR */
    put_be32(p, 13);
    memcpy(p + 4, "IHDR", 4);
    put_be32(p + 8, (uint32_t)w);
    put_be32(p + 12, (uint32_t)h);
    p[16] = 8;                                  /* bit depth */
    p[17] = (uint8_t)png_color_type(channels);  /* colour type */
    p[18] = 0;                                  /* deflate */
    p[19] = 0;                                  /* adaptive filtering */
    p[20] = 0;                                  /* no interlace */
    put_be32(p + 21, crc_update(crct, 0xFFFFFFFFu, p + 4, 17) ^ 0xFFFFFFFFu);
    p += 25;

    /* IDAT: zlib header (deflate, 32K window, no dictionary, "fastest"), stored blocks of the
     * filtered rows (filter type 0 on every row), Adler-32 of the uncompressed stream. */
    uint8_t *idat = p;
    put_be32(p, (uint32_t)zlen);
    memcpy(p + 4, "IDAT", 4);
    p += 8;
    *p++ = 0x78;
    *p++ = 0x01;
    uint32_t s1 = 1, s2 = 0;
    size_t left = raw, y = 0, x = 0; /* position in the filtered stream: row y, byte x (0 = filter) */
    while (left > 0) {
        size_t blk = left > 65535 ? 65535 : left;
        left -= blk;
        *p++ = left == 0 ? 1 : 0; /* BFINAL, BTYPE = 00 */
        p[0] = (uint8_t)blk;
        p[1] = (uint8_t)(blk >> 8);
        p[2] = (uint8_t)~blk;
        p[3] = (uint8_t)(~blk >> 8);
        p += 4;
        while (blk > 0) {
            size_t take;
            if (x == 0) {
                *p = 0;
                take = 1;
            } else {
                take = row + 1 - x;
                if (take > blk) take = blk;
                memcpy(p, pix + y * row + (x - 1), take);
            }
            for (size_t i = 0; i < take; i++) {
                s1 += p[i];
                if (s1 >= 65521) s1 -= 65521;
                s2 += s1;
                if (s2 >= 65521) s2 -= 65521;
            }
            p += take;
            blk -= take;
            x += take;
            if (x == row + 1) {
                x = 0;
                y++;
            }
        }
    }
    put_be32(p, (s2 << 16) | s1);
    p += 4;
    put_be32(p, crc_update(crct, 0xFFFFFFFFu, idat + 4, 4 + zlen) ^ 0xFFFFFFFFu);
    p += 4;

    /* IEND */
    put_be32(p, 0);
    memcpy(p + 4, "IEND", 4);
    put_be32(p + 8, crc_update(crct, 0xFFFFFFFFu, p + 4, 4) ^ 0xFFFFFFFFu);
    p += 12;

    int rc = ganc_io_write_atomic(path, &(ganc_io_part){png, (size_t)(p - png)}, 1, NULL, err);
    free(png);
    return rc;
}

/* ---- public writers -------------------------------------------------------------------- */

#ifdef GANC_HAVE_STB
typedef struct {
    uint8_t *buf;
    size_t len, cap;
    int failed;
} mem_sink;

static void mem_sink_write(void *ctx, void *data, int size)
{
    mem_sink *m = ctx;
    if (m->failed || size <= 0) return;
    if (m->len + (size_t)size > m->cap) {
        size_t cap = m->cap ? m->cap : 1 << 16;
        while (cap < m->len + (size_t)size) cap *= 2;
        uint8_t *nb = realloc(m->buf, cap);
        if (!nb) {
            m->failed = 1;
            return;
        }
        m->buf = nb;
        m->cap = cap;
    }
    memcpy(m->buf + m->len, data, (size_t)size);
    m->len += (size_t)size;
}
#endif

int ganc_png_write(const char *path, const uint8_t *pix, int w, int h, int channels, char err[GANC_ERR_LEN])
{
#ifdef GANC_HAVE_STB
    if (png_check_args(path, pix, w, h, channels, err)) return -1;
    mem_sink m = {0};
    int ok = stbi_write_png_to_func(mem_sink_write, &m, w, h, channels, pix, w * channels);
    if (!ok || m.failed) {
        free(m.buf);
        return ganc_fail(err, "%s: cannot write: PNG encoding failed (out of memory?)", path);
    }
    int rc = ganc_io_write_atomic(path, &(ganc_io_part){m.buf, m.len}, 1, NULL, err);
    free(m.buf);
    return rc;
#else
    return ganc_png_write_stored(path, pix, w, h, channels, err);
#endif
}

/* ---- sample grids ---------------------------------------------------------------------- */

#define GRID_BORDER 2
#define GRID_GREY 40
#define GRID_MAX_DIM 32768 /* pixels per side */

/* Checks a grid's arguments and lays it out: *cols columns (0 asks for about square) and a
 * picture of *W x *H pixels. p names the output in messages. */
static int grid_layout(const char *p, const float *x, int n, ganc_shape s, float lo, float hi, int *cols, int64_t *W,
                       int64_t *H, char err[GANC_ERR_LEN])
{
    if (n < 1) return ganc_fail(err, "%s: no samples to write (n = %d)", p, n);
    if (s.c < 1 || s.h < 1 || s.w < 1) return ganc_fail(err, "%s: bad sample shape (%d, %d, %d)", p, s.c, s.h, s.w);
    if (!isfinite(lo) || !isfinite(hi) || !(hi > lo))
        return ganc_fail(err, "%s: bad value range [%g, %g] (need finite lo < hi)", p, (double)lo, (double)hi);
    if (*cols < 0) return ganc_fail(err, "%s: bad column count %d", p, *cols);
    if (!x) return ganc_fail(err, "%s: no sample data", p);
    if (*cols == 0) {
        int c = (int)ceil(sqrt((double)n));
        while ((int64_t)c * c < n) c++;
        while (c > 1 && (int64_t)(c - 1) * (c - 1) >= n) c--;
        *cols = c;
    }
    if (*cols > n) *cols = n;
    const int rows = (n + *cols - 1) / *cols;
    *W = (int64_t)*cols * (s.w + GRID_BORDER) + GRID_BORDER;
    *H = (int64_t)rows * (s.h + GRID_BORDER) + GRID_BORDER;
    if (*W > GRID_MAX_DIM || *H > GRID_MAX_DIM)
        return ganc_fail(err, "%s: grid of %lldx%lld pixels is too large (at most %d per side)", p, (long long)*W,
                         (long long)*H, GRID_MAX_DIM);
    return 0;
}

uint8_t *ganc_grid_pixels(const float *x, int n, ganc_shape s, float lo, float hi, int cols, const char *what, int *w,
                          int *h, int *channels, char err[GANC_ERR_LEN])
{
    const char *p = what && *what ? what : "(empty path)";
    int64_t W = 0, H = 0; /* set by grid_layout; initialised for the compiler, which cannot see it */
    if (grid_layout(p, x, n, s, lo, hi, &cols, &W, &H, err)) return NULL;
    int ch = s.c == 3 ? 3 : 1;
    size_t plane = (size_t)s.h * (size_t)s.w, sample = plane * (size_t)s.c;
    uint8_t *img = malloc((size_t)W * (size_t)H * (size_t)ch);
    if (!img) {
        ganc_fail(err, "%s: cannot write: out of memory", p);
        return NULL;
    }
    memset(img, GRID_GREY, (size_t)W * (size_t)H * (size_t)ch);
    double scale = 255.0 / ((double)hi - (double)lo);

    for (int i = 0; i < n; i++) {
        const float *xs = x + (size_t)i * sample;
        size_t x0 = (size_t)GRID_BORDER + (size_t)(i % cols) * (size_t)(s.w + GRID_BORDER);
        size_t y0 = (size_t)GRID_BORDER + (size_t)(i / cols) * (size_t)(s.h + GRID_BORDER);
        for (int yy = 0; yy < s.h; yy++) {
            uint8_t *dst = img + ((y0 + (size_t)yy) * (size_t)W + x0) * (size_t)ch;
            for (int xx = 0; xx < s.w; xx++) {
                size_t off = (size_t)yy * (size_t)s.w + (size_t)xx;
                for (int c = 0; c < ch; c++) dst[(size_t)xx * (size_t)ch + (size_t)c] = ganc_pixel_byte(xs[(size_t)c * plane + off], lo, scale);
            }
        }
    }
    *w = (int)W;
    *h = (int)H;
    *channels = ch;
    return img;
}

int ganc_png_grid(const char *path, const float *x, int n, ganc_shape s, float lo, float hi, int cols,
                  char err[GANC_ERR_LEN])
{
    int w, h, ch;
    uint8_t *img = ganc_grid_pixels(x, n, s, lo, hi, cols, path, &w, &h, &ch, err);
    if (!img) return -1;
    int rc = ganc_png_write(path, img, w, h, ch, err);
    free(img);
    return rc;
}
