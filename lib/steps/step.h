/* The pipeline's steps. Each start-up step (deps, generate, wait, migrate) is one descriptor:
 * its name, its traits and the same small interface; steps/table.c lists them in order and
 * pipeline.c walks them. A step first *checks* (cheap, changes nothing) and *acts* only when
 * the check says so. `devinit check` runs every check and no act.
 *
 * Every callback may finish later, from the loop. The contract: check ends with exactly one
 * step_checked(), act with exactly one step_acted(); after cancel, a step calls neither. */
#ifndef DEVINIT_STEP_H
#define DEVINIT_STEP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <uv.h>

#include "config/config.h"
#include "base/jsonw.h"
#include "proc/supervisor.h"
#include "prisma/project.h"
#include "steps/table.h"

enum step_status {
    STEP_PENDING = 0, /* not reached yet */
    STEP_OK,          /* nothing to do, or done */
    STEP_WOULD_RUN,   /* check: act is needed */
    STEP_WARN,        /* usable, with a warning */
    STEP_ERROR,       /* failed: exit_code says how */
    STEP_SKIPPED      /* --skip/--only, mode = off, or a step it needs failed */
};

const char *step_status_name(enum step_status s); /* "ok", "would-run", ... */

struct step_run;

struct step_desc {
    const char *name;
    const char *summary; /* what it does, for --help */
    unsigned flags;      /* enum step_flag */
    unsigned needs;      /* STEP_BIT()s that must not have failed for this step to run */
    void (*check)(struct step_run *r);
    void (*act)(struct step_run *r);
    /* Releases outstanding work after a signal (handles, connections). A child started with
     * step_exec is stopped by the pipeline itself. May be NULL. */
    void (*cancel)(struct step_run *r);
    /* Adds the step's own fields to its object in `check --json`. May be NULL. */
    void (*json)(struct step_run *r, struct jsonw *w);
    /* Frees r->priv. Called once at the end, whatever happened. May be NULL. */
    void (*cleanup)(struct step_run *r);
};

struct step_run {
    const struct step_desc *step;
    uv_loop_t *loop;
    const struct config *cfg;
    bool dry_run; /* devinit check: never act, change nothing */
    void *priv;   /* the step's own state */

    enum step_status status;
    bool acted;    /* act ran (successfully or not) */
    int exit_code; /* with STEP_ERROR: the documented code */
    /* The check goes on (ok, warn) by its start-up policy, yet something needs doing (pending
     * migrations under [migrate] mode = check): `devinit check` is not ready, exit 1. */
    bool needs_action;
    char reason[1024]; /* one line, no password */
    uint64_t started_ms, elapsed_ms;

    /* private to pipeline.c */
    struct child child;
    bool child_running;
    void (*exec_done)(struct step_run *r, int wstatus);
    struct pipeline *pl;
    bool cancelled;
};

/* Ends a check. verdict: STEP_OK (nothing to do), STEP_WOULD_RUN (act is needed), STEP_WARN
 * (go on, the reason is logged as a warning), STEP_ERROR with exit_code (stop), STEP_SKIPPED.
 * The reason is formatted like printf. */
void step_checked(struct step_run *r, enum step_status verdict, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Ends an act: exit_code 0 for success (the reason says what was done), else the code. */
void step_acted(struct step_run *r, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs argv as a supervised child of the step in dir (NULL: cwd): its output is logged line
 * by line under the step's name, a signal stops it with the supervisor's rules. done gets
 * the wait status. Only one child per step at a time. 0 or -errno (already logged). */
int step_exec(struct step_run *r, char *const *argv, char *const *envp, const char *dir,
              void (*done)(struct step_run *r, int wstatus));

/* Ends an act after a failed command: EXIT_SOFTWARE with "'<cmd>' exited with N" (or the
 * signal), logging the last lines of its output. */
void step_fail_command(struct step_run *r, char *const *argv, int wstatus);

/* The descriptors, each defined in its step's file; steps/table.c orders them. */
extern const struct step_desc step_deps;
extern const struct step_desc step_generate;
extern const struct step_desc step_wait;
extern const struct step_desc step_migrate;

/* The descriptor of step id. */
const struct step_desc *step_desc(enum step_id id);

struct stamp;
/* Writes a step's stamp (stamp_write) after its act; a failure is a warning naming shown (the
 * path for messages) and saying that again, e.g. "the install will run again", happens at the
 * next start. 0 or -errno. */
int step_write_stamp(struct step_run *r, const char *path, const char *shown, const struct stamp *s,
                     const char *comment, const char *again);

/* The Prisma paths the user set, for prisma_project_find() and prisma_project_migrations(). */
static inline struct prisma_settings step_prisma_settings(const struct config *cfg)
{
    return (struct prisma_settings){cfg->app.dir, cfg->prisma.schema, cfg->prisma.config,
                                    cfg->migrate.dir};
}

/* The Prisma project as step_prisma_settings() finds it (the app directory as configured),
 * found once per pipeline run by the first step that asks, so the wait and migrate steps read
 * one project; p->found says whether its schema was found. NULL when out of memory. */
const struct prisma_project *step_project(struct step_run *r);

/* The variable the user named in [database] url_env, or NULL when it is the default (the
 * Prisma config's or schema's own variable then decides, prisma/url.h). */
static inline const char *step_url_var(const struct config *cfg)
{
    const char *v = cfg->database.url_env;
    return v && *v && strcmp(v, "DATABASE_URL") != 0 ? v : NULL;
}

#endif
