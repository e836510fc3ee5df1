/* NPY arrays (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * "\x93NUMPY", major, minor, header length (u16 for 1.0, u32 for 2.0/3.0), a Python dict
 * literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, C, H, W), } padded with
 * spaces and a final '\n' so that the data starts at a multiple of 64, then the data.
 *
 * The reader trusts nothing: every length is checked against the file size before anything
 * is allocated, and every problem is one line "PATH: ..." (it is fuzzed). */
#include "ganc_internal.h"
#include "io/atomic.h"
#include "io/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_ALIGN 64
#define NPY_MAX_HEADER (1u << 20) /* numpy itself refuses headers over 10000 bytes by default */
#define NPY_MAX_DIMS 4

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void swap4(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++, p += 4) {
        uint8_t t = p[0];
        p[0] = p[3];
        p[3] = t;
        t = p[1];
        p[1] = p[2];
        p[2] = t;
    }
}

/* ---- writer ---------------------------------------------------------------------------- */

/* An array of 4-byte elements of type descr ('<f4', '<i4'), little-endian on disk. */
static int write_4byte(const char *path, const char *descr, const void *x, int ndim, const int *dims,
                       char err[GANC_ERR_LEN])
{
    const char *p = path && *path ? path : "(empty path)";
    if (ndim < 1 || ndim > NPY_MAX_DIMS) return ganc_fail(err, "%s: cannot write a %d-d array (1 to 4 dims)", p, ndim);
    if (!dims) return ganc_fail(err, "%s: no shape", p);
    uint64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0) return ganc_fail(err, "%s: negative dimension %d", p, dims[i]);
        count *= (uint64_t)dims[i];
        if (count > (uint64_t)SIZE_MAX / 8) return ganc_fail(err, "%s: array too large", p);
    }
    if (count && !x) return ganc_fail(err, "%s: no data", p);

    char shape[96];
    int k = snprintf(shape, sizeof shape, "(");
    for (int i = 0; i < ndim; i++)
        k += snprintf(shape + k, sizeof shape - (size_t)k, i ? ", %d" : "%d", dims[i]);
    snprintf(shape + k, sizeof shape - (size_t)k, ndim == 1 ? ",)" : ")");

    char hdr[256];
    memcpy(hdr, NPY_MAGIC, 6);
    hdr[6] = 1;
    hdr[7] = 0;
    int dl = snprintf(hdr + 10, sizeof hdr - 10, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    size_t total = 10 + (size_t)dl + 1; /* + '\n' */
    total = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    memset(hdr + 10 + dl, ' ', total - 10 - (size_t)dl - 1);
    hdr[total - 1] = '\n';
    size_t hlen = total - 10;
    hdr[8] = (char)(hlen & 0xFF);
    hdr[9] = (char)(hlen >> 8);

    size_t nbytes = (size_t)count * 4;
    if (host_is_little_endian() || nbytes == 0)
        return ganc_io_write_atomic(path, (const ganc_io_part[]){{hdr, total}, {x, nbytes}}, 2, NULL, err);
    uint8_t *le = malloc(nbytes);
    if (!le) return ganc_fail(err, "%s: cannot write: out of memory", p);
    memcpy(le, x, nbytes);
    swap4(le, (size_t)count);
    int rc = ganc_io_write_atomic(path, (const ganc_io_part[]){{hdr, total}, {le, nbytes}}, 2, NULL, err);
    free(le);
    return rc;
}

int ganc_npy_write(const char *path, const float *x, int ndim, const int *dims, char err[GANC_ERR_LEN])
{
    return write_4byte(path, "<f4", x, ndim, dims, err);
}

int ganc_npy_write_labels(const char *path, const int32_t *labels, int n, char err[GANC_ERR_LEN])
{
    return write_4byte(path, "<i4", labels, 1, &n, err);
}

/* ---- header parser --------------------------------------------------------------------- */

/* A cursor over the header text [s, e). Grammar (a subset of Python literals):
 *   dict  := '{' [ item { ',' item } [','] ] '}'
 *   item  := string ':' value
 *   value := string | 'True' | 'False' | tuple
 *   tuple := '(' [ int { ',' int } [','] ] ')'      (ints may carry Python 2's 'L' suffix)
 * with whitespace allowed between any two tokens. */
typedef struct {
    const char *s, *e;
    const char *path;
    const char *need; /* the dtypes the caller takes, for the refusal of a structured one */
    char *err;
} hp;

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static void skip_ws(hp *h)
{
    while (h->s < h->e && is_space(*h->s)) h->s++;
}

