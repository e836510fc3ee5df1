/* A picture's format and declared size from its first bytes (PNG, GIF, JPEG, BMP, PSD,
 * PPM/PGM/PBM), read without decoding and without trusting anything: see image_header.c. */
#ifndef GANC_IMAGE_HEADER_H
#define GANC_IMAGE_HEADER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *format;       /* "PNG", "JPEG", ... */
    long long width, height;  /* as declared; 0 when the bytes given do not reach them */
} ganc_image_info;

/* 1 when the bytes start like one of the formats above (info filled), 0 otherwise. */
int ganc_image_header(const uint8_t *bytes, size_t n, ganc_image_info *info);

#endif
