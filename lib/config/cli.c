#include "config/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static const struct {
    const char *word;
    enum cli_command cmd;
} subcommands[] = {
    {"check", CLI_CHECK}, {"sync", CLI_SYNC}, {"status", CLI_STATUS}, {"health", CLI_HEALTH}};

const char *cli_command_name(enum cli_command cmd)
{
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (subcommands[i].cmd == cmd)
            return subcommands[i].word;
    return NULL;
}

/* --name=value or --name value. Returns the value, or NULL with *i unchanged if argv[*i] is
 * not this option. */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

int cli_parse(struct cli *cli, int argc, char **argv, char *err, size_t errlen)
{
    memset(cli, 0, sizeof *cli);
    cli->stop_timeout_ms = -1;
    bool subcommand_seen = false;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        bool missing = false;
        const char *v;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            /* The first word: a subcommand, or the app's command. */
            if (subcommand_seen) {
                snprintf(err, errlen, "unexpected argument '%s'", a);
                return -EINVAL;
            }
            bool matched = false;
            for (size_t s = 0; s < sizeof subcommands / sizeof subcommands[0]; s++) {
                if (strcmp(a, subcommands[s].word) == 0) {
                    cli->command = subcommands[s].cmd;
                    matched = true;
                }
            }
            if (!matched)
                break;
            subcommand_seen = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli->command = CLI_HELP;
            return 0;
        }
        if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            cli->command = CLI_VERSION;
            return 0;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            cli->verbosity++;
            continue;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            cli->verbosity--;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            cli->json = true;
            continue;
        }
        if ((v = option_value(argc, argv, &i, "--config", &missing))) {
            cli->config_path = v;
            continue;
        }
        bool skip = false;
        if ((v = option_value(argc, argv, &i, "--only", &missing)) ||
            (skip = true, v = option_value(argc, argv, &i, "--skip", &missing))) {
            const char **lists = skip ? cli->skip : cli->only;
            size_t *n = skip ? &cli->nskip : &cli->nonly;
            if (*n == CLI_MAX_STEP_LISTS) {
                snprintf(err, errlen, "too many %s options: name the steps in one list",
                         skip ? "--skip" : "--only");
                return -EINVAL;
            }
            lists[(*n)++] = v;
            continue;
        }
        if ((v = option_value(argc, argv, &i, "--stop-timeout", &missing))) {
            uint64_t ms;
            if (config_parse_duration(v, &ms) < 0) {
                snprintf(err, errlen,
                         "--stop-timeout cannot be '%s': use seconds (5), or 5s, 500ms, 2m", v);
                return -EINVAL;
            }
            cli->stop_timeout_ms = (int64_t)ms;
            continue;
        }
        if (missing) {
            snprintf(err, errlen, "option '%s' needs a value", a);
            return -EINVAL;
        }
        snprintf(err, errlen, "unknown option '%s': see devinit --help", a);
        return -EINVAL;
    }

    if (cli->json && cli->command != CLI_CHECK && cli->command != CLI_STATUS) {
        snprintf(err, errlen, "--json goes with 'check' or 'status'");
        return -EINVAL;
    }
    if (cli->command == CLI_RUN) {
        if (i >= argc) {
            snprintf(err, errlen, "no command to run: devinit [OPTIONS] [--] COMMAND [ARG...]");
            return -EINVAL;
        }
        cli->argv = argv + i;
        cli->argc = argc - i;
    } else if (i < argc) {
        snprintf(err, errlen, "unexpected argument '%s' after '%s'", argv[i], argv[0]);
        return -EINVAL;
    }
    return 0;
}

void cli_usage(const char *steps)
{
    fputs("usage: devinit [OPTIONS] [--] COMMAND [ARG...]   prepare the container, then run "
          "COMMAND as init\n"
          "       devinit [OPTIONS] check [--json]           run every check, change nothing\n"
          "       devinit [OPTIONS] sync                     ask the running devinit to resync "
          "now\n"
          "       devinit [OPTIONS] status [--json]          ask the running devinit for its "
          "state\n"
          "       devinit [OPTIONS] health                   0 when the app runs and the last "
          "sync succeeded\n"
          "       devinit --help | --version\n"
          "\n"
          "steps, in order:\n",
          stdout);
    fputs(steps, stdout);
    fputs(
        "\n"
        "options:\n"
        "  --config FILE           configuration file (default ./devinit.ini, or $DEVINIT_CONFIG)\n"
        "  --skip=STEP[,STEP]      skip these steps; --skip=all makes devinit a plain init\n"
        "  --only=STEP[,STEP]      run only these steps\n"
        "  --stop-timeout=SECONDS  grace between the forwarded SIGTERM and SIGKILL (default 5)\n"
        "  --json                  machine-readable output (check and status)\n"
        "  -v, --verbose           more detail (twice: debug)\n"
        "  -q, --quiet             warnings and errors only\n"
        "  -h, --help              this text\n"
        "  -V, --version           version and build features\n"
        "\n"
        "configuration: defaults < devinit.ini < DEVINIT_<SECTION>_<KEY> variables < options;\n"
        "every key is documented in config.ini.example.\n"
        "\n"
        "exit codes: the app's own code, 128+N when it died of signal N, 126 not executable,\n"
        "127 not found; 64 usage, 65 migrations, 69 database/service unreachable, 70 a step's\n"
        "command failed, 77 credentials refused, 78 configuration; check: 0 ready, 1 would act.\n"
        "sync, status, health: 0, or (health) 1 unhealthy or no devinit running; 69 no answer\n"
        "(status: no devinit running); 75 try again; 77 the control socket is not yours; sync\n"
        "passes on its steps' codes.\n",
        stdout);
}
