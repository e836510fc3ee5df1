#include "fuzz_common.h"
#include "gan/config.h"

/* The command-line parser itself, compiled in (it lives beside the ganc command, not in the
 * library, and needs nothing of the command but ganc_fail). */
#include "cli/flags.c"

#include <math.h>
#include <string.h>

/* Command-line flags and [train] values: every line "key value" goes through ganc_config_set,
 * the one parser behind both. A value it accepts must print back (ganc_config_get) to text that
 * it accepts again unchanged, since checkpoints store options that way; a value it refuses
 * must be answered with a non-empty message. */
static void config_lines(const uint8_t *data, size_t size)
{
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
}

/* cli_command.other as ganc train has it: the config table's options. */
static int config_other(void *ctx, const char *name, const char *value, char err[GANC_ERR_LEN])
{
    ganc_config *c = ctx;
    char buf[64];
    if (strncmp(name, "--", 2) || !ganc_config_get(c, name + 2, buf)) return 1;
    return value ? ganc_config_set(c, name + 2, value, err) : 0;
}

static int pair(const char *cmd, const cli_flag *f, char **v, char err[GANC_ERR_LEN])
{
    int *out = f->dest;
    char what[96];
    snprintf(what, sizeof what, "%s: %s", cmd, f->name);
    return cli_flag_int(what, v[0], 0, 9, &out[0], err) || cli_flag_int(what, v[1], -5, 5, &out[1], err) ? -1 : 0;
}

/* The same bytes as arguments (split at spaces, newlines and NULs) for a table with a flag of
 * every type. Parsed, every destination holds a value in its range and every text is one of the
 * arguments (or the part after '='); refused, the message is one line that starts with the
 * command's name; --help touches nothing. */
static void command_line(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *argv[256];
    memcpy(text, data, size);
    text[size] = 0;
    int argc = 0;
    for (size_t i = 0; i < size && argc < 256;) {
        while (i < size && (text[i] == ' ' || text[i] == '\n' || text[i] == 0)) text[i++] = 0;
        if (i < size) argv[argc++] = text + i;
        while (i < size && text[i] != ' ' && text[i] != '\n' && text[i] != 0) i++;
        if (i < size) text[i++] = 0; /* ends this argument even when it is the 256th */
    }
    int n = 7, sw = 0, xy[2] = {0, 0}, given = 0, port = 8080;
    double q = 0.5, open = 0.5;
    uint64_t seed = 1;
    const char *out = NULL, *operand = NULL;
    ganc_config cfg;
    ganc_config_defaults(&cfg);
    cli_flag flags[] = {
        {"-n", "N", "an integer", CLI_INT, 1, 100, .dest = &n, .given = &given},
        {"--q", "Q", "a number", CLI_NUM, 0, 1, .dest = &q},
        {"--open", "R", "a number in an open range", CLI_NUM, 0, 1, .dest = &open, .open = 1},
        {"--seed", "S", "a seed", CLI_SEED, .dest = &seed},
        {"-o", "FILE", "a required text", CLI_TEXT, .dest = &out, .required = "a hint"},
        {"--sw", NULL, "a switch", CLI_SWITCH, .dest = &sw},
        {"--xy", "X Y", "two values", CLI_VALUES, .dest = xy, .nargs = 2, .parse = pair},
        {"--serve", "[PORT]", "an integer that may be left out", CLI_OPT_INT, 0, 65535, .dest = &port},
    };
    const cli_command cmd = {.name = "fuzz",
                             .usage = "ganc fuzz RUN -o FILE [options]",
                             .flags = flags,
                             .n_flags = (int)(sizeof flags / sizeof flags[0]),
                             .operand = "RUN",
                             .operand_dest = &operand,
                             .operand_required = size % 2,
                             .other = config_other,
                             .other_ctx = &cfg};
    char err[GANC_ERR_LEN] = "";
    const int rc = cli_flags_parse(&cmd, argc, argv, err);
    /* a text must be a whole argument or follow the '=' of one */
    const char *texts[] = {out, operand};
    if (rc == 0) {
        if (n < 1 || n > 100 || !(q >= 0 && q <= 1) || !(open > 0 && open < 1) || !out || !*out) abort();
        if (xy[0] < 0 || xy[0] > 9 || xy[1] < -5 || xy[1] > 5 || (sw != 0 && sw != 1)) abort();
        if (port < 0 || port > 65535) abort();
        if (cmd.operand_required && !operand) abort();
        for (int t = 0; t < 2; t++) {
            int found = !texts[t];
            for (int a = 0; a < argc && !found; a++) {
                const char *eq = strchr(argv[a], '=');
                found = texts[t] == argv[a] || (eq && texts[t] == eq + 1);
            }
            if (!found) abort();
        }
    } else if (rc == 1) {
        if (n != 7 || q != 0.5 || open != 0.5 || seed != 1 || out || operand || sw || given || port != 8080) abort();
    } else if (rc == -1) {
        if (strncmp(err, "fuzz: ", 6) || strchr(err, '\n') || strlen(err) < 10) abort();
    } else {
        abort();
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048) return 0;
    config_lines(data, size);
    command_line(data, size);
    return 0;
}
