/* The game's losses, one row each. D's output on a sample is a score s (a logit for the
 * cross-entropy losses); a row gives
 *   ID, name     GANC_LOSS_<ID> and the --loss value (also what checkpoints store)
 *   D's loss     its mean over one side of D's batch, real samples (towards the real target:
 *                1, or 1 - label smoothing) or generated ones, and its gradient on the scores
 *   G's loss     its mean over G's samples, and its gradient on their scores
 *   cross-entropy  whether D's loss is the sigmoid cross-entropy, so that sigmoid(s) is a
 *                probability and s estimates log p_data / p_g: rejection sampling (--reject),
 *                the "D has won" warning and the logged D(x), D(G(z)) rely on it
 *   Lipschitz    how D is kept Lipschitz: not at all, clipping its parameters to [-clip, clip]
 *                after each D step (--clip), or the gradient penalty on interpolates (--gp)
 *   help         the row's line of --help
 * Adding a loss is one row here and its two functions in losses.c; the option parser, --help,
 * the error listing the valid names and tests/test_losses.c (finite differences of every row)
 * follow the table. Checkpoints store a run's loss by name, so rows may be reordered. */
#ifndef GANC_LOSSES_H
#define GANC_LOSSES_H

/* X(ID, name, D's loss, G's loss, cross-entropy (0 or 1, literally), Lipschitz, help) */
#define GANC_LOSSES(X)                                                                                        \
    X(NS, "ns", d_cross_entropy, g_non_saturating, 1, GANC_LIPSCHITZ_NONE,                                   \
      "cross-entropy; G minimises -log D(G(z)) (non-saturating)")                                            \
    X(MINIMAX, "minimax", d_cross_entropy, g_minimax, 1, GANC_LIPSCHITZ_NONE,                                 \
      "cross-entropy; G minimises log(1 - D(G(z))) (the original minimax game)")                             \
    X(WGAN, "wgan", d_wasserstein, g_score, 0, GANC_LIPSCHITZ_CLIP,                                           \
      "Wasserstein; D minimises mean s(fake) - mean s(real) with its parameters clipped to [-C, C] "         \
      "(--clip C), G minimises -mean s")                                                                     \
    X(WGAN_GP, "wgan-gp", d_wasserstein, g_score, 0, GANC_LIPSCHITZ_GP,                                       \
      "Wasserstein with the gradient penalty (--gp) instead of clipping")                                    \
    X(LSGAN, "lsgan", d_least_squares, g_least_squares, 0, GANC_LIPSCHITZ_NONE,                               \
      "least squares; D pulls its scores towards 1 (real) and 0 (fake), G towards 1")                        \
    X(HINGE, "hinge", d_hinge, g_score, 0, GANC_LIPSCHITZ_NONE,                                               \
      "D minimises mean relu(1 - s(real)) + mean relu(1 + s(fake)), G minimises -mean s")

#define GANC_LOSS_ID_(id, name, d, g, ce, lip, help) GANC_LOSS_##id,
typedef enum { GANC_LOSSES(GANC_LOSS_ID_) GANC_LOSS_COUNT } ganc_loss;

/* Strings built from the rows at compile time: the option table's choices ("ns minimax ..."),
 * the argument of --help ("ns|minimax|...") and its text (a sentence per row); and the
 * cross-entropy losses' names for errors ("ns or minimax"). Each row puts its separator in
 * front, and the index steps over the first one. */
#define GANC_LOSS_CHOICE_(id, name, d, g, ce, lip, help) " " name
#define GANC_LOSS_ARG_(id, name, d, g, ce, lip, help) "|" name
#define GANC_LOSS_HELP_(id, name, d, g, ce, lip, help) " " name ": " help "."
#define GANC_LOSS_IF_0(text)
#define GANC_LOSS_IF_1(text) text
#define GANC_LOSS_IF_(ce, text) GANC_LOSS_IF_##ce(text)
#define GANC_LOSS_CE_OR_(id, name, d, g, ce, lip, help) GANC_LOSS_IF_(ce, " or " name)
#define GANC_LOSS_CHOICES (&GANC_LOSSES(GANC_LOSS_CHOICE_)[1])
#define GANC_LOSS_ARG (&GANC_LOSSES(GANC_LOSS_ARG_)[1])
#define GANC_LOSS_HELP "the game's loss (--g-loss is the same option)." GANC_LOSSES(GANC_LOSS_HELP_)
#define GANC_LOSS_CROSS_ENTROPY_OR (&GANC_LOSSES(GANC_LOSS_CE_OR_)[4])

typedef enum { GANC_LIPSCHITZ_NONE, GANC_LIPSCHITZ_CLIP, GANC_LIPSCHITZ_GP } ganc_lipschitz;

typedef struct {
    const char *name;
    /* D's mean loss over the n scores s of one side: real samples (real = 1; target is their
     * target, 1 or 1 - label smoothing) or generated ones (real = 0; target unused). Writes
     * ds[i] = d(mean)/ds[i]. */
    double (*d_loss)(const float *s, int n, int real, float target, float *ds);
    /* G's mean loss over the n scores of its samples, and ds likewise. */
    double (*g_loss)(const float *s, int n, float *ds);
    int cross_entropy;
    ganc_lipschitz lipschitz;
    const char *help;
} ganc_loss_def;

/* The row of a loss (any value below GANC_LOSS_COUNT). */
const ganc_loss_def *ganc_loss_of(ganc_loss loss);
#endif
