/* The command line: `devinit [OPTIONS] [--] COMMAND [ARG...]`, `devinit check`, `devinit
 * sync`, `devinit status`, `--help`, `--version`. Pure parsing: no I/O, no exit. */
#ifndef DEVINIT_CLI_H
#define DEVINIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_MAX_STEP_LISTS 16

enum cli_command {
    CLI_RUN = 0,
    CLI_CHECK,
    CLI_SYNC,
    CLI_STATUS,
    CLI_HEALTH,
    CLI_HELP,
    CLI_VERSION
};

struct cli {
    enum cli_command command;
    const char *config_path; /* --config, or NULL */
    /* The lists of --skip and --only ("deps,generate"), as given: steps_select() reads them. */
    const char *skip[CLI_MAX_STEP_LISTS], *only[CLI_MAX_STEP_LISTS];
    size_t nskip, nonly;
    int64_t stop_timeout_ms; /* --stop-timeout, or -1 */
    int verbosity;           /* +1 per -v, -1 per -q */
    bool json;               /* --json (check, status) */
    char **argv;             /* the app's command (CLI_RUN), NULL-terminated; points into argv */
    int argc;
};

/* Parses argv. Returns 0, or -EINVAL with a one-line message in err (exit EXIT_USAGE). */
int cli_parse(struct cli *cli, int argc, char **argv, char *err, size_t errlen);

/* The subcommand's word ("check", "sync", "status", "health"), or NULL for the others. */
const char *cli_command_name(enum cli_command cmd);

/* Writes the --help text to stdout; steps is the list of steps, one line each (the step
 * table's, steps_help()). */
void cli_usage(const char *steps);

#endif
