/* The 2-D mode-collapse benchmark's pieces (src/data/toy2d.c, src/eval/toy2d_metrics.c,
 * src/io/plane_plot.c, src/io/gif.c):
 * - data sets: name lookup and its error, means against cos/sin and the grid computed here,
 *   and the sampler's per-mode means, standard deviations and mode frequencies within
 *   5-standard-error bounds, determinism in the generator's state;
 * - metrics in closed form: points on the means (all modes, 100% high quality, KL 0), one mode
 *   (KL = log K), points at 4σ (nothing high quality, KL undefined), the 3σ boundary, a mixed
 *   case whose KL is computed here from the histogram of high-quality points, JSON output;
 * - plane plot: grid point layout, colours at the corners and at a real and a generated point,
 *   the title, bad arguments, and the PNG file (decoded with stb when available);
 * - GIF: the palette, and with giflib three frames read back with DGifSlurp (count, size,
 *   pixels, delay, loop extension), atomic replacement; without giflib, the error. */
#include "check.h"
#include "png_read.h"
#include "data/toy2d.h"
#include "eval/toy2d_metrics.h"
#include "ganc.h"
#include "io/gif.h"
#include "io/json.h"
#include "io/plane_plot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


#ifdef GANC_HAVE_GIF
#include <gif_lib.h>
#endif

static const char *tmpdir;

static const char *tpath(const char *name)
{
    static char buf[4][400];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}


