/* The library's inference API (ganc.h, "generators"): a handle holds G from a checkpoint or an
 * exported generator (gan/export.c) and everything one draw needs, so that a draw is the noise
 * of `ganc sample`'s stream (gan/latent.c) through G in chunks of the run's batch, as the game
 * draws them (ganc_game_generate): the same chunks give the same sums, so the same samples. */
#include "gan/export.h"
#include "gan/latent.h"
#include "ganc_internal.h"
#include "io/image.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_BATCH = 1000000 }; /* ganc sample -n's limit */

struct ganc_generator {
    ganc_gen_file f;
    ganc_latent latent;  /* the run's sampling settings; a draw copies it with its options */
    float *centers;      /* --z-dist mixture: the means */
    int max_batch;
    float *z;            /* max_batch latent vectors */
    int32_t *labels;     /* scratch of ganc_latent_forward: a chunk's classes ... */
    float *z_only;       /* ... and its noise without them (conditional runs) */
    const char **names;  /* K class names (NULL where the data named none), into f.classes' copy */
    char *name_text;
};

/* err may be NULL: messages then go to a buffer of the call's own. */
#define ERR_BUF(err)                                                                                                  \
    char err_unused_[GANC_ERR_LEN];                                                                                    \
    if (!(err)) (err) = err_unused_

/* The class names, one a line in f.classes, as K strings (names past the data's are NULL). */
static int split_names(ganc_generator *gen)
{
    const int k = gen->latent.classes;
    if (!k) return 0;
    gen->names = calloc((size_t)k, sizeof *gen->names);
    if (!gen->names) return -1;
    if (!gen->f.classes) return 0;
    if (!(gen->name_text = strdup(gen->f.classes))) return -1;
    char *p = gen->name_text;
    for (int i = 0; i < k && p; i++) {
        gen->names[i] = p;
        p = strchr(p, '\n');
        if (p) *p++ = 0;
    }
    return 0;
}

ganc_generator *ganc_generator_open(const char *path, int max_batch, char err[GANC_ERR_LEN])
{
    ERR_BUF(err);
    if (!path) {
        ganc_fail(err, "ganc_generator_open: no path");
        return NULL;
    }
    if (max_batch < 1 || max_batch > MAX_BATCH) {
        ganc_fail(err, "ganc_generator_open: %s: max_batch %d is outside 1 .. %d", path, max_batch, MAX_BATCH);
        return NULL;
    }
    ganc_generator *gen = calloc(1, sizeof *gen);
    if (!gen) {
        ganc_fail(err, "%s: out of memory", path);
        return NULL;
    }
    if (ganc_gen_file_load(path, &gen->f, err)) {
        free(gen);
        return NULL;
    }
    const ganc_config *cfg = &gen->f.cfg;
    const int classes = cfg->cond != GANC_COND_OFF ? cfg->classes : 0;
    gen->latent = (ganc_latent){.z_dim = cfg->z_dim, .latent = cfg->z_dim + (classes ? 1 : 0), .z_dist = cfg->z_dist,
                                .truncation = cfg->truncation, .info_k = cfg->info_codes, .code = -1,
                                .classes = classes, .class_id = -1, .class_cum = gen->f.class_cum};
    gen->max_batch = max_batch;
    const size_t batch = (size_t)cfg->batch;
    /* malloc, not ganc_alloc: a max_batch too large for memory is the caller's error to hear */
    gen->z = malloc(sizeof(float) * (size_t)max_batch * (size_t)gen->latent.latent);
    gen->labels = malloc(sizeof(int32_t) * batch);
    gen->z_only = malloc(sizeof(float) * batch * (size_t)cfg->z_dim);
    if (cfg->z_dist == GANC_Z_MIXTURE && (gen->centers = malloc(sizeof(float) * (size_t)cfg->z_modes * cfg->z_dim))) {
        ganc_latent_centers(gen->centers, cfg->z_modes, cfg->z_dim, cfg->z_mode_scale);
        gen->latent.z_modes = cfg->z_modes;
        gen->latent.z_centers = gen->centers;
    }
    if (!gen->z || !gen->labels || !gen->z_only || (cfg->z_dist == GANC_Z_MIXTURE && !gen->centers) ||
        split_names(gen)) {
        ganc_fail(err, "%s: out of memory for draws of %d samples", path, max_batch);
        ganc_generator_close(gen);
        return NULL;
    }
    return gen;
}

