/* Image folders (src/data/folder.c, image_cache.c) on folders made here: nested class folders,
 * PNG, BMP, TGA, PPM/PGM read back pixel for pixel, RGBA composited, grey sets, mixed sizes,
 * broken files named and skipped (or stopping with --strict), a decompression bomb refused from
 * its header, empty folders, folders of non-pictures, symbolic link loops, and the cache: reused
 * when nothing changed (with the same report of broken files), rebuilt when a file changes or
 * it is of the first format, damaged caches refused. */
#include "check.h"
#include "data/folder.h"
#include "data/image_header.h"
#include "ganc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef GANC_HAVE_STB
#include <stb/stb_image_write.h>
#endif

static char root[512];

static void path_of(char *out, size_t cap, const char *rel) { snprintf(out, cap, "%s/%s", root, rel); }

static void mkdirs(const char *rel)
{
    char p[1024];
    path_of(p, sizeof p, rel);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') *s = 0, mkdir(p, 0755), *s = '/';
    mkdir(p, 0755);
}

static void write_bytes(const char *rel, const void *data, size_t n)
{
    char p[1024];
    path_of(p, sizeof p, rel);
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

static void load(const char *rel, ganc_folder_options *o, ganc_dataset *ds, ganc_folder_report *r, int *rc,
                 char err[GANC_ERR_LEN])
{
    char p[1024];
    path_of(p, sizeof p, rel);
    *rc = ganc_dataset_load_folder(p, o, ds, r, err);
}

static void options(ganc_folder_options *o)
{
    static char cache[600];
    ganc_folder_options_default(o);
    snprintf(cache, sizeof cache, "%s/cache", root);
    o->cache_dir = cache;
}

#ifdef GANC_HAVE_STB
/* Picture k: (h, w, c) interleaved bytes that differ per picture and per pixel. */
static void picture(int k, int w, int h, int c, uint8_t *px)
{
    for (int i = 0; i < w * h * c; i++) px[i] = (uint8_t)(k * 40 + i * 7 + (i % c) * 60);
}

/* Compares sample i of ds with picture k ((h, w, c) interleaved) plane by plane. */
static int same_picture(const ganc_dataset *ds, int i, const uint8_t *px, int c)
{
    const size_t plane = (size_t)ds->shape.h * ds->shape.w;
    for (size_t p = 0; p < plane; p++)
        for (int k = 0; k < c; k++)
            if (ds->pixels[((size_t)i * c + k) * plane + p] != px[p * c + k]) return 0;
    return 1;
}

static void write_ppm(const char *rel, int w, int h, int c, const uint8_t *px)
{
    char head[64];
    const int n = snprintf(head, sizeof head, "P%d\n%d %d\n255\n", c == 3 ? 6 : 5, w, h);
    uint8_t *buf = malloc((size_t)n + (size_t)w * h * c);
    memcpy(buf, head, (size_t)n);
    memcpy(buf + n, px, (size_t)w * h * c);
    write_bytes(rel, buf, (size_t)n + (size_t)w * h * c);
    free(buf);
}

static void test_classes(void)
{
    enum { W = 8, H = 6 };
    uint8_t px[4][W * H * 3];
    char p[1024];
    mkdirs("set/cats/deep");
    mkdirs("set/dogs");
    mkdirs("set/empty");
    for (int k = 0; k < 4; k++) picture(k, W, H, 3, px[k]);
    path_of(p, sizeof p, "set/cats/a.png");
    stbi_write_png(p, W, H, 3, px[0], W * 3);
    path_of(p, sizeof p, "set/cats/deep/b.bmp"); /* deeper down: still a cat */
    stbi_write_bmp(p, W, H, 3, px[1]);
    path_of(p, sizeof p, "set/dogs/c.tga");
    stbi_write_tga(p, W, H, 3, px[2]);
    write_ppm("set/dogs/no-extension", W, H, 3, px[3]); /* known by content, not by name */
    write_bytes("set/dogs/notes.txt", "not a picture\n", 14);
    write_bytes("set/readme.md", "# about\n", 8); /* a file on top that is no picture: fine */

    ganc_folder_options o;
    options(&o);
    ganc_dataset ds;
    ganc_folder_report r;
    char err[GANC_ERR_LEN];
    int rc;
    load("set", &o, &ds, &r, &rc, err);
    if (!CHECK(rc == 0, "nested classes: %s", err)) return;
    CHECK(ds.n == 4 && ds.shape.c == 3 && ds.shape.h == H && ds.shape.w == W,
          "4 pictures of 3x6x8: %d of %dx%dx%d", ds.n, ds.shape.c, ds.shape.h, ds.shape.w);
    CHECK(ds.labels && ds.n_classes == 2 && !strcmp(ds.class_names[0], "cats") && !strcmp(ds.class_names[1], "dogs"),
          "two classes from the first-level folders (the empty one dropped): %d", ds.n_classes);
    CHECK(ds.labels && ds.labels[0] == 0 && ds.labels[1] == 0 && ds.labels[2] == 1 && ds.labels[3] == 1,
          "labels in path order: cats/a, cats/deep/b, dogs/c, dogs/no-extension");
    int ok = 1;
    for (int k = 0; k < 4; k++) ok &= same_picture(&ds, k, px[k], 3);
    CHECK(ok, "PNG, BMP, TGA and PPM read back pixel for pixel, as (c, h, w)");
    CHECK(r.ignored == 2 && r.broken == 0 && !r.from_cache && r.cache_path[0] && ds.map,
          "2 files ignored, none broken, a cache written and mapped: ignored %d broken %d (%s)", r.ignored, r.broken, r.note);

    /* the second load maps the cache: the same set */
    ganc_dataset again;
    ganc_folder_report r2;
    load("set", &o, &again, &r2, &rc, err);
    CHECK(rc == 0 && r2.from_cache && again.n == 4 && again.n_classes == 2 && !strcmp(again.class_names[1], "dogs") &&
              !memcmp(again.pixels, ds.pixels, 4 * ganc_shape_size(ds.shape)) && !memcmp(again.labels, ds.labels, 4),
          "the second load reuses the cache: the same pixels, labels and names");
    ganc_dataset_free(&again);
    ganc_folder_report_free(&r2);

    /* a changed file (its time) makes a new cache */
    path_of(p, sizeof p, "set/dogs/c.tga");
    picture(9, W, H, 3, px[2]);
    sleep(0); /* mtime in ns: rewriting is enough on any file system with fine times */
    stbi_write_tga(p, W, H, 3, px[2]);
    struct stat st;
    stat(p, &st);
    load("set", &o, &again, &r2, &rc, err);
    CHECK(rc == 0 && !r2.from_cache && strcmp(r2.cache_path, r.cache_path) && same_picture(&again, 2, px[2], 3),
          "a rewritten file invalidates the cache: from_cache %d", r2.from_cache);
    ganc_dataset_free(&again);
    ganc_folder_report_free(&r2);

    /* other options, another cache; grey from colour by luma */
    o.channels = 1;
    load("set", &o, &again, &r2, &rc, err);
    const uint8_t *a = px[0];
    CHECK(rc == 0 && again.shape.c == 1 && again.pixels[0] == (299 * a[0] + 587 * a[1] + 114 * a[2] + 500) / 1000,
          "--channels 1: grey by luma");
    ganc_dataset_free(&again);
    ganc_folder_report_free(&r2);

    /* a damaged cache file is not trusted: a new one is made */
    FILE *f = fopen(r.cache_path, "r+b");
    fseek(f, 16, SEEK_SET);
    fputc(0x7f, f); /* n */
    fclose(f);
    ganc_dataset bad;
    CHECK(ganc_image_cache_read(r.cache_path, 0, &bad, NULL, err) == -1, "a cache read with the wrong key is refused");
    ganc_dataset_free(&ds);
    ganc_folder_report_free(&r);
}

static void test_alpha_grey_sizes(void)
{
    char p[1024], err[GANC_ERR_LEN];
    ganc_folder_options o;
    ganc_dataset ds;
    ganc_folder_report r;
    int rc;
    /* RGBA onto a background */
    mkdirs("rgba");
    const uint8_t rgba[2 * 4] = {200, 100, 0, 255, 10, 20, 30, 0};
    path_of(p, sizeof p, "rgba/x.png");
    stbi_write_png(p, 2, 1, 4, rgba, 8);
    options(&o);
    o.background[0] = 1, o.background[1] = 2, o.background[2] = 3;
    load("rgba", &o, &ds, &r, &rc, err);
    CHECK(rc == 0 && ds.shape.c == 3 && !ds.labels && ds.pixels[0] == 200 && ds.pixels[1] == 1 && ds.pixels[2] == 100 &&
              ds.pixels[3] == 2 && ds.pixels[5] == 3,
          "RGBA: opaque kept, transparent onto the background, unlabelled (pictures on top): %s", rc ? err : "");
    ganc_dataset_free(&ds);
    ganc_folder_report_free(&r);

    /* grey pictures give one channel */
    mkdirs("grey");
    uint8_t g[5 * 5];
    picture(3, 5, 5, 1, g);
    write_ppm("grey/g.pgm", 5, 5, 1, g);
    options(&o);
    load("grey", &o, &ds, &r, &rc, err);
    CHECK(rc == 0 && ds.shape.c == 1 && ds.n == 1 && same_picture(&ds, 0, g, 1), "a grey set has one channel: %s",
          rc ? err : "");
    ganc_dataset_free(&ds);
    ganc_folder_report_free(&r);

    /* mixed sizes ask for --size; with it, centre crop to the size */
    uint8_t big[12 * 6];
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 12; x++) big[y * 12 + x] = x >= 3 && x < 9 ? 90 : 0;
    write_ppm("grey/wide.pgm", 12, 6, 1, big);
    load("grey", &o, &ds, &r, &rc, err);
    CHECK(rc == -1 && strstr(err, "--size") && strstr(err, "differ"), "mixed sizes ask for --size: %s", err);
    o.height = o.width = 3;
    load("grey", &o, &ds, &r, &rc, err);
    CHECK(rc == 0 && ds.n == 2 && ds.shape.h == 3 && ds.pixels[9] == 90 && ds.pixels[17] == 90,
          "--size 3: the wide picture's centre square (all 90): %s", rc ? err : "");
    ganc_dataset_free(&ds);
    ganc_folder_report_free(&r);
}

