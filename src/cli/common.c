/* Helpers shared by the sub-commands: errors, finding checkpoints and data (flags: flags.c;
 * reading them, with their errors and --help printed: cli_flags_read here). */
#include "cli/cli.h"
#include "cli/flags.h"
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

/* Here, not in flags.c: the parser prints nothing, so that the fuzzer can compile it alone. */
int cli_flags_read(const cli_command *c, int argc, char **argv)
{
    char err[GANC_ERR_LEN];
    const int parsed = cli_flags_parse(c, argc, argv, err);
    if (parsed > 0) cli_flags_help(c, stdout);
    else if (parsed) cli_error("%s", err);
    return parsed;
}

void cli_pathf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

int cli_precision_flag(const char *cmd, const char *value, int *out, char err[GANC_ERR_LEN])
{
    if (!value) return 0;
    ganc_config c;
    char why[GANC_ERR_LEN];
    ganc_config_defaults(&c);
    if (ganc_config_set(&c, "precision", value, why)) return ganc_fail(err, "%s: %s", cmd, why);
    *out = c.precision;
    return 0;
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

/* The decoding progress of a folder: one redrawn line on a terminal, else a line per tenth. */
typedef struct {
    const char *what;
    int tty, shown, last_tenth;
    double last;
} decode_progress;

static void on_decode(void *ctx, int done, int total)
{
    decode_progress *p = ctx;
    const double now = cli_now();
    if (p->tty) {
        if (done < total && now - p->last < 0.2) return;
        p->last = now;
        fprintf(stderr, "\rganc: reading %s: %d of %d files", p->what, done, total);
        if (done == total) fputc('\n', stderr);
        p->shown = 1;
        return;
    }
    const int tenth = total ? (int)((long long)done * 10 / total) : 10;
    if (tenth == p->last_tenth) return;
    p->last_tenth = tenth;
    fprintf(stderr, "ganc: reading %s: %d of %d files\n", p->what, done, total);
}

/* What a folder's walk found, on stderr: the cache, then the broken pictures (the first few). */
static void report_folder(const ganc_source *src)
{
    const ganc_folder_report *r = &src->report;
    if (!r->images) return;
    struct stat st;
    const double mb = r->cache_path[0] && stat(r->cache_path, &st) == 0 ? (double)st.st_size / 1e6 : 0.0;
    if (r->cache_path[0])
        fprintf(stderr, "ganc: %s: %d pictures %s %s (%.1f MB)\n", src->ds.images_path, r->images,
                r->from_cache ? "read from the cache" : "decoded into the cache", r->cache_path, mb);
    if (r->ignored) fprintf(stderr, "ganc: %s: %d files that are not pictures ignored\n", src->ds.images_path, r->ignored);
    if (r->note[0]) fprintf(stderr, "ganc: %s: %s\n", src->ds.images_path, r->note);
    if (!r->broken) return;
    fprintf(stderr, "ganc: %s: %d broken picture%s skipped:\n", src->ds.images_path, r->broken, r->broken > 1 ? "s" : "");
    for (int i = 0; i < r->broken && i < CLI_BROKEN_SHOWN; i++) fprintf(stderr, "  %s\n", r->broken_names[i]);
    if (r->broken > CLI_BROKEN_SHOWN) fprintf(stderr, "  ... and %d more\n", r->broken - CLI_BROKEN_SHOWN);
}

int cli_open_source(const ganc_config *cfg, int test, int verbose, ganc_source *src, char err[GANC_ERR_LEN])
{
    char path[1024];
    memset(src, 0, sizeof *src);
    if (cli_resolve_data(cfg->data, path, sizeof path, err)) return -1;
    if (cli_open_path(path, cfg, test, verbose, src, err)) return -1;
    /* Fashion-MNIST's IDX files carry label numbers only: its classes' names, as Zalando
     * Research publishes them, so that runs, `ganc info` and `ganc sample --class` use them */
    static const char *const fashion[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    if (!strcmp(cfg->data, "fashion-mnist") && src->ds.n_classes == 10 && !src->ds.class_names) {
        char **names = calloc(10, sizeof *names);
        for (int k = 0; names && k < 10; k++)
            if (!(names[k] = strdup(fashion[k]))) {
                for (int j = 0; j < k; j++) free(names[j]);
                free(names);
                names = NULL;
            }
        src->ds.class_names = names; /* (out of memory: numbers, as without) */
    }
    return 0;
}

int cli_open_path(const char *path, const ganc_config *cfg, int test, int verbose, ganc_source *src,
                  char err[GANC_ERR_LEN])
{
    ganc_source_options o;
    memset(src, 0, sizeof *src);
    if (ganc_source_options_from_config(cfg, &o, err)) return -1;
    o.test = test;
    decode_progress prog = {.what = path, .tty = isatty(2), .last_tenth = -1};
    if (verbose) {
        o.progress = on_decode;
        o.progress_ctx = &prog;
    }
    if (ganc_source_open(path, &o, src, err)) return -1;
    if (verbose) report_folder(src);
    return 0;
}

int cli_write_data_report(const ganc_source *src, const char *dir, char err[GANC_ERR_LEN])
{
    const ganc_folder_report *r = &src->report;
    char path[1100];
    cli_pathf(path, sizeof path, "%s/data.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) return ganc_fail(err, "%s: %s", path, strerror(errno));
    fprintf(f, "data: %s\n", src->desc);
    if (r->cache_path[0]) fprintf(f, "cache: %s\n", r->cache_path);
    if (r->note[0]) fprintf(f, "note: %s\n", r->note);
    if (r->images) fprintf(f, "ignored (not pictures): %d\nbroken (skipped): %d\n", r->ignored, r->broken);
    for (int i = 0; i < r->broken; i++) fprintf(f, "  %s\n", r->broken_names[i]);
    char buf[16];
    for (int k = 0; src->ds.labels && k < src->ds.n_classes; k++)
        fprintf(f, "class %d: %s\n", k, ganc_source_class_name(src, k, buf));
    if (fclose(f)) return ganc_fail(err, "%s: %s", path, strerror(errno));
    return 0;
}

int cli_cond_classes(ganc_config *cfg, const ganc_source *src, char err[GANC_ERR_LEN])
{
    if (cfg->cond == GANC_COND_OFF) return 0;
    char buf[64];
    const char *name = ganc_config_get(cfg, "cond", buf);
    if (src->kind != GANC_SOURCE_IMAGES || !src->ds.labels || src->ds.base_n)
        return ganc_fail(err, "--cond %s: --data %s has no labels to condition on (labelled data: a folder of class "
                              "sub-folders, cifar10:DIR, an IDX file with its labels file, an NPY array with its labels)",
                         name, cfg->data);
    if (cfg->classes == 0) cfg->classes = src->ds.n_classes;
    if (cfg->classes < src->ds.n_classes)
        return ganc_fail(err, "--classes %d: --data %s has labels up to %d", cfg->classes, cfg->data,
                         src->ds.n_classes - 1);
    return ganc_game_check_cond(cfg, err);
}

int cli_source_classes(const ganc_source *src, ganc_session *s, char err[GANC_ERR_LEN])
{
    const int n = src->ds.labels && !src->ds.base_n ? src->ds.n_classes : 0;
    if (n <= 0) return ganc_session_set_classes(s, NULL, 0, err);
    char **names = calloc((size_t)n, sizeof *names), (*bufs)[16] = calloc((size_t)n, sizeof *bufs);
    if (!names || !bufs) {
        free(names);
        free(bufs);
        return ganc_fail(err, "out of memory");
    }
    for (int k = 0; k < n; k++) names[k] = (char *)ganc_source_class_name(src, k, bufs[k]);
    const int rc = ganc_session_set_classes(s, names, n, err);
    free(names);
    free(bufs);
    return rc;
}
