#include "init/init.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/exitcodes.h"
#include "base/file.h"
#include "base/log.h"
#include "base/path.h"
#include "base/strbuf.h"
#include "init/control.h"
#include "proc/sigtable.h"
#include "init/status.h"
#include "proc/supervisor.h"
#include "proc/user.h"
#include "init/watch.h"
#include "prisma/project.h"
#include "steps/pipeline.h"

/* The phases. What each event does in each phase is decided in one function per event:
 * on_signal, on_pipeline_done, on_app_exit, on_sync_done, the drain callbacks and the
 * backoff timer.
 *
 *   STARTUP    the start-up pipeline runs (or the dry run of `devinit check`)
 *   RUNNING    the app runs; a live sync may run beside it (in.syncing)
 *   RESTARTING the app is being stopped to start again on a fresh client
 *   BACKOFF    the app exited and the restart policy waits before starting it again
 *   DRAIN      the app is gone for good; what is left gets SIGTERM and the grace
 *   DONE       uv_run returns */
enum phase { PH_STARTUP = 0, PH_RUNNING, PH_RESTARTING, PH_BACKOFF, PH_DRAIN, PH_DONE };

static const char *const phase_names[] = {"starting", "running",  "restarting",
                                          "backoff",  "stopping", "stopped"};

/* An app that ran this long before exiting starts over from the first restart delay. */
#define BACKOFF_RESET_MS 60000
#define MAX_WAITERS      16

struct waiters {
    struct control_req *req[MAX_WAITERS];
    int n;
};

static struct {
    uv_loop_t *loop;
    const struct config *cfg;
    struct config sync_cfg; /* cfg with migrate.mode = deploy, for [watch] migrate */
    const struct init_opts *opts;
    enum phase phase;
    uint64_t started_ms;
    struct timespec started_wall; /* file times are wall-clock: for the watch's first look */

    struct pipeline pl; /* start-up */
    bool pl_started;

    struct child app;
    bool app_running;
    uint64_t app_started_ms;
    unsigned restarts;
    int backoff_level;
    uv_timer_t backoff;
    bool backoff_init;
    int last_exit;       /* -1: none yet */
    bool stop_requested; /* a SIGTERM/SIGINT came from outside */
    int stop_signo;
    uint64_t stop_deadline_ms; /* when the stop or restart under way must be over; 0: none */

    struct pipeline sync_pl;
    bool syncing, sync_ran, sync_ok;
    bool restart_pending; /* a sync acted, but another one was queued behind it */
    unsigned sync_again;  /* steps asked for while a sync ran */
    unsigned sync_later;  /* steps a change asked for while the app restarted */
    uint64_t sync_at_ms;
    char sync_reason[1024];
    struct waiters sync_waiters, next_waiters, restart_waiters;

    struct pipeline probe;
    bool probing;
    struct waiters probe_waiters;

    struct watch *watch;
    struct control *control;
    int exit_code;
} in;

static void start_app(void);
static void start_sync(unsigned steps);
static void request_sync(unsigned steps, struct control_req *req);

/* ---- small helpers ------------------------------------------------------------------------ */

static void waiters_add(struct waiters *w, struct control_req *req)
{
    if (!req)
        return;
    if (w->n == MAX_WAITERS) {
        control_answer(req, EXIT_TEMPFAIL, "too many requests waiting: try again");
        return;
    }
    w->req[w->n++] = req;
}

/* Answers every waiter with {"exit": code, "message": message}. */
static void waiters_answer(struct waiters *w, int code, const char *message)
{
    for (int i = 0; i < w->n; i++)
        control_answer(w->req[i], code, message);
    w->n = 0;
}

static const char *app_name(void)
{
    return in.opts->argv[0];
}

