/* IDX reader (the format of MNIST and Fashion-MNIST), raw or gzip-compressed.
 *
 * A file is untrusted input: the header's dimensions decide how much memory we would need, so
 * every declared size is validated before anything is allocated. A raw regular file's declared
 * size is compared with its real size (stat); a gzip stream's size cannot be known in advance,
 * so its data is read in chunks into a buffer that grows only as bytes actually arrive — a tiny
 * .gz that claims 2^31 items fails at end-of-stream having used a few megabytes, not gigabytes.
 *
 * The buffer is plain malloc/realloc (not ganc_alloc: it has to grow, and ganc_alloc zeroes
 * and aligns, which a byte image does not need); ganc_idx_free releases it with free(). */
#include "data/data.h"
#include "ganc_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef GANC_HAVE_ZLIB
#include <zlib.h>
#endif

#define IDX_TYPE_UBYTE 0x08
#define FIRST_CHUNK ((size_t)1 << 20) /* initial buffer for streams of unknown length */
#define MAX_READ ((size_t)1 << 30)    /* gzread takes an unsigned int: read at most this per call */

/* Where the bytes come from: a FILE for raw data, a gzFile for gzip. */
typedef struct {
    const char *path;
    FILE *f;
#ifdef GANC_HAVE_ZLIB
    gzFile gz;
#endif
} idx_src;

static void src_close(idx_src *s)
{
    if (s->f) fclose(s->f);
    s->f = NULL;
#ifdef GANC_HAVE_ZLIB
    if (s->gz) gzclose(s->gz);
    s->gz = NULL;
#endif
}

/* Reads up to n bytes into buf, fewer only at end of data. Returns the count, or -1 with err
 * filled when the file cannot be read or the gzip stream is corrupt or cut short. */
static long long src_read(idx_src *s, void *buf, size_t n, char err[GANC_ERR_LEN])
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < MAX_READ ? n - got : MAX_READ;
#ifdef GANC_HAVE_ZLIB
        if (s->gz) {
            int r = gzread(s->gz, (char *)buf + got, (unsigned)want);
            int zerr = Z_OK;
            const char *msg = gzerror(s->gz, &zerr);
            /* zlib reports a stream cut short as Z_BUF_ERROR, possibly alongside a short read */
            if (r < 0 || (zerr != Z_OK && zerr != Z_STREAM_END))
                return ganc_fail(err, "%s: corrupt gzip data: %s", s->path,
                                 zerr == Z_ERRNO ? strerror(errno) : msg);
            if (r == 0) break;
            got += (size_t)r;
            continue;
        }
#endif
        size_t r = fread((char *)buf + got, 1, want, s->f);
        if (ferror(s->f)) return ganc_fail(err, "%s: read error: %s", s->path, strerror(errno));
        got += r;
        if (r < want) break;
    }
    return (long long)got;
}

/* Opens the file and picks raw or gzip by its first two bytes (1f 8b), not by its name. */
static int src_open(idx_src *s, const char *path, struct stat *st, char err[GANC_ERR_LEN])
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->f = fopen(path, "rb");
    if (!s->f) return ganc_fail(err, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(s->f), st) != 0) {
        int e = errno;
        src_close(s);
        return ganc_fail(err, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st->st_mode)) {
        src_close(s);
        return ganc_fail(err, "%s: is a directory, not an IDX file", path);
    }
    unsigned char magic[2];
    size_t n = fread(magic, 1, 2, s->f);
    int gzip = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (!gzip) {
        /* raw: start over from byte 0 (so raw IDX cannot come through a pipe; files can) */
        if (fseek(s->f, 0, SEEK_SET) != 0) {
            src_close(s);
            return ganc_fail(err, "%s: cannot rewind: %s", path, strerror(errno));
        }
        return 0;
    }
    src_close(s);
