/* ganc sample --interp and --walk (see sample_interp.h). */
#include "cli/sample_interp.h"
#include "cli/cli.h"
#include "gan/interp.h"
#include "ganc_internal.h"
#include "io/gif.h"
#include "io/image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hundredths of a second per GIF frame: 10 frames a second, slow enough to follow one sample
 * changing, fast enough that a walk of a few dozen frames reads as motion. */
#define ANIM_DELAY_CS 10

/* ---- the flags -------------------------------------------------------------------------- */

/* One non-negative decimal integer from s up to `stop` (exclusive); 0 or -1. */
static int seed_part(const char *s, const char *stop, uint64_t *out)
{
    if (s == stop || *s < '0' || *s > '9') return -1; /* strtoull would take "-1", " 1", "+1" */
    char *end;
    errno = 0;
    const unsigned long long v = strtoull(s, &end, 10);
    if (errno || end != stop) return -1;
    *out = v;
    return 0;
}

static int parse_seeds(const char *v, uint64_t *a, uint64_t *b)
{
    const char *comma = strchr(v, ',');
    return comma && !seed_part(v, comma, a) && !seed_part(comma + 1, comma + 1 + strlen(comma + 1), b) ? 0 : -1;
}

int cli_latent_check(cli_latent *l, char err[GANC_ERR_LEN])
{
    l->on = l->interp || l->walk || l->interp_class;
    l->png_path = l->gif_path = NULL;
    if (!l->on) {
        if (l->have_steps) return ganc_fail(err, "sample: --steps N counts --interp's frames; give --interp A,B too");
        if (l->gif) return ganc_fail(err, "sample: --gif FILE animates --interp or --walk; give one of them");
        return 0;
    }
    const char *what = l->interp ? "--interp" : l->walk ? "--walk" : "--interp-class";
    if ((l->interp != NULL) + (l->walk != 0) + (l->interp_class != NULL) > 1)
        return ganc_fail(err, "sample: --interp, --interp-class and --walk: one at a time");
    if (l->interp_class && !strchr(l->interp_class, ','))
        return ganc_fail(err, "sample: --interp-class needs two classes A,B (numbers or names), got '%s'", l->interp_class);
    if (l->interp && parse_seeds(l->interp, &l->seed_a, &l->seed_b))
        return ganc_fail(err, "sample: --interp needs two seeds A,B (non-negative integers), got '%s'", l->interp);
    if (l->by_code)
        return ganc_fail(err, "sample: %s follows one code per sample (--code C fixes it); not with --by-code", what);
    if (l->reject > 0.0)
        return ganc_fail(err, "sample: %s: frames come from G alone; not with --reject (its redraws would make them jump)",
                         what);
    if (l->interp && l->have_seed) return ganc_fail(err, "sample: --interp A,B names its seeds; not with --seed");
    if (!l->walk && l->have_n) return ganc_fail(err, "sample: %s draws --steps frames of one sample; not with -n", what);
    if (l->walk && l->have_steps) return ganc_fail(err, "sample: --steps counts --interp's frames; --walk N counts the walk's");
    if (l->walk && l->have_n && l->n > CLI_WALK_MAX_SAMPLES)
        return ganc_fail(err, "sample: --walk -n %d: at most %d samples a frame", l->n, CLI_WALK_MAX_SAMPLES);
    if (l->out) {
        const int png = ganc_ends_with(l->out, ".png"), gif = ganc_ends_with(l->out, ".gif");
        if (l->walk && !gif)
            return ganc_fail(err, "sample: -o %s: --walk writes an animated GIF (-o FILE.gif or --gif FILE)", l->out);
        if (!png && !gif)
            return ganc_fail(err, "sample: -o %s: %s writes a PNG strip (FILE.png) or an animated GIF (FILE.gif)",
                             l->out, what);
        if (gif && l->gif) return ganc_fail(err, "sample: -o %s and --gif %s: one GIF at a time", l->out, l->gif);
        if (png) l->png_path = l->out;
        else l->gif_path = l->out;
    }
    if (l->gif) l->gif_path = l->gif;
    if (!l->png_path && !l->gif_path)
        return l->walk ? ganc_fail(err, "sample: --walk needs -o FILE.gif or --gif FILE")
                       : ganc_fail(err, "sample: %s needs -o FILE.png, -o FILE.gif or --gif FILE", what);
#ifndef GANC_HAVE_GIF
    /* said before the checkpoint is read and the frames drawn, not after */
    if (l->gif_path)
        return ganc_fail(err, "sample: %s: cannot write GIF: this ganc was built without giflib (GIF=0, or no libgif-dev "
                         "when it was built)", l->gif_path);
#endif
    return 0;
}

