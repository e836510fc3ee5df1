/* The feature network: building it from text, running it in eval mode, and its file. */
#include "eval/classifier.h"
#include "ganc_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Why this shape: 5x5 convolutions with stride 2 (28 -> 14 -> 7; strided rather than pooled,
 * as the library has no pooling layer), batch norm for fast and stable Adam training, and a
 * 128-unit feature layer: wide enough to separate the classes of MNIST-like sets, small enough
 * that FID's 128 x 128 covariances and the k-NN searches of precision/recall stay cheap. At
 * 28x28 it is two convolutions, about 3 M multiply-adds per image, and it meets the accuracy
 * targets (docs/results.md has them and the measured training times); a deeper variant (two
 * 3x3 convolutions per resolution) costs 2.6 times as much. Larger pictures get one more
 * stride-2 convolution (twice the channels, at most 256) per halving until the side is at most
 * 8 (32 -> 16 -> 8: two; 64 -> 32 -> 16 -> 8: three), so the feature layer sees a map of the
 * same small size whatever the input: a 64x64 RGB set gets a network that can learn it, not
 * one whose dense layer drowns in 16,384 inputs. Dropout after the features regularises the
 * last layer without touching the features themselves (it is the identity in eval mode). */
static const char head[] = "# ganc's feature network (issue 6)\n";
static const char tail[] = "flatten\n"
                           "dense 128 bias=0\n"
                           "batchnorm\n"
                           "relu\n"
                           "dropout p=0.3   # the features: this layer's output (the identity in eval mode)\n"
                           "dense %d\n";

int ganc_classifier_default_arch(int classes, ganc_shape shape, char *buf, size_t cap)
{
    char text[2048];
    size_t at = (size_t)snprintf(text, sizeof text, "%s", head);
    int side = shape.h > shape.w ? shape.h : shape.w, width = 32;
    for (int stage = 0; stage < 2 || side > 8; stage++) { /* at least two stages, as at 28x28 */
        at += (size_t)snprintf(text + at, sizeof text - at, "conv %d k=5 stride=2 pad=same bias=0\nbatchnorm\nrelu\n", width);
        side = (side + 1) / 2;
        if (width < 256) width *= 2;
    }
    snprintf(text + at, sizeof text - at, "%s", tail);
    return snprintf(buf, cap, text, classes);
}

int ganc_classifier_create(ganc_classifier *c, const char *arch, ganc_shape shape, int classes, int max_batch,
                           uint64_t seed, char err[GANC_ERR_LEN])
{
    memset(c, 0, sizeof *c);
    c->test_accuracy = NAN;
    if (classes < 2 || classes > 100000) return ganc_fail(err, "classifier: %d classes (need 2 or more)", classes);
    const size_t len = strlen(arch);
    c->arch = malloc(len + 1);
    if (!c->arch) return ganc_fail(err, "classifier: out of memory");
    memcpy(c->arch, arch, len + 1);
    c->shape = shape;
    c->classes = classes;
    c->net = ganc_net_create("cls", shape);
    if (ganc_net_add_text(c->net, arch, "classifier", 1, err)) goto fail;
    const int n = ganc_net_layer_count(c->net);
    const ganc_shape out = n ? ganc_net_output_shape(c->net) : shape;
    if (n < 2 || ganc_net_layer_spec(c->net, n - 1)->type != GANC_LAYER_DENSE || (int)ganc_shape_size(out) != classes) {
        ganc_fail(err, "classifier: the architecture must end in 'dense %d' after at least one other layer", classes);
        goto fail;
    }
    c->feature_layer = n - 2;
    c->feature_dim = (int)ganc_shape_size(ganc_net_layer_output_shape(c->net, c->feature_layer));
    if (ganc_net_build(c->net, max_batch, err)) goto fail;
    ganc_rng init;
    ganc_rng_seed(&init, seed * 4);
    ganc_net_init(c->net, GANC_INIT_TORCH, &init);
    ganc_rng_seed(ganc_net_rng(c->net), seed * 4 + 2); /* dropout masks */
    return 0;
fail:
    ganc_classifier_free(c);
    return -1;
}

void ganc_classifier_free(ganc_classifier *c)
{
    if (!c) return;
    ganc_net_free(c->net);
    free(c->arch);
    memset(c, 0, sizeof *c);
}

void ganc_classifier_run(ganc_classifier *c, const float *x, int n, float *features, float *probs)
{
    ganc_net_set_training(c->net, 0);
    const int chunk = ganc_net_max_batch(c->net);
    const size_t in = ganc_shape_size(c->shape), fd = (size_t)c->feature_dim, k = (size_t)c->classes;
    for (int at = 0; at < n; at += chunk) {
        const int m = n - at < chunk ? n - at : chunk;
        const float *logits = ganc_net_forward(c->net, x + (size_t)at * in, m);
        if (features) memcpy(features + (size_t)at * fd, ganc_net_layer_output(c->net, c->feature_layer),
                             sizeof(float) * fd * (size_t)m);
        if (probs) ganc_softmax(logits, m, c->classes, probs + (size_t)at * k);
    }
}

