/* The supervisor: the one module that forks, execs, waits, kills and touches signal
 * dispositions. It lives on the libuv loop: every handled signal (all but the kernel's fault
 * signals) blocked and read from one signalfd, SIGCHLD answered by a waitpid(-1, WNOHANG) loop
 * that reaps every child, orphans included. libuv's uv_spawn is never used: it reaps only its
 * own children and cannot share SIGCHLD with waitpid(-1).
 *
 * Signals and children are process-wide, so the supervisor is a singleton. */
#ifndef DEVINIT_SUPERVISOR_H
#define DEVINIT_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/* Called from the loop for every signal devinit receives (SIGCHLD, SIGTTIN and SIGTTOU
 * excepted, and a SIGPIPE that devinit's own write raised). */
typedef void (*supervisor_signal_fn)(int signo, void *data);

/* Blocks every signal devinit handles and watches them through one signalfd (fn is called
 * from the loop), and becomes a child subreaper when not PID 1. Call it once, first, before
 * any other work: a signal that arrives meanwhile waits in the kernel's queue until the loop
 * runs. 0 or -errno. */
int supervisor_init(uv_loop_t *loop, supervisor_signal_fn fn, void *data);

/* For a command that only asks the running instance and waits outside the loop: poll
 * supervisor_signal_fd(), and when it is readable, supervisor_client_stop() says whether a
 * signal arrived that ends such a command, as a command-line tool's default action would
 * (128+N; a Ctrl-C is 130), or 0 to go on waiting. Works as PID 1 too, where the kernel
 * would drop a default-action signal. Signals whoever started devinit ignored are ignored. */
int supervisor_signal_fd(void);
int supervisor_client_stop(void);

struct user_spec;
/* Every child spawned from now on runs as u: supplementary groups, gid, then uid, with HOME,
 * USER and LOGNAME set from u. NULL (or !u->set): devinit's own user. u is copied. */
void supervisor_set_user(const struct user_spec *u);

/* The user set above (its `set` false when there is none). */
const struct user_spec *supervisor_user(void);

struct child;
/* Called once when the child has exited and (for captured output) its pipes reached EOF.
 * wstatus is the raw wait(2) status; c->exec_errno says whether exec itself failed. */
typedef void (*child_exit_fn)(struct child *c, int wstatus, void *data);

struct child_opts {
    char *const *argv; /* argv[0] is searched in PATH; nothing goes through a shell */
    char *const *envp; /* NULL: devinit's own environment */
    const char *dir;   /* NULL: devinit's working directory */
    /* Non-NULL: stdin is /dev/null, stdout and stderr are pipes whose lines are logged
     * under this step name and kept as a tail. NULL: the child inherits devinit's stdio. */
    const char *capture;
    /* Give the child's process group the controlling terminal when stdin is a TTY whose
     * foreground group is devinit's (docker run -it). */
    bool foreground;
    /* The app: its processes are followed (the process tree while its leader lives, and the
     * process groups and sessions they create) so a restart stops exactly them, never a
     * process that entered the container from outside (docker exec). One child at a time. */
    bool app;
};

#define CHILD_TAIL_LINES  20
#define CHILD_ERROR_LINES 12
#define CHILD_LINE_MAX    1024

struct child_output; /* captured output: pipes, partial lines, tail (heap, capture only) */

struct child {
    pid_t pid;      /* also the process group id; 0 once reaped */
    int exec_errno; /* non-zero when exec failed; the status is then 126/127 */
    bool stopping;  /* child_stop was called */
    bool app;       /* child_opts.app */
    /* private to supervisor.c */
    pid_t pgid; /* outlives pid: group members may remain after the leader is reaped */
    child_exit_fn on_exit;
    void *data;
    int wstatus;
    bool exited;
    int open_pipes;
    uv_timer_t *grace; /* heap: closed asynchronously, so c may be reused in on_exit */
    bool grace_active;
    const char *capture;
    struct child_output *output;
    struct child *next;
};

/* Forks and execs o->argv in a new process group, with default signal dispositions, an
 * empty signal mask and only the fds devinit inherited (everything devinit opens is
 * close-on-exec). Exec failures are reported over a close-on-exec pipe: on failure the child
 * still "exits" with 126/127 through on_exit and c->exec_errno is set, so callers have one
 * path. c must be zeroed, or released with child_release, before the call, and must stay
 * valid until on_exit has run. 0 or -errno (fork/pipe failed). */
int child_spawn(struct child *c, const struct child_opts *o, child_exit_fn on_exit, void *data);

/* Words for a failed exec, for messages: strerror(err), or, when err is ENOENT for a file
 * that exists, that its #! interpreter was not found (execve's ENOENT says only that
 * something is missing). Returns a static buffer. */
const char *child_exec_error(const char *file, int err);

/* Whether a failed exec's ENOENT is about what file needs (its #! interpreter or loader),
 * not file itself: child_exec_error then names the cause, and the remedy is not PATH. */
bool child_exec_interpreter(const char *file, int err);

/* Sends signo to the child's process group (falling back to the child alone). A failure is a
 * warning, never fatal. 0 or -errno. */
int child_signal(struct child *c, int signo);

/* Graceful stop: sends signo and then SIGCONT to the group (a stopped process must run to
 * handle signo), and SIGKILL to the group after grace_ms unless it has exited. Calling it
 * again while stopping kills at once (the second Ctrl-C). */
void child_stop(struct child *c, int signo, uint64_t grace_ms);

/* Copies the last lines of a captured child's output, oldest first, '\n'-separated. Valid
 * after on_exit, until child_release. */
size_t child_tail(const struct child *c, char *buf, size_t len);

/* Copies the first lines of a captured child's output that mention an error ("error",
 * "ERROR", "ERR"), in order, '\n'-separated: a headline the tail may have lost. Valid after
 * on_exit, until child_release. */
size_t child_error_lines(const struct child *c, char *buf, size_t len);

/* Frees what a finished child kept (its output tail) and zeroes c for the next spawn. Only
 * after on_exit has run, or when the child was never spawned. */
void child_release(struct child *c);

/* What a drain stops. */
enum drain_scope {
    /* The app's processes (child_opts.app): what is left of its tree, groups and sessions;
     * when not PID 1, every descendant of devinit too. For a restart: exec sessions live on. */
    DRAIN_APP,
    /* Every process of the namespace when PID 1 (the container is stopping), every
     * descendant of devinit otherwise. */
    DRAIN_ALL,
};

/* After the app has exited: sends SIGTERM and SIGCONT to the processes of scope except
 * members of spare_pgid (0: none) which were already signalled, waits until none is left or
 * grace_ms passed, then SIGKILLs what is left and calls done once nothing remains (or a
 * short while after the kill). */
void supervisor_drain(enum drain_scope scope, uint64_t grace_ms, pid_t spare_pgid,
                      void (*done)(void *data), void *data);

/* During a drain: SIGKILL everything left now instead of at the end of the grace. */
void supervisor_drain_hurry(void);

#endif
