/* Image folders: the walk, the cache key, the decoding (folder.h says what the user sees). */
#include "data/folder.h"
#include "data/image_header.h"
#include "ganc_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef GANC_HAVE_STB
#include <stb/stb_image.h>
#endif

enum { MAX_DEPTH = 64, MAX_FILES = 10000000, MAX_CLASSES = 255, SHOW_PROGRESS_EVERY = 64 };
#define MAX_FILE_BYTES ((long long)1 << 30) /* a picture file larger than 1 GiB is not read */

typedef struct {
    char *path;      /* as opened: DIR/... */
    long long size;
    long long mtime_ns;
    int top;         /* the first-level folder's index, -1 for a file directly in DIR */
    int w, h, comp;  /* from the header pass; comp 0: not a picture */
    char *why;       /* broken: the reason */
} entry;

typedef struct {
    entry *e;
    int n, cap;
    char **tops; /* first-level folder names, sorted */
    int n_tops;
    struct {
        dev_t dev;
        ino_t ino;
    } stack[MAX_DEPTH + 1]; /* the folders being walked, for symbolic link loops */
    char err[GANC_ERR_LEN];
} walk_state;

void ganc_folder_options_default(ganc_folder_options *o)
{
    memset(o, 0, sizeof *o);
    o->fit = GANC_FIT_CROP;
    o->background[0] = o->background[1] = o->background[2] = 255;
}

void ganc_folder_cache_dir(char *out, size_t cap)
{
    const char *v;
    if ((v = getenv("GANC_CACHE_DIR")) && *v)
        snprintf(out, cap, "%s", v);
    else if ((v = getenv("XDG_CACHE_HOME")) && *v)
        snprintf(out, cap, "%s/ganc", v);
    else if ((v = getenv("HOME")) && *v)
        snprintf(out, cap, "%s/.cache/ganc", v);
    else
        snprintf(out, cap, ".ganc-cache");
}

void ganc_folder_report_free(ganc_folder_report *r)
{
    for (int i = 0; i < r->broken && r->broken_names; i++) free(r->broken_names[i]);
    free(r->broken_names);
    memset(r, 0, sizeof *r);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names in a folder (not starting with '.'), sorted; NULL with w->err set on failure. */
static char **list_folder(walk_state *w, const char *path, int *count)
{
    DIR *d = opendir(path);
    if (!d) {
        ganc_fail(w->err, "%s: cannot read the folder: %s", path, strerror(errno));
        return NULL;
    }
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, sizeof *names * (size_t)cap);
            if (!grown) break;
            names = grown;
        }
        if (!(names[n] = strdup(de->d_name))) break;
        n++;
    }
    const int failed = de != NULL;
    closedir(d);
    if (failed) {
        for (int i = 0; i < n; i++) free(names[i]);
        free(names);
        ganc_fail(w->err, "%s: out of memory listing the folder", path);
        return NULL;
    }
    if (n) qsort(names, (size_t)n, sizeof *names, by_name);
    *count = n;
    return names ? names : calloc(1, sizeof *names);
}

static int add_file(walk_state *w, const char *path, const struct stat *st, int top)
{
    if (w->n == MAX_FILES) return ganc_fail(w->err, "%s: more than %d files under the folder", path, MAX_FILES);
    if (w->n == w->cap) {
        const int cap = w->cap ? 2 * w->cap : 256;
        entry *grown = realloc(w->e, sizeof *grown * (size_t)cap);
        if (!grown) return ganc_fail(w->err, "out of memory listing the folder");
        w->e = grown;
        w->cap = cap;
    }
    entry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    if (!(e->path = strdup(path))) return ganc_fail(w->err, "out of memory listing the folder");
    e->size = (long long)st->st_size;
    e->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000ll + st->st_mtim.tv_nsec;
    e->top = top;
    w->n++;
    return 0;
}