/* ---- file -------------------------------------------------------------------------------- */

enum { MAX_META = 48 };

int ganc_classifier_save(const char *path, const ganc_classifier *c, const ganc_st_meta *extra, int n_extra,
                         char err[GANC_ERR_LEN])
{
    const int nv = ganc_net_view_count(c->net);
    ganc_st_tensor *t = calloc((size_t)(nv ? nv : 1), sizeof *t);
    if (!t) return ganc_fail(err, "%s: out of memory", path);
    for (int i = 0; i < nv; i++) {
        const ganc_view *v = ganc_net_view(c->net, i);
        snprintf(t[i].name, sizeof t[i].name, "%s", v->name);
        t[i].dtype = GANC_ST_F32;
        t[i].ndim = v->ndim;
        for (int d = 0; d < v->ndim; d++) t[i].dims[d] = v->dims[d];
        t[i].data = ganc_net_view_data(c->net, v);
        t[i].nbytes = v->count * sizeof(float);
    }
    char shape[64], classes[32], acc[32];
    snprintf(shape, sizeof shape, "%d %d %d", c->shape.c, c->shape.h, c->shape.w);
    snprintf(classes, sizeof classes, "%d", c->classes);
    snprintf(acc, sizeof acc, "%.6f", c->test_accuracy);
    ganc_st_meta meta[MAX_META] = {{"format", GANC_CLASSIFIER_FORMAT}, {"arch", c->arch}, {"shape", shape},
                                   {"classes", classes}, {"test_accuracy", acc}};
    int n_meta = 5;
    if (n_extra > MAX_META - n_meta) { /* never drop an entry silently */
        free(t);
        return ganc_fail(err, "%s: %d metadata entries, more than the %d a classifier file takes", path,
                         n_extra + n_meta, MAX_META);
    }
    for (int i = 0; i < n_extra; i++) meta[n_meta++] = extra[i];
    const int rc = ganc_st_write(path, t, nv, meta, n_meta, err);
    free(t);
    return rc;
}

int ganc_classifier_load(const char *path, int max_batch, ganc_classifier *c, char err[GANC_ERR_LEN])
{
    memset(c, 0, sizeof *c);
    ganc_st_file f;
    if (ganc_st_read(path, &f, err)) return -1;
    const char *format = ganc_st_meta_get(&f, "format"), *arch = ganc_st_meta_get(&f, "arch");
    const char *shape = ganc_st_meta_get(&f, "shape"), *classes = ganc_st_meta_get(&f, "classes");
    ganc_shape s;
    int k, rc = -1;
    char why[GANC_ERR_LEN];
    if (!format || strcmp(format, GANC_CLASSIFIER_FORMAT) || !arch || !shape || !classes) {
        ganc_fail(err, "%s: not a ganc classifier (make one with 'ganc classifier train')", path);
        goto out;
    }
    if (sscanf(shape, "%d %d %d", &s.c, &s.h, &s.w) != 3 || s.c < 1 || s.h < 1 || s.w < 1 || s.c > 4096 ||
        s.h > 4096 || s.w > 4096 || sscanf(classes, "%d", &k) != 1) {
        ganc_fail(err, "%s: malformed shape or classes in its metadata", path);
        goto out;
    }
    if (ganc_classifier_create(c, arch, s, k, max_batch, 0, why)) {
        ganc_fail(err, "%s: %s", path, why);
        goto out;
    }
    for (int i = 0; i < ganc_net_view_count(c->net); i++) {
        const ganc_view *v = ganc_net_view(c->net, i);
        const ganc_st_tensor *t = ganc_st_find(&f, v->name);
        if (!t || t->dtype != GANC_ST_F32 || t->nbytes != v->count * sizeof(float)) {
            ganc_fail(err, "%s: tensor '%s' is missing or does not fit the architecture", path, v->name);
            ganc_classifier_free(c);
            goto out;
        }
        memcpy(ganc_net_view_data(c->net, v), t->data, t->nbytes); /* may be unaligned in the file */
    }
    const char *acc = ganc_st_meta_get(&f, "test_accuracy"), *data = ganc_st_meta_get(&f, "data");
    c->test_accuracy = acc ? strtod(acc, NULL) : NAN;
    snprintf(c->data, sizeof c->data, "%s", data ? data : "?");
    rc = 0;
out:
    ganc_st_free(&f);
    return rc;
}