/* The reason of the step that failed (or acted last) in a pipeline run, for messages. */
static void pipeline_summary(const struct pipeline *pl, char *out, size_t len)
{
    struct strbuf sb;
    strbuf_init(&sb, out, len);
    for (int i = 0; i < STEP_COUNT; i++) {
        const struct step_run *r = &pl->runs[i];
        if (r->status == STEP_SKIPPED || r->status == STEP_PENDING || !r->reason[0])
            continue;
        strbuf_addf(&sb, "%s%s: %s", sb.len ? "; " : "", step_name(i), r->reason);
    }
}

/* ---- the end ------------------------------------------------------------------------------ */

static void finish(int code)
{
    in.phase = PH_DONE;
    in.exit_code = code;
    waiters_answer(&in.sync_waiters, EXIT_TEMPFAIL, "devinit is stopping");
    waiters_answer(&in.next_waiters, EXIT_TEMPFAIL, "devinit is stopping");
    waiters_answer(&in.restart_waiters, EXIT_TEMPFAIL, "devinit is stopping");
    control_stop(in.control);
    in.control = NULL;
    /* The process is about to exit: a signal arriving now has nobody left to go to. */
    uv_stop(in.loop);
}

/* Begins a stop or a restart: [app] stop_timeout from now, the app and what it leaves behind
 * must be gone. One deadline for both, so the whole stop ends after stop_timeout (and the
 * moment SIGKILL takes), well within docker's 10 s, instead of after the app's grace plus a
 * second one for its leftovers. */
static uint64_t stop_begin(void)
{
    in.stop_deadline_ms = clock_ms() + in.cfg->app.stop_timeout_ms;
    return in.cfg->app.stop_timeout_ms;
}

/* What is left of the deadline for a drain; a drain with no stop before it (the app ended by
 * itself) begins one. */
static uint64_t stop_left(void)
{
    if (!in.stop_deadline_ms)
        return stop_begin();
    uint64_t now = clock_ms();
    return in.stop_deadline_ms > now ? in.stop_deadline_ms - now : 0;
}

static void on_final_drained(void *data)
{
    finish(in.exit_code);
}

/* The app is gone for good: remaining processes get SIGTERM (those of spare_pgid already
 * have it) and the grace, then devinit exits with code. */
static void final_drain(int code, pid_t spare_pgid)
{
    in.phase = PH_DRAIN;
    in.exit_code = code;
    watch_stop(in.watch);
    in.watch = NULL;
    if (in.syncing)
        pipeline_cancel(&in.sync_pl, SIGTERM);
    supervisor_drain(DRAIN_ALL, stop_left(), spare_pgid, on_final_drained, NULL);
}

/* ---- the app ------------------------------------------------------------------------------ */

static bool policy_restarts(int code)
{
    switch (in.cfg->app.restart) {
    case RESTART_ALWAYS:
        return true;
    case RESTART_ON_FAILURE:
        return code != 0;
    case RESTART_NO:
        return false;
    }
    return false;
}

static void on_backoff_end(uv_timer_t *t)
{
    start_app();
}

/* A save that came while the app restarted is not in what the new app runs on: sync it once
 * the app runs again, or once a crashed app waits out its restart delay (a sync then ends the
 * delay, as any sync in backoff does). */
static void sync_later_run(void)
{
    unsigned steps = in.sync_later;
    in.sync_later = 0;
    if (steps)
        request_sync(steps, NULL);
}

static void on_crash_drained(void *data)
{
    in.stop_deadline_ms = 0;
    if (in.stop_requested) {
        finish(EXIT_SIGNAL_BASE + in.stop_signo);
        return;
    }
    uint64_t delay = in.cfg->app.restart_delay_ms;
    for (int i = 0; i < in.backoff_level && delay < in.cfg->app.restart_max_delay_ms; i++)
        delay *= 2;
    if (delay > in.cfg->app.restart_max_delay_ms)
        delay = in.cfg->app.restart_max_delay_ms;
    in.backoff_level++;
    in.phase = PH_BACKOFF;
    log_info(NULL, "restarting '%s' in %llu ms ([app] restart)", app_name(),
             (unsigned long long)delay);
    if (!in.backoff_init) {
        uv_timer_init(in.loop, &in.backoff);
        in.backoff_init = true;
    }
    uv_timer_start(&in.backoff, on_backoff_end, delay, 0);
    sync_later_run();
}