/* In folder rel: good.png, and three broken pictures (truncated.png, garbage.jpg, bomb.png). */
static void make_broken(const char *rel)
{
    char p[1024], name[256];
    mkdirs(rel);
    uint8_t px[16 * 16 * 3];
    picture(1, 16, 16, 3, px);
    snprintf(name, sizeof name, "%s/good.png", rel);
    path_of(p, sizeof p, name);
    stbi_write_png(p, 16, 16, 3, px, 48);
    /* a truncated PNG: the header is whole, the data is not */
    FILE *f = fopen(p, "rb");
    uint8_t buf[4096];
    const size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    snprintf(name, sizeof name, "%s/truncated.png", rel);
    write_bytes(name, buf, n / 2);
    snprintf(name, sizeof name, "%s/garbage.jpg", rel);
    write_bytes(name, "this is not a jpeg at all", 25);
    /* a decompression bomb: a PNG header declaring 50000 x 50000 */
    uint8_t bomb[33] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                        0, 0, 0xc3, 0x50, 0, 0, 0xc3, 0x50, 8, 2, 0, 0, 0};
    snprintf(name, sizeof name, "%s/bomb.png", rel);
    write_bytes(name, bomb, sizeof bomb);
}

static void test_broken(void)
{
    char err[GANC_ERR_LEN];
    ganc_folder_options o;
    ganc_dataset ds;
    ganc_folder_report r;
    int rc;
    make_broken("broken/a");
    options(&o);
    load("broken", &o, &ds, &r, &rc, err);
    CHECK(rc == 0 && ds.n == 1 && r.broken == 3, "one good picture, three broken skipped: rc %d n %d broken %d (%s)", rc,
          ds.n, r.broken, rc ? err : "");
    int named_bomb = 0, named_trunc = 0, named_garbage = 0;
    for (int i = 0; i < r.broken; i++) {
        named_bomb |= strstr(r.broken_names[i], "bomb.png") && strstr(r.broken_names[i], "PNG of 50000x50000") &&
                      strstr(r.broken_names[i], "64 Mpx");
        named_trunc |= strstr(r.broken_names[i], "truncated.png") != NULL;
        named_garbage |= strstr(r.broken_names[i], "garbage.jpg") != NULL;
    }
    CHECK(named_bomb && named_trunc && named_garbage, "each broken file named with why (bomb %d trunc %d garbage %d)",
          named_bomb, named_trunc, named_garbage);
    ganc_dataset_free(&ds);
    ganc_folder_report_free(&r);
    o.strict = 1;
    load("broken", &o, &ds, &r, &rc, err);
    CHECK(rc == -1 && strstr(err, "--strict") && strstr(err, "broken"), "--strict stops at a broken file: %s", err);
    ganc_folder_report_free(&r);
}

