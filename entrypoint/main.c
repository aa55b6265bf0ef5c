/* devinit: prepare a Node.js + Prisma dev container, then run the app as its init.
 * This file reads as a table of contents: signals first, then the command line and the
 * configuration, then one of three paths: ask the running instance (sync, status, health),
 * or run the init (the start-up steps and the app, or the dry run). Every piece of work
 * lives in lib/. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/opensslv.h>
#include <uv.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

#include "base/exitcodes.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "config/cli.h"
#include "config/config.h"
#include "devinit_revision.h"
#include "init/control.h"
#include "init/init.h"
#include "steps/table.h"

extern char **environ;

/* The C library: the one linked in (static), or the one loaded (dynamic). musl defines no
 * macro of its own; a Linux libc that is not glibc is taken to be musl. */
static void print_libc(char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(DEVINIT_STATIC_BUILD)
    snprintf(buf, len, "glibc %d.%d", __GLIBC__, __GLIBC_MINOR__);
#elif defined(__GLIBC__)
    snprintf(buf, len, "glibc %s", gnu_get_libc_version());
#else
    snprintf(buf, len, "musl");
#endif
}

static void print_version(void)
{
    int pq = PQlibVersion();
    char libc[32];
    print_libc(libc, sizeof libc);
    printf("devinit %s (revision %s)\n", DEVINIT_VERSION, DEVINIT_REVISION);
    printf("libuv %s, libpq %d.%d, %s\n", uv_version_string(), pq / 10000, pq % 10000,
           OPENSSL_VERSION_TEXT);
#ifdef DEVINIT_STATIC_BUILD
    printf("static build on %s: without GSSAPI (Kerberos) authentication and encryption, and "
           "without LDAP lookup of connection services\n",
           libc);
#else
    printf("dynamic build on %s: all libpq features of the system library\n", libc);
#endif
    printf("[app] user from /etc/passwd and /etc/group, never through NSS modules\n");
}

static enum init_mode mode_of(enum cli_command cmd)
{
    return cmd == CLI_CHECK ? INIT_CHECK : cmd == CLI_SYNC ? INIT_SYNC : INIT_RUN;
}

int main(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    /* Signals first: a SIGTERM that arrives while we parse must not be lost. */
    if (init_prepare(loop) < 0)
        return EXIT_OSERR;

    char err[1024];
    struct cli cli;
    if (cli_parse(&cli, argc, argv, err, sizeof err) < 0) {
        log_error(NULL, "%s", err);
        return EXIT_USAGE;
    }
    if (cli.command == CLI_HELP) {
        char steps[1024];
        struct strbuf sb;
        strbuf_init(&sb, steps, sizeof steps);
        steps_help(&sb);
        cli_usage(steps);
        return 0;
    }
    if (cli.command == CLI_VERSION) {
        print_version();
        return 0;
    }

    unsigned steps;
    if (steps_select(cli.only, cli.nonly, cli.skip, cli.nskip, &steps, err, sizeof err) < 0) {
        log_error(NULL, "%s", err);
        return EXIT_USAGE;
    }
    struct config cfg;
    if (config_resolve(&cfg, &cli, steps, environ, err, sizeof err) < 0) {
        log_error(NULL, "%s", err);
        config_free(&cfg);
        return EXIT_CONFIG;
    }
    log_setup(cfg.log.level, cfg.log.color);

    int code = -1;
    if (cli.command == CLI_SYNC || cli.command == CLI_STATUS || cli.command == CLI_HEALTH)
        code = control_ask(cfg.control.socket, cli_command_name(cli.command), cli.json);
    if (code < 0) {
        struct init_opts opts = {.mode = mode_of(cli.command), .argv = cli.argv, .json = cli.json};
        code = init_run(loop, &cfg, &opts);
    }
    config_free(&cfg);
#if defined(DEVINIT_ASAN)
    uv_loop_close(loop);
    return code;
#else
    /* libuv's exit-time cleanup joins its thread pool, where a DNS lookup of the wait step
     * (or of a status probe) may still hang: leave without it. */
    fflush(NULL);
    _exit(code);
#endif
}
