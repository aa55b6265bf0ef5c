/* "The app" of the system tests and of bench/init.sh: one small program that provokes, on
 * demand, each behaviour an init must handle, and reports what it saw so a test can assert it.
 *
 *     app exit N                    exits with code N
 *     app kill-self SIG             dies of SIG (a number or a name: TERM, SIGTERM, RTMIN+2)
 *     app sleep SECONDS             sleeps, dies of any signal by default
 *     app record-signals FILE SECS  appends the number of every signal it receives to FILE,
 *                                   one per line; exits 0 after SIGTERM or SIGINT (recorded
 *                                   first), 1 if SECS pass without one
 *     app ignore-term SECONDS       ignores SIGTERM and SIGINT, then sleeps
 *     app mask                      prints the blocked, ignored and caught signals; exits 0
 *                                   only if all three sets are empty
 *     app spawn-masked CMD [ARG...] blocks every signal and ignores every ignorable one, then
 *                                   execs CMD: a hostile parent for the init under test
 *     app spawn-pending SIG CMD...  blocks SIG, sends it to itself, then execs CMD: the init
 *                                   starts with SIG pending
 *     app fds                       prints "FD TARGET" for each open file descriptor
 *     app cwd                       prints the working directory
 *     app orphans N MS              double-forks N orphans that live MS ms; waits until every
 *                                   one is reaped by someone else, then counts the zombies in
 *                                   /proc; exits 0 if none is left, 1 otherwise
 *     app zombies N                 a burst: a middle process forks N children that exit at
 *                                   once, then exits itself, leaving N zombies to the init;
 *                                   prints how long until all are reaped; 0 if all were
 *     app orphan-parent FILE        double-forks one orphan that writes "PPID PID" (its new
 *                                   parent, itself) to FILE once reparented, exits 0.1 s
 *                                   later; the app stays 1.5 s more
 *     app graceful-child FILE MODE [setsid]
 *                                   forks a grandchild that, on SIGTERM, sleeps 0.5 s, writes
 *                                   "done" to FILE and exits 0. MODE "term": the app then
 *                                   sleeps and dies of SIGTERM at once; "exit": the app exits
 *                                   0 as soon as the grandchild is ready. setsid: the
 *                                   grandchild leaves the app's group and session. The
 *                                   grandchild's pid goes to FILE.pid.
 *     app tty                       prints "pgrp=P fg=F"; exits 0 if the app's group owns
 *                                   the terminal on stdin
 *
 * When APP_READY names a file, the app creates it once its set-up is done (handlers
 * installed, grandchild ready): tests wait for it before they send a signal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "app: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void usage(void)
{
    fputs("usage: app exit N | kill-self SIG | sleep S | record-signals FILE S | ignore-term S\n"
          "         | mask | spawn-masked CMD... | spawn-pending SIG CMD...\n"
          "         | fds | cwd | orphans N MS | zombies N\n"
          "         | orphan-parent FILE | graceful-child FILE term|exit [setsid] | tty\n",
          stderr);
    exit(2);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die(path);
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len)
        die(path);
    close(fd);
}

static void ready(void)
{
    const char *path = getenv("APP_READY");
    if (path && *path)
        write_file(path, "ready\n");
}

static int parse_signal(const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (*s && !*end)
        return (int)n;
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    if (strncmp(s, "RTMIN", 5) == 0)
        return SIGRTMIN + (s[5] == '+' ? atoi(s + 6) : 0);
    if (strncmp(s, "RTMAX", 5) == 0)
        return SIGRTMAX - (s[5] == '-' ? atoi(s + 6) : 0);
    for (int sig = 1; sig < NSIG; sig++) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev && strcmp(abbrev, s) == 0)
            return sig;
    }
    fprintf(stderr, "app: unknown signal '%s'\n", s);
    exit(2);
}

/* ---- signals ---------------------------------------------------------------------------- */

