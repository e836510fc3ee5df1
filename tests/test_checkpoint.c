/* Checkpoints keep everything (gan/st_builder.c, gan/session.c): nothing is dropped for want
 * of room.
 *   - The entry builder: 1,000 metadata entries (values up to 20,000 bytes) and 1,000 tensors
 *     written and read back (through io/safetensors.c) are all there, equal to what went in;
 *     a key or tensor name too long for the file's entries fails the write, naming it.
 *   - A session whose G has 600 tensors, with non-default settings, trained a step: saved and
 *     loaded, every weight, optimizer moment, counter, random stream, setting and the model
 *     text come back equal, the file holds every metadata entry the session writes, and saving
 *     the loaded session writes the same bytes (a resumed run writes the same checkpoints). */
#include "check.h"
#include "gan/session.h"
#include "gan/st_builder.h"
#include "ganc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *tmpdir;

enum { N_META = 1000, N_TENSORS = 1000 };

static void test_builder(void)
{
    char path[256], err[GANC_ERR_LEN];
    snprintf(path, sizeof path, "%s/many.safetensors", tmpdir);
    static float data[N_TENSORS][3];
    ganc_st_builder b;
    ganc_st_builder_init(&b);
    for (int i = 0; i < N_TENSORS; i++) {
        char name[32];
        snprintf(name, sizeof name, "t.%d", i);
        for (int j = 0; j < 3; j++) data[i][j] = (float)(i * 3 + j);
        const int dims[2] = {1, 3};
        ganc_st_builder_tensor(&b, name, data[i], 2, dims);
    }
    for (int i = 0; i < N_META; i++) {
        char key[32];
        snprintf(key, sizeof key, "meta.%d", i);
        const int len = (i * 37) % 20000; /* (the old builder cut values at 599 bytes) */
        ganc_st_builder_meta(&b, key, "%d:%*s", i, len, "x");
    }
    const int rc = ganc_st_builder_write(&b, path, err);
    ganc_st_builder_free(&b);
    if (!CHECK(rc == 0, "writing %d tensors and %d metadata entries: %s", N_TENSORS, N_META, err)) return;
    ganc_st_file f;
    if (!CHECK(ganc_st_read(path, &f, err) == 0, "reading them back: %s", err)) return;
    CHECK(f.n_tensors == N_TENSORS && f.n_meta == N_META, "%d tensors and %d metadata entries read, want %d and %d",
          f.n_tensors, f.n_meta, N_TENSORS, N_META);
    int bad_t = 0, bad_m = 0;
    for (int i = 0; i < N_TENSORS; i++) {
        char name[32];
        snprintf(name, sizeof name, "t.%d", i);
        const ganc_st_tensor *t = ganc_st_find(&f, name);
        bad_t += !t || t->nbytes != sizeof data[i] || memcmp(t->data, data[i], sizeof data[i]);
    }
    for (int i = 0; i < N_META; i++) {
        char key[32], head[16];
        snprintf(key, sizeof key, "meta.%d", i);
        const char *v = ganc_st_meta_get(&f, key);
        const int len = (i * 37) % 20000, hl = snprintf(head, sizeof head, "%d:", i);
        bad_m += !v || strlen(v) != (size_t)(hl + (len > 1 ? len : 1)) || strncmp(v, head, (size_t)hl) ||
                 v[strlen(v) - 1] != 'x';
    }
    CHECK(bad_t == 0, "%d of %d tensors missing or changed", bad_t, N_TENSORS);
    CHECK(bad_m == 0, "%d of %d metadata entries missing or changed", bad_m, N_META);
    ganc_st_free(&f);

    /* too long for the file's entries: the write fails and says which */
    char key[100];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    ganc_st_builder_init(&b);
    ganc_st_builder_meta(&b, "fine", "1");
    ganc_st_builder_meta(&b, key, "2");
    ganc_st_builder_meta(&b, "fine too", "3");
    CHECK(ganc_st_builder_write(&b, path, err) != 0 && strstr(err, "kkkkkkkk") && strstr(err, "longer"),
          "a 99-byte metadata key fails the write: %s", err);
    ganc_st_builder_free(&b);
    char name[200];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    ganc_st_builder_init(&b);
    const int dims[1] = {3};
    ganc_st_builder_tensor(&b, name, data[0], 1, dims);
    CHECK(ganc_st_builder_write(&b, path, err) != 0 && strstr(err, "nnnnnnnn") && strstr(err, "longer"),
          "a 199-byte tensor name fails the write: %s", err);
    ganc_st_builder_free(&b);
}

/* ---- a session's checkpoint ------------------------------------------------------------ */

enum { DEPTH = 300 }; /* G's dense layers: 600 tensors (the old list held 508 in all) */

static char *deep_model(void)
{
    size_t cap = 64 + DEPTH * 10 + 64, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "[generator]\n");
    for (int i = 0; i < DEPTH; i++) len += (size_t)snprintf(text + len, cap - len, "dense 2\n");
    snprintf(text + len, cap - len, "[discriminator]\ndense 3\nrelu\ndense 1\n");
    return text;
}

static int same_floats(const float *a, const float *b, size_t n) { return n == 0 || memcmp(a, b, n * sizeof *a) == 0; }

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    const long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    *size = buf && n > 0 ? fread(buf, 1, (size_t)n, fp) : 0;
    fclose(fp);
    return buf;
}