static void on_restart_drained(void *data)
{
    in.stop_deadline_ms = 0;
    if (in.stop_requested) {
        finish(in.last_exit);
        return;
    }
    start_app();
}

static void on_app_exit(struct child *c, int wstatus, void *data)
{
    int code = exitcode_from_wait_status(wstatus);
    in.app_running = false;
    if (c->exec_errno) {
        code = exitcode_from_exec_errno(c->exec_errno);
        log_error(NULL, "cannot run '%s': %s%s", app_name(),
                  child_exec_error(app_name(), c->exec_errno),
                  child_exec_interpreter(app_name(), c->exec_errno) ? ""
                  : code == EXIT_NOTFOUND                           ? ": check the command and PATH"
                                          : ": check its permissions and interpreter");
    } else if (WIFSIGNALED(wstatus)) {
        /* A restart devinit asked for is no news; a death from outside is. */
        log_msg(in.phase == PH_RESTARTING ? LOG_DEBUG : LOG_INFO, NULL, "'%s' was killed by %s",
                app_name(), sigtable_name(WTERMSIG(wstatus)));
    } else if (in.phase == PH_RUNNING && in.cfg->app.restart != RESTART_NO) {
        log_info(NULL, "'%s' exited with code %d", app_name(), code);
    } else {
        log_debug(NULL, "'%s' exited with code %d", app_name(), code);
    }
    in.last_exit = code;
    pid_t pgid = c->pgid;

    if (in.stop_requested) {
        /* Grandchildren still get their SIGTERM and the grace to finish their handlers;
         * those of the app's group already have theirs. */
        final_drain(code, pgid);
        return;
    }
    if (in.phase == PH_RESTARTING) {
        /* Only the app's own processes: a docker exec session, and the `devinit sync` that
         * asked for this restart, live on. */
        supervisor_drain(DRAIN_APP, stop_left(), pgid, on_restart_drained, NULL);
        return;
    }
    /* The app ended by itself. */
    if (c->exec_errno || !policy_restarts(code)) {
        final_drain(code, 0);
        return;
    }
    if (clock_ms() - in.app_started_ms >= BACKOFF_RESET_MS)
        in.backoff_level = 0;
    in.phase = PH_RESTARTING; /* while its leftovers drain */
    supervisor_drain(DRAIN_APP, stop_begin(), 0, on_crash_drained, NULL);
}

static void on_control(struct control_req *req, const char *command, void *data);
static void on_watch(unsigned steps, const char *what, void *data);

static void start_app(void)
{
    /* In its own directory: in a workspace, [app] dir is the member (apps/api), whose
     * scripts expect to run there. */
    const char *dir = in.cfg->app.dir && *in.cfg->app.dir ? in.cfg->app.dir : NULL;
    struct child_opts o = {.argv = in.opts->argv, .dir = dir, .foreground = true, .app = true};
    bool first = in.app_started_ms == 0;
    int rc = child_spawn(&in.app, &o, on_app_exit, NULL);
    if (rc < 0) {
        log_error(NULL, "cannot start '%s': %s", app_name(), strerror(-rc));
        if (first) {
            final_drain(EXIT_OSERR, 0);
            return;
        }
        /* Once the app has run, never bail out of PID 1 on a transient error. */
        in.phase = PH_RUNNING;
        on_crash_drained(NULL);
        return;
    }
    in.phase = PH_RUNNING;
    in.app_running = true;
    in.app_started_ms = clock_ms();
    in.stop_deadline_ms = 0;
    if (!first)
        in.restarts++;
    log_debug(NULL, "started '%s' as pid %d", app_name(), (int)in.app.pgid);
    if (in.restart_waiters.n) {
        char msg[1400];
        snprintf(msg, sizeof msg, "%s; app restarted (pid %d)", in.sync_reason, (int)in.app.pgid);
        waiters_answer(&in.restart_waiters, 0, msg);
    }
    if (first)
        in.watch = watch_start(in.loop, &in.sync_cfg, &in.started_wall, on_watch, NULL);
    sync_later_run();
}