void ganc_generator_close(ganc_generator *gen)
{
    if (!gen) return;
    ganc_gen_file_free(&gen->f);
    free(gen->centers);
    free(gen->z);
    free(gen->labels);
    free(gen->z_only);
    free(gen->names);
    free(gen->name_text);
    free(gen);
}

ganc_shape ganc_generator_shape(const ganc_generator *gen) { return gen->f.data_shape; }
int ganc_generator_max_batch(const ganc_generator *gen) { return gen->max_batch; }
int ganc_generator_z_dim(const ganc_generator *gen) { return gen->latent.z_dim; }
int ganc_generator_classes(const ganc_generator *gen) { return gen->latent.classes; }
int ganc_generator_codes(const ganc_generator *gen) { return gen->latent.info_k; }
int64_t ganc_generator_step(const ganc_generator *gen) { return gen->f.step; }
void ganc_generator_set_precision(ganc_generator *gen, ganc_precision precision) { ganc_net_set_precision(gen->f.g, precision); }

void ganc_generator_range(const ganc_generator *gen, float *lo, float *hi)
{
    if (lo) *lo = gen->f.lo;
    if (hi) *hi = gen->f.hi;
}

const char *ganc_generator_class_name(const ganc_generator *gen, int k)
{
    return k >= 0 && k < gen->latent.classes ? gen->names[k] : NULL;
}

int ganc_generator_find_class(const ganc_generator *gen, const char *text)
{
    const int k = gen->latent.classes;
    if (!text || !*text || !k) return -1;
    /* a number first, as ganc sample --class reads it */
    char *end;
    const long v = strtol(text, &end, 10);
    if (!*end) return v >= 0 && v < k ? (int)v : -1;
    for (int i = 0; i < k; i++)
        if (gen->names[i] && !strcmp(gen->names[i], text)) return i;
    return -1;
}

ganc_sample_opts ganc_generator_defaults(const ganc_generator *gen)
{
    return (ganc_sample_opts){.seed = gen->f.cfg.seed, .class_id = -1, .code = -1, .truncation = -1.0};
}

/* The draw's latent settings from its options, every one checked against the run; then n
 * latent vectors from the stream `ganc sample --seed S` uses. */
static int draw_latent(ganc_generator *gen, const ganc_sample_opts *o, int n, size_t capacity, size_t need,
                       const char *unit, const void *out, const char *fn, char err[GANC_ERR_LEN])
{
    if (!gen) return ganc_fail(err, "%s: no generator (NULL)", fn);
    const ganc_sample_opts defaults = ganc_generator_defaults(gen);
    if (!o) o = &defaults;
    if (n < 1 || n > gen->max_batch)
        return ganc_fail(err, "%s: n = %d samples; this generator draws 1 .. %d a call (its max_batch)", fn, n,
                         gen->max_batch);
    if (!out) return ganc_fail(err, "%s: no output buffer (NULL)", fn);
    if (capacity < need) {
        const ganc_shape s = gen->f.data_shape;
        return ganc_fail(err, "%s: the buffer holds %zu %s; %d samples of %dx%dx%d need %zu", fn, capacity, unit, n, s.c,
                         s.h, s.w, need);
    }
    ganc_latent l = gen->latent;
    if (o->class_id >= 0 || o->class_id < -1) {
        if (!l.classes) return ganc_fail(err, "%s: class %d: this run is not conditional (trained without --cond)", fn, o->class_id);
        if (o->class_id >= l.classes) return ganc_fail(err, "%s: class %d: this run's classes are 0..%d", fn, o->class_id, l.classes - 1);
        if (o->class_id < -1) return ganc_fail(err, "%s: class %d: a class is 0..%d, or -1 to draw them", fn, o->class_id, l.classes - 1);
    }
    if (o->code >= 0 || o->code < -1) {
        if (!l.info_k) return ganc_fail(err, "%s: code %d: this run has no InfoGAN code (trained without --info-codes)", fn, o->code);
        if (o->code >= l.info_k || o->code < -1)
            return ganc_fail(err, "%s: code %d: this run's codes are 0..%d, or -1 to draw them", fn, o->code, l.info_k - 1);
    }
    if (o->truncation != o->truncation) return ganc_fail(err, "%s: truncation NaN: a number, or < 0 for the run's", fn);
    if (o->truncation >= 0.0) {
        ganc_config cfg = gen->f.cfg;
        cfg.truncation = (float)o->truncation;
        char why[GANC_ERR_LEN];
        if (!(o->truncation <= 100.0) || ganc_game_check_truncation(&cfg, why))
            return ganc_fail(err, "%s: truncation %g: %s", fn, o->truncation,
                             o->truncation <= 100.0 ? why : "at most 100, as ganc sample --truncation");
        l.truncation = cfg.truncation;
    }
    l.class_id = o->class_id;
    l.code = o->code;
    /* ganc sample's stream for --seed S (src/cli/sample.c), apart from the run's own (seed * 4 + k) */
    ganc_rng rng;
    ganc_rng_seed(&rng, o->seed * 4 + 6);
    ganc_latent_draw(&l, &rng, gen->z, n); /* (the handle's settings stay the run's) */
    return 0;
}

