/* ganc report: the dashboard of one or several runs as one HTML file, with everything inside
 * (style, script, the log, the grids as data: URIs), readable offline in any browser. It needs
 * no HTTP server, so every build has it. */
#include "cli/cli.h"
#include "cli/flags.h"
#include "ganc_internal.h"
#include "io/atomic.h"
#include "web/page.h"
#include "web/run_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { GRID_MAX_BYTES = 64 << 20, LOG_MAX_BYTES = 512 << 20 };

/* The whole log, as base64 (the page decodes it: no escaping of its text needed). A log
 * rewritten while it is read (a run resumed meanwhile) is read again from its start. */
static int add_log(const web_run *r, web_buf *out, char err[GANC_ERR_LEN])
{
    web_buf text = {0};
    size_t from = 0, next;
    unsigned long long id = 0;
    int reset;
    for (;;) {
        const size_t before = text.len;
        if (web_run_log(r, from, 4 << 20, &text, &next, &id, &reset))
            return web_buf_free(&text), ganc_fail(err, "%s/log.jsonl: cannot read", r->name);
        if (reset && before) { /* what this read added is the new file's start: the rest goes */
            memmove(text.data, text.data + before, text.len - before);
            text.len -= before;
            text.data[text.len] = 0;
        }
        if (!reset && (next <= from || text.len > LOG_MAX_BYTES)) break;
        from = next;
    }
    web_buf_base64(out, (const unsigned char *)text.data, text.len);
    web_buf_free(&text);
    return 0;
}

/* At most max grids (0: all), spread evenly from the first to the newest. */
static int add_grids(const web_run *r, int max, web_buf *out, char err[GANC_ERR_LEN])
{
    web_grid *g;
    const size_t n = web_run_grid_list(r, &g);
    const size_t keep = max && (size_t)max < n ? (size_t)max : n;
    web_buf_str(out, "[");
    size_t last = (size_t)-1;
    int rc = 0;
    for (size_t k = 0; k < keep && rc == 0; k++) {
        const size_t i = keep == 1 ? n - 1 : (size_t)((double)k * (double)(n - 1) / (double)(keep - 1) + 0.5);
        if (i == last) continue;
        last = i;
        int fd;
        size_t size;
        web_buf png = {0};
        if (web_run_sample(r, g[i].file, &fd, &size) || web_read_fd(fd, GRID_MAX_BYTES, &png)) {
            rc = ganc_fail(err, "%s/samples/%s: cannot read", r->name, g[i].file);
        } else {
            web_buf_printf(out, "%s{\"step\": %lld, \"src\": \"data:image/png;base64,", k ? ", " : "", g[i].step);
            web_buf_base64(out, (const unsigned char *)png.data, png.len);
            web_buf_str(out, "\"}");
        }
        web_buf_free(&png);
    }
    web_buf_str(out, "]");
    free(g);
    return rc;
}

static int add_run(const web_run *r, int grids, web_buf *out, char err[GANC_ERR_LEN])
{
    web_buf_str(out, "{\"name\": ");
    web_buf_json(out, r->name, strlen(r->name));
    web_buf_str(out, ", \"meta\": ");
    web_run_meta(r, out);
    web_buf_str(out, ", \"log\": \"");
    if (add_log(r, out, err)) return -1;
    web_buf_str(out, "\", \"grids\": ");
    if (add_grids(r, grids, out, err)) return -1;
    web_buf_str(out, "}");
    return 0;
}

int cmd_report(int argc, char **argv)
{
    const char *paths[CLI_MAX_RUNS], *outp = NULL;
    int n = 0, grids = 24;
    cli_flag flags[] = {
        {"-o", "FILE", "the HTML file to write", CLI_TEXT, .dest = &outp, .required = ""},
        {"--grids", "N", "sample grids kept per run, spread evenly from the first to the newest (0: all; each is "
                         "a PNG inside the file)", CLI_INT, 0, 100000, .dest = &grids},
    };
    const cli_command cmd = {
        .name = "report",
        .usage = "ganc report RUN... -o FILE [--grids N]",
        .about = "Writes the dashboard of one or several runs (ganc serve's page, as it stands) into one HTML file\n"
                 "with everything inside: the sample grids, every logged curve and warning, the hyper-parameters and\n"
                 "model. It needs no network and no server, and opens in any browser.",
        .flags = flags,
        .n_flags = (int)(sizeof flags / sizeof flags[0]),
        CLI_RUN_OPERANDS(paths, &n),
    };
    const int parsed = cli_flags_read(&cmd, argc, argv);
    if (parsed) return parsed > 0 ? 0 : 1;
    char err[GANC_ERR_LEN];
    web_buf data = {0};
    char when[64];
    const time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime_r(&now, &tm));
    web_buf_printf(&data, "{\"live\": false, \"written\": \"%s\", \"version\": \"%s\", \"runs\": [", when,
                   ganc_version_string());
    int status = 0;
    for (int i = 0; i < n && !status; i++) {
        web_run r;
        if (web_run_open(&r, paths[i], err)) {
            status = cli_error("report: %s", err);
            break;
        }
        web_buf_str(&data, i ? ", " : "");
        if (add_run(&r, grids, &data, err)) status = cli_error("report: %s", err);
        web_run_close(&r);
    }
    web_buf_str(&data, "]}");
    web_buf page = {0};
    if (!status) {
        if (data.failed) status = cli_error("report: out of memory");
        else web_page(&page, data.data);
    }
    if (!status && page.failed) status = cli_error("report: out of memory");
    const ganc_io_part part = {page.data, page.len};
    if (!status && ganc_io_write_atomic(outp, &part, 1, NULL, err)) status = cli_error("%s", err);
    if (!status) fprintf(stderr, "ganc: wrote %s (%d run%s, %.1f MB)\n", outp, n, n > 1 ? "s" : "", (double)page.len / 1e6);
    web_buf_free(&data);
    web_buf_free(&page);
    return status;
}
