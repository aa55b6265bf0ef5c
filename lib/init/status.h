/* What `devinit status` answers: the init's state rendered as one JSON reply, whose "message"
 * is the same state as text for a person. The init fills a snapshot; this module only renders
 * it, so what is reported and how it is laid out are separate from the phase machine. */
#ifndef DEVINIT_STATUS_H
#define DEVINIT_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "init/watch.h"
#include "steps/pipeline.h"

struct status_snapshot {
    const char *state; /* the init's phase, in words */
    uint64_t uptime_ms;

    const char *app; /* argv[0] */
    bool app_running;
    pid_t app_pid;
    uint64_t app_uptime_ms;
    unsigned restarts;
    int last_exit; /* -1: none yet */

    const struct pipeline *startup; /* the start-up run of the steps */

    bool sync_ran, sync_ok;
    uint64_t sync_ago_ms;
    const char *sync_reason;

    const struct watch *watch;    /* NULL: not watching */
    const struct step_run *probe; /* the database, checked for this request; NULL: none */

    bool healthy;
    const char *health; /* the health line: "healthy: ..." or "unhealthy: ..." */
};

/* The reply: {"exit": 0, "state", "pid", "uptime_ms", "app": {...}, "startup": {...},
 * "last_sync", "watch", "database", "healthy", "message"}. malloc'ed (caller frees), or NULL
 * when memory runs out. */
char *status_render(const struct status_snapshot *s);

#endif
