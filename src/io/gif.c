/* Animated GIF writer on giflib (see gif.h).
 *
 * giflib encodes into memory through its output-function hook (EGifOpen), and the finished
 * buffer goes to disk in one ganc_io_write_atomic call, the way every other ganc writer puts
 * files on disk. The cost is the whole compressed animation in memory until it is closed
 * (typically tens of KB per 400x400 plot frame), which is what makes the file appear complete
 * or not at all.
 *
 * The animation is a GIF89a with one global palette, a NETSCAPE2.0 application extension
 * (loop forever) and, before each image, a graphics control extension carrying the delay. */
#include "io/gif.h"
#include "ganc_internal.h"
#include "io/atomic.h"

#include <stdlib.h>
#include <string.h>

#ifdef GANC_HAVE_GIF
#include <gif_lib.h>
#endif

/* ---- the fixed palette ------------------------------------------------------------------ */

#define LEVELS_R 6
#define LEVELS_G 7
#define LEVELS_B 6

/* Nearest of n evenly spaced levels 0 .. 255 to v: round(v (n - 1) / 255). */
static int level(uint8_t v, int n) { return (v * (n - 1) + 127) / 255; }
static uint8_t level_value(int i, int n) { return (uint8_t)((i * 255 + (n - 1) / 2) / (n - 1)); }

int ganc_gif_palette_index(uint8_t r, uint8_t g, uint8_t b)
{
    return (level(r, LEVELS_R) * LEVELS_G + level(g, LEVELS_G)) * LEVELS_B + level(b, LEVELS_B);
}

uint32_t ganc_gif_palette_rgb(int index)
{
    if (index < 0 || index >= LEVELS_R * LEVELS_G * LEVELS_B) return 0; /* the 4 unused entries */
    int bi = index % LEVELS_B, gi = index / LEVELS_B % LEVELS_G, ri = index / (LEVELS_B * LEVELS_G);
    return (uint32_t)level_value(ri, LEVELS_R) << 16 | (uint32_t)level_value(gi, LEVELS_G) << 8 |
           level_value(bi, LEVELS_B);
}

#ifdef GANC_HAVE_GIF

#define LUT_BITS 5                       /* per channel: a 32K-entry table */
#define LUT_SIZE (1 << (3 * LUT_BITS))
#define HASH_SLOTS 512                   /* > 256 colours, so a probe always ends */

struct ganc_gif {
    char *path;
    int w, h, delay_cs, frames;
    GifFileType *gf;
    uint8_t *line; /* one row of palette indices */
    uint8_t *buf;  /* the encoded file so far */
    size_t len, cap;
    int oom;
    /* the palette, and how pixels find their entry */
    int cube;               /* the default palette: nearest level per axis, nothing else needed */
    uint32_t pal[256];
    uint32_t hkey[HASH_SLOTS]; /* exact palette colours -> index (hval -1: empty slot) */
    int16_t hval[HASH_SLOTS];
    uint8_t lut[LUT_SIZE];  /* other colours: by 5-bit cell */
};

static unsigned hash_slot(uint32_t c) { return (c * 2654435761u) >> (32 - 9); } /* 9 bits: 512 slots */

/* Custom palettes: an exact-colour table, so a plot's own colours never move, and for every
 * other colour the entry nearest to its 5-bit cell's centre, computed once here (32K cells x
 * 256 entries: a few ms) so that quantising a frame is one lookup per pixel. */
static void build_quantiser(ganc_gif *g, int n)
{
    for (int s = 0; s < HASH_SLOTS; s++) g->hval[s] = -1;
    for (int i = 0; i < n; i++) {
        unsigned s = hash_slot(g->pal[i]);
        while (g->hval[s] >= 0 && g->hkey[s] != g->pal[i]) s = (s + 1) % HASH_SLOTS;
        if (g->hval[s] < 0) { /* a repeated colour keeps its first index */
            g->hkey[s] = g->pal[i];
            g->hval[s] = (int16_t)i;
        }
    }
    const int step = 1 << (8 - LUT_BITS);
    for (int cell = 0; cell < LUT_SIZE; cell++) {
        const int mask = (1 << LUT_BITS) - 1;
        const int r = (cell >> (2 * LUT_BITS)) * step + step / 2, gg = ((cell >> LUT_BITS) & mask) * step + step / 2,
                  b = (cell & mask) * step + step / 2;
        int best = 0;
        long best_d = -1;
        for (int i = 0; i < n; i++) {
            long dr = (long)(g->pal[i] >> 16) - r, dg = (long)((g->pal[i] >> 8) & 0xFF) - gg, db = (long)(g->pal[i] & 0xFF) - b;
            long d = dr * dr + dg * dg + db * db;
            if (best_d < 0 || d < best_d) {
                best_d = d;
                best = i;
            }
        }
        g->lut[cell] = (uint8_t)best;
    }
}