/* Whether b says what a says: the same broken pictures with the same reasons in the same order,
 * the same count of ignored files and the same note; `what` names b in the failures. */
static void check_same_report(const ganc_folder_report *a, const ganc_folder_report *b, const char *what)
{
    CHECK(b->broken == a->broken, "%s: %d broken pictures, the first load %d", what, b->broken, a->broken);
    for (int i = 0; i < a->broken && i < b->broken; i++)
        CHECK(!strcmp(a->broken_names[i], b->broken_names[i]), "%s: broken picture %d is '%s', the first load's '%s'",
              what, i, b->broken_names[i], a->broken_names[i]);
    CHECK(b->ignored == a->ignored, "%s: %d files ignored, the first load %d", what, b->ignored, a->ignored);
    CHECK(!strcmp(a->note, b->note), "%s: the note '%s', the first load's '%s'", what, b->note, a->note);
}

/* The report of a load from the cache is the report of the load that made it: broken pictures
 * with their reasons, ignored files, the note (here: a picture beside the class folder, so the
 * set is unlabelled). A cache of the first format (no report kept) is rebuilt, not trusted. */
static void test_broken_cached(void)
{
    char err[GANC_ERR_LEN], p[1024];
    ganc_folder_options o;
    ganc_dataset ds, again;
    ganc_folder_report r, r2;
    int rc;
    make_broken("cached/cls");
    uint8_t px[16 * 16 * 3];
    picture(2, 16, 16, 3, px);
    path_of(p, sizeof p, "cached/top.png");
    stbi_write_png(p, 16, 16, 3, px, 48);
    write_bytes("cached/cls/notes.txt", "not a picture\n", 14);
    options(&o);
    load("cached", &o, &ds, &r, &rc, err);
    if (!CHECK(rc == 0 && !r.from_cache && r.cache_path[0] && r.broken == 3 && r.ignored == 1 && r.note[0],
               "the first load: 3 broken, 1 ignored, a note, a cache: rc %d broken %d ignored %d note '%s' (%s)", rc,
               r.broken, r.ignored, r.note, rc ? err : r.cache_path))
        return;
    load("cached", &o, &again, &r2, &rc, err);
    CHECK(rc == 0 && r2.from_cache && again.n == ds.n, "the second load maps the cache: rc %d from_cache %d (%s)", rc,
          r2.from_cache, rc ? err : "");
    check_same_report(&r, &r2, "a load from the cache");
    ganc_dataset_free(&again);
    ganc_folder_report_free(&r2);

    /* the first format's magic: refused, decoded again, written again in the current one */
    FILE *f = fopen(r.cache_path, "r+b");
    fseek(f, 7, SEEK_SET);
    fputc(1, f);
    fclose(f);
    load("cached", &o, &again, &r2, &rc, err);
    CHECK(rc == 0 && !r2.from_cache && !strcmp(r2.cache_path, r.cache_path),
          "a cache of the first format is rebuilt in place: rc %d from_cache %d", rc, r2.from_cache);
    check_same_report(&r, &r2, "the load that rebuilt the cache");
    ganc_dataset_free(&again);
    ganc_folder_report_free(&r2);
    load("cached", &o, &again, &r2, &rc, err);
    CHECK(rc == 0 && r2.from_cache, "the rebuilt cache is used next: rc %d from_cache %d", rc, r2.from_cache);
    check_same_report(&r, &r2, "a load from the rebuilt cache");
    ganc_dataset_free(&again);
    ganc_folder_report_free(&r2);

    /* a report that does not hold as many lines as its header says is damage: rebuilt */
    f = fopen(r.cache_path, "r+b");
    fseek(f, 40, SEEK_SET);
    fputc(4, f); /* broken: 4 lines where 3 are */
    fclose(f);
    load("cached", &o, &again, &r2, &rc, err);
    CHECK(rc == 0 && !r2.from_cache, "a cache whose report is damaged is rebuilt: rc %d from_cache %d", rc,
          r2.from_cache);
    check_same_report(&r, &r2, "the load that rebuilt a damaged report");
    ganc_dataset_free(&again);
    ganc_folder_report_free(&r2);

    ganc_dataset_free(&ds);
    ganc_folder_report_free(&r);
}
#endif

