/* The run directory (see run_dir.h). */
#include "cli/run_dir.h"
#include "cli/cli.h"
#include "ganc_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Checks before creating anything that the nearest existing ancestor of the directory is a
 * writable directory, so that the mkdir -p in make_run_dir will work. */
static int check_out_parent(const char *dir, char err[GANC_ERR_LEN])
{
    char parent[1024];
    snprintf(parent, sizeof parent, "%s", dir);
    for (;;) {
        char *slash = strrchr(parent, '/');
        while (slash && slash > parent && slash[1] == 0) { /* trailing slashes */
            *slash = 0;
            slash = strrchr(parent, '/');
        }
        if (!slash) snprintf(parent, sizeof parent, ".");
        else if (slash == parent) parent[1] = 0;
        else *slash = 0;
        struct stat st;
        if (stat(parent, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) return ganc_fail(err, "--out %s: %s is not a directory", dir, parent);
            if (access(parent, W_OK | X_OK) != 0)
                return ganc_fail(err, "--out %s: cannot create it in %s: %s", dir, parent, strerror(errno));
            return 0;
        }
        if (!strcmp(parent, ".") || !strcmp(parent, "/")) return ganc_fail(err, "--out %s: no existing parent directory", dir);
    }
}

/* mkdir -p of the run directory's parents. */
static int make_parents(const char *dir, char err[GANC_ERR_LEN])
{
    char path[1024];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) return ganc_fail(err, "--out %s: cannot create %s: %s", dir, path, strerror(errno));
        *p = '/';
    }
    return 0;
}

/* samples/ and ckpt/ (also on resume: a run whose samples/ was deleted goes on) */
static int make_run_subdirs(const char *dir, char err[GANC_ERR_LEN])
{
    char sub[1100];
    cli_pathf(sub, sizeof sub, "%s/samples", dir);
    if (mkdir(sub, 0777) != 0 && errno != EEXIST) return ganc_fail(err, "%s: cannot create: %s", sub, strerror(errno));
    cli_pathf(sub, sizeof sub, "%s/ckpt", dir);
    if (mkdir(sub, 0777) != 0 && errno != EEXIST) return ganc_fail(err, "%s: cannot create: %s", sub, strerror(errno));
    return 0;
}

static int make_run_dir(const char *dir, char err[GANC_ERR_LEN])
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        DIR *d = opendir(dir);
        if (!d) return ganc_fail(err, "--out %s: exists and is not a readable directory", dir);
        int entries = 0;
        for (struct dirent *e; (e = readdir(d));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries++;
        closedir(d);
        if (entries)
            return ganc_fail(err, "--out %s: directory is not empty (continue a run with --resume %s)", dir, dir);
    } else if (make_parents(dir, err) != 0) {
        return -1;
    } else if (mkdir(dir, 0777) != 0) {
        return ganc_fail(err, "--out %s: cannot create: %s", dir, strerror(errno));
    }
    return make_run_subdirs(dir, err);
}

int cli_run_dir_create(const char *dir, char err[GANC_ERR_LEN])
{
    return check_out_parent(dir, err) || make_run_dir(dir, err) ? -1 : 0;
}

int cli_run_dir_reopen(const char *dir, char err[GANC_ERR_LEN]) { return make_run_subdirs(dir, err); }

static int by_name(const void *a, const void *b) { return strcmp(a, b); }

int cli_run_dir_checkpoint(const char *dir, const ganc_session *s, char err[GANC_ERR_LEN])
{
    char path[1100], ckdir[1100];
    cli_pathf(ckdir, sizeof ckdir, "%s/ckpt", dir);
    cli_pathf(path, sizeof path, "%s/step_%09" PRId64 ".safetensors", ckdir, s->step);
    if (ganc_checkpoint_save(path, s, err)) return -1;
    DIR *d = opendir(ckdir);
    if (!d) return 0;
    char names[1024][32];
    int n = 0;
    const size_t name_len = strlen("step_000000000.safetensors");
    for (struct dirent *e; (e = readdir(d)) && n < 1024;) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "step_", 5) != 0) continue;
        if (len == name_len) {
            snprintf(names[n++], sizeof names[0], "%s", e->d_name);
        } else if (len >= name_len + 4 && !strncmp(e->d_name + name_len, ".tmp", 4) &&
                   (e->d_name[name_len + 4] == '\0' || e->d_name[name_len + 4] == '.')) {
            cli_pathf(path, sizeof path, "%s/%s", ckdir, e->d_name);
            unlink(path); /* ours just completed: every temp file (NAME.tmp[.PID.N]) here is stale */
        }
    }
    closedir(d);
    /* fixed-width names: the lexicographically smallest are the oldest */
    qsort(names, (size_t)n, sizeof names[0], by_name);
    for (int i = 0; i + s->cfg.keep < n; i++) {
        cli_pathf(path, sizeof path, "%s/%s", ckdir, names[i]);
        unlink(path);
    }
    return 0;
}
