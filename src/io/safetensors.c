/* safetensors reader and writer (format: https://huggingface.co/docs/safetensors).
 *
 * Writer: tensors go in the order given, the header JSON is padded with spaces so the data
 * section starts at a multiple of 8 bytes, and the file is replaced atomically by
 * ganc_io_write_atomic (a temp file beside PATH, fsync, rename, fsync of the directory), so a crash or a full
 * disk never leaves a torn checkpoint behind.
 *
 * Reader: the file is untrusted (it will be fuzzed), so nothing is allocated from a number
 * read out of it before that number has been checked against the file's real size, and
 * every rule of the format is enforced: header length within the file and at most 100 MB
 * (the reference implementation's limit), a header that is one JSON object starting with
 * '{' padded only by spaces, known dtypes, 0..4 non-negative dimensions whose byte size
 * matches the offsets without overflow, and tensors that tile the data section exactly (no
 * overlaps, no holes, nothing left over).
 *
 * Alignment: ganc_st_file.buf comes from malloc, and our writer aligns the data section to
 * 8 bytes, but files from other writers may not be aligned (and a U8 tensor of odd size
 * shifts every tensor after it). A tensor's `data` may therefore be misaligned for its dtype:
 * callers must memcpy out of it, never cast it to float* or int64_t* and dereference.
 *
 * Byte order: files are little-endian. On a big-endian host the writer writes swapped copies
 * of the tensors and the reader swaps the loaded buffer in place, so `data` is always in host
 * order. */
#include "io/safetensors.h"

#include "ganc_internal.h"
#include "io/atomic.h"
#include "io/json.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_BYTES ((uint64_t)16 << 30)
#define MAX_HEADER_BYTES ((uint64_t)100000000)
#define META_KEY "__metadata__"

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {[GANC_ST_F32] = {"F32", 4}, [GANC_ST_I64] = {"I64", 8}, [GANC_ST_U8] = {"U8", 1}};
#define N_DTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

