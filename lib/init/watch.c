#include "init/watch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/path.h"
#include "prisma/project.h"
#include "steps/step.h"

#define MAX_TARGETS 64

/* One thing to watch. kind FILE: a file whose basename is matched in its directory's events.
 * kind DIR_SUFFIX: every entry of a directory whose name ends with suffix ("" = any). */
enum target_kind { T_FILE, T_DIR_SUFFIX };

struct target {
    enum target_kind kind;
    char path[PATH_MAX]; /* the file, or the directory */
    char dir[PATH_MAX];  /* the directory watched for it */
    const char *base;    /* T_FILE: its name within dir */
    const char *suffix;  /* T_DIR_SUFFIX */
    unsigned steps;
};

struct handle {
    union {
        uv_fs_event_t ev;
        uv_fs_poll_t poll;
    } h;
    bool is_poll;
    struct watch *w;
    int dir_index; /* events: index of the watched directory; poll: index of the target */
};

struct watch {
    uv_loop_t *loop;
    watch_fn fn;
    void *data;
    bool poll;
    uint64_t interval_ms, debounce_ms;
    struct target targets[MAX_TARGETS];
    size_t ntargets;
    char dirs[MAX_TARGETS][PATH_MAX]; /* events mode: distinct directories */
    size_t ndirs;
    struct handle *handles[MAX_TARGETS];
    size_t nhandles;
    uv_timer_t debounce;
    unsigned pending;
    char last[PATH_MAX + 256]; /* a changed path, for the log */
    int open;
    bool stopping;
};

