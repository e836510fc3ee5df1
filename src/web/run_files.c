/* Reading a run directory through its descriptor (see run_files.h). */
#include "web/run_files.h"
#include "ganc_internal.h"
#include "io/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { HEADER_MAX = 16 << 20 }; /* a checkpoint's JSON header larger than this is not ours */

int web_plain_name(const char *name)
{
    const size_t n = strlen(name);
    if (!n || n > 200 || name[0] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        const char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return 0;
    }
    return 1;
}

/* openat of one plain name, never following a link; only regular files (dir 0) or
 * directories (dir 1). */
static int open_in(int dirfd, const char *name, int dir)
{
    if (!web_plain_name(name)) return -1;
    const int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (dir ? O_DIRECTORY : 0));
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) || (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))) {
        close(fd);
        return -1;
    }
    return fd;
}

int web_run_open(web_run *r, const char *path, char err[GANC_ERR_LEN])
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    snprintf(r->name, sizeof r->name, "%s", path);
    /* The path as given may go through links (the user's choice); the directory it names now
     * is held by its descriptor, whatever happens to the path later. */
    r->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->fd < 0) return ganc_fail(err, "%s: %s", path, errno == ENOTDIR ? "not a directory" : strerror(errno));
    struct stat st;
    if (fstatat(r->fd, "log.jsonl", &st, AT_SYMLINK_NOFOLLOW) && fstatat(r->fd, "samples", &st, AT_SYMLINK_NOFOLLOW)) {
        web_run_close(r);
        return ganc_fail(err, "%s: not a ganc run (no log.jsonl or samples/ in it)", path);
    }
    return 0;
}

void web_run_close(web_run *r)
{
    if (r->fd >= 0) close(r->fd);
    free(r->meta);
    r->fd = -1;
    r->meta = NULL;
}

/* step_N.png: N, else -1. */
static long long grid_step(const char *name)
{
    const size_t n = strlen(name);
    if (n < 10 || strncmp(name, "step_", 5) || strcmp(name + n - 4, ".png")) return -1;
    long long step = 0;
    for (size_t i = 5; i < n - 4; i++) {
        if (name[i] < '0' || name[i] > '9' || step > INT64_MAX / 20) return -1;
        step = step * 10 + (name[i] - '0');
    }
    return step;
}

static int by_step(const void *a, const void *b)
{
    const long long x = ((const web_grid *)a)->step, y = ((const web_grid *)b)->step;
    return (x > y) - (x < y);
}

size_t web_run_grid_list(const web_run *r, web_grid **out)
{
    web_grid *g = NULL;
    size_t n = 0, cap = 0;
    const int sfd = open_in(r->fd, "samples", 1);
    DIR *d = sfd >= 0 ? fdopendir(sfd) : NULL;
    if (!d && sfd >= 0) close(sfd);
    for (struct dirent *e; d && (e = readdir(d));) {
        const long long step = grid_step(e->d_name);
        if (step < 0 || strlen(e->d_name) >= sizeof g->file) continue;
        if (n == cap) {
            web_grid *grown = realloc(g, sizeof *g * (cap = cap ? 2 * cap : 64));
            if (!grown) break; /* out of memory: the grids so far */
            g = grown;
        }
        g[n].step = step;
        snprintf(g[n++].file, sizeof g->file, "%s", e->d_name);
    }
    if (d) closedir(d);
    if (n) qsort(g, n, sizeof *g, by_step);
    *out = g;
    return n;
}

void web_run_grids(const web_run *r, web_buf *out)
{
    web_grid *g;
    const size_t n = web_run_grid_list(r, &g);
    web_buf_str(out, "[");
    for (size_t i = 0; i < n; i++) web_buf_printf(out, "%s{\"step\": %lld, \"file\": \"%s\"}", i ? ", " : "", g[i].step, g[i].file);
    web_buf_str(out, "]");
    free(g);
}

int web_read_fd(int fd, size_t max, web_buf *out)
{
    struct stat st;
    int rc = fstat(fd, &st) || st.st_size < 0 || (size_t)st.st_size > max ? -1 : 0;
    char chunk[65536];
    for (size_t total = 0; rc == 0;) {
        const ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 || total + (size_t)got > max) rc = -1;
        if (got <= 0) break;
        web_buf_add(out, chunk, (size_t)got);
        total += (size_t)got;
    }
    close(fd);
    return rc || out->failed ? -1 : 0;
}