static uint32_t pixel(const uint8_t *rgb, int w, int x, int y)
{
    const uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* ---- data sets ---------------------------------------------------------------------------- */

static void test_lookup(void)
{
    char err[GANC_ERR_LEN] = "";
    const ganc_toy2d *ring = ganc_toy2d_find("ring", err), *grid = ganc_toy2d_find("grid", err);
    CHECK(ring && strcmp(ring->name, "ring") == 0, "ring found");
    CHECK(grid && strcmp(grid->name, "grid") == 0, "grid found");
    if (!ring || !grid) return;
    CHECK(ring->n_modes == 8 && ring->sigma == 0.01f && ring->bound == 1.5f, "ring: 8 modes, sigma 0.01, bound 1.5");
    CHECK(grid->n_modes == 25 && grid->sigma == 0.05f && grid->bound == 6.0f, "grid: 25 modes, sigma 0.05, bound 6");
    CHECK(ganc_toy2d_sigma(ring) == 0.01f && ganc_toy2d_sigma(grid) == 0.05f, "sigma accessor");

    err[0] = 0;
    CHECK(ganc_toy2d_find("moons", err) == NULL, "unknown name rejected");
    CHECK(strstr(err, "'moons'") && strstr(err, "ring, grid"), "error names the set and the known ones: %s", err);
    err[0] = 0;
    CHECK(ganc_toy2d_find("Ring", err) == NULL && *err, "names are case-sensitive");
    CHECK(ganc_toy2d_find(NULL, err) == NULL && *err, "NULL name rejected");

    double worst = 0;
    for (int i = 0; i < 8; i++) {
        float m[2];
        ganc_toy2d_mean(ring, i, m);
        double a = 2.0 * 3.14159265358979323846 * i / 8;
        worst = fmax(worst, fmax(fabs(m[0] - cos(a)), fabs(m[1] - sin(a))));
    }
    CHECK(worst < 1e-7, "ring means are (cos 2 pi i/8, sin 2 pi i/8): worst error %.3g", worst);
    int grid_ok = 1;
    for (int i = 0; i < 25; i++) {
        float m[2];
        ganc_toy2d_mean(grid, i, m);
        /* the reference's itertools.product(range(-4, 5, 2), range(-4, 5, 2)): x outer */
        grid_ok &= m[0] == (float)(2 * (i / 5) - 4) && m[1] == (float)(2 * (i % 5) - 4);
    }
    CHECK(grid_ok, "grid means are {-4,-2,0,2,4}^2 in product order");
}

static void sampler_stats(const ganc_toy2d *set, int n)
{
    float *x = malloc(2 * (size_t)n * sizeof *x);
    int32_t *mode = malloc((size_t)n * sizeof *mode);
    ganc_rng r;
    ganc_rng_seed(&r, 7);
    ganc_toy2d_sample(set, &r, x, n, mode);
    const int k = set->n_modes;
    double cnt[GANC_TOY2D_MAX_MODES] = {0}, sum[GANC_TOY2D_MAX_MODES][2] = {{0}}, sq[GANC_TOY2D_MAX_MODES][2] = {{0}};
    int labels_ok = 1;
    for (int i = 0; i < n; i++) {
        int m = mode[i];
        if (m < 0 || m >= k) {
            labels_ok = 0;
            continue;
        }
        cnt[m]++;
        for (int d = 0; d < 2; d++) {
            double v = x[2 * i + d] - set->means[m][d];
            sum[m][d] += v;
            sq[m][d] += v * v;
        }
    }
    CHECK(labels_ok, "%s: every mode label in range", set->name);
    /* 5 standard errors: a correct sampler fails one of these ~1e-6 of the time per check */
    const double p = 1.0 / k, sd_cnt = sqrt(n * p * (1 - p));
    double worst_cnt = 0, worst_mean = 0, worst_sd = 0;
    for (int m = 0; m < k; m++) {
        worst_cnt = fmax(worst_cnt, fabs(cnt[m] - n * p) / sd_cnt);
        for (int d = 0; d < 2; d++) {
            double mean = sum[m][d] / cnt[m], var = sq[m][d] / cnt[m] - mean * mean;
            worst_mean = fmax(worst_mean, fabs(mean) / (set->sigma / sqrt(cnt[m])));
            worst_sd = fmax(worst_sd, fabs(sqrt(var) / set->sigma - 1.0) / (1.0 / sqrt(2.0 * cnt[m])));
        }
    }
    CHECK(worst_cnt < 5, "%s: mode frequencies uniform (worst %.2f standard errors)", set->name, worst_cnt);
    CHECK(worst_mean < 5, "%s: per-mode means (worst %.2f standard errors)", set->name, worst_mean);
    CHECK(worst_sd < 5, "%s: per-mode standard deviations equal sigma (worst %.2f standard errors)", set->name, worst_sd);

    /* the whole sample seen by the metrics: every mode, ~98.9% within 3 sigma (chi, 2 dof:
     * P(r <= 3) = 1 - exp(-9/2)), and a small reverse KL */
    ganc_toy2d_metrics mt;
    char err[GANC_ERR_LEN];
    CHECK(ganc_toy2d_evaluate(set, x, n, &mt, err) == 0, "%s: evaluate real samples", set->name);
    double want = 100.0 * (1.0 - exp(-4.5)), se = 100.0 * sqrt((1 - exp(-4.5)) * exp(-4.5) / n);
    CHECK(mt.modes == k, "%s: real samples capture all modes (%d)", set->name, mt.modes);
    CHECK(fabs(mt.high_quality - want) < 5 * se, "%s: high quality %.3f%%, expected %.3f%%", set->name,
          mt.high_quality, want);
    CHECK(mt.reverse_kl < 1e-3, "%s: reverse KL of real samples %.3g", set->name, mt.reverse_kl);
    free(x);
    free(mode);
}

static void test_sampler(void)
{
    char err[GANC_ERR_LEN];
    const ganc_toy2d *ring = ganc_toy2d_find("ring", err), *grid = ganc_toy2d_find("grid", err);
    sampler_stats(ring, 200000);
    sampler_stats(grid, 200000);

    /* deterministic in (seed, counter); advances the counter; other seeds differ */
    float a[2 * 100], b[2 * 100], c[2 * 100];
    ganc_rng r1, r2, r3;
    ganc_rng_seed(&r1, 42);
    ganc_rng_seed(&r2, 42);
    ganc_rng_seed(&r3, 43);
    ganc_toy2d_sample(grid, &r1, a, 100, NULL);
    ganc_toy2d_sample(grid, &r2, b, 100, NULL);
    ganc_toy2d_sample(grid, &r3, c, 100, NULL);
    CHECK(memcmp(a, b, sizeof a) == 0, "same state, same samples");
    CHECK(memcmp(a, c, sizeof a) != 0, "another seed, other samples");
    CHECK(r1.counter == r2.counter && r1.counter > 0, "the generator's counter advances (%llu)",
          (unsigned long long)r1.counter);
    ganc_toy2d_sample(grid, &r1, b, 100, NULL);
    CHECK(memcmp(a, b, sizeof a) != 0, "the next call continues the stream");
    /* a resumed run: restoring (seed, counter) reproduces the draw */
    ganc_rng saved = r2;
    ganc_toy2d_sample(grid, &r2, a, 100, NULL);
    ganc_toy2d_sample(grid, &saved, c, 100, NULL);
    CHECK(memcmp(a, c, sizeof a) == 0, "restored state, same samples");
}

/* ---- metrics -------------------------------------------------------------------------------- */

/* n points: point i at mode pick(i) displaced by off_sigma * sigma along (cos t, sin t). */
static float *points_near(const ganc_toy2d *set, int n, int (*pick)(int, int), double off_sigma, double t)
{
    float *x = malloc(2 * (size_t)n * sizeof *x);
    for (int i = 0; i < n; i++) {
        int m = pick(i, set->n_modes);
        x[2 * i] = (float)(set->means[m][0] + off_sigma * set->sigma * cos(t));
        x[2 * i + 1] = (float)(set->means[m][1] + off_sigma * set->sigma * sin(t));
    }
    return x;
}

static int pick_cycle(int i, int k) { return i % k; }
static int pick_first(int i, int k)
{
    (void)i;
    (void)k;
    return 0;
}

static void test_metrics_closed_form(void)
{
    char err[GANC_ERR_LEN];
    const ganc_toy2d *sets[2] = {ganc_toy2d_find("ring", err), ganc_toy2d_find("grid", err)};
    for (int s = 0; s < 2; s++) {
        const ganc_toy2d *set = sets[s];
        const int k = set->n_modes, n = 4 * k;
        ganc_toy2d_metrics m;

        float *x = points_near(set, n, pick_cycle, 0.0, 0.0);
        CHECK(ganc_toy2d_evaluate(set, x, n, &m, err) == 0, "%s: evaluate", set->name);
        CHECK(m.modes == k && m.modes_total == k && m.n == n, "%s: points on the means capture %d of %d modes",
              set->name, m.modes, m.modes_total);
        CHECK(m.hq_count == n && m.high_quality == 100.0, "%s: points on the means are 100%% high quality (%g)",
              set->name, m.high_quality);
        CHECK(m.reverse_kl == 0.0, "%s: uniform over the modes, reverse KL 0 (%g)", set->name, m.reverse_kl);
        free(x);

        x = points_near(set, n, pick_first, 0.5, 1.0);
        ganc_toy2d_evaluate(set, x, n, &m, err);
        CHECK(m.modes == 1 && m.hist[0] == n, "%s: all on mode 0: 1 mode captured (%d)", set->name, m.modes);
        CHECK(m.high_quality == 100.0, "%s: all on mode 0 at 0.5 sigma: 100%% high quality", set->name);
        CHECK(fabs(m.reverse_kl - log((double)k)) < 1e-12, "%s: one mode: reverse KL log %d = %.6f (got %.6f)",
              set->name, k, log((double)k), m.reverse_kl);
        free(x);

        x = points_near(set, n, pick_cycle, 4.0, 0.3);
        ganc_toy2d_evaluate(set, x, n, &m, err);
        CHECK(m.hq_count == 0 && m.high_quality == 0.0 && m.modes == 0, "%s: points at 4 sigma: 0%% high quality, 0 modes",
              set->name);
        CHECK(isnan(m.reverse_kl), "%s: no high-quality point: reverse KL undefined (NaN)", set->name);
        free(x);

        /* either side of the 3-sigma radius */
        x = points_near(set, n, pick_cycle, 2.99, 2.0);
        ganc_toy2d_evaluate(set, x, n, &m, err);
        CHECK(m.hq_count == n, "%s: 2.99 sigma is high quality", set->name);
        free(x);
        x = points_near(set, n, pick_cycle, 3.01, 2.0);
        ganc_toy2d_evaluate(set, x, n, &m, err);
        CHECK(m.hq_count == 0, "%s: 3.01 sigma is not", set->name);
        free(x);
    }

    /* Mixed: 3 points on ring mode 0, 1 on mode 5 (at 1 sigma), 4 far from every mode (the
     * origin, 100 sigma from all). The histogram holds only the 4 high-quality points, so
     * p = (3/4, 1/4) over 2 of 8 modes: KL = 3/4 log(6) + 1/4 log(2), and high quality 50%. */
    const ganc_toy2d *ring = sets[0];
    float x[16] = {0};
    for (int i = 0; i < 3; i++) {
        x[2 * i] = ring->means[0][0];
        x[2 * i + 1] = ring->means[0][1];
    }
    x[6] = ring->means[5][0] + ring->sigma;
    x[7] = ring->means[5][1];
    ganc_toy2d_metrics m;
    ganc_toy2d_evaluate(ring, x, 8, &m, err);
    double want = 0.75 * log(0.75 / 0.125) + 0.25 * log(0.25 / 0.125);
    CHECK(m.modes == 2 && m.hist[0] == 3 && m.hist[5] == 1, "mixed: modes 0 and 5 captured (%d modes)", m.modes);
    CHECK(m.high_quality == 50.0 && m.hq_count == 4, "mixed: 50%% high quality (%g)", m.high_quality);
    CHECK(fabs(m.reverse_kl - want) < 1e-12, "mixed: reverse KL over high-quality points %.9f (got %.9f)", want,
          m.reverse_kl);

    /* a diverged generator: NaN and infinite points count in n, never as high quality */
    x[8] = NAN;
    x[11] = INFINITY;
    ganc_toy2d_evaluate(ring, x, 8, &m, err);
    CHECK(m.n == 8 && m.hq_count == 4, "non-finite points are not high quality");

    err[0] = 0;
    CHECK(ganc_toy2d_evaluate(ring, x, 0, &m, err) == -1 && *err, "no points: error (%s)", err);
    CHECK(ganc_toy2d_evaluate(ring, NULL, 4, &m, err) == -1, "NULL points: error");
}

static void test_metrics_json(void)
{
    char err[GANC_ERR_LEN];
    const ganc_toy2d *ring = ganc_toy2d_find("ring", err);
    float *x = points_near(ring, 16, pick_cycle, 0.0, 0.0);
    ganc_toy2d_metrics m;
    ganc_toy2d_evaluate(ring, x, 16, &m, err);
    char buf[256];
    int len = ganc_toy2d_metrics_json(&m, buf, sizeof buf);
    const char *want = "{\"modes\": 8, \"modes_total\": 8, \"high_quality\": 100, \"reverse_kl\": 0, \"n\": 16}";
    CHECK(strcmp(buf, want) == 0 && len == (int)strlen(want), "JSON text: %s", buf);
    char small[8];
    CHECK(ganc_toy2d_metrics_json(&m, small, sizeof small) == len && strlen(small) == 7, "JSON: truncates like snprintf");

    for (int i = 0; i < 32; i++) x[i] += 0.5f; /* far from every mode: KL undefined */
    ganc_toy2d_evaluate(ring, x, 16, &m, err);
    ganc_toy2d_metrics_json(&m, buf, sizeof buf);
    ganc_json_doc *doc = NULL;
    CHECK(ganc_json_parse(buf, strlen(buf), 0, &doc, err) == 0, "undefined KL still valid JSON: %s", buf);
    if (doc) {
        const ganc_json *root = ganc_json_root(doc), *kl = ganc_json_get(root, "reverse_kl"),
                        *hq = ganc_json_get(root, "high_quality"), *n = ganc_json_get(root, "n");
        CHECK(kl && kl->type == GANC_JSON_NULL, "reverse_kl is null");
        CHECK(hq && hq->type == GANC_JSON_NUMBER && hq->number == 0.0, "high_quality is 0");
        CHECK(n && n->is_int && n->integer == 16 && ganc_json_get(root, "modes") && ganc_json_get(root, "modes_total"),
              "every key present");
        ganc_json_free(doc);
    }

    const char *path = tpath("metrics.jsonl");
    FILE *f = fopen(path, "w");
    CHECK(f && ganc_toy2d_metrics_print(f, &m) == 0, "print to a file");
    if (f) fclose(f);
    size_t n;
    uint8_t *text = test_read_file(path, &n);
    CHECK(text && n == strlen(buf) + 1 && memcmp(text, buf, n - 1) == 0 && text[n - 1] == '\n',
          "printed line is the JSON object and a newline");
    free(text);
    free(x);
}

/* ---- plane plot ------------------------------------------------------------------------------ */

static void test_plane_plot(void)
{
    char err[GANC_ERR_LEN];
    ganc_plane_bounds b = {-1, 1, -2, 2};
    float g[4 * 2 * 2];
    ganc_plane_grid_points(b, 4, 2, g);
    /* cells 0.5 wide and 2 high: centres x = -0.75, -0.25, 0.25, 0.75; y = 1 (top row), -1 */
    CHECK(g[0] == -0.75f && g[1] == 1.0f && g[6] == 0.75f && g[7] == 1.0f && g[8] == -0.75f && g[9] == -1.0f &&
              g[14] == 0.75f && g[15] == -1.0f,
          "grid points: cell centres, top row first");

    CHECK(ganc_plane_heat_rgb(0.5f) == 0xFFFFFFu, "D = 0.5 is white");
    uint32_t real = ganc_plane_heat_rgb(1.0f), fake = ganc_plane_heat_rgb(0.0f);
    CHECK(((real >> 8) & 0xFF) > (real >> 16) && ((real >> 8) & 0xFF) > (real & 0xFF), "D = 1 is green: %06x", real);
    CHECK((fake >> 16) > ((fake >> 8) & 0xFF) && (fake & 0xFF) > ((fake >> 8) & 0xFF), "D = 0 is purple: %06x", fake);
    CHECK(ganc_plane_heat_rgb(7.0f) == real && ganc_plane_heat_rgb(-3.0f) == fake, "out-of-range D clamped");
    CHECK(ganc_plane_heat_rgb(NAN) == GANC_PLANE_NAN_RGB, "NaN D is grey");
    uint32_t q = ganc_plane_heat_rgb(0.75f);
    CHECK(q != real && q != 0xFFFFFFu && ((q >> 8) & 0xFF) > (q >> 16), "D = 0.75 is a paler green: %06x", q);

    ganc_plane_bounds ring = {-1.5f, 1.5f, -1.5f, 1.5f};
    int px = -9, py = -9;
    CHECK(ganc_plane_to_pixel(ring, 400, 400, 0, 0, &px, &py) && px == 200 && py == 200, "origin at the centre (%d, %d)",
          px, py);
    CHECK(ganc_plane_to_pixel(ring, 400, 400, -1.5, 1.5, &px, &py) && px == 0 && py == 0, "top-left corner");
    CHECK(ganc_plane_to_pixel(ring, 400, 400, 1.4999, -1.4999, &px, &py) && px == 399 && py == 399,
          "bottom-right corner");
    CHECK(!ganc_plane_to_pixel(ring, 400, 400, NAN, 0, &px, &py), "NaN has no pixel");

    /* 100 x 80 picture of [-1, 1]^2 with a 2 x 2 D grid: top-left 0, top-right 1, bottom-left
     * 0.5, bottom-right NaN; a real point at (0.5, -0.5)... in the NaN cell; a generated point
     * at (-0.5, 0.5) and a real one under it; points outside and NaN left out. */
    const int w = 100, h = 80;
    float d[4] = {0.0f, 1.0f, 0.5f, NAN};
    float reals[3 * 2] = {0.5f, -0.5f, -0.5f, 0.5f, 5.0f, 5.0f};
    float fakes[2 * 2] = {-0.5f, 0.5f, NAN, 0.0f};
    ganc_plane_view v = {.bounds = {-1, 1, -1, 1}, .d_prob = d, .grid_w = 2, .grid_h = 2, .real = reals, .n_real = 3,
                         .fake = fakes, .n_fake = 2};
    uint8_t *rgb = malloc(3 * (size_t)w * h);
    CHECK(ganc_plane_render(&v, rgb, w, h, err) == 0, "render: %s", err);
    CHECK(pixel(rgb, w, 0, 0) == fake, "top-left corner: D = 0 colour");
    CHECK(pixel(rgb, w, w - 1, 0) == real, "top-right corner: D = 1 colour");
    CHECK(pixel(rgb, w, 0, h - 1) == 0xFFFFFFu, "bottom-left corner: D = 0.5 colour");
    CHECK(pixel(rgb, w, w - 1, h - 1) == GANC_PLANE_NAN_RGB, "bottom-right corner: NaN colour");
    CHECK(pixel(rgb, w, w / 2 - 1, h / 2 - 1) == fake && pixel(rgb, w, w / 2, h / 2 - 1) == real,
          "cell edges at the middle");
    ganc_plane_to_pixel(v.bounds, w, h, 0.5, -0.5, &px, &py);
    CHECK(px == 75 && py == 60, "real point's pixel (%d, %d)", px, py);
    CHECK(pixel(rgb, w, px, py) == GANC_PLANE_REAL_RGB, "real point drawn: %06x", pixel(rgb, w, px, py));
    CHECK(pixel(rgb, w, px + 1, py - 1) == GANC_PLANE_REAL_RGB, "its dot is 3x3");
    CHECK(pixel(rgb, w, px + 2, py) == GANC_PLANE_NAN_RGB, "and no larger");
    ganc_plane_to_pixel(v.bounds, w, h, -0.5, 0.5, &px, &py);
    CHECK(pixel(rgb, w, px, py) == GANC_PLANE_FAKE_RGB, "generated point drawn over the real one");
    int stray = 0, title_px = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t c = pixel(rgb, w, x, y);
            stray += c == GANC_PLANE_REAL_RGB || c == GANC_PLANE_FAKE_RGB;
            title_px += c == GANC_PLANE_TEXT_RGB;
        }
    CHECK(stray == 2 * 9, "exactly two dots drawn (%d pixels): outside and NaN points left out", stray);
    CHECK(title_px == 0, "no title, no text");

    v.title = "step 100";
    ganc_plane_render(&v, rgb, w, h, err);
    title_px = 0;
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < w; x++) title_px += pixel(rgb, w, x, y) == GANC_PLANE_TEXT_RGB;
    CHECK(title_px > 20, "title drawn top-left (%d pixels)", title_px);
    CHECK(pixel(rgb, w, 5, 5) == 0xFFFFFFu, "on a white box");
    CHECK(pixel(rgb, w, w - 1, h - 1) == GANC_PLANE_NAN_RGB, "the rest of the map unchanged");

    ganc_plane_view nod = {.bounds = {-1, 1, -1, 1}};
    CHECK(ganc_plane_render(&nod, rgb, w, h, err) == 0 && pixel(rgb, w, 3, 70) == 0xFFFFFFu, "no D: white");

    err[0] = 0;
    ganc_plane_view bad = v;
    bad.bounds.xmax = bad.bounds.xmin;
    CHECK(ganc_plane_render(&bad, rgb, w, h, err) == -1 && strstr(err, "bounds"), "empty bounds rejected: %s", err);
    bad = v;
    bad.grid_w = 0;
    CHECK(ganc_plane_render(&bad, rgb, w, h, err) == -1, "D grid of width 0 rejected");
    bad = v;
    bad.real = NULL;
    CHECK(ganc_plane_render(&bad, rgb, w, h, err) == -1, "missing points rejected");
    CHECK(ganc_plane_render(&v, rgb, 8, h, err) == -1, "too small rejected");

    /* the PNG file holds the rendered pixels */
    const char *path = tpath("plane.png");
    CHECK(ganc_plane_png(path, &v, w, h, err) == 0, "plane PNG: %s", err);
    size_t n;
    uint8_t *png = test_read_file(path, &n);
    CHECK(png && n > 24 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0, "PNG signature");
    if (png && n > 24) {
        uint32_t pw = (uint32_t)png[16] << 24 | (uint32_t)png[17] << 16 | (uint32_t)png[18] << 8 | png[19];
        uint32_t ph = (uint32_t)png[20] << 24 | (uint32_t)png[21] << 16 | (uint32_t)png[22] << 8 | png[23];
        CHECK(pw == (uint32_t)w && ph == (uint32_t)h && png[25] == 2, "PNG is %ux%u RGB", pw, ph);
    }
    CHECK(check_temp_files(tpath("plane.png")) == 0, "no temp file left");
    int dw = 0, dh = 0, dc = 0;
    uint8_t *dec = test_png_load(path, &dw, &dh, &dc, 0); /* now also in builds without stb */
    ganc_plane_render(&v, rgb, w, h, err);
    CHECK(dec && dw == w && dh == h && dc == 3 && memcmp(dec, rgb, 3 * (size_t)w * h) == 0, "PNG decodes to the rendered pixels");
    test_png_free(dec);
    free(png);
    err[0] = 0;
    CHECK(ganc_plane_png(tpath("no/such/dir/p.png"), &v, w, h, err) == -1 && strstr(err, "cannot write"),
          "unwritable path: %s", err);
    free(rgb);
}

