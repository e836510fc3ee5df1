/* Atomic file replacement, the one way every ganc writer (PNG, NPY, safetensors) puts a file
 * on disk: a reader that opens PATH while it is being written (a user looking at
 * samples/latest.png during training, a resume after a crash or a full disk) sees either the
 * old file or the new one, never a torn mixture. */
#ifndef GANC_IO_ATOMIC_H
#define GANC_IO_ATOMIC_H

#include "ganc.h"

#include <stddef.h>

/* One piece of the file. Parts let a caller write a header and a payload that live in
 * different buffers without first copying them into one. */
typedef struct {
    const void *data; /* may be NULL when len is 0 */
    size_t len;
} ganc_io_part;

/* Writes the parts in order to a temp file of its own beside PATH (PATH.tmp.PID.N), fsyncs it,
 * renames it over PATH, fsyncs the directory.
 * On any error PATH is untouched, the temp file removed, and err reads
 * "PATH: cannot write[ WHAT]: <reason>": what = "checkpoint" gives
 * "PATH: cannot write checkpoint: No space left on device", what = NULL "PATH: cannot write: ...".
 * One exception: when only the final fsync of the directory fails, the rename has already
 * happened, so PATH holds the complete new file and only its survival across a power loss is
 * in doubt; the call still fails, with "PATH: cannot write[ WHAT]: syncing its directory: <reason>".
 * File systems that cannot sync directories (EINVAL) are not an error.
 * Returns 0 or -1. Writers of the same PATH may run at once (threads or processes): PATH ends
 * as one of their files, whole. */
int ganc_io_write_atomic(const char *path, const ganc_io_part *parts, int n_parts, const char *what,
                         char err[GANC_ERR_LEN]);

#endif
