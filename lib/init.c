#include "init.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcodes.h"
#include "log.h"
#include "pipeline.h"
#include "sigtable.h"
#include "supervisor.h"
#include "user.h"

enum phase { PH_PIPELINE = 0, PH_APP, PH_DRAIN, PH_DONE };

static struct {
    uv_loop_t *loop;
    const struct config *cfg;
    const struct init_opts *opts;
    enum phase phase;
    struct pipeline pl;
    bool pl_started;
    struct child app;
    bool stop_requested; /* a SIGTERM/SIGINT was forwarded to the app's group */
    int exit_code;
} in;

static void finish(int code)
{
    in.phase = PH_DONE;
    in.exit_code = code;
    /* Stop the loop rather than close the ~60 signal watchers one by one (each takes libuv's
     * signal lock): the process is about to exit, and a signal arriving now has nobody left
     * to go to. */
    uv_stop(in.loop);
}

static void on_drained(void *data)
{
    finish(in.exit_code);
}

static void on_app_exit(struct child *c, int wstatus, void *data)
{
    in.exit_code = exitcode_from_wait_status(wstatus);
    if (c->exec_errno) {
        in.exit_code = exitcode_from_exec_errno(c->exec_errno);
        log_error(NULL, "cannot run '%s': %s%s", in.opts->argv[0], strerror(c->exec_errno),
                  in.exit_code == EXIT_NOTFOUND ? ": check the command and PATH"
                                                : ": check its permissions and interpreter");
    } else if (WIFSIGNALED(wstatus)) {
        log_info(NULL, "'%s' was killed by %s", in.opts->argv[0],
                 sigtable_name(WTERMSIG(wstatus)));
    } else {
        log_debug(NULL, "'%s' exited with code %d", in.opts->argv[0], in.exit_code);
    }
    in.phase = PH_DRAIN;
    /* Grandchildren still get their SIGTERM and the grace to finish their handlers. Those of
     * the app's group already have their SIGTERM when the stop came from outside. */
    supervisor_drain(in.cfg->app.stop_timeout_ms, in.stop_requested ? c->pgid : 0, on_drained,
                     NULL);
}

static void start_app(void)
{
    struct child_opts o = {.argv = in.opts->argv, .foreground = true};
    in.phase = PH_APP;
    int rc = child_spawn(&in.app, &o, on_app_exit, NULL);
    if (rc < 0) {
        log_error(NULL, "cannot start '%s': %s", in.opts->argv[0], strerror(-rc));
        finish(EXIT_OSERR);
        return;
    }
    log_debug(NULL, "started '%s' as pid %d", in.opts->argv[0], (int)in.app.pgid);
}

static void print_report(int code)
{
    if (in.opts->json) {
        struct jsonw w;
        jsonw_init(&w);
        pipeline_json(&in.pl, &w);
        if (w.buf)
            printf("%s\n", w.buf);
        jsonw_free(&w);
    } else {
        pipeline_print(&in.pl);
    }
    fflush(stdout);
}

static void on_pipeline_done(struct pipeline *pl, int code, void *data)
{
    if (pl->cancel_signo) {
        /* Leave at once: a DNS lookup may still hold libuv's thread pool, and exit() would
         * wait for it. Everything said so far went out through write(2). */
        fflush(stdout);
        _exit(code);
    }
    if (in.opts->mode == INIT_CHECK) {
        print_report(code);
        finish(code);
        return;
    }
    if (code != 0) {
        finish(code);
        return;
    }
    start_app();
}

static bool stops_startup(int signo)
{
    return signo == SIGTERM || signo == SIGINT || signo == SIGHUP || signo == SIGQUIT;
}

/* Every signal devinit receives, by phase. */
static void on_signal(int signo, void *data)
{
    switch (in.phase) {
    case PH_PIPELINE:
        if (!in.pl_started) {
            /* Configuration is still being read: nothing runs yet, so leave now. */
            if (stops_startup(signo))
                _exit(EXIT_SIGNAL_BASE + signo);
            return;
        }
        if (stops_startup(signo))
            pipeline_cancel(&in.pl, signo);
        else
            log_debug(NULL, "ignoring %s during start-up", sigtable_name(signo));
        return;
    case PH_APP:
        if (sigtable_class(signo) == SIG_STOP_APP) {
            in.stop_requested = true;
            child_stop(&in.app, signo, in.cfg->app.stop_timeout_ms);
        } else {
            child_signal(&in.app, signo);
        }
        return;
    case PH_DRAIN:
        /* The app is gone; a second stop request ends the grace of what is left. */
        if (sigtable_class(signo) == SIG_STOP_APP)
            supervisor_drain_hurry();
        return;
    case PH_DONE:
        return;
    }
}

int init_prepare(uv_loop_t *loop)
{
    in.loop = loop;
    return supervisor_init(loop, on_signal, NULL);
}

/* Root's work before anything is spawned: resolve the app's user, and hand a root-owned
 * node_modules volume to it so the install does not fill it with root's files. */
static int prepare_user(const struct config *cfg)
{
    struct user_spec u;
    char err[512];
    if (user_resolve(cfg->app.user, &u, err, sizeof err) < 0 ||
        user_check_switch(&u, err, sizeof err) < 0) {
        log_error(NULL, "%s", err);
        return EXIT_CONFIG;
    }
    if (!u.set)
        return 0;
    supervisor_set_user(&u);
    log_debug(NULL, "steps and app run as '%s' (uid %u, gid %u, %d groups)", u.name,
              (unsigned)u.uid, (unsigned)u.gid, u.ngroups);
    if (in.opts->mode == INIT_RUN) {
        char path[4096];
        snprintf(path, sizeof path, "%s%snode_modules", cfg->app.dir,
                 *cfg->app.dir ? "/" : "");
        user_adopt_tree(&u, path);
    }
    return 0;
}

int init_run(uv_loop_t *loop, const struct config *cfg, const struct init_opts *opts)
{
    in.cfg = cfg;
    in.opts = opts;
    int rc = prepare_user(cfg);
    if (rc)
        return rc;
    in.phase = PH_PIPELINE;
    in.pl_started = true;
    pipeline_start(&in.pl, loop, cfg, opts->mode == INIT_CHECK, on_pipeline_done, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    pipeline_free(&in.pl);
    return in.exit_code;
}
