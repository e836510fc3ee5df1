/* Training the feature network: Adam on softmax cross-entropy over shuffled mini-batches,
 * the learning rate following a cosine from its peak to 1/100 of it over the run (a short run
 * needs the large early steps and the small late ones; a cosine needs no tuned milestones). */
#include "eval/classifier.h"
#include "eval/metrics.h"
#include "ganc_internal.h"

#include <math.h>
#include <string.h>

ganc_classifier_train_cfg ganc_classifier_train_defaults(void)
{
    ganc_classifier_train_cfg cfg = {.epochs = 5, .batch = 64, .lr = 2e-3f, .weight_decay = 0.0f, .seed = 1};
    return cfg;
}

int ganc_classifier_trainer_init(ganc_classifier_trainer *t, ganc_classifier *c, const ganc_dataset *ds, int n_train,
                                 const ganc_classifier_train_cfg *cfg, char err[GANC_ERR_LEN])
{
    memset(t, 0, sizeof *t);
    if (!ds->labels) return ganc_fail(err, "%s: no labels beside it (a classifier needs a labels file)", ds->images_path);
    if (ds->n_classes > c->classes)
        return ganc_fail(err, "%s: labels go up to %d but the classifier has %d classes", ds->images_path,
                         ds->n_classes - 1, c->classes);
    if (ds->shape.c != c->shape.c || ds->shape.h != c->shape.h || ds->shape.w != c->shape.w)
        return ganc_fail(err, "%s: images are %dx%dx%d, the classifier takes %dx%dx%d", ds->images_path, ds->shape.c,
                         ds->shape.h, ds->shape.w, c->shape.c, c->shape.h, c->shape.w);
    if (cfg->batch < 1 || cfg->batch > ganc_net_max_batch(c->net) || cfg->epochs < 1 || n_train < cfg->batch ||
        n_train > ds->n)
        return ganc_fail(err, "classifier training: batch %d, %d epochs on %d of %d images is not possible",
                         cfg->batch, cfg->epochs, n_train, ds->n);
    t->c = c;
    t->ds = ds;
    t->cfg = *cfg;
    ganc_optim_config oc = ganc_optim_default(GANC_OPTIM_ADAM);
    oc.lr = cfg->lr;
    oc.weight_decay = cfg->weight_decay;
    ganc_optim_init(&t->opt, &oc, ganc_net_param_count(c->net));
    ganc_batcher_init(&t->batcher, n_train, cfg->seed * 4 + 1);
    const size_t b = (size_t)cfg->batch;
    t->idx = ganc_alloc(sizeof(int32_t) * b);
    t->labels = ganc_alloc(sizeof(int32_t) * b);
    t->x = ganc_alloc(sizeof(float) * b * ganc_shape_size(c->shape));
    t->dz = ganc_alloc(sizeof(float) * b * (size_t)c->classes);
    t->total = (int64_t)cfg->epochs * ((n_train + cfg->batch - 1) / cfg->batch);
    return 0;
}

double ganc_classifier_trainer_step(ganc_classifier_trainer *t, int64_t *correct)
{
    ganc_classifier *c = t->c;
    const int b = t->cfg.batch, k = c->classes;
    ganc_batcher_next(&t->batcher, b, t->idx);
    ganc_dataset_fill(t->ds, t->idx, b, 0.0f, 1.0f, t->x);
    for (int i = 0; i < b; i++) t->labels[i] = ganc_dataset_label(t->ds, t->idx[i]);

    const double progress = t->total > 1 ? (double)t->step / (double)(t->total - 1) : 1.0;
    const double floor = 0.01;
    t->opt.cfg.lr = (float)(t->cfg.lr * (floor + (1.0 - floor) * 0.5 * (1.0 + cos(3.14159265358979323846 * progress))));

    ganc_net_set_training(c->net, 1);
    const float *z = ganc_net_forward(c->net, t->x, b);
    const double loss = ganc_softmax_xent(z, t->labels, b, k, t->dz, 1.0f);
    if (correct) { /* the argmax of the logits is the argmax of the softmax */
        for (int i = 0; i < b; i++) {
            int32_t best;
            ganc_argmax_labels(z + (size_t)i * (size_t)k, 1, k, &best);
            *correct += best == t->labels[i];
        }
    }
    ganc_net_zero_grad(c->net);
    ganc_net_backward(c->net, t->dz, NULL, 1);
    ganc_optim_step(&t->opt, ganc_net_params(c->net), ganc_net_grads(c->net));
    t->step++;
    return loss;
}

void ganc_classifier_trainer_free(ganc_classifier_trainer *t)
{
    ganc_optim_free(&t->opt);
    ganc_batcher_free(&t->batcher);
    ganc_free(t->idx);
    ganc_free(t->labels);
    ganc_free(t->x);
    ganc_free(t->dz);
    memset(t, 0, sizeof *t);
}

int ganc_classifier_accuracy(ganc_classifier *c, const ganc_dataset *ds, int from, int n, double *accuracy,
                             char err[GANC_ERR_LEN])
{
    if (!ds->labels) return ganc_fail(err, "%s: no labels to measure accuracy against", ds->images_path);
    if (from < 0 || n < 1 || from > ds->n - n)
        return ganc_fail(err, "%s: images %d .. %d are not in the set of %d", ds->images_path, from, from + n, ds->n);
    const int chunk = ganc_net_max_batch(c->net), k = c->classes;
    const size_t in = ganc_shape_size(c->shape);
    float *x = ganc_alloc(sizeof(float) * (size_t)chunk * in);
    float *p = ganc_alloc(sizeof(float) * (size_t)chunk * (size_t)k);
    int32_t *idx = ganc_alloc(sizeof(int32_t) * (size_t)chunk);
    int64_t right = 0;
    for (int at = 0; at < n; at += chunk) {
        const int m = n - at < chunk ? n - at : chunk;
        for (int i = 0; i < m; i++) idx[i] = from + at + i;
        ganc_dataset_fill(ds, idx, m, 0.0f, 1.0f, x);
        ganc_classifier_run(c, x, m, NULL, p);
        for (int i = 0; i < m; i++) {
            int32_t best;
            ganc_argmax_labels(p + (size_t)i * (size_t)k, 1, k, &best);
            right += best == ganc_dataset_label(ds, idx[i]);
        }
    }
    ganc_free(x);
    ganc_free(p);
    ganc_free(idx);
    *accuracy = (double)right / n;
    return 0;
}
