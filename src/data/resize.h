/* Fitting a decoded picture to a data set's shape: its channels (grey, grey + alpha, RGB, RGBA
 * composited onto a background, to 1 or 3 planes) and its size (cropped or padded to the aspect
 * ratio asked for, then resized with a filter that does not alias).
 *
 * The resize filter, per axis (it is separable):
 * - shrinking: an area (box) filter. Output pixel x covers the input interval
 *   [x s, (x + 1) s) with s = in / out, and each input pixel i weighs the length of its overlap
 *   with that interval, divided by s. Every input pixel contributes exactly 1/out of the image's
 *   mass, so fine detail (a checkerboard) averages out to grey instead of aliasing;
 * - growing: linear interpolation between pixel centres (output x samples the input at
 *   (x + 0.5) in / out − 0.5, clamped to the edge pixels), as torch's bilinear resize with
 *   align_corners=False;
 * - the same size: a copy.
 * Values are rounded to the nearest byte once, after both passes. */
#ifndef GANC_RESIZE_H
#define GANC_RESIZE_H

#include <stddef.h>
#include <stdint.h>

#include "ganc.h"

typedef enum { GANC_FIT_CROP, GANC_FIT_PAD } ganc_fit_mode;

/* Resizes the (w, h) window at (x0, y0) of a plane of bytes, rows `stride` bytes apart, to
 * (ow, oh) bytes written densely to dst. scratch: ganc_resize_scratch(w, h, ow, oh) floats. */
void ganc_resize_plane(const uint8_t *src, size_t stride, int x0, int y0, int w, int h, uint8_t *dst, int ow, int oh,
                       float *scratch);
size_t ganc_resize_scratch(int w, int h, int ow, int oh);

/* Converts an interleaved picture (h, w, in_c) with in_c 1 (grey), 2 (grey, alpha), 3 (RGB) or
 * 4 (RGBA) to out_c planes (1 or 3) of (h, w) bytes: alpha composited onto bg (an RGB triple) as
 * v a + b (1 − a), grey from colour by the ITU-R 601 luma (299 R + 587 G + 114 B) / 1000 as
 * PIL's "L" mode does, grey copied to all three planes for out_c 3. */
void ganc_image_planes(const uint8_t *src, int w, int h, int in_c, int out_c, const uint8_t bg[3], uint8_t *dst);

/* The whole fitting: planes (c, h, w) -> (c, oh, ow). CROP keeps the centred window of the
 * input with the output's aspect ratio (nothing is stretched), PAD shrinks the whole input into
 * the centred largest box of that ratio inside the output and fills the rest with bg (grey for
 * c = 1: bg's luma). Returns -1 with err set only when memory for the scratch runs out. */
int ganc_fit_planes(const uint8_t *src, int c, int w, int h, uint8_t *dst, int ow, int oh, ganc_fit_mode mode,
                    const uint8_t bg[3], char err[GANC_ERR_LEN]);

#endif
