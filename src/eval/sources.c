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

int ganc_generator_source(ganc_image_source *src, ganc_generator_source_ctx *ctx, ganc_game *game, ganc_shape shape,
                          float lo, float hi, int n, uint64_t seed, double reject, char err[GANC_ERR_LEN])
{
    memset(ctx, 0, sizeof *ctx);
    ctx->game = game;
    ctx->lo = lo;
    ctx->hi = hi;
    *src = (ganc_image_source){n, shape, generator_fill, NULL, ctx};
    if (reject > 0.0) {
        ctx->x = ganc_alloc(sizeof(float) * (size_t)n * ganc_shape_size(shape));
        if (ganc_game_draw(game, reject, seed, n, ctx->x, NULL, NULL, NULL, err)) {
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
    ctx->z = ctx->x = NULL;
}
