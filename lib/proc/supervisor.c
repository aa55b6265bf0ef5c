#include "proc/supervisor.h"

#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "proc/sigtable.h"
#include "proc/user.h"

extern char **environ;

/* How long to wait for SIGKILLed processes to be reaped before giving up on them (a process
 * in uninterruptible sleep cannot die; PID 1 must not hang on it). */
#define KILL_REAP_MS 1000

/* How long a reaped child's captured output may stay open. Something it left behind (a
 * daemon, the children of an npm killed from outside) can hold the pipes for ever, and the
 * exit is reported only at their end. */
#define PIPE_LINGER_MS 1000

/* How often the app's processes are looked at while it runs: a worker that leaves the app's
 * process group or session (setsid, setpgid) and then loses its parent is reparented to
 * devinit, where nothing tells it from a process a docker exec session left behind. Seen
 * once, its group and session are remembered. The first look comes soon after the start,
 * where an app starts its workers, then each interval doubles up to APP_SCAN_MS; slower
 * when /proc is big, so reading it costs at most 1% of a core. */
#define APP_SCAN_FIRST_MS 100
#define APP_SCAN_MS       1000

/* One process as /proc/PID/stat shows it; a pid from outside the namespace reads as 0. */
struct proc_entry {
    pid_t pid, ppid, pgid, sid;
    char state;
    bool app; /* one of the app's processes */
};

enum drain_phase { DRAIN_OFF = 0, DRAIN_TERM, DRAIN_KILL };

static struct {
    uv_loop_t *loop;
    supervisor_signal_fn fn;
    void *data;
    int sigfd; /* every handled signal, blocked and read from here */
    uv_poll_t sigpoll;
    bool pid1;
    pid_t self;
    struct child *children; /* spawned and not yet reported */
    bool no_children;       /* the last waitpid said ECHILD */

    struct user_spec user;

    /* The app's processes: the child spawned with .app, and the process groups and sessions
     * its processes were seen in (never devinit's own, nor 0: a leader outside the
     * namespace). A restart stops what uses them; ids nobody uses any more are forgotten. */
    struct child *app;
    pid_t *app_ids;
    size_t app_ids_n, app_ids_cap;
    uv_timer_t app_scan;
    bool app_scan_init;
    pid_t own_pgid, own_sid;
    /* The last process group sent SIGKILL: its members may not have died yet when the drain
     * reads /proc, and are not "still running" leftovers. */
    pid_t killed_pgid;

    struct proc_entry *procs; /* the last reading of /proc, sorted by pid */
    size_t nprocs, procs_cap;
    /* The periodic look at the app's processes reads /proc on the thread pool: with
     * thousands of processes a reading takes tens of ms, during which the loop would reap
     * nothing. Its reading goes here, then is swapped into procs. */
    uv_work_t scan_req;
    bool scan_busy;
    struct proc_entry *scan_procs;
    size_t scan_n, scan_cap;
    uint64_t scan_took_ms;

    enum drain_phase drain;
    enum drain_scope drain_scope;
    uv_timer_t drain_timer;
    bool drain_timer_init;
    void (*drain_done)(void *);
    void *drain_data;
} sv;

/* ---- reaping ---------------------------------------------------------------------------- */

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void child_maybe_report(struct child *c)
{
    if (!c->exited || c->open_pipes > 0 || !c->on_exit)
        return;
    if (c->grace) {
        uv_close((uv_handle_t *)c->grace, free_handle);
        c->grace = NULL;
        c->grace_active = false;
    }
    for (struct child **p = &sv.children; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    child_exit_fn fn = c->on_exit;
    c->on_exit = NULL;
    fn(c, c->wstatus, c->data);
}

static void drain_finish(void);
static bool drain_left(void);
static void output_linger(struct child *c);

static void reap_all(void)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid == 0) {
            sv.no_children = false;
            break;
        }
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            sv.no_children = (errno == ECHILD);
            break;
        }
        struct child *c = sv.children;
        while (c && c->pid != pid)
            c = c->next;
        if (!c)
            continue; /* an orphan: reaped, nothing to report */
        if (c == sv.app)
            uv_timer_stop(&sv.app_scan); /* what it left is found through its groups now */
        c->pid = 0;
        c->exited = true;
        c->wstatus = status;
        output_linger(c);
        child_maybe_report(c);
    }
    if (sv.drain != DRAIN_OFF && (sv.no_children || !drain_left()))
        drain_finish();
}

/* Up to SIGNAL_BATCH signals are read per turn of the loop: a storm must not starve the app's
 * output, the timers and the control socket. The poll is level-triggered, so what is left is
 * read on the next turn; it waits in the kernel's queue meanwhile, not in a buffer of ours. */