/* ---- live sync ---------------------------------------------------------------------------- */

static void on_sync_done(struct pipeline *pl, int code, void *data)
{
    in.syncing = false;
    in.sync_ran = true;
    in.sync_at_ms = clock_ms();
    pipeline_summary(pl, in.sync_reason, sizeof in.sync_reason);
    if (pl->cancel_signo || in.phase == PH_DRAIN || in.phase == PH_DONE) {
        waiters_answer(&in.sync_waiters, EXIT_TEMPFAIL, "devinit is stopping");
        return;
    }
    in.sync_ok = (code == 0);
    if (code != 0) {
        /* The old app keeps serving; health reports the failure until a sync succeeds. */
        log_warn(NULL, "sync failed: '%s' keeps running on the previous client", app_name());
        in.restart_pending = false;
        waiters_answer(&in.sync_waiters, code, in.sync_reason);
        waiters_answer(&in.restart_waiters, code, in.sync_reason);
    } else if ((pipeline_acted(pl) || in.restart_pending) && in.sync_again) {
        /* A save came in while this sync ran: restart once, on the client the next sync
         * leaves, never on one it is still writing. */
        in.restart_pending = true;
        for (int i = 0; i < in.sync_waiters.n; i++)
            waiters_add(&in.restart_waiters, in.sync_waiters.req[i]);
        in.sync_waiters.n = 0;
    } else if (pipeline_acted(pl) || in.restart_pending || in.phase == PH_BACKOFF) {
        in.restart_pending = false;
        /* The answer waits for the new app. */
        for (int i = 0; i < in.sync_waiters.n; i++)
            waiters_add(&in.restart_waiters, in.sync_waiters.req[i]);
        in.sync_waiters.n = 0;
        if (in.phase == PH_BACKOFF) {
            uv_timer_stop(&in.backoff);
            in.backoff_level = 0;
            start_app();
        } else if (in.phase == PH_RUNNING && in.app_running) {
            log_info(NULL, "restarting '%s' on the new client", app_name());
            in.phase = PH_RESTARTING;
            child_stop(&in.app, SIGTERM, stop_begin());
        }
    } else {
        waiters_answer(&in.sync_waiters, 0,
                       in.sync_reason[0] ? in.sync_reason : "nothing to do: all current");
    }
    if (in.sync_again) {
        unsigned steps = in.sync_again;
        in.sync_again = 0;
        start_sync(steps);
    } else if (in.next_waiters.n) {
        start_sync(steps_with(STEP_ON_LOCKFILE));
    }
}

static void start_sync(unsigned steps)
{
    /* Requests made while the previous sync ran are answered by this one. */
    for (int i = 0; i < in.next_waiters.n; i++)
        waiters_add(&in.sync_waiters, in.next_waiters.req[i]);
    in.next_waiters.n = 0;
    in.syncing = true;
    pipeline_start_steps(&in.sync_pl, in.loop, &in.sync_cfg, steps, false, on_sync_done, NULL);
}

/* A change (or a `devinit sync`) asks for steps. req: the client to answer, or NULL. */
static void request_sync(unsigned steps, struct control_req *req)
{
    if (in.phase != PH_RUNNING && in.phase != PH_BACKOFF) {
        if (!req && in.phase == PH_RESTARTING && !in.stop_requested)
            in.sync_later |= steps;
        if (req)
            control_answer(req, EXIT_TEMPFAIL,
                           in.phase == PH_STARTUP
                               ? "devinit is still starting: try again when the app runs"
                               : "devinit is busy restarting or stopping the app: try again");
        return;
    }
    if (in.syncing) {
        in.sync_again |= steps;
        waiters_add(&in.next_waiters, req);
        return;
    }
    waiters_add(&in.sync_waiters, req);
    start_sync(steps);
}