/* ---- animations ------------------------------------------------------------------------- */

/* A GIF of sample grids: each frame drawn as ganc_grid_pixels draws the PNG grid, so a frame
 * and the PNG's cells agree. */
typedef struct {
    const char *path;
    ganc_shape shape;
    float lo, hi;
    ganc_gif *gif; /* opened with the first frame, which gives the size */
    uint8_t *rgb;
} anim;

static int anim_add(anim *a, const float *x, int n, char err[GANC_ERR_LEN])
{
    int w, h, ch;
    uint8_t *pix = ganc_grid_pixels(x, n, a->shape, a->lo, a->hi, 0, a->path, &w, &h, &ch, err);
    if (!pix) return -1;
    if (!a->gif) {
        /* grey pictures get a palette of all 256 greys, so their frames are exact; colour ones
         * the writer's cube */
        uint32_t grey[256];
        for (uint32_t i = 0; i < 256; i++) grey[i] = i * 0x010101u;
        a->gif = ganc_gif_open(a->path, w, h, ANIM_DELAY_CS, ch == 1 ? grey : NULL, ch == 1 ? 256 : 0, err);
        a->rgb = a->gif && ch == 1 ? malloc((size_t)w * (size_t)h * 3) : NULL;
        if (a->gif && ch == 1 && !a->rgb) ganc_fail(err, "%s: cannot write GIF: out of memory", a->path);
        if (!a->gif || (ch == 1 && !a->rgb)) {
            free(pix);
            return -1;
        }
    }
    if (ch == 1)
        for (size_t i = 0; i < (size_t)w * (size_t)h; i++) a->rgb[3 * i] = a->rgb[3 * i + 1] = a->rgb[3 * i + 2] = pix[i];
    const int rc = ganc_gif_add_frame(a->gif, ch == 1 ? a->rgb : pix, err);
    free(pix);
    return rc;
}

/* Writes the file (ok) or drops it (after a failure, whose message is already in err). */
static int anim_end(anim *a, int ok, char err[GANC_ERR_LEN])
{
    int rc = 0;
    if (ok && a->gif) rc = ganc_gif_close(a->gif, err);
    else ganc_gif_abort(a->gif);
    free(a->rgb);
    a->gif = NULL;
    a->rgb = NULL;
    return ok ? rc : -1;
}

/* ---- classes ----------------------------------------------------------------------------- */

int cli_parse_class(const ganc_session *s, const char *flag, const char *text, int *out, char err[GANC_ERR_LEN])
{
    const int k = s->game.classes;
    if (!k)
        return ganc_fail(err, "sample: %s %s: this run is not conditional (train with --cond on labelled data)", flag, text);
    char *end;
    const long v = strtol(text, &end, 10);
    if (end != text && !*end) {
        if (v < 0 || v >= k) return ganc_fail(err, "sample: %s %s: this run's classes are 0..%d", flag, text, k - 1);
        *out = (int)v;
        return 0;
    }
    char buf[1024]; /* (longer than any name a file system gives a folder) */
    for (int i = 0; i < k; i++)
        if (!strcmp(ganc_session_class_name(s, i, buf, sizeof buf), text)) {
            *out = i;
            return 0;
        }
    return ganc_fail(err, "sample: %s %s: no class of that name in this run (ganc info lists them)", flag, text);
}

