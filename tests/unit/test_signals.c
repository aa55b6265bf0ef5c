/* The signal table and the exit-status mapping: pure logic the supervisor relies on. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "base/exitcodes.h"
#include "proc/sigtable.h"

static void test_signals_fault_signals_never_forwarded(void **state)
{
    int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        assert_int_equal(sigtable_class(faults[i]), SIG_FAULT);
        assert_false(sigtable_forwardable(faults[i]));
    }
}

static void test_signals_forwardable_set(void **state)
{
    int fwd[] = {SIGTERM, SIGINT, SIGHUP,  SIGQUIT,   SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM,
                 SIGTSTP, SIGURG, SIGPROF, SIGVTALRM, SIGXCPU, SIGXFSZ, SIGIO,    SIGPWR};
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
        assert_true(sigtable_forwardable(fwd[i]));
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
        assert_true(sigtable_forwardable(s));
    assert_int_equal(sigtable_class(SIGTERM), SIG_STOP_APP);
    assert_int_equal(sigtable_class(SIGINT), SIG_STOP_APP);
    /* tini forwards it; devinit's own EPIPE is told apart by its sender */
    assert_true(sigtable_forwardable(SIGPIPE));
}

static void test_signals_not_forwarded(void **state)
{
    assert_false(sigtable_forwardable(SIGKILL));
    assert_false(sigtable_forwardable(SIGSTOP));
    assert_false(sigtable_forwardable(SIGCHLD));
    assert_false(sigtable_forwardable(SIGTTIN));
    assert_false(sigtable_forwardable(SIGTTOU));
    assert_false(sigtable_forwardable(32));
    assert_false(sigtable_forwardable(33));
    assert_false(sigtable_forwardable(0));
    assert_false(sigtable_forwardable(NSIG));
}

static void test_signals_names(void **state)
{
    assert_string_equal(sigtable_name(SIGTERM), "SIGTERM");
    assert_string_equal(sigtable_name(SIGRTMIN), "SIGRTMIN");
    assert_string_equal(sigtable_name(SIGRTMIN + 3), "SIGRTMIN+3");
}

static void test_exitcode_from_wait_status(void **state)
{
    for (int code = 0; code < 256; code++)
        assert_int_equal(exitcode_from_wait_status(code << 8), code);
    /* Killed by signal N: the status word holds N in its low bits. */
    for (int sig = 1; sig < 65; sig++)
        assert_int_equal(exitcode_from_wait_status(sig), 128 + sig);
    assert_int_equal(exitcode_from_wait_status(SIGKILL | 0x80), 137); /* core dumped */
}

static void test_exitcode_from_exec_errno(void **state)
{
    assert_int_equal(exitcode_from_exec_errno(ENOENT), 127);
    assert_int_equal(exitcode_from_exec_errno(ENOTDIR), 127);
    assert_int_equal(exitcode_from_exec_errno(EACCES), 126);
    assert_int_equal(exitcode_from_exec_errno(ENOEXEC), 126);
    assert_int_equal(exitcode_from_exec_errno(E2BIG), 126);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signals_fault_signals_never_forwarded),
        cmocka_unit_test(test_signals_forwardable_set),
        cmocka_unit_test(test_signals_not_forwarded),
        cmocka_unit_test(test_signals_names),
        cmocka_unit_test(test_exitcode_from_wait_status),
        cmocka_unit_test(test_exitcode_from_exec_errno),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
