/* Every layer, forward and backward, and five optimizer steps of a conv/deconv/BN network,
 * against values PyTorch computed (tools/make_fixtures.py writes tests/fixtures/NAME.gfx).
 * Spectrally normalised layers also start from the fixture's u and v (init.weight_u/v) and
 * are checked after a second training forward (y2, after2.*) and in eval mode (y_eval).
 * Tolerances: max-norm relative error <= 1e-4 per layer tensor, <= 1e-3 after five steps. */
#include "check.h"
#include "fixture.h"
#include "ganc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAYER_TOL 1e-4
#define NET_TOL 1e-3

static ganc_net *net_for(const char *spec, const fx_entry *x, int max_batch, const char *source)
{
    char err[GANC_ERR_LEN];
    ganc_net *net = ganc_net_create("t", (ganc_shape){x->dims[1], x->dims[2], x->dims[3]});
    if (ganc_net_add_text(net, spec, source, 1, err) || ganc_net_build(net, max_batch, err)) {
        CHECK(0, "%s: %s", source, err);
        ganc_net_free(net);
        return NULL;
    }
    return net;
}

/* Copies fixture entry `prefix``suffix` into the view "t.<layer>.<suffix>" for each view. */
static int load_views(ganc_net *net, const fx_file *f, const char *prefix, const char *source)
{
    for (int i = 0; i < ganc_net_view_count(net); i++) {
        const ganc_view *v = ganc_net_view(net, i);
        char key[96];
        snprintf(key, sizeof key, "%s%s", prefix, v->name + 2); /* drop "t." */
        const fx_entry *e = fx_get(f, key);
        if (!CHECK(e && e->count == v->count, "%s: fixture entry %s missing or of the wrong size", source, key))
            return -1;
        memcpy(ganc_net_view_data(net, v), e->data, sizeof(float) * v->count);
    }
    return 0;
}

/* Every state view against the fixture's `prefix``leaf` entry. */
static void check_state(ganc_net *net, const fx_file *f, const char *prefix, const char *path)
{
    for (int i = 0; i < ganc_net_view_count(net); i++) {
        const ganc_view *v = ganc_net_view(net, i);
        if (!v->is_state) continue;
        char key[96], what[640];
        snprintf(key, sizeof key, "%s%s", prefix, strrchr(v->name, '.') + 1);
        const float *want = fx_floats(f, key);
        if (!CHECK(want != NULL, "%s: fixture lacks %s", path, key)) continue;
        snprintf(what, sizeof what, "%s %s", path, key);
        check_close(what, ganc_net_view_data(net, v), want, v->count, LAYER_TOL);
    }
}

static int covered[GANC_LAYER_COUNT]; /* layer types that some fixture checks */