/* ---- the frames ------------------------------------------------------------------------- */

/* The noise of `ganc sample --seed S -n n`: the first n vectors of that seed's stream. */
static void seed_noise(ganc_session *s, uint64_t seed, float *z, int n)
{
    ganc_rng r;
    ganc_rng_seed(&r, cli_sample_stream(seed));
    ganc_game_noise(&s->game, &r, z, n);
}

static const char *path_kind(const ganc_interp *ip) { return ip->spherical ? "slerp" : "straight line"; }

/* The frames x[0 .. frames) as a PNG strip and/or a GIF playing them forth and back. */
static int write_frames(const ganc_session *s, const cli_latent *l, const float *x, int frames, char err[GANC_ERR_LEN])
{
    const size_t sample = ganc_shape_size(s->data_shape);
    int rc = l->png_path ? ganc_png_grid(l->png_path, x, frames, s->data_shape, s->lo, s->hi, frames, err) : 0;
    if (!rc && l->gif_path) { /* forth and back: 0 .. N-1, then N-2 .. 1, and the loop starts again at 0 */
        anim a = {.path = l->gif_path, .shape = s->data_shape, .lo = s->lo, .hi = s->hi};
        for (int k = 0; k < 2 * frames - 2 && !rc; k++)
            rc = anim_add(&a, x + (size_t)(k < frames ? k : 2 * frames - 2 - k) * sample, 1, err);
        rc = anim_end(&a, !rc, err);
    }
    return rc;
}

static int run_interp(ganc_session *s, const cli_latent *l, char err[GANC_ERR_LEN])
{
    const int zd = ganc_game_latent(&s->game), frames = l->steps;
    const size_t sample = ganc_shape_size(s->data_shape);
    float *ends = malloc(sizeof(float) * 3 * (size_t)zd), *x = malloc(sizeof(float) * sample * (size_t)frames);
    if (!ends || !x) {
        free(ends);
        free(x);
        return ganc_fail(err, "sample: out of memory for %d frames", frames);
    }
    float *z_a = ends, *z_b = ends + zd, *z = ends + 2 * zd;
    seed_noise(s, l->seed_a, z_a, 1);
    seed_noise(s, l->seed_b, z_b, 1);
    const ganc_interp ip = ganc_interp_for(&s->game);
    for (int f = 0; f < frames; f++) {
        ganc_interp_frame(&ip, z_a, z_b, (double)f / (frames - 1), z);
        /* one sample per pass, as `ganc sample -n 1` draws it: a batch of another size may
         * round differently in the matrix products, and frame 0 is to be that sample exactly */
        ganc_game_generate(&s->game, z, 1, x + (size_t)f * sample);
    }
    free(ends);
    const int rc = write_frames(s, l, x, frames, err);
    free(x);
    if (rc) return -1;
    fprintf(stderr, "ganc: wrote %d frames (%s from seed %" PRIu64 " to seed %" PRIu64 ") from step %" PRId64 " to %s%s%s\n",
            frames, path_kind(&ip), l->seed_a, l->seed_b, s->step, l->png_path ? l->png_path : "",
            l->png_path && l->gif_path ? " and " : "", l->gif_path ? l->gif_path : "");
    return 0;
}

/* Frames between two classes with the noise held: G's class vectors (its embeddings,
 * conditional batch norms' gains and biases) blended from A's to B's. */