static int walk(walk_state *w, const char *path, int depth, int top)
{
    int count = 0;
    char **names = list_folder(w, path, &count);
    if (!names) return -1;
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        char child[4096];
        if ((size_t)snprintf(child, sizeof child, "%s/%s", path, names[i]) >= sizeof child) {
            rc = ganc_fail(w->err, "%s/%s: path too long", path, names[i]);
            break;
        }
        struct stat st;
        if (stat(child, &st) != 0) { /* a dangling link or a file that went away: not a picture */
            struct stat lst;
            if (lstat(child, &lst) == 0) continue;
            rc = ganc_fail(w->err, "%s: %s", child, strerror(errno));
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            for (int a = 0; a <= depth; a++)
                if (w->stack[a].dev == st.st_dev && w->stack[a].ino == st.st_ino)
                    rc = ganc_fail(w->err, "%s: a symbolic link loop (it leads back to a folder above it)", child);
            if (rc == 0 && depth + 1 > MAX_DEPTH)
                rc = ganc_fail(w->err, "%s: folders nested deeper than %d", child, MAX_DEPTH);
            if (rc) break;
            w->stack[depth + 1].dev = st.st_dev;
            w->stack[depth + 1].ino = st.st_ino;
            int sub_top = top;
            if (depth == 0) { /* a first-level folder: a class */
                char **grown = realloc(w->tops, sizeof *grown * (size_t)(w->n_tops + 1));
                if (!grown || !(grown[w->n_tops] = strdup(names[i]))) {
                    if (grown) w->tops = grown;
                    rc = ganc_fail(w->err, "out of memory listing the folder");
                    break;
                }
                w->tops = grown;
                sub_top = w->n_tops++;
            }
            rc = walk(w, child, depth + 1, sub_top);
        } else if (S_ISREG(st.st_mode)) {
            rc = add_file(w, child, &st, top);
        }
    }
    for (int i = 0; i < count; i++) free(names[i]);
    free(names);
    return rc;
}

static void walk_free(walk_state *w)
{
    for (int i = 0; i < w->n; i++) {
        free(w->e[i].path);
        free(w->e[i].why);
    }
    free(w->e);
    for (int i = 0; i < w->n_tops; i++) free(w->tops[i]);
    free(w->tops);
}

/* FNV-1a, 64 bits: the cache key of the options and every file's path, size and time. */
static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t cache_key(const walk_state *w, const ganc_folder_options *o)
{
    char line[256];
    uint64_t h = 0xcbf29ce484222325ull;
    /* strict is part of the key: a cache made while skipping broken pictures must not let a
     * strict load pass */
    snprintf(line, sizeof line, "ganc image folder v1|%dx%d|fit %d|channels %d|bg %d,%d,%d|strict %d|", o->height,
             o->width, (int)o->fit, o->channels, o->background[0], o->background[1], o->background[2], o->strict);
    h = fnv(h, line, strlen(line));
    for (int i = 0; i < w->n; i++) {
        const entry *e = &w->e[i];
        h = fnv(h, e->path, strlen(e->path) + 1);
        snprintf(line, sizeof line, "%lld|%lld|%d|", e->size, e->mtime_ns, e->top);
        h = fnv(h, line, strlen(line));
    }
    return h;
}

static void cache_file(const char *dir, const ganc_folder_options *o, uint64_t key, char *out, size_t cap)
{
    char base[64], cdir[900];
    const char *slash = strrchr(dir, '/');
    while (slash && !slash[1] && slash > dir) { /* "photos/" names photos */
        const char *prev = slash - 1;
        while (prev > dir && *prev != '/') prev--;
        slash = *prev == '/' ? prev : NULL;
    }
    const char *name = slash ? slash + 1 : dir;
    size_t k = 0;
    for (; name[k] && name[k] != '/' && k < sizeof base - 1; k++)
        base[k] = (char)((name[k] >= 'a' && name[k] <= 'z') || (name[k] >= 'A' && name[k] <= 'Z') ||
                                 (name[k] >= '0' && name[k] <= '9') || name[k] == '-' || name[k] == '_'
                             ? name[k]
                             : '_');
    base[k] = 0;
    if (o->cache_dir)
        snprintf(cdir, sizeof cdir, "%s", o->cache_dir);
    else
        ganc_folder_cache_dir(cdir, sizeof cdir);
    snprintf(out, cap, "%s/%s-%016llx.gancset", cdir, k ? base : "images", (unsigned long long)key);
}

