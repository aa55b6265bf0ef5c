#include "steps/pipeline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>

#include "base/clock.h"
#include "base/exitcodes.h"
#include "base/file.h"
#include "base/log.h"
#include "base/stamp.h"
#include "proc/sigtable.h"

const char *step_status_name(enum step_status s)
{
    switch (s) {
    case STEP_PENDING:
        return "pending";
    case STEP_OK:
        return "ok";
    case STEP_WOULD_RUN:
        return "would-run";
    case STEP_WARN:
        return "warn";
    case STEP_ERROR:
        return "error";
    case STEP_SKIPPED:
        return "skipped";
    }
    return "unknown";
}

static void next_step(struct pipeline *pl);

static void finish(struct pipeline *pl, int code)
{
    if (pl->finished)
        return;
    pl->finished = true;
    pl->current = -1;
    pl->exit_code = code;
    pl->done(pl, code, pl->data);
}

/* The exit code of a dry run: the first error's code, else 1 if anything would act or
 * needs doing. */
static int dry_run_code(const struct pipeline *pl)
{
    bool would = false;
    for (int i = 0; i < STEP_COUNT; i++) {
        if (pl->runs[i].status == STEP_ERROR)
            return pl->runs[i].exit_code;
        if (pl->runs[i].status == STEP_WOULD_RUN || pl->runs[i].needs_action)
            would = true;
    }
    return would ? EXIT_WOULD_RUN : EXIT_READY;
}

static void __attribute__((format(printf, 2, 0)))
vset_reason(struct step_run *r, const char *fmt, va_list ap)
{
    /* The reason is printed, sent to `status` clients and put in --json: one clean line. */
    log_vescape(r->reason, sizeof r->reason, fmt, ap);
}

static void step_end(struct step_run *r)
{
    r->elapsed_ms = clock_ms() - r->started_ms;
}

void step_checked(struct step_run *r, enum step_status verdict, int exit_code, const char *fmt, ...)
{
    struct pipeline *pl = r->pl;
    if (r->cancelled || pl->finished)
        return;
    va_list ap;
    va_start(ap, fmt);
    vset_reason(r, fmt, ap);
    va_end(ap);
    r->status = verdict;
    r->exit_code = (verdict == STEP_ERROR) ? exit_code : 0;
    const char *name = r->step->name;

    switch (verdict) {
    case STEP_WOULD_RUN:
        if (!pl->dry_run) {
            log_info(name, "%s", r->reason);
            r->acted = true;
            r->step->act(r);
            return;
        }
        break;
    case STEP_ERROR:
        step_end(r);
        log_error(name, "%s", r->reason);
        if (!pl->dry_run) {
            finish(pl, exit_code);
            return;
        }
        break;
    case STEP_WARN:
        log_warn(name, "%s", r->reason);
        break;
    default:
        log_debug(name, "%s: %s", step_status_name(verdict), r->reason);
        break;
    }
    step_end(r);
    next_step(pl);
}

void step_acted(struct step_run *r, int exit_code, const char *fmt, ...)
{
    struct pipeline *pl = r->pl;
    if (r->cancelled || pl->finished)
        return;
    va_list ap;
    va_start(ap, fmt);
    vset_reason(r, fmt, ap);
    va_end(ap);
    step_end(r);
    if (exit_code != 0) {
        r->status = STEP_ERROR;
        r->exit_code = exit_code;
        log_error(r->step->name, "%s", r->reason);
        finish(pl, exit_code);
        return;
    }
    r->status = STEP_OK;
    log_info(r->step->name, "%s", r->reason);
    next_step(pl);
}

static void on_step_child_exit(struct child *c, int wstatus, void *data)
{
    struct step_run *r = data;
    struct pipeline *pl = r->pl;
    r->child_running = false;
    if (r->cancelled) {
        finish(pl, EXIT_SIGNAL_BASE + pl->cancel_signo);
        return;
    }
    r->exec_done(r, wstatus);
}