int web_run_log(const web_run *r, size_t from, size_t max, web_buf *out, size_t *next, unsigned long long *id,
                int *reset)
{
    *next = 0;
    *reset = 0;
    const int fd = open_in(r->fd, "log.jsonl", 0);
    if (fd < 0) return 0;
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return -1;
    }
    const size_t size = (size_t)st.st_size;
    const unsigned long long was = *id;
    *id = (unsigned long long)st.st_ino;
    if (from > size || (was && was != *id)) { /* rewritten: read it again from its start */
        from = 0;
        *reset = 1;
    }
    size_t want = size - from < max ? size - from : max;
    char *text = malloc(want ? want : 1);
    size_t got = 0;
    while (text && got < want) {
        const ssize_t k = pread(fd, text + got, want - got, (off_t)(from + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    if (!text) return -1;
    /* whole lines only: the writer may be in the middle of one */
    size_t keep = got;
    while (keep && text[keep - 1] != '\n') keep--;
    if (!keep && got == max) keep = got; /* one line longer than max: passed on whole, cut */
    web_buf_add(out, text, keep);
    free(text);
    *next = from + keep;
    return out->failed ? -1 : 0;
}

int web_run_sample(const web_run *r, const char *name, int *fd, size_t *size)
{
    const size_t n = strlen(name);
    if (n < 5 || (strcmp(name + n - 4, ".png") && strcmp(name + n - 4, ".gif"))) return -1;
    const int sfd = open_in(r->fd, "samples", 1);
    if (sfd < 0) return -1;
    *fd = open_in(sfd, name, 0);
    close(sfd);
    struct stat st;
    if (*fd < 0 || fstat(*fd, &st)) {
        if (*fd >= 0) close(*fd);
        return -1;
    }
    *size = (size_t)st.st_size;
    return 0;
}

/* The newest ckpt/step_N.safetensors's descriptor, or -1. */
static int newest_checkpoint(const web_run *r)
{
    const int cfd = open_in(r->fd, "ckpt", 1);
    if (cfd < 0) return -1;
    const int lfd = dup(cfd); /* fdopendir takes one; the other opens the file */
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (!d && lfd >= 0) close(lfd);
    char best[64] = "";
    const size_t len = strlen("step_000000000.safetensors");
    for (struct dirent *e; d && (e = readdir(d));)
        if (strlen(e->d_name) == len && !strncmp(e->d_name, "step_", 5) && !strcmp(e->d_name + len - 12, ".safetensors") &&
            strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    if (d) closedir(d);
    const int fd = best[0] ? open_in(cfd, best, 0) : -1;
    close(cfd);
    return fd;
}

/* The "__metadata__" of a safetensors header: its length (8 bytes, little-endian), then JSON. */
static ganc_json_doc *checkpoint_header(int fd)
{
    unsigned char head[8];
    if (pread(fd, head, 8, 0) != 8) return NULL;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | head[i];
    if (n == 0 || n > HEADER_MAX) return NULL;
    char *text = malloc((size_t)n);
    ganc_json_doc *doc = NULL;
    char err[GANC_ERR_LEN];
    if (text && pread(fd, text, (size_t)n, 8) == (ssize_t)n && ganc_json_parse(text, (size_t)n, 8, &doc, err)) doc = NULL;
    free(text);
    return doc;
}

/* Only what the page shows: no random-number states or optimiser counters. */
static int shown(const char *key)
{
    return !strncmp(key, "config.", 7) || !strcmp(key, "step") || !strcmp(key, "model") || !strcmp(key, "model.source") ||
           !strcmp(key, "data.shape") || !strcmp(key, "data.classes");
}

void web_run_meta(const web_run *r, web_buf *out)
{
    if (r->meta) {
        web_buf_str(out, r->meta);
        return;
    }
    const int fd = newest_checkpoint(r);
    ganc_json_doc *doc = fd >= 0 ? checkpoint_header(fd) : NULL;
    if (fd >= 0) close(fd);
    const ganc_json *meta = ganc_json_get(ganc_json_root(doc), "__metadata__");
    web_buf_str(out, "{");
    int first = 1;
    for (const ganc_json *m = meta && meta->type == GANC_JSON_OBJECT ? meta->child : NULL; m; m = m->next) {
        if (m->type != GANC_JSON_STRING || !shown(m->key)) continue;
        web_buf_str(out, first ? "" : ", ");
        web_buf_json(out, m->key, m->key_len);
        web_buf_str(out, ": ");
        web_buf_json(out, m->str, m->len);
        first = 0;
    }
    web_buf_str(out, "}");
    ganc_json_free(doc);
}
