/* A picture's format and size from its first bytes, without decoding: what lets a folder load
 * refuse a decompression bomb (a small file whose header declares 50,000 x 50,000 pixels) by its
 * header, and name the format of a file the decoder then fails on. Every read is bounded by the
 * bytes given (this reader is fuzzed). */
#include "data/image_header.h"

#include <string.h>

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint32_t le16(const uint8_t *p) { return (uint32_t)p[1] << 8 | p[0]; }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }

static int set(ganc_image_info *info, const char *format, long long w, long long h)
{
    info->format = format;
    info->width = w < 0 ? -w : w;
    info->height = h < 0 ? -h : h;
    return 1;
}

/* JPEG: walk the marker segments to the first start-of-frame. */
static int jpeg(const uint8_t *b, size_t n, ganc_image_info *info)
{
    size_t at = 2;
    while (at + 4 <= n) {
        if (b[at] != 0xFF) return set(info, "JPEG", 0, 0); /* lost sync: a JPEG of unknown size */
        const uint8_t m = b[at + 1];
        if (m == 0xFF) { /* fill byte */
            at++;
            continue;
        }
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { /* markers without a length */
            at += 2;
            continue;
        }
        const size_t len = be16(b + at + 2);
        const int sof = (m >= 0xC0 && m <= 0xCF) && m != 0xC4 && m != 0xC8 && m != 0xCC;
        if (sof) {
            if (at + 9 > n) break;
            return set(info, "JPEG", be16(b + at + 7), be16(b + at + 5));
        }
        if (len < 2) return set(info, "JPEG", 0, 0);
        at += 2 + len;
    }
    return set(info, "JPEG", 0, 0);
}

/* PNM: "P1".."P6", then width and height as decimal numbers between blanks and # comments. */
static int pnm(const uint8_t *b, size_t n, ganc_image_info *info)
{
    long long v[2] = {0, 0};
    size_t at = 2;
    for (int k = 0; k < 2; k++) {
        for (;;) { /* blanks and comments */
            while (at < n && (b[at] == ' ' || b[at] == '\t' || b[at] == '\r' || b[at] == '\n')) at++;
            if (at < n && b[at] == '#')
                while (at < n && b[at] != '\n') at++;
            else
                break;
        }
        if (at >= n || b[at] < '0' || b[at] > '9') return set(info, "PNM", 0, 0);
        while (at < n && b[at] >= '0' && b[at] <= '9' && v[k] < 1000000000) v[k] = v[k] * 10 + (b[at++] - '0');
    }
    return set(info, "PNM", v[0], v[1]);
}

int ganc_image_header(const uint8_t *b, size_t n, ganc_image_info *info)
{
    memset(info, 0, sizeof *info);
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && !memcmp(b, png, 8))
        return n >= 24 && !memcmp(b + 12, "IHDR", 4) ? set(info, "PNG", be32(b + 16), be32(b + 20)) : set(info, "PNG", 0, 0);
    if (n >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6)))
        return n >= 10 ? set(info, "GIF", le16(b + 6), le16(b + 8)) : set(info, "GIF", 0, 0);
    if (n >= 2 && b[0] == 0xFF && b[1] == 0xD8) return jpeg(b, n, info);
    if (n >= 2 && b[0] == 'B' && b[1] == 'M') {
        if (n < 26) return set(info, "BMP", 0, 0);
        if (le32(b + 14) == 12) return set(info, "BMP", le16(b + 18), le16(b + 20)); /* OS/2 header */
        return set(info, "BMP", (int32_t)le32(b + 18), (int32_t)le32(b + 22));      /* height < 0: top-down */
    }
    if (n >= 4 && !memcmp(b, "8BPS", 4)) return n >= 22 ? set(info, "PSD", be32(b + 18), be32(b + 14)) : set(info, "PSD", 0, 0);
    if (n >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6' &&
        (b[2] == ' ' || b[2] == '\t' || b[2] == '\r' || b[2] == '\n' || b[2] == '#'))
        return pnm(b, n, info);
    return 0;
}
