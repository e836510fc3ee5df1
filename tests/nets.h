/* Small networks for the tests, built from model-file text. */
#ifndef GANC_TEST_NETS_H
#define GANC_TEST_NETS_H

#include "ganc.h"
#include "eval/classifier.h"
#include "gan/game.h"

/* A network of the given layers (model-file text) on input `in`, built for max_batch; NULL,
 * with a failed CHECK naming the step, when the text or the build is refused. */
ganc_net *test_make_net(const char *name, ganc_shape in, const char *text, int max_batch);
/* One dense layer, in -> out features. */
ganc_net *test_dense_net(const char *name, int in, int out, int max_batch);
/* A game of one dense layer each: G z_dim -> x_dim, D x_dim -> d_out (built for cfg->batch),
 * PyTorch-initialised from init_seed; -1, with a failed CHECK, when building fails. */
int test_dense_game(ganc_game *gm, const ganc_config *cfg, int x_dim, int d_out, uint64_t init_seed);
/* The built-in classifier for `classes` classes of ds's shape, trained one epoch on its first
 * n_train images in batches of `batch` (seed 9); -1, with a failed CHECK, when that fails. */
int test_train_classifier(const ganc_dataset *ds, int n_train, int classes, int batch, ganc_classifier *c);

#endif