static void on_watch(unsigned steps, const char *what, void *data)
{
    char names[128];
    struct strbuf sb;
    strbuf_init(&sb, names, sizeof names);
    steps_describe(steps & in.cfg->steps, &sb);
    log_info("watch", "'%s' changed: re-running %s", what, names);
    request_sync(steps, NULL);
}

/* ---- status, health ---------------------------------------------------------------------- */

static bool healthy(char *why, size_t len)
{
    if (!in.app_running || in.phase != PH_RUNNING) {
        snprintf(why, len, "unhealthy: the app is not running (%s)", phase_names[in.phase]);
        return false;
    }
    if (in.sync_ran && !in.sync_ok) {
        snprintf(why, len, "unhealthy: the last sync failed: %s", in.sync_reason);
        return false;
    }
    snprintf(why, len, "healthy: '%s' runs as pid %d", app_name(), (int)in.app.pgid);
    return true;
}

static void status_reply(void)
{
    uint64_t now = clock_ms();
    char why[1200];
    int probe = __builtin_ffs((int)steps_with(STEP_STATUS_PROBE)) - 1;
    struct status_snapshot snap = {
        .state = phase_names[in.phase],
        .uptime_ms = now - in.started_ms,
        .app = app_name(),
        .app_running = in.app_running,
        .app_pid = in.app.pgid,
        .app_uptime_ms = now - in.app_started_ms,
        .restarts = in.restarts,
        .last_exit = in.last_exit,
        .startup = &in.pl,
        .sync_ran = in.sync_ran,
        .sync_ok = in.sync_ok,
        .sync_ago_ms = now - in.sync_at_ms,
        .sync_reason = in.sync_reason,
        .watch = in.watch,
        .probe = probe >= 0 ? &in.probe.runs[probe] : NULL,
    };
    snap.healthy = healthy(why, sizeof why);
    snap.health = why;
    char *reply = status_render(&snap);
    for (int i = 0; i < in.probe_waiters.n; i++) {
        if (reply)
            control_reply(in.probe_waiters.req[i], reply);
        else
            control_answer(in.probe_waiters.req[i], EXIT_OSERR, "out of memory");
    }
    in.probe_waiters.n = 0;
    free(reply);
}

static void on_probe_done(struct pipeline *pl, int code, void *data)
{
    in.probing = false;
    if (in.phase == PH_DONE)
        return;
    status_reply();
}

static void on_control(struct control_req *req, const char *command, void *data)
{
    if (strcmp(command, "sync") == 0) {
        request_sync(
            steps_with(STEP_ON_LOCKFILE | (in.cfg->watch.migrate ? STEP_ON_MIGRATIONS : 0)), req);
    } else if (strcmp(command, "health") == 0) {
        char why[1200];
        bool ok = healthy(why, sizeof why);
        control_answer(req, ok ? 0 : 1, why);
    } else if (strcmp(command, "status") == 0) {
        /* Database reachability *now*: one dry-run attempt of the step that probes it. */
        waiters_add(&in.probe_waiters, req);
        if (!in.probing) {
            in.probing = true;
            pipeline_start_steps(&in.probe, in.loop, in.cfg, steps_with(STEP_STATUS_PROBE), true,
                                 on_probe_done, NULL);
        }
    } else {
        control_answer(req, EXIT_USAGE, "unknown request: use sync, status or health");
    }
}

/* ---- start-up ----------------------------------------------------------------------------- */

