/* Gradient penalties (src/gan/penalty.c) against PyTorch's double backward
 * (tools/make_penalty_fixtures.py): the penalty's value and its parameter gradient, for smooth
 * and piecewise-linear critics, a convolution, and batch norm coupling the samples. */
#include "check.h"
#include "fixture.h"
#include "gan/penalty.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void check_case(const char *path)
{
    fx_file f;
    if (!CHECK(fx_load(path, &f) == 0, "%s: cannot load", path)) return;
    const fx_entry *x = fx_get(&f, "x"), *spec = fx_get(&f, "spec"), *kind = fx_get(&f, "kind");
    const float *coef = fx_floats(&f, "coef"), *want_penalty = fx_floats(&f, "penalty");
    if (!CHECK(x && spec && kind && coef && want_penalty && x->ndim == 4, "%s: entries missing", path)) goto out;
    char err[GANC_ERR_LEN];
    const int n = x->dims[0];
    ganc_net *d = ganc_net_create("t", (ganc_shape){x->dims[1], x->dims[2], x->dims[3]});
    if (!CHECK(ganc_net_add_text(d, spec->data, path, 1, err) == 0 && ganc_net_build(d, n, err) == 0, "%s: %s", path,
               err)) {
        ganc_net_free(d);
        goto out;
    }
    for (int i = 0; i < ganc_net_view_count(d); i++) {
        const ganc_view *v = ganc_net_view(d, i);
        const fx_entry *e = fx_get(&f, v->name + 2);
        if (v->is_state) continue;
        if (!CHECK(e && e->count == v->count, "%s: no parameter %s", path, v->name)) goto free_net;
        memcpy(ganc_net_view_data(d, v), e->data, sizeof(float) * v->count);
    }
    ganc_net_set_training(d, 1);
    ganc_net_zero_grad(d);
    /* The penalty's gradient is added to what the buffer holds: start from a known offset. */
    float *grads = ganc_net_grads(d);
    for (size_t i = 0; i < ganc_net_param_count(d); i++) grads[i] = 0.25f;
    ganc_penalty_work w;
    ganc_penalty_work_init(&w, d);
    const ganc_penalty_kind k = strcmp(kind->data, "gp") == 0 ? GANC_PENALTY_GP : GANC_PENALTY_R1;
    const size_t allocs = ganc_alloc_count();
    const double p = ganc_grad_penalty(d, &w, x->data, n, k, coef[0]);
    CHECK(ganc_alloc_count() == allocs, "%s: the penalty allocated memory", path);
    CHECK(fabs(p - want_penalty[0]) <= 1e-4 * fabs(want_penalty[0]), "%s: penalty %.7g, PyTorch %.7g", path, p,
          want_penalty[0]);
    /* Errors relative to the largest gradient entry of the whole network: a view whose exact
     * gradient is 0 (a bias feeding batch norm) is compared on a tenth of that scale, since the
     * difference of two backward passes leaves float rounding (about 1e-5 of it) there. */
    double scale = 0.0;
    for (int i = 0; i < ganc_net_view_count(d); i++) {
        const ganc_view *v = ganc_net_view(d, i);
        char key[96];
        snprintf(key, sizeof key, "grad.%s", v->name + 2);
        const fx_entry *e = v->is_state ? NULL : fx_get(&f, key);
        for (size_t j = 0; e && j < e->count; j++)
            if (fabs(((const float *)e->data)[j]) > scale) scale = fabs(((const float *)e->data)[j]);
    }
    for (int i = 0; i < ganc_net_view_count(d); i++) {
        const ganc_view *v = ganc_net_view(d, i);
        if (v->is_state) continue;
        char key[96];
        snprintf(key, sizeof key, "grad.%s", v->name + 2);
        const float *want = fx_floats(&f, key);
        if (!CHECK(want != NULL, "%s: no %s", path, key)) continue;
        float got[4096];
        if (!CHECK(v->count <= 4096, "%s: view too large for the test", path)) continue;
        for (size_t j = 0; j < v->count; j++) got[j] = ganc_net_view_grad(d, v)[j] - 0.25f;
        const double rel = check_rel_err(got, want, v->count, 0.1 * scale);
        CHECK(rel <= 1e-3, "%s %s: relative error %.3g > 1e-3", path, key, rel);
        if (check_verbose) printf("  %s %s rel err %.3g\n", path, key, rel);
    }
    ganc_penalty_work_free(&w);
free_net:
    ganc_net_free(d);
out:
    fx_free(&f);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "-v")) check_verbose = 1;
    const char *cases[] = {"toy_gp", "toy_r1", "lrelu_gp", "conv_gp", "conv_r1", "bn_gp"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "tests/fixtures/penalty_%s.gfx", cases[i]);
        check_case(path);
    }
    return check_finish("penalty");
}
