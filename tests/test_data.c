/* Data: the IDX reader (raw and gzip, and every way a file can lie about its size), data sets
 * with labels beside the images, byte -> float conversion, and the epoch-shuffling batcher.
 *
 * Inputs are written at test time into a mkdtemp directory. Gzip files are written two ways:
 * by hand with "stored" (uncompressed) deflate blocks, which needs no zlib and so also exercises
 * the no-zlib build's error; and with zlib's gzwrite when it is available (real compression). */
#include "check.h"
#include "data/data.h"
#include "ganc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef GANC_HAVE_ZLIB
#include <zlib.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MNIST_DIR "data/mnist-10k"
#define BIG_N 0x7FFFFFFFu /* 2^31 - 1 */

static const char *tmpdir; /* check_tmpdir(): removed with its contents at exit */

/* ---- writing test inputs ---------------------------------------------------------------- */

static const char *tpath(const char *name)
{
    static char buf[8][300];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 300, "%s/%s", tmpdir, name);
    return p;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

/* IDX header + data in memory; returns the length. */
static size_t make_idx(uint8_t *buf, int type, int ndim, const uint32_t *dims, const uint8_t *data, size_t n)
{
    buf[0] = buf[1] = 0;
    buf[2] = (uint8_t)type;
    buf[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        buf[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        buf[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        buf[7 + 4 * i] = (uint8_t)dims[i];
    }
    if (n) memcpy(buf + 4 + 4 * ndim, data, n);
    return 4 + 4 * (size_t)ndim + n;
}

static const char *write_idx(const char *name, int ndim, const uint32_t *dims, const uint8_t *data, size_t n)
{
    uint8_t *buf = malloc(20 + n);
    size_t len = make_idx(buf, 0x08, ndim, dims, data, n);
    const char *p = tpath(name);
    write_bytes(p, buf, len);
    free(buf);
    return p;
}

static uint32_t crc32_bytes(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* A valid gzip member holding `data` in stored deflate blocks (RFC 1951 3.2.4, RFC 1952). */
static size_t make_gzip_stored(uint8_t *out, const uint8_t *data, size_t n)
{
    static const uint8_t head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    size_t k = 0;
    memcpy(out, head, 10);
    k = 10;
    size_t done = 0;
    do {
        size_t len = n - done > 65535 ? 65535 : n - done;
        out[k++] = done + len == n ? 1 : 0; /* BFINAL, BTYPE 00 */
        out[k++] = (uint8_t)len;
        out[k++] = (uint8_t)(len >> 8);
        out[k++] = (uint8_t)~len;
        out[k++] = (uint8_t)(~len >> 8);
        memcpy(out + k, data + done, len);
        k += len;
        done += len;
    } while (done < n);
    uint32_t crc = crc32_bytes(data, n), isize = (uint32_t)n;
    for (int i = 0; i < 4; i++) out[k++] = (uint8_t)(crc >> (8 * i));
    for (int i = 0; i < 4; i++) out[k++] = (uint8_t)(isize >> (8 * i));
    return k;
}

static size_t gzip_bound(size_t n) { return 18 + n + 5 * (n / 65535 + 1); }

/* Gzip of an IDX file, stored blocks; `cut` bytes removed from the end of the .gz. */
static const char *write_idx_gz(const char *name, int ndim, const uint32_t *dims, const uint8_t *data, size_t n,
                                size_t cut)
{
    uint8_t *raw = malloc(20 + n), *gz = malloc(gzip_bound(20 + n));
    size_t len = make_idx(raw, 0x08, ndim, dims, data, n);
    size_t glen = make_gzip_stored(gz, raw, len);
    const char *p = tpath(name);
    write_bytes(p, gz, glen - cut);
    free(raw);
    free(gz);
    return p;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* The read must fail, with a message that begins "PATH: " and contains `needle`. */
static void expect_idx_error(const char *path, size_t max_bytes, const char *needle, const char *what)
{
    ganc_idx idx;
    char err[GANC_ERR_LEN] = "";
    int rc = ganc_idx_read(path, max_bytes, &idx, err);
    CHECK(rc == -1, "%s: accepted", what);
    CHECK(idx.data == NULL && idx.count == 0, "%s: output not cleared on error", what);
    char prefix[320];
    snprintf(prefix, sizeof prefix, "%s: ", path);
    CHECK(starts_with(err, prefix), "%s: message does not start with the path: %s", what, err);
    CHECK(strstr(err, needle) != NULL, "%s: message lacks \"%s\": %s", what, needle, err);
    if (rc == 0) ganc_idx_free(&idx);
}

static void expect_dataset_error(const char *path, const char *err_path, const char *needle, const char *what)
{
    ganc_dataset ds;
    char err[GANC_ERR_LEN] = "";
    int rc = ganc_dataset_load_idx(path, &ds, err);
    CHECK(rc == -1, "%s: accepted", what);
    CHECK(ds.pixels == NULL && ds.labels == NULL, "%s: output not cleared on error", what);
    CHECK(starts_with(err, err_path), "%s: message does not start with %s: %s", what, err_path, err);
    CHECK(strstr(err, needle) != NULL, "%s: message lacks \"%s\": %s", what, needle, err);
    if (rc == 0) ganc_dataset_free(&ds);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint8_t pattern(size_t i) { return (uint8_t)(i * 37u + 11u); }

/* ---- IDX: files that are right ---------------------------------------------------------- */

static void test_idx_roundtrip(void)
{
    uint8_t data[2 * 5 * 7];
    for (size_t i = 0; i < sizeof data; i++) data[i] = pattern(i);
    const uint32_t d3[3] = {2, 5, 7}, d1[1] = {70}, d4[4] = {1, 2, 5, 7};
    struct {
        const char *name;
        int ndim;
        const uint32_t *dims;
    } cases[] = {{"r3.idx", 3, d3}, {"r1.idx", 1, d1}, {"r4.idx", 4, d4}};
    for (int c = 0; c < 3; c++) {
        const char *p = write_idx(cases[c].name, cases[c].ndim, cases[c].dims, data, sizeof data);
        ganc_idx idx;
        char err[GANC_ERR_LEN] = "";
        int rc = ganc_idx_read(p, 1 << 20, &idx, err);
        CHECK(rc == 0, "%s: %s", cases[c].name, err);
        if (rc) continue;
        CHECK(idx.ndim == cases[c].ndim && idx.count == sizeof data, "%s: ndim %d count %zu", cases[c].name, idx.ndim,
              idx.count);
        int dims_ok = 1;
        for (int i = 0; i < idx.ndim; i++) dims_ok &= idx.dims[i] == (int)cases[c].dims[i];
        CHECK(dims_ok, "%s: dims", cases[c].name);
        CHECK(memcmp(idx.data, data, sizeof data) == 0, "%s: bytes differ", cases[c].name);
        ganc_idx_free(&idx);
        CHECK(idx.data == NULL, "free clears");
    }
    /* max_bytes equal to the size is enough; one less is refused */
    const char *p = write_idx("limit.idx", 3, d3, data, sizeof data);
    ganc_idx idx;
    char err[GANC_ERR_LEN];
    CHECK(ganc_idx_read(p, sizeof data, &idx, err) == 0, "exact limit: %s", err);
    ganc_idx_free(&idx);
    expect_idx_error(p, sizeof data - 1, "more than the limit", "over max_bytes");
}

/* Stored-block gzip, several blocks (> 64 KiB), detected by content whatever the name. */
static void test_idx_gzip(void)
{
    const uint32_t dims[3] = {3, 150, 160}; /* 72000 bytes: two stored blocks */
    size_t n = 3 * 150 * 160;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = pattern(i);
    const char *p = write_idx_gz("stored.idx", 3, dims, data, n, 0); /* no .gz suffix on purpose */
    ganc_idx idx;
    char err[GANC_ERR_LEN] = "";
    int rc = ganc_idx_read(p, (size_t)1 << 30, &idx, err);
#ifdef GANC_HAVE_ZLIB
    CHECK(rc == 0, "stored gzip: %s", err);
    if (rc == 0) {
        CHECK(idx.ndim == 3 && idx.dims[0] == 3 && idx.dims[1] == 150 && idx.dims[2] == 160 && idx.count == n,
              "stored gzip: header");
        CHECK(memcmp(idx.data, data, n) == 0, "stored gzip: bytes differ");
        ganc_idx_free(&idx);
    }
    /* compressed with zlib's own writer */
    const char *pz = tpath("deflated-idx3-ubyte.gz");
    uint8_t *raw = malloc(16 + n);
    size_t len = make_idx(raw, 0x08, 3, dims, data, n);
    gzFile gz = gzopen(pz, "wb9");
    CHECK(gz && gzwrite(gz, raw, (unsigned)len) == (int)len, "gzwrite");
    gzclose(gz);
    rc = ganc_idx_read(pz, (size_t)1 << 30, &idx, err);
    CHECK(rc == 0, "deflated gzip: %s", err);
    if (rc == 0) {
        CHECK(idx.count == n && memcmp(idx.data, data, n) == 0, "deflated gzip: bytes differ");
        ganc_idx_free(&idx);
    }
    free(raw);
    /* gzip streams that lie */
    expect_idx_error(write_idx_gz("cut.gz", 3, dims, data, n, 9), 1 << 30, "gzip", "gzip stream cut short");
    const uint32_t d_trail[1] = {5};
    expect_idx_error(write_idx_gz("gz-trailing.gz", 1, d_trail, data, 9, 0), 1 << 30, "trailing",
                     "gzip with trailing bytes");
    expect_idx_error(write_idx_gz("gz-short.gz", 1, d_trail, data, 3, 0), 1 << 30, "holds only 3 bytes",
                     "gzip with too few bytes");
    {
        uint8_t *raw2 = malloc(16 + n), *g = malloc(gzip_bound(16 + n));
        size_t l2 = make_gzip_stored(g, raw2, make_idx(raw2, 0x08, 3, dims, data, n));
        g[l2 - 6] ^= 0x55; /* corrupt the CRC */
        const char *pc = tpath("badcrc.gz");
        write_bytes(pc, g, l2);
        expect_idx_error(pc, 1 << 30, "gzip", "gzip with a wrong CRC");
        free(raw2);
        free(g);
    }
#else
    CHECK(rc == -1, "gzip accepted without zlib");
    char prefix[320];
    snprintf(prefix, sizeof prefix, "%s: ", p);
    CHECK(starts_with(err, prefix) && strstr(err, "built without zlib") && strstr(err, "gunzip"),
          "no-zlib message: %s", err);
#endif
    free(data);
}

/* ---- IDX: files that lie ---------------------------------------------------------------- */

static void test_idx_rejects(void)
{
    uint8_t buf[256], data[64];
    for (size_t i = 0; i < sizeof data; i++) data[i] = pattern(i);
    const uint32_t d3[3] = {2, 4, 8}; /* 64 bytes */

    const char *missing = tpath("no-such-images-idx3-ubyte");
    {
        ganc_idx idx;
        char err[GANC_ERR_LEN], want[400];
        CHECK(ganc_idx_read(missing, 1 << 20, &idx, err) == -1, "missing file accepted");
        snprintf(want, sizeof want, "%s: cannot open: No such file or directory", missing);
        CHECK(strcmp(err, want) == 0, "missing file message: %s", err);
    }
    expect_dataset_error(missing, missing, "cannot open", "dataset: missing file");

    write_bytes(tpath("empty.idx"), "", 0);
    expect_idx_error(tpath("empty.idx"), 1 << 20, "too short", "empty file");

    size_t len = make_idx(buf, 0x08, 3, d3, data, 64);
    buf[0] = 0x12;
    write_bytes(tpath("magic.idx"), buf, len);
    expect_idx_error(tpath("magic.idx"), 1 << 20, "not an IDX file", "wrong magic");

    len = make_idx(buf, 0x0D, 3, d3, data, 64);
    write_bytes(tpath("float.idx"), buf, len);
    expect_idx_error(tpath("float.idx"), 1 << 20, "0x0D (float32) is not supported", "float type");

    len = make_idx(buf, 0x08, 0, d3, data, 64);
    write_bytes(tpath("ndim0.idx"), buf, len);
    expect_idx_error(tpath("ndim0.idx"), 1 << 20, "declares 0 dimensions", "ndim 0");

    const uint32_t d5[5] = {2, 2, 2, 2, 4};
    len = make_idx(buf, 0x08, 5, d5, data, 64);
    write_bytes(tpath("ndim5.idx"), buf, len);
    expect_idx_error(tpath("ndim5.idx"), 1 << 20, "declares 5 dimensions", "ndim 5");

    const uint32_t dz[3] = {2, 0, 8};
    len = make_idx(buf, 0x08, 3, dz, data, 0);
    write_bytes(tpath("zerodim.idx"), buf, len);
    expect_idx_error(tpath("zerodim.idx"), 1 << 20, "dimension 1 is 0", "zero dimension");

    len = make_idx(buf, 0x08, 3, d3, data, 0);
    write_bytes(tpath("header-cut.idx"), buf, 10);
    expect_idx_error(tpath("header-cut.idx"), 1 << 20, "header cut short", "header cut short");

    len = make_idx(buf, 0x08, 3, d3, data, 64);
    write_bytes(tpath("truncated.idx"), buf, len - 1);
    expect_idx_error(tpath("truncated.idx"), 1 << 20, "declares 2 images of 4x8 (64 bytes) but holds only 63 bytes",
                     "truncated raw data");
    write_bytes(tpath("trailing.idx"), buf, len); /* plus 3 bytes below */
    {
        FILE *f = fopen(tpath("trailing.idx"), "ab");
        fwrite("xyz", 1, 3, f);
        fclose(f);
    }
    expect_idx_error(tpath("trailing.idx"), 1 << 20, "trailing", "trailing bytes");

    const uint32_t huge_side[3] = {1, 0x80000000u, 1};
    len = make_idx(buf, 0x08, 3, huge_side, data, 0);
    write_bytes(tpath("dim-too-big.idx"), buf, len);
    expect_idx_error(tpath("dim-too-big.idx"), SIZE_MAX, "more than 2147483647", "dimension >= 2^31");

    /* four dims of 2^31-1 overflow 64 bits: must not wrap into something small */
    const uint32_t wrap[4] = {BIG_N, BIG_N, BIG_N, BIG_N};
    len = make_idx(buf, 0x08, 4, wrap, data, 0);
    write_bytes(tpath("overflow.idx"), buf, len);
    expect_idx_error(tpath("overflow.idx"), SIZE_MAX, "(over 2^64 bytes)", "size overflowing 64 bits");
}

/* A 100-byte raw file and a tiny .gz that both claim 2^31-1 images. The raw one must be refused
 * from its size alone (max_bytes SIZE_MAX disables the other guard); the gzip one, whose
 * declared 2 GiB is within the limit, must fail at end of stream without having reserved the
 * declared size. Outside ASan this is proven in a child whose address space is capped at
 * 256 MiB above what it already uses: an up-front allocation of the declared size would fail
 * with "out of memory" instead of the truncation message. */
static int huge_claims_once(const char *raw, const char *gz, char *err_raw, char *err_gz)
{
    ganc_idx idx;
    int a = ganc_idx_read(raw, SIZE_MAX, &idx, err_raw);
    int b = ganc_idx_read(gz, (size_t)1 << 32, &idx, err_gz);
    return a == -1 && b == -1;
}

static void test_idx_huge_claims(void)
{
    uint8_t buf[128], data[84] = {0};
    const uint32_t d_raw[3] = {BIG_N, 28, 28};
    size_t len = make_idx(buf, 0x08, 3, d_raw, data, 84);
    const char *raw = tpath("huge-images-idx3-ubyte");
    write_bytes(raw, buf, len);
    CHECK(len == 100, "raw file is %zu bytes", len);
    const uint32_t d_gz[3] = {BIG_N, 1, 1};
    const char *gz = write_idx_gz("huge.gz", 3, d_gz, data, 84, 0);

    char e1[GANC_ERR_LEN] = "", e2[GANC_ERR_LEN] = "";
    double t0 = now_s();
    CHECK(huge_claims_once(raw, gz, e1, e2), "a huge claim was accepted");
    double dt = now_s() - t0;
    CHECK(dt < 2.0, "huge claims took %.2f s", dt);
    CHECK(starts_with(e1, raw) && strstr(e1, "declares 2147483647 images of 28x28 (1683627179248 bytes) but holds "
                                             "only 84 bytes"),
          "raw huge claim: %s", e1);
#ifdef GANC_HAVE_ZLIB
    CHECK(starts_with(e2, gz) && strstr(e2, "holds only 84 bytes"), "gzip huge claim: %s", e2);
#else
    CHECK(starts_with(e2, gz) && strstr(e2, "built without zlib"), "gzip huge claim, no zlib: %s", e2);
#endif
    expect_dataset_error(raw, raw, "holds only 84 bytes", "dataset: huge raw claim");

    if (UNDER_ASAN) { /* ASan reserves terabytes of shadow memory: an address-space cap breaks it */
        printf("  note: address-space-capped re-run skipped under AddressSanitizer\n");
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f || fscanf(f, "%ld", &pages) != 1) _exit(3);
        fclose(f);
        rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)256 << 20);
        struct rlimit rl = {cap, cap};
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(3);
        char a[GANC_ERR_LEN] = "", b[GANC_ERR_LEN] = "";
        int ok = huge_claims_once(raw, gz, a, b) && strstr(a, "holds only") && !strstr(b, "out of memory");
        if (!ok) fprintf(stderr, "capped child: %s | %s\n", a, b);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "huge claims under a 256 MiB address-space cap: status %d",
          status);
}

/* ---- data sets -------------------------------------------------------------------------- */

static void test_dataset_3d_and_labels(void)
{
    enum { N = 6, H = 3, W = 5 };
    uint8_t px[N * H * W], lb[N] = {2, 0, 7, 1, 2, 3};
    for (size_t i = 0; i < sizeof px; i++) px[i] = pattern(i);
    const uint32_t di[3] = {N, H, W}, dl[1] = {N};

    /* MNIST naming: the last "images-idx3" becomes "labels-idx1" */
    const char *ip = write_idx("t10k-images-idx3-ubyte", 3, di, px, sizeof px);
    const char *lp = write_idx("t10k-labels-idx1-ubyte", 1, dl, lb, N);
    ganc_dataset ds;
    char err[GANC_ERR_LEN] = "";
    int rc = ganc_dataset_load_idx(ip, &ds, err);
    CHECK(rc == 0, "mnist naming: %s", err);
    if (rc == 0) {
        CHECK(ds.n == N && ds.shape.c == 1 && ds.shape.h == H && ds.shape.w == W, "3-D shape");
        CHECK(memcmp(ds.pixels, px, sizeof px) == 0, "3-D pixels");
        CHECK(ds.labels && memcmp(ds.labels, lb, N) == 0, "labels bytes");
        CHECK(ds.n_classes == 8, "n_classes %d", ds.n_classes);
        CHECK(strcmp(ds.labels_path, lp) == 0 && strcmp(ds.images_path, ip) == 0, "paths %s %s", ds.images_path,
              ds.labels_path);
        ganc_dataset_free(&ds);
        CHECK(ds.pixels == NULL && ds.labels == NULL, "free clears");
    }

    /* plain naming, gzip labels beside raw images: the last "images" becomes "labels" */
    ip = write_idx("my_images_v2_images.idx", 3, di, px, sizeof px);
    lp = write_idx_gz("my_images_v2_labels.idx", 1, dl, lb, N, 0);
    rc = ganc_dataset_load_idx(ip, &ds, err);
#ifdef GANC_HAVE_ZLIB
    CHECK(rc == 0 && ds.labels && ds.n_classes == 8 && strcmp(ds.labels_path, lp) == 0, "plain naming: %s", err);
    if (rc == 0) ganc_dataset_free(&ds);
#else
    CHECK(rc == -1 && starts_with(err, lp) && strstr(err, "built without zlib"), "gzip labels, no zlib: %s", err);
#endif

    /* no labels file: fine, labels NULL */
    ip = write_idx("lonely-images", 3, di, px, sizeof px);
    rc = ganc_dataset_load_idx(ip, &ds, err);
    CHECK(rc == 0 && ds.labels == NULL && ds.n_classes == 0 && ds.labels_path[0] == 0, "no labels: %s", err);
    if (rc == 0) ganc_dataset_free(&ds);

    /* only the file name is rewritten, never a directory called "images" */
    char dir_images[300], dir_labels[300];
    snprintf(dir_images, sizeof dir_images, "%s/images", tmpdir);
    snprintf(dir_labels, sizeof dir_labels, "%s/labels", tmpdir);
    mkdir(dir_images, 0700);
    mkdir(dir_labels, 0700);
    ip = write_idx("images/digits.idx", 3, di, px, sizeof px);
    write_idx("labels/digits.idx", 1, dl, lb, N - 1); /* would be a count mismatch if picked */
    rc = ganc_dataset_load_idx(ip, &ds, err);
    CHECK(rc == 0 && ds.labels == NULL, "directory name rewritten: %s", rc ? err : ds.labels_path);
    if (rc == 0) ganc_dataset_free(&ds);

    /* labels that do not match: the error names the labels file */
    ip = write_idx("few-images-idx3-ubyte", 3, di, px, sizeof px);
    lp = write_idx("few-labels-idx1-ubyte", 1, dl, lb, N - 1); /* header says N, 5 bytes follow */
    expect_dataset_error(ip, lp, "holds only 5 bytes", "labels file cut short");
    const uint32_t dl5[1] = {N - 1};
    lp = write_idx("few-labels-idx1-ubyte", 1, dl5, lb, N - 1);
    expect_dataset_error(ip, lp, "holds 5 labels but", "labels count mismatch");
    const uint32_t dl2[2] = {N, 1};
    lp = write_idx("few-labels-idx1-ubyte", 2, dl2, lb, N);
    expect_dataset_error(ip, lp, "1 dimension", "labels with 2 dimensions");
    {
        uint8_t buf[64];
        size_t len = make_idx(buf, 0x0D, 1, dl, lb, N);
        write_bytes(lp, buf, len);
        expect_dataset_error(ip, lp, "not supported", "float labels");
    }

    /* image layouts that are not images */
    const uint32_t d2[2] = {N, H * W};
    ip = write_idx("flat-images", 2, d2, px, sizeof px);
    expect_dataset_error(ip, ip, "3 dimensions", "2-D images");
    const uint32_t d4c2[4] = {N, H, 1, W}; /* 5 "channels" */
    ip = write_idx("c5-images", 4, d4c2, px, sizeof px);
    expect_dataset_error(ip, ip, "5 channels", "5-channel images");
    static uint8_t wide[2 * 4097];
    const uint32_t dwide[3] = {2, 1, 4097};
    ip = write_idx("wide-images", 3, dwide, wide, sizeof wide);
    expect_dataset_error(ip, ip, "larger than the limit", "4097 pixels wide");
}

/* (n, h, w, c) on disk becomes (n, c, h, w) in memory, element by element. */
static void test_dataset_hwc(void)
{
    enum { N = 2, H = 3, W = 4, C = 3 };
    uint8_t px[N * H * W * C];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)i;
    const uint32_t d[4] = {N, H, W, C};
    const char *ip = write_idx("rgb-images", 4, d, px, sizeof px);
    ganc_dataset ds;
    char err[GANC_ERR_LEN] = "";
    int rc = ganc_dataset_load_idx(ip, &ds, err);
    CHECK(rc == 0, "4-D: %s", err);
    if (rc) return;
    CHECK(ds.n == N && ds.shape.c == C && ds.shape.h == H && ds.shape.w == W, "4-D shape %dx%dx%d", ds.shape.c,
          ds.shape.h, ds.shape.w);
    int bad = 0;
    for (int s = 0; s < N; s++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    bad += ds.pixels[((s * C + c) * H + y) * W + x] != px[((s * H + y) * W + x) * C + c];
    CHECK(bad == 0, "HWC -> CHW: %d elements wrong", bad);
    ganc_dataset_free(&ds);

    const uint32_t d1[4] = {N, H, W * C, 1}; /* one channel: no transposition needed */
    ip = write_idx("gray4-images", 4, d1, px, sizeof px);
    rc = ganc_dataset_load_idx(ip, &ds, err);
    CHECK(rc == 0 && ds.shape.c == 1 && ds.shape.w == W * C && memcmp(ds.pixels, px, sizeof px) == 0,
          "4-D with c=1: %s", err);
    if (rc == 0) ganc_dataset_free(&ds);
}

static void test_dataset_fill(void)
{
    enum { N = 3, H = 2, W = 2 };
    uint8_t px[N * H * W] = {0, 255, 128, 51, 1, 2, 3, 4, 255, 0, 255, 0};
    const uint32_t d[3] = {N, H, W};
    const char *ip = write_idx("fill-images", 3, d, px, sizeof px);
    ganc_dataset ds;
    char err[GANC_ERR_LEN] = "";
    if (!CHECK(ganc_dataset_load_idx(ip, &ds, err) == 0, "fill load: %s", err)) return;
    const int32_t idx[3] = {2, 0, 2};
    float out[3 * H * W];
    ganc_dataset_fill(&ds, idx, 3, -1.0f, 1.0f, out);
    int bad = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < H * W; j++) {
            float want = -1.0f + 2.0f * (float)px[idx[i] * H * W + j] / 255.0f;
            bad += out[i * H * W + j] < want - 1e-6f || out[i * H * W + j] > want + 1e-6f;
        }
    CHECK(bad == 0, "fill [-1, 1]: %d values wrong", bad);
    CHECK(out[0] == 1.0f && out[1] == -1.0f && out[4] == -1.0f && out[5] == 1.0f, "fill: 255 -> hi, 0 -> lo exactly");
    ganc_dataset_fill(&ds, idx + 1, 1, 0.25f, 0.7f, out);
    CHECK(out[0] == 0.25f && out[1] == 0.7f, "fill [0.25, 0.7]: %g %g", out[0], out[1]);
    ganc_dataset_free(&ds);
}

/* The real MNIST subset shipped in data/mnist-10k (tests run from the repository root). */
static void test_mnist(void)
{
    const char *ip = MNIST_DIR "/images-idx3-ubyte.gz";
    if (!CHECK(access(ip, R_OK) == 0, "%s: not readable (the repository ships it)", ip)) return;
    ganc_dataset ds;
    char err[GANC_ERR_LEN] = "";
    int rc = ganc_dataset_load_idx(ip, &ds, err);
#ifndef GANC_HAVE_ZLIB
    CHECK(rc == -1 && strstr(err, "built without zlib"), "mnist without zlib: %s", err);
    return;
#endif
    if (!CHECK(rc == 0, "mnist: %s", err)) return;
    CHECK(ds.n == 10000 && ds.shape.c == 1 && ds.shape.h == 28 && ds.shape.w == 28, "mnist: n %d shape %dx%dx%d", ds.n,
          ds.shape.c, ds.shape.h, ds.shape.w);
    CHECK(ds.labels != NULL && ds.n_classes == 10, "mnist labels: %d classes, path '%s'", ds.n_classes,
          ds.labels_path);
    if (ds.labels) {
        static const int want[10] = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
        int count[256] = {0};
        for (int i = 0; i < ds.n; i++) count[ds.labels[i]]++;
        int ok = 1;
        for (int k = 0; k < 10; k++) ok &= count[k] == want[k];
        CHECK(ok, "mnist class counts: %d %d %d %d %d %d %d %d %d %d", count[0], count[1], count[2], count[3],
              count[4], count[5], count[6], count[7], count[8], count[9]);
    }
    /* digits are mostly black background with some fully white strokes */
    size_t zeros = 0, full = 0, total = (size_t)ds.n * 784;
    for (size_t i = 0; i < total; i++) {
        zeros += ds.pixels[i] == 0;
        full += ds.pixels[i] == 255;
    }
    CHECK(zeros > total / 2 && full > 0, "mnist pixels: %zu zeros, %zu at 255 of %zu", zeros, full, total);
    ganc_dataset_free(&ds);
}

/* ---- batcher ---------------------------------------------------------------------------- */

static int is_permutation(const int32_t *v, int n)
{
    char *seen = calloc((size_t)n, 1);
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        ok = v[i] >= 0 && v[i] < n && !seen[v[i]];
        if (ok) seen[v[i]] = 1;
    }
    free(seen);
    return ok;
}