static int record_fd = -1;
static volatile sig_atomic_t stop_now;

static void on_record(int sig)
{
    int saved = errno;
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%d\n", sig);
    if (write(record_fd, buf, (size_t)n) < 0) {
        /* nothing sensible to do in a handler */
    }
    if (sig == SIGTERM || sig == SIGINT)
        stop_now = 1;
    errno = saved;
}

static int cmd_record_signals(const char *file, int seconds)
{
    record_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (record_fd < 0)
        die(file);
    struct sigaction sa = {.sa_handler = on_record, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
            sigaction(sig, &sa, NULL); /* 32 and 33 (glibc's own) fail harmlessly */
    ready();
    double deadline = now_ms() + seconds * 1000.0;
    while (!stop_now && now_ms() < deadline)
        sleep_ms(5);
    return stop_now ? 0 : 1;
}

static int cmd_ignore_term(int seconds)
{
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    ready();
    sleep_ms(seconds * 1000L);
    return 0;
}

static void print_set(const char *label, const bool *set)
{
    printf("%s:", label);
    for (int sig = 1; sig < NSIG; sig++)
        if (set[sig])
            printf(" %d", sig);
    printf("\n");
}

static int cmd_mask(void)
{
    bool blocked[NSIG] = {0}, ignored[NSIG] = {0}, caught[NSIG] = {0};
    bool clean = true;
    sigset_t cur;
    if (sigprocmask(SIG_BLOCK, NULL, &cur) < 0)
        die("sigprocmask");
    for (int sig = 1; sig < NSIG; sig++) {
        if (sigismember(&cur, sig) == 1) {
            blocked[sig] = true;
            clean = false;
        }
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) < 0)
            continue;
        if (sa.sa_handler == SIG_IGN) {
            ignored[sig] = true;
            clean = false;
        } else if (sa.sa_handler != SIG_DFL) {
            caught[sig] = true;
            clean = false;
        }
    }
    print_set("blocked", blocked);
    print_set("ignored", ignored);
    print_set("caught", caught);
    return clean ? 0 : 1;
}

static int cmd_spawn_masked(char **argv)
{
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&ign.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &ign, NULL);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    execvp(argv[0], argv);
    die(argv[0]);
    return 2;
}

/* Execs argv with sig blocked and already pending: a signal that reached the init before it
 * could watch it. Pending signals survive exec. */
static int cmd_spawn_pending(const char *name, char **argv)
{
    int sig = parse_signal(name);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), sig);
    execvp(argv[0], argv);
    die(argv[0]);
    return 2;
}

/* ---- files, directory, terminal ---------------------------------------------------------- */

static int cmd_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        die("/proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
            continue;
        char path[PATH_MAX], target[PATH_MAX];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = '\0';
        printf("%s %s\n", e->d_name, target);
    }
    closedir(d);
    return 0;
}

static int cmd_cwd(void)
{
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf))
        die("getcwd");
    printf("%s\n", buf);
    return 0;
}

static int cmd_tty(void)
{
    pid_t pgrp = getpgrp(), fg = tcgetpgrp(STDIN_FILENO);
    printf("pgrp=%d fg=%d\n", (int)pgrp, (int)fg);
    return fg == pgrp ? 0 : 1;
}

/* ---- orphans and zombies ------------------------------------------------------------------ */

/* Counts processes of /proc in state Z (the whole PID namespace under --mount-proc). */
static int count_zombies(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        die("/proc");
    int zombies = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        if (p && p[1] == ' ' && p[2] == 'Z') {
            printf("zombie: %s", buf);
            zombies++;
        }
    }
    closedir(d);
    return zombies;
}

/* Waits until kill(pid, 0) fails with ESRCH for every pid: a zombie still answers kill(), so
 * this is "reaped", not merely "exited". Returns how many are left at the deadline.
 * A reaper's waitpid(-1) loop takes children in the order of its child list, where reparented
 * ones were appended in fork order, so the last pid is usually the last reaped: it is watched
 * alone first (one syscall per look keeps the measurement fine-grained and the app from
 * competing with the reaper), then every pid is checked. */
