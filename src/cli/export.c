/* ganc export: a run's generator alone, for programs that sample through the library. */
#include "cli/cli.h"
#include "cli/flags.h"
#include "gan/export.h"
#include "ganc_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

/* Whether two paths name one file: writing the export over its own checkpoint would lose the
 * run's D and optimizer. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cmd_export(int argc, char **argv)
{
    const char *src = NULL, *outp = NULL;
    cli_flag flags[] = {
        {"-o", "FILE.safetensors", "where to write the generator", CLI_TEXT, .dest = &outp, .required = ""},
    };
    const cli_command cmd = {
        .name = "export",
        .usage = "ganc export DIR|CHECKPOINT -o FILE.safetensors",
        .about = "Writes the run's generator alone: G with the moving average of its weights where the run keeps\n"
                 "one (--ema), its model text and what sampling needs (noise, truncation, classes and their names,\n"
                 "codes, data shape, pixel range), without D or the optimizer. Programs draw from it through the\n"
                 "library (ganc_generator_open in ganc.h) the samples ganc sample draws from the run.",
        .flags = flags,
        .n_flags = (int)(sizeof flags / sizeof flags[0]),
        .operand = "DIR|CHECKPOINT",
        .operand_help = "a run directory (its newest checkpoint) or one checkpoint file",
        .operand_dest = &src,
        .operand_required = 1,
    };
    char path[1100], err[GANC_ERR_LEN];
    const int parsed = cli_flags_read(&cmd, argc, argv);
    if (parsed) return parsed > 0 ? 0 : 1;
    if (!ganc_ends_with(outp, ".safetensors"))
        return cli_error("export: -o %s: the file name must end in .safetensors", outp);
    ganc_session s;
    if (cli_find_checkpoint(src, path, sizeof path, err)) return cli_error("%s", err);
    if (same_file(path, outp)) return cli_error("export: -o %s is the checkpoint itself; write the generator beside it", outp);
    if (ganc_checkpoint_load(path, &s, err)) return cli_error("%s", err);
    const int rc = ganc_export_save(outp, &s, err);
    if (rc) cli_error("%s", err);
    else
        fprintf(stderr, "ganc: wrote the generator of step %" PRId64 " (%zu parameters, %s weights) to %s\n", s.step,
                ganc_net_param_count(s.game.g), s.game.ema ? "moving-average" : "its own", outp);
    ganc_session_free(&s);
    return rc ? 1 : 0;
}