/* n samples through G in chunks of the run's batch; each chunk handed to emit. */
typedef void (*emit_fn)(const ganc_generator *gen, const float *y, int first, int count, void *out);

static void run(ganc_generator *gen, int n, int32_t *classes, emit_fn emit, void *out)
{
    const int batch = gen->f.cfg.batch, latent = gen->latent.latent;
    for (int i = 0; i < n; i += batch) {
        const int chunk = n - i < batch ? n - i : batch;
        const float *zi = gen->z + (size_t)i * (size_t)latent;
        emit(gen, ganc_latent_forward(gen->f.g, &gen->latent, zi, chunk, gen->labels, gen->z_only), i, chunk, out);
    }
    if (classes) {
        if (gen->latent.classes) ganc_latent_labels(&gen->latent, gen->z, n, classes);
        else
            for (int i = 0; i < n; i++) classes[i] = -1;
    }
}

static void emit_floats(const ganc_generator *gen, const float *y, int first, int count, void *out)
{
    const size_t sample = ganc_shape_size(gen->f.data_shape);
    memcpy((float *)out + (size_t)first * sample, y, sizeof(float) * sample * (size_t)count);
}

static void emit_bytes(const ganc_generator *gen, const float *y, int first, int count, void *out)
{
    const ganc_shape s = gen->f.data_shape;
    const size_t plane = (size_t)s.h * (size_t)s.w, sample = plane * (size_t)s.c;
    const double lo = gen->f.lo, scale = 255.0 / ((double)gen->f.hi - (double)gen->f.lo);
    uint8_t *dst = (uint8_t *)out + (size_t)first * sample;
    for (int i = 0; i < count; i++, dst += sample, y += sample)
        for (size_t p = 0; p < plane; p++) /* planes (NCHW) to pixels (HWC) */
            for (int c = 0; c < s.c; c++) dst[p * (size_t)s.c + (size_t)c] = ganc_pixel_byte(y[(size_t)c * plane + p], lo, scale);
}

int ganc_generator_sample(ganc_generator *gen, const ganc_sample_opts *opts, int n, float *out, size_t capacity,
                          int32_t *classes, char err[GANC_ERR_LEN])
{
    ERR_BUF(err);
    const size_t need = gen ? (size_t)(n > 0 ? n : 0) * ganc_shape_size(gen->f.data_shape) : 0;
    if (draw_latent(gen, opts, n, capacity, need, "floats", out, "ganc_generator_sample", err)) return -1;
    run(gen, n, classes, emit_floats, out);
    return 0;
}

int ganc_generator_sample_u8(ganc_generator *gen, const ganc_sample_opts *opts, int n, uint8_t *out, size_t capacity,
                             int32_t *classes, char err[GANC_ERR_LEN])
{
    ERR_BUF(err);
    if (gen && gen->f.points)
        return ganc_fail(err, "ganc_generator_sample_u8: this run's samples are 2-D points, not pictures (take floats)");
    const size_t need = gen ? (size_t)(n > 0 ? n : 0) * ganc_shape_size(gen->f.data_shape) : 0;
    if (draw_latent(gen, opts, n, capacity, need, "bytes", out, "ganc_generator_sample_u8", err)) return -1;
    run(gen, n, classes, emit_bytes, out);
    return 0;
}