static size_t wait_reaped(pid_t *pids, size_t n, double deadline)
{
    while (n > 0 && now_ms() < deadline && !(kill(pids[n - 1], 0) < 0 && errno == ESRCH))
        ;
    while (n > 0 && now_ms() < deadline) {
        for (size_t i = 0; i < n;) {
            if (kill(pids[i], 0) < 0 && errno == ESRCH)
                pids[i] = pids[--n];
            else
                i++;
        }
        if (n > 0)
            usleep(100);
    }
    return n;
}

static void read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("read from the middle process");
        p += n;
        len -= (size_t)n;
    }
}

static int cmd_orphans(int count, int lifetime_ms)
{
    pid_t *pids = calloc((size_t)count, sizeof *pids);
    int p[2];
    if (!pids || pipe(p) < 0)
        die("orphans");
    for (int i = 0; i < count; i++) {
        pid_t mid = fork();
        if (mid < 0)
            die("fork");
        if (mid == 0) {
            pid_t orphan = fork();
            if (orphan == 0) {
                close(p[1]);
                sleep_ms(lifetime_ms);
                _exit(0);
            }
            if (write(p[1], &orphan, sizeof orphan) != sizeof orphan)
                _exit(1);
            _exit(0);
        }
        read_all(p[0], &pids[i], sizeof pids[i]);
        waitpid(mid, NULL, 0);
    }
    size_t left = wait_reaped(pids, (size_t)count, now_ms() + lifetime_ms + 5000.0);
    free(pids);
    int zombies = count_zombies();
    printf("orphans=%d unreaped=%zu zombies=%d\n", count, left, zombies);
    return left == 0 && zombies == 0 ? 0 : 1;
}

static int cmd_zombies(int count)
{
    pid_t *pids = calloc((size_t)count, sizeof *pids);
    int p[2], done[2];
    if (!pids || pipe(p) < 0 || pipe(done) < 0)
        die("zombies");
    pid_t mid = fork();
    if (mid < 0)
        die("fork");
    if (mid == 0) {
        close(p[0]);
        for (int i = 0; i < count; i++) {
            pid_t pid = fork();
            if (pid == 0)
                _exit(0); /* closes its copy of done[1] on the way out */
            if (pid < 0 || write(p[1], &pid, sizeof pid) != sizeof pid)
                _exit(1);
        }
        /* EOF on done[0] means every child has closed its files, i.e. is exiting. Then one
         * short pause lets the last of them become zombies, so the burst is whole. */
        close(done[1]);
        char c;
        while (read(done[0], &c, 1) < 0 && errno == EINTR)
            ;
        sleep_ms(20);
        _exit(0); /* without waiting: the zombies go to the reaper */
    }
    close(p[1]);
    close(done[1]);
    close(done[0]);
    read_all(p[0], pids, (size_t)count * sizeof *pids);
    int st;
    waitpid(mid, &st, 0);
    double t0 = now_ms();
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "app: the middle process failed\n");
        return 2;
    }
    size_t left = wait_reaped(pids, (size_t)count, t0 + 10000.0);
    double ms = now_ms() - t0;
    free(pids);
    printf("zombies=%d unreaped=%zu reap_ms=%.2f\n", count, left, ms);
    return left == 0 ? 0 : 1;
}

