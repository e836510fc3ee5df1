/* See train_dist.h. What is shared out: each process computes batch / N contiguous samples of
 * the global batch, with the data indices and the noise a one-process run draws at that step
 * (the batcher and the game's noise stream draw for the whole batch on every process, each
 * keeping its share), and both players' gradients are averaged over the processes in a fixed
 * order (cli_dist_mean_floats). Since every loss is a mean over samples, the mean of the
 * processes' means is the global batch's mean gradient, up to float rounding. Batch norm
 * normalises each process's share by its own statistics (as PyTorch's DDP does by default),
 * and the running statistics saved are process 0's; with --sync-bn by the global batch's, its
 * per-channel sums added over the processes in rank order (cli_dist_sum_doubles, handed to the
 * networks' passes in the training steps: game.sum), so that the run is one process's up to float rounding. */
#include "cli/train_dist.h"
#include "cli/dist.h"
#include "gan/losses.h"
#include "ganc_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void mean_grads(void *ctx, float *grad, size_t n)
{
    (void)ctx;
    cli_dist_mean_floats(grad, n);
}

static void sum_doubles(void *ctx, double *v, int n)
{
    (void)ctx;
    cli_dist_sum_doubles(v, n);
}

static void gather_floats(void *ctx, const float *mine, int n, float *all)
{
    (void)ctx;
    cli_dist_gather_floats(mine, n, all);
}

static int has_layer(const ganc_net *net, ganc_layer_type type)
{
    for (int i = 0; i < ganc_net_layer_count(net); i++)
        if (ganc_net_layer_spec(net, i)->type == type) return 1;
    return 0;
}

/* The first option of s whose meaning across processes is not built yet, or NULL. Each looks
 * at the batch as a whole or draws per sample from a stream this does not share out yet.
 * (--on-nan rollback reloads the newest checkpoint, which process 0 alone wrote; an mbstd layer
 * takes statistics over groups strided across the whole batch.)
 * Shared out already: --pack (whole packs per process, checked above), --info-codes and
 * --cond (the codes and generated classes are drawn for the global batch and each process
 * keeps its share, as it does the data's indices and so their labels), dropout (each process
 * draws its part of the global batch's masks: ganc_net_set_shard), --eval-every (process 0
 * evaluates alone, from noise of its own, while the others wait at the next step), the
 * per-sample draws of --inst-noise, --diffaug and WGAN-GP's interpolation (each process's part
 * of the global batch's draw), --top-k (the global batch's k best, the scores gathered) and the
 * gradient penalties (--r1, wgan-gp: the difference's step from the global batch's maxima). */
static const char *not_shared(const ganc_session *s)
{
    const ganc_config *c = &s->cfg;
    if (c->on_nan == GANC_ONNAN_ROLLBACK) return "--on-nan rollback";
    if (!c->mbstd_off && has_layer(s->game.d, GANC_LAYER_MBSTD)) return "an mbstd layer in D (--mbstd off turns it off)";
    return NULL;
}

int cli_train_dist_setup(ganc_session *s, int sync_bn, char err[GANC_ERR_LEN])
{
    const int n = cli_dist_size();
    if (n == 1) return 0;
    if (s->cfg.batch % n != 0)
        return ganc_fail(err, "train: --batch %d does not divide among %d processes (each computes batch / %d samples)",
                         s->cfg.batch, n, n);
    /* PacGAN: D judges packs of consecutive samples, so each process's share must hold whole
     * packs (then the packs are one process's, and D's mean over them is shared out as any) */
    const int share = s->cfg.batch / n;
    if (share % s->cfg.pack != 0)
        return ganc_fail(err,
                         "train: --pack %d does not divide each process's share of the batch (%d of --batch %d over %d "
                         "processes): D judges whole packs",
                         s->cfg.pack, share, s->cfg.batch, n);
    const char *what = not_shared(s);
    if (what) return ganc_fail(err, "train: %s is not supported over several processes yet; run it in one process", what);
    ganc_game_set_shard(&s->game, cli_dist_rank(), n);
    ganc_game_set_gather(&s->game, gather_floats, NULL);
    s->game.reduce = mean_grads;
    s->game.reduce_ctx = NULL;
    if (sync_bn) {
        s->game.sum = sum_doubles;
        s->game.sum_ctx = NULL;
    }
    return 0;
}

