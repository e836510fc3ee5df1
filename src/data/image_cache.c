/* The packed cache of a decoded image folder: little-endian, every section 64-byte aligned,
 * so the pixels can be used straight from a read-only mapping of the file.
 *
 *   0   "GANCSET\1"
 *   8   u64 key (the hash the file is named by)
 *   16  u32 n, c, h, w
 *   32  u32 classes (0: unlabelled), u32 bytes of names
 *   40  zeros to 64
 *   64  the class names, each ending in a NUL; zeros to a multiple of 64
 *       labels, n bytes (labelled sets only); zeros to a multiple of 64
 *       pixels, n * c * h * w bytes, (n, c, h, w)
 *
 * The reader checks the header against the file's size, every name and label, before the set
 * is used; the file is written atomically, so a crash leaves the old file or none. */
#include "data/folder.h"
#include "ganc_internal.h"
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "GANCSET\1"
enum { HEADER = 64, MAX_SIDE = 1 << 14, MAX_NAMES = 1 << 20 };

static size_t align64(size_t v) { return (v + 63) / 64 * 64; }

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

int ganc_image_cache_write(const char *path, uint64_t key, const ganc_dataset *ds, char err[GANC_ERR_LEN])
{
    const int classes = ds->labels ? ds->n_classes : 0;
    size_t names = 0;
    for (int k = 0; k < classes && ds->class_names; k++) names += strlen(ds->class_names[k]) + 1;
    const size_t labels_at = align64(HEADER + names), pixels_at = align64(labels_at + (classes ? (size_t)ds->n : 0));
    uint8_t *head = calloc(1, pixels_at);
    if (!head) return ganc_fail(err, "%s: out of memory", path);
    memcpy(head, MAGIC, 8);
    put64(head + 8, key);
    put32(head + 16, (uint32_t)ds->n);
    put32(head + 20, (uint32_t)ds->shape.c);
    put32(head + 24, (uint32_t)ds->shape.h);
    put32(head + 28, (uint32_t)ds->shape.w);
    put32(head + 32, (uint32_t)classes);
    put32(head + 36, (uint32_t)names);
    size_t at = HEADER;
    for (int k = 0; k < classes && ds->class_names; k++) {
        const size_t len = strlen(ds->class_names[k]) + 1;
        memcpy(head + at, ds->class_names[k], len);
        at += len;
    }
    if (classes) memcpy(head + labels_at, ds->labels, (size_t)ds->n);
    const ganc_io_part parts[2] = {{head, pixels_at}, {ds->pixels, (size_t)ds->n * ganc_shape_size(ds->shape)}};
    const int rc = ganc_io_write_atomic(path, parts, 2, "image cache", err);
    free(head);
    return rc;
}

/* The set described by a mapped file, or -1 when the file is not a whole, valid cache of key. */
static int parse(const uint8_t *m, size_t size, uint64_t key, ganc_dataset *ds, const char *path,
                 char err[GANC_ERR_LEN])
{
    if (size < HEADER || memcmp(m, MAGIC, 8)) return ganc_fail(err, "%s: not a ganc image cache", path);
    if (get64(m + 8) != key) return ganc_fail(err, "%s: the cache of other files or options", path);
    const uint32_t n = get32(m + 16), c = get32(m + 20), h = get32(m + 24), w = get32(m + 28);
    const uint32_t classes = get32(m + 32), names = get32(m + 36);
    if (n < 1 || n > INT32_MAX || (c != 1 && c != 3) || h < 1 || h > MAX_SIDE || w < 1 || w > MAX_SIDE ||
        classes > 255 || names > MAX_NAMES || (classes && names < classes))
        return ganc_fail(err, "%s: damaged image cache (header)", path);
    const size_t labels_at = align64(HEADER + (size_t)names), pixels_at = align64(labels_at + (classes ? n : 0));
    const size_t sample = (size_t)c * h * w;
    if (sample > (SIZE_MAX - pixels_at) / n || size != pixels_at + sample * n)
        return ganc_fail(err, "%s: damaged image cache (%zu bytes, the header says otherwise)", path, size);
    /* the names: exactly `classes` NUL-terminated strings */
    const char *s = (const char *)m + HEADER;
    uint32_t ends = 0;
    for (uint32_t i = 0; i < names; i++) ends += s[i] == 0;
    if (ends != classes || (names && s[names - 1] != 0)) return ganc_fail(err, "%s: damaged image cache (names)", path);
    for (uint32_t i = 0; classes && i < n; i++)
        if (m[labels_at + i] >= classes) return ganc_fail(err, "%s: damaged image cache (labels)", path);

    ds->n = (int)n;
    ds->shape = (ganc_shape){(int)c, (int)h, (int)w};
    if (classes) {
        ds->n_classes = (int)classes;
        ds->labels = malloc(n);
        ds->class_names = calloc(classes, sizeof *ds->class_names);
        if (!ds->labels || !ds->class_names) return ganc_fail(err, "%s: out of memory", path);
        memcpy(ds->labels, m + labels_at, n);
        for (uint32_t k = 0; k < classes; k++) {
            if (!(ds->class_names[k] = strdup(s))) return ganc_fail(err, "%s: out of memory", path);
            s += strlen(s) + 1;
        }
    }
    ds->pixels = (uint8_t *)(m + pixels_at);
    return 0;
}

int ganc_image_cache_read(const char *path, uint64_t key, ganc_dataset *ds, char err[GANC_ERR_LEN])
{
    memset(ds, 0, sizeof *ds);
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ganc_fail(err, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < HEADER) {
        close(fd);
        return ganc_fail(err, "%s: not a ganc image cache", path);
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd); /* the mapping stays valid */
    if (m == MAP_FAILED) return ganc_fail(err, "%s: cannot map: %s", path, strerror(errno));
    ds->map = m;
    ds->map_len = (size_t)st.st_size;
    if (parse(m, (size_t)st.st_size, key, ds, path, err)) {
        ganc_dataset_free(ds);
        return -1;
    }
    return 0;
}