static void check_layer_file(const char *path)
{
    fx_file f;
    if (!CHECK(fx_load(path, &f) == 0, "cannot load %s", path)) return;
    const fx_entry *spec = fx_get(&f, "spec"), *x = fx_get(&f, "x");
    const float *y = fx_floats(&f, "y"), *dy = fx_floats(&f, "dy"), *dx = fx_floats(&f, "dx");
    if (!CHECK(spec && x && y && dy && dx && x->ndim == 4, "%s: missing entries", path)) goto out;
    ganc_layer_spec sp;
    char err[GANC_ERR_LEN];
    if (ganc_layer_spec_parse(spec->data, &sp, err) == 0) covered[sp.type] = 1;
    const int n = x->dims[0];
    ganc_net *net = net_for(spec->data, x, n, path);
    if (!net) goto out;
    /* a conditional layer's classes, one per sample (as floats in the fixture) */
    int32_t labels[64];
    const fx_entry *lab = fx_get(&f, "labels");
    if (lab) {
        if (!CHECK(lab->count == (size_t)n && n <= 64, "%s: labels: %zu for %d samples", path, lab->count, n)) {
            ganc_net_free(net);
            goto out;
        }
        for (int i = 0; i < n; i++) labels[i] = (int32_t)((const float *)lab->data)[i];
        ganc_net_set_labels(net, labels);
    }
    char what[640];
    const size_t out_count = (size_t)n * ganc_shape_size(ganc_net_output_shape(net));
    CHECK(out_count == fx_get(&f, "y")->count, "%s: output has %zu values, PyTorch %zu", path, out_count,
          fx_get(&f, "y")->count);
    /* Parameters: fixture names "weight"/"bias" are layer 0's. */
    for (int i = 0; i < ganc_net_view_count(net); i++) {
        const ganc_view *v = ganc_net_view(net, i);
        const char *leaf = strrchr(v->name, '.') + 1;
        const fx_entry *e = fx_get(&f, leaf);
        if (v->is_state) continue;
        if (CHECK(e && e->count == v->count, "%s: %s missing or of the wrong size", path, leaf))
            memcpy(ganc_net_view_data(net, v), e->data, sizeof(float) * v->count);
    }
    /* State the fixture starts from (spectral norm's u and v); batch norm starts from 0/1. */
    for (int i = 0; i < ganc_net_view_count(net); i++) {
        const ganc_view *v = ganc_net_view(net, i);
        char key[80];
        snprintf(key, sizeof key, "init.%s", strrchr(v->name, '.') + 1);
        const fx_entry *e = fx_get(&f, key);
        if (!v->is_state || !e) continue;
        if (CHECK(e->count == v->count, "%s: %s has the wrong size", path, key))
            memcpy(ganc_net_view_data(net, v), e->data, sizeof(float) * v->count);
    }
    /* Eval mode before any training forward: spectral norm's u and v exactly as loaded. */
    const float *y_eval0 = fx_floats(&f, "y_eval0");
    if (y_eval0) {
        ganc_net_set_training(net, 0);
        const float *got0 = ganc_net_forward(net, x->data, n);
        snprintf(what, sizeof what, "%s y_eval0", path);
        check_close(what, got0, y_eval0, out_count, LAYER_TOL);
        check_state(net, &f, "init.", path);
        ganc_net_set_training(net, 1);
    }
    const float *got = ganc_net_forward(net, x->data, n);
    snprintf(what, sizeof what, "%s y", path);
    check_close(what, got, y, out_count, LAYER_TOL);

    float *got_dx = calloc(fx_get(&f, "dx")->count, sizeof(float));
    ganc_net_zero_grad(net);
    ganc_net_backward(net, dy, got_dx, 1);
    snprintf(what, sizeof what, "%s dx", path);
    check_close(what, got_dx, dx, fx_get(&f, "dx")->count, LAYER_TOL);
    for (int i = 0; i < ganc_net_view_count(net); i++) {
        const ganc_view *v = ganc_net_view(net, i);
        const char *leaf = strrchr(v->name, '.') + 1;
        char key[80];
        snprintf(key, sizeof key, v->is_state ? "%s" : "grad.%s", leaf);
        const float *want = fx_floats(&f, key);
        if (!CHECK(want != NULL, "%s: fixture lacks %s", path, key)) continue;
        snprintf(what, sizeof what, "%s %s", path, key);
        check_close(what, v->is_state ? ganc_net_view_data(net, v) : ganc_net_view_grad(net, v), want, v->count,
                    LAYER_TOL);
    }
    /* A second training forward: spectral norm's second power iteration. */
    const float *y2 = fx_floats(&f, "y2");
    if (y2) {
        got = ganc_net_forward(net, x->data, n);
        snprintf(what, sizeof what, "%s y2", path);
        check_close(what, got, y2, out_count, LAYER_TOL);
        check_state(net, &f, "after2.", path);
    }
    /* Eval mode: batch norm uses the running statistics just updated, spectral norm the stored
     * u and v, without updating them. */
    const float *y_eval = fx_floats(&f, "y_eval");
    if (y_eval) {
        ganc_net_set_training(net, 0);
        got = ganc_net_forward(net, x->data, n);
        snprintf(what, sizeof what, "%s y_eval", path);
        check_close(what, got, y_eval, out_count, LAYER_TOL);
        if (y2) check_state(net, &f, "after2.", path);
    }
    free(got_dx);
    ganc_net_free(net);
out:
    fx_free(&f);
}

static void check_bce(void)
{
    fx_file f;
    if (!CHECK(fx_load("tests/fixtures/layer_bce_logits.gfx", &f) == 0, "cannot load bce fixture")) return;
    const fx_entry *z = fx_get(&f, "logits");
    const float *t = fx_floats(&f, "targets"), *loss = fx_floats(&f, "loss"), *dz = fx_floats(&f, "dlogits");
    float got_dz[64];
    const int n = (int)z->count;
    double got = ganc_bce_logits(z->data, t, 0.0f, n, got_dz, 1.0f);
    CHECK(got == got && (got - loss[0]) <= 1e-6 * loss[0] && (loss[0] - got) <= 1e-6 * loss[0],
          "bce loss %.9g, PyTorch %.9g", got, loss[0]);
    for (int i = 0; i < n; i++)
        CHECK(got_dz[i] - dz[i] <= 1e-7 && dz[i] - got_dz[i] <= 1e-7, "bce dlogit[%d] %.9g, PyTorch %.9g", i,
              got_dz[i], dz[i]);
    fx_free(&f);
}

