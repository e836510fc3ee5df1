/* Parser for one model-file layer line: TYPE [positional ints] [key=value ...] [# comment].
 * Every value is range-checked here so that a network never sees an absurd size. */
#include "ganc_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[GANC_LAYER_COUNT] = {
    "dense", "conv", "deconv", "batchnorm", "relu", "lrelu", "elu",
    "concat_elu", "tanh", "sigmoid", "dropout", "flatten", "reshape", "maxout", "mbstd"};

const char *ganc_layer_type_name(ganc_layer_type t)
{
    return (t >= 0 && t < GANC_LAYER_COUNT) ? type_names[t] : "?";
}

const ganc_layer_ops *ganc_layer_ops_for(ganc_layer_type t)
{
    static const ganc_layer_ops *const ops[GANC_LAYER_COUNT] = {
        &ganc_dense_ops, &ganc_conv_ops, &ganc_deconv_ops, &ganc_batchnorm_ops, &ganc_relu_ops,
        &ganc_lrelu_ops, &ganc_elu_ops, &ganc_concat_elu_ops, &ganc_tanh_ops, &ganc_sigmoid_ops,
        &ganc_dropout_ops, &ganc_flatten_ops, &ganc_reshape_ops, &ganc_maxout_ops, &ganc_mbstd_ops};
    return (t >= 0 && t < GANC_LAYER_COUNT) ? ops[t] : NULL;
}

enum { MAX_TOKENS = 16, MAX_SIZE = 1 << 20, MAX_KERNEL = 64, MAX_PIECES = 256 };

/* Layers with a weight matrix: they take bias options and spectral normalisation. */
static int has_weight_matrix(ganc_layer_type t)
{
    return t == GANC_LAYER_DENSE || t == GANC_LAYER_CONV || t == GANC_LAYER_DECONV || t == GANC_LAYER_MAXOUT;
}

static int parse_int(const char *s, int lo, int hi, const char *what, int *out, char err[GANC_ERR_LEN])
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno) return ganc_fail(err, "%s needs an integer, got '%s'", what, s);
    if (v < lo || v > hi) return ganc_fail(err, "%s=%ld is out of range [%d, %d]", what, v, lo, hi);
    *out = (int)v;
    return 0;
}

static int parse_float(const char *s, double lo, double hi, const char *what, float *out, char err[GANC_ERR_LEN])
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) return ganc_fail(err, "%s needs a number, got '%s'", what, s);
    if (v < lo || v > hi) return ganc_fail(err, "%s=%g is out of range [%g, %g]", what, v, lo, hi);
    *out = (float)v;
    return 0;
}

