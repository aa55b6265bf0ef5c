#include "base/exitcodes.h"

#include <errno.h>
#include <sys/wait.h>

int exitcode_from_wait_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return EXIT_SIGNAL_BASE + WTERMSIG(wstatus);
    return EXIT_SOFTWARE;
}

int exitcode_from_exec_errno(int err)
{
    return (err == ENOENT || err == ENOTDIR) ? EXIT_NOTFOUND : EXIT_NOEXEC;
}
