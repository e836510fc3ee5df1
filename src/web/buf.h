/* A growing byte buffer for the pages and JSON the dashboard sends or writes: append text,
 * formatted text, a JSON string, or bytes as base64. Out of memory sticks (failed = 1) and
 * later appends do nothing, so that a caller checks once at the end. */
#ifndef GANC_WEB_BUF_H
#define GANC_WEB_BUF_H

#include <stddef.h>

typedef struct {
    char *data; /* malloc'ed, NUL-terminated while not failed */
    size_t len, cap;
    int failed;
} web_buf;

void web_buf_add(web_buf *b, const void *p, size_t n);
void web_buf_str(web_buf *b, const char *s);
void web_buf_printf(web_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s[0, n) as a quoted JSON string that is also safe inside an HTML <script> element: '<', '>'
 * and '&' are written as \u003c..., control characters escaped, bytes of broken UTF-8 as '?'. */
void web_buf_json(web_buf *b, const char *s, size_t n);
void web_buf_base64(web_buf *b, const unsigned char *p, size_t n);
/* Hands the data over (the caller frees it) and empties b; NULL when an append failed. */
char *web_buf_take(web_buf *b, size_t *len);
void web_buf_free(web_buf *b);

#endif