/* mkdir -p of the folder that will hold path. */
static void make_parents(const char *path)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
}

#ifdef GANC_HAVE_STB
static int has_image_extension(const char *path)
{
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".ppm", ".pgm", ".pnm", ".psd", ".hdr", ".pic"};
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (!strcasecmp(dot, ext[i])) return 1;
    return 0;
}

static int note_broken(entry *e, const char *fmt, const char *detail)
{
    char buf[512];
    snprintf(buf, sizeof buf, fmt, detail);
    free(e->why);
    e->why = strdup(buf);
    return -1;
}

/* Reads a whole file; NULL (with e->why) when it cannot be read or is absurdly large. */
static uint8_t *slurp(entry *e, size_t *len)
{
    FILE *f = fopen(e->path, "rb");
    if (!f) return note_broken(e, "cannot open: %s", strerror(errno)), NULL;
    uint8_t *buf = NULL;
    if (e->size > MAX_FILE_BYTES)
        note_broken(e, "%s", "larger than 1 GiB");
    else if (!(buf = malloc(e->size ? (size_t)e->size : 1)))
        note_broken(e, "%s", "out of memory reading it");
    else if (fread(buf, 1, (size_t)e->size, f) != (size_t)e->size) {
        note_broken(e, "%s", "cannot read it whole (did it change?)");
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)e->size;
    return buf;
}

/* The header pass: e->w, h, comp from the picture's first bytes, without decoding; a picture
 * declaring more than the pixel limit is refused here. */
static void read_header(entry *e)
{
    enum { HEAD = 256 * 1024 }; /* past a JPEG's largest metadata segments */
    FILE *f = fopen(e->path, "rb");
    if (!f) {
        note_broken(e, "cannot open: %s", strerror(errno));
        return;
    }
    uint8_t *buf = malloc(HEAD);
    const size_t len = buf ? fread(buf, 1, HEAD, f) : 0;
    fclose(f);
    if (!buf) {
        note_broken(e, "%s", "out of memory reading it");
        return;
    }
    ganc_image_info info;
    const int known = ganc_image_header(buf, len, &info);
    int w, h, comp;
    if (known && info.width * info.height > GANC_MAX_IMAGE_PIXELS) {
        char dims[64];
        snprintf(dims, sizeof dims, "%s of %lldx%lld", info.format, info.width, info.height);
        note_broken(e, "a %s pixels: more than the limit of 64 Mpx (refused from its header)", dims);
    } else if (len > 0 && stbi_info_from_memory(buf, (int)len, &w, &h, &comp)) {
        if ((long long)w * h > GANC_MAX_IMAGE_PIXELS) {
            char dims[64];
            snprintf(dims, sizeof dims, "%dx%d", w, h);
            note_broken(e, "declares %s pixels, more than the limit of 64 Mpx (refused from its header)", dims);
        } else {
            e->w = w, e->h = h, e->comp = comp;
        }
    } else if (known) {
        note_broken(e, "a %s file stb_image cannot read (a damaged header?)", info.format);
    } else if (has_image_extension(e->path)) {
        note_broken(e, "%s", "named as a picture, but not one stb_image can read");
    }
    free(buf);
}

/* Decodes, converts and fits one picture into dst (c, oh, ow); -1 with e->why on failure. */
static int decode(entry *e, int c, int oh, int ow, const ganc_folder_options *o, uint8_t *dst)
{
    size_t len = 0;
    uint8_t *buf = slurp(e, &len);
    if (!buf) return -1;
    int w, h, comp;
    uint8_t *px = stbi_load_from_memory(buf, (int)len, &w, &h, &comp, 0);
    free(buf);
    if (!px) return note_broken(e, "%s", "cannot be decoded (damaged or truncated)");
    int rc = -1;
    uint8_t *planes = malloc((size_t)w * (size_t)h * (size_t)c);
    if (!planes) {
        note_broken(e, "%s", "out of memory decoding it");
    } else {
        char err[GANC_ERR_LEN];
        ganc_image_planes(px, w, h, comp, c, o->background, planes);
        rc = ganc_fit_planes(planes, c, w, h, dst, ow, oh, o->fit, o->background, err);
        if (rc) note_broken(e, "%s", err);
    }
    free(planes);
    stbi_image_free(px);
    return rc;
}