static int expect(hp *h, char c, const char *where)
{
    skip_ws(h);
    if (h->s >= h->e) return ganc_fail(h->err, "%s: bad NPY header: ends early, expected '%c' %s", h->path, c, where);
    if (*h->s != c) return ganc_fail(h->err, "%s: bad NPY header: expected '%c' %s", h->path, c, where);
    h->s++;
    return 0;
}

/* Quoted string (' or ") without escapes into out[cap]. */
static int parse_string(hp *h, char *out, size_t cap, const char *what)
{
    skip_ws(h);
    if (h->s >= h->e || (*h->s != '\'' && *h->s != '"'))
        return ganc_fail(h->err, "%s: bad NPY header: expected a quoted string for %s", h->path, what);
    char q = *h->s++;
    size_t n = 0;
    while (h->s < h->e && *h->s != q) {
        if (*h->s == '\\' || *h->s == '\0' || *h->s == '\n')
            return ganc_fail(h->err, "%s: bad NPY header: unsupported character in %s", h->path, what);
        if (n + 1 >= cap) return ganc_fail(h->err, "%s: bad NPY header: %s too long", h->path, what);
        out[n++] = *h->s++;
    }
    if (h->s >= h->e) return ganc_fail(h->err, "%s: bad NPY header: unterminated string in %s", h->path, what);
    h->s++;
    out[n] = '\0';
    return 0;
}

static int parse_bool(hp *h, int *v, const char *what)
{
    skip_ws(h);
    size_t left = (size_t)(h->e - h->s);
    if (left >= 4 && !memcmp(h->s, "True", 4)) {
        *v = 1;
        h->s += 4;
    } else if (left >= 5 && !memcmp(h->s, "False", 5)) {
        *v = 0;
        h->s += 5;
    } else {
        return ganc_fail(h->err, "%s: bad NPY header: %s must be True or False", h->path, what);
    }
    if (h->s < h->e && (*h->s == '_' || (*h->s >= 'a' && *h->s <= 'z') || (*h->s >= 'A' && *h->s <= 'Z')))
        return ganc_fail(h->err, "%s: bad NPY header: %s must be True or False", h->path, what);
    return 0;
}

static int parse_shape(hp *h, int *ndim, int64_t dims[NPY_MAX_DIMS])
{
    if (expect(h, '(', "to open 'shape'")) return -1;
    int n = 0;
    for (;;) {
        skip_ws(h);
        if (h->s < h->e && *h->s == ')') {
            h->s++;
            break;
        }
        if (h->s >= h->e || *h->s < '0' || *h->s > '9')
            return ganc_fail(h->err, "%s: bad NPY header: 'shape' must be a tuple of non-negative integers", h->path);
        int64_t v = 0;
        while (h->s < h->e && *h->s >= '0' && *h->s <= '9') {
            v = v * 10 + (*h->s++ - '0');
            if (v > INT32_MAX) return ganc_fail(h->err, "%s: bad NPY header: dimension too large", h->path);
        }
        if (h->s < h->e && (*h->s == 'L' || *h->s == 'l')) h->s++;
        if (n < NPY_MAX_DIMS) dims[n] = v;
        if (++n > 64) return ganc_fail(h->err, "%s: bad NPY header: too many dimensions", h->path);
        skip_ws(h);
        if (h->s < h->e && *h->s == ',') {
            h->s++;
            continue;
        }
        if (expect(h, ')', "to close 'shape'")) return -1;
        if (n == 1) return ganc_fail(h->err, "%s: bad NPY header: 1-d shape must be written (N,)", h->path);
        break;
    }
    if (n > NPY_MAX_DIMS)
        return ganc_fail(h->err, "%s: array has %d dimensions, at most %d supported", h->path, n, NPY_MAX_DIMS);
    *ndim = n;
    return 0;
}

typedef struct {
    int have_descr, have_fortran, have_shape;
    char descr[32];
    int fortran;
    int ndim;
    int64_t dims[NPY_MAX_DIMS];
} npy_header;