#ifdef GANC_HAVE_ZLIB
    errno = 0; /* gzopen fails without setting errno when zlib itself refuses */
    s->gz = gzopen(path, "rb");
    if (!s->gz) return ganc_fail(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "gzopen failed");
    gzbuffer(s->gz, 1u << 17); /* fewer system calls than the 8 KiB default */
    return 0;
#else
    return ganc_fail(err, "%s: is gzip-compressed but ganc was built without zlib; gunzip it first", path);
#endif
}

static const char *idx_type_name(int t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
    }
}

/* "2147483647 images of 28x28" for messages; images when ndim >= 3, items otherwise. */
static void describe(char *buf, size_t len, int ndim, const uint32_t *dims)
{
    int k = snprintf(buf, len, "%u %s", dims[0], ndim >= 3 ? "images" : "items");
    for (int i = 1; i < ndim && k > 0 && (size_t)k < len; i++)
        k += snprintf(buf + k, len - (size_t)k, "%s%u", i == 1 ? " of " : "x", dims[i]);
}

/* Product of the dimensions, saturated at UINT64_MAX (four dims < 2^31 can overflow 64 bits). */
static uint64_t declared_bytes(int ndim, const uint32_t *dims)
{
    uint64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        if (total > UINT64_MAX / dims[i]) return UINT64_MAX;
        total *= dims[i];
    }
    return total;
}

/* Reads and validates the header: magic, type, ndim, dims. Sets *header_len. */
static int read_header(idx_src *s, int *ndim, uint32_t dims[4], int *header_len, char err[GANC_ERR_LEN])
{
    unsigned char h[20]; /* 4 magic bytes + up to 4 dims */
    long long r = src_read(s, h, 4, err);
    if (r < 0) return -1;
    if (r < 4) return ganc_fail(err, "%s: too short for an IDX file (%lld bytes)", s->path, r);
    if (h[0] != 0 || h[1] != 0)
        return ganc_fail(err, "%s: not an IDX file (starts with %02x %02x %02x %02x, expected 00 00 08 NDIM)",
                         s->path, h[0], h[1], h[2], h[3]);
    if (h[2] != IDX_TYPE_UBYTE)
        return ganc_fail(err, "%s: IDX data type 0x%02X (%s) is not supported; only 0x08 (unsigned byte) is",
                         s->path, h[2], idx_type_name(h[2]));
    *ndim = h[3];
    if (*ndim < 1 || *ndim > 4)
        return ganc_fail(err, "%s: IDX file declares %d dimensions; 1 to 4 are supported", s->path, *ndim);
    *header_len = 4 + 4 * *ndim;
    r = src_read(s, h + 4, (size_t)(4 * *ndim), err);
    if (r < 0) return -1;
    if (r < 4 * *ndim)
        return ganc_fail(err, "%s: IDX header cut short (%lld of %d bytes)", s->path, 4 + r, *header_len);
    for (int i = 0; i < *ndim; i++) {
        const unsigned char *p = h + 4 + 4 * i;
        dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (dims[i] == 0) return ganc_fail(err, "%s: IDX dimension %d is 0", s->path, i);
        if (dims[i] > INT_MAX)
            return ganc_fail(err, "%s: IDX dimension %d is %u, more than %d", s->path, i, dims[i], INT_MAX);
    }
    return 0;
}

/* "(784 bytes)", or "(over 2^64 bytes)" when the product saturated. */
static void bytes_text(char *buf, size_t len, uint64_t n)
{
    if (n == UINT64_MAX) snprintf(buf, len, "over 2^64 bytes");
    else snprintf(buf, len, "%llu bytes", (unsigned long long)n);
}

