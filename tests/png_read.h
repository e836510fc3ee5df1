/* Reading back the PNGs ganc writes, for the tests (tests/png_read.c). */
#ifndef GANC_TEST_PNG_READ_H
#define GANC_TEST_PNG_READ_H

#include <stddef.h>
#include <stdint.h>

/* The whole file (malloc'ed, *n bytes), or NULL. */
uint8_t *test_read_file(const char *path, size_t *n);
/* A PNG made only of stored deflate blocks and filter-0 rows (what the no-stb build writes);
 * NULL with the reason in *why on anything else, including any bad CRC, length or checksum. */
uint8_t *test_png_decode_stored(const char *path, int *w, int *h, int *channels, const char **why);
/* Any PNG this build writes: stb_image when available, else the stored decoder. `want`: the
 * channels to return (0: as stored; only 0 or the stored count without stb). Free with
 * test_png_free. */
uint8_t *test_png_load(const char *path, int *w, int *h, int *ch, int want);
void test_png_free(uint8_t *pixels);

#endif
