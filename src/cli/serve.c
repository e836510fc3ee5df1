/* ganc serve: the live dashboard of one or several runs (src/web/), until Ctrl-C; and the same
 * server beside ganc train --serve (serve.h). */
#include "cli/serve.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "ganc_internal.h"
#include "web/buf.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_serve_listen(web_server **server, const char *host, int port, char err[GANC_ERR_LEN])
{
    if (web_server_listen(server, host, port, err)) return -1;
    if (!web_loopback(host))
        fprintf(stderr, "ganc: warning: serving on %s, not on this machine alone: whoever reaches that address sees "
                        "these runs (no password, no encryption)\n", host);
    return 0;
}

static void print_address(const web_server *server, const char *host, const char *what)
{
    const int v6 = strchr(host, ':') != NULL;
    fprintf(stderr, "ganc: %s on http://%s%s%s:%d/\n", what, v6 ? "[" : "", host, v6 ? "]" : "",
            web_server_port(server));
}

/* The page's metadata from the session: the keys a checkpoint's header has (run_files.c). */
static char *session_meta(const ganc_session *s)
{
    web_buf b = {0};
    web_buf_str(&b, "{\"model.source\": ");
    web_buf_json(&b, s->model.source, strlen(s->model.source));
    web_buf_str(&b, ", \"model\": ");
    web_buf_json(&b, s->model.text, strlen(s->model.text));
    web_buf_printf(&b, ", \"data.shape\": \"%d %d %d\"", s->data_shape.c, s->data_shape.h, s->data_shape.w);
    for (int i = 0; i < ganc_config_option_count(); i++) {
        char buf[64];
        const char *key = ganc_config_option_at(i)->key, *v = ganc_config_get(&s->cfg, key, buf);
        web_buf_printf(&b, ", \"config.%s\": ", key);
        web_buf_json(&b, v, strlen(v));
    }
    web_buf_str(&b, "}");
    return web_buf_take(&b, NULL);
}

int cli_train_serve_listen(cli_train_serve *t, const char *host, int port, char err[GANC_ERR_LEN])
{
    memset(t, 0, sizeof *t);
    snprintf(t->host, sizeof t->host, "%s", host);
    return cli_serve_listen(&t->server, host, port, err);
}

int cli_train_serve_start(cli_train_serve *t, const char *dir, const ganc_session *s, char err[GANC_ERR_LEN])
{
    if (web_run_open(&t->run, dir, err)) return -1;
    t->opened = 1;
    t->run.meta = session_meta(s); /* (out of memory: the checkpoints' instead) */
    if (web_server_run(t->server, &t->run, 1, err)) return -1;
    print_address(t->server, t->host, "the run's dashboard");
    return 0;
}

void cli_train_serve_stop(cli_train_serve *t)
{
    web_server_stop(t->server); /* first: its thread reads the run */
    t->server = NULL;
    if (t->opened) web_run_close(&t->run);
    t->opened = 0;
}

/* the server takes every run the operands may name */
_Static_assert(CLI_MAX_RUNS <= WEB_MAX_RUNS, "ganc serve's operands exceed the server's runs");

int cmd_serve(int argc, char **argv)
{
    const char *paths[CLI_MAX_RUNS], *host = "127.0.0.1";
    int n = 0, port = CLI_SERVE_PORT;
    cli_flag flags[] = {
        {"--port", "P", "the TCP port (0: any free one, printed)", CLI_INT, 0, 65535, .dest = &port},
        {"--host", "ADDR", "the address to listen on; anything but a loopback address (127.0.0.1, ::1) lets other "
                           "machines see the runs, and says so", CLI_TEXT, .dest = &host},
    };
    const cli_command cmd = {
        .name = "serve",
        .usage = "ganc serve RUN... [--port P] [--host ADDR]",
        .about = "Serves a live dashboard of one or several runs (side by side) while they train, or after: the\n"
                 "newest sample grid and a slider through all of them, the losses, D(x) and D(G(z)) and every\n"
                 "metric logged, the warnings marked on the curves, the hyper-parameters and model. It reads the\n"
                 "run directories and never writes them; Ctrl-C stops it.",
        .flags = flags,
        .n_flags = (int)(sizeof flags / sizeof flags[0]),
        CLI_RUN_OPERANDS(paths, &n),
    };
    const int parsed = cli_flags_read(&cmd, argc, argv);
    if (parsed) return parsed > 0 ? 0 : 1;
    char err[GANC_ERR_LEN];
    if (!web_server_available()) return cli_error("serve: this build of ganc has no HTTP server (built without "
                                                  "libmicrohttpd); ganc report RUN -o report.html writes the page");
    web_run runs[WEB_MAX_RUNS];
    int opened = 0, status = 0;
    web_server *server = NULL;
    for (; opened < n && !status; opened++)
        if (web_run_open(&runs[opened], paths[opened], err)) status = cli_error("serve: %s", err);
    if (status) opened--; /* (the failed one closed itself) */
    /* Ctrl-C and SIGTERM are waited for below, not handled: blocked from here on (the server's
     * thread inherits the mask). */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (!status) sigprocmask(SIG_BLOCK, &stop, NULL);
    if (!status && (cli_serve_listen(&server, host, port, err) || web_server_run(server, runs, n, err)))
        status = cli_error("serve: %s", err);
    if (!status) {
        char what[64];
        snprintf(what, sizeof what, "serving %d run%s", n, n > 1 ? "s" : "");
        print_address(server, host, what);
        int sig = 0;
        sigwait(&stop, &sig);
        fprintf(stderr, "ganc: stopped serving\n");
    }
    web_server_stop(server);
    for (int i = 0; i < opened; i++) web_run_close(&runs[i]);
    return status;
}