static int parse_header(hp *h, npy_header *out)
{
    memset(out, 0, sizeof *out);
    if (expect(h, '{', "at the start of the header dict")) return -1;
    for (;;) {
        skip_ws(h);
        if (h->s < h->e && *h->s == '}') {
            h->s++;
            break;
        }
        char key[32];
        if (parse_string(h, key, sizeof key, "a key")) return -1;
        if (expect(h, ':', "after a key")) return -1;
        if (!strcmp(key, "descr")) {
            if (out->have_descr) return ganc_fail(h->err, "%s: bad NPY header: 'descr' given twice", h->path);
            skip_ws(h);
            if (h->s < h->e && *h->s == '[')
                return ganc_fail(h->err, "%s: structured dtype not supported (need %s)", h->path, h->need);
            if (parse_string(h, out->descr, sizeof out->descr, "'descr'")) return -1;
            out->have_descr = 1;
        } else if (!strcmp(key, "fortran_order")) {
            if (out->have_fortran) return ganc_fail(h->err, "%s: bad NPY header: 'fortran_order' given twice", h->path);
            if (parse_bool(h, &out->fortran, "'fortran_order'")) return -1;
            out->have_fortran = 1;
        } else if (!strcmp(key, "shape")) {
            if (out->have_shape) return ganc_fail(h->err, "%s: bad NPY header: 'shape' given twice", h->path);
            if (parse_shape(h, &out->ndim, out->dims)) return -1;
            out->have_shape = 1;
        } else {
            return ganc_fail(h->err, "%s: bad NPY header: unexpected key '%s'", h->path, key);
        }
        skip_ws(h);
        if (h->s < h->e && *h->s == ',') {
            h->s++;
            continue;
        }
        if (expect(h, '}', "to close the header dict")) return -1;
        break;
    }
    skip_ws(h);
    if (h->s != h->e) return ganc_fail(h->err, "%s: bad NPY header: unexpected text after the dict", h->path);
    if (!out->have_descr || !out->have_fortran || !out->have_shape)
        return ganc_fail(h->err, "%s: bad NPY header: missing '%s'", h->path,
                         !out->have_descr ? "descr" : !out->have_fortran ? "fortran_order" : "shape");
    return 0;
}

/* ---- reader ---------------------------------------------------------------------------- */

