/* The dashboard's HTTP server on libmicrohttpd (see server.h). Routes:
 *   /, /app.css, /app.js            the page
 *   /api/runs                       {"live": true, "runs": [{"id": 0, "name": "runs/a"}, ...]}
 *   /api/run/N/log?from=BYTE&id=ID  whole lines of log.jsonl from BYTE (X-Log-Next: where the next
 *                                   read starts; X-Log-Id: the file's; X-Log-Reset: 1 when the
 *                                   log is not file ID any more, and so is read from its start)
 *   /api/run/N/grids                the sample grids, oldest first
 *   /api/run/N/meta                 hyper-parameters and model text
 *   /run/N/samples/NAME             one picture of samples/
 * Runs are named by their number, files by one plain name (run_files.c), so a request holds
 * no path to resolve. Anything else is 404; methods other than GET and HEAD are 405. */
#include "web/server.h"
#include "ganc_internal.h"
#include "web/page.h"

#include <string.h>

int web_loopback(const char *host)
{
    return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost");
}

#ifndef GANC_HAVE_MHD

int web_server_available(void) { return 0; }
int web_server_listen(web_server **out, const char *host, int port, char err[GANC_ERR_LEN])
{
    (void)host, (void)port;
    *out = NULL;
    return ganc_fail(err, "this build of ganc has no HTTP server (built without libmicrohttpd: install "
                          "libmicrohttpd-dev and rebuild; ganc report writes the page as a file)");
}
int web_server_run(web_server *s, web_run *runs, int n, char err[GANC_ERR_LEN])
{
    (void)s, (void)runs, (void)n;
    return ganc_fail(err, "this build of ganc has no HTTP server");
}
int web_server_port(const web_server *s)
{
    (void)s;
    return 0;
}
void web_server_stop(web_server *s) { (void)s; }

#else

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct web_server {
    struct MHD_Daemon *daemon;
    web_run *runs;
    int n_runs, port, check_host, fd; /* fd: the listening socket until MHD takes it */
    char host[128];
};

int web_server_available(void) { return 1; }

static void common_headers(struct MHD_Response *r, const char *type)
{
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    /* the page's own files, pictures from the server; nothing from elsewhere */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'");
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    common_headers(r, type);
    const enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Sends b's bytes (taken from it); out of memory: 500. */
static enum MHD_Result send_buf(struct MHD_Connection *c, const char *type, web_buf *b, struct MHD_Response **keep)
{
    size_t len;
    char *data = web_buf_take(b, &len);
    if (!data) return send_text(c, 500, "text/plain", "out of memory\n");
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    common_headers(r, type);
    if (keep) {
        *keep = r; /* the caller adds headers, queues and destroys it */
        return MHD_YES;
    }
    const enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result not_found(struct MHD_Connection *c) { return send_text(c, 404, "text/plain", "not found\n"); }

/* "N/rest": run N (< n) and *rest, else -1. */
static int run_number(const char *p, int n, const char **rest)
{
    int id = 0, digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 3; p++, digits++) id = id * 10 + (*p - '0');
    if (!digits || *p != '/' || id >= n) return -1;
    *rest = p + 1;
    return id;
}

/* ?NAME=N: N, 0 when absent; -1 when it is not a non-negative integer. */
static int query_number(struct MHD_Connection *c, const char *name, unsigned long long *out)
{
    const char *text = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!text) return 0;
    char *end = NULL;
    errno = 0;
    *out = strtoull(text, &end, 10);
    return end == text || *end || errno || text[0] == '-' ? -1 : 0;
}

