/* ganc_io_write_atomic (src/io/atomic.c), the one way ganc writes files: parts written in
 * order, empty parts and empty files, replacing an existing file (and a stale PATH.tmp), a
 * write that fails halfway (file size limit) leaving the old file byte-identical and no
 * PATH.tmp, the error messages, and no descriptor leaked on success or failure. */
#include "check.h"
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *tpath(const char *name)
{
    static char buf[8][300];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", check_tmpdir(), name);
    return buf[k];
}

static const char *tmp_of(const char *path)
{
    static char buf[320];
    snprintf(buf, sizeof buf, "%s.tmp", path);
    return buf;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* The whole file (malloc'ed, at least 1 byte) or NULL; *n its size. */
static uint8_t *slurp(const char *path, size_t *n)
{
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 1 << 16, len = 0;
    uint8_t *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + len, 1, cap - len, fp)) > 0) {
        len += k;
        if (len == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb) free(b);
            b = nb;
        }
    }
    fclose(fp);
    *n = len;
    return b;
}

static int same_bytes(const char *path, const void *want, size_t n)
{
    size_t got = 0;
    uint8_t *b = slurp(path, &got);
    int same = b && got == n && (n == 0 || memcmp(b, want, n) == 0);
    free(b);
    return same;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(p, 1, n, fp) != n || fclose(fp) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

/* The lowest free descriptor: it changes when a call leaks one. */
static int next_fd(void)
{
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) close(fd);
    return fd;
}

static void test_round_trip(void)
{
    const char *path = tpath("parts.bin");
    char err[GANC_ERR_LEN] = "";
    uint8_t big[100000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 131 + 7);
    const ganc_io_part parts[] = {{"head", 4}, {NULL, 0}, {big, sizeof big}, {"", 0}, {"tail\n", 5}};
    int fd0 = next_fd();
    int rc = ganc_io_write_atomic(path, parts, 5, NULL, err);
    CHECK(rc == 0, "multi-part write: %s", err);
    size_t n;
    uint8_t *b = slurp(path, &n);
    CHECK(b && n == 4 + sizeof big + 5 && !memcmp(b, "head", 4) && !memcmp(b + 4, big, sizeof big) &&
              !memcmp(b + 4 + sizeof big, "tail\n", 5),
          "multi-part: parts not written in order (%zu bytes)", n);
    free(b);
    CHECK(check_temp_files(path) == 0, "multi-part: PATH.tmp left behind");
    CHECK(next_fd() == fd0, "multi-part: a descriptor leaked");

    /* a path without a directory part: the directory synced is "." */
    char cwd[512];
    if (CHECK(getcwd(cwd, sizeof cwd) && chdir(check_tmpdir()) == 0, "chdir")) {
        rc = ganc_io_write_atomic("relative.bin", parts, 1, NULL, err);
        CHECK(rc == 0 && same_bytes("relative.bin", "head", 4), "relative path: %s", err);
        CHECK(chdir(cwd) == 0, "chdir back");
    }
}

static void test_empty(void)
{
    char err[GANC_ERR_LEN] = "";
    const char *p0 = tpath("none.bin"), *p1 = tpath("empties.bin");
    CHECK(ganc_io_write_atomic(p0, NULL, 0, "thing", err) == 0 && exists(p0) && same_bytes(p0, "", 0),
          "no parts: an empty file: %s", err);
    const ganc_io_part empty[] = {{NULL, 0}, {"x", 0}, {NULL, 0}};
    CHECK(ganc_io_write_atomic(p1, empty, 3, NULL, err) == 0 && exists(p1) && same_bytes(p1, "", 0),
          "empty parts: an empty file: %s", err);
    CHECK(check_temp_files(p0) == 0 && check_temp_files(p1) == 0, "empty: PATH.tmp left behind");

    /* bad arguments fail before anything is created */
    const char *p2 = tpath("bad-args.bin");
    const ganc_io_part hole[] = {{"ab", 2}, {NULL, 3}};
    int rc = ganc_io_write_atomic(p2, hole, 2, NULL, err);
    CHECK(rc == -1 && !strncmp(err, p2, strlen(p2)) && strstr(err, ": cannot write: "), "NULL data: rc %d '%s'", rc,
          rc ? err : "");
    rc = ganc_io_write_atomic(p2, NULL, 1, NULL, err);
    CHECK(rc == -1 && !strncmp(err, p2, strlen(p2)), "NULL parts: rc %d '%s'", rc, rc ? err : "");
    rc = ganc_io_write_atomic(p2, hole, -1, NULL, err);
    CHECK(rc == -1 && !strncmp(err, p2, strlen(p2)), "n_parts -1: rc %d '%s'", rc, rc ? err : "");
    CHECK(!exists(p2) && check_temp_files(p2) == 0, "bad arguments created a file");
    rc = ganc_io_write_atomic("", hole, 1, "checkpoint", err);
    CHECK(rc == -1 && !strcmp(err, "(empty path): cannot write checkpoint: no file name"), "empty path: '%s'", err);
}

