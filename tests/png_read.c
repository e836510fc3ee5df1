/* Reading back the PNGs ganc writes, for the tests: stb_image when the build has it, else a
 * decoder of our own for the stored-deflate PNGs the no-stb build writes. */
#include "png_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef GANC_HAVE_STB
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop
#endif

uint8_t *test_read_file(const char *path, size_t *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (len == cap) buf = realloc(buf, cap *= 2);
        size_t k = fread(buf + len, 1, cap - len, f);
        if (k == 0) break;
        len += k;
    }
    fclose(f);
    *n = len;
    return buf;
}

/* ---- a decoder for the stored PNGs ------------------------------------------------------ */

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

/* Decodes a PNG made only of stored deflate blocks and filter-0 rows; NULL (with a printed
 * reason in *why) on anything else, including any bad CRC, length or checksum. */
uint8_t *test_png_decode_stored(const char *path, int *w, int *h, int *channels, const char **why)
{
    size_t n = 0;
    uint8_t *f = test_read_file(path, &n), *idat = NULL, *raw = NULL, *pix = NULL;
    size_t idat_len = 0;
    *why = "ok";
    if (!f) return *why = "cannot read", NULL;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (n < 8 || memcmp(f, sig, 8)) {
        *why = "bad signature";
        goto out;
    }
    size_t pos = 8;
    int seen_ihdr = 0, seen_iend = 0, ctype = -1;
    while (pos + 12 <= n && !seen_iend) {
        uint32_t len = be32(f + pos);
        if (len > n - pos - 12) {
            *why = "chunk runs past the end";
            goto out;
        }
        const uint8_t *type = f + pos + 4, *data = f + pos + 8;
        if (crc32_bitwise(type, 4 + len) != be32(data + len)) {
            *why = "bad chunk CRC";
            goto out;
        }
        if (!memcmp(type, "IHDR", 4)) {
            if (len != 13 || seen_ihdr) {
                *why = "bad IHDR";
                goto out;
            }
            seen_ihdr = 1;
            *w = (int)be32(data);
            *h = (int)be32(data + 4);
            ctype = data[9];
            if (data[8] != 8 || data[10] || data[11] || data[12]) {
                *why = "unexpected IHDR fields";
                goto out;
            }
        } else if (!memcmp(type, "IDAT", 4)) {
            idat = realloc(idat, idat_len + len + 1);
            memcpy(idat + idat_len, data, len);
            idat_len += len;
        } else if (!memcmp(type, "IEND", 4)) {
            seen_iend = 1;
        }
        pos += 12 + len;
    }
    if (!seen_ihdr || !seen_iend || pos != n) {
        *why = "missing IHDR/IEND or bytes after IEND";
        goto out;
    }
    *channels = ctype == 0 ? 1 : ctype == 4 ? 2 : ctype == 2 ? 3 : ctype == 6 ? 4 : 0;
    if (!*channels || *w < 1 || *h < 1) {
        *why = "bad colour type or size";
        goto out;
    }
    size_t row = (size_t)*w * (size_t)*channels, want = (row + 1) * (size_t)*h;
    if (idat_len < 6 || (idat[0] & 0x0F) != 8 || ((idat[0] << 8) | idat[1]) % 31 || (idat[1] & 0x20)) {
        *why = "bad zlib header";
        goto out;
    }
    raw = malloc(want + 1);
    size_t got = 0, z = 2;
    for (int last = 0; !last;) {
        if (z + 5 > idat_len) {
            *why = "deflate stream ends early";
            goto out;
        }
        last = idat[z] & 1;
        if ((idat[z] >> 1) & 3) {
            *why = "not a stored block";
            goto out;
        }
        unsigned len = idat[z + 1] | idat[z + 2] << 8, nlen = idat[z + 3] | idat[z + 4] << 8;
        z += 5;
        if ((len ^ 0xFFFFu) != nlen || z + len > idat_len || got + len > want) {
            *why = "bad stored block length";
            goto out;
        }
        memcpy(raw + got, idat + z, len);
        got += len;
        z += len;
    }
    if (got != want || z + 4 != idat_len) {
        *why = "wrong amount of image data";
        goto out;
    }
    uint32_t s1 = 1, s2 = 0;
    for (size_t i = 0; i < got; i++) {
        s1 = (s1 + raw[i]) % 65521;
        s2 = (s2 + s1) % 65521;
    }
    if (((s2 << 16) | s1) != be32(idat + z)) {
        *why = "bad Adler-32";
        goto out;
    }
    pix = malloc(row * (size_t)*h);
    for (int y = 0; y < *h; y++) {
        if (raw[(size_t)y * (row + 1)] != 0) {
            *why = "row filter is not 0";
            free(pix);
            pix = NULL;
            goto out;
        }
        memcpy(pix + (size_t)y * row, raw + (size_t)y * (row + 1) + 1, row);
    }
out:
    free(raw);
    free(idat);
    free(f);
    return pix;
}

/* Any PNG this build writes: stb_image when available, else the stored decoder. */
uint8_t *test_png_load(const char *path, int *w, int *h, int *ch, int want)
{
#ifdef GANC_HAVE_STB
    return stbi_load(path, w, h, ch, want);
#else
    const char *why;
    uint8_t *pix = test_png_decode_stored(path, w, h, ch, &why);
    if (pix && want && want != *ch) {
        free(pix);
        return NULL;
    }
    return pix;
#endif
}

/* ---- PNG -------------------------------------------------------------------------------- */

void test_png_free(uint8_t *pixels)
{
#ifdef GANC_HAVE_STB
    stbi_image_free(pixels);
#else
    free(pixels);
#endif
}