static enum MHD_Result send_log(struct MHD_Connection *c, const web_run *run)
{
    unsigned long long from = 0, id = 0;
    if (query_number(c, "from", &from) || query_number(c, "id", &id))
        return send_text(c, 400, "text/plain", "from, id: non-negative integers\n");
    web_buf b = {0};
    size_t next;
    int reset;
    if (web_run_log(run, (size_t)from, WEB_LOG_CHUNK, &b, &next, &id, &reset)) {
        web_buf_free(&b);
        return send_text(c, 500, "text/plain", "cannot read the log\n");
    }
    struct MHD_Response *r = NULL;
    if (send_buf(c, "text/plain; charset=utf-8", &b, &r) != MHD_YES || !r) return MHD_NO;
    char num[32];
    snprintf(num, sizeof num, "%zu", next);
    MHD_add_response_header(r, "X-Log-Next", num);
    snprintf(num, sizeof num, "%llu", id);
    MHD_add_response_header(r, "X-Log-Id", num);
    MHD_add_response_header(r, "X-Log-Reset", reset ? "1" : "0");
    const enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_sample(struct MHD_Connection *c, const web_run *run, const char *name)
{
    int fd;
    size_t size;
    if (web_run_sample(run, name, &fd, &size)) return not_found(c);
    struct MHD_Response *r = MHD_create_response_from_fd(size, fd); /* closes fd */
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    const size_t n = strlen(name);
    common_headers(r, !strcmp(name + n - 4, ".gif") ? "image/gif" : "image/png");
    const enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_runs(struct MHD_Connection *c, const web_server *s)
{
    web_buf b = {0};
    web_buf_str(&b, "{\"live\": true, \"runs\": [");
    for (int i = 0; i < s->n_runs; i++) {
        web_buf_printf(&b, "%s{\"id\": %d, \"name\": ", i ? ", " : "", i);
        web_buf_json(&b, s->runs[i].name, strlen(s->runs[i].name));
        web_buf_str(&b, "}");
    }
    web_buf_str(&b, "]}");
    return send_buf(c, "application/json", &b, NULL);
}

/* On a loopback address: the Host must name it (or localhost) with our port. */
static int host_ok(const web_server *s, struct MHD_Connection *c)
{
    if (!s->check_host) return 1;
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!host) return 0;
    char want[3][160];
    snprintf(want[0], sizeof want[0], "%s%s%s:%d", strchr(s->host, ':') ? "[" : "", s->host, strchr(s->host, ':') ? "]" : "", s->port);
    snprintf(want[1], sizeof want[1], "localhost:%d", s->port);
    snprintf(want[2], sizeof want[2], "127.0.0.1:%d", s->port);
    for (int i = 0; i < 3; i++)
        if (!strcmp(host, want[i])) return 1;
    return 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version, (void)upload, (void)upload_size, (void)state;
    web_server *s = cls;
    /* Answered at once, on the headers: a body is never read (MHD closes the connection after). */
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) return send_text(c, 405, "text/plain", "GET only\n");
    if (!host_ok(s, c)) return send_text(c, 403, "text/plain", "forbidden: Host is not this server's address\n");
    if (!strcmp(url, "/")) {
        web_buf b = {0};
        web_page(&b, NULL);
        return send_buf(c, "text/html; charset=utf-8", &b, NULL);
    }
    if (!strcmp(url, "/app.css")) return send_text(c, 200, "text/css; charset=utf-8", ganc_web_app_css);
    if (!strcmp(url, "/app.js")) return send_text(c, 200, "text/javascript; charset=utf-8", ganc_web_app_js);
    if (!strcmp(url, "/api/runs")) return send_runs(c, s);
    const char *rest;
    int id;
    if (!strncmp(url, "/api/run/", 9) && (id = run_number(url + 9, s->n_runs, &rest)) >= 0) {
        const web_run *run = &s->runs[id];
        if (!strcmp(rest, "log")) return send_log(c, run);
        web_buf b = {0};
        if (!strcmp(rest, "grids")) web_run_grids(run, &b);
        else if (!strcmp(rest, "meta")) web_run_meta(run, &b);
        else return not_found(c);
        return send_buf(c, "application/json", &b, NULL);
    }
    if (!strncmp(url, "/run/", 5) && (id = run_number(url + 5, s->n_runs, &rest)) >= 0 && !strncmp(rest, "samples/", 8))
        return send_sample(c, &s->runs[id], rest + 8);
    return not_found(c);
}

/* The listening socket, made here so that a failure says why (MHD would only return NULL). */
static int listen_on(const char *host, int port, int *bound, char err[GANC_ERR_LEN])
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    const char *addr = !strcmp(host, "localhost") ? "127.0.0.1" : host;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof *a4;
    } else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof *a6;
    } else {
        return ganc_fail(err, "--host %s: not an IPv4 or IPv6 address", host);
    }
    const int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ganc_fail(err, "--host %s: cannot make a socket: %s", host, strerror(errno));
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* restart at once after a stop */
    if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, WEB_MAX_CONNECTIONS) ||
        getsockname(fd, (struct sockaddr *)&ss, &len)) {
        const int e = errno;
        close(fd);
        return ganc_fail(err, "cannot listen on %s port %d: %s", host, port, strerror(e));
    }
    *bound = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
    return fd;
}

int web_server_listen(web_server **out, const char *host, int port, char err[GANC_ERR_LEN])
{
    *out = NULL;
    web_server *s = calloc(1, sizeof *s);
    if (!s) return ganc_fail(err, "out of memory");
    s->check_host = web_loopback(host);
    snprintf(s->host, sizeof s->host, "%s", host);
    s->fd = listen_on(host, port, &s->port, err);
    if (s->fd < 0) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int web_server_run(web_server *s, web_run *runs, int n, char err[GANC_ERR_LEN])
{
    s->runs = runs;
    s->n_runs = n;
    /* MHD's thread must not take the signals meant for the command (Ctrl-C stops training or
     * serving in the main thread): it starts with them blocked. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    s->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | (strchr(s->host, ':') ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
        handle, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)WEB_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)WEB_MAX_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)WEB_MEMORY_LIMIT, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!s->daemon) return ganc_fail(err, "cannot start the HTTP server on %s port %d", s->host, s->port);
    s->fd = -1; /* MHD closes it when it stops */
    return 0;
}

int web_server_port(const web_server *s) { return s ? s->port : 0; }

void web_server_stop(web_server *s)
{
    if (!s) return;
    if (s->daemon) MHD_stop_daemon(s->daemon); /* joins its thread, closes every connection and the socket */
    if (s->fd >= 0) close(s->fd);
    free(s);
}

#endif