static void print_report(void)
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
        print_report();
        finish(code);
        return;
    }
    if (in.opts->mode == INIT_SYNC) {
        char summary[1024];
        pipeline_summary(pl, summary, sizeof summary);
        printf("%s\n", summary[0] ? summary : "nothing to do: all current");
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
    bool stop = sigtable_class(signo) == SIG_STOP_APP;
    switch (in.phase) {
    case PH_STARTUP:
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
    case PH_RUNNING:
        if (!stop) {
            child_signal(&in.app, signo);
            return;
        }
        in.stop_requested = true;
        in.stop_signo = signo;
        if (in.syncing)
            pipeline_cancel(&in.sync_pl, signo);
        child_stop(&in.app, signo, stop_begin());
        return;
    case PH_RESTARTING:
        if (!stop) {
            if (in.app_running)
                child_signal(&in.app, signo);
            return;
        }
        if (in.stop_requested) {
            /* The second request: no more grace. */
            if (in.app_running)
                child_stop(&in.app, signo, 0);
            supervisor_drain_hurry();
            return;
        }
        /* The app already has its SIGTERM from the restart; it will not be started again. */
        in.stop_requested = true;
        in.stop_signo = signo;
        return;
    case PH_BACKOFF:
        if (stop) {
            uv_timer_stop(&in.backoff);
            in.stop_requested = true;
            in.stop_signo = signo;
            if (in.syncing)
                pipeline_cancel(&in.sync_pl, signo);
            final_drain(EXIT_SIGNAL_BASE + signo, 0);
        }
        return;
    case PH_DRAIN:
        /* The app is gone; a second stop request ends the grace of what is left. */
        if (stop)
            supervisor_drain_hurry();
        return;
    case PH_DONE:
        return;
    }
}

int init_prepare(uv_loop_t *loop)
{
    in.loop = loop;
    in.last_exit = -1;
    in.started_ms = clock_ms();
    clock_gettime(CLOCK_REALTIME, &in.started_wall);
    return supervisor_init(loop, on_signal, NULL);
}

/* Root's work before anything is spawned: resolve the app's user, and hand a root-owned
 * node_modules volume to it so the install does not fill it with root's files. */
static int prepare_user(const struct config *cfg, uid_t *uid)
{
    struct user_spec u;
    char err[512];
    *uid = 0;
    if (user_resolve(cfg->app.user, &u, err, sizeof err) < 0 ||
        user_check_switch(&u, err, sizeof err) < 0) {
        log_error(NULL, "%s", err);
        return EXIT_CONFIG;
    }
    if (!u.set)
        return 0;
    *uid = u.uid;
    supervisor_set_user(&u);
    /* Root working for another user: the app's tree is that user's, and so are its links. */
    if (geteuid() == 0 && u.uid != 0)
        file_guard_links(true);
    log_debug(NULL, "steps and app run as '%s' (uid %u, gid %u, %d groups)", u.name,
              (unsigned)u.uid, (unsigned)u.gid, u.ngroups);
    if (in.opts->mode != INIT_CHECK) {
        /* The node_modules the deps step installs: a workspace member's is the root's. */
        char root[4096], path[4096];
        prisma_install_root(cfg->app.dir, root, sizeof root);
        path_join(root, "node_modules", path, sizeof path);
        user_adopt_tree(&u, path);
    }
    return 0;
}

int init_run(uv_loop_t *loop, const struct config *cfg, const struct init_opts *opts)
{
    in.cfg = cfg;
    in.opts = opts;
    in.sync_cfg = *cfg;
    if (cfg->watch.migrate)
        in.sync_cfg.migrate.mode = MIGRATE_DEPLOY;
    uid_t uid;
    int rc = prepare_user(cfg, &uid);
    if (rc)
        return rc;
    in.phase = PH_STARTUP;
    in.pl_started = true;
    unsigned steps = opts->mode == INIT_SYNC ? steps_with(STEP_ON_LOCKFILE) : STEP_ALL;
    pipeline_start_steps(&in.pl, loop, cfg, steps, opts->mode == INIT_CHECK, on_pipeline_done,
                         NULL);
    /* After the first step or the app has started (the socket's dozen system calls then
     * overlap its start-up), before the loop can answer anybody. */
    if (opts->mode == INIT_RUN && in.phase != PH_DONE)
        in.control = control_start(loop, cfg->control.socket, uid, on_control, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    pipeline_free(&in.pl);
    pipeline_free(&in.sync_pl);
    pipeline_free(&in.probe);
    return in.exit_code;
}
