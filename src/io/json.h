/* A small, strict JSON (RFC 8259) parser into a read-only tree, plus string escaping.
 *
 * Strict because its inputs come from files that may be damaged or hostile (checkpoint
 * headers, model metadata): the text must be valid UTF-8, strings may not hold raw control
 * characters, numbers follow the JSON grammar exactly, nesting is limited to
 * GANC_JSON_MAX_DEPTH, and an object may not repeat a key. Every error says what was wrong
 * and at which byte. Memory is proportional to the input, never to a number read from it:
 * len + 1 bytes for the decoded strings plus one node (64 bytes on LP64) per value, so at
 * worst about 32 times the input for a text like "[0,0,0,...]".
 *
 * Numbers are converted with strtod, which assumes the C locale's decimal point (ganc never
 * calls setlocale). */
#ifndef GANC_JSON_H
#define GANC_JSON_H

#include "ganc.h"

#define GANC_JSON_MAX_DEPTH 64 /* nested arrays/objects; bounds the parser's recursion */

typedef enum {
    GANC_JSON_NULL,
    GANC_JSON_BOOL,
    GANC_JSON_NUMBER,
    GANC_JSON_STRING,
    GANC_JSON_ARRAY,
    GANC_JSON_OBJECT
} ganc_json_type;

typedef struct ganc_json ganc_json;
struct ganc_json {
    ganc_json_type type;
    int boolean;        /* GANC_JSON_BOOL: 0 or 1 */
    int is_int;         /* GANC_JSON_NUMBER written without fraction or exponent that fits int64 */
    size_t offset;      /* byte offset of the value's first character (plus the parse's base) */
    const char *key;    /* member of an object: its key, NUL-terminated UTF-8; else NULL */
    size_t key_len;     /* bytes, without the NUL (a key may hold "\u0000") */
    const ganc_json *next; /* next element or member of the same container; NULL at the end */
    union {
        struct {        /* GANC_JSON_NUMBER */
            double number;
            int64_t integer; /* valid when is_int */
        };
        struct {        /* GANC_JSON_STRING: decoded, NUL-terminated UTF-8 */
            const char *str;
            size_t len; /* bytes, without the NUL (a string may hold "\u0000") */
        };
        struct {        /* GANC_JSON_ARRAY, GANC_JSON_OBJECT: children in document order */
            const ganc_json *child;
            size_t count;
        };
    };
};

typedef struct ganc_json_doc ganc_json_doc; /* owns every node and string of one parse */

/* Parses text[0, len) (no NUL needed) as exactly one value with optional JSON whitespace
 * around it. `base` is added to every byte offset reported (node offsets and errors), so a
 * caller parsing part of a file can report file positions. Errors read
 * "JSON: <what>, at byte N". */
int ganc_json_parse(const char *text, size_t len, size_t base, ganc_json_doc **doc, char err[GANC_ERR_LEN]);

/* Like ganc_json_parse, but stops right after the first value (after optional leading
 * whitespace) without looking at what follows; *end is the offset just past the value,
 * relative to text (base not added). For formats that put their own bytes after the JSON. */
int ganc_json_parse_prefix(const char *text, size_t len, size_t base, ganc_json_doc **doc, size_t *end,
                           char err[GANC_ERR_LEN]);

const ganc_json *ganc_json_root(const ganc_json_doc *doc);
void ganc_json_free(ganc_json_doc *doc); /* NULL is fine */

/* Member `key` of an object (NULL when v is not an object or has no such member). */
const ganc_json *ganc_json_get(const ganc_json *v, const char *key);
/* Element i of an array (NULL when v is not an array or i >= count); O(i). */
const ganc_json *ganc_json_at(const ganc_json *v, size_t i);
const char *ganc_json_type_name(ganc_json_type t); /* "null", "boolean", "number", ... */

/* s[0, len) made fit for a one-line error message: control characters and bytes of broken
 * UTF-8 become '?', and a long text is cut (at a character boundary) with "...". */
#define GANC_JSON_EXCERPT 48
const char *ganc_json_excerpt(char out[GANC_JSON_EXCERPT], const char *s, size_t len);

/* 1 when s[0, len) is well-formed UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF), else 0. */
int ganc_json_utf8_valid(const char *s, size_t len);

/* Writes s[0, len) as a quoted JSON string into out (no NUL appended) and returns the number
 * of bytes written; with out == NULL only returns the number it would write. Quotes,
 * backslashes and control characters are escaped; other bytes are copied, so s should be
 * valid UTF-8 (check with ganc_json_utf8_valid) for the result to be valid JSON. */
size_t ganc_json_escape(char *out, const char *s, size_t len);

#endif
