/* Reading a run directory for the dashboard, never writing it. A run is opened once (its real
 * path, a directory descriptor); every later read goes through that descriptor with openat and
 * O_NOFOLLOW, one plain name at a time, so that no request can leave the directory: there is
 * no path to traverse ("../"), and a symbolic link inside the run is refused rather than
 * followed. */
#ifndef GANC_WEB_RUN_FILES_H
#define GANC_WEB_RUN_FILES_H

#include "ganc.h"
#include "web/buf.h"

#include <stddef.h>

typedef struct {
    char name[256]; /* as the user gave it, for the page */
    int fd;         /* the run directory, read-only */
    char *meta;     /* a JSON object given by the caller (ganc train --serve), else NULL */
} web_run;

/* Opens a run directory: it must be a directory holding log.jsonl or samples/. */
int web_run_open(web_run *r, const char *path, char err[GANC_ERR_LEN]);
void web_run_close(web_run *r);

/* The sample grids samples/step_N.png, oldest first: *out malloc'ed (NULL when none). */
typedef struct {
    long long step;
    char file[64];
} web_grid;
size_t web_run_grid_list(const web_run *r, web_grid **out);
/* The same as a JSON array [{"step": N, "file": "step_000010.png"}, ...]; none yet: []. */
void web_run_grids(const web_run *r, web_buf *out);
/* Whole lines of log.jsonl from byte `from` on, at most `max` bytes; *next: where the next
 * read starts. *id: the file the reader read before (0: none), then this one's (its inode). A
 * log that is another file (a resumed or rolled-back run writes it anew and renames it over
 * the old) or shorter than `from` was rewritten: the read starts again at 0 and *reset is 1.
 * No log yet: nothing, *next = 0. */
int web_run_log(const web_run *r, size_t from, size_t max, web_buf *out, size_t *next, unsigned long long *id,
                int *reset);
/* A file of samples/ for reading: fd and size, or -1 when the name is not a plain file name
 * of a picture there (a link, a directory, "..", a path). */
int web_run_sample(const web_run *r, const char *name, int *fd, size_t *size);
/* {"step": "N", "model": "text", "config": {"key": "value", ...}, ...} from r->meta or from the
 * metadata of the newest checkpoint; {} when there is none yet. */
void web_run_meta(const web_run *r, web_buf *out);
/* The bytes of a whole file given by a descriptor (closed here); -1 when it cannot be read or
 * is larger than max. */
int web_read_fd(int fd, size_t max, web_buf *out);

/* 1 when name is one plain file name a run may hold: letters, digits, '_', '-', '.', not
 * starting with '.', at most 200 characters. */
int web_plain_name(const char *name);

#endif