static void test_overwrite(void)
{
    const char *path = tpath("over.bin");
    char err[GANC_ERR_LEN] = "";
    uint8_t old[5000];
    memset(old, 'o', sizeof old);
    spit(path, old, sizeof old);
    /* temp files a crashed run left, under the old fixed name and the current one: never
     * reused (O_EXCL), never touched */
    const char *stale = "stale temp file from a crashed run, longer than the new content";
    char stale_new[400];
    snprintf(stale_new, sizeof stale_new, "%s.tmp.%ld.0", path, (long)getpid());
    spit(tmp_of(path), stale, 63);
    spit(stale_new, stale, 63);
    const ganc_io_part parts[] = {{"new ", 4}, {"content", 7}};
    int rc = ganc_io_write_atomic(path, parts, 2, NULL, err);
    CHECK(rc == 0 && same_bytes(path, "new content", 11), "overwrite a longer file beside stale temp files: %s", err);
    CHECK(check_temp_files(path) == 2 && same_bytes(tmp_of(path), stale, 63) && same_bytes(stale_new, stale, 63),
          "overwrite: a temp file left behind, or a stale one changed");
    unlink(tmp_of(path));
    unlink(stale_new);
    rc = ganc_io_write_atomic(path, parts + 1, 1, NULL, err);
    CHECK(rc == 0 && same_bytes(path, "content", 7), "overwrite again: %s", err);
}

/* Runs the write in a child limited to `limit` bytes per file (as `ulimit -f` sets): write()
 * fails with EFBIG partway. Root ignores permissions, so this is the failure every user can
 * cause. Returns the child's error message in err; rc is the write's result. */
static int write_limited(const char *path, const ganc_io_part *parts, int n, const char *what, rlim_t limit,
                         char err[GANC_ERR_LEN])
{
    int pipefd[2];
    err[0] = '\0';
    if (pipe(pipefd) != 0) return 99;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        struct rlimit lim = {limit, limit};
        signal(SIGXFSZ, SIG_IGN); /* else the signal kills the child instead of write() failing */
        char cerr[GANC_ERR_LEN] = "";
        int crc = setrlimit(RLIMIT_FSIZE, &lim) == 0 ? ganc_io_write_atomic(path, parts, n, what, cerr) : 99;
        ssize_t w = write(pipefd[1], cerr, strlen(cerr));
        (void)w;
        _exit(crc == -1 ? 0 : crc == 0 ? 1 : 2);
    }
    close(pipefd[1]);
    ssize_t got = pid > 0 ? read(pipefd[0], err, GANC_ERR_LEN - 1) : 0;
    err[got > 0 ? got : 0] = '\0';
    close(pipefd[0]);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 99;
    return WEXITSTATUS(status) == 0 ? -1 : WEXITSTATUS(status) == 1 ? 0 : 99;
}

static void test_failure_keeps_old_file(void)
{
    const char *path = tpath("keep.bin");
    char err[GANC_ERR_LEN] = "", want[GANC_ERR_LEN];
    const char old[] = "the old file, which must survive byte for byte";
    spit(path, old, sizeof old);

    size_t big = (size_t)1 << 20;
    uint8_t *zeros = calloc(big, 1);
    if (!CHECK(zeros != NULL, "calloc")) return;
    /* the limit falls inside the second part, after part of it was written */
    const ganc_io_part parts[] = {{"header", 6}, {zeros, big}, {"never", 5}};
    int fd0 = next_fd();
    int rc = write_limited(path, parts, 3, "checkpoint", 65536, err);
    snprintf(want, sizeof want, "%s: cannot write checkpoint: %s", path, strerror(EFBIG));
    CHECK(rc == -1, "size limit: the write did not fail (rc %d)", rc);
    CHECK(!strcmp(err, want), "size limit message '%s', want '%s'", err, want);
    CHECK(same_bytes(path, old, sizeof old), "size limit: the old file changed");
    CHECK(check_temp_files(path) == 0, "size limit: PATH.tmp left behind");

    rc = write_limited(path, parts, 3, NULL, 4096, err);
    snprintf(want, sizeof want, "%s: cannot write: %s", path, strerror(EFBIG));
    CHECK(rc == -1 && !strcmp(err, want), "size limit, what NULL: rc %d '%s', want '%s'", rc, err, want);
    CHECK(same_bytes(path, old, sizeof old) && check_temp_files(path) == 0, "size limit, what NULL: files");

    /* the same write without the limit succeeds, so the limit was the cause */
    rc = ganc_io_write_atomic(path, parts, 3, NULL, err);
    CHECK(rc == 0 && check_temp_files(path) == 0, "unlimited write: %s", err);
    size_t n;
    uint8_t *b = slurp(path, &n);
    CHECK(b && n == 6 + big + 5 && !memcmp(b + 6 + big, "never", 5), "unlimited write: %zu bytes", n);
    free(b);
    free(zeros);
    CHECK(next_fd() == fd0, "a descriptor leaked");
}