/* Length mismatch message shared by the stat check and the streamed check. */
static int size_mismatch(const char *path, const char *what, uint64_t declared, uint64_t held, int header_len,
                         char err[GANC_ERR_LEN])
{
    char dtext[32];
    bytes_text(dtext, sizeof dtext, declared);
    if (held < declared)
        return ganc_fail(err, "%s: declares %s (%s) but holds only %llu bytes after its %d-byte header", path, what,
                         dtext, (unsigned long long)held, header_len);
    return ganc_fail(err, "%s: declares %s (%s) but holds %llu bytes after its %d-byte header (trailing data)", path,
                     what, dtext, (unsigned long long)held, header_len);
}

/* Reads exactly `declared` bytes, growing the buffer from `first` bytes as data arrives, then
 * makes sure nothing follows. Memory in use never exceeds twice what the file really holds. */
static int read_data(idx_src *s, size_t declared, size_t first, const char *what, int header_len,
                     uint8_t **out, char err[GANC_ERR_LEN])
{
    size_t cap = first < declared ? first : declared, got = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return ganc_fail(err, "%s: out of memory (%zu bytes)", s->path, cap);
    for (;;) {
        if (got == cap) {
            if (cap == declared) break;
            size_t next = cap <= declared / 2 ? cap * 2 : declared;
            uint8_t *grown = realloc(buf, next);
            if (!grown) {
                free(buf);
                return ganc_fail(err, "%s: out of memory (%zu bytes)", s->path, next);
            }
            buf = grown;
            cap = next;
        }
        long long r = src_read(s, buf + got, cap - got, err);
        if (r < 0) goto fail;
        if (r == 0) break;
        got += (size_t)r;
    }
    if (got < declared) {
        size_mismatch(s->path, what, declared, got, header_len, err);
        goto fail;
    }
    /* count what follows, through a small scratch buffer, so the message can say how much */
    uint64_t extra = 0;
    unsigned char scratch[4096];
    long long r;
    while ((r = src_read(s, scratch, sizeof scratch, err)) > 0) extra += (uint64_t)r;
    if (r < 0) goto fail;
    if (extra) {
        size_mismatch(s->path, what, declared, declared + extra, header_len, err);
        goto fail;
    }
    *out = buf;
    return 0;
fail:
    free(buf);
    return -1;
}

int ganc_idx_read(const char *path, size_t max_bytes, ganc_idx *out, char err[GANC_ERR_LEN])
{
    memset(out, 0, sizeof *out);
    idx_src s;
    struct stat st;
    if (src_open(&s, path, &st, err) != 0) return -1;

    int ndim = 0, header_len = 0, rc = -1;
    uint32_t dims[4] = {0};
    char what[96];
    if (read_header(&s, &ndim, dims, &header_len, err) != 0) goto done;
    describe(what, sizeof what, ndim, dims);
    uint64_t declared = declared_bytes(ndim, dims);
#ifdef GANC_HAVE_ZLIB
    int sized = !s.gz && S_ISREG(st.st_mode);
#else
    int sized = S_ISREG(st.st_mode);
#endif
    /* a raw regular file says how much it holds: a truncated or padded file is refused here,
     * before allocating, which is what makes a 100-byte file claiming 2^31 images harmless */
    uint64_t held = st.st_size > header_len ? (uint64_t)st.st_size - (uint64_t)header_len : 0;
    if (sized && held != declared) {
        size_mismatch(path, what, declared, held, header_len, err);
        goto done;
    }
    if (declared > (uint64_t)max_bytes) {
        char dtext[32];
        bytes_text(dtext, sizeof dtext, declared);
        ganc_fail(err, "%s: declares %s (%s), more than the limit of %zu bytes", path, what, dtext, max_bytes);
        goto done;
    }
    if (read_data(&s, (size_t)declared, sized ? (size_t)declared : FIRST_CHUNK, what, header_len, &out->data,
                  err) != 0)
        goto done;
    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) out->dims[i] = (int)dims[i];
    out->count = (size_t)declared;
    rc = 0;
done:
    src_close(&s);
    return rc;
}

void ganc_idx_free(ganc_idx *idx)
{
    if (!idx) return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