#define SIGNAL_BATCH 64

static void on_signalfd(uv_poll_t *h, int status, int events)
{
    struct signalfd_siginfo si[SIGNAL_BATCH];
    ssize_t n = read(sv.sigfd, si, sizeof si);
    if (n <= 0)
        return; /* EAGAIN: another reader (none) or a spurious wake-up; EINTR: next turn */
    bool chld = false;
    for (size_t i = 0; i < (size_t)n / sizeof si[0]; i++) {
        int signo = (int)si[i].ssi_signo;
        if (signo == SIGCHLD)
            chld = true; /* one waitpid loop reaps them all */
        else if (signo == SIGPIPE && (pid_t)si[i].ssi_pid == sv.self)
            continue; /* raised by devinit's own write to a closed pipe, which got EPIPE */
        else if (sv.fn)
            sv.fn(signo, sv.data);
    }
    if (chld)
        reap_all();
}

int supervisor_init(uv_loop_t *loop, supervisor_signal_fn fn, void *data)
{
    /* sv starts zeroed (static storage, called once): clearing it again would only fault in
     * its pages. */
    sv.loop = loop;
    sv.fn = fn;
    sv.data = data;
    sv.self = getpid();
    sv.pid1 = (sv.self == 1);
    sv.own_pgid = getpgrp();
    sv.own_sid = getsid(0);

    /* Every signal devinit handles is blocked and read from one signalfd, as catatonit does,
     * rather than caught by libuv's handlers: those write each signal into a pipe of 4,096
     * slots and drop what does not fit, and the kernel delivers the lowest-numbered pending
     * signal first, so a storm starved the high real-time signals of every slot. Blocked,
     * a signal waits in the kernel's queue until the loop reads it (every real-time one up
     * to RLIMIT_SIGPENDING, counted per user; beyond it the kernel keeps one of each), none
     * is lost while devinit starts up, none can kill it, and as PID 1 none is dropped for
     * having the default action (the kernel never ignores a blocked signal). One system
     * call watches them all. Whoever started devinit may have blocked other signals
     * (nohup, a shell's background job, a runtime's own mask): this mask replaces theirs. */
    sigset_t watched;
    sigemptyset(&watched);
    for (int s = 1; s < NSIG; s++) {
        enum sig_class cls = sigtable_class(s);
        if (cls == SIG_FORWARD || cls == SIG_CHILD || cls == SIG_STOP_APP)
            sigaddset(&watched, s);
    }
    sigprocmask(SIG_SETMASK, &watched, NULL);

    struct sigaction act = {.sa_handler = SIG_IGN};
    sigemptyset(&act.sa_mask);
    for (int s = 1; s < NSIG; s++) {
        enum sig_class cls = sigtable_class(s);
        if (cls == SIG_TTY_ECHO)
            sigaction(s, &act, NULL);
    }
    /* An ignored SIGCHLD (inherited through exec) would have the kernel reap the children
     * itself, and no exit status would reach waitpid. */
    act.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &act, NULL);

    sv.sigfd = signalfd(-1, &watched, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sv.sigfd < 0) {
        int err = errno;
        log_error(NULL, "cannot watch signals (signalfd): %s", strerror(err));
        return -err;
    }
    int rc = uv_poll_init(loop, &sv.sigpoll, sv.sigfd);
    if (rc == 0)
        rc = uv_poll_start(&sv.sigpoll, UV_READABLE, on_signalfd);
    if (rc < 0) {
        log_error(NULL, "cannot watch signals: %s", uv_strerror(rc));
        return rc;
    }

    if (!sv.pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        /* Not fatal: devinit still reaps its own children, only orphans escape it. */
        log_warn(NULL, "cannot become a child subreaper: %s; orphans go to the real init",
                 strerror(errno));
    }
    return 0;
}

int supervisor_signal_fd(void)
{
    return sv.sigfd;
}