static void check_net_file(const char *path)
{
    fx_file f;
    if (!CHECK(fx_load(path, &f) == 0, "cannot load %s", path)) return;
    const fx_entry *spec = fx_get(&f, "spec"), *x = fx_get(&f, "x");
    const float *target = fx_floats(&f, "target");
    const int n = x->dims[0];
    ganc_net *net = net_for(spec->data, x, n, path);
    if (!net || load_views(net, &f, "init.", path)) goto out;
    ganc_optim_config cfg;
    if (fx_get(&f, "beta1")) {
        cfg = ganc_optim_default(GANC_OPTIM_ADAM);
        cfg.beta1 = fx_floats(&f, "beta1")[0];
        cfg.beta2 = fx_floats(&f, "beta2")[0];
        cfg.eps = fx_floats(&f, "eps")[0];
        cfg.weight_decay = fx_floats(&f, "weight_decay")[0];
    } else {
        cfg = ganc_optim_default(GANC_OPTIM_SGD);
        cfg.momentum = fx_floats(&f, "momentum")[0];
    }
    cfg.lr = fx_floats(&f, "lr")[0];
    ganc_optim opt;
    ganc_optim_init(&opt, &cfg, ganc_net_param_count(net));
    float dz[64];
    char what[640];
    for (int step = 0; step < 5; step++) {
        const float *z = ganc_net_forward(net, x->data, n);
        double loss = ganc_bce_logits(z, target, 0.0f, n, dz, 1.0f);
        snprintf(what, sizeof what, "loss.%d", step);
        const float want = fx_floats(&f, what)[0];
        if (getenv("GANC_TEST_VERBOSE")) printf("  %s %s: %.9g, PyTorch %.9g\n", path, what, loss, want);
        CHECK(loss - want <= NET_TOL * want && want - loss <= NET_TOL * want, "%s %s: %.7g, PyTorch %.7g", path,
              what, loss, want);
        ganc_net_zero_grad(net);
        ganc_net_backward(net, dz, NULL, 1);
        if (step == 0) {
            for (int i = 0; i < ganc_net_view_count(net); i++) {
                const ganc_view *v = ganc_net_view(net, i);
                if (v->is_state) continue;
                char key[96];
                snprintf(key, sizeof key, "grad0.%s", v->name + 2);
                snprintf(what, sizeof what, "%s %s", path, key);
                check_close(what, ganc_net_view_grad(net, v), fx_floats(&f, key), v->count, LAYER_TOL);
            }
        }
        ganc_optim_step(&opt, ganc_net_params(net), ganc_net_grads(net));
    }
    for (int i = 0; i < ganc_net_view_count(net); i++) {
        const ganc_view *v = ganc_net_view(net, i);
        char key[96];
        snprintf(key, sizeof key, "final.%s", v->name + 2);
        snprintf(what, sizeof what, "%s %s", path, key);
        const float *want = fx_floats(&f, key);
        if (CHECK(want != NULL, "%s lacks %s", path, key))
            check_close(what, ganc_net_view_data(net, v), want, v->count, NET_TOL);
    }
    ganc_optim_free(&opt);
out:
    ganc_net_free(net);
    fx_free(&f);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void)
{
    const char *dir = "tests/fixtures";
    DIR *d = opendir(dir);
    if (!CHECK(d != NULL, "cannot open %s (run from the repository root)", dir)) return check_finish("torch_fixtures");
    char *names[256];
    int count = 0;
    for (struct dirent *e; (e = readdir(d)) && count < 256;)
        if (!strncmp(e->d_name, "layer_", 6) && strstr(e->d_name, ".gfx") && strcmp(e->d_name, "layer_bce_logits.gfx"))
            names[count++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)count, sizeof *names, by_name);
    CHECK(count >= 46, "expected at least 46 layer fixtures, found %d", count);
    for (int i = 0; i < count; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        check_layer_file(path);
        free(names[i]);
    }
    /* Every registered layer type has a fixture (tools/make_fixtures.py), but dropout: PyTorch
     * cannot draw ganc's masks (test_core checks dropout against the mask it drew). */
    for (int t = 0; t < GANC_LAYER_COUNT; t++)
        CHECK(covered[t] || t == GANC_LAYER_DROPOUT, "layer type %s has no PyTorch fixture (tools/make_fixtures.py)",
              ganc_layer_type_name((ganc_layer_type)t));
    check_bce();
    check_net_file("tests/fixtures/net_adam.gfx");
    check_net_file("tests/fixtures/net_adam_wd.gfx");
    check_net_file("tests/fixtures/net_sgd.gfx");
    return check_finish("torch_fixtures");
}
