/* The status reply: see status.h. */
#include "init/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/jsonw.h"
#include "base/strbuf.h"

/* 4.2s, 3m07s, 2h05m: an age a person reads at a glance. */
static void fmt_duration(uint64_t ms, char *out, size_t len)
{
    uint64_t s = ms / 1000;
    if (s < 60)
        snprintf(out, len, "%llu.%llus", (unsigned long long)s,
                 (unsigned long long)(ms % 1000) / 100);
    else if (s < 3600)
        snprintf(out, len, "%llum%02llus", (unsigned long long)s / 60, (unsigned long long)s % 60);
    else
        snprintf(out, len, "%lluh%02llum", (unsigned long long)s / 3600,
                 (unsigned long long)(s / 60) % 60);
}

static void render_app(const struct status_snapshot *s, struct jsonw *j, struct strbuf *t)
{
    jsonw_key(j, "app");
    jsonw_object_begin(j);
    jsonw_key(j, "command");
    jsonw_string(j, s->app);
    jsonw_key(j, "running");
    jsonw_bool(j, s->app_running);
    jsonw_key(j, "pid");
    if (s->app_running)
        jsonw_int(j, s->app_pid);
    else
        jsonw_null(j);
    jsonw_key(j, "uptime_ms");
    jsonw_int(j, s->app_running ? (int64_t)s->app_uptime_ms : 0);
    jsonw_key(j, "restarts");
    jsonw_int(j, s->restarts);
    jsonw_key(j, "last_exit");
    if (s->last_exit >= 0)
        jsonw_int(j, s->last_exit);
    else
        jsonw_null(j);
    jsonw_object_end(j);

    char up[32];
    fmt_duration(s->app_uptime_ms, up, sizeof up);
    strbuf_addf(t, "app: '%s' %s", s->app, s->app_running ? "running" : s->state);
    if (s->app_running)
        strbuf_addf(t, ", pid %d, up %s", (int)s->app_pid, up);
    strbuf_addf(t, ", %u restart%s", s->restarts, s->restarts == 1 ? "" : "s");
    if (s->last_exit >= 0)
        strbuf_addf(t, ", last exit %d", s->last_exit);
    strbuf_addf(t, "\n");
}

static void render_steps(const struct status_snapshot *s, struct jsonw *j, struct strbuf *t)
{
    jsonw_key(j, "startup");
    pipeline_json(s->startup, j);
    for (int i = 0; i < STEP_COUNT; i++) {
        const struct step_run *r = &s->startup->runs[i];
        strbuf_addf(t, "%-9s %-9s %s (%llu ms)\n", step_name(i), step_status_name(r->status),
                    r->reason, (unsigned long long)r->elapsed_ms);
    }
}

static void render_sync(const struct status_snapshot *s, struct jsonw *j, struct strbuf *t)
{
    jsonw_key(j, "last_sync");
    if (!s->sync_ran) {
        jsonw_null(j);
        strbuf_addf(t, "last sync: none\n");
        return;
    }
    jsonw_object_begin(j);
    jsonw_key(j, "ok");
    jsonw_bool(j, s->sync_ok);
    jsonw_key(j, "ago_ms");
    jsonw_int(j, (int64_t)s->sync_ago_ms);
    jsonw_key(j, "reason");
    jsonw_string(j, s->sync_reason);
    jsonw_object_end(j);
    char ago[32];
    fmt_duration(s->sync_ago_ms, ago, sizeof ago);
    strbuf_addf(t, "last sync: %s %s ago: %s\n", s->sync_ok ? "ok" : "FAILED", ago, s->sync_reason);
}

static void render_watch(const struct status_snapshot *s, struct jsonw *j, struct strbuf *t)
{
    jsonw_key(j, "watch");
    jsonw_object_begin(j);
    jsonw_key(j, "mode");
    jsonw_string(j, watch_mode_name(s->watch));
    jsonw_key(j, "paths");
    jsonw_array_begin(j);
    strbuf_addf(t, "watching (%s):", watch_mode_name(s->watch));
    for (size_t i = 0; i < watch_count(s->watch); i++) {
        jsonw_string(j, watch_path(s->watch, i));
        strbuf_addf(t, " %s", watch_path(s->watch, i));
    }
    strbuf_addf(t, "\n");
    jsonw_array_end(j);
    jsonw_object_end(j);
}

static void render_database(const struct status_snapshot *s, struct jsonw *j, struct strbuf *t)
{
    const char *status = s->probe ? step_status_name(s->probe->status) : "skipped";
    const char *reason = s->probe ? s->probe->reason : "";
    jsonw_key(j, "database");
    jsonw_object_begin(j);
    jsonw_key(j, "status");
    jsonw_string(j, status);
    jsonw_key(j, "reason");
    jsonw_string(j, reason);
    jsonw_object_end(j);
    strbuf_addf(t, "database now: %s %s\n", status, reason);
}

char *status_render(const struct status_snapshot *s)
{
    char text[8192];
    struct strbuf t;
    strbuf_init(&t, text, sizeof text);
    struct jsonw j;
    jsonw_init(&j);
    jsonw_object_begin(&j);
    jsonw_key(&j, "exit");
    jsonw_int(&j, EXIT_READY);
    jsonw_key(&j, "state");
    jsonw_string(&j, s->state);
    jsonw_key(&j, "pid");
    jsonw_int(&j, getpid());
    jsonw_key(&j, "uptime_ms");
    jsonw_int(&j, (int64_t)s->uptime_ms);
    render_app(s, &j, &t);
    render_steps(s, &j, &t);
    render_sync(s, &j, &t);
    render_watch(s, &j, &t);
    render_database(s, &j, &t);
    jsonw_key(&j, "healthy");
    jsonw_bool(&j, s->healthy);
    strbuf_addf(&t, "%s", s->health);
    jsonw_key(&j, "message");
    jsonw_string(&j, text);
    jsonw_object_end(&j);
    if (j.failed) {
        jsonw_free(&j);
        return NULL;
    }
    return j.buf; /* the caller frees it */
}
