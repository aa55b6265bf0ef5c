/* Walks the step table in order: check, then act when needed (never in a dry run). */
#ifndef DEVINIT_PIPELINE_H
#define DEVINIT_PIPELINE_H

#include <stdbool.h>
#include <uv.h>

#include "config/config.h"
#include "base/jsonw.h"
#include "steps/step.h"

struct pipeline {
    uv_loop_t *loop;
    const struct config *cfg;
    unsigned steps; /* STEP_BIT()s to run this time */
    bool dry_run;
    struct step_run runs[STEP_COUNT];
    int current; /* index into runs, or -1 */
    int exit_code;
    int cancel_signo; /* non-zero once cancelled */
    bool finished;
    void (*done)(struct pipeline *pl, int exit_code, void *data);
    void *data;
    struct prisma_project *project; /* step_project(): found at the first call of a run */
};

/* Starts the steps of mask that cfg->steps enables (STEP_ALL: the start-up; fewer: live
 * sync's re-run, the status probe). done runs once: with 0 when the app may start (or, dry
 * run, EXIT_READY/EXIT_WOULD_RUN), a documented error code, or 128+N after
 * pipeline_cancel(N). cfg must outlive the pipeline. */
void pipeline_start_steps(struct pipeline *pl, uv_loop_t *loop, const struct config *cfg,
                          unsigned mask, bool dry_run, void (*done)(struct pipeline *, int, void *),
                          void *data);

/* Whether any step acted in this run. */
bool pipeline_acted(const struct pipeline *pl);

/* A signal arrived: stop the current step (its child gets signo, then SIGKILL after the stop
 * timeout), run no further step, and finish with 128+signo. */
void pipeline_cancel(struct pipeline *pl, int signo);

/* {"ready": bool, "steps": {"<name>": {"status", "reason", "elapsed_ms", ...}}} */
void pipeline_json(const struct pipeline *pl, struct jsonw *w);
/* One line per step, for `devinit check` without --json. */
void pipeline_print(const struct pipeline *pl);

/* Frees every step's state. */
void pipeline_free(struct pipeline *pl);

#endif
