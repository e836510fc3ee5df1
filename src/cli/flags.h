/* Command-line flags from a table. Each command describes its flags once -- name, value name,
 * help, type, range, where the value goes -- and one parser reads argv into them, with the
 * same wording of errors for every command, while one generator writes `--help` from the same
 * rows, each with its default. */
#ifndef GANC_CLI_FLAGS_H
#define GANC_CLI_FLAGS_H

#include "gan/config.h"
#include "ganc.h"

#include <stdio.h>

typedef enum {
    CLI_INT,    /* int *: an integer in [lo, hi] */
    CLI_NUM,    /* double *: a number in [lo, hi] ((lo, hi) with .open) */
    CLI_SEED,   /* uint64_t *: any non-negative 64-bit integer */
    CLI_TEXT,   /* const char **: any non-empty text */
    CLI_SWITCH, /* int *: takes no value; set to 1 */
    CLI_VALUES, /* .nargs values handed to .parse (e.g. --shape C H W) */
    CLI_OPT_INT, /* int *: like CLI_INT, but the value may be left out (--serve [PORT]): then dest
                  * keeps its value; only a number that follows is taken as the flag's */
} cli_flag_type;

typedef struct cli_flag cli_flag;
struct cli_flag {
    const char *name; /* as typed: "--seed", "-n" (long names also take "--name=value") */
    const char *arg;  /* the value's name in help and messages ("N", "C H W"); NULL: a switch */
    const char *help;
    cli_flag_type type;
    double lo, hi; /* CLI_INT, CLI_NUM */
    void *dest;
    /* The rest, by name when needed: */
    const char *def;      /* --help's default where dest's value does not say it ("the run's") */
    const char *required; /* non-NULL: the flag must be given; a hint for the message ("" none) */
    int *given;           /* set to 1 when the flag appears */
    int open;             /* CLI_NUM: 1 excludes both ends of the range */
    int nargs;            /* CLI_VALUES: how many values follow the flag */
    /* CLI_VALUES: reads values[0 .. nargs-1] into f->dest; -1 with a message in err */
    int (*parse)(const char *cmd, const cli_flag *f, char **values, char err[GANC_ERR_LEN]);
};

typedef struct {
    const char *name;  /* "sample", "classifier train": starts every message */
    const char *usage; /* synopsis lines (the first without "usage: "), '\n' between them */
    const char *about; /* what the command does, printed under the synopsis */
    cli_flag *flags;
    int n_flags;
    /* The one argument that is not a flag (a run), or operand NULL when none is taken. */
    const char *operand, *operand_help;
    const char **operand_dest;
    int operand_required;
    /* Several operands (ganc serve RUN...): up to operand_max into operand_list, their count in
     * *operand_count (operand_dest is then unused). */
    const char **operand_list;
    int operand_max, *operand_count;
    /* Flags outside the table (ganc train: the options of src/gan/config.c), each with one
     * value. With value NULL: 0 when the flag is known, else 1. Otherwise takes the value:
     * 0, or -1 with a message (naming the flag, not the command) in err. */
    int (*other)(void *ctx, const char *name, const char *value, char err[GANC_ERR_LEN]);
    void (*other_help)(void *ctx, FILE *out); /* their --help rows (cli_flags_row) */
    void *other_ctx;
} cli_command;

/* Reads argv (the arguments after the command's name) into the table's destinations.
 * Returns 0 when parsed; 1, touching nothing, when --help or -h stands where a flag may (the
 * caller then prints cli_flags_help, whose defaults are still the destinations' values); -1
 * with one line in err that starts with the command's name. */
int cli_flags_parse(const cli_command *c, int argc, char **argv, char err[GANC_ERR_LEN]);

/* cli_flags_parse, and what ends a command there, the same for every command (cli/common.c):
 * 1 when --help was asked for, the help then printed on stdout; -1 when argv is refused, the
 * message then printed as cli_error prints it ("ganc: MESSAGE" on stderr); 0: parsed, the
 * command goes on. */
int cli_flags_read(const cli_command *c, int argc, char **argv);

/* The operands of the commands that show runs side by side (ganc serve, ganc report): one or
 * more run directories, at most CLI_MAX_RUNS, into list (that many long), their count in
 * *count. One definition, so that both take and describe them alike. */
#define CLI_MAX_RUNS 16
#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x) /* CLI_MAX_RUNS's value as text, for the help */
#define CLI_RUN_OPERANDS(list, count)                                                                               \
    .operand = "RUN...", .operand_help = "run directories (at most " CLI_STR(CLI_MAX_RUNS) ")",                    \
    .operand_list = (list), .operand_max = CLI_MAX_RUNS, .operand_count = (count), .operand_required = 1

/* The command's help: synopsis, about, then one row per flag with its default. */
void cli_flags_help(const cli_command *c, FILE *out);
/* One row of a flag list: "  --name ARG   help (default DEF)", the help wrapped to the width
 * of the page; def NULL: no default shown. */
void cli_flags_row(FILE *out, const char *name, const char *arg, const char *help, const char *def);

/* Value checks shared with CLI_VALUES parsers; what names the value in the message
 * ("bench: --shape H"). 0, or -1 with "WHAT needs an integer in [LO, HI], got 'V'" in err. */
int cli_flag_int(const char *what, const char *v, double lo, double hi, int *out, char err[GANC_ERR_LEN]);

/* The flags that fit a data set's images (ganc train takes them as options of its table): the
 * same names, values and checks as there, for `ganc eval` and `ganc classifier train`. */
typedef struct {
    const char *size, *crop, *channels, *background;
} cli_data_flags;
#define CLI_DATA_FLAGS(d)                                                                                           \
    {"--size", "S|HxW", "fit the data's images to this size (0: their own)", CLI_TEXT, .dest = &(d)->size,          \
     .def = "the run's, else 0"},                                                                                   \
    {"--crop", "center|pad", "images of another aspect ratio: keep the centre, or pad", CLI_TEXT,                  \
     .dest = &(d)->crop, .def = "the run's, else center"},                                                         \
    {"--channels", "auto|1|3", "grey or RGB images", CLI_TEXT, .dest = &(d)->channels, .def = "the run's, else auto"}, \
    {"--background", "white|black|R,G,B", "under transparency and padding", CLI_TEXT, .dest = &(d)->background,    \
     .def = "the run's, else white"}
/* Sets cfg's data options from the flags given (data: --data, or NULL to keep cfg's); the
 * errors are the option table's ("--size needs ..."). */
int cli_data_flags_apply(const cli_data_flags *d, const char *data, ganc_config *cfg, char err[GANC_ERR_LEN]);

#endif