static void add_target(struct watch *w, enum target_kind kind, const char *path, const char *suffix,
                       unsigned steps)
{
    if (w->ntargets == MAX_TARGETS)
        return;
    for (size_t i = 0; i < w->ntargets; i++)
        if (strcmp(w->targets[i].path, path) == 0) {
            w->targets[i].steps |= steps;
            return;
        }
    struct target *t = &w->targets[w->ntargets++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->steps = steps;
    t->suffix = suffix;
    snprintf(t->path, sizeof t->path, "%s", path);
    if (kind == T_FILE) {
        path_dirname(path, t->dir, sizeof t->dir);
        if (!t->dir[0])
            snprintf(t->dir, sizeof t->dir, ".");
        const char *slash = strrchr(t->path, '/');
        t->base = slash ? slash + 1 : t->path;
    } else {
        snprintf(t->dir, sizeof t->dir, "%s", path);
    }
}

static void app_path(const struct config *cfg, const char *name, char *out, size_t len)
{
    if (path_join(cfg->app.dir, name, out, len) < 0)
        snprintf(out, len, "%s", name);
}

/* What to watch: the same files the deps and generate steps hash. */
static void collect(struct watch *w, const struct config *cfg)
{
    static const char *const dep_files[] = {"package.json",       "package-lock.json", "yarn.lock",
                                            "pnpm-lock.yaml",     "bun.lock",          "bun.lockb",
                                            "npm-shrinkwrap.json"};
    char path[PATH_MAX];
    const unsigned deps = STEP_BIT(STEP_DEPS) | STEP_BIT(STEP_GENERATE);
    if (cfg->deps.mode != MODE_OFF && (cfg->steps & STEP_BIT(STEP_DEPS))) {
        /* A workspace member is installed from the root: its lockfile, and both package.json. */
        char root[PATH_MAX];
        bool member = prisma_install_root(cfg->app.dir, root, sizeof root);
        for (size_t i = 0; i < sizeof dep_files / sizeof dep_files[0]; i++) {
            if (path_join(root, dep_files[i], path, sizeof path) < 0)
                continue;
            add_target(w, T_FILE, path, NULL, deps);
        }
        if (member) {
            app_path(cfg, "package.json", path, sizeof path);
            add_target(w, T_FILE, path, NULL, deps);
        }
    }

    /* ~150 KB: on the heap, not the stack. */
    struct prisma_project *pp = calloc(1, sizeof *pp);
    if (!pp)
        return;
    char err[512];
    const struct prisma_settings ps = step_prisma_settings(cfg);
    if ((cfg->steps & STEP_BIT(STEP_GENERATE)) && cfg->generate.mode != MODE_OFF &&
        prisma_project_find(pp, &ps, NULL, err, sizeof err) == 0) {
        const unsigned gen = STEP_BIT(STEP_GENERATE);
        if (pp->schema_is_dir)
            add_target(w, T_DIR_SUFFIX, pp->schema, ".prisma", gen);
        else
            add_target(w, T_FILE, pp->schema, NULL, gen);
        if (pp->config[0])
            add_target(w, T_FILE, pp->config, NULL, gen);
        if (cfg->watch.migrate) {
            /* The same folder the migrate step reads. */
            char warn[512];
            prisma_migrations_find(&ps, path, sizeof path, warn, sizeof warn);
            if (path[0])
                add_target(w, T_DIR_SUFFIX, path, "", STEP_BIT(STEP_WAIT) | STEP_BIT(STEP_MIGRATE));
        }
    } else {
        log_debug("watch", "no schema to watch: %s", err);
    }
    prisma_project_free(pp);
    free(pp);
}

static void on_debounce(uv_timer_t *t)
{
    struct watch *w = t->data;
    unsigned steps = w->pending;
    w->pending = 0;
    if (steps)
        w->fn(steps, w->last, w->data);
}

static void changed(struct watch *w, const struct target *t, const char *path)
{
    w->pending |= t->steps;
    snprintf(w->last, sizeof w->last, "%s", path);
    log_debug("watch", "'%s' changed", path);
    /* Restarting the timer on every event turns a burst of saves into one resync. */
    uv_timer_start(&w->debounce, on_debounce, w->debounce_ms, 0);
}

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    return n >= s && strcmp(name + n - s, suffix) == 0;
}

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct handle *hd = h->data;
    struct watch *w = hd->w;
    const char *dir = w->dirs[hd->dir_index];
    if (status < 0 || !filename)
        return;
    for (size_t i = 0; i < w->ntargets; i++) {
        const struct target *t = &w->targets[i];
        if (strcmp(t->dir, dir) != 0)
            continue;
        if (t->kind == T_FILE
                ? strcmp(t->base, filename) == 0
                : (filename[0] != '.' || !*t->suffix) && has_suffix(filename, t->suffix)) {
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", dir, filename);
            changed(w, t, t->kind == T_FILE ? t->path : path);
        }
    }
}

static void on_poll(uv_fs_poll_t *h, int status, const uv_stat_t *prev, const uv_stat_t *curr)
{
    struct handle *hd = h->data;
    struct watch *w = hd->w;
    const struct target *t = &w->targets[hd->dir_index];
    changed(w, t, t->path);
}

/* Handle bookkeeping: every initialised handle (the debounce timer included) is counted in
 * w->open and counted down by its close callback; a stopped watch is freed at zero. */
static void maybe_free(struct watch *w)
{
    if (--w->open == 0 && w->stopping)
        free(w);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct handle *hd = h->data;
    struct watch *w = hd->w;
    free(hd);
    maybe_free(w);
}

static void on_timer_closed(uv_handle_t *h)
{
    maybe_free(h->data);
}

static void close_handle(struct handle *hd)
{
    uv_close(hd->is_poll ? (uv_handle_t *)&hd->h.poll : (uv_handle_t *)&hd->h.ev, on_handle_closed);
}

/* Starts one handle: a poll of target i, or events on directory i. Kept in w->handles only
 * when it started. */