static uint8_t quantise(const ganc_gif *g, const uint8_t *p)
{
    if (g->cube) return (uint8_t)ganc_gif_palette_index(p[0], p[1], p[2]);
    const uint32_t c = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    for (unsigned s = hash_slot(c); g->hval[s] >= 0; s = (s + 1) % HASH_SLOTS)
        if (g->hkey[s] == c) return (uint8_t)g->hval[s];
    const int sh = 8 - LUT_BITS;
    return g->lut[(p[0] >> sh) << (2 * LUT_BITS) | (p[1] >> sh) << LUT_BITS | p[2] >> sh];
}

/* giflib's output hook: appends to the buffer. Returning less than len makes giflib fail
 * with E_GIF_ERR_WRITE_FAILED, which the caller reports. */
static int gif_sink(GifFileType *gf, const GifByteType *data, int len)
{
    ganc_gif *g = gf->UserData;
    if (len <= 0) return 0;
    if (g->len + (size_t)len > g->cap) {
        size_t cap = g->cap ? g->cap : 1 << 16;
        while (cap < g->len + (size_t)len) cap *= 2;
        uint8_t *nb = realloc(g->buf, cap);
        if (!nb) {
            g->oom = 1;
            return 0;
        }
        g->buf = nb;
        g->cap = cap;
    }
    memcpy(g->buf + g->len, data, (size_t)len);
    g->len += (size_t)len;
    return len;
}

static int gif_error(ganc_gif *g, char err[GANC_ERR_LEN], const char *doing)
{
    const char *why = g->oom ? "out of memory" : GifErrorString(g->gf ? g->gf->Error : 0);
    return ganc_fail(err, "%s: cannot write GIF: %s: %s", g->path, doing, why ? why : "giflib error");
}

static void gif_free(ganc_gif *g)
{
    if (!g) return;
    if (g->gf) EGifCloseFile(g->gf, NULL); /* frees it; what it writes goes to the buffer */
    free(g->line);
    free(g->buf);
    free(g->path);
    free(g);
}

ganc_gif *ganc_gif_open(const char *path, int w, int h, int delay_cs, const uint32_t *palette, int n_colors,
                        char err[GANC_ERR_LEN])
{
    if (!path || !*path) {
        ganc_fail(err, "(empty path): cannot write: no file name");
        return NULL;
    }
    if (w < 1 || h < 1 || w > 65535 || h > 65535 || delay_cs < 0 || delay_cs > 65535) {
        ganc_fail(err, "%s: cannot write a %dx%d GIF with a delay of %d/100 s", path, w, h, delay_cs);
        return NULL;
    }
    if (palette && (n_colors < 1 || n_colors > 256)) {
        ganc_fail(err, "%s: cannot write GIF: a palette of %d colours (1 to 256)", path, n_colors);
        return NULL;
    }
    ganc_gif *g = calloc(1, sizeof *g);
    if (g) {
        g->path = strdup(path);
        g->line = malloc((size_t)w);
    }
    if (!g || !g->path || !g->line) {
        gif_free(g);
        ganc_fail(err, "%s: cannot write GIF: out of memory", path);
        return NULL;
    }
    g->w = w;
    g->h = h;
    g->delay_cs = delay_cs;
    g->cube = palette == NULL;
    for (int i = 0; i < 256; i++) /* unused entries are black */
        g->pal[i] = palette ? (i < n_colors ? palette[i] & 0xFFFFFFu : 0) : ganc_gif_palette_rgb(i);
    if (palette) build_quantiser(g, n_colors);
    int e = 0;
    g->gf = EGifOpen(g, gif_sink, &e);
    if (!g->gf) {
        ganc_fail(err, "%s: cannot write GIF: %s", path, GifErrorString(e) ? GifErrorString(e) : "giflib error");
        gif_free(g);
        return NULL;
    }
    EGifSetGifVersion(g->gf, true); /* GIF89a: needed for the delay and loop extensions */

    GifColorType colors[256];
    for (int i = 0; i < 256; i++) {
        uint32_t c = g->pal[i];
        colors[i] = (GifColorType){(GifByteType)(c >> 16), (GifByteType)(c >> 8), (GifByteType)c};
    }
    ColorMapObject *cmap = GifMakeMapObject(256, colors);
    if (!cmap) {
        g->oom = 1;
        gif_error(g, err, "palette");
        gif_free(g);
        return NULL;
    }
    int ok = EGifPutScreenDesc(g->gf, w, h, 8, 0, cmap) == GIF_OK; /* copies cmap */
    GifFreeMapObject(cmap);
    /* NETSCAPE2.0 extension: sub-block 1 = loop count, 0 = forever */
    static const GifByteType loop[3] = {1, 0, 0};
    ok = ok && EGifPutExtensionLeader(g->gf, APPLICATION_EXT_FUNC_CODE) == GIF_OK &&
         EGifPutExtensionBlock(g->gf, 11, "NETSCAPE2.0") == GIF_OK && EGifPutExtensionBlock(g->gf, 3, loop) == GIF_OK &&
         EGifPutExtensionTrailer(g->gf) == GIF_OK;
    if (!ok) {
        gif_error(g, err, "header");
        gif_free(g);
        return NULL;
    }
    return g;
}

