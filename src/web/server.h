/* The dashboard's HTTP server (libmicrohttpd; a build without it has only the stubs, which
 * refuse with a message). It runs in threads of its own and reads the runs' files through
 * their descriptors (run_files.h): it never writes, never takes a lock the training loop
 * holds, so a slow or hostile client costs training nothing but a share of the CPU.
 *
 * Bounds: WEB_MAX_CONNECTIONS connections in all and WEB_MAX_PER_IP from one address, each
 * closed after WEB_TIMEOUT_S seconds without progress, WEB_MEMORY_LIMIT bytes for a request's
 * headers (larger ones are answered 431/414 or closed), no request body read. When bound to
 * a loopback address it answers only requests whose Host is that address or localhost (a web
 * page elsewhere cannot reach it through a DNS name that points at 127.0.0.1). */
#ifndef GANC_WEB_SERVER_H
#define GANC_WEB_SERVER_H

#include "ganc.h"
#include "web/run_files.h"

enum {
    WEB_MAX_CONNECTIONS = 64,
    WEB_MAX_PER_IP = 32,
    WEB_TIMEOUT_S = 10,
    WEB_MEMORY_LIMIT = 32 * 1024,
    WEB_MAX_RUNS = 16,
    WEB_LOG_CHUNK = 1 << 20, /* bytes of log.jsonl per answer: 64 connections that never read hold 64 MiB at most */
};

typedef struct web_server web_server;

/* 1 when this build has the server. */
int web_server_available(void);
/* Binds host:port (port 0: one the system picks; web_server_port says which), so that a
 * wrong address or a port in use is found before anything else happens. */
int web_server_listen(web_server **out, const char *host, int port, char err[GANC_ERR_LEN]);
/* Then serves runs[0, n) (they must outlive the server) from threads of its own. */
int web_server_run(web_server *s, web_run *runs, int n, char err[GANC_ERR_LEN]);
int web_server_port(const web_server *s);
/* Stops the threads, closes every connection and the socket; NULL is fine. */
void web_server_stop(web_server *s);

/* 1 when host is a loopback address (127.x.x.x, ::1, localhost). */
int web_loopback(const char *host);

#endif