/* ---- GIF ---------------------------------------------------------------------------------------- */

static void test_palette(void)
{
    int round_trip = 1;
    for (int i = 0; i < 252; i++) {
        uint32_t c = ganc_gif_palette_rgb(i);
        round_trip &= ganc_gif_palette_index((uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c) == i;
    }
    CHECK(round_trip, "every palette colour maps to its own index");
    CHECK(ganc_gif_palette_index(0, 0, 0) == 0 && ganc_gif_palette_rgb(0) == 0, "black is index 0");
    CHECK(ganc_gif_palette_rgb(ganc_gif_palette_index(255, 255, 255)) == 0xFFFFFFu, "white is in the palette");
    /* nearest level on each axis: at most half a step off (51/2 for r and b, 42.5/2 for g) */
    double worst_rb = 0, worst_g = 0;
    for (int r = 0; r < 256; r += 3)
        for (int g = 0; g < 256; g += 5)
            for (int b = 0; b < 256; b += 7) {
                uint32_t c = ganc_gif_palette_rgb(ganc_gif_palette_index((uint8_t)r, (uint8_t)g, (uint8_t)b));
                worst_rb = fmax(worst_rb, fmax(fabs((double)(c >> 16) - r), fabs((double)(c & 0xFF) - b)));
                worst_g = fmax(worst_g, fabs((double)((c >> 8) & 0xFF) - g));
            }
    CHECK(worst_rb <= 26 && worst_g <= 22, "quantisation error at most half a step (r/b %.0f, g %.0f)", worst_rb,
          worst_g);
}

#ifdef GANC_HAVE_GIF
static void make_frame(uint8_t *rgb, int w, int h, int k)
{
    /* frame k: background of plane colour k, a 3-pixel square of generated-point colour at (k, k) */
    uint32_t bg[3] = {0xFFFFFFu, ganc_plane_heat_rgb(1.0f), ganc_plane_heat_rgb(0.0f)};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t c = x >= 10 * k && x < 10 * k + 3 && y >= 10 * k && y < 10 * k + 3 ? GANC_PLANE_FAKE_RGB : bg[k];
            uint8_t *p = rgb + 3 * ((size_t)y * w + x);
            p[0] = (uint8_t)(c >> 16);
            p[1] = (uint8_t)(c >> 8);
            p[2] = (uint8_t)c;
        }
}
#endif

