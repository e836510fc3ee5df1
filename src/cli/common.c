/* Helpers shared by the sub-commands: errors, finding checkpoints and data (flags: flags.c). */
#include "cli/cli.h"
#include "data/data.h"
#include "ganc_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ganc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

void cli_pathf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

int cli_find_checkpoint(const char *dir_or_file, char *path, size_t cap, char err[GANC_ERR_LEN])
{
    struct stat st;
    if (stat(dir_or_file, &st) != 0) return ganc_fail(err, "%s: %s", dir_or_file, strerror(errno));
    if (S_ISREG(st.st_mode)) {
        snprintf(path, cap, "%s", dir_or_file);
        return 0;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/ckpt", dir_or_file);
    DIR *d = opendir(dir);
    if (!d) return ganc_fail(err, "%s: no checkpoints (no ckpt/ directory: is this a ganc run?)", dir_or_file);
    char best[256] = "";
    for (struct dirent *e; (e = readdir(d));) {
        const size_t n = strlen(e->d_name);
        /* step_NNNNNNNNN.safetensors: fixed-width numbers sort as text */
        if (n == strlen("step_000000000.safetensors") && !strncmp(e->d_name, "step_", 5) &&
            !strcmp(e->d_name + n - 12, ".safetensors") && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    }
    closedir(d);
    if (!best[0]) return ganc_fail(err, "%s: no checkpoint in %s", dir_or_file, dir);
    snprintf(path, cap, "%s/%s", dir, best);
    return 0;
}

/* The repository's data/ folder as the build saw it (the Makefile passes it), so that a ganc built
 * in a checkout finds the shipped data sets from any directory. */
#ifndef GANC_BUILD_DATA_DIR
#define GANC_BUILD_DATA_DIR "data"
#endif

static int readable(const char *p) { return access(p, R_OK) == 0; }

int cli_resolve_data(const char *name, char *path, size_t cap, char err[GANC_ERR_LEN])
{
    /* Stacked MNIST over a named or given set: "stacked-mnist" alone is over mnist-10k, the
     * MNIST digits every checkout has. The result keeps the prefix: the data loader composes. */
    const size_t plen = strlen(GANC_STACKED_PREFIX);
    if (!strcmp(name, "stacked-mnist") || !strncmp(name, GANC_STACKED_PREFIX, plen)) {
        const char *base = strncmp(name, GANC_STACKED_PREFIX, plen) ? "mnist-10k" : name + plen;
        char inner[1024];
        if (!*base) return ganc_fail(err, "--data %s: which MNIST file? (stacked-mnist:PATH, or stacked-mnist for mnist-10k)", name);
        if (cli_resolve_data(base, inner, sizeof inner, err)) return -1;
        snprintf(path, cap, "%s%s", GANC_STACKED_PREFIX, inner);
        return 0;
    }
    if (!strcmp(name, "fashion-mnist")) {
        const char *p = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
        if (!readable(p))
            return ganc_fail(err, "--data fashion-mnist: not installed (%s is missing); install it with "
                                  "'apt-get install dataset-fashion-mnist' (as root) or pass --data PATH",
                             p);
        snprintf(path, cap, "%s", p);
        return 0;
    }
    if (!strcmp(name, "mnist-10k")) {
        /* The 10,000 digits shipped in the repository's data/mnist-10k/: under $GANC_DATA_DIR
         * when set, else where the build found them, else under the current directory. */
        const char *file = "mnist-10k/images-idx3-ubyte.gz";
        const char *env = getenv("GANC_DATA_DIR");
        const char *dirs[] = {env && *env ? env : NULL, GANC_BUILD_DATA_DIR, "data"};
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
            if (!dirs[i]) continue;
            snprintf(path, cap, "%s/%s", dirs[i], file);
            if (readable(path)) return 0;
        }
        return ganc_fail(err, "--data mnist-10k: %s not found under %s%s%s or ./data; set GANC_DATA_DIR to the "
                              "folder that holds mnist-10k/ or pass --data PATH to an IDX file",
                         file, env && *env ? env : "", env && *env ? ", " : "", GANC_BUILD_DATA_DIR);
    }
    snprintf(path, cap, "%s", name);
    return 0;
}

int cli_open_data(const char *name, ganc_dataset *ds, const ganc_toy2d **toy, char *path, size_t cap,
                  char err[GANC_ERR_LEN])
{
    char unused[GANC_ERR_LEN];
    memset(ds, 0, sizeof *ds);
    *toy = ganc_toy2d_find(name, unused);
    if (*toy) {
        ds->n = GANC_TOY2D_EPOCH;
        ds->shape = (ganc_shape){2, 1, 1};
        snprintf(path, cap, "%s", name);
        return 0;
    }
    return cli_resolve_data(name, path, cap, err) || ganc_dataset_load_idx(path, ds, err) ? -1 : 0;
}
