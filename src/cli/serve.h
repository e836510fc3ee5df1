/* The dashboard beside a training run (ganc train --serve [PORT]): the server binds before the
 * run directory exists (a port in use stops the start, leaving nothing behind), then serves
 * the run from its own thread while the loop trains; the hyper-parameters and model come from
 * the session, so the page has them before the first checkpoint. */
#ifndef GANC_CLI_SERVE_H
#define GANC_CLI_SERVE_H

#include "gan/session.h"
#include "web/server.h"

typedef struct {
    web_server *server; /* NULL: not serving */
    web_run run;
    int opened; /* run is open */
    char host[128];
} cli_train_serve;

enum { CLI_SERVE_PORT = 8080 }; /* --port's and --serve's default */

/* Binds host:port; says on stderr when the address is not loopback (anyone who reaches it sees
 * the runs). */
int cli_serve_listen(web_server **server, const char *host, int port, char err[GANC_ERR_LEN]);
/* --serve: binds (see cli_serve_listen). */
int cli_train_serve_listen(cli_train_serve *t, const char *host, int port, char err[GANC_ERR_LEN]);
/* Serves dir (created by now) with s's hyper-parameters and model; prints the address. */
int cli_train_serve_start(cli_train_serve *t, const char *dir, const ganc_session *s, char err[GANC_ERR_LEN]);
void cli_train_serve_stop(cli_train_serve *t);

#endif