int step_exec(struct step_run *r, char *const *argv, char *const *envp, const char *dir,
              void (*done)(struct step_run *r, int wstatus))
{
    struct child_opts o = {.argv = argv, .envp = envp, .dir = dir, .capture = r->step->name};
    r->exec_done = done;
    int rc = child_spawn(&r->child, &o, on_step_child_exit, r);
    if (rc < 0) {
        log_error(r->step->name, "cannot start '%s': %s", argv[0], strerror(-rc));
        return rc;
    }
    r->child_running = true;
    log_debug(r->step->name, "started '%s' as pid %d", argv[0], (int)r->child.pgid);
    return 0;
}

/* line without a leading "npm error " / "npm ERR! ", and without blanks around it. *n is the
 * length of what is left; NULL when line is not one of npm's error lines. */
static const char *npm_error_text(const char *line, size_t len, size_t *n)
{
    size_t skip = 0;
    if (len >= 9 && !strncmp(line, "npm error", 9))
        skip = 9;
    else if (len >= 8 && !strncmp(line, "npm ERR!", 8))
        skip = 8;
    else
        return NULL;
    line += skip;
    len -= skip;
    while (len && (*line == ' ' || *line == '\t'))
        line++, len--;
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    *n = len;
    return line;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && !strncmp(s, prefix, k);
}

/* The line of a failed command's output that says what failed, into out; false when there
 * is none. errors holds its first lines that mention an error, tail its last lines.
 *   - pnpm: its headline, the first "ERR_PNPM_..." line (what follows is a dump);
 *   - npm: the first "npm error" line with a message, after its "code X" line ("npm error
 *     code EUSAGE: `npm ci` can only install ..."), never the log file's path, the usage
 *     text or the errno/syscall/path details;
 *   - else the last line of the tail that starts with "error" (Prisma's "error: Error
 *     validating: ..."), else the last that mentions one, else the last line (Prisma ends
 *     with a version banner), skipping npm's "A complete log of this run..." line. */
static bool headline(const char *errors, const char *tail, char *out, size_t outlen)
{
    const char *code = NULL, *msg = NULL;
    size_t code_n = 0, msg_n = 0;
    for (const char *line = errors; *line;) {
        size_t len = strcspn(line, "\n");
        const char *pn = memmem(line, len, "ERR_PNPM_", 9);
        if (pn) {
            /* pnpm frames the code with thin spaces (U+2009): plain ones in a message. */
            size_t o = 0, n = len - (size_t)(pn - line);
            for (size_t i = 0; i < n && o + 1 < outlen; i++) {
                if (i + 2 < n && !memcmp(pn + i, "\xe2\x80\x89", 3)) {
                    if (o && out[o - 1] != ' ')
                        out[o++] = ' ';
                    i += 2;
                } else if (!(pn[i] == ' ' && o && out[o - 1] == ' ')) {
                    out[o++] = pn[i];
                }
            }
            while (o && out[o - 1] == ' ')
                o--;
            out[o] = '\0';
            return true;
        }
        size_t n;
        const char *t = npm_error_text(line, len, &n);
        if (t && n) {
            if (starts(t, n, "code ")) {
                if (!code)
                    code = t + 5, code_n = n - 5;
            } else if (!msg && !starts(t, n, "errno ") && !starts(t, n, "syscall ") &&
                       !starts(t, n, "path ") && !starts(t, n, "A complete log") &&
                       !starts(t, n, "Log files were")) {
                msg = t, msg_n = n;
            }
        }
        line += len + (line[len] ? 1 : 0);
    }
    if (msg) {
        if (code)
            snprintf(out, outlen, "npm error code %.*s: %.*s", (int)code_n, code, (int)msg_n, msg);
        else
            snprintf(out, outlen, "npm error %.*s", (int)msg_n, msg);
        return true;
    }

    const char *last = NULL, *last_error = NULL, *starts_error = NULL;
    for (const char *line = tail; *line;) {
        size_t len = strcspn(line, "\n");
        if (len > 0 && !memmem(line, len, "A complete log of this run", 26)) {
            last = line;
            const char *t = line + strspn(line, " \t");
            if (strncasecmp(t, "error", 5) == 0)
                starts_error = line;
            else if (memmem(line, len, "rror", 4) || memmem(line, len, "RROR", 4))
                last_error = line;
        }
        line += len + (line[len] ? 1 : 0);
    }
    if (starts_error)
        last_error = starts_error;
    const char *pick = last_error ? last_error : last;
    if (!pick)
        return false;
    snprintf(out, outlen, "%.*s", (int)strcspn(pick, "\n"), pick);
    return true;
}