/* Picks the set's shape from the options and the headers. */
static int choose_shape(const walk_state *w, const char *dir, const ganc_folder_options *o, ganc_shape *s,
                        char err[GANC_ERR_LEN])
{
    const entry *first = NULL;
    int colour = 0;
    for (int i = 0; i < w->n; i++) {
        const entry *e = &w->e[i];
        if (!e->comp || e->why) continue;
        colour |= e->comp >= 3;
        if (!first) first = e;
        if (!o->height && (e->w != first->w || e->h != first->h))
            return ganc_fail(err, "%s: the pictures differ in size (%dx%d %s, %dx%d %s): pass --size S or --size HxW",
                             dir, first->w, first->h, first->path, e->w, e->h, e->path);
    }
    s->c = o->channels ? o->channels : colour ? 3 : 1;
    s->h = o->height ? o->height : first->h;
    s->w = o->width ? o->width : first->w;
    if (s->h > 4096 || s->w > 4096)
        return ganc_fail(err, "%s: pictures of %dx%d are larger than the limit of 4096x4096: pass --size", dir, s->w,
                         s->h);
    return 0;
}

/* Labels from the first-level folders that hold pictures, or a note why there are none. */
static int assign_labels(const walk_state *w, const int *kept, int n, ganc_dataset *ds, ganc_folder_report *r,
                         char err[GANC_ERR_LEN])
{
    int top_level = 0, *label_of = calloc((size_t)w->n_tops + 1, sizeof *label_of);
    if (!label_of) return ganc_fail(err, "out of memory");
    for (int i = 0; i < n; i++) {
        const int t = w->e[kept[i]].top;
        if (t < 0)
            top_level++;
        else
            label_of[t] = 1;
    }
    int classes = 0;
    for (int t = 0; t < w->n_tops; t++) label_of[t] = label_of[t] ? classes++ : -1;
    if (top_level && classes)
        snprintf(r->note, sizeof r->note, "%d pictures sit directly in the folder, beside %d class folders: the set is unlabelled",
                 top_level, classes);
    else if (classes > MAX_CLASSES)
        snprintf(r->note, sizeof r->note, "%d class folders, more than the %d labels ganc keeps: the set is unlabelled",
                 classes, MAX_CLASSES);
    if (top_level || !classes || classes > MAX_CLASSES) {
        free(label_of);
        return 0;
    }
    ds->labels = malloc((size_t)n);
    ds->class_names = calloc((size_t)classes, sizeof *ds->class_names);
    int rc = ds->labels && ds->class_names ? 0 : ganc_fail(err, "out of memory");
    ds->n_classes = classes;
    for (int i = 0; i < n && rc == 0; i++) ds->labels[i] = (uint8_t)label_of[w->e[kept[i]].top];
    for (int t = 0; t < w->n_tops && rc == 0; t++)
        if (label_of[t] >= 0 && !(ds->class_names[label_of[t]] = strdup(w->tops[t]))) rc = ganc_fail(err, "out of memory");
    free(label_of);
    return rc;
}

static int collect_report(walk_state *w, ganc_folder_report *r)
{
    for (int i = 0; i < w->n; i++) r->broken += w->e[i].why != NULL;
    if (r->broken && !(r->broken_names = calloc((size_t)r->broken, sizeof *r->broken_names))) return -1;
    for (int i = 0, k = 0; i < w->n; i++) {
        const entry *e = &w->e[i];
        r->ignored += !e->comp && !e->why;
        if (!e->why) continue;
        const size_t len = strlen(e->path) + strlen(e->why) + 3;
        if (!(r->broken_names[k] = malloc(len))) return -1;
        snprintf(r->broken_names[k++], len, "%s: %s", e->path, e->why);
    }
    return 0;
}

#endif

#ifdef GANC_HAVE_STB
/* The largest decoded set held in ordinary memory while it is built: $GANC_DECODE_RAM_MAX bytes,
 * else a quarter of the machine's memory. A larger one is decoded into a scratch file beside the
 * cache file, mapped shared, so that the kernel writes its pages out as needed: a set larger
 * than memory is built, cached and trained on without ever being resident as a whole. */