static void test_session(void)
{
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    char err[GANC_ERR_LEN];
    /* settings away from their defaults, so that one lost on the way shows */
    const char *set[][2] = {{"data", "grid"},      {"z_dim", "2"},      {"batch", "8"},     {"d_steps", "2"},
                            {"loss", "hinge"},     {"lr_g", "0.0013"},  {"lr_d", "7e-05"},  {"beta1", "0.25"},
                            {"label_smooth", "0.1"}, {"ema", "0.9"},    {"inst_noise", "0.2"}, {"top_k", "0.5"},
                            {"seed", "99"},        {"steps", "1234"},   {"keep", "5"},      {"on_nan", "rollback"},
                            {"threads", "1"},      {"grid", "16"},      {"optim", "sgd"},   {"momentum", "0.8"}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        CHECK(ganc_config_set(&cfg, set[i][0], set[i][1], err) == 0, "--%s %s: %s", set[i][0], set[i][1], err);
    ganc_model model;
    char *text = deep_model();
    const int built = ganc_model_from_text(text, "deep.gan", &model, err);
    free(text);
    if (!CHECK(built == 0, "model: %s", err)) return;
    ganc_session s;
    const int created = ganc_session_create(&s, &cfg, &model, (ganc_shape){2, 1, 1}, err);
    ganc_model_free(&model);
    if (!CHECK(created == 0, "session: %s", err)) return;
    CHECK(ganc_net_view_count(s.game.g) == 2 * DEPTH, "G has %d tensors, want %d", ganc_net_view_count(s.game.g),
          2 * DEPTH);
    float real[8 * 2];
    for (int i = 0; i < 16; i++) real[i] = (float)i / 8.0f - 1.0f;
    ganc_game_d_step(&s.game, real, NULL);
    ganc_game_g_step(&s.game);
    s.step = 1;
    s.epoch = 3;
    s.pos = 5;

    char path[256], again[256];
    snprintf(path, sizeof path, "%s/session.safetensors", tmpdir);
    snprintf(again, sizeof again, "%s/again.safetensors", tmpdir);
    if (!CHECK(ganc_checkpoint_save(path, &s, err) == 0, "save: %s", err)) goto out;
    ganc_session t;
    if (!CHECK(ganc_checkpoint_load(path, &t, err) == 0, "load: %s", err)) goto out;

    const ganc_game *a = &s.game, *b = &t.game;
    CHECK(ganc_net_param_count(a->g) == ganc_net_param_count(b->g) &&
              same_floats(ganc_net_params(a->g), ganc_net_params(b->g), ganc_net_param_count(a->g)) &&
              ganc_net_state_count(a->g) == ganc_net_state_count(b->g) &&
              same_floats(ganc_net_state(a->g), ganc_net_state(b->g), ganc_net_state_count(a->g)),
          "G's weights and state come back");
    CHECK(ganc_net_param_count(a->d) == ganc_net_param_count(b->d) &&
              same_floats(ganc_net_params(a->d), ganc_net_params(b->d), ganc_net_param_count(a->d)),
          "D's weights come back");
    CHECK(a->opt_g.n == b->opt_g.n && same_floats(a->opt_g.m, b->opt_g.m, a->opt_g.n) &&
              same_floats(a->opt_g.v, b->opt_g.v, a->opt_g.n) && a->opt_g.step == b->opt_g.step &&
              a->opt_d.n == b->opt_d.n && same_floats(a->opt_d.m, b->opt_d.m, a->opt_d.n) && a->opt_d.step == b->opt_d.step,
          "the optimizers come back");
    CHECK(a->ema && b->ema && same_floats(a->ema, b->ema, a->opt_g.n), "G's moving average comes back");
    CHECK(s.step == t.step && s.epoch == t.epoch && s.pos == t.pos, "step %lld, epoch %lld, pos %d come back",
          (long long)t.step, (long long)t.epoch, t.pos);
    CHECK(!memcmp(&a->noise, &b->noise, sizeof a->noise) && !memcmp(ganc_net_rng(a->g), ganc_net_rng(b->g), sizeof a->noise) &&
              !memcmp(ganc_net_rng(a->d), ganc_net_rng(b->d), sizeof a->noise),
          "the random streams come back");
    CHECK(!strcmp(s.model.text, t.model.text) && !strcmp(s.model.source, t.model.source), "the model text and source");
    for (int i = 0; i < ganc_config_option_count(); i++) {
        const char *key = ganc_config_option_at(i)->key;
        char va[64], vb[64];
        const char *x = ganc_config_get(&s.cfg, key, va), *y = ganc_config_get(&t.cfg, key, vb);
        CHECK(x && y && !strcmp(x, y), "setting %s: saved %s, loaded %s", key, x ? x : "?", y ? y : "?");
    }

    /* every entry the session writes is in the file: its 11 own, one per setting, the model */
    ganc_st_file f;
    if (CHECK(ganc_st_read(path, &f, err) == 0, "read: %s", err)) {
        const int want = 11 + ganc_config_option_count() + 1;
        CHECK(f.n_meta == want, "%d metadata entries in the file, want %d", f.n_meta, want);
        CHECK(f.n_tensors == 2 * DEPTH + 4 + 4 + 1, "%d tensors in the file, want %d", f.n_tensors, 2 * DEPTH + 4 + 4 + 1);
        ganc_st_free(&f);
    }
    size_t n1 = 0, n2 = 0;
    if (CHECK(ganc_checkpoint_save(again, &t, err) == 0, "save again: %s", err)) {
        unsigned char *x = slurp(path, &n1), *y = slurp(again, &n2);
        CHECK(x && y && n1 == n2 && n1 > 0 && !memcmp(x, y, n1), "the loaded session saves the same bytes (%zu, %zu)", n1, n2);
        free(x);
        free(y);
    }
    ganc_session_free(&t);
out:
    ganc_session_free(&s);
}

int main(void)
{
    ganc_set_threads(1);
    tmpdir = check_tmpdir();
    test_builder();
    test_session();
    return check_finish("checkpoint");
}
