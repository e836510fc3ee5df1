/* Small networks for the tests, built from model-file text. */
#ifndef GANC_TEST_NETS_H
#define GANC_TEST_NETS_H

#include "ganc.h"

/* A network of the given layers (model-file text) on input `in`, built for max_batch; NULL,
 * with a failed CHECK naming the step, when the text or the build is refused. */
ganc_net *test_make_net(const char *name, ganc_shape in, const char *text, int max_batch);
/* One dense layer, in -> out features. */
ganc_net *test_dense_net(const char *name, int in, int out, int max_batch);

#endif