int supervisor_client_stop(void)
{
    struct signalfd_siginfo si[SIGNAL_BATCH];
    ssize_t n;
    while ((n = read(sv.sigfd, si, sizeof si)) > 0) {
        for (size_t i = 0; i < (size_t)n / sizeof si[0]; i++) {
            int signo = (int)si[i].ssi_signo;
            /* Those whose default action is to do nothing, and a Ctrl-Z, which stops it. */
            if (signo == SIGCHLD || signo == SIGCONT || signo == SIGURG || signo == SIGWINCH)
                continue;
            if (signo == SIGPIPE && (pid_t)si[i].ssi_pid == sv.self)
                continue; /* its own write to a closed socket: that write got EPIPE */
            if (signo == SIGTSTP) {
                raise(SIGSTOP);
                continue;
            }
            struct sigaction old;
            if (sigaction(signo, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
                continue; /* ignored by whoever started it (a script's background job) */
            return EXIT_SIGNAL_BASE + signo;
        }
    }
    return 0;
}

void supervisor_set_user(const struct user_spec *u)
{
    if (u && u->set)
        sv.user = *u;
    else
        memset(&sv.user, 0, sizeof sv.user);
}

const struct user_spec *supervisor_user(void)
{
    return &sv.user;
}
static void app_track(struct child *c);
static void app_scan_now(void);

/* ---- spawning ----------------------------------------------------------------------------- */

/* vfork: the child borrows devinit's memory until it execs, so no page table is copied for it
 * and none torn down by its exec; with libpq and OpenSSL linked in, that copy is most of what
 * starting a process costs devinit. The sanitizers cannot follow a child that shares their
 * shadow memory, so those builds fork. */
#if defined(DEVINIT_ASAN)
#define spawn_fork() fork()
#else
#define spawn_fork() vfork()
#endif

/* The 32-bit ids: on i386 and arm, SYS_setuid and friends are the old 16-bit calls. */
#ifdef SYS_setuid32
#define SYS_SETGROUPS SYS_setgroups32
#define SYS_SETGID    SYS_setgid32
#define SYS_SETUID    SYS_setuid32
#else
#define SYS_SETGROUPS SYS_setgroups
#define SYS_SETGID    SYS_setgid
#define SYS_SETUID    SYS_setuid
#endif

/* Runs in the child between fork and exec: async-signal-safe calls only, no allocation, no
 * logging. All signals are blocked on entry, so none of devinit's handlers can run here. */
static void __attribute__((noreturn))
exec_child(const struct child_opts *o, char *const *envp, int errfd, int nullfd, int outfd,
           int errout, bool foreground)
{
    int err;
    setpgid(0, 0);
    if (foreground) {
        /* SIGTTOU is ignored (inherited from devinit), so a background group may take the
         * terminal. */
        tcsetpgrp(STDIN_FILENO, getpid());
    }
    /* Every signal back to SIG_DFL before the mask opens: one devinit ignores (or whoever
     * started it did) must not stay ignored in the app, and a handler something linked into
     * devinit installed (the sanitizers have theirs) must not run here, in the child. The
     * child has its own copy of the dispositions, vfork or not. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL); /* 32/33 fail harmlessly */
    if (nullfd >= 0) {
        if (dup2(nullfd, STDIN_FILENO) < 0 || dup2(outfd, STDOUT_FILENO) < 0 ||
            dup2(errout, STDERR_FILENO) < 0)
            goto fail;
    }
    if (o->dir && chdir(o->dir) < 0)
        goto fail;
    /* As root, always: `[app] user = 0:4242` keeps uid 0 but must still take gid 4242 and
     * its groups. Not root, user_check_switch() made sure devinit already is that user. */
    if (sv.user.set && geteuid() == 0) {
        /* Groups first, then the gid, then the uid: each later call removes the right to make
         * the earlier ones. Then prove there is no way back to root. */
        if (syscall(SYS_SETGROUPS, (size_t)sv.user.ngroups, sv.user.groups) < 0 ||
            syscall(SYS_SETGID, sv.user.gid) < 0 || syscall(SYS_SETUID, sv.user.uid) < 0)
            goto fail;
        if (sv.user.uid != 0 && syscall(SYS_SETUID, 0) == 0) {
            errno = EPERM;
            goto fail;
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvpe(o->argv[0], o->argv, envp);
fail:
    err = errno;
    while (write(errfd, &err, sizeof err) < 0 && errno == EINTR)
        ;
    _exit(exitcode_from_exec_errno(err));
}

/* Its own frame, which nothing changes after the fork: the vfork child runs on it. */
static pid_t __attribute__((noinline))
start_child(const struct child_opts *o, char *const *envp, int errfd, int nullfd, int outfd,
            int errout, bool foreground)
{
    pid_t pid = spawn_fork();
    if (pid == 0)
        exec_child(o, envp, errfd, nullfd, outfd, errout, foreground);
    return pid;
}

struct child_output {
    uv_pipe_t pipes[2]; /* stdout, stderr */
    char partial[2][CHILD_LINE_MAX];
    size_t partial_len[2];
    char tail[CHILD_TAIL_LINES][CHILD_LINE_MAX];
    unsigned tail_next, tail_count;
    /* The first lines that mention an error: npm prints its headline first, then a usage
     * text and the log's path that push it out of the tail. */
    char errors[CHILD_ERROR_LINES][CHILD_LINE_MAX];
    unsigned error_count;
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char chunk[65536];
    buf->base = chunk;
    buf->len = sizeof chunk;
}

static void tail_push(struct child_output *o, const char *line, size_t len)
{
    if (len >= CHILD_LINE_MAX)
        len = CHILD_LINE_MAX - 1;
    memcpy(o->tail[o->tail_next], line, len);
    o->tail[o->tail_next][len] = '\0';
    o->tail_next = (o->tail_next + 1) % CHILD_TAIL_LINES;
    if (o->tail_count < CHILD_TAIL_LINES)
        o->tail_count++;
}

static void emit_line(struct child *c, int which)
{
    struct child_output *o = c->output;
    size_t len = o->partial_len[which];
    const char *line = o->partial[which];
    if (len > 0 && line[len - 1] == '\r')
        len--;
    log_child_line(c->capture, line, len);
    tail_push(o, line, len);
    if (o->error_count < CHILD_ERROR_LINES &&
        (memmem(line, len, "rror", 4) || memmem(line, len, "ERR", 3))) {
        size_t n = len < CHILD_LINE_MAX ? len : CHILD_LINE_MAX - 1;
        memcpy(o->errors[o->error_count], line, n);
        o->errors[o->error_count++][n] = '\0';
    }
    o->partial_len[which] = 0;
}

static void pipe_closed(uv_handle_t *h)
{
    struct child *c = h->data;
    c->open_pipes--;
    child_maybe_report(c);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct child *c = s->data;
    struct child_output *o = c->output;
    int which = (s == (uv_stream_t *)&o->pipes[0]) ? 0 : 1;
    if (n < 0) {
        if (o->partial_len[which] > 0)
            emit_line(c, which);
        uv_close((uv_handle_t *)s, pipe_closed);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        char ch = buf->base[i];
        if (ch == '\n') {
            emit_line(c, which);
            continue;
        }
        /* An overlong line is cut into pieces rather than dropped. */
        if (o->partial_len[which] == CHILD_LINE_MAX - 1)
            emit_line(c, which);
        o->partial[which][o->partial_len[which]++] = ch;
    }
}

static void on_linger_end(uv_timer_t *t)
{
    struct child *c = t->data;
    c->grace_active = false;
    struct child_output *o = c->output;
    if (!o)
        return;
    log_debug(c->capture, "output still open %d ms after the process exited: no longer read",
              PIPE_LINGER_MS);
    for (int i = 0; i < 2; i++) {
        uv_handle_t *h = (uv_handle_t *)&o->pipes[i];
        if (h->data != c || uv_is_closing(h)) /* never initialised, or already at EOF */
            continue;
        if (o->partial_len[i] > 0)
            emit_line(c, i);
        uv_close(h, pipe_closed);
    }
}

/* The child has exited but its pipes are open: read on for PIPE_LINGER_MS, then let go. A
 * stop in progress keeps its timer; its SIGKILL comes first and calls this again. */
static void output_linger(struct child *c)
{
    if (!c->exited || c->open_pipes == 0 || !c->grace || c->grace_active)
        return;
    uv_timer_start(c->grace, on_linger_end, PIPE_LINGER_MS, 0);
    c->grace_active = true;
}

/* Takes ownership of fd. Every handle that got initialised is counted in open_pipes and
 * counted down by its close callback, so the exit report waits for the last byte. */
static void open_capture(struct child *c, uv_pipe_t *p, int fd)
{
    if (uv_pipe_init(sv.loop, p, 0) < 0) {
        close(fd);
        return;
    }
    p->data = c;
    c->open_pipes++;
    if (uv_pipe_open(p, fd) < 0) {
        close(fd);
        uv_close((uv_handle_t *)p, pipe_closed);
        return;
    }
    if (uv_read_start((uv_stream_t *)p, on_alloc, on_read) < 0)
        uv_close((uv_handle_t *)p, pipe_closed);
}

static void free_env(char **env)
{
    if (!env)
        return;
    for (char **e = env; *e; e++)
        if (strncmp(*e, "HOME=", 5) == 0 || strncmp(*e, "USER=", 5) == 0 ||
            strncmp(*e, "LOGNAME=", 8) == 0)
            free(*e);
    free(env);
}

/* envp with HOME, USER and LOGNAME of the configured user, built before fork: nothing may be
 * allocated between fork and exec. The other strings are shared with envp. */
static char **env_for_user(char *const *envp)
{
    size_t n = 0;
    while (envp[n])
        n++;
    char **env = calloc(n + 4, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(envp[i], "HOME=", 5) != 0 && strncmp(envp[i], "USER=", 5) != 0 &&
            strncmp(envp[i], "LOGNAME=", 8) != 0)
            env[k++] = envp[i];
    const char *name[] = {"HOME", "USER", "LOGNAME"};
    const char *val[] = {sv.user.home, sv.user.name, sv.user.name};
    for (int i = 0; i < 3; i++) {
        if (asprintf(&env[k], "%s=%s", name[i], val[i]) < 0) {
            env[k] = NULL;
            free_env(env);
            return NULL;
        }
        k++;
    }
    env[k] = NULL;
    return env;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int child_spawn(struct child *c, const struct child_opts *o, child_exit_fn on_exit, void *data)
{
    child_release(c);
    c->on_exit = on_exit;
    c->data = data;
    c->capture = o->capture;
    c->grace = malloc(sizeof *c->grace);
    if (!c->grace)
        return -ENOMEM;
    uv_timer_init(sv.loop, c->grace);
    c->grace->data = c;

    int errpipe[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1}, nullfd = -1;
    int rc = 0;
    char **user_env = NULL;
    if (pipe2(errpipe, O_CLOEXEC) < 0)
        return -errno;
    if (o->capture) {
        c->output = calloc(1, sizeof *c->output);
        if (!c->output) {
            rc = -ENOMEM;
            goto out;
        }
        if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
            (nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
            rc = -errno;
            goto out;
        }
    }
    bool foreground = o->foreground && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
    char *const *envp = o->envp ? o->envp : environ;
    if (sv.user.set) {
        if (!(user_env = env_for_user(envp))) {
            rc = -ENOMEM;
            goto out;
        }
        envp = user_env;
    }

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = start_child(o, envp, errpipe[1], nullfd, outp[1], errp[1], foreground);
    int fork_err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        rc = -fork_err;
        goto out;
    }
    /* Also set the group from this side: a signal to -pid must reach the child even if it
     * arrives before the child ran setpgid. EACCES once it has exec'd is fine. */
    setpgid(pid, pid);
    c->pid = pid;
    c->pgid = pid;
    c->next = sv.children;
    sv.children = c;
    if (o->app)
        app_track(c);

    close_fd(&errpipe[1]);
    int child_err = 0;
    ssize_t n;
    do
        n = read(errpipe[0], &child_err, sizeof child_err);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof child_err)
        c->exec_errno = child_err;

    if (o->capture) {
        close_fd(&outp[1]);
        close_fd(&errp[1]);
        open_capture(c, &c->output->pipes[0], outp[0]);
        outp[0] = -1;
        open_capture(c, &c->output->pipes[1], errp[0]);
        errp[0] = -1;
    }
out:
    close_fd(&errpipe[0]);
    close_fd(&errpipe[1]);
    close_fd(&outp[0]);
    close_fd(&outp[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    close_fd(&nullfd);
    free_env(user_env);
    if (rc < 0) {
        uv_close((uv_handle_t *)c->grace, free_handle);
        c->grace = NULL;
        free(c->output);
        c->output = NULL;
    }
    return rc;
}

bool child_exec_interpreter(const char *file, int err)
{
    struct stat st;
    return err == ENOENT && strchr(file, '/') && stat(file, &st) == 0;
}

const char *child_exec_error(const char *file, int err)
{
    static char buf[512]; /* room for the whole #! line, twice */
    struct stat st;
    if (err == ENOENT && strchr(file, '/') && stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
        char line[128] = "";
        FILE *f = fopen(file, "re");
        if (f) {
            if (!fgets(line, sizeof line, f))
                line[0] = '\0';
            fclose(f);
        }
        size_t end = strcspn(line, "\n");
        bool cr = end > 0 && line[end - 1] == '\r';
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' && line[1] == '!' && cr)
            /* A file saved with Windows line endings: the kernel looks for "/bin/sh\r". */
            snprintf(buf, sizeof buf,
                     "its #! line ends in a carriage return (\\r, Windows line endings), so "
                     "the interpreter '%s\\r' does not exist: convert the file with dos2unix",
                     line + 2);
        else if (line[0] == '#' && line[1] == '!')
            snprintf(buf, sizeof buf, "its interpreter '%s' was not found", line + 2);
        else
            snprintf(buf, sizeof buf, "a file it needs (its interpreter or loader) was not found");
        return buf;
    }
    snprintf(buf, sizeof buf, "%s", strerror(err));
    return buf;
}

int child_signal(struct child *c, int signo)
{
    if (!c->pgid)
        return -ESRCH;
    if (kill(-c->pgid, signo) == 0) {
        if (signo == SIGKILL)
            sv.killed_pgid = c->pgid;
        return 0;
    }
    int err = errno;
    /* The leader may have left its group (setsid); it still deserves the signal. */
    if (c->pid && kill(c->pid, signo) == 0)
        return 0;
    if (err != ESRCH)
        log_warn(NULL, "cannot send %s to process group %d: %s", sigtable_name(signo), (int)c->pgid,
                 strerror(err));
    return -err;
}

static void on_grace_end(uv_timer_t *t)
{
    struct child *c = t->data;
    c->grace_active = false;
    if (c->pgid) {
        log_warn(NULL, "process group %d still running after the stop timeout: sending SIGKILL",
                 (int)c->pgid);
        child_signal(c, SIGKILL);
    }
    output_linger(c);
}

void child_stop(struct child *c, int signo, uint64_t grace_ms)
{
    if (c->stopping) {
        /* A second request during the grace: the user means it. */
        if (c->grace_active) {
            uv_timer_stop(c->grace);
            c->grace_active = false;
        }
        child_signal(c, SIGKILL);
        output_linger(c);
        return;
    }
    c->stopping = true;
    if (c->app)
        app_scan_now(); /* its workers are still its descendants: remember where they are */
    child_signal(c, signo);
    /* A stopped group (a forwarded SIGTSTP) runs no handler until it continues, and would
     * only meet the SIGKILL. */
    if (signo != SIGKILL && signo != SIGCONT)
        child_signal(c, SIGCONT);
    if (c->grace) {
        uv_timer_start(c->grace, on_grace_end, grace_ms, 0);
        c->grace_active = true;
    }
}

void child_release(struct child *c)
{
    if (sv.app == c)
        sv.app = NULL;
    free(c->output);
    memset(c, 0, sizeof *c);
}

/* Joins count lines of a ring of n, from index first on, with newlines into buf (cut to fit,
 * always terminated). */
static size_t join_lines(const char (*lines)[CHILD_LINE_MAX], unsigned n, unsigned first,
                         unsigned count, char *buf, size_t len)
{
    if (len == 0)
        return 0;
    struct strbuf sb;
    strbuf_init(&sb, buf, len);
    for (unsigned i = 0; i < count; i++)
        strbuf_addf(&sb, "%s%s", i ? "\n" : "", lines[(first + i) % n]);
    return sb.len;
}

size_t child_tail(const struct child *c, char *buf, size_t len)
{
    const struct child_output *o = c->output;
    unsigned count = o ? o->tail_count : 0;
    unsigned first = o ? (o->tail_next + CHILD_TAIL_LINES - count) % CHILD_TAIL_LINES : 0;
    return join_lines(o ? o->tail : NULL, CHILD_TAIL_LINES, first, count, buf, len);
}

size_t child_error_lines(const struct child *c, char *buf, size_t len)
{
    const struct child_output *o = c->output;
    return join_lines(o ? o->errors : NULL, CHILD_ERROR_LINES, 0, o ? o->error_count : 0, buf, len);
}

/* ---- the app's processes ---------------------------------------------------------------- */

static int cmp_proc(const void *a, const void *b)
{
    pid_t x = ((const struct proc_entry *)a)->pid, y = ((const struct proc_entry *)b)->pid;
    return (x > y) - (x < y);
}

/* Reads every process of the namespace but self into *procs (grown as needed), sorted by pid.
 * Touches nothing else: the thread pool runs it too. 0, or -1 when /proc cannot be read. */
static int procs_read_into(struct proc_entry **procs, size_t *n, size_t *cap, pid_t self)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self)
            continue;
        if (*n == *cap) {
            size_t grown = *cap ? 2 * *cap : 256;
            struct proc_entry *p = realloc(*procs, grown * sizeof *p);
            if (!p)
                break; /* a partial reading: what was seen is still handled */
            *procs = p;
            *cap = grown;
        }
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        /* The command name may hold spaces and parentheses: parse after the last ')'. */
        char *p = strrchr(buf, ')');
        char state;
        int ppid, pgid, sid;
        if (!p || sscanf(p + 1, " %c %d %d %d", &state, &ppid, &pgid, &sid) != 4)
            continue;
        (*procs)[(*n)++] = (struct proc_entry){
            .pid = (pid_t)pid, .ppid = ppid, .pgid = pgid, .sid = sid, .state = state};
    }
    closedir(d);
    qsort(*procs, *n, sizeof **procs, cmp_proc);
    return 0;
}

/* The reading the drains and a stopping app need now, on the loop. */
static int procs_read(void)
{
    return procs_read_into(&sv.procs, &sv.nprocs, &sv.procs_cap, sv.self);
}

static struct proc_entry *procs_find(pid_t pid)
{
    struct proc_entry key = {.pid = pid};
    return bsearch(&key, sv.procs, sv.nprocs, sizeof key, cmp_proc);
}

/* Whether p's chain of parents reaches a process marked app (or, with self, devinit).
 * Bounded: the reading may hold a cycle of reused pids. */
static bool procs_descends(const struct proc_entry *p, bool self)
{
    pid_t up = p->ppid;
    for (int depth = 0; up > 0 && depth < 64; depth++) {
        if (up == sv.self)
            return self;
        const struct proc_entry *q = procs_find(up);
        if (!q)
            return false;
        if (q->app)
            return true;
        up = q->ppid;
    }
    return false;
}

static bool app_id_known(pid_t id)
{
    for (size_t i = 0; i < sv.app_ids_n; i++)
        if (sv.app_ids[i] == id)
            return true;
    return false;
}

/* Remembers a process group or session of the app's. Devinit's own are shared with whoever
 * started it (a docker exec runs in neither, but a terminal's shell does when devinit is not
 * PID 1), and 0 is any leader outside the namespace. */
static void app_id_add(pid_t id)
{
    if (id <= 0 || id == sv.self || id == sv.own_pgid || id == sv.own_sid || app_id_known(id))
        return;
    if (sv.app_ids_n == sv.app_ids_cap) {
        size_t cap = sv.app_ids_cap ? 2 * sv.app_ids_cap : 16;
        pid_t *p = realloc(sv.app_ids, cap * sizeof *p);
        if (!p)
            return;
        sv.app_ids = p;
        sv.app_ids_cap = cap;
    }
    sv.app_ids[sv.app_ids_n++] = id;
}

/* Marks the app's processes in the last reading: its leader while it lives, the members of
 * its groups and sessions, and their descendants. Then remembers the groups and sessions
 * they use now, and forgets those nobody uses any more (their ids may be reused by anyone). */
static void app_mark(void)
{
    pid_t leader = sv.app ? sv.app->pid : 0;
    for (size_t i = 0; i < sv.nprocs; i++) {
        struct proc_entry *p = &sv.procs[i];
        p->app = (leader && p->pid == leader) || (p->pgid > 0 && app_id_known(p->pgid)) ||
                 (p->sid > 0 && app_id_known(p->sid));
    }
    for (size_t i = 0; i < sv.nprocs; i++)
        if (!sv.procs[i].app && procs_descends(&sv.procs[i], false))
            sv.procs[i].app = true;
    for (size_t i = 0; i < sv.nprocs; i++) {
        if (sv.procs[i].app) {
            app_id_add(sv.procs[i].pgid);
            app_id_add(sv.procs[i].sid);
        }
    }
    size_t k = 0;
    for (size_t j = 0; j < sv.app_ids_n; j++) {
        pid_t id = sv.app_ids[j];
        bool used = false;
        for (size_t i = 0; i < sv.nprocs && !used; i++)
            used = sv.procs[i].pgid == id || sv.procs[i].sid == id;
        if (used)
            sv.app_ids[k++] = id;
    }
    sv.app_ids_n = k;
}

static void app_scan_now(void)
{
    if (procs_read() == 0)
        app_mark();
}

static void scan_work(uv_work_t *req)
{
    (void)req;
    uint64_t t0 = uv_hrtime();
    if (procs_read_into(&sv.scan_procs, &sv.scan_n, &sv.scan_cap, sv.self) < 0)
        sv.scan_n = 0;
    sv.scan_took_ms = (uv_hrtime() - t0) / 1000000;
}

static void scan_done(uv_work_t *req, int status)
{
    (void)req;
    sv.scan_busy = false;
    /* A drain reads /proc for itself and must not meet an older reading; the app that was
     * scanned may be gone (its leftovers are found through its groups). */
    if (status != 0 || sv.drain != DRAIN_OFF || !sv.app)
        return;
    struct proc_entry *procs = sv.procs;
    size_t cap = sv.procs_cap;
    sv.procs = sv.scan_procs;
    sv.nprocs = sv.scan_n;
    sv.procs_cap = sv.scan_cap;
    sv.scan_procs = procs;
    sv.scan_cap = cap;
    app_mark();
    uint64_t next = 2 * uv_timer_get_repeat(&sv.app_scan);
    if (next > APP_SCAN_MS)
        next = APP_SCAN_MS;
    if (sv.scan_took_ms * 100 > next)
        next = sv.scan_took_ms * 100;
    uv_timer_set_repeat(&sv.app_scan, next);
}

static void on_app_scan(uv_timer_t *t)
{
    (void)t;
    if (sv.scan_busy)
        return;
    if (uv_queue_work(sv.loop, &sv.scan_req, scan_work, scan_done) == 0)
        sv.scan_busy = true;
}

/* c is the app from now on: its own group is the first it is known by. */
static void app_track(struct child *c)
{
    c->app = true;
    sv.app = c;
    app_id_add(c->pgid);
    if (!sv.app_scan_init) {
        uv_timer_init(sv.loop, &sv.app_scan);
        uv_unref((uv_handle_t *)&sv.app_scan); /* never what keeps the loop running */
        sv.app_scan_init = true;
    }
    uv_timer_start(&sv.app_scan, on_app_scan, APP_SCAN_FIRST_MS, APP_SCAN_FIRST_MS);
}

/* ---- draining ----------------------------------------------------------------------------- */

/* Whether the last reading's process p is one a drain of scope stops. */
static bool drain_owns(const struct proc_entry *p, enum drain_scope scope)
{
    if (p->state == 'Z')
        return false; /* dead already; its parent reaps it */
    if (scope == DRAIN_ALL && sv.pid1)
        return true;
    if (scope == DRAIN_APP && p->app)
        return true;
    /* Not PID 1: only devinit's descendants can be reparented to it, none from outside. */
    return !sv.pid1 && procs_descends(p, true);
}

/* Sends signo (then SIGCONT, with cont) to the processes of scope except the members of
 * spare_pgid. Returns how many there were. /proc is read because orphans that were
 * reparented to us, and their own children, are known only there. */
static int signal_procs(int signo, bool cont, enum drain_scope scope, pid_t spare_pgid)
{
    bool everything = scope == DRAIN_ALL && sv.pid1 && !spare_pgid;
    if (procs_read() < 0) {
        if (everything && kill(-1, signo) == 0) {
            if (cont)
                kill(-1, SIGCONT);
            return 1; /* at least one, how many unknown */
        }
        return 0;
    }
    if (scope == DRAIN_APP)
        app_mark();
    int count = 0;
    for (size_t i = 0; i < sv.nprocs; i++) {
        const struct proc_entry *p = &sv.procs[i];
        if ((spare_pgid && p->pgid == spare_pgid) || !drain_owns(p, scope))
            continue;
        bool dying = signo == SIGKILL && p->pgid == sv.killed_pgid;
        if (everything) {
            count += !dying;
            continue;
        }
        if (kill(p->pid, signo) == 0) {
            count += !dying;
            if (cont)
                kill(p->pid, SIGCONT);
        }
    }
    /* As PID 1, kill(-1) reaches every other process of the namespace, also one forked
     * since /proc was read; the count is what was read. */
    if (everything) {
        if (kill(-1, signo) < 0)
            return 0;
        if (cont)
            kill(-1, SIGCONT);
    }
    return count;
}

/* Whether a process the drain waits for is left (devinit's children are waited for by
 * reap_all: no child, nothing left). */
static bool drain_left(void)
{
    if (sv.drain_scope != DRAIN_APP)
        return true;
    if (procs_read() < 0)
        return true;
    app_mark();
    for (size_t i = 0; i < sv.nprocs; i++)
        if (drain_owns(&sv.procs[i], DRAIN_APP))
            return true;
    return false;
}

static void on_drain_timer(uv_timer_t *t);

static void drain_kill(void)
{
    sv.drain = DRAIN_KILL;
    int n = signal_procs(SIGKILL, false, sv.drain_scope, 0);
    if (n > 0)
        log_warn(NULL, "%d process%s still running after the stop timeout: sent SIGKILL", n,
                 n == 1 ? "" : "es");
    uv_timer_start(&sv.drain_timer, on_drain_timer, KILL_REAP_MS, 0);
    reap_all();
}

static void on_drain_timer(uv_timer_t *t)
{
    if (sv.drain == DRAIN_TERM)
        drain_kill();
    else if (sv.drain == DRAIN_KILL)
        drain_finish();
}

static void drain_finish(void)
{
    if (sv.drain == DRAIN_OFF)
        return;
    sv.drain = DRAIN_OFF;
    uv_timer_stop(&sv.drain_timer);
    void (*done)(void *) = sv.drain_done;
    sv.drain_done = NULL;
    if (done)
        done(sv.drain_data);
}

void supervisor_drain(enum drain_scope scope, uint64_t grace_ms, pid_t spare_pgid,
                      void (*done)(void *data), void *data)
{
    if (!sv.drain_timer_init) {
        uv_timer_init(sv.loop, &sv.drain_timer);
        sv.drain_timer_init = true;
    }
    sv.drain_done = done;
    sv.drain_data = data;
    sv.drain_scope = scope;
    sv.drain = DRAIN_TERM;
    /* Usually nothing is left: then there is no process to signal and /proc need not be read
     * more than once. */
    reap_all();
    if (sv.drain == DRAIN_OFF)
        return;
    int n = signal_procs(SIGTERM, true, scope, spare_pgid);
    if (n > 0)
        log_debug(NULL, "sent SIGTERM to %d remaining process%s", n, n == 1 ? "" : "es");
    uv_timer_start(&sv.drain_timer, on_drain_timer, grace_ms, 0);
}

void supervisor_drain_hurry(void)
{
    if (sv.drain == DRAIN_TERM)
        drain_kill();
}
