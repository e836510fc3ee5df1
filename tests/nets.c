#include "nets.h"
#include "check.h"

#include <stdio.h>

ganc_net *test_make_net(const char *name, ganc_shape in, const char *text, int max_batch)
{
    char err[GANC_ERR_LEN] = "";
    ganc_net *net = ganc_net_create(name, in);
    if (!CHECK(ganc_net_add_text(net, text, name, 1, err) == 0, "%s: add_text failed: %s", name, err) ||
        !CHECK(ganc_net_build(net, max_batch, err) == 0, "%s: build failed: %s", name, err)) {
        ganc_net_free(net);
        return NULL;
    }
    return net;
}

ganc_net *test_dense_net(const char *name, int in, int out, int max_batch)
{
    char text[32];
    snprintf(text, sizeof text, "dense %d\n", out);
    return test_make_net(name, (ganc_shape){in, 1, 1}, text, max_batch);
}

int test_train_classifier(const ganc_dataset *ds, int n_train, int classes, int batch, ganc_classifier *c)
{
    char arch[2048], err[GANC_ERR_LEN];
    ganc_classifier_default_arch(classes, ds->shape, arch, sizeof arch);
    if (!CHECK(ganc_classifier_create(c, arch, ds->shape, classes, batch, 9, err) == 0, "create: %s", err)) return -1;
    ganc_classifier_train_cfg cfg = ganc_classifier_train_defaults();
    cfg.batch = batch;
    cfg.epochs = 1;
    ganc_classifier_trainer t;
    if (!CHECK(ganc_classifier_trainer_init(&t, c, ds, n_train, &cfg, err) == 0, "trainer: %s", err)) return -1;
    while (t.step < t.total) ganc_classifier_trainer_step(&t, NULL);
    ganc_classifier_trainer_free(&t);
    return 0;
}

int test_dense_game(ganc_game *gm, const ganc_config *cfg, int x_dim, int d_out, uint64_t init_seed)
{
    ganc_net *g = test_dense_net("G", cfg->z_dim, x_dim, cfg->batch), *d = test_dense_net("D", x_dim, d_out, cfg->batch);
    if (!CHECK(g && d, "building the networks")) {
        ganc_net_free(g);
        ganc_net_free(d);
        return -1;
    }
    ganc_rng init;
    ganc_rng_seed(&init, init_seed);
    ganc_net_init(g, GANC_INIT_TORCH, &init);
    ganc_net_init(d, GANC_INIT_TORCH, &init);
    ganc_game_init(gm, g, d, cfg);
    return 0;
}
