/* Image sources for evaluation: a data set (or some of its images), an array, a generator. */
#include "eval/evaluate.h"
#include "gan/reject.h"
#include "ganc_internal.h"

#include <string.h>

/* ---- data set ---------------------------------------------------------------------------- */

static int32_t dataset_index(const ganc_dataset_source_ctx *c, int i) { return c->order ? c->order[i] : c->from + i; }

static void dataset_fill(void *ctx, int from, int m, float *out)
{
    const ganc_dataset_source_ctx *c = ctx;
    const size_t image = ganc_shape_size(c->ds->shape);
    int32_t idx[256]; /* a few at a time: no allocation for any m */
    for (int at = 0; at < m; at += 256) {
        const int k = m - at < 256 ? m - at : 256;
        for (int i = 0; i < k; i++) idx[i] = dataset_index(c, from + at + i);
        ganc_dataset_fill(c->ds, idx, k, 0.0f, 1.0f, out + (size_t)at * image);
    }
}

static int dataset_label(void *ctx, int i, int k)
{
    const ganc_dataset_source_ctx *c = ctx;
    const int32_t j = dataset_index(c, i);
    if (!c->ds->base_n) return k == 0 ? ganc_dataset_label(c->ds, j) : -1;
    int32_t digits[3]; /* stacked: channel k's own digit, not the mode */
    ganc_dataset_stack_digits(c->ds, j, digits);
    return k < 3 ? c->ds->labels[digits[k]] : -1;
}

void ganc_dataset_source(ganc_image_source *src, ganc_dataset_source_ctx *ctx, const ganc_dataset *ds, int from,
                         const int32_t *order, int n)
{
    ctx->ds = ds;
    ctx->from = from;
    ctx->order = order;
    *src = (ganc_image_source){n, ds->shape, dataset_fill, ds->labels ? dataset_label : NULL, ctx};
}

/* ---- array ------------------------------------------------------------------------------- */

static void array_fill(void *ctx, int from, int m, float *out)
{
    const ganc_array_source_ctx *c = ctx;
    memcpy(out, c->x + (size_t)from * c->image, sizeof(float) * c->image * (size_t)m);
}

void ganc_array_source(ganc_image_source *src, ganc_array_source_ctx *ctx, const float *x, int n, ganc_shape shape)
{
    ctx->x = x;
    ctx->image = ganc_shape_size(shape);
    *src = (ganc_image_source){n, shape, array_fill, NULL, ctx};
}

/* ---- generator --------------------------------------------------------------------------- */

static void generator_fill(void *ctx, int from, int m, float *out)
{
    const ganc_generator_source_ctx *c = ctx;
    const size_t sample = ganc_shape_size(ganc_net_output_shape(c->game->g)), count = (size_t)m * sample;
    if (c->x) memcpy(out, c->x + (size_t)from * sample, sizeof(float) * count);
    else ganc_game_generate(c->game, c->z + (size_t)from * (size_t)ganc_game_latent(c->game), m, out);
    const float scale = 1.0f / (c->hi - c->lo);
    for (size_t i = 0; i < count; i++) {
        const float v = (out[i] - c->lo) * scale;
        out[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; /* tanh/sigmoid round to the ends at most */
    }
}

/* The class a conditional game's sample i was made as. */
static int generator_label(void *ctx, int i, int k)
{
    const ganc_generator_source_ctx *c = ctx;
    (void)k;
    if (c->labels) return c->labels[i];
    int32_t y;
    ganc_game_latent_labels(c->game, c->z + (size_t)i * (size_t)ganc_game_latent(c->game), 1, &y);
    return y;
}

/* Rejection sampling of a conditional game: class k's share of n (k n / K .. (k + 1) n / K)
 * drawn with every sample of class k. */
static int draw_by_class(ganc_generator_source_ctx *ctx, ganc_game *game, size_t sample, int n, uint64_t seed,
                         double reject, char err[GANC_ERR_LEN])
{
    const int k_all = game->classes, was = game->sample_class;
    ctx->labels = ganc_alloc(sizeof(int32_t) * (size_t)n);
    int rc = 0;
    for (int k = 0; k < k_all && rc == 0; k++) {
        const int from = (int)((int64_t)n * k / k_all), to = (int)((int64_t)n * (k + 1) / k_all);
        game->sample_class = k;
        if (to > from) rc = ganc_game_draw(game, reject, seed + (uint64_t)k, to - from, ctx->x + (size_t)from * sample,
                                           NULL, NULL, NULL, NULL, err);
        for (int i = from; i < to; i++) ctx->labels[i] = k;
    }
    game->sample_class = was;
    return rc;
}

int ganc_generator_source(ganc_image_source *src, ganc_generator_source_ctx *ctx, ganc_game *game, ganc_shape shape,
                          float lo, float hi, int n, uint64_t seed, double reject, char err[GANC_ERR_LEN])
{
    memset(ctx, 0, sizeof *ctx);
    ctx->game = game;
    ctx->lo = lo;
    ctx->hi = hi;
    *src = (ganc_image_source){n, shape, generator_fill, game->classes ? generator_label : NULL, ctx};
    if (reject > 0.0) {
        const size_t sample = ganc_shape_size(shape);
        ctx->x = ganc_alloc(sizeof(float) * (size_t)n * sample);
        if (game->classes ? draw_by_class(ctx, game, sample, n, seed, reject, err)
                          : ganc_game_draw(game, reject, seed, n, ctx->x, NULL, NULL, NULL, NULL, err)) {
            ganc_generator_source_free(ctx);
            return -1;
        }
        return 0;
    }
    /* all the noise at once: a draw in chunks would depend on the chunk size (the normal
     * generator fills whole blocks of four) */
    ctx->z = ganc_alloc(sizeof(float) * (size_t)n * (size_t)ganc_game_latent(game));
    ganc_rng rng;
    ganc_rng_seed(&rng, seed);
    ganc_game_noise(game, &rng, ctx->z, n);
    return 0;
}

void ganc_generator_source_free(ganc_generator_source_ctx *ctx)
{
    ganc_free(ctx->z);
    ganc_free(ctx->x);
    ganc_free(ctx->labels);
    ctx->z = ctx->x = NULL;
    ctx->labels = NULL;
}
