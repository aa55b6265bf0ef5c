#include "proc/sigtable.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

enum sig_class sigtable_class(int signo)
{
    switch (signo) {
    case SIGKILL:
    case SIGSTOP:
        return SIG_UNCATCHABLE;
    /* Sent by the kernel to the thread that faulted; forwarding one from outside would
     * fake a crash in the app. tini and catatonit leave them alone too. */
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
    case SIGTRAP:
    case SIGSYS:
    case SIGABRT:
        return SIG_FAULT;
    case SIGCHLD:
        return SIG_CHILD;
    case SIGTTIN:
    case SIGTTOU:
        return SIG_TTY_ECHO;
    case SIGTERM:
    case SIGINT:
        return SIG_STOP_APP;
    default:
        break;
    }
    if (signo <= 0 || signo >= NSIG)
        return SIG_UNCATCHABLE;
    if (signo > SIGSYS && signo < SIGRTMIN)
        return SIG_RESERVED; /* glibc keeps 32 and 33 for its threads */
    return SIG_FORWARD;
}

bool sigtable_forwardable(int signo)
{
    enum sig_class c = sigtable_class(signo);
    return c == SIG_STOP_APP || c == SIG_FORWARD;
}

const char *sigtable_name(int signo)
{
    static char buf[32];
    if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
        if (signo == SIGRTMIN)
            return "SIGRTMIN";
        snprintf(buf, sizeof buf, "SIGRTMIN+%d", signo - SIGRTMIN);
        return buf;
    }
    const char *abbrev = sigabbrev_np(signo);
    if (abbrev) {
        snprintf(buf, sizeof buf, "SIG%s", abbrev);
        return buf;
    }
    snprintf(buf, sizeof buf, "signal %d", signo);
    return buf;
}
