/* Animated GIF output (e.g. the 2-D plane over training), through giflib when ganc is built
 * with it (GANC_HAVE_GIF); without it ganc_gif_open fails with "built without giflib".
 *
 * Frames are RGB images quantised, without dithering (flat regions stay flat and compress
 * well), to one fixed palette for the whole animation: by default a 252-colour 6x7x6 cube
 * (more levels of green, to which the eye is most sensitive), or the caller's own, such as
 * ganc_plane_palette's, which holds every colour a plane plot uses so those frames come out
 * (nearly) exact where the cube would band pale colours into wrong hues. The whole file is
 * built in memory and put on disk only by ganc_gif_close, atomically (io/atomic.h): a reader
 * never sees a GIF that is still growing. */
#ifndef GANC_GIF_H
#define GANC_GIF_H

#include "ganc.h"

typedef struct ganc_gif ganc_gif;

/* Starts an animation of w x h frames (1 to 65535 each way), shown delay_cs hundredths of a
 * second each, looping forever. palette: n_colors (1 to 256) colours 0xRRGGBB, or NULL for the
 * 6x7x6 cube. A pixel of a palette colour gets exactly that entry; any other colour the
 * nearest entry (squared RGB distance) to the centre of its 5-bit-per-channel cell, or with
 * the cube the nearest level on each axis. Nothing is written to path until ganc_gif_close.
 * Returns NULL with err on failure. */
ganc_gif *ganc_gif_open(const char *path, int w, int h, int delay_cs, const uint32_t *palette, int n_colors,
                        char err[GANC_ERR_LEN]);
/* Appends a frame of w * h * 3 bytes, row-major RGB. */
int ganc_gif_add_frame(ganc_gif *g, const uint8_t *rgb, char err[GANC_ERR_LEN]);
/* Number of frames added so far. */
int ganc_gif_frames(const ganc_gif *g);
/* Finishes the file, writes it to path atomically and frees g (also on failure). An
 * animation with no frame is an error (a GIF needs at least one image to be useful). */
int ganc_gif_close(ganc_gif *g, char err[GANC_ERR_LEN]);
/* Frees g without writing anything (path is left as it was). NULL is allowed. */
void ganc_gif_abort(ganc_gif *g);

/* The default palette (the cube): the index of the colour nearest to (r, g, b) on each axis,
 * and an index's colour (0 for the 4 unused entries 252..255). */
int ganc_gif_palette_index(uint8_t r, uint8_t g, uint8_t b);
uint32_t ganc_gif_palette_rgb(int index);

#endif
