/* Which signals devinit catches, forwards, or leaves alone. Pure data: the supervisor
 * builds its signal mask from it and the tests check it. */
#ifndef DEVINIT_SIGTABLE_H
#define DEVINIT_SIGTABLE_H

#include <stdbool.h>

enum sig_class {
    SIG_UNCATCHABLE, /* SIGKILL, SIGSTOP */
    SIG_FAULT,       /* raised by the kernel for the faulting thread: never forwarded */
    SIG_CHILD,       /* SIGCHLD: reaping */
    SIG_TTY_ECHO,    /* SIGTTIN, SIGTTOU: ignored by devinit so it can hand over the TTY */
    SIG_STOP_APP,    /* SIGTERM, SIGINT: forwarded, then the stop timeout runs */
    /* everything else: forwarded to the app's process group. SIGPIPE too, as tini does: one
     * devinit's own write raises (that write then fails with EPIPE) is told apart by its
     * sender, devinit itself, and dropped. */
    SIG_FORWARD,
    SIG_RESERVED /* glibc's internal real-time signals (32, 33) */
};

enum sig_class sigtable_class(int signo);
bool sigtable_forwardable(int signo); /* SIG_STOP_APP or SIG_FORWARD */
/* "SIGTERM", "SIGRTMIN+3", or "signal N". Returns a static or thread-unsafe buffer. */
const char *sigtable_name(int signo);

#endif