static void test_batcher(void)
{
    enum { N = 50 };
    ganc_batcher a, b;
    int32_t e0[N], e1[N], again[N];
    ganc_batcher_init(&a, N, 1234);
    ganc_batcher_next(&a, N, e0);
    CHECK(a.epoch == 1 && a.pos == 0, "after one epoch: (%lld, %d)", (long long)a.epoch, a.pos);
    ganc_batcher_next(&a, N, e1);
    CHECK(is_permutation(e0, N) && is_permutation(e1, N), "each epoch is a permutation");
    CHECK(memcmp(e0, e1, sizeof e0) != 0, "epochs 0 and 1 have the same order");
    int identity = 1;
    for (int i = 0; i < N; i++) identity &= e0[i] == i;
    CHECK(!identity, "epoch 0 not shuffled");

    /* the documented derivation: epoch e uses seed ^ (0x9E3779B97F4A7C15 * (e + 1)) */
    ganc_rng r;
    ganc_rng_seed(&r, 1234 ^ (0x9E3779B97F4A7C15ull * 2));
    ganc_rng_permutation(&r, again, N);
    CHECK(memcmp(again, e1, sizeof e1) == 0, "epoch 1 differs from the documented seeding");

    ganc_batcher_init(&b, N, 1234);
    ganc_batcher_next(&b, N, again);
    CHECK(memcmp(again, e0, sizeof e0) == 0, "same seed, different order");
    ganc_batcher_free(&b);
    ganc_batcher_init(&b, N, 1235);
    ganc_batcher_next(&b, N, again);
    CHECK(memcmp(again, e0, sizeof e0) != 0, "different seeds, same order");
    ganc_batcher_free(&b);

    /* batches of 7 straddle epoch ends; the stream equals epoch orders laid end to end, and
     * seeking to any (epoch, pos) reproduces the rest of it */
    enum { M = 7, STEPS = 40 };
    int32_t stream[M * STEPS], concat[M * STEPS + 2 * N];
    ganc_batcher_init(&b, N, 99);
    uint64_t allocs = ganc_alloc_count();
    for (int s = 0; s < STEPS; s++) ganc_batcher_next(&b, M, stream + s * M);
    CHECK(ganc_alloc_count() == allocs, "next allocated %llu times", (unsigned long long)(ganc_alloc_count() - allocs));
    CHECK(b.epoch == (M * STEPS) / N && b.pos == (M * STEPS) % N, "state after %d: (%lld, %d)", M * STEPS,
          (long long)b.epoch, b.pos);
    for (int e = 0; e * N < M * STEPS; e++) {
        ganc_batcher_seek(&b, e, 0);
        CHECK(b.epoch == e && b.pos == 0, "seek(%d, 0)", e);
        ganc_batcher_next(&b, N, concat + e * N);
    }
    CHECK(memcmp(stream, concat, sizeof stream) == 0, "batches across epoch ends != epoch orders concatenated");
    int seek_bad = 0;
    for (int s = 0; s < STEPS; s += 3) {
        int64_t at = (int64_t)s * M;
        ganc_batcher_seek(&b, at / N, (int)(at % N));
        int32_t got[2 * M];
        ganc_batcher_next(&b, 2 * M, got);
        size_t k = (size_t)(at + 2 * M <= M * STEPS ? 2 * M : M * STEPS - at);
        seek_bad += memcmp(got, stream + at, k * sizeof *got) != 0;
    }
    CHECK(seek_bad == 0, "seek then next differs from continuing: %d of %d", seek_bad, (STEPS + 2) / 3);
    ganc_batcher_seek(&b, 2, N); /* pos == n is the start of the next epoch */
    CHECK(b.epoch == 3 && b.pos == 0, "seek(2, n) -> (%lld, %d)", (long long)b.epoch, b.pos);
    ganc_batcher_free(&b);

    /* more than n at once runs through whole epochs */
    int32_t many[2 * N + 5];
    ganc_batcher_init(&b, N, 1234);
    ganc_batcher_next(&b, 2 * N + 5, many);
    CHECK(memcmp(many, e0, sizeof e0) == 0 && memcmp(many + N, e1, sizeof e1) == 0 && b.epoch == 2 && b.pos == 5,
          "m > n");
    ganc_batcher_free(&b);
    ganc_batcher_free(&a);

    ganc_batcher_init(&b, 1, 5); /* a one-item data set */
    int32_t one[3] = {-1, -1, -1};
    ganc_batcher_next(&b, 3, one);
    CHECK(one[0] == 0 && one[1] == 0 && one[2] == 0 && b.epoch == 3, "n = 1");
    ganc_batcher_free(&b);
}

int main(void)
{
    tmpdir = check_tmpdir();
    test_idx_roundtrip();
    test_idx_gzip();
    test_idx_rejects();
    test_idx_huge_claims();
    test_dataset_3d_and_labels();
    test_dataset_hwc();
    test_dataset_fill();
    test_mnist();
    test_batcher();
    return check_finish("data");
}
