/* The packed cache of a decoded image folder: little-endian, every section 64-byte aligned,
 * so the pixels can be used straight from a read-only mapping of the file.
 *
 *   0   "GANCSET\2"
 *   8   u64 key (the hash the file is named by)
 *   16  u32 n, c, h, w
 *   32  u32 classes (0: unlabelled), u32 bytes of names
 *   40  u32 broken, u32 ignored, u32 bytes of the report
 *   52  zeros to 64
 *   64  the class names, each ending in a NUL; zeros to a multiple of 64
 *       the report: each broken picture's "PATH: why", then the note, each ending in a NUL;
 *       zeros to a multiple of 64
 *       labels, n bytes (labelled sets only); zeros to a multiple of 64
 *       pixels, n * c * h * w bytes, (n, c, h, w)
 *
 * The report is the load's that decoded the set, so that a load from the cache names the same
 * broken pictures, ignored files and note (version 1 files had none: their magic differs, so
 * they are refused and rebuilt in place). The reader checks the header against the file's size,
 * every name, the report and every label before the set is used; the file is written
 * atomically, so a crash leaves the old file or none. */
#include "data/folder.h"
#include "ganc_internal.h"
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "GANCSET\2"
enum { HEADER = 64, MAX_SIDE = 1 << 14, MAX_NAMES = 1 << 20, MAX_REPORT = 1 << 30 };

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

/* Copies s and its NUL to head + *at, moving *at past them. */
static void put_string(uint8_t *head, size_t *at, const char *s)
{
    const size_t len = strlen(s) + 1;
    memcpy(head + *at, s, len);
    *at += len;
}

int ganc_image_cache_write(const char *path, uint64_t key, const ganc_dataset *ds, const ganc_folder_report *r,
                           char err[GANC_ERR_LEN])
{
    const int classes = ds->labels ? ds->n_classes : 0, broken = r ? r->broken : 0;
    const char *note = r ? r->note : "";
    size_t names = 0, report = strlen(note) + 1;
    for (int k = 0; k < classes && ds->class_names; k++) names += strlen(ds->class_names[k]) + 1;
    for (int i = 0; i < broken; i++) report += strlen(r->broken_names[i]) + 1;
    if (report > MAX_REPORT) return ganc_fail(err, "%s: the list of broken pictures is too long to keep", path);
    const size_t report_at = align64(HEADER + names), labels_at = align64(report_at + report);
    const size_t pixels_at = align64(labels_at + (classes ? (size_t)ds->n : 0));
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
    put32(head + 40, (uint32_t)broken);
    put32(head + 44, (uint32_t)(r ? r->ignored : 0));
    put32(head + 48, (uint32_t)report);
    size_t at = HEADER;
    for (int k = 0; k < classes && ds->class_names; k++) put_string(head, &at, ds->class_names[k]);
    at = report_at;
    for (int i = 0; i < broken; i++) put_string(head, &at, r->broken_names[i]);
    put_string(head, &at, note);
    if (classes) memcpy(head + labels_at, ds->labels, (size_t)ds->n);
    const ganc_io_part parts[2] = {{head, pixels_at}, {ds->pixels, (size_t)ds->n * ganc_shape_size(ds->shape)}};
    const int rc = ganc_io_write_atomic(path, parts, 2, "image cache", err);
    free(head);
    return rc;
}

/* Whether the `bytes` at s are exactly `count` strings, each ending in a NUL. */
static int whole_strings(const char *s, uint32_t bytes, uint32_t count)
{
    uint32_t ends = 0;
    for (uint32_t i = 0; i < bytes; i++) ends += s[i] == 0;
    return ends == count && (bytes == 0 || s[bytes - 1] == 0);
}

/* The report's strings at s (whole_strings checked) into r; -1 when out of memory. */
static int read_report(const char *s, uint32_t broken, uint32_t ignored, ganc_folder_report *r)
{
    if (broken && !(r->broken_names = calloc(broken, sizeof *r->broken_names))) return -1;
    for (uint32_t i = 0; i < broken; i++, r->broken++) {
        if (!(r->broken_names[i] = strdup(s))) return -1;
        s += strlen(s) + 1;
    }
    r->ignored = (int)ignored;
    snprintf(r->note, sizeof r->note, "%s", s);
    return 0;
}

/* The set described by a mapped file, and the report it keeps when r is not NULL, or -1 when
 * the file is not a whole, valid cache of key. */
static int parse(const uint8_t *m, size_t size, uint64_t key, ganc_dataset *ds, ganc_folder_report *r,
                 const char *path, char err[GANC_ERR_LEN])
{
    if (size < HEADER || memcmp(m, MAGIC, 8)) return ganc_fail(err, "%s: not a ganc image cache", path);
    if (get64(m + 8) != key) return ganc_fail(err, "%s: the cache of other files or options", path);
    const uint32_t n = get32(m + 16), c = get32(m + 20), h = get32(m + 24), w = get32(m + 28);
    const uint32_t classes = get32(m + 32), names = get32(m + 36);
    const uint32_t broken = get32(m + 40), ignored = get32(m + 44), report = get32(m + 48);
    if (n < 1 || n > INT32_MAX || (c != 1 && c != 3) || h < 1 || h > MAX_SIDE || w < 1 || w > MAX_SIDE ||
        classes > 255 || names > MAX_NAMES || (classes && names < classes) || ignored > INT32_MAX ||
        report > MAX_REPORT || report < 1 || broken > report - 1)
        return ganc_fail(err, "%s: damaged image cache (header)", path);
    const size_t report_at = align64(HEADER + (size_t)names), labels_at = align64(report_at + report);
    const size_t pixels_at = align64(labels_at + (classes ? n : 0));
    const size_t sample = (size_t)c * h * w;
    if (sample > (SIZE_MAX - pixels_at) / n || size != pixels_at + sample * n)
        return ganc_fail(err, "%s: damaged image cache (%zu bytes, the header says otherwise)", path, size);
    /* the names: exactly `classes` strings; the report: `broken` of them and the note */
    const char *s = (const char *)m + HEADER, *rs = (const char *)m + report_at;
    if (!whole_strings(s, names, classes)) return ganc_fail(err, "%s: damaged image cache (names)", path);
    if (!whole_strings(rs, report, broken + 1)) return ganc_fail(err, "%s: damaged image cache (report)", path);
    const char *note = rs;
    for (uint32_t i = 0; i < broken; i++) note += strlen(note) + 1;
    if (strlen(note) >= sizeof r->note) /* sizeof does not evaluate r, which may be NULL */
        return ganc_fail(err, "%s: damaged image cache (report)", path);
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
    if (r && read_report(rs, broken, ignored, r)) return ganc_fail(err, "%s: out of memory", path);
    return 0;
}

int ganc_image_cache_read(const char *path, uint64_t key, ganc_dataset *ds, ganc_folder_report *r,
                          char err[GANC_ERR_LEN])
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
    ganc_folder_report kept; /* filled only when the whole file checks out */
    memset(&kept, 0, sizeof kept);
    if (parse(m, (size_t)st.st_size, key, ds, r ? &kept : NULL, path, err)) {
        ganc_dataset_free(ds);
        ganc_folder_report_free(&kept);
        return -1;
    }
    if (r) {
        for (int i = 0; i < r->broken && r->broken_names; i++) free(r->broken_names[i]);
        free(r->broken_names);
        r->broken = kept.broken;
        r->broken_names = kept.broken_names;
        r->ignored = kept.ignored;
        memcpy(r->note, kept.note, sizeof r->note);
    }
    return 0;
}