static void test_bad_folders(void)
{
    char err[GANC_ERR_LEN], p[1024];
    ganc_folder_options o;
    ganc_dataset ds;
    ganc_folder_report r;
    int rc;
    options(&o);
    mkdirs("void");
    load("void", &o, &ds, &r, &rc, err);
    CHECK(rc == -1 && strstr(err, "empty folder"), "an empty folder: %s", err);
    mkdirs("texts/sub");
    write_bytes("texts/sub/a.txt", "hello", 5);
    load("texts", &o, &ds, &r, &rc, err);
#ifdef GANC_HAVE_STB
    CHECK(rc == -1 && strstr(err, "no pictures found"), "a folder of non-pictures: %s", err);
#else
    CHECK(rc == -1 && strstr(err, "without stb_image"), "without stb: the build says so: %s", err);
#endif
    ganc_folder_report_free(&r);
    mkdirs("loop/cls");
    path_of(p, sizeof p, "loop/cls/back");
    CHECK(symlink("..", p) == 0, "made a symbolic link");
    load("loop", &o, &ds, &r, &rc, err);
    CHECK(rc == -1 && strstr(err, "symbolic link loop") && strstr(err, "back"), "a symbolic link loop: %s", err);
    load("nowhere", &o, &ds, &r, &rc, err);
    CHECK(rc == -1 && strstr(err, "nowhere") && strstr(err, "No such file"), "a missing folder: %s", err);
    write_bytes("file", "x", 1);
    load("file", &o, &ds, &r, &rc, err);
    CHECK(rc == -1 && strstr(err, "not a folder"), "a file for a folder: %s", err);
    if (geteuid() != 0) { /* root reads any folder */
        mkdirs("locked/inner");
        path_of(p, sizeof p, "locked/inner");
        chmod(p, 0);
        load("locked", &o, &ds, &r, &rc, err);
        CHECK(rc == -1 && strstr(err, "cannot read the folder"), "an unreadable folder: %s", err);
        chmod(p, 0755);
    }
}