static void test_missing_directory(void)
{
    const char *path = tpath("no/such/dir/x.bin");
    char err[GANC_ERR_LEN] = "", want[GANC_ERR_LEN];
    const ganc_io_part part = {"data", 4};
    int fd0 = next_fd();
    int rc = ganc_io_write_atomic(path, &part, 1, NULL, err);
    CHECK(rc == -1 && !strncmp(err, path, strlen(path)) && strstr(err, "cannot write"), "missing directory: rc %d '%s'",
          rc, rc ? err : "");
    snprintf(want, sizeof want, "%s: cannot write: %s", path, strerror(ENOENT));
    CHECK(!strcmp(err, want), "missing directory: '%s', want '%s'", err, want);
    rc = ganc_io_write_atomic(path, &part, 1, "samples", err);
    snprintf(want, sizeof want, "%s: cannot write samples: %s", path, strerror(ENOENT));
    CHECK(rc == -1 && !strcmp(err, want), "missing directory, what: '%s', want '%s'", err, want);

    /* PATH is a directory: the rename fails and the temp file is removed */
    const char *dir = tpath("a-directory");
    mkdir(dir, 0700);
    rc = ganc_io_write_atomic(dir, &part, 1, NULL, err);
    CHECK(rc == -1 && !strncmp(err, dir, strlen(dir)) && strstr(err, "cannot write: "), "PATH a directory: '%s'",
          rc ? err : "");
    CHECK(check_temp_files(dir) == 0, "PATH a directory: PATH.tmp left behind");
    CHECK(next_fd() == fd0, "a descriptor leaked");
}

/* Two processes replacing the same file 300 times each, with different contents of 64 KiB:
 * every write succeeds, PATH is always one of the two contents whole (read between writes by
 * the parent), and no temp file is left. With one shared PATH.tmp a writer's rename found the
 * other's file gone (ENOENT), or renamed a file the other was still writing. */
static void test_concurrent_writers(void)
{
    const char *path = tpath("shared.bin");
    static uint8_t content[2][65536];
    memset(content[0], 'a', sizeof content[0]);
    memset(content[1], 'b', sizeof content[1]);
    char err[GANC_ERR_LEN];
    const ganc_io_part first = {content[0], sizeof content[0]};
    CHECK(ganc_io_write_atomic(path, &first, 1, NULL, err) == 0, "first write: %s", err);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            const ganc_io_part part = {content[k], sizeof content[k]};
            for (int i = 0; i < 300; i++)
                if (ganc_io_write_atomic(path, &part, 1, NULL, err) != 0) {
                    fprintf(stderr, "writer %d: %s\n", k, err);
                    _exit(1);
                }
            _exit(0);
        }
    }
    int torn = 0, reads = 0;
    for (int done = 0; done < 2;) {
        size_t n;
        uint8_t *now = slurp(path, &n);
        if (now) {
            reads++;
            torn += !(n == sizeof content[0] && (!memcmp(now, content[0], n) || !memcmp(now, content[1], n)));
            free(now);
        }
        done = 0;
        for (int k = 0; k < 2; k++) {
            int status;
            if (kids[k] > 0 && waitpid(kids[k], &status, WNOHANG) == kids[k]) {
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "concurrent writer %d failed", k);
                kids[k] = -1;
            }
            done += kids[k] < 0;
        }
    }
    CHECK(torn == 0, "concurrent writers: %d of %d reads saw a torn or partial file", torn, reads);
    CHECK(check_temp_files(path) == 0, "concurrent writers: temp files left behind");
}

int main(void)
{
    test_round_trip();
    test_empty();
    test_overwrite();
    test_failure_keeps_old_file();
    test_missing_directory();
    test_concurrent_writers();
    return check_finish("atomic");
}