int ganc_gif_add_frame(ganc_gif *g, const uint8_t *rgb, char err[GANC_ERR_LEN])
{
    if (!g || !rgb) return ganc_fail(err, "GIF: no animation or no pixels");
    GraphicsControlBlock gcb = {.DisposalMode = DISPOSE_DO_NOT, .UserInputFlag = false, .DelayTime = g->delay_cs,
                                .TransparentColor = NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    size_t ext_len = EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(g->gf, GRAPHICS_EXT_FUNC_CODE, (int)ext_len, ext) != GIF_OK ||
        EGifPutImageDesc(g->gf, 0, 0, g->w, g->h, false, NULL) != GIF_OK)
        return gif_error(g, err, "frame header");
    for (int y = 0; y < g->h; y++) {
        const uint8_t *p = rgb + 3 * (size_t)y * (size_t)g->w;
        for (int x = 0; x < g->w; x++, p += 3) g->line[x] = quantise(g, p);
        if (EGifPutLine(g->gf, g->line, g->w) != GIF_OK) return gif_error(g, err, "frame pixels");
    }
    g->frames++;
    return 0;
}

int ganc_gif_frames(const ganc_gif *g) { return g ? g->frames : 0; }

int ganc_gif_close(ganc_gif *g, char err[GANC_ERR_LEN])
{
    if (!g) return ganc_fail(err, "GIF: no animation");
    if (g->frames == 0) {
        ganc_fail(err, "%s: cannot write GIF: no frames", g->path);
        gif_free(g);
        return -1;
    }
    int e = 0;
    int ok = EGifCloseFile(g->gf, &e) == GIF_OK; /* writes the trailer; frees gf either way */
    g->gf = NULL;
    int rc;
    if (!ok || g->oom) {
        const char *why = g->oom ? "out of memory" : GifErrorString(e);
        rc = ganc_fail(err, "%s: cannot write GIF: %s", g->path, why ? why : "giflib error");
    } else {
        rc = ganc_io_write_atomic(g->path, &(ganc_io_part){g->buf, g->len}, 1, "GIF", err);
    }
    gif_free(g);
    return rc;
}

void ganc_gif_abort(ganc_gif *g) { gif_free(g); }

#else /* without giflib: the same interface, failing clearly */

struct ganc_gif {
    int unused;
};

ganc_gif *ganc_gif_open(const char *path, int w, int h, int delay_cs, const uint32_t *palette, int n_colors,
                        char err[GANC_ERR_LEN])
{
    (void)w;
    (void)h;
    (void)delay_cs;
    (void)palette;
    (void)n_colors;
    ganc_fail(err, "%s: cannot write GIF: built without giflib", path && *path ? path : "(empty path)");
    return NULL;
}

int ganc_gif_add_frame(ganc_gif *g, const uint8_t *rgb, char err[GANC_ERR_LEN])
{
    (void)g;
    (void)rgb;
    return ganc_fail(err, "GIF: built without giflib");
}

int ganc_gif_frames(const ganc_gif *g)
{
    (void)g;
    return 0;
}

int ganc_gif_close(ganc_gif *g, char err[GANC_ERR_LEN])
{
    (void)g;
    return ganc_fail(err, "GIF: built without giflib");
}

void ganc_gif_abort(ganc_gif *g) { (void)g; }

#endif