static int host_is_le(void)
{
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* Reverses each `size`-byte element of p[0, n) (n a multiple of size). */
static void swap_elements(uint8_t *p, size_t n, size_t size)
{
    for (size_t i = 0; i + size <= n; i += size)
        for (size_t a = i, b = i + size - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* Element count * dtype size of a shape, or -1 on overflow (dims already non-negative). */
static int shape_bytes(const int64_t *dims, int ndim, size_t esize, uint64_t *bytes)
{
    for (int i = 0; i < ndim; i++)
        if (dims[i] == 0) return *bytes = 0, 0; /* zero elements, however large the rest */
    uint64_t n = esize;
    for (int i = 0; i < ndim; i++) {
        if ((uint64_t)dims[i] > UINT64_MAX / n) return -1;
        n *= (uint64_t)dims[i];
    }
    *bytes = n;
    return 0;
}

/* ==== writer ================================================================================ */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_cstr(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_json_string(sbuf *b, const char *s)
{
    size_t n = strlen(s), need = ganc_json_escape(NULL, s, n);
    char small[256];
    char *tmp = need <= sizeof small ? small : malloc(need);
    if (!tmp) {
        b->oom = 1;
        return;
    }
    ganc_json_escape(tmp, s, n);
    sb_put(b, tmp, need);
    if (tmp != small) free(tmp);
}

static void sb_u64(sbuf *b, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    sb_cstr(b, s);
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Rejects repeated strings among names[0, n) (a JSON object cannot hold a key twice). */
static int check_unique(const char *path, const char **names, int n, const char *what, char err[GANC_ERR_LEN])
{
    qsort(names, (size_t)n, sizeof *names, cmp_str_ptr);
    for (int i = 1; i < n; i++) {
        if (strcmp(names[i], names[i - 1]) == 0) {
            char ex[GANC_JSON_EXCERPT];
            return ganc_fail(err, "%s: duplicate %s \"%s\"", path, what,
                             ganc_json_excerpt(ex, names[i], strlen(names[i])));
        }
    }
    return 0;
}

static int check_write_tensor(const char *path, const ganc_st_tensor *t, int i, char err[GANC_ERR_LEN])
{
    if (!memchr(t->name, '\0', sizeof t->name)) return ganc_fail(err, "%s: tensor %d: name not NUL-terminated", path, i);
    char ex[GANC_JSON_EXCERPT];
    const char *nm = ganc_json_excerpt(ex, t->name, strlen(t->name));
    if (strcmp(t->name, META_KEY) == 0 || !ganc_json_utf8_valid(t->name, strlen(t->name)))
        return ganc_fail(err, "%s: tensor %d: invalid name \"%s\"", path, i, nm);
    if ((int)t->dtype < 0 || (int)t->dtype >= N_DTYPES)
        return ganc_fail(err, "%s: tensor \"%s\": unknown dtype %d", path, nm, (int)t->dtype);
    if (t->ndim < 0 || t->ndim > 4) return ganc_fail(err, "%s: tensor \"%s\": ndim %d not in 0..4", path, nm, t->ndim);
    for (int d = 0; d < t->ndim; d++)
        if (t->dims[d] < 0) return ganc_fail(err, "%s: tensor \"%s\": negative dimension", path, nm);
    uint64_t bytes;
    if (shape_bytes(t->dims, t->ndim, dtypes[t->dtype].size, &bytes) < 0 || bytes != (uint64_t)t->nbytes)
        return ganc_fail(err, "%s: tensor \"%s\": nbytes %zu does not match its dtype and shape", path, nm, t->nbytes);
    if (t->nbytes && !t->data) return ganc_fail(err, "%s: tensor \"%s\": no data", path, nm);
    return 0;
}

static int check_write_meta(const char *path, const ganc_st_meta *m, char err[GANC_ERR_LEN])
{
    if (!memchr(m->key, '\0', sizeof m->key)) return ganc_fail(err, "%s: metadata key not NUL-terminated", path);
    char ex[GANC_JSON_EXCERPT];
    const char *k = ganc_json_excerpt(ex, m->key, strlen(m->key));
    if (!ganc_json_utf8_valid(m->key, strlen(m->key))) return ganc_fail(err, "%s: metadata key \"%s\": not UTF-8", path, k);
    if (!m->value) return ganc_fail(err, "%s: metadata \"%s\": no value", path, k);
    if (!ganc_json_utf8_valid(m->value, strlen(m->value)))
        return ganc_fail(err, "%s: metadata \"%s\": value is not valid UTF-8", path, k);
    return 0;
}

static int check_write_args(const char *path, const ganc_st_tensor *t, int n, const ganc_st_meta *meta, int n_meta,
                            char err[GANC_ERR_LEN])
{
    if (n < 0 || n_meta < 0 || (n && !t) || (n_meta && !meta))
        return ganc_fail(err, "%s: bad tensor or metadata list", path);
    for (int i = 0; i < n; i++)
        if (check_write_tensor(path, &t[i], i, err) < 0) return -1;
    for (int i = 0; i < n_meta; i++)
        if (check_write_meta(path, &meta[i], err) < 0) return -1;
    int most = n > n_meta ? n : n_meta;
    const char **names = malloc((size_t)(most ? most : 1) * sizeof *names);
    if (!names) return ganc_fail(err, "%s: out of memory", path);
    int rc = 0;
    for (int i = 0; i < n; i++) names[i] = t[i].name;
    rc = check_unique(path, names, n, "tensor name", err);
    for (int i = 0; i < n_meta && rc == 0; i++) names[i] = meta[i].key;
    if (rc == 0) rc = check_unique(path, names, n_meta, "metadata key", err);
    free(names);
    return rc;
}

/* The header JSON, space-padded so that 8 + its length is a multiple of 8. */
static int build_header(const char *path, const ganc_st_tensor *t, int n, const ganc_st_meta *meta, int n_meta,
                        sbuf *h, char err[GANC_ERR_LEN])
{
    sb_cstr(h, "{");
    if (n_meta) {
        sb_cstr(h, "\"" META_KEY "\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) sb_cstr(h, ",");
            sb_json_string(h, meta[i].key);
            sb_cstr(h, ":");
            sb_json_string(h, meta[i].value);
        }
        sb_cstr(h, "}");
    }
    uint64_t offset = 0;
    for (int i = 0; i < n; i++) {
        if (i || n_meta) sb_cstr(h, ",");
        sb_json_string(h, t[i].name);
        sb_cstr(h, ":{\"dtype\":\"");
        sb_cstr(h, dtypes[t[i].dtype].name);
        sb_cstr(h, "\",\"shape\":[");
        for (int d = 0; d < t[i].ndim; d++) {
            if (d) sb_cstr(h, ",");
            sb_u64(h, (uint64_t)t[i].dims[d]);
        }
        sb_cstr(h, "],\"data_offsets\":[");
        sb_u64(h, offset);
        sb_cstr(h, ",");
        if (t[i].nbytes > UINT64_MAX - offset) return ganc_fail(err, "%s: tensors too large", path);
        offset += t[i].nbytes;
        sb_u64(h, offset);
        sb_cstr(h, "]}");
    }
    sb_cstr(h, "}");
    while ((8 + h->len) % 8) sb_cstr(h, " ");
    if (h->oom) return ganc_fail(err, "%s: out of memory building the header", path);
    if (h->len > MAX_HEADER_BYTES) return ganc_fail(err, "%s: header of %zu bytes exceeds the 100 MB limit", path, h->len);
    return 0;
}

/* The file as parts for ganc_io_write_atomic: the 8-byte little-endian header length, the
 * header, then each tensor's bytes straight from the caller's memory (no copy) on a
 * little-endian host. On a big-endian host a tensor with multi-byte elements is written from a
 * byte-swapped copy (its pointer kept in copies[i], NULL otherwise, for the caller to free). */
static int make_parts(const char *path, const uint8_t len[8], const sbuf *h, const ganc_st_tensor *t, int n,
                      ganc_io_part *parts, uint8_t **copies, char err[GANC_ERR_LEN])
{
    parts[0] = (ganc_io_part){len, 8};
    parts[1] = (ganc_io_part){h->p, h->len};
    for (int i = 0; i < n; i++) {
        size_t es = dtypes[t[i].dtype].size;
        copies[i] = NULL;
        parts[2 + i] = (ganc_io_part){t[i].data, t[i].nbytes};
        if (es == 1 || t[i].nbytes == 0 || host_is_le()) continue;
        if (!(copies[i] = malloc(t[i].nbytes))) return ganc_fail(err, "%s: out of memory", path);
        memcpy(copies[i], t[i].data, t[i].nbytes);
        swap_elements(copies[i], t[i].nbytes, es);
        parts[2 + i].data = copies[i];
    }
    return 0;
}

int ganc_st_write(const char *path, const ganc_st_tensor *t, int n_tensors, const ganc_st_meta *meta, int n_meta,
                  char err[GANC_ERR_LEN])
{
    if (check_write_args(path, t, n_tensors, meta, n_meta, err) < 0) return -1;
    if (n_tensors > INT_MAX - 2) return ganc_fail(err, "%s: too many tensors", path);
    sbuf h = {0};
    if (build_header(path, t, n_tensors, meta, n_meta, &h, err) < 0) {
        free(h.p);
        return -1;
    }
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
    ganc_io_part *parts = malloc((size_t)(n_tensors + 2) * sizeof *parts);
    uint8_t **copies = calloc((size_t)(n_tensors ? n_tensors : 1), sizeof *copies);
    int rc = parts && copies ? make_parts(path, len, &h, t, n_tensors, parts, copies, err)
                             : ganc_fail(err, "%s: out of memory", path);
    if (rc == 0) rc = ganc_io_write_atomic(path, parts, n_tensors + 2, "checkpoint", err);
    for (int i = 0; copies && i < n_tensors; i++) free(copies[i]);
    free(copies);
    free(parts);
    free(h.p);
    return rc;
}

/* ==== reader ================================================================================ */

/* The whole file into f->buf, its size checked before anything is allocated. */
static int load_file(const char *path, ganc_st_file *f, char err[GANC_ERR_LEN])
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return ganc_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fileno(fp), &st) != 0) {
        rc = ganc_fail(err, "%s: cannot stat: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = ganc_fail(err, "%s: not a regular file", path);
    } else if (st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE_BYTES || (uint64_t)st.st_size > SIZE_MAX) {
        rc = ganc_fail(err, "%s: file of %lld bytes exceeds the 16 GiB limit", path, (long long)st.st_size);
    } else {
        f->size = (size_t)st.st_size;
        f->buf = malloc(f->size ? f->size : 1);
        if (!f->buf) {
            rc = ganc_fail(err, "%s: cannot allocate %zu bytes", path, f->size);
        } else {
            size_t got = fread(f->buf, 1, f->size, fp);
            if (got != f->size)
                rc = ferror(fp) ? ganc_fail(err, "%s: read error: %s", path, strerror(errno))
                                : ganc_fail(err, "%s: file shrank while reading (%zu of %zu bytes)", path, got, f->size);
        }
    }
    fclose(fp);
    return rc;
}

/* Parses the header into *doc; *data_start is where the data section begins. */
static int parse_header(const char *path, const ganc_st_file *f, ganc_json_doc **doc, size_t *data_start,
                        char err[GANC_ERR_LEN])
{
    if (f->size < 8)
        return ganc_fail(err, "%s: truncated file: %zu bytes, too short for the 8-byte header length, at byte 0", path,
                         f->size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | f->buf[i];
    if (n > f->size - 8)
        return ganc_fail(err, "%s: header length %llu exceeds the %zu bytes after it (truncated file?), at byte 0",
                         path, (unsigned long long)n, f->size - 8);
    if (n > MAX_HEADER_BYTES)
        return ganc_fail(err, "%s: header length %llu exceeds the 100 MB limit, at byte 0", path, (unsigned long long)n);
    if (n == 0 || f->buf[8] != '{') return ganc_fail(err, "%s: header does not start with '{', at byte 8", path);
    char jerr[GANC_ERR_LEN];
    size_t end;
    if (ganc_json_parse_prefix((const char *)f->buf + 8, (size_t)n, 8, doc, &end, jerr) < 0)
        return ganc_fail(err, "%s: header: %s", path, jerr);
    for (size_t i = end; i < n; i++)
        if (f->buf[8 + i] != ' ')
            return ganc_fail(err, "%s: header: unexpected byte 0x%02x after the JSON (only spaces may pad it), at byte %zu",
                             path, f->buf[8 + i], 8 + i);
    *data_start = 8 + (size_t)n;
    return 0;
}

/* Where one tensor's bytes lie in the data section, for the tiling check. */
typedef struct {
    uint64_t begin, end;
    size_t at; /* file offset of its data_offsets, for messages */
    const char *name;
} span;

/* A JSON number that is a non-negative integer. */
static int json_uint(const ganc_json *v, uint64_t *out)
{
    if (!v || v->type != GANC_JSON_NUMBER || !v->is_int || v->integer < 0) return -1;
    *out = (uint64_t)v->integer;
    return 0;
}

static int read_dtype(const char *path, const char *nm, const ganc_json *v, ganc_st_tensor *t, char err[GANC_ERR_LEN])
{
    char ex[GANC_JSON_EXCERPT];
    if (v->type != GANC_JSON_STRING)
        return ganc_fail(err, "%s: tensor \"%s\": dtype must be a string, got %s, at byte %zu", path, nm,
                         ganc_json_type_name(v->type), v->offset);
    for (int d = 0; d < N_DTYPES; d++) {
        if (v->len == strlen(dtypes[d].name) && memcmp(v->str, dtypes[d].name, v->len) == 0) {
            t->dtype = (ganc_st_dtype)d;
            return 0;
        }
    }
    return ganc_fail(err, "%s: tensor \"%s\": unsupported dtype \"%s\" (ganc reads F32, I64, U8), at byte %zu", path,
                     nm, ganc_json_excerpt(ex, v->str, v->len), v->offset);
}

static int read_shape(const char *path, const char *nm, const ganc_json *v, ganc_st_tensor *t, char err[GANC_ERR_LEN])
{
    if (v->type != GANC_JSON_ARRAY || v->count > 4)
        return ganc_fail(err, "%s: tensor \"%s\": shape must be an array of 0 to 4 dimensions, at byte %zu", path, nm,
                         v->offset);
    t->ndim = (int)v->count;
    int d = 0;
    for (const ganc_json *c = v->child; c; c = c->next, d++) {
        uint64_t x;
        if (json_uint(c, &x) < 0)
            return ganc_fail(err, "%s: tensor \"%s\": dimension %d is not a non-negative integer, at byte %zu", path,
                             nm, d, c->offset);
        t->dims[d] = (int64_t)x;
    }
    return 0;
}

static int read_offsets(const char *path, const char *nm, const ganc_json *v, uint64_t data_size, span *s,
                        char err[GANC_ERR_LEN])
{
    s->at = v->offset;
    if (v->type != GANC_JSON_ARRAY || v->count != 2 || json_uint(v->child, &s->begin) < 0 ||
        json_uint(v->child->next, &s->end) < 0)
        return ganc_fail(err, "%s: tensor \"%s\": data_offsets must be [begin, end] (non-negative integers), at byte %zu",
                         path, nm, v->offset);
    if (s->begin > s->end || s->end > data_size)
        return ganc_fail(err,
                         "%s: tensor \"%s\": data_offsets [%llu, %llu] out of range: the data section has %llu bytes, "
                         "at byte %zu",
                         path, nm, (unsigned long long)s->begin, (unsigned long long)s->end,
                         (unsigned long long)data_size, v->offset);
    return 0;
}

/* Finds the three fields of a tensor entry, rejecting anything else. */
static int entry_fields(const char *path, const char *nm, const ganc_json *v, const ganc_json *field[3],
                        char err[GANC_ERR_LEN])
{
    static const char *const names[3] = {"dtype", "shape", "data_offsets"};
    char ex[GANC_JSON_EXCERPT];
    if (v->type != GANC_JSON_OBJECT)
        return ganc_fail(err, "%s: tensor \"%s\": expected an object, got %s, at byte %zu", path, nm,
                         ganc_json_type_name(v->type), v->offset);
    field[0] = field[1] = field[2] = NULL;
    for (const ganc_json *c = v->child; c; c = c->next) {
        int k = 0;
        while (k < 3 && !(c->key_len == strlen(names[k]) && memcmp(c->key, names[k], c->key_len) == 0)) k++;
        if (k == 3)
            return ganc_fail(err, "%s: tensor \"%s\": unknown field \"%s\", at byte %zu", path, nm,
                             ganc_json_excerpt(ex, c->key, c->key_len), c->offset);
        field[k] = c; /* the JSON parser already rejected repeated keys */
    }
    for (int k = 0; k < 3; k++)
        if (!field[k])
            return ganc_fail(err, "%s: tensor \"%s\": missing \"%s\", at byte %zu", path, nm, names[k], v->offset);
    return 0;
}

static int read_tensor(const char *path, const ganc_json *m, uint64_t data_size, ganc_st_tensor *t, span *s,
                       char err[GANC_ERR_LEN])
{
    char nm[GANC_JSON_EXCERPT];
    ganc_json_excerpt(nm, m->key, m->key_len);
    if (m->key_len >= sizeof t->name)
        return ganc_fail(err, "%s: tensor \"%s\": name longer than %zu bytes, at byte %zu", path, nm, sizeof t->name - 1,
                         m->offset);
    if (memchr(m->key, '\0', m->key_len))
        return ganc_fail(err, "%s: tensor \"%s\": name holds a NUL character, at byte %zu", path, nm, m->offset);
    memcpy(t->name, m->key, m->key_len + 1);
    s->name = t->name;
    const ganc_json *field[3];
    if (entry_fields(path, nm, m, field, err) < 0 || read_dtype(path, nm, field[0], t, err) < 0 ||
        read_shape(path, nm, field[1], t, err) < 0 || read_offsets(path, nm, field[2], data_size, s, err) < 0)
        return -1;
    uint64_t bytes;
    if (shape_bytes(t->dims, t->ndim, dtypes[t->dtype].size, &bytes) < 0)
        return ganc_fail(err, "%s: tensor \"%s\": shape too large (element count overflows), at byte %zu", path, nm,
                         field[1]->offset);
    if (bytes != s->end - s->begin)
        return ganc_fail(err,
                         "%s: tensor \"%s\": data_offsets [%llu, %llu] hold %llu bytes but dtype and shape need %llu, "
                         "at byte %zu",
                         path, nm, (unsigned long long)s->begin, (unsigned long long)s->end,
                         (unsigned long long)(s->end - s->begin), (unsigned long long)bytes, s->at);
    t->nbytes = (size_t)bytes;
    return 0;
}

static int read_meta(const char *path, const ganc_json *v, ganc_st_file *f, char err[GANC_ERR_LEN])
{
    char ex[GANC_JSON_EXCERPT];
    if (v->type != GANC_JSON_OBJECT)
        return ganc_fail(err, "%s: " META_KEY " must be an object, got %s, at byte %zu", path,
                         ganc_json_type_name(v->type), v->offset);
    if (v->count > INT_MAX) return ganc_fail(err, "%s: too many metadata entries", path);
    f->meta = calloc(v->count ? v->count : 1, sizeof *f->meta);
    if (!f->meta) return ganc_fail(err, "%s: out of memory", path);
    for (const ganc_json *c = v->child; c; c = c->next) {
        ganc_st_meta *m = &f->meta[f->n_meta];
        ganc_json_excerpt(ex, c->key, c->key_len);
        if (c->key_len >= sizeof m->key)
            return ganc_fail(err, "%s: " META_KEY " key \"%s\" longer than %zu bytes, at byte %zu", path, ex,
                             sizeof m->key - 1, c->offset);
        if (memchr(c->key, '\0', c->key_len))
            return ganc_fail(err, "%s: " META_KEY " key \"%s\" holds a NUL character, at byte %zu", path, ex, c->offset);
        if (c->type != GANC_JSON_STRING || memchr(c->str, '\0', c->len))
            return ganc_fail(err, "%s: " META_KEY " \"%s\": value must be a string (without NUL), got %s, at byte %zu",
                             path, ex, ganc_json_type_name(c->type), c->offset);
        if (!(m->value = malloc(c->len + 1))) return ganc_fail(err, "%s: out of memory", path);
        memcpy(m->value, c->str, c->len + 1);
        memcpy(m->key, c->key, c->key_len + 1);
        f->n_meta++;
    }
    return 0;
}

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* The format requires the tensors to tile the data section: sorted by offset, each starts
 * where the previous one ended, and the last ends at the end of the file. */
static int check_tiling(const char *path, span *s, int n, uint64_t data_size, char err[GANC_ERR_LEN])
{
    char ex[GANC_JSON_EXCERPT];
    qsort(s, (size_t)n, sizeof *s, cmp_span);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        ganc_json_excerpt(ex, s[i].name, strlen(s[i].name));
        if (s[i].begin < at) {
            char prev[GANC_JSON_EXCERPT];
            ganc_json_excerpt(prev, s[i - 1].name, strlen(s[i - 1].name));
            return ganc_fail(err, "%s: tensor \"%s\": data [%llu, %llu] overlaps tensor \"%s\", at byte %zu", path, ex,
                             (unsigned long long)s[i].begin, (unsigned long long)s[i].end, prev, s[i].at);
        }
        if (s[i].begin > at)
            return ganc_fail(err, "%s: tensor \"%s\": %llu unused bytes before its data (holes are not allowed), at byte %zu",
                             path, ex, (unsigned long long)(s[i].begin - at), s[i].at);
        at = s[i].end;
    }
    if (at != data_size)
        return ganc_fail(err, "%s: the data section has %llu bytes but the tensors cover %llu", path,
                         (unsigned long long)data_size, (unsigned long long)at);
    return 0;
}

static int read_entries(const char *path, const ganc_json *root, size_t data_start, ganc_st_file *f,
                        char err[GANC_ERR_LEN])
{
    const ganc_json *meta = ganc_json_get(root, META_KEY);
    size_t n = root->count - (meta ? 1 : 0);
    if (n > INT_MAX) return ganc_fail(err, "%s: too many tensors", path);
    uint64_t data_size = f->size - data_start;
    f->tensors = calloc(n ? n : 1, sizeof *f->tensors);
    span *spans = calloc(n ? n : 1, sizeof *spans);
    int rc = f->tensors && spans ? 0 : ganc_fail(err, "%s: out of memory", path);
    for (const ganc_json *c = root->child; c && rc == 0; c = c->next) {
        if (c == meta) continue;
        ganc_st_tensor *t = &f->tensors[f->n_tensors];
        rc = read_tensor(path, c, data_size, t, &spans[f->n_tensors], err);
        if (rc == 0) {
            t->data = f->buf + data_start + spans[f->n_tensors].begin;
            f->n_tensors++;
        }
    }
    if (rc == 0) rc = check_tiling(path, spans, f->n_tensors, data_size, err);
    if (rc == 0 && meta) rc = read_meta(path, meta, f, err);
    free(spans);
    return rc;
}

int ganc_st_read(const char *path, ganc_st_file *f, char err[GANC_ERR_LEN])
{
    memset(f, 0, sizeof *f);
    ganc_json_doc *doc = NULL;
    size_t data_start = 0;
    int rc = load_file(path, f, err);
    if (rc == 0) rc = parse_header(path, f, &doc, &data_start, err);
    if (rc == 0) rc = read_entries(path, ganc_json_root(doc), data_start, f, err);
    ganc_json_free(doc);
    if (rc < 0) {
        ganc_st_free(f);
        return -1;
    }
    if (!host_is_le())
        for (int i = 0; i < f->n_tensors; i++)
            swap_elements((uint8_t *)f->tensors[i].data, f->tensors[i].nbytes, dtypes[f->tensors[i].dtype].size);
    return 0;
}

const ganc_st_tensor *ganc_st_find(const ganc_st_file *f, const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *ganc_st_meta_get(const ganc_st_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value;
    return NULL;
}

void ganc_st_free(ganc_st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->n_meta; i++) free(f->meta[i].value);
    free(f->meta);
    free(f->tensors);
    free(f->buf);
    memset(f, 0, sizeof *f);
}
