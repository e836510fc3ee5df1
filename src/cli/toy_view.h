/* Pictures of a 2-D run (--data ring|grid), as GAN Lab draws them: D's output as a heat map
 * over the plane, real points and generated points; one PNG per sample interval and, at the
 * end, an animated GIF of the frames drawn since the run (re)started. */
#ifndef GANC_CLI_TOY_VIEW_H
#define GANC_CLI_TOY_VIEW_H

#include "gan/session.h"
#include "io/gif.h"

#define CLI_TOY_POINTS 512 /* real and generated points per picture */
#define CLI_TOY_GRID 100   /* heat map cells per side */
#define CLI_TOY_PIXELS 400 /* picture size */

typedef struct {
    float *z, *fake, *real, *grid_xy, *d_in, *d_prob;
    uint8_t *rgb;
    ganc_gif *gif; /* NULL when built without giflib */
} cli_toy_view;

/* Draws the fixed noise and real points from the run's seed. gif_path NULL: no animation. */
int cli_toy_view_init(cli_toy_view *v, ganc_session *s, const char *gif_path, char err[GANC_ERR_LEN]);
/* D's probability (sigmoid of its output) on a grid of points over the data set's square.
 * With mbstd layers in D, each point is scored as if it came in a batch of `ref`
 * (CLI_TOY_POINTS points; the picture's real points), with that batch's statistic held. */
void cli_toy_d_map(ganc_session *s, const float *ref, const float *xy, int n, float *d_in, float *prob);
/* samples/step_N.png and samples/latest.png, and a GIF frame. */
int cli_toy_view_draw(cli_toy_view *v, ganc_session *s, const char *dir, int64_t step, char err[GANC_ERR_LEN]);
/* One picture of n generated points xy (with real points and D's map) to path. */
int cli_toy_png(ganc_session *s, const float *xy, int n, const char *path, char err[GANC_ERR_LEN]);
/* Writes the GIF (when there is one) and frees everything. */
int cli_toy_view_finish(cli_toy_view *v, char err[GANC_ERR_LEN]);

#endif