/* The header reader on hand-made headers of every format it knows, and on cut ones. */
static void test_headers(void)
{
    ganc_image_info i;
    int k;
    /* JPEG: SOI, an APP0 segment of 16 bytes, SOF0 declaring 480 high, 640 wide */
    const uint8_t jpg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
                           0xFF, 0xC0, 0, 17, 8, 0x01, 0xE0, 0x02, 0x80, 3};
    k = ganc_image_header(jpg, sizeof jpg, &i);
    CHECK(k && !strcmp(i.format, "JPEG") && i.width == 640 && i.height == 480,
          "JPEG: SOF0 after APP0: %lldx%lld", i.width, i.height);
    k = ganc_image_header(jpg, 22, &i);
    CHECK(k && i.width == 0, "JPEG cut before its SOF: size unknown");
    const uint8_t gif[] = {'G', 'I', 'F', '8', '9', 'a', 0x2c, 0x01, 0x90, 0x01};
    k = ganc_image_header(gif, sizeof gif, &i);
    CHECK(k && i.width == 300 && i.height == 400, "GIF: %lldx%lld", i.width,
          i.height);
    uint8_t bmp[26] = {'B', 'M'};
    bmp[14] = 40, bmp[18] = 0x10, bmp[19] = 0x27; /* width 10000 */
    bmp[22] = 0xF0, bmp[23] = 0xD8, bmp[24] = 0xFF, bmp[25] = 0xFF; /* height -10000: top-down */
    k = ganc_image_header(bmp, sizeof bmp, &i);
    CHECK(k && i.width == 10000 && i.height == 10000, "BMP top-down: %lldx%lld",
          i.width, i.height);
    const uint8_t pgm[] = "P5\n# made by hand\n 70000 \t 3\n255\n";
    k = ganc_image_header(pgm, sizeof pgm - 1, &i);
    CHECK(k && !strcmp(i.format, "PNM") && i.width == 70000 && i.height == 3,
          "PGM with a comment: %lldx%lld", i.width, i.height);
    uint8_t psd[22] = {'8', 'B', 'P', 'S'};
    psd[17] = 5, psd[21] = 7; /* height 5, width 7 */
    k = ganc_image_header(psd, sizeof psd, &i);
    CHECK(k && i.width == 7 && i.height == 5, "PSD: %lldx%lld", i.width, i.height);
    CHECK(!ganc_image_header((const uint8_t *)"hello", 5, &i) && !ganc_image_header(NULL, 0, &i),
          "text and nothing are not pictures");
}

int main(void)
{
    snprintf(root, sizeof root, "%s", check_tmpdir());
    test_headers();
#ifdef GANC_HAVE_STB
    test_classes();
    test_alpha_grey_sizes();
    test_broken();
    test_broken_cached();
#else
    printf("  note: built without stb: decoding checks skipped, the error checked instead\n");
#endif
    test_bad_folders();
    return check_finish("folder");
}
