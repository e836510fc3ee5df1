/* What the shell tests need to know about the pictures ganc writes (tests/test_sample_interp.sh):
 *
 *   image_probe png FILE                 prints "W H CHANNELS"
 *   image_probe same BIG SMALL X Y       exit 0 when SMALL's decoded pixels are BIG's at (X, Y)
 *   image_probe gif FILE                 prints "W H FRAMES", from the file's own blocks
 *   image_probe gif-frame GIF K PNG X Y  exit 0 when frame K of GIF, decoded, is PNG's pixels at
 *                                        (X, Y) (a grey PNG: every palette colour grey)
 *
 * Exit 1 when pixels differ, 2 with a message on any other trouble. The frame count walks the
 * GIF's block structure here, independently of giflib; decoding a frame's pixels uses giflib's
 * reader (not the writer ganc uses), so only builds with giflib can compare frames. */
#include "png_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef GANC_HAVE_GIF
#include <gif_lib.h>
#endif

static int fail(const char *fmt, const char *a)
{
    fprintf(stderr, "image_probe: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\n");
    return 2;
}

static uint8_t *load_png(const char *path, int *w, int *h, int *ch)
{
    uint8_t *p = test_png_load(path, w, h, ch, 0);
    if (!p) fail("%s: cannot decode as PNG", path);
    return p;
}

/* Whether small (sw x sh) equals big's pixels at (x, y), both of ch channels. */
static int region_equal(const uint8_t *big, int bw, int bh, const uint8_t *small, int sw, int sh, int ch, int x, int y)
{
    if (x < 0 || y < 0 || x + sw > bw || y + sh > bh) return 0;
    for (int r = 0; r < sh; r++)
        if (memcmp(big + ((size_t)(y + r) * (size_t)bw + (size_t)x) * (size_t)ch, small + (size_t)r * (size_t)sw * (size_t)ch,
                   (size_t)sw * (size_t)ch))
            return 0;
    return 1;
}

static int cmd_same(char **argv)
{
    int bw, bh, bc, sw, sh, sc;
    uint8_t *big = load_png(argv[0], &bw, &bh, &bc), *small = big ? load_png(argv[1], &sw, &sh, &sc) : NULL;
    int rc = 2;
    if (big && small) {
        if (bc != sc) rc = fail("%s: the two PNGs have different channel counts", argv[1]);
        else rc = region_equal(big, bw, bh, small, sw, sh, bc, atoi(argv[2]), atoi(argv[3])) ? 0 : 1;
    }
    if (big) test_png_free(big);
    if (small) test_png_free(small);
    return rc;
}

/* Skips a chain of GIF data sub-blocks (size byte, then that many bytes, until size 0). */
static size_t skip_sub_blocks(const uint8_t *b, size_t n, size_t at)
{
    while (at < n && b[at]) at += 1 + (size_t)b[at];
    return at < n ? at + 1 : 0; /* 0: ran off the end */
}

static int cmd_gif(const char *path)
{
    size_t n;
    uint8_t *b = test_read_file(path, &n);
    if (!b) return fail("%s: cannot read", path);
    int frames = 0, rc = 2;
    if (n < 13 || (memcmp(b, "GIF89a", 6) && memcmp(b, "GIF87a", 6))) {
        fail("%s: not a GIF", path);
        goto out;
    }
    const int w = b[6] | b[7] << 8, h = b[8] | b[9] << 8;
    size_t at = 13 + (b[10] & 0x80 ? 3u << ((b[10] & 7) + 1) : 0);
    for (;;) {
        if (at >= n) {
            fail("%s: ends without a trailer", path);
            goto out;
        }
        const uint8_t kind = b[at];
        if (kind == 0x3B) break; /* trailer */
        if (kind == 0x21) { /* extension: label, sub-blocks */
            at = at + 2 <= n ? skip_sub_blocks(b, n, at + 2) : 0;
        } else if (kind == 0x2C) { /* image: descriptor, local palette, LZW code size, sub-blocks */
            if (at + 10 >= n) at = 0;
            else {
                const uint8_t packed = b[at + 9];
                at += 10 + (packed & 0x80 ? 3u << ((packed & 7) + 1) : 0) + 1;
                at = at < n ? skip_sub_blocks(b, n, at) : 0;
                frames++;
            }
        } else {
            fail("%s: a block of unknown kind", path);
            goto out;
        }
        if (!at) {
            fail("%s: a block runs off the end", path);
            goto out;
        }
    }
    printf("%d %d %d\n", w, h, frames);
    rc = 0;
out:
    free(b);
    return rc;
}

static int cmd_gif_frame(char **argv)
{
#ifdef GANC_HAVE_GIF
    int e = 0, pw, ph, pc, rc = 2;
    GifFileType *g = DGifOpenFileName(argv[0], &e);
    if (!g) return fail("%s: giflib cannot open it", argv[0]);
    uint8_t *png = NULL, *grey = NULL;
    const int k = atoi(argv[1]), x = atoi(argv[3]), y = atoi(argv[4]);
    if (DGifSlurp(g) != GIF_OK) fail("%s: giflib cannot read it", argv[0]);
    else if (k < 0 || k >= g->ImageCount) fail("%s: no such frame", argv[0]);
    else if ((png = load_png(argv[2], &pw, &ph, &pc)) && pc != 1) fail("%s: not a grey PNG", argv[2]);
    else if (png) {
        const SavedImage *im = &g->SavedImages[k];
        const ColorMapObject *map = im->ImageDesc.ColorMap ? im->ImageDesc.ColorMap : g->SColorMap;
        const int w = im->ImageDesc.Width, h = im->ImageDesc.Height;
        grey = malloc((size_t)w * (size_t)h);
        rc = 0;
        for (size_t i = 0; i < (size_t)w * (size_t)h && grey; i++) {
            const GifColorType c = map->Colors[im->RasterBits[i]];
            if (c.Red != c.Green || c.Green != c.Blue) rc = 1; /* a colour: not the grey picture */
            grey[i] = c.Red;
        }
        if (!grey) rc = fail("%s: out of memory", argv[0]);
        else if (!rc) rc = region_equal(png, pw, ph, grey, w, h, 1, x, y) ? 0 : 1;
    }
    free(grey);
    if (png) test_png_free(png);
    DGifCloseFile(g, &e);
    return rc;
#else
    return fail("%s: built without giflib: cannot decode GIF frames", argv[0]);
#endif
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "png")) {
        int w, h, c;
        uint8_t *p = load_png(argv[2], &w, &h, &c);
        if (!p) return 2;
        test_png_free(p);
        printf("%d %d %d\n", w, h, c);
        return 0;
    }
    if (argc == 6 && !strcmp(argv[1], "same")) return cmd_same(argv + 2);
    if (argc == 3 && !strcmp(argv[1], "gif")) return cmd_gif(argv[2]);
    if (argc == 7 && !strcmp(argv[1], "gif-frame")) return cmd_gif_frame(argv + 2);
    fprintf(stderr, "usage: image_probe png FILE | same BIG SMALL X Y | gif FILE | gif-frame GIF K PNG X Y\n");
    return 2;
}