/* FNV-1a, 64 bits: a start-up comparison of what the processes were given, not a defence */
static void fnv(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t x = *h;
    for (size_t i = 0; i < n; i++) x = (x ^ b[i]) * 0x100000001b3ull;
    *h = x;
}

static void fnv_text(uint64_t *h, const char *t)
{
    if (t) fnv(h, t, strlen(t) + 1);
}

static void fnv_net(uint64_t *h, ganc_net *net)
{
    fnv(h, ganc_net_params(net), sizeof(float) * ganc_net_param_count(net));
    fnv(h, ganc_net_state(net), sizeof(float) * ganc_net_state_count(net));
}

int cli_train_dist_check_same(const ganc_session *s, const ganc_source *src, int sync_bn, char err[GANC_ERR_LEN])
{
    const int n = cli_dist_size();
    if (n == 1) return 0;
    enum { OPTIONS, MODEL, DATA, KINDS };
    uint64_t h[KINDS];
    for (int k = 0; k < KINDS; k++) h[k] = 0xcbf29ce484222325ull;
    char buf[64];
    for (int i = 0; i < ganc_config_option_count(); i++) {
        const char *key = ganc_config_option_at(i)->key;
        fnv_text(&h[OPTIONS], key);
        fnv_text(&h[OPTIONS], ganc_config_get(&s->cfg, key, buf));
    }
    fnv(&h[OPTIONS], &sync_bn, sizeof sync_bn);
    ganc_session *w = (ganc_session *)s; /* (the networks' accessors take them writable; nothing is written) */
    fnv_text(&h[MODEL], s->model.text);
    fnv_net(&h[MODEL], w->game.g);
    fnv_net(&h[MODEL], w->game.d);
    const int64_t where[] = {s->step, s->epoch, s->pos};
    fnv(&h[MODEL], where, sizeof where);
    const ganc_dataset *ds = &src->ds;
    const int64_t shape[] = {src->kind, src->n, src->shape.c, src->shape.h, src->shape.w, src->xflip};
    fnv(&h[DATA], shape, sizeof shape);
    fnv(&h[DATA], &src->toy_seed, sizeof src->toy_seed);
    if (ds->pixels)
        fnv(&h[DATA], ds->pixels,
            ds->base_n ? (size_t)ds->base_n * ds->shape.h * ds->shape.w : (size_t)ds->n * ganc_shape_size(ds->shape));
    if (ds->labels) fnv(&h[DATA], ds->labels, (size_t)(ds->base_n ? ds->base_n : ds->n));
    unsigned long long mine[KINDS];
    for (int k = 0; k < KINDS; k++) mine[k] = h[k];
    int which = 0;
    const int other = cli_dist_first_other(mine, KINDS, &which);
    if (other < 0) return 0;
    static const char *what[] = {"options", "model or checkpoint", "data"};
    return ganc_fail(err,
                     "train: process %d of %d was started with other %s than process 0 (compared by hash): every "
                     "process must run the same command on the same files",
                     other, n, what[which]);
}

void cli_train_dist_stats(ganc_game_stats *st)
{
    if (cli_dist_size() == 1) return;
    /* (the gradient norms are of the averaged gradients already: the same on every process) */
    double v[] = {st->d_loss, st->g_loss, st->d_real, st->d_fake, st->penalty, st->info_loss, st->class_real};
    cli_dist_mean_doubles(v, (int)(sizeof v / sizeof v[0]));
    st->d_loss = v[0];
    st->g_loss = v[1];
    st->d_real = v[2];
    st->d_fake = v[3];
    st->penalty = v[4];
    st->info_loss = v[5];
    st->class_real = v[6];
}