static int cmd_orphan_parent(const char *file)
{
    pid_t mid = fork();
    if (mid < 0)
        die("fork");
    if (mid == 0) {
        pid_t first = getpid(); /* the middle may be gone before the orphan first looks */
        pid_t orphan = fork();
        if (orphan == 0) {
            double deadline = now_ms() + 5000.0;
            while (getppid() == first && now_ms() < deadline)
                sleep_ms(1);
            char buf[64];
            snprintf(buf, sizeof buf, "%d %d\n", (int)getppid(), (int)getpid());
            write_file(file, buf);
            sleep_ms(100);
            _exit(0);
        }
        _exit(orphan < 0);
    }
    waitpid(mid, NULL, 0);
    /* Stay a while after the orphan reported, so the test sees it reaped while the init
     * still supervises, not swept up by the init's exit. */
    double deadline = now_ms() + 5000.0;
    while (access(file, F_OK) < 0 && now_ms() < deadline)
        sleep_ms(5);
    sleep_ms(1500);
    return 0;
}

static const char *graceful_file;

static void on_graceful_term(int sig)
{
    /* The handler an app's worker would run: flush state, then leave. */
    sleep_ms(500);
    int fd = open(graceful_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (write(fd, "done\n", 5) != 5) {
            /* the test sees the missing content */
        }
        close(fd);
    }
    _exit(0);
}

static int cmd_graceful_child(const char *file, const char *mode, bool detach)
{
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    graceful_file = file;
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        close(p[0]);
        if (detach)
            setsid();
        struct sigaction sa = {.sa_handler = on_graceful_term};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        close(p[1]); /* tells the app the handler is in place */
        for (;;)
            pause();
    }
    close(p[1]);
    char c;
    while (read(p[0], &c, 1) > 0)
        ;
    char pidfile[PATH_MAX], buf[32];
    snprintf(pidfile, sizeof pidfile, "%s.pid", file);
    snprintf(buf, sizeof buf, "%d\n", (int)child);
    write_file(pidfile, buf);
    ready();
    if (strcmp(mode, "exit") == 0)
        return 0;
    sleep_ms(60000);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *cmd = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(cmd, "exit") == 0 && argc == 3)
        return atoi(argv[2]);
    if (strcmp(cmd, "kill-self") == 0 && argc == 3) {
        /* No core files from the fault signals. */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        int sig = parse_signal(argv[2]);
        signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        fprintf(stderr, "app: still alive after signal %d\n", sig);
        return 2;
    }
    if (strcmp(cmd, "sleep") == 0 && argc == 3) {
        ready();
        sleep_ms(atol(argv[2]) * 1000L);
        return 0;
    }
    if (strcmp(cmd, "record-signals") == 0 && argc == 4)
        return cmd_record_signals(argv[2], atoi(argv[3]));
    if (strcmp(cmd, "ignore-term") == 0 && argc == 3)
        return cmd_ignore_term(atoi(argv[2]));
    if (strcmp(cmd, "mask") == 0 && argc == 2)
        return cmd_mask();
    if (strcmp(cmd, "spawn-masked") == 0 && argc >= 3)
        return cmd_spawn_masked(argv + 2);
    if (strcmp(cmd, "spawn-pending") == 0 && argc >= 4)
        return cmd_spawn_pending(argv[2], argv + 3);
    if (strcmp(cmd, "fds") == 0 && argc == 2)
        return cmd_fds();
    if (strcmp(cmd, "cwd") == 0 && argc == 2)
        return cmd_cwd();
    if (strcmp(cmd, "tty") == 0 && argc == 2)
        return cmd_tty();
    if (strcmp(cmd, "orphans") == 0 && argc == 4)
        return cmd_orphans(atoi(argv[2]), atoi(argv[3]));
    if (strcmp(cmd, "zombies") == 0 && argc == 3)
        return cmd_zombies(atoi(argv[2]));
    if (strcmp(cmd, "orphan-parent") == 0 && argc == 3)
        return cmd_orphan_parent(argv[2]);
    if (strcmp(cmd, "graceful-child") == 0 && (argc == 4 || argc == 5))
        return cmd_graceful_child(argv[2], argv[3], argc == 5 && strcmp(argv[4], "setsid") == 0);
    usage();
    return 2;
}
