#include "fuzz_common.h"
#include "gan/config.h"

#include <string.h>

/* Command-line flags and [train] values: every line "key value" goes through ganc_config_set,
 * the one parser behind both. A value it accepts must print back (ganc_config_get) to text that
 * it accepts again unchanged, since checkpoints store options that way; a value it refuses
 * must be answered with a non-empty message. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    ganc_config c;
    ganc_config_defaults(&c);
    char err[GANC_ERR_LEN];
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *value = strchr(line, ' ');
        if (!value) continue;
        *value++ = 0;
        err[0] = 0;
        if (ganc_config_set(&c, line, value, err) != 0) {
            if (!err[0]) abort();
            continue;
        }
        char buf[64], again[64];
        const char *printed = ganc_config_get(&c, line, buf);
        if (!printed) abort();
        char copy[64];
        snprintf(copy, sizeof copy, "%s", printed);
        if (ganc_config_set(&c, line, copy, err) != 0) abort();
        const char *reprinted = ganc_config_get(&c, line, again);
        if (!reprinted || strcmp(copy, reprinted) != 0) abort();
    }
    free(text);
    return 0;
}