static void test_gif(void)
{
    char err[GANC_ERR_LEN] = "";
    const char *path = tpath("anim.gif");
    const int w = 64, h = 48;
#ifndef GANC_HAVE_GIF
    CHECK(ganc_gif_open(path, w, h, 10, NULL, 0, err) == NULL && strstr(err, "built without giflib"),
          "without giflib: clear error (%s)", err);
    CHECK(!file_exists(path), "without giflib: no file");
    printf("test_toy2d: built without giflib: GIF read-back checks skipped\n");
#else
    /* a file already at path stays as it is until the animation is closed */
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("old", f);
        fclose(f);
    }
    uint8_t *rgb = malloc(3 * (size_t)w * h);
    ganc_gif *g = ganc_gif_open(path, w, h, 12, NULL, 0, err);
    CHECK(g != NULL, "open: %s", err);
    if (!g) {
        free(rgb);
        return;
    }
    for (int k = 0; k < 3; k++) {
        make_frame(rgb, w, h, k);
        CHECK(ganc_gif_add_frame(g, rgb, err) == 0, "frame %d: %s", k, err);
    }
    CHECK(ganc_gif_frames(g) == 3, "3 frames added");
    size_t n;
    uint8_t *old = test_read_file(path, &n);
    CHECK(old && n == 3 && memcmp(old, "old", 3) == 0, "old file untouched before close");
    free(old);
    CHECK(ganc_gif_close(g, err) == 0, "close: %s", err);
    CHECK(check_temp_files(tpath("anim.gif")) == 0, "no temp file left");

    int e = 0;
    GifFileType *gf = DGifOpenFileName(path, &e);
    CHECK(gf != NULL, "giflib opens the file (%s)", gf ? "ok" : GifErrorString(e));
    if (gf) {
        CHECK(DGifSlurp(gf) == GIF_OK, "DGifSlurp reads it (%s)", GifErrorString(gf->Error));
        CHECK(gf->ImageCount == 3, "3 frames read back (%d)", gf->ImageCount);
        CHECK(gf->SWidth == w && gf->SHeight == h, "screen %dx%d", gf->SWidth, gf->SHeight);
        const ColorMapObject *cm = gf->SColorMap;
        CHECK(cm && cm->ColorCount == 256, "global 256-colour palette");
        for (int k = 0; k < gf->ImageCount && k < 3 && cm; k++) {
            const SavedImage *im = &gf->SavedImages[k];
            CHECK(im->ImageDesc.Width == w && im->ImageDesc.Height == h && im->ImageDesc.Left == 0,
                  "frame %d covers the screen", k);
            make_frame(rgb, w, h, k);
            int same = 1;
            for (int i = 0; i < w * h; i++) {
                const GifColorType c = cm->Colors[im->RasterBits[i]];
                uint32_t got = (uint32_t)c.Red << 16 | (uint32_t)c.Green << 8 | c.Blue;
                same &= got == ganc_gif_palette_rgb(ganc_gif_palette_index(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]));
            }
            CHECK(same, "frame %d: every pixel is its colour's palette entry", k);
            int dot = im->RasterBits[(10 * k + 1) * w + 10 * k + 1], bg = im->RasterBits[(h - 1) * w + w - 1];
            CHECK(dot != bg, "frame %d: the dot differs from the background", k);
            GraphicsControlBlock gcb;
            CHECK(DGifSavedExtensionToGCB(gf, k, &gcb) == GIF_OK && gcb.DelayTime == 12, "frame %d: delay 12/100 s", k);
        }
        int loop = 0;
        const SavedImage *im0 = &gf->SavedImages[0];
        for (int i = 0; gf->ImageCount > 0 && i < im0->ExtensionBlockCount; i++) {
            const ExtensionBlock *eb = &im0->ExtensionBlocks[i];
            if (eb->Function == APPLICATION_EXT_FUNC_CODE && eb->ByteCount == 11 && memcmp(eb->Bytes, "NETSCAPE2.0", 11) == 0 &&
                i + 1 < im0->ExtensionBlockCount && im0->ExtensionBlocks[i + 1].ByteCount == 3)
                loop = im0->ExtensionBlocks[i + 1].Bytes[0] == 1 && im0->ExtensionBlocks[i + 1].Bytes[1] == 0 &&
                       im0->ExtensionBlocks[i + 1].Bytes[2] == 0;
        }
        CHECK(loop, "NETSCAPE2.0 extension: loop forever");
        DGifCloseFile(gf, &e);
    }

    /* nothing written on abort, or when closing an empty animation */
    const char *p2 = tpath("empty.gif");
    g = ganc_gif_open(p2, w, h, 10, NULL, 0, err);
    err[0] = 0;
    CHECK(g && ganc_gif_close(g, err) == -1 && strstr(err, "no frames") && !file_exists(p2),
          "no frames: error, no file (%s)", err);
    g = ganc_gif_open(p2, w, h, 10, NULL, 0, err);
    if (g) ganc_gif_add_frame(g, rgb, err);
    ganc_gif_abort(g);
    CHECK(!file_exists(p2) && check_temp_files(p2) == 0, "abort: no file");
    err[0] = 0;
    CHECK(ganc_gif_open(p2, 0, h, 10, NULL, 0, err) == NULL && *err, "0-wide GIF rejected: %s", err);
    uint32_t one = 0;
    err[0] = 0;
    CHECK(ganc_gif_open(p2, w, h, 10, &one, 0, err) == NULL && strstr(err, "palette"), "empty palette rejected: %s", err);
    g = ganc_gif_open(tpath("no/such/dir/a.gif"), w, h, 10, NULL, 0, err);
    if (g) ganc_gif_add_frame(g, rgb, err);
    err[0] = 0;
    CHECK(g && ganc_gif_close(g, err) == -1 && strstr(err, "cannot write GIF"), "unwritable path: %s", err);
    free(rgb);