static int read_exact(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        ssize_t k = read(fd, p, chunk);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (k == 0) {
            errno = 0; /* end of file */
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int read_fail(const char *path, char err[GANC_ERR_LEN], const char *what)
{
    if (errno) return ganc_fail(err, "%s: read error in %s: %s", path, what, strerror(errno));
    return ganc_fail(err, "%s: file shrank while reading %s", path, what);
}

void ganc_npy_close(ganc_npy_file *f)
{
    if (f && f->fd >= 0) close(f->fd);
    if (f) f->fd = -1;
}

int ganc_npy_open(const char *path, const char *need, ganc_npy_file *f, char err[GANC_ERR_LEN])
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->path = path && *path ? path : "(empty path)";
    if (!path || !*path) return ganc_fail(err, "(empty path): cannot open: no file name");
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) return ganc_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    char *hdr = NULL;
    int rc = -1;
    if (fstat(f->fd, &st)) {
        ganc_fail(err, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        ganc_fail(err, "%s: not a regular file", path);
        goto done;
    }
    uint64_t size = (uint64_t)st.st_size;

    uint8_t pre[12];
    if (size < 10) {
        if (size >= 6) {
            if (read_exact(f->fd, pre, 6)) {
                read_fail(path, err, "the magic");
                goto done;
            }
            if (memcmp(pre, NPY_MAGIC, 6)) {
                ganc_fail(err, "%s: not an NPY file (bad magic)", path);
                goto done;
            }
        }
        ganc_fail(err, "%s: not an NPY file (%llu bytes, truncated header)", path, (unsigned long long)size);
        goto done;
    }
    if (read_exact(f->fd, pre, 10)) {
        read_fail(path, err, "the header");
        goto done;
    }
    if (memcmp(pre, NPY_MAGIC, 6)) {
        ganc_fail(err, "%s: not an NPY file (bad magic)", path);
        goto done;
    }
    int major = pre[6], minor = pre[7];
    uint64_t prefix, hlen;
    if (major == 1 && minor == 0) {
        prefix = 10;
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
    } else if ((major == 2 || major == 3) && minor == 0) {
        prefix = 12;
        if (size < 12) {
            ganc_fail(err, "%s: truncated NPY header (%llu bytes)", path, (unsigned long long)size);
            goto done;
        }
        if (read_exact(f->fd, pre + 10, 2)) {
            read_fail(path, err, "the header");
            goto done;
        }
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
    } else {
        ganc_fail(err, "%s: unsupported NPY version %d.%d", path, major, minor);
        goto done;
    }
    if (hlen > size - prefix) {
        ganc_fail(err, "%s: truncated NPY header (header length %llu, but only %llu bytes follow)", path,
                  (unsigned long long)hlen, (unsigned long long)(size - prefix));
        goto done;
    }
    if (hlen > NPY_MAX_HEADER) {
        ganc_fail(err, "%s: NPY header too long (%llu bytes)", path, (unsigned long long)hlen);
        goto done;
    }
    hdr = malloc((size_t)hlen + 1);
    if (!hdr) {
        ganc_fail(err, "%s: out of memory", path);
        goto done;
    }
    if (read_exact(f->fd, hdr, (size_t)hlen)) {
        read_fail(path, err, "the header");
        goto done;
    }
    hdr[hlen] = '\0';

    npy_header h;
    hp cur = {hdr, hdr + hlen, path, need, err};
    if (parse_header(&cur, &h)) goto done;
    memcpy(f->descr, h.descr, sizeof f->descr);
    f->fortran_order = h.fortran;
    f->ndim = h.ndim;
    for (int i = 0; i < h.ndim; i++) f->dims[i] = h.dims[i];
    f->data_bytes = size - prefix - hlen;
    rc = 0;
done:
    free(hdr);
    if (rc) ganc_npy_close(f);
    return rc;
}

int ganc_npy_check_size(const ganc_npy_file *f, size_t item, uint64_t *count_out, char err[GANC_ERR_LEN])
{
    uint64_t count = 1;
    int overflow = 0;
    for (int i = 0; i < f->ndim; i++) {
        if (f->dims[i] != 0 && count > UINT64_MAX / item / (uint64_t)f->dims[i]) overflow = 1;
        else count *= (uint64_t)f->dims[i];
    }
    char shape[80];
    int k = snprintf(shape, sizeof shape, "(");
    for (int i = 0; i < f->ndim; i++)
        k += snprintf(shape + k, sizeof shape - (size_t)k, i ? ", %lld" : "%lld", (long long)f->dims[i]);
    snprintf(shape + k, sizeof shape - (size_t)k, f->ndim == 1 ? ",)" : ")");
    const uint64_t have = f->data_bytes;
    if (overflow)
        return ganc_fail(err, "%s: shape %s is too large for the %llu bytes of data in the file", f->path, shape,
                         (unsigned long long)have);
    if (count * item > have)
        return ganc_fail(err, "%s: shape %s needs %llu bytes of data but the file has %llu (truncated?)", f->path,
                         shape, (unsigned long long)(count * item), (unsigned long long)have);
    if (count * item != have)
        return ganc_fail(err, "%s: shape %s needs %llu bytes of data but the file has %llu (trailing bytes)", f->path,
                         shape, (unsigned long long)(count * item), (unsigned long long)have);
    if (count * item > (uint64_t)SIZE_MAX) return ganc_fail(err, "%s: array too large for this machine", f->path);
    *count_out = count;
    return 0;
}

int ganc_npy_read_bytes(ganc_npy_file *f, void *buf, size_t n, char err[GANC_ERR_LEN])
{
    if (n && read_exact(f->fd, buf, n)) return read_fail(f->path, err, "the data");
    return 0;
}

int ganc_npy_read(const char *path, float **data, int *ndim, int dims[4], char err[GANC_ERR_LEN])
{
    const char *p = path && *path ? path : "(empty path)";
    if (!data || !ndim || !dims) return ganc_fail(err, "%s: no output given", p);
    *data = NULL;
    *ndim = 0;
    for (int i = 0; i < 4; i++) dims[i] = 1;

    ganc_npy_file f;
    if (ganc_npy_open(path, "'<f4', float32", &f, err)) return -1;
    float *buf = NULL;
    uint64_t count;
    int rc = -1;
    if (strcmp(f.descr, "<f4") != 0) {
        ganc_fail(err, "%s: dtype '%s' not supported (need '<f4', little-endian float32)", path, f.descr);
        goto done;
    }
    if (f.fortran_order) {
        ganc_fail(err, "%s: fortran_order True not supported (need C order)", path);
        goto done;
    }
    if (f.ndim < 1) {
        ganc_fail(err, "%s: 0-d arrays not supported (need 1 to 4 dimensions)", path);
        goto done;
    }
    if (ganc_npy_check_size(&f, 4, &count, err)) goto done;
    size_t nbytes = (size_t)count * 4;
    buf = malloc(nbytes ? nbytes : 4);
    if (!buf) {
        ganc_fail(err, "%s: out of memory for %llu bytes", path, (unsigned long long)nbytes);
        goto done;
    }
    if (ganc_npy_read_bytes(&f, buf, nbytes, err)) goto done;
    if (!host_is_little_endian()) swap4((uint8_t *)buf, (size_t)count);

    *data = buf;
    buf = NULL;
    *ndim = f.ndim;
    for (int i = 0; i < f.ndim; i++) dims[i] = (int)f.dims[i];
    rc = 0;
done:
    free(buf);
    ganc_npy_close(&f);
    return rc;
}
