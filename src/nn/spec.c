/* Parser for one model-file layer line: TYPE [positional ints] [key=value ...] [# comment].
 * What a type takes (its sizes, options, ranges and defaults) is its definition's
 * (layers/registry.c); every value is range-checked here so that a network never sees an
 * absurd size. */
#include "ganc_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_TOKENS = 16 };

int ganc_parse_int(const char *s, int lo, int hi, const char *what, int *out, char err[GANC_ERR_LEN])
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno) return ganc_fail(err, "%s needs an integer, got '%s'", what, s);
    if (v < lo || v > hi) return ganc_fail(err, "%s=%ld is out of range [%d, %d]", what, v, lo, hi);
    *out = (int)v;
    return 0;
}

int ganc_parse_float(const char *s, double lo, double hi, const char *what, float *out, char err[GANC_ERR_LEN])
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) return ganc_fail(err, "%s needs a number, got '%s'", what, s);
    if (v < lo || v > hi) return ganc_fail(err, "%s=%g is out of range [%g, %g]", what, v, lo, hi);
    *out = (float)v;
    return 0;
}

const ganc_layer_option ganc_units_size[] = {GANC_INT_OPTION("the size", units, 1, GANC_MAX_SIZE, 0), GANC_OPTIONS_END};

static int parse_bias_init(ganc_layer_spec *sp, const char *value, char err[GANC_ERR_LEN])
{
    sp->has_bias_init = 1;
    return ganc_parse_float(value, -1e6, 1e6, "bias_init", &sp->bias_init, err);
}

/* What every layer with a weight matrix takes besides its own options (and the flag sn). */
static const ganc_layer_option weight_options[] = {
    GANC_INT_OPTION("bias", bias, 0, 1, 1),
    GANC_OWN_OPTION("bias_init", parse_bias_init),
    GANC_OPTIONS_END,
};

static int *int_field(ganc_layer_spec *sp, const ganc_layer_option *o) { return (int *)((char *)sp + o->at); }
static float *float_field(ganc_layer_spec *sp, const ganc_layer_option *o) { return (float *)((char *)sp + o->at); }

static int read_value(ganc_layer_spec *sp, const ganc_layer_option *o, const char *value, char err[GANC_ERR_LEN])
{
    switch (o->kind) {
    case GANC_OPTION_INT:
        return ganc_parse_int(value, (int)o->lo, (int)o->hi, o->key, int_field(sp, o), err);
    case GANC_OPTION_FLOAT:
        return ganc_parse_float(value, o->lo, o->hi, o->key, float_field(sp, o), err);
    default:
        return o->parse(sp, value, err);
    }
}

static void set_fallbacks(ganc_layer_spec *sp, const ganc_layer_option *options)
{
    for (const ganc_layer_option *o = options; o && o->key; o++) {
        if (o->kind == GANC_OPTION_INT) *int_field(sp, o) = (int)o->fallback;
        if (o->kind == GANC_OPTION_FLOAT) *float_field(sp, o) = (float)o->fallback;
    }
}

static int count_options(const ganc_layer_option *options)
{
    int n = 0;
    while (options && options[n].key) n++;
    return n;
}

/* The option called key among the type's own (index into def->options), then the weight
 * options when the type has a weight matrix (index -1); NULL when it has none by that name. */
static const ganc_layer_option *find_option(const ganc_layer_def *def, const char *key, int *own_index)
{
    for (int i = 0; i < count_options(def->options); i++)
        if (!strcmp(def->options[i].key, key)) {
            *own_index = i;
            return &def->options[i];
        }
    *own_index = -1;
    if (def->weighted)
        for (const ganc_layer_option *o = weight_options; o->key; o++)
            if (!strcmp(o->key, key)) return o;
    return NULL;
}

static const ganc_layer_def *find_type(const char *name, ganc_layer_type *type)
{
    for (int t = 0; t < GANC_LAYER_COUNT; t++)
        if (!strcmp(name, ganc_layers[t]->name)) {
            *type = (ganc_layer_type)t;
            return ganc_layers[t];
        }
    return NULL;
}

int ganc_layer_spec_parse(const char *line, ganc_layer_spec *sp, char err[GANC_ERR_LEN])
{
    char buf[512];
    size_t len = strcspn(line, "#\n");
    if (len >= sizeof buf) return ganc_fail(err, "line is longer than %zu characters", sizeof buf - 1);
    memcpy(buf, line, len);
    buf[len] = 0;

    char *tok[MAX_TOKENS];
    int ntok = 0;
    /* the words, split in place (not strtok: its hidden state is shared by every thread, and the
     * library parses model text in whichever thread opens a generator) */
    for (char *s = buf + strspn(buf, " \t\r"); *s; s += strspn(s, " \t\r")) {
        if (ntok == MAX_TOKENS) return ganc_fail(err, "too many words on one layer line (at most %d)", MAX_TOKENS);
        tok[ntok++] = s;
        s += strcspn(s, " \t\r");
        if (*s) *s++ = 0;
    }
    if (ntok == 0) return ganc_fail(err, "empty layer line");

    memset(sp, 0, sizeof *sp);
    const ganc_layer_def *def = find_type(tok[0], &sp->type);
    if (!def) {
        char names[GANC_ERR_LEN];
        ganc_layer_names(names, sizeof names, 0, ", ");
        return ganc_fail(err, "unknown layer type '%s' (%s)", tok[0], names);
    }
    set_fallbacks(sp, def->options);
    if (def->weighted) set_fallbacks(sp, weight_options);

    const int want_sizes = count_options(def->sizes);
    int sizes = 0;
    uint64_t given = 0; /* bit i: own option i was on the line (required ones are among the first 64) */
    for (int i = 1; i < ntok; i++) {
        if (!strcmp(tok[i], "sn")) { /* a flag: spectral normalisation of the weight */
            if (!def->weighted) {
                char names[GANC_ERR_LEN];
                ganc_layer_names(names, sizeof names, 1, " and ");
                return ganc_fail(err, "%s has no weight matrix to normalise: sn applies to %s", tok[0], names);
            }
            sp->sn = 1;
            continue;
        }
        char *eq = strchr(tok[i], '=');
        if (!eq) {
            if (sizes == want_sizes)
                return ganc_fail(err, "%s takes %d plain number%s, '%s' is one too many", tok[0], want_sizes,
                                 want_sizes == 1 ? "" : "s", tok[i]);
            if (read_value(sp, &def->sizes[sizes], tok[i], err)) return -1;
            sizes++;
            continue;
        }
        *eq = 0;
        int own;
        const ganc_layer_option *o = find_option(def, tok[i], &own);
        if (!o) {
            if (!strcmp(tok[i], "sn")) return ganc_fail(err, "sn is a flag: write 'sn' alone, without '=%s'", eq + 1);
            return ganc_fail(err, "%s has no option '%s'", tok[0], tok[i]);
        }
        if (read_value(sp, o, eq + 1, err)) return -1;
        if (own >= 0 && own < 64) given |= (uint64_t)1 << own;
    }
    if (sizes < want_sizes) {
        if (def->needs) return ganc_fail(err, "%s needs %s", tok[0], def->needs);
        return ganc_fail(err, "%s needs %d plain number%s", tok[0], want_sizes, want_sizes == 1 ? "" : "s");
    }
    for (int i = 0; i < count_options(def->options); i++)
        if (def->options[i].required && i < 64 && !(given >> i & 1))
            return ganc_fail(err, "%s needs %s", tok[0], def->options[i].required);
    return 0;
}