static size_t decode_ram_max(void)
{
    const char *v = getenv("GANC_DECODE_RAM_MAX");
    if (v && *v) return (size_t)strtoull(v, NULL, 10);
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (size_t)pages / 4 * (size_t)page : (size_t)1 << 30;
}

/* bytes of memory for the pixels: malloc'd (*map NULL), or a mapped scratch file next to
 * cache_path (already unlinked: it vanishes with the mapping). NULL when neither works. */
static uint8_t *pixel_memory(size_t bytes, const char *cache_path, void **map)
{
    *map = NULL;
    if (bytes <= decode_ram_max()) return malloc(bytes ? bytes : 1);
    char path[1024];
    snprintf(path, sizeof path, "%.990s.decoding-XXXXXX", cache_path[0] ? cache_path : ".ganc-decode");
    make_parents(path);
    const int fd = mkstemp(path);
    if (fd < 0) return NULL;
    unlink(path);
    void *m = ftruncate(fd, (off_t)bytes) == 0 ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    close(fd);
    if (m == MAP_FAILED) return NULL;
    *map = m;
    return m;
}

static void pixel_memory_free(uint8_t *pixels, void *map, size_t bytes)
{
    if (map) munmap(map, bytes);
    else free(pixels);
}
#endif

static int decode_all(walk_state *w, const char *dir, const ganc_folder_options *o, ganc_dataset *ds,
                      ganc_folder_report *r, char err[GANC_ERR_LEN])
{
#ifndef GANC_HAVE_STB
    (void)w, (void)o, (void)ds, (void)r;
    return ganc_fail(err, "%s: this ganc was built without stb_image, which decodes pictures (install libstb-dev and "
                          "rebuild); a cache made by another build is used when present",
                     dir);
#else
    for (int i = 0; i < w->n; i++) read_header(&w->e[i]);
    int candidates = 0;
    for (int i = 0; i < w->n; i++) candidates += w->e[i].comp && !w->e[i].why;
    if (collect_report(w, r)) return ganc_fail(err, "out of memory");
    if (o->strict && r->broken)
        return ganc_fail(err, "%s (--strict: %d broken picture%s under %s)", r->broken_names[0], r->broken,
                         r->broken == 1 ? "" : "s", dir);
    if (!candidates)
        return ganc_fail(err, "%s: no pictures found (%d file%s, none a picture%s)", dir, w->n, w->n == 1 ? "" : "s",
                         r->broken ? ", or all broken" : "");
    ganc_shape s;
    if (choose_shape(w, dir, o, &s, err)) return -1;
    const size_t sample = ganc_shape_size(s);
    if (sample > SIZE_MAX / (size_t)candidates)
        return ganc_fail(err, "%s: %d pictures of %dx%dx%d do not fit in memory", dir, candidates, s.c, s.h, s.w);
    void *map;
    const size_t bytes = sample * (size_t)candidates;
    uint8_t *pixels = pixel_memory(bytes, r->cache_path, &map);
    int *slot = malloc(sizeof *slot * (size_t)w->n), *kept = malloc(sizeof *kept * (size_t)candidates);
    if (!pixels || !slot || !kept) {
        if (pixels) pixel_memory_free(pixels, map, bytes);
        free(slot), free(kept);
        return ganc_fail(err, "%s: out of memory for %d pictures of %dx%dx%d", dir, candidates, s.c, s.h, s.w);
    }
    int at = 0;
    for (int i = 0; i < w->n; i++) slot[i] = w->e[i].comp && !w->e[i].why ? at++ : -1;
    /* Decoded in parallel, in chunks so that the progress line moves; each picture has its own
     * slot, so the result does not depend on the threads. */
    for (int lo = 0; lo < w->n; lo += SHOW_PROGRESS_EVERY) {
        const int hi = lo + SHOW_PROGRESS_EVERY < w->n ? lo + SHOW_PROGRESS_EVERY : w->n;
#pragma omp parallel for schedule(dynamic, 1)
        for (int i = lo; i < hi; i++)
            if (slot[i] >= 0) decode(&w->e[i], s.c, s.h, s.w, o, pixels + (size_t)slot[i] * sample);
        if (o->progress) o->progress(o->progress_ctx, hi, w->n);
    }
    /* drop the pictures that failed to decode, keeping the order */
    int n = 0;
    for (int i = 0; i < w->n; i++) {
        if (slot[i] < 0 || w->e[i].why) continue;
        if (n != slot[i]) memmove(pixels + (size_t)n * sample, pixels + (size_t)slot[i] * sample, sample);
        kept[n++] = i;
    }
    /* count again: decoding found more broken pictures */
    for (int i = 0; i < r->broken; i++) free(r->broken_names[i]);
    free(r->broken_names);
    r->broken_names = NULL;
    r->broken = r->ignored = 0;
    if (collect_report(w, r)) n = -1;
    int rc = 0;
    if (n < 0)
        rc = ganc_fail(err, "out of memory");
    else if (o->strict && r->broken)
        rc = ganc_fail(err, "%s (--strict: %d broken picture%s under %s)", r->broken_names[0], r->broken,
                       r->broken == 1 ? "" : "s", dir);
    else if (n == 0)
        rc = ganc_fail(err, "%s: no picture could be decoded (%d broken)", dir, r->broken);
    if (rc == 0) {
        ds->n = n;
        ds->shape = s;
        ds->pixels = pixels;
        ds->map = map; /* ganc_dataset_free unmaps a scratch file */
        ds->map_len = map ? bytes : 0;
        pixels = NULL;
        rc = assign_labels(w, kept, n, ds, r, err);
    }
    if (pixels) pixel_memory_free(pixels, map, bytes);
    free(slot);
    free(kept);
    return rc;
#endif
}

