/* The library's version at run time, to set against the header's GANC_VERSION_* macros (a
 * program linked to the shared library may meet a newer one than it was compiled with). */
#include "ganc.h"

int ganc_version(void) { return GANC_VERSION_NUMBER; }

const char *ganc_version_string(void) { return GANC_VERSION_STRING; }