static int start_handle(struct watch *w, bool poll, size_t i)
{
    if (w->nhandles == MAX_TARGETS)
        return -ENOSPC;
    struct handle *hd = calloc(1, sizeof *hd);
    if (!hd)
        return -ENOMEM;
    hd->w = w;
    hd->dir_index = (int)i;
    hd->is_poll = poll;
    int rc;
    if (poll) {
        /* stat sees a file's content change (mtime, size); a directory's own mtime changes
         * when an entry is added, removed or renamed. */
        uv_fs_poll_init(w->loop, &hd->h.poll);
        hd->h.poll.data = hd;
        rc = uv_fs_poll_start(&hd->h.poll, on_poll, w->targets[i].path, (unsigned)w->interval_ms);
    } else {
        uv_fs_event_init(w->loop, &hd->h.ev);
        hd->h.ev.data = hd;
        rc = uv_fs_event_start(&hd->h.ev, on_event, w->dirs[i], 0);
    }
    w->open++;
    if (rc < 0) {
        close_handle(hd);
        return rc;
    }
    w->handles[w->nhandles++] = hd;
    return 0;
}

static void close_all(struct watch *w)
{
    for (size_t i = 0; i < w->nhandles; i++)
        close_handle(w->handles[i]);
    w->nhandles = 0;
}

struct watch *watch_start(uv_loop_t *loop, const struct config *cfg, watch_fn fn, void *data)
{
    /* Only the deps and generate steps have files to watch (the migrations folder is found
     * through generate's project): without them there is nothing to allocate or start. */
    const unsigned watchable = STEP_BIT(STEP_DEPS) | STEP_BIT(STEP_GENERATE);
    if (cfg->watch.mode == WATCH_OFF || !(cfg->steps & watchable))
        return NULL;
    struct watch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->loop = loop;
    w->fn = fn;
    w->data = data;
    w->poll = cfg->watch.mode == WATCH_POLL;
    w->interval_ms = cfg->watch.interval_ms ? cfg->watch.interval_ms : 1000;
    w->debounce_ms = cfg->watch.debounce_ms;
    uv_timer_init(loop, &w->debounce);
    w->debounce.data = w;
    w->open = 1;
    collect(w, cfg);

    if (!w->poll) {
        for (size_t i = 0; i < w->ntargets; i++) {
            bool seen = false;
            for (size_t d = 0; d < w->ndirs && !seen; d++)
                seen = strcmp(w->dirs[d], w->targets[i].dir) == 0;
            if (!seen)
                snprintf(w->dirs[w->ndirs++], PATH_MAX, "%s", w->targets[i].dir);
        }
        int first_err = 0;
        for (size_t d = 0; d < w->ndirs; d++) {
            int rc = start_handle(w, false, d);
            /* A directory that does not exist (yet) has nothing to report. */
            if (rc < 0 && rc != UV_ENOENT && !first_err)
                first_err = rc;
        }
        if (first_err && cfg->watch.mode == WATCH_EVENTS) {
            log_warn("watch", "cannot watch for file events: %s", uv_strerror(first_err));
        } else if (first_err) {
            /* inotify refused (limits, or a file system without it): stat instead. */
            log_warn("watch", "file events unavailable (%s): polling every %llu ms instead",
                     uv_strerror(first_err), (unsigned long long)w->interval_ms);
            close_all(w);
            w->poll = true;
        }
    }
    if (w->poll)
        for (size_t i = 0; i < w->ntargets; i++)
            start_handle(w, true, i);
    log_debug("watch", "watching %zu paths (%s)", w->ntargets, watch_mode_name(w));
    return w;
}

const char *watch_mode_name(const struct watch *w)
{
    return !w ? "off" : w->poll ? "poll" : "events";
}

size_t watch_count(const struct watch *w)
{
    return w ? w->ntargets : 0;
}

const char *watch_path(const struct watch *w, size_t i)
{
    return i < w->ntargets ? w->targets[i].path : NULL;
}

void watch_stop(struct watch *w)
{
    if (!w)
        return;
    w->stopping = true;
    close_all(w);
    uv_close((uv_handle_t *)&w->debounce, on_timer_closed);
}