int ganc_dataset_load_folder(const char *dir, const ganc_folder_options *o, ganc_dataset *ds,
                             ganc_folder_report *r, char err[GANC_ERR_LEN])
{
    memset(ds, 0, sizeof *ds);
    memset(r, 0, sizeof *r);
    struct stat st;
    if (stat(dir, &st) != 0) return ganc_fail(err, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return ganc_fail(err, "%s: not a folder", dir);
    if (strlen(dir) > 480) return ganc_fail(err, "%.100s...: path longer than 480 bytes", dir);
    walk_state *w = calloc(1, sizeof *w);
    if (!w) return ganc_fail(err, "out of memory");
    w->stack[0].dev = st.st_dev;
    w->stack[0].ino = st.st_ino;
    int rc = walk(w, dir, 0, -1);
    if (rc) {
        snprintf(err, GANC_ERR_LEN, "%s", w->err);
    } else if (w->n == 0) {
        rc = ganc_fail(err, "%s: an empty folder (no files in it or below it)", dir);
    } else {
        const uint64_t key = cache_key(w, o);
        cache_file(dir, o, key, r->cache_path, sizeof r->cache_path);
        char why[GANC_ERR_LEN];
        if (ganc_image_cache_read(r->cache_path, key, ds, r, why) == 0) {
            r->from_cache = 1;
        } else {
            rc = decode_all(w, dir, o, ds, r, err);
            if (rc == 0) {
                make_parents(r->cache_path);
                ganc_dataset mapped;
                if (ganc_image_cache_write(r->cache_path, key, ds, r, why) == 0 &&
                    ganc_image_cache_read(r->cache_path, key, &mapped, NULL, why) == 0) {
                    ganc_dataset_free(ds); /* from now on the set is the mapped file */
                    *ds = mapped;
                } else {
                    snprintf(r->note + strlen(r->note), sizeof r->note - strlen(r->note), "%sno cache: %s",
                             r->note[0] ? "; " : "", why);
                    r->cache_path[0] = 0;
                }
            }
        }
    }
    if (rc == 0) {
        r->images = ds->n;
        snprintf(ds->images_path, sizeof ds->images_path, "%s", dir);
        if (ds->labels) snprintf(ds->labels_path, sizeof ds->labels_path, "%s (sub-folders)", dir);
    } else {
        ganc_dataset_free(ds);
    }
    walk_free(w);
    free(w);
    return rc;
}
