/* The flag parser and help generator (see flags.h). The parser prints nothing (errors go back
 * in err), so that the fuzzer (tests/fuzz/fuzz_flags.c) can run it alone. */
#include "cli/flags.h"
#include "gan/config.h"
#include "ganc_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { LABEL_WIDTH = 28, PAGE_WIDTH = 100 };

int cli_flag_int(const char *what, const char *v, double lo, double hi, int *out, char err[GANC_ERR_LEN])
{
    char *end;
    errno = 0;
    const long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno || (double)x < lo || (double)x > hi)
        return ganc_fail(err, "%s needs an integer in [%.0f, %.0f], got '%s'", what, lo, hi, v);
    *out = (int)x;
    return 0;
}

static int flag_num(const char *what, const char *v, const cli_flag *f, char err[GANC_ERR_LEN])
{
    char *end;
    errno = 0;
    const double x = strtod(v, &end);
    const int inside = f->open ? x > f->lo && x < f->hi : x >= f->lo && x <= f->hi; /* NaN is outside */
    if (end == v || *end || errno || !inside)
        return ganc_fail(err, "%s needs a number in %c%g, %g%c, got '%s'", what, f->open ? '(' : '[', f->lo, f->hi,
                         f->open ? ')' : ']', v);
    *(double *)f->dest = x;
    return 0;
}

static int flag_seed(const char *what, const char *v, uint64_t *out, char err[GANC_ERR_LEN])
{
    char *end;
    errno = 0;
    const unsigned long long x = strtoull(v, &end, 10);
    if (v[0] == '-' || end == v || *end || errno) /* strtoull would wrap "-1" round */
        return ganc_fail(err, "%s needs a non-negative integer, got '%s'", what, v);
    *out = x;
    return 0;
}

static int set_value(const char *cmd, const cli_flag *f, const char *v, char err[GANC_ERR_LEN])
{
    char what[128];
    snprintf(what, sizeof what, "%s: %s", cmd, f->name);
    switch (f->type) {
    case CLI_INT:
    case CLI_OPT_INT: return cli_flag_int(what, v, f->lo, f->hi, f->dest, err);
    case CLI_NUM: return flag_num(what, v, f, err);
    case CLI_SEED: return flag_seed(what, v, f->dest, err);
    case CLI_TEXT:
        if (!v[0]) return ganc_fail(err, "%s needs a value", what);
        *(const char **)f->dest = v;
        return 0;
    case CLI_SWITCH:
    case CLI_VALUES: break; /* no single value: see cli_flags_parse */
    }
    return ganc_fail(err, "%s: internal error: flag type %d", what, (int)f->type);
}

/* The value of a CLI_OPT_INT: a number (digits only) after it. */
static int opt_value(const char *a) { return a && a[0] && strspn(a, "0123456789") == strlen(a); }

/* A flag is '-' and something; a long one's name stops at '=' ("--seed=3"). */
static int is_flag(const char *a) { return a[0] == '-' && a[1]; }
static size_t name_len(const char *a)
{
    const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
    return eq ? (size_t)(eq - a) : strlen(a);
}

static const cli_flag *lookup(const cli_command *c, const char *a, size_t len)
{
    for (int i = 0; i < c->n_flags; i++)
        if (strlen(c->flags[i].name) == len && !strncmp(c->flags[i].name, a, len)) return &c->flags[i];
    return NULL;
}

/* A flag outside the table that c->other knows; name receives it as a string. */
static int other_knows(const cli_command *c, const char *a, size_t len, char name[64])
{
    if (!c->other || len >= 64) return 0;
    memcpy(name, a, len);
    name[len] = 0;
    char unused[GANC_ERR_LEN];
    return c->other(c->other_ctx, name, NULL, unused) == 0;
}