static int parse_option(ganc_layer_spec *sp, const char *key, const char *val, char err[GANC_ERR_LEN])
{
    const ganc_layer_type t = sp->type;
    const int convlike = t == GANC_LAYER_CONV || t == GANC_LAYER_DECONV;
    if (convlike && !strcmp(key, "k")) return parse_int(val, 1, MAX_KERNEL, "k", &sp->k, err);
    if (convlike && !strcmp(key, "stride")) return parse_int(val, 1, MAX_KERNEL, "stride", &sp->stride, err);
    if (convlike && !strcmp(key, "pad")) {
        if (!strcmp(val, "same")) sp->pad_mode = GANC_PAD_SAME;
        else if (!strcmp(val, "valid")) sp->pad_mode = GANC_PAD_VALID;
        else {
            sp->pad_mode = GANC_PAD_EXPLICIT;
            return parse_int(val, 0, MAX_KERNEL, "pad (an integer, same or valid)", &sp->pad, err);
        }
        return 0;
    }
    if (t == GANC_LAYER_DECONV && !strcmp(key, "outpad")) return parse_int(val, 0, MAX_KERNEL, "outpad", &sp->outpad, err);
    if (has_weight_matrix(t) && !strcmp(key, "bias")) return parse_int(val, 0, 1, "bias", &sp->bias, err);
    if (has_weight_matrix(t) && !strcmp(key, "bias_init")) {
        sp->has_bias_init = 1;
        return parse_float(val, -1e6, 1e6, "bias_init", &sp->bias_init, err);
    }
    if (t == GANC_LAYER_BATCHNORM && !strcmp(key, "eps")) return parse_float(val, 1e-12, 1.0, "eps", &sp->eps, err);
    if (t == GANC_LAYER_BATCHNORM && !strcmp(key, "momentum"))
        return parse_float(val, 0.0, 1.0, "momentum", &sp->momentum, err);
    if (t == GANC_LAYER_LRELU && !strcmp(key, "slope")) return parse_float(val, -1e3, 1e3, "slope", &sp->alpha, err);
    if ((t == GANC_LAYER_ELU || t == GANC_LAYER_CONCAT_ELU) && !strcmp(key, "alpha"))
        return parse_float(val, 0.0, 1e3, "alpha", &sp->alpha, err);
    if (t == GANC_LAYER_MAXOUT && !strcmp(key, "pieces"))
        return parse_int(val, 2, MAX_PIECES, "pieces", &sp->pieces, err);
    if (t == GANC_LAYER_MBSTD && !strcmp(key, "group"))
        return parse_int(val, 2, MAX_SIZE, "group", &sp->group, err);
    if (t == GANC_LAYER_DROPOUT && !strcmp(key, "p")) return parse_float(val, 0.0, 0.999, "p", &sp->p, err);
    if (t == GANC_LAYER_DROPOUT && !strcmp(key, "keep")) {
        float keep;
        if (parse_float(val, 0.001, 1.0, "keep", &keep, err)) return -1;
        sp->p = 1.0f - keep;
        return 0;
    }
    if (!strcmp(key, "sn")) return ganc_fail(err, "sn is a flag: write 'sn' alone, without '=%s'", val);
    return ganc_fail(err, "%s has no option '%s'", type_names[t], key);
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
    for (char *s = strtok(buf, " \t\r"); s; s = strtok(NULL, " \t\r")) {
        if (ntok == MAX_TOKENS) return ganc_fail(err, "too many words on one layer line (at most %d)", MAX_TOKENS);
        tok[ntok++] = s;
    }
    if (ntok == 0) return ganc_fail(err, "empty layer line");

    memset(sp, 0, sizeof *sp);
    sp->type = GANC_LAYER_COUNT;
    for (int t = 0; t < GANC_LAYER_COUNT; t++)
        if (!strcmp(tok[0], type_names[t])) sp->type = (ganc_layer_type)t;
    if (sp->type == GANC_LAYER_COUNT)
        return ganc_fail(err, "unknown layer type '%s' (dense, conv, deconv, maxout, batchnorm, relu, lrelu, elu, "
                              "concat_elu, tanh, sigmoid, dropout, mbstd, flatten, reshape)", tok[0]);
    sp->stride = 1;
    sp->bias = 1;
    sp->eps = 1e-5f;
    sp->momentum = 0.1f;
    sp->alpha = sp->type == GANC_LAYER_LRELU ? 0.2f : 1.0f;
    sp->p = 0.5f;

    int npos = 0, pos[3] = {0, 0, 0};
    const int want_pos = has_weight_matrix(sp->type) ? 1 : sp->type == GANC_LAYER_RESHAPE ? 3 : 0;
    for (int i = 1; i < ntok; i++) {
        if (!strcmp(tok[i], "sn")) { /* a flag: spectral normalisation of the weight */
            if (!has_weight_matrix(sp->type))
                return ganc_fail(err, "%s has no weight matrix to normalise: sn applies to dense, conv, deconv and "
                                      "maxout", tok[0]);
            sp->sn = 1;
            continue;
        }
        char *eq = strchr(tok[i], '=');
        if (!eq) {
            if (npos == want_pos)
                return ganc_fail(err, "%s takes %d plain number%s, '%s' is one too many", tok[0], want_pos,
                                 want_pos == 1 ? "" : "s", tok[i]);
            if (parse_int(tok[i], 1, MAX_SIZE, want_pos == 3 ? "reshape size" : "the size", &pos[npos], err)) return -1;
            npos++;
            continue;
        }
        *eq = 0;
        if (parse_option(sp, tok[i], eq + 1, err)) return -1;
    }
    if (npos < want_pos)
        return ganc_fail(err, "%s needs %s", tok[0],
                         sp->type == GANC_LAYER_RESHAPE  ? "three sizes: reshape C H W"
                         : sp->type == GANC_LAYER_DENSE  ? "the number of output units: dense N"
                         : sp->type == GANC_LAYER_MAXOUT ? "the number of units and pieces=, e.g. maxout 200 pieces=5"
                                                         : "the number of output channels and k=, e.g. conv 64 k=5");
    if ((sp->type == GANC_LAYER_CONV || sp->type == GANC_LAYER_DECONV) && sp->k == 0)
        return ganc_fail(err, "%s needs a kernel size k=", tok[0]);
    if (sp->type == GANC_LAYER_MAXOUT && sp->pieces == 0)
        return ganc_fail(err, "maxout needs pieces=P (at least 2), e.g. maxout 200 pieces=5");
    if (sp->type == GANC_LAYER_RESHAPE)
        sp->reshape = (ganc_shape){pos[0], pos[1], pos[2]};
    else
        sp->units = pos[0];
    return 0;
}