#endif
}

static void test_plane_palette(void)
{
    uint32_t pal[GANC_PLANE_PALETTE_SIZE];
    ganc_plane_palette(pal);
    int has[5] = {0};
    const uint32_t want[5] = {0xFFFFFFu, GANC_PLANE_REAL_RGB, GANC_PLANE_FAKE_RGB, GANC_PLANE_NAN_RGB, GANC_PLANE_TEXT_RGB};
    for (int i = 0; i < GANC_PLANE_PALETTE_SIZE; i++)
        for (int j = 0; j < 5; j++) has[j] |= pal[i] == want[j];
    CHECK(has[0] && has[1] && has[2] && has[3] && has[4], "plane palette holds white, both dots, NaN grey and text");
    CHECK(pal[0] == ganc_plane_heat_rgb(0.0f) && pal[96] == 0xFFFFFFu && pal[192] == ganc_plane_heat_rgb(1.0f),
          "plane palette starts with the heat ramp");
    /* every heat colour lies close to the ramp: nearest entry within 1 level per channel */
    int worst = 0;
    for (int i = 0; i <= 1000; i++) {
        uint32_t c = ganc_plane_heat_rgb(i / 1000.0f);
        int best = 1 << 30;
        for (int k = 0; k <= 192; k++) {
            int d = 0;
            for (int s = 0; s <= 16; s += 8) {
                int e = abs((int)((c >> s) & 0xFF) - (int)((pal[k] >> s) & 0xFF));
                d = e > d ? e : d;
            }
            best = d < best ? d : best;
        }
        worst = best > worst ? best : worst;
    }
    CHECK(worst <= 1, "heat colours within %d level of a ramp entry", worst);
}