/* --help or -h where a flag may stand (not as the value of one). */
static int wants_help(const cli_command *c, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return 1;
        if (!is_flag(a)) continue;
        const size_t n = name_len(a);
        const cli_flag *f = lookup(c, a, n);
        char name[64];
        if (a[n] == '=') continue; /* its value is inside it */
        if (f && f->type == CLI_OPT_INT) i += i + 1 < argc && opt_value(argv[i + 1]);
        else if (f && f->type != CLI_SWITCH) i += f->type == CLI_VALUES ? f->nargs : 1;
        else if (!f && other_knows(c, a, n, name)) i++;
    }
    return 0;
}

static int parse_other(const cli_command *c, int argc, char **argv, int *i, char err[GANC_ERR_LEN])
{
    const char *a = argv[*i];
    const size_t n = name_len(a);
    char name[64], why[GANC_ERR_LEN];
    if (!other_knows(c, a, n, name))
        return ganc_fail(err, "%s: unknown option '%.*s' (see ganc %s --help)", c->name, (int)n, a, c->name);
    const char *v = a[n] == '=' ? a + n + 1 : *i + 1 < argc ? argv[++*i] : NULL;
    if (!v) return ganc_fail(err, "%s: %s needs a value", c->name, name);
    if (c->other(c->other_ctx, name, v, why)) return ganc_fail(err, "%s: %s", c->name, why);
    return 0;
}

static int parse_flag(const cli_command *c, int argc, char **argv, int *i, char err[GANC_ERR_LEN])
{
    const char *a = argv[*i];
    const size_t n = name_len(a);
    const cli_flag *f = lookup(c, a, n);
    if (!f) return parse_other(c, argc, argv, i, err);
    const char *inline_value = a[n] == '=' ? a + n + 1 : NULL;
    if (f->given) *f->given = 1;
    if (f->type == CLI_SWITCH) {
        if (inline_value) return ganc_fail(err, "%s: %s takes no value", c->name, f->name);
        *(int *)f->dest = 1;
        return 0;
    }
    if (f->type == CLI_VALUES) {
        if (inline_value || *i + f->nargs >= argc)
            return ganc_fail(err, "%s: %s needs %d values: %s %s", c->name, f->name, f->nargs, f->name, f->arg);
        const int rc = f->parse(c->name, f, argv + *i + 1, err);
        *i += f->nargs;
        return rc;
    }
    if (f->type == CLI_OPT_INT && !inline_value && !(*i + 1 < argc && opt_value(argv[*i + 1]))) return 0;
    const char *v = inline_value ? inline_value : *i + 1 < argc ? argv[++*i] : NULL;
    if (!v) return ganc_fail(err, "%s: %s needs a value", c->name, f->name);
    return set_value(c->name, f, v, err);
}

int cli_flags_parse(const cli_command *c, int argc, char **argv, char err[GANC_ERR_LEN])
{
    if (wants_help(c, argc, argv)) return 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (is_flag(a)) {
            if (parse_flag(c, argc, argv, &i, err)) return -1;
        } else if (!c->operand) {
            return ganc_fail(err, "%s: unexpected argument '%s' (see ganc %s --help)", c->name, a, c->name);
        } else if (c->operand_list) {
            if (*c->operand_count == c->operand_max)
                return ganc_fail(err, "%s: unexpected argument '%s' (at most %d runs)", c->name, a, c->operand_max);
            c->operand_list[(*c->operand_count)++] = a;
        } else if (*c->operand_dest) {
            return ganc_fail(err, "%s: unexpected argument '%s' (one run at a time)", c->name, a);
        } else {
            *c->operand_dest = a;
        }
    }
    if (c->operand && c->operand_required && !(c->operand_list ? *c->operand_count : *c->operand_dest != NULL)) {
        const size_t first_line = strcspn(c->usage, "\n");
        return ganc_fail(err, "%s: which run? usage: %.*s", c->name, (int)first_line, c->usage);
    }
    for (int k = 0; k < c->n_flags; k++) {
        const cli_flag *f = &c->flags[k];
        if (f->required && !*(const char **)f->dest) /* required flags are CLI_TEXT */
            return ganc_fail(err, "%s: %s %s is required%s%s%s", c->name, f->name, f->arg, f->required[0] ? " (" : "",
                             f->required, f->required[0] ? ")" : "");
    }
    return 0;
}

