#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int passed, failed;
int check_verbose;

int check_true(int ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        passed++;
        return 1;
    }
    failed++;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 0;
}

double check_rel_err(const float *got, const float *want, size_t n, double floor)
{
    double worst = 0.0, scale = floor;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= worst)) worst = d; /* NaN propagates as a failure */
        if (fabs((double)want[i]) > scale) scale = fabs((double)want[i]);
    }
    return worst / scale;
}

int check_close(const char *what, const float *got, const float *want, size_t n, double tol)
{
    double e = check_rel_err(got, want, n, 1e-12);
    if (check_verbose || getenv("GANC_TEST_VERBOSE")) printf("  %-40s rel err %.3g\n", what, e);
    return check_true(e <= tol, __FILE__, __LINE__, "%s: relative error %.3g > %.3g", what, e, tol);
}

static char tmpdir[64];
static pid_t tmpdir_owner;

/* rm -rf path, without following symbolic links; complains only about what it cannot remove. */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            size_t n = strlen(path) + strlen(e->d_name) + 2;
            char *p = malloc(n);
            if (!p) continue;
            snprintf(p, n, "%s/%s", path, e->d_name);
            remove_tree(p);
            free(p);
        }
        if (d) closedir(d);
        if (rmdir(path) != 0) fprintf(stderr, "could not remove %s: %s\n", path, strerror(errno));
    } else if (unlink(path) != 0) {
        fprintf(stderr, "could not remove %s: %s\n", path, strerror(errno));
    }
}

/* Only the process that made the directory removes it: a forked child that calls exit()
 * instead of _exit() must not delete it under its parent. */
static void remove_tmpdir(void)
{
    if (tmpdir[0] && getpid() == tmpdir_owner) remove_tree(tmpdir);
}

const char *check_tmpdir(void)
{
    if (!tmpdir[0]) {
        char t[] = "/tmp/ganc_test_XXXXXX";
        if (!mkdtemp(t)) {
            perror("mkdtemp");
            exit(2);
        }
        memcpy(tmpdir, t, sizeof t);
        tmpdir_owner = getpid();
        if (atexit(remove_tmpdir) != 0) fprintf(stderr, "%s will not be removed at exit\n", tmpdir);
    }
    return tmpdir;
}

float *check_floats(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory for %zu floats\n", n);
        exit(2);
    }
    return p;
}

int check_temp_files(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[1024];
    const char *base = slash ? slash + 1 : path;
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(slash && slash == path ? "/" : dir);
    if (!d) return -1;
    const size_t n = strlen(base);
    int count = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (!strncmp(e->d_name, base, n) && !strncmp(e->d_name + n, ".tmp", 4) &&
            (e->d_name[n + 4] == '\0' || e->d_name[n + 4] == '.'))
            count++;
    closedir(d);
    return count;
}

int check_finish(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}