void step_fail_command(struct step_run *r, char *const *argv, int wstatus)
{
    char cmd[256] = "";
    size_t off = 0;
    for (int i = 0; argv[i] && off < sizeof cmd - 1; i++) {
        int n = snprintf(cmd + off, sizeof cmd - off, "%s%s", i ? " " : "", argv[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    char how[320];
    if (r->child.exec_errno)
        snprintf(how, sizeof how, "could not be run: %s",
                 child_exec_error(argv[0], r->child.exec_errno));
    else if (WIFSIGNALED(wstatus))
        snprintf(how, sizeof how, "was killed by %s", sigtable_name(WTERMSIG(wstatus)));
    else
        snprintf(how, sizeof how, "exited with code %d", exitcode_from_wait_status(wstatus));

    /* The output was streamed as it came; when it was hidden (quiet), show the end of it. */
    char tail[CHILD_TAIL_LINES * 128];
    child_tail(&r->child, tail, sizeof tail);
    if (log_get_level() < LOG_INFO && tail[0]) {
        char copy[sizeof tail], *save = NULL;
        memcpy(copy, tail, sizeof copy);
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            log_error(r->step->name, "| %s", line);
    }
    char errors[CHILD_ERROR_LINES * 160], reason[512];
    child_error_lines(&r->child, errors, sizeof errors);
    if (headline(errors, tail, reason, sizeof reason))
        step_acted(r, EXIT_SOFTWARE, "'%s' %s; %s", cmd, how, reason);
    else
        step_acted(r, EXIT_SOFTWARE, "'%s' %s", cmd, how);
}

int step_write_stamp(struct step_run *r, const char *path, const char *shown, const struct stamp *s,
                     const char *comment, const char *again)
{
    int rc = stamp_write(path, s, comment);
    if (rc == -ENOSPC)
        log_warn(r->step->name,
                 "cannot write stamp '%s': no space left on device; free some space, or %s at "
                 "the next start",
                 shown, again);
    else if (rc < 0)
        log_warn(r->step->name, "cannot write stamp '%s': %s; %s at the next start", shown,
                 file_strerror(rc), again);
    return rc;
}

static bool needs_failed(const struct pipeline *pl, const struct step_desc *step)
{
    for (int i = 0; i < STEP_COUNT; i++)
        if ((step->needs & STEP_BIT(i)) && pl->runs[i].status == STEP_ERROR)
            return true;
    return false;
}

static void next_step(struct pipeline *pl)
{
    while (!pl->finished) {
        int i = ++pl->current;
        if (i >= STEP_COUNT) {
            finish(pl, pl->dry_run ? dry_run_code(pl) : 0);
            return;
        }
        struct step_run *r = &pl->runs[i];
        r->started_ms = clock_ms();
        if (!r->step) {
            r->status = STEP_SKIPPED;
            snprintf(r->reason, sizeof r->reason, "not built into this devinit");
            continue;
        }
        if (!(pl->steps & STEP_BIT(i))) {
            r->status = STEP_SKIPPED;
            snprintf(r->reason, sizeof r->reason, "skipped on the command line");
            continue;
        }
        if (needs_failed(pl, r->step)) {
            r->status = STEP_SKIPPED;
            snprintf(r->reason, sizeof r->reason, "a step it needs did not succeed");
            continue;
        }
        log_debug(r->step->name, "checking");
        r->step->check(r);
        return; /* step_checked/step_acted continue the walk */
    }
}

bool pipeline_acted(const struct pipeline *pl)
{
    for (int i = 0; i < STEP_COUNT; i++)
        if (pl->runs[i].acted)
            return true;
    return false;
}

void pipeline_start_steps(struct pipeline *pl, uv_loop_t *loop, const struct config *cfg,
                          unsigned mask, bool dry_run, void (*done)(struct pipeline *, int, void *),
                          void *data)
{
    pipeline_free(pl);
    memset(pl, 0, sizeof *pl);
    pl->steps = cfg->steps & mask;
    pl->loop = loop;
    pl->cfg = cfg;
    pl->dry_run = dry_run;
    pl->done = done;
    pl->data = data;
    pl->current = -1;
    for (int i = 0; i < STEP_COUNT; i++) {
        struct step_run *r = &pl->runs[i];
        r->step = step_desc(i);
        r->loop = loop;
        r->cfg = cfg;
        r->dry_run = dry_run;
        r->pl = pl;
    }
    next_step(pl);
}

void pipeline_cancel(struct pipeline *pl, int signo)
{
    if (pl->finished || pl->cancel_signo)
        return;
    pl->cancel_signo = signo;
    int i = pl->current;
    if (i < 0 || i >= STEP_COUNT) {
        finish(pl, EXIT_SIGNAL_BASE + signo);
        return;
    }
    struct step_run *r = &pl->runs[i];
    r->cancelled = true;
    log_info(r->step->name, "stopping on %s", sigtable_name(signo));
    if (r->step->cancel)
        r->step->cancel(r);
    if (r->child_running) {
        /* on_step_child_exit finishes once the step's process group is gone. */
        child_stop(&r->child, signo, pl->cfg->app.stop_timeout_ms);
        return;
    }
    finish(pl, EXIT_SIGNAL_BASE + signo);
}

void pipeline_json(const struct pipeline *pl, struct jsonw *w)
{
    jsonw_object_begin(w);
    jsonw_key(w, "ready");
    jsonw_bool(w, pl->finished && pl->exit_code == 0);
    jsonw_key(w, "steps");
    jsonw_object_begin(w);
    for (int i = 0; i < STEP_COUNT; i++) {
        const struct step_run *r = &pl->runs[i];
        jsonw_key(w, step_name(i));
        jsonw_object_begin(w);
        jsonw_key(w, "status");
        jsonw_string(w, step_status_name(r->status));
        jsonw_key(w, "reason");
        jsonw_string(w, r->reason);
        jsonw_key(w, "elapsed_ms");
        jsonw_int(w, (int64_t)r->elapsed_ms);
        if (r->step && r->step->json && r->status != STEP_SKIPPED && r->status != STEP_PENDING)
            r->step->json((struct step_run *)r, w);
        jsonw_object_end(w);
    }
    jsonw_object_end(w);
    jsonw_object_end(w);
}

void pipeline_print(const struct pipeline *pl)
{
    for (int i = 0; i < STEP_COUNT; i++) {
        const struct step_run *r = &pl->runs[i];
        printf("%-9s %-10s %s\n", step_name(i), step_status_name(r->status), r->reason);
    }
    printf("%s\n", pl->exit_code == EXIT_READY       ? "ready"
                   : pl->exit_code == EXIT_WOULD_RUN ? "not ready: something needs doing"
                                                     : "not ready");
}

static const char *getenv_fn(const char *name)
{
    return getenv(name);
}

const struct prisma_project *step_project(struct step_run *r)
{
    struct pipeline *pl = r->pl;
    if (!pl->project) {
        /* ~150 KB: on the heap, not the stack. */
        pl->project = calloc(1, sizeof *pl->project);
        if (!pl->project)
            return NULL;
        const struct prisma_settings ps = step_prisma_settings(r->cfg);
        char err[1024];
        prisma_project_find(pl->project, &ps, getenv_fn, err, sizeof err);
    }
    return pl->project;
}

void pipeline_free(struct pipeline *pl)
{
    for (int i = 0; i < STEP_COUNT; i++) {
        struct step_run *r = &pl->runs[i];
        if (r->step && r->step->cleanup)
            r->step->cleanup(r);
        r->step = NULL; /* idempotent: cleanup runs once */
        r->priv = NULL;
        if (!r->child_running)
            child_release(&r->child);
    }
    /* After the cleanups: one of them may still look at it. */
    if (pl->project) {
        prisma_project_free(pl->project);
        free(pl->project);
        pl->project = NULL;
    }
}
