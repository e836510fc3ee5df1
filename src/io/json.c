/* Strict recursive-descent JSON parser (see json.h for the rules it enforces).
 *
 * Memory: decoded strings go into one arena of len + 1 bytes allocated up front. That is
 * always enough, because a string token of k source bytes between its quotes decodes to at
 * most k bytes (an escape never decodes longer than itself) and needs one NUL, while its two
 * quotes take two source bytes. Nodes come from blocks that double in size, so pointers to
 * them stay valid while the tree grows. */
#include "io/json.h"

#include "ganc_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct node_block {
    struct node_block *prev;
    size_t used, cap;
    ganc_json nodes[];
} node_block;

struct ganc_json_doc {
    ganc_json *root;
    char *strings;
    size_t str_used, str_cap;
    node_block *blocks;
};

typedef struct {
    const unsigned char *s;
    size_t len, pos, base;
    ganc_json_doc *doc;
    char *err;
} parser;

#define MAX_BLOCK_NODES ((size_t)1 << 16)

/* ---- errors ------------------------------------------------------------------------------ */

static int fail_at(parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_at(parser *p, size_t at, const char *fmt, ...)
{
    char what[GANC_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ganc_fail(p->err, "JSON: %s, at byte %zu", what, p->base + at);
}

/* "unexpected end of input" / "unexpected character 'x'" / "unexpected byte 0xff". */
static int fail_unexpected(parser *p, const char *context)
{
    if (p->pos >= p->len) return fail_at(p, p->pos, "unexpected end of input %s", context);
    unsigned c = p->s[p->pos];
    if (c >= 0x21 && c < 0x7f) return fail_at(p, p->pos, "unexpected character '%c' %s", (int)c, context);
    return fail_at(p, p->pos, "unexpected byte 0x%02x %s", c, context);
}

/* ---- UTF-8 ------------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (n bytes available), 0 when broken. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

int ganc_json_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(u + i, len - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

static size_t utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

const char *ganc_json_excerpt(char out[GANC_JSON_EXCERPT], const char *s, size_t len)
{
    /* The output has as many bytes as the input ('?' replaces one byte), so a text that fits
     * is copied whole and a longer one is cut to leave room for "..." and the NUL. */
    const unsigned char *u = (const unsigned char *)s;
    const size_t limit = len < GANC_JSON_EXCERPT ? len : GANC_JSON_EXCERPT - 4;
    size_t i = 0;
    while (i < len) {
        size_t k = u[i] < 0x20 || u[i] == 0x7f ? 0 : utf8_seq(u + i, len - i);
        if (i + (k ? k : 1) > limit) break;
        if (k) {
            memcpy(out + i, u + i, k);
            i += k;
        } else {
            out[i++] = '?';
        }
    }
    if (i < len) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

/* ---- allocation -------------------------------------------------------------------------- */

static ganc_json *new_node(parser *p, ganc_json_type type, size_t at)
{
    node_block *b = p->doc->blocks;
    if (!b || b->used == b->cap) {
        size_t cap = b ? b->cap * 2 : 16;
        if (cap > MAX_BLOCK_NODES) cap = MAX_BLOCK_NODES;
        node_block *nb = malloc(sizeof *nb + cap * sizeof(ganc_json));
        if (!nb) {
            fail_at(p, at, "out of memory");
            return NULL;
        }
        nb->prev = b;
        nb->used = 0;
        nb->cap = cap;
        p->doc->blocks = b = nb;
    }
    ganc_json *n = &b->nodes[b->used++];
    memset(n, 0, sizeof *n);
    n->type = type;
    n->offset = p->base + at;
    return n;
}

void ganc_json_free(ganc_json_doc *doc)
{
    if (!doc) return;
    for (node_block *b = doc->blocks; b;) {
        node_block *prev = b->prev;
        free(b);
        b = prev;
    }
    free(doc->strings);
    free(doc);
}

/* ---- lexing helpers ---------------------------------------------------------------------- */

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int hex4(parser *p, size_t at, uint32_t *out)
{
    if (p->len - at < 4) return fail_at(p, at, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p->s[at + i];
        int d = c >= '0' && c <= '9' ? (int)c - '0'
                : c >= 'a' && c <= 'f' ? (int)c - 'a' + 10
                : c >= 'A' && c <= 'F' ? (int)c - 'A' + 10
                                       : -1;
        if (d < 0) return fail_at(p, at + i, "bad hex digit in \\u escape");
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* p->pos is just past the 'u' of "\u"; decodes one code point, joining a surrogate pair. */
static int unicode_escape(parser *p, uint32_t *cp)
{
    size_t at = p->pos - 2; /* the backslash */
    uint32_t hi;
    if (hex4(p, p->pos, &hi) < 0) return -1;
    p->pos += 4;
    if (hi >= 0xdc00 && hi <= 0xdfff) return fail_at(p, at, "lone low surrogate \\u%04X", (unsigned)hi);
    if (hi < 0xd800 || hi > 0xdbff) {
        *cp = hi;
        return 0;
    }
    uint32_t lo;
    if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' || hex4(p, p->pos + 2, &lo) < 0 ||
        lo < 0xdc00 || lo > 0xdfff) {
        return fail_at(p, at, "high surrogate \\u%04X not followed by a low surrogate", (unsigned)hi);
    }
    p->pos += 6;
    *cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    return 0;
}

/* p->pos is just past a backslash; appends the decoded character at out + *o. */
static int escape(parser *p, char *out, size_t *o)
{
    if (p->pos >= p->len) return fail_unexpected(p, "in escape");
    unsigned char c = p->s[p->pos];
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(from, c) : NULL;
    if (!hit && c != 'u') return fail_at(p, p->pos - 1, "invalid escape '\\%c'", c >= 0x21 && c < 0x7f ? c : '?');
    p->pos++;
    if (hit) {
        out[(*o)++] = to[hit - from];
        return 0;
    }
    uint32_t cp = 0;
    if (unicode_escape(p, &cp) < 0) return -1;
    *o += utf8_put(out + *o, cp);
    return 0;
}

/* p->pos is at the opening quote; decodes into the string arena. */
static int parse_string(parser *p, const char **str, size_t *len)
{
    size_t start = p->pos++;
    char *out = p->doc->strings + p->doc->str_used;
    size_t o = 0;
    for (;;) {
        if (p->pos >= p->len) return fail_at(p, start, "unterminated string");
        unsigned char c = p->s[p->pos];
        if (c == '"') break;
        if (c < 0x20) return fail_at(p, p->pos, "control character 0x%02x in string (must be escaped)", c);
        if (c == '\\') {
            p->pos++;
            if (escape(p, out, &o) < 0) return -1;
            continue;
        }
        size_t k = utf8_seq(p->s + p->pos, p->len - p->pos);
        if (!k) return fail_at(p, p->pos, "invalid UTF-8 in string");
        memcpy(out + o, p->s + p->pos, k);
        o += k;
        p->pos += k;
    }
    p->pos++;
    out[o] = '\0';
    p->doc->str_used += o + 1;
    *str = out;
    *len = o;
    return 0;
}

static size_t digits(parser *p)
{
    size_t n = 0;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++, n++;
    return n;
}

/* Exact int64 value of an integer token, or 0 when it does not fit. */
static int to_int64(const unsigned char *t, size_t n, int64_t *out)
{
    int neg = t[0] == '-';
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = (size_t)neg; i < n; i++) {
        unsigned d = t[i] - '0';
        if (v > (limit - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 1;
}

static int parse_number(parser *p, ganc_json *n)
{
    size_t start = p->pos;
    int is_int = 1;
    if (p->s[p->pos] == '-') p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            return fail_at(p, start, "number with a leading zero");
    } else if (!digits(p)) {
        return fail_unexpected(p, "in number");
    }
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++, is_int = 0;
        if (!digits(p)) return fail_unexpected(p, "after decimal point");
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++, is_int = 0;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        if (!digits(p)) return fail_unexpected(p, "in exponent");
    }
    /* strtod needs a NUL-terminated copy; the unused tail of the string arena always has room
     * (its free space is at least the unparsed input plus one byte, see the top comment). */
    size_t n_chars = p->pos - start;
    char *scratch = p->doc->strings + p->doc->str_used;
    memcpy(scratch, p->s + start, n_chars);
    scratch[n_chars] = '\0';
    errno = 0;
    n->number = strtod(scratch, NULL);
    if (errno == ERANGE && isinf(n->number)) return fail_at(p, start, "number out of range");
    n->is_int = is_int && to_int64(p->s + start, n_chars, &n->integer);
    return 0;
}

static int literal(parser *p, const char *word)
{
    size_t k = strlen(word);
    if (p->len - p->pos < k || memcmp(p->s + p->pos, word, k) != 0) return fail_unexpected(p, "(expected a value)");
    p->pos += k;
    return 0;
}

/* ---- values ------------------------------------------------------------------------------ */

static ganc_json *parse_value(parser *p, int depth);

static int cmp_members(const void *a, const void *b)
{
    const ganc_json *x = *(const ganc_json *const *)a, *y = *(const ganc_json *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sorting the members (O(n log n)) keeps a hostile object with many keys cheap to check. */
static int check_duplicate_keys(parser *p, const ganc_json *obj)
{
    if (obj->count < 2) return 0;
    const ganc_json **m = malloc(obj->count * sizeof *m);
    if (!m) return fail_at(p, obj->offset - p->base, "out of memory");
    size_t i = 0;
    for (const ganc_json *c = obj->child; c; c = c->next) m[i++] = c;
    qsort(m, obj->count, sizeof *m, cmp_members);
    for (i = 1; i < obj->count; i++) {
        if (m[i]->key_len == m[i - 1]->key_len && memcmp(m[i]->key, m[i - 1]->key, m[i]->key_len) == 0) {
            char ex[GANC_JSON_EXCERPT];
            size_t at = m[i]->offset - p->base;
            ganc_json_excerpt(ex, m[i]->key, m[i]->key_len);
            free(m);
            return fail_at(p, at, "duplicate key \"%s\"", ex);
        }
    }
    free(m);
    return 0;
}

/* Parses the elements (members when obj) after '[' ('{') up to the closing bracket. */
static int parse_container(parser *p, ganc_json *c, int obj, int depth)
{
    const char close = obj ? '}' : ']';
    ganc_json *tail = NULL;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        if (obj) {
            if (p->pos >= p->len || p->s[p->pos] != '"') return fail_unexpected(p, "(expected a string key)");
            if (parse_string(p, &key, &key_len) < 0) return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') return fail_unexpected(p, "(expected ':')");
            p->pos++;
            skip_ws(p);
        }
        ganc_json *v = parse_value(p, depth + 1);
        if (!v) return -1;
        v->key = key;
        v->key_len = key_len;
        if (tail) {
            tail->next = v;
        } else {
            c->child = v;
        }
        tail = v;
        c->count++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == close) break;
        if (p->pos >= p->len || p->s[p->pos] != ',')
            return fail_unexpected(p, obj ? "(expected ',' or '}')" : "(expected ',' or ']')");
        p->pos++;
        skip_ws(p);
    }
    p->pos++;
    return obj ? check_duplicate_keys(p, c) : 0;
}

/* p->pos is at the value's first byte (whitespace already skipped). */
static ganc_json *parse_value(parser *p, int depth)
{
    if (p->pos >= p->len) {
        fail_unexpected(p, "(expected a value)");
        return NULL;
    }
    unsigned char c = p->s[p->pos];
    size_t at = p->pos;
    int rc;
    ganc_json *n;
    if (c == '{' || c == '[') {
        if (depth >= GANC_JSON_MAX_DEPTH) {
            fail_at(p, at, "nesting deeper than %d levels", GANC_JSON_MAX_DEPTH);
            return NULL;
        }
        if (!(n = new_node(p, c == '{' ? GANC_JSON_OBJECT : GANC_JSON_ARRAY, at))) return NULL;
        rc = parse_container(p, n, c == '{', depth);
    } else if (c == '"') {
        if (!(n = new_node(p, GANC_JSON_STRING, at))) return NULL;
        rc = parse_string(p, &n->str, &n->len);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!(n = new_node(p, GANC_JSON_NUMBER, at))) return NULL;
        rc = parse_number(p, n);
    } else if (c == 't' || c == 'f') {
        if (!(n = new_node(p, GANC_JSON_BOOL, at))) return NULL;
        n->boolean = c == 't';
        rc = literal(p, c == 't' ? "true" : "false");
    } else if (c == 'n') {
        if (!(n = new_node(p, GANC_JSON_NULL, at))) return NULL;
        rc = literal(p, "null");
    } else {
        fail_unexpected(p, "(expected a value)");
        return NULL;
    }
    return rc < 0 ? NULL : n;
}

/* ---- entry points ------------------------------------------------------------------------ */

int ganc_json_parse_prefix(const char *text, size_t len, size_t base, ganc_json_doc **doc, size_t *end,
                           char err[GANC_ERR_LEN])
{
    *doc = NULL;
    if (len > SIZE_MAX / 2) return ganc_fail(err, "JSON: text of %zu bytes is too long", len); /* len + 1 below */
    ganc_json_doc *d = calloc(1, sizeof *d);
    if (d) d->strings = malloc(len + 1);
    if (!d || !d->strings) {
        ganc_json_free(d);
        return ganc_fail(err, "JSON: out of memory for %zu bytes of text", len);
    }
    d->str_cap = len + 1;
    parser p = {(const unsigned char *)text, len, 0, base, d, err};
    skip_ws(&p);
    d->root = parse_value(&p, 0);
    if (!d->root) {
        ganc_json_free(d);
        return -1;
    }
    *end = p.pos;
    *doc = d;
    return 0;
}

int ganc_json_parse(const char *text, size_t len, size_t base, ganc_json_doc **doc, char err[GANC_ERR_LEN])
{
    size_t end;
    if (ganc_json_parse_prefix(text, len, base, doc, &end, err) < 0) return -1;
    parser p = {(const unsigned char *)text, len, end, base, *doc, err};
    skip_ws(&p);
    if (p.pos < len) {
        ganc_json_free(*doc);
        *doc = NULL;
        return fail_unexpected(&p, "after the value");
    }
    return 0;
}

const ganc_json *ganc_json_root(const ganc_json_doc *doc) { return doc ? doc->root : NULL; }

const ganc_json *ganc_json_get(const ganc_json *v, const char *key)
{
    if (!v || v->type != GANC_JSON_OBJECT) return NULL;
    size_t k = strlen(key);
    for (const ganc_json *c = v->child; c; c = c->next)
        if (c->key_len == k && memcmp(c->key, key, k) == 0) return c;
    return NULL;
}

const ganc_json *ganc_json_at(const ganc_json *v, size_t i)
{
    if (!v || v->type != GANC_JSON_ARRAY || i >= v->count) return NULL;
    const ganc_json *c = v->child;
    while (i--) c = c->next;
    return c;
}

const char *ganc_json_type_name(ganc_json_type t)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* ---- writing ----------------------------------------------------------------------------- */

size_t ganc_json_escape(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (out) out[o] = '"';
    o++;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char two = c == '"' ? '"' : c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r'
                 : c == '\b' ? 'b' : c == '\f' ? 'f' : 0;
        if (two) {
            if (out) out[o] = '\\', out[o + 1] = two;
            o += 2;
        } else if (c < 0x20) {
            if (out) memcpy(out + o, "\\u00", 4), out[o + 4] = hex[c >> 4], out[o + 5] = hex[c & 15];
            o += 6;
        } else {
            if (out) out[o] = (char)c;
            o++;
        }
    }
    if (out) out[o] = '"';
    return o + 1;
}