/* ---- help ------------------------------------------------------------------------------- */

void cli_flags_row(FILE *out, const char *name, const char *arg, const char *help, const char *note)
{
    char label[256], text[2048];
    snprintf(label, sizeof label, "%s%s%s", name, arg ? " " : "", arg ? arg : "");
    snprintf(text, sizeof text, "%s%s%s%s", help, note ? " (" : "", note ? note : "", note ? ")" : "");
    int col = fprintf(out, "  %-*s", LABEL_WIDTH, label);
    if (col > LABEL_WIDTH + 2) { /* a long label gets a line of its own */
        fputc('\n', out);
        col = fprintf(out, "%*s", LABEL_WIDTH + 2, "");
    }
    const int indent = LABEL_WIDTH + 3;
    for (const char *p = text; *p;) { /* words, wrapped at the page's width */
        while (*p == ' ') p++;
        const int w = (int)strcspn(p, " ");
        if (!w) break;
        if (col + 1 + w > PAGE_WIDTH && col > indent) col = fprintf(out, "\n%*s", indent, "") - 1;
        else col += fprintf(out, " ");
        col += fprintf(out, "%.*s", w, p);
        p += w;
    }
    fputc('\n', out);
}

/* "default 64", "required", ...: what a flag is when it is not given. */
static void default_note(const cli_flag *f, char *buf, size_t cap)
{
    if (f->required) snprintf(buf, cap, "required");
    else if (f->def) snprintf(buf, cap, "default %s", f->def);
    else if (f->type == CLI_INT || f->type == CLI_OPT_INT) snprintf(buf, cap, "default %d", *(const int *)f->dest);
    else if (f->type == CLI_NUM) snprintf(buf, cap, "default %g", *(const double *)f->dest);
    else if (f->type == CLI_SEED) snprintf(buf, cap, "default %" PRIu64, *(const uint64_t *)f->dest);
    else if (f->type == CLI_SWITCH) snprintf(buf, cap, "default %s", *(const int *)f->dest ? "on" : "off");
    else if (f->type == CLI_TEXT && *(const char **)f->dest) snprintf(buf, cap, "default %s", *(const char **)f->dest);
    else snprintf(buf, cap, "default none");
}

void cli_flags_help(const cli_command *c, FILE *out)
{
    fprintf(out, "usage: ");
    for (const char *p = c->usage; *p;) {
        const size_t n = strcspn(p, "\n");
        fprintf(out, "%s%.*s\n", p == c->usage ? "" : "       ", (int)n, p);
        p += n + (p[n] == '\n');
    }
    if (c->about) fprintf(out, "\n%s\n", c->about);
    fprintf(out, "\n");
    if (c->operand) cli_flags_row(out, c->operand, NULL, c->operand_help, c->operand_required ? "required" : NULL);
    for (int i = 0; i < c->n_flags; i++) {
        char note[160];
        default_note(&c->flags[i], note, sizeof note);
        cli_flags_row(out, c->flags[i].name, c->flags[i].arg, c->flags[i].help, note);
    }
    if (c->other_help) c->other_help(c->other_ctx, out);
    cli_flags_row(out, "--help", NULL, "this text", NULL);
}

int cli_data_flags_apply(const cli_data_flags *d, const char *data, ganc_config *cfg, char err[GANC_ERR_LEN])
{
    const char *keys[] = {"data", "size", "crop", "channels", "background"};
    const char *values[] = {data, d->size, d->crop, d->channels, d->background};
    for (int i = 0; i < 5; i++)
        if (values[i] && ganc_config_set(cfg, keys[i], values[i], err)) return -1;
    return 0;
}
