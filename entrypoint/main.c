/* devinit: prepare a Node.js + Prisma dev container, then run the app as its init.
 * This file only turns the command line and environment into a configuration and hands it
 * to the init (lib/init.c); every piece of work lives in lib/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/opensslv.h>
#include <uv.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

#include "cli.h"
#include "config.h"
#include "control.h"
#include "devinit_revision.h"
#include "exitcodes.h"
#include "init.h"
#include "log.h"
#include "supervisor.h"

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
}

/* defaults < INI file < DEVINIT_* environment < flags. */
static int configure(struct config *cfg, const struct cli *cli, char *err, size_t errlen)
{
    config_init(cfg);
    const char *path = cli->config_path;
    bool must_exist = true;
    if (!path)
        path = getenv("DEVINIT_CONFIG");
    if (!path || !*path) {
        path = "devinit.ini";
        must_exist = false;
    }
    int rc = config_load_file(cfg, path, must_exist, err, errlen);
    /* Only the default ./devinit.ini may be absent; a file that was named must exist. */
    if (rc < 0 && !(rc == -ENOENT && !must_exist))
        return rc;
    if ((rc = config_load_env(cfg, environ, err, errlen)) < 0)
        return rc;
    if (cli->stop_timeout_ms >= 0)
        cfg->app.stop_timeout_ms = (uint64_t)cli->stop_timeout_ms;
    cfg->steps = (cli->only_set ? cli->only : STEP_ALL) & ~cli->skip;
    int level = (int)cfg->log.level + cli->verbosity;
    if (level < LOG_ERROR)
        level = LOG_ERROR;
    if (level > LOG_DEBUG)
        level = LOG_DEBUG;
    cfg->log.level = (enum log_level)level;
    return 0;
}

/* `devinit sync|status|health` talk to the running PID 1. Returns its answer's exit code, or
 * -1 when `sync` should do the work here because no instance runs. */
static int ask_running_instance(const struct config *cfg, const struct cli *cli)
{
    static const struct {
        enum cli_command cmd;
        const char *word;
        int timeout_ms;
    } calls[] = {{CLI_SYNC, "sync", 30 * 60 * 1000},
                 {CLI_STATUS, "status", 20000},
                 {CLI_HEALTH, "health", 10000}};
    size_t i = 0;
    while (calls[i].cmd != cli->command)
        i++;
    const char *path = cfg->control.socket;
    /* A Ctrl-C ends the wait (not the sync it asked for), even as PID 1. */
    const struct control_cancel cancel = {supervisor_signal_fd(), supervisor_client_stop};
    int rc = *path ? control_call(path, calls[i].word, cli->json, calls[i].timeout_ms, &cancel)
                   : -ENOENT;
    if (rc >= 0)
        return rc;
    if (rc == -ETIMEDOUT)
        return EXIT_UNAVAILABLE;
    if (cli->command == CLI_SYNC) {
        log_info(NULL, "no running devinit answers at '%s' (%s): running the steps here", path,
                 strerror(-rc));
        return -1;
    }
    if (cli->command == CLI_HEALTH) {
        printf("unhealthy: no running devinit answers at '%s'\n", path);
        return 1;
    }
    log_error(NULL, "no running devinit answers at '%s': %s; is this the container it runs in "
              "([control] socket)?", path, strerror(-rc));
    return EXIT_UNAVAILABLE;
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
        cli_usage();
        return 0;
    }
    if (cli.command == CLI_VERSION) {
        print_version();
        return 0;
    }

    struct config cfg;
    if (configure(&cfg, &cli, err, sizeof err) < 0) {
        log_error(NULL, "%s", err);
        config_free(&cfg);
        return EXIT_CONFIG;
    }
    log_setup(cfg.log.level, cfg.log.color);

    int code = -1;
    if (cli.command == CLI_SYNC || cli.command == CLI_STATUS || cli.command == CLI_HEALTH)
        code = ask_running_instance(&cfg, &cli);
    if (code < 0) {
        struct init_opts opts = {
            .mode = cli.command == CLI_CHECK ? INIT_CHECK
                    : cli.command == CLI_SYNC ? INIT_SYNC
                                              : INIT_RUN,
            .argv = cli.argv,
            .json = cli.json,
        };
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
