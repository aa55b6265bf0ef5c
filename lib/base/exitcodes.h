/* Exit codes of devinit. Where devinit itself fails it uses sysexits(3) numbers; otherwise it
 * passes on the app's own code. The README's exit-code table is kept in step with this file
 * and tests/system/exit_codes.bats proves each one. */
#ifndef DEVINIT_EXITCODES_H
#define DEVINIT_EXITCODES_H

enum {
    EXIT_READY = 0,        /* check: ready, nothing to do */
    EXIT_WOULD_RUN = 1,    /* check: some step would act */
    EXIT_USAGE = 64,       /* bad command line (EX_USAGE) */
    EXIT_MIGRATIONS = 65,  /* migrations in a state the policy forbids (EX_DATAERR) */
    EXIT_UNAVAILABLE = 69, /* database or service not reachable in time (EX_UNAVAILABLE) */
    EXIT_SOFTWARE = 70,    /* a step's command failed (EX_SOFTWARE) */
    EXIT_OSERR = 71,       /* the operating system refused something devinit needs (EX_OSERR) */
    EXIT_TEMPFAIL = 75,    /* sync asked while starting or stopping: try again (EX_TEMPFAIL) */
    EXIT_NOPERM = 77,      /* the database refused the credentials (EX_NOPERM) */
    EXIT_CONFIG = 78,      /* bad configuration (EX_CONFIG) */
    EXIT_NOEXEC = 126,     /* the command exists but cannot be executed */
    /* the command, or the #! interpreter it names, was not found (execve's ENOENT): 127 as
     * tini and docker run report it, where bash says 126 for a bad interpreter */
    EXIT_NOTFOUND = 127,
    EXIT_SIGNAL_BASE = 128 /* 128+N: died of (or stopped by) signal N */
};

/* Maps a wait(2) status to the code a shell would report: the exit code, or 128+N for a
 * process killed by signal N. Any other status (stopped, continued) maps to EXIT_SOFTWARE. */
int exitcode_from_wait_status(int wstatus);

/* Maps an errno from a failed exec to 126 or 127, as shells do: ENOENT and ENOTDIR mean
 * "not found", everything else "found but not executable". */
int exitcode_from_exec_errno(int err);

#endif
