/* GAN-Lab style pictures of 2-D runs (see toy_view.h). */
#include "cli/toy_view.h"
#include "cli/cli.h"
#include "ganc_internal.h"
#include "io/image.h"
#include "io/plane_plot.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static ganc_plane_bounds bounds_of(const ganc_toy2d *t)
{
    return (ganc_plane_bounds){-t->bound, t->bound, -t->bound, t->bound};
}

int cli_toy_view_init(cli_toy_view *v, ganc_session *s, const char *gif_path, char err[GANC_ERR_LEN])
{
    memset(v, 0, sizeof *v);
    const int n = CLI_TOY_POINTS, cells = CLI_TOY_GRID * CLI_TOY_GRID;
    v->z = ganc_alloc(sizeof(float) * (size_t)n * ganc_game_latent(&s->game));
    v->fake = ganc_alloc(sizeof(float) * 2 * n);
    v->real = ganc_alloc(sizeof(float) * 2 * n);
    v->grid_xy = ganc_alloc(sizeof(float) * 2 * cells);
    v->d_in = ganc_alloc(sizeof(float) * 2 * (size_t)s->cfg.batch);
    v->d_prob = ganc_alloc(sizeof(float) * cells);
    v->rgb = ganc_alloc((size_t)3 * CLI_TOY_PIXELS * CLI_TOY_PIXELS);
    /* the same points in every picture of the run: its own streams of the seed */
    ganc_rng r;
    ganc_rng_seed(&r, s->cfg.seed * 4 + 8);
    ganc_game_noise(&s->game, &r, v->z, n);
    ganc_toy2d_sample(s->toy, &r, v->real, n, NULL);
    ganc_plane_grid_points(bounds_of(s->toy), CLI_TOY_GRID, CLI_TOY_GRID, v->grid_xy);
#ifdef GANC_HAVE_GIF
    if (gif_path) {
        uint32_t pal[GANC_PLANE_PALETTE_SIZE];
        ganc_plane_palette(pal);
        v->gif = ganc_gif_open(gif_path, CLI_TOY_PIXELS, CLI_TOY_PIXELS, 12, pal, GANC_PLANE_PALETTE_SIZE, err);
        if (!v->gif) return -1;
    }
#else
    (void)gif_path;
    (void)err;
#endif
    return 0;
}

void cli_toy_d_map(ganc_session *s, const float *ref, const float *xy, int n, float *d_in, float *prob)
{
    /* D in eval mode, in chunks of its batch; with PacGAN packing it judges `pack` copies of
     * each point (the only way to ask a packed D about one point). */
    ganc_net *d = s->game.d;
    const int was = ganc_net_training(d), pack = s->cfg.pack, chunk = s->cfg.batch / pack;
    ganc_net_set_training(d, 0);
    /* A map's points as one batch would give mbstd the spread of the whole square, which no
     * batch D was trained on (the map came out flat): hold the statistic of a batch of real
     * points. (G's batch statistic would do as well for the shape, but once D tells the
     * batches apart by it, the whole map reads "fake": 0.08 at most on a finished grid run.) */
    const int held = ganc_net_set_mbstd_hold(d, 0) > 0;
    if (held) {
        /* ref holds CLI_TOY_POINTS points; packed, consecutive points form D's samples */
        const int n_ref = chunk * pack <= CLI_TOY_POINTS ? chunk : CLI_TOY_POINTS / pack;
        ganc_net_forward(d, ref, n_ref);
        ganc_net_set_mbstd_hold(d, 1);
    }
    for (int i = 0; i < n; i += chunk) {
        const int m = n - i < chunk ? n - i : chunk;
        for (int j = 0; j < m; j++)
            for (int p = 0; p < pack; p++) memcpy(d_in + 2 * ((size_t)j * pack + p), xy + 2 * (size_t)(i + j), 2 * sizeof(float));
        const float *out = ganc_net_forward(d, d_in, m);
        ganc_game_logits(&s->game, out, m, prob + i);
        for (int j = 0; j < m; j++) prob[i + j] = (float)(1.0 / (1.0 + exp(-(double)prob[i + j])));
    }
    if (held) ganc_net_set_mbstd_hold(d, 0);
    ganc_net_set_training(d, was);
}

int cli_toy_view_draw(cli_toy_view *v, ganc_session *s, const char *dir, int64_t step, char err[GANC_ERR_LEN])
{
    ganc_game_generate(&s->game, v->z, CLI_TOY_POINTS, v->fake);
    cli_toy_d_map(s, v->real, v->grid_xy, CLI_TOY_GRID * CLI_TOY_GRID, v->d_in, v->d_prob);
    char title[64], path[1100];
    snprintf(title, sizeof title, "%s  step %" PRId64, s->toy->name, step);
    const ganc_plane_view pv = {bounds_of(s->toy), v->d_prob, CLI_TOY_GRID, CLI_TOY_GRID, v->real, CLI_TOY_POINTS,
                                v->fake, CLI_TOY_POINTS, title};
    if (ganc_plane_render(&pv, v->rgb, CLI_TOY_PIXELS, CLI_TOY_PIXELS, err)) return -1;
    cli_pathf(path, sizeof path, "%s/samples/step_%06" PRId64 ".png", dir, step);
    if (ganc_png_write(path, v->rgb, CLI_TOY_PIXELS, CLI_TOY_PIXELS, 3, err)) return -1;
    cli_pathf(path, sizeof path, "%s/samples/latest.png", dir);
    if (ganc_png_write(path, v->rgb, CLI_TOY_PIXELS, CLI_TOY_PIXELS, 3, err)) return -1;
    return v->gif ? ganc_gif_add_frame(v->gif, v->rgb, err) : 0;
}

int cli_toy_view_finish(cli_toy_view *v, char err[GANC_ERR_LEN])
{
    int rc = 0;
    if (v->gif) rc = ganc_gif_frames(v->gif) > 0 ? ganc_gif_close(v->gif, err) : (ganc_gif_abort(v->gif), 0);
    ganc_free(v->z);
    ganc_free(v->fake);
    ganc_free(v->real);
    ganc_free(v->grid_xy);
    ganc_free(v->d_in);
    ganc_free(v->d_prob);
    ganc_free(v->rgb);
    memset(v, 0, sizeof *v);
    return rc;
}

int cli_toy_png(ganc_session *s, const float *xy, int n, const char *path, char err[GANC_ERR_LEN])
{
    cli_toy_view v;
    if (cli_toy_view_init(&v, s, NULL, err)) return -1;
    cli_toy_d_map(s, v.real, v.grid_xy, CLI_TOY_GRID * CLI_TOY_GRID, v.d_in, v.d_prob);
    char title[64];
    snprintf(title, sizeof title, "%s  step %" PRId64 "  %d points", s->toy->name, s->step, n);
    const ganc_plane_view pv = {bounds_of(s->toy), v.d_prob, CLI_TOY_GRID, CLI_TOY_GRID, v.real, CLI_TOY_POINTS,
                                xy, n, title};
    int rc = ganc_plane_png(path, &pv, CLI_TOY_PIXELS, CLI_TOY_PIXELS, err);
    cli_toy_view_finish(&v, err);
    return rc;
}
