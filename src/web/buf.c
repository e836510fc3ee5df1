/* The dashboard's byte buffer (see buf.h). */
#include "web/buf.h"
#include "io/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(web_buf *b, size_t more)
{
    if (b->failed) return -1;
    if (more > ((size_t)-1) / 2 - b->len) {
        b->failed = 1;
        return -1;
    }
    if (b->len + more + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = 1;
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

void web_buf_add(web_buf *b, const void *p, size_t n)
{
    if (reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void web_buf_str(web_buf *b, const char *s) { web_buf_add(b, s, strlen(s)); }

void web_buf_printf(web_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n)) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the well-formed UTF-8 character at s[0, n), 0 when it is not one. */
static size_t utf8_char(const char *s, size_t n)
{
    const unsigned char c = (unsigned char)s[0];
    const size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    return len && len <= n && ganc_json_utf8_valid(s, len) ? len : 0;
}

void web_buf_json(web_buf *b, const char *s, size_t n)
{
    web_buf_add(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        const unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            const char esc[2] = {'\\', (char)c};
            web_buf_add(b, esc, 2);
        } else if (c == '\n') {
            web_buf_add(b, "\\n", 2);
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            web_buf_printf(b, "\\u%04x", c);
        } else if (c >= 0x80) {
            const size_t len = utf8_char(s + i, n - i);
            web_buf_add(b, len ? s + i : "?", len ? len : 1);
            i += len ? len : 1;
            continue;
        } else {
            web_buf_add(b, s + i, 1);
        }
        i++;
    }
    web_buf_add(b, "\"", 1);
}

void web_buf_base64(web_buf *b, const unsigned char *p, size_t n)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (reserve(b, (n + 2) / 3 * 4)) return;
    char *o = b->data + b->len;
    for (size_t i = 0; i < n; i += 3) {
        const unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *o++ = digits[v >> 18 & 63];
        *o++ = digits[v >> 12 & 63];
        *o++ = i + 1 < n ? digits[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? digits[v & 63] : '=';
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = 0;
}

char *web_buf_take(web_buf *b, size_t *len)
{
    char *d = b->failed ? NULL : b->data;
    if (!d && !b->failed) d = calloc(1, 1); /* empty but not failed: "" */
    if (len) *len = d ? b->len : 0;
    if (!d) free(b->data);
    memset(b, 0, sizeof *b);
    return d;
}

void web_buf_free(web_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
