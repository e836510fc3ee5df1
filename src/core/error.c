#include "ganc_internal.h"

#include <stdio.h>

int ganc_fail(char err[GANC_ERR_LEN], const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, GANC_ERR_LEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}
