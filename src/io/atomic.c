/* Atomic file replacement: a temp file beside PATH, fsync, rename, fsync of the directory (see
 * atomic.h).
 *
 * Why each step:
 * - rename() replaces PATH in one step on POSIX file systems, so readers see the old file or
 *   the new one. Writing the temp file in the same directory keeps the rename on one file
 *   system. Its name is the writer's own (PATH.tmp.PID.N, created with O_EXCL): two runs that
 *   write the same image cache at once each rename a whole file of their own; with one shared
 *   PATH.tmp, one truncated the file the other was writing and renamed it half-written.
 * - fsync of the data before the rename: otherwise a crash soon after can leave PATH renamed
 *   but empty or partly written (delayed allocation on ext4, XFS, ...).
 * - fsync of the directory after the rename: the rename is a change to the directory, and
 *   only syncing it makes the new name survive a crash. */
#include "io/atomic.h"

#include "ganc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h> /* rename */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* At most this many bytes per write(): some systems reject larger counts (macOS fails with
 * EINVAL above INT_MAX) and Linux transfers at most about 2 GiB per call anyway. */
#define WRITE_CHUNK ((size_t)1 << 30)

/* All of buf[0, n) to fd; -1 with errno set otherwise. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n > WRITE_CHUNK ? WRITE_CHUNK : n);
        if (k < 0) {
            if (errno == EINTR) continue; /* a signal arrived before anything was written */
            return -1;
        }
        if (k == 0) { /* cannot happen for a regular file; never loop forever on it */
            errno = EIO;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* fsync of the directory holding path, so the rename itself survives a crash. File systems
 * that cannot sync directories answer EINVAL; there is nothing more to do on those, so that
 * is success. Any other failure is reported: the caller asked for a durable file. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) {
        errno = ENOMEM;
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = errno;
    free(dir);
    if (fd < 0) {
        errno = e;
        return -1;
    }
    int rc = fsync(fd);
    e = errno;
    close(fd); /* read-only: nothing its close could lose */
    if (rc != 0 && e == EINVAL) return 0;
    errno = e;
    return rc;
}

/* "PATH: cannot write[ WHAT]: REASON[: DETAIL]"; always -1. */
static int fail(char err[GANC_ERR_LEN], const char *path, const char *what, const char *reason, const char *detail)
{
    return ganc_fail(err, "%s: cannot write%s%s: %s%s%s", path, what ? " " : "", what ? what : "", reason,
                     detail ? ": " : "", detail ? detail : "");
}

int ganc_io_write_atomic(const char *path, const ganc_io_part *parts, int n_parts, const char *what,
                         char err[GANC_ERR_LEN])
{
    /* An empty path would otherwise write ".tmp" in the current directory before failing. */
    if (!path || !*path) return fail(err, "(empty path)", what, "no file name", NULL);
    if (n_parts < 0 || (n_parts > 0 && !parts)) return fail(err, path, what, strerror(EINVAL), NULL);
    for (int i = 0; i < n_parts; i++)
        if (parts[i].len && !parts[i].data) return fail(err, path, what, strerror(EINVAL), NULL);

    const size_t len = strlen(path) + sizeof ".tmp." + 48;
    char *tmp = malloc(len);
    if (!tmp) return fail(err, path, what, "out of memory", NULL);

    /* O_EXCL: a name some other writer holds (or left by a crash) is never reused; the
     * counter moves on. O_CLOEXEC: a child started meanwhile by another thread must not
     * inherit the descriptor. Mode 0666 is narrowed by the umask, as for any file a program
     * creates (what fopen does). */
    static _Atomic unsigned serial;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 1000; tries++) {
        snprintf(tmp, len, "%s.tmp.%ld.%u", path, (long)getpid(), serial++);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        int e = errno;
        free(tmp); /* not created by us (or not at all): nothing to remove */
        return fail(err, path, what, strerror(e), NULL);
    }
    int e = 0;
    for (int i = 0; i < n_parts && !e; i++)
        if (write_all(fd, parts[i].data, parts[i].len) != 0) e = errno ? errno : EIO;
    if (!e && fsync(fd) != 0) e = errno ? errno : EIO;
    /* close() can report a failed write late (NFS, quotas); never retried, because on Linux the
     * descriptor is gone even when close fails with EINTR. */
    if (close(fd) != 0 && !e) e = errno ? errno : EIO;
    if (!e && rename(tmp, path) != 0) e = errno ? errno : EIO;
    if (e) {
        unlink(tmp); /* PATH itself was never touched */
        free(tmp);
        return fail(err, path, what, strerror(e), NULL);
    }
    free(tmp);
    /* The new file is in place; only its durability across a crash can still be in doubt. */
    if (sync_dir(path) != 0) return fail(err, path, what, "syncing its directory", strerror(errno));
    return 0;
}