static int run_interp_class(ganc_session *s, const cli_latent *l, uint64_t seed, char err[GANC_ERR_LEN])
{
    const char *comma = strchr(l->interp_class, ',');
    char first[256];
    snprintf(first, sizeof first, "%.*s", (int)(comma - l->interp_class), l->interp_class);
    int a, b;
    if (cli_parse_class(s, "--interp-class", first, &a, err) || cli_parse_class(s, "--interp-class", comma + 1, &b, err))
        return -1;
    const int zd = ganc_game_latent(&s->game), frames = l->steps;
    const size_t sample = ganc_shape_size(s->data_shape);
    float *z = malloc(sizeof(float) * (size_t)zd), *x = malloc(sizeof(float) * sample * (size_t)frames);
    if (!z || !x) {
        free(z);
        free(x);
        return ganc_fail(err, "sample: out of memory for %d frames", frames);
    }
    s->game.sample_class = a; /* the noise `ganc sample --class A --seed S -n 1` draws */
    seed_noise(s, seed, z, 1);
    for (int f = 0; f < frames; f++) {
        s->game.mix_to = b;
        s->game.mix_t = (float)f / (float)(frames - 1);
        ganc_game_generate(&s->game, z, 1, x + (size_t)f * sample);
    }
    s->game.mix_to = -1;
    free(z);
    const int rc = write_frames(s, l, x, frames, err);
    free(x);
    if (rc) return -1;
    fprintf(stderr, "ganc: wrote %d frames (class %s to class %s, the noise of seed %" PRIu64 ") from step %" PRId64
            " to %s%s%s\n", frames, first, comma + 1, seed, s->step, l->png_path ? l->png_path : "",
            l->png_path && l->gif_path ? " and " : "", l->gif_path ? l->gif_path : "");
    return 0;
}

static int run_walk(ganc_session *s, const cli_latent *l, uint64_t seed, char err[GANC_ERR_LEN])
{
    const int n = l->have_n ? l->n : CLI_WALK_SAMPLES, frames = l->walk;
    const size_t zd = (size_t)ganc_game_latent(&s->game), sample = ganc_shape_size(s->data_shape);
    float *keys = malloc(sizeof(float) * (CLI_WALK_KEYS + 1) * (size_t)n * zd), *x = malloc(sizeof(float) * sample * (size_t)n);
    if (!keys || !x) {
        free(keys);
        free(x);
        return ganc_fail(err, "sample: out of memory for a walk of %d samples", n);
    }
    float *z = keys + CLI_WALK_KEYS * (size_t)n * zd;
    /* key set j is the stream's j-th draw of n: set 0 is the grid `ganc sample --seed S -n n`
     * shows, and the walk starts (and ends) there */
    ganc_rng r;
    ganc_rng_seed(&r, cli_sample_stream(seed));
    for (int j = 0; j < CLI_WALK_KEYS; j++) ganc_game_noise(&s->game, &r, keys + (size_t)j * (size_t)n * zd, n);
    const ganc_interp ip = ganc_interp_for(&s->game);
    anim a = {.path = l->gif_path, .shape = s->data_shape, .lo = s->lo, .hi = s->hi};
    int rc = 0;
    for (int f = 0; f < frames && !rc; f++) {
        ganc_walk_frame(&ip, keys, CLI_WALK_KEYS, n, f, frames, z);
        ganc_game_generate(&s->game, z, n, x);
        rc = anim_add(&a, x, n, err);
    }
    rc = anim_end(&a, !rc, err);
    free(keys);
    free(x);
    if (rc) return -1;
    fprintf(stderr, "ganc: wrote a walk of %d frames of %d samples (%s through %d keypoints from seed %" PRIu64
            ") from step %" PRId64 " to %s\n", frames, n, path_kind(&ip), CLI_WALK_KEYS, seed, s->step, l->gif_path);
    return 0;
}

int cli_latent_run(ganc_session *s, const cli_latent *l, uint64_t seed, char err[GANC_ERR_LEN])
{
    if (s->toy)
        return ganc_fail(err, "sample: %s: a 2-D run draws points, not pictures to put in frames",
                         l->interp ? "--interp" : "--walk");
    if (l->interp_class) return run_interp_class(s, l, seed, err);
    return l->interp ? run_interp(s, l, err) : run_walk(s, l, seed, err);
}