/* A plane plot through the plane palette: dots, text and white come back exact, the heat map
 * within a few levels (5-bit cells). */
static void test_plane_gif(void)
{
#ifdef GANC_HAVE_GIF
    char err[GANC_ERR_LEN];
    const int w = 160, h = 120, gw = 40, gh = 30;
    const ganc_toy2d *ring = ganc_toy2d_find("ring", err);
    ganc_plane_bounds b = {-ring->bound, ring->bound, -ring->bound, ring->bound};
    float pts[2 * 40 * 30], d[40 * 30], real[2 * 64], fake[2 * 64];
    ganc_plane_grid_points(b, gw, gh, pts);
    for (int i = 0; i < gw * gh; i++) d[i] = 0.5f + 0.5f * tanhf(3.0f * (pts[2 * i] + 0.3f * pts[2 * i + 1]));
    d[5] = NAN;
    ganc_rng r;
    ganc_rng_seed(&r, 3);
    ganc_toy2d_sample(ring, &r, real, 64, NULL);
    ganc_rng_normal(&r, fake, 128, 0.0f, 0.5f);
    ganc_plane_view v = {b, d, gw, gh, real, 64, fake, 64, "step 1"};
    uint8_t *rgb = malloc(3 * (size_t)w * h);
    ganc_plane_render(&v, rgb, w, h, err);
    uint32_t pal[GANC_PLANE_PALETTE_SIZE];
    ganc_plane_palette(pal);
    const char *path = tpath("plane.gif");
    ganc_gif *g = ganc_gif_open(path, w, h, 5, pal, GANC_PLANE_PALETTE_SIZE, err);
    CHECK(g && ganc_gif_add_frame(g, rgb, err) == 0 && ganc_gif_close(g, err) == 0, "plane GIF written: %s", err);
    int e = 0;
    GifFileType *gf = DGifOpenFileName(path, &e);
    if (gf && DGifSlurp(gf) == GIF_OK && gf->ImageCount == 1 && gf->SColorMap) {
        int exact_ok = 1, worst = 0, n_exact = 0;
        for (int i = 0; i < w * h; i++) {
            GifColorType c = gf->SColorMap->Colors[gf->SavedImages[0].RasterBits[i]];
            uint32_t got = (uint32_t)c.Red << 16 | (uint32_t)c.Green << 8 | c.Blue, src = pixel(rgb, w, i % w, i / w);
            if (src == 0xFFFFFFu || src == GANC_PLANE_REAL_RGB || src == GANC_PLANE_FAKE_RGB || src == GANC_PLANE_NAN_RGB ||
                src == GANC_PLANE_TEXT_RGB) {
                exact_ok &= got == src;
                n_exact++;
            }
            for (int s = 0; s <= 16; s += 8) {
                int err_c = abs((int)((got >> s) & 0xFF) - (int)((src >> s) & 0xFF));
                worst = err_c > worst ? err_c : worst;
            }
        }
        CHECK(exact_ok && n_exact > 100, "plane GIF: dots, text, white and NaN exact (%d pixels)", n_exact);
        CHECK(worst <= 8, "plane GIF: heat map within %d levels per channel", worst);
    } else {
        CHECK(0, "plane GIF read back (%s)", GifErrorString(gf ? gf->Error : e));
    }
    if (gf) DGifCloseFile(gf, &e);
    free(rgb);
#endif
}

int main(void)
{
    tmpdir = check_tmpdir();
    test_lookup();
    test_sampler();
    test_metrics_closed_form();
    test_metrics_json();
    test_plane_plot();
    test_palette();
    test_gif();
    test_plane_palette();
    test_plane_gif();
    return check_finish("mode_collapse"); /* run.sh wants [a-z_]+: no digits */
}
