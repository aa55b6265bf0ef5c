#include "init/watch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/path.h"
#include "prisma/project.h"
#include "steps/step.h"

#define MAX_TARGETS 64
/* inotify watches are a per-user resource (fs.inotify.max_user_watches, 8192 on many hosts)
 * shared with the app's own watchers: a schema folder gets at most this many. */
#define MAX_DIRS 512
/* A burst of changes is acted on once it goes quiet ([watch] debounce), but never later than
 * this after its first change (or the debounce, when that is longer): a tool that keeps
 * writing does not hold the resync back for ever. */
#define DEBOUNCE_CAP_MS 1000

/* One thing to watch.
 *   T_FILE: a file, matched by its name in its directory's events;
 *   T_DIR:  the entries of one directory (the migrations folder);
 *   T_TREE: a schema folder: its *.prisma files at any depth, as Prisma reads them. */
enum target_kind { T_FILE, T_DIR, T_TREE };

struct target {
    enum target_kind kind;
    char path[PATH_MAX]; /* the file, or the directory */
    char dir[PATH_MAX];  /* T_FILE: its directory; else the path itself */
    const char *base;    /* T_FILE: its name within dir */
    unsigned steps;
    /* events mode, T_TREE: the set of its schema files' paths; poll mode: the state of
     * everything the target covers. Sums of per-entry hashes: readdir's order is no change. */
    uint64_t sig;
};

/* Events mode: one watched directory. */
struct dirwatch {
    uv_fs_event_t ev;
    struct watch *w;
    char path[PATH_MAX];
    dev_t dev;
    ino_t ino;
    bool fixed; /* the directory of a target named at start: kept while the watch runs */
    bool mark;  /* seen by the current walk of a schema folder */
};

struct watch {
    uv_loop_t *loop;
    watch_fn fn;
    void *data;
    bool poll;
    uint64_t interval_ms, quiet_ms, cap_ms;
    struct target targets[MAX_TARGETS];
    size_t ntargets;

    struct dirwatch *dirs[MAX_DIRS]; /* events mode */
    size_t ndirs;
    bool dirs_warned;

    uv_timer_t debounce;
    bool in_burst;
    uint64_t burst_start; /* loop time of the burst's first change */
    unsigned pending;
    char last[PATH_MAX + 256]; /* a changed path, for the log */

    uv_timer_t tick; /* poll mode: every interval, a snapshot on the thread pool */
    uv_work_t work;
    bool working, have_baseline;
    uint64_t next[MAX_TARGETS];

    /* Changes made after `since` (the start-up began) but before the watch did. */
    struct timespec since;
    uv_work_t since_work;
    bool since_queued;
    bool newer[MAX_TARGETS];

    int open; /* initialised handles and queued work not yet finished */
    bool stopping;
};

static void add_target(struct watch *w, enum target_kind kind, const char *path, unsigned steps)
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
            add_target(w, T_FILE, path, deps);
        }
        if (member) {
            app_path(cfg, "package.json", path, sizeof path);
            add_target(w, T_FILE, path, deps);
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
        add_target(w, pp->schema_is_dir ? T_TREE : T_FILE, pp->schema, gen);
        if (pp->config[0])
            add_target(w, T_FILE, pp->config, gen);
        if (cfg->watch.migrate) {
            /* The same folder the migrate step reads. */
            char warn[512];
            prisma_project_migrations(pp, &ps, path, sizeof path, warn, sizeof warn);
            if (path[0])
                add_target(w, T_DIR, path, STEP_BIT(STEP_WAIT) | STEP_BIT(STEP_MIGRATE));
        }
    } else {
        log_debug("watch", "no schema to watch: %s", err);
    }
    prisma_project_free(pp);
    free(pp);
}

/* ---- the debounce --------------------------------------------------------------------- */

static void on_debounce(uv_timer_t *t)
{
    struct watch *w = t->data;
    unsigned steps = w->pending;
    w->pending = 0;
    w->in_burst = false;
    if (steps)
        w->fn(steps, w->last, w->data);
}

static void changed(struct watch *w, const struct target *t, const char *path)
{
    w->pending |= t->steps;
    snprintf(w->last, sizeof w->last, "%s", path);
    log_debug("watch", "'%s' changed", path);
    /* Each change pushes the resync back by the quiet time, up to the cap from the burst's
     * first change: a burst of saves is one resync, a single save is acted on at once. */
    uint64_t now = uv_now(w->loop);
    if (!w->in_burst) {
        w->in_burst = true;
        w->burst_start = now;
    }
    uint64_t due = now + w->quiet_ms, cap = w->burst_start + w->cap_ms;
    if (due > cap)
        due = cap;
    uv_timer_start(&w->debounce, on_debounce, due > now ? due - now : 0, 0);
}

/* ---- handle bookkeeping ---------------------------------------------------------------- */

/* Every initialised handle (the timers included) and every queued snapshot is counted in
 * w->open and counted down when it ends; a stopped watch is freed at zero. */
static void maybe_free(struct watch *w)
{
    if (--w->open == 0 && w->stopping)
        free(w);
}

static void on_dir_closed(uv_handle_t *h)
{
    struct dirwatch *dw = h->data;
    struct watch *w = dw->w;
    free(dw);
    maybe_free(w);
}

static void on_timer_closed(uv_handle_t *h)
{
    maybe_free(h->data);
}

/* Takes directory i out of w->dirs and closes its handle. */
static void dir_remove(struct watch *w, size_t i)
{
    struct dirwatch *dw = w->dirs[i];
    w->dirs[i] = w->dirs[--w->ndirs];
    uv_close((uv_handle_t *)&dw->ev, on_dir_closed);
}

static struct dirwatch *dir_find(struct watch *w, const char *path, size_t *index)
{
    for (size_t i = 0; i < w->ndirs; i++)
        if (strcmp(w->dirs[i]->path, path) == 0) {
            if (index)
                *index = i;
            return w->dirs[i];
        }
    return NULL;
}

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status);

/* Watches directory path (its entries' events). 0 (also when it is watched already),
 * -ENOSPC beyond MAX_DIRS, or libuv's error (UV_ENOENT: it does not exist). */
static int dir_add(struct watch *w, const char *path, bool fixed)
{
    struct dirwatch *dw = dir_find(w, path, NULL);
    if (dw) {
        dw->fixed |= fixed;
        dw->mark = true;
        return 0;
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (w->ndirs == MAX_DIRS)
        return -ENOSPC;
    dw = calloc(1, sizeof *dw);
    if (!dw)
        return -ENOMEM;
    dw->w = w;
    snprintf(dw->path, sizeof dw->path, "%s", path);
    dw->dev = st.st_dev;
    dw->ino = st.st_ino;
    dw->fixed = fixed;
    dw->mark = true;
    uv_fs_event_init(w->loop, &dw->ev);
    dw->ev.data = dw;
    w->open++;
    int rc = uv_fs_event_start(&dw->ev, on_event, path, 0);
    if (rc < 0) {
        uv_close((uv_handle_t *)&dw->ev, on_dir_closed);
        return rc;
    }
    w->dirs[w->ndirs++] = dw;
    return 0;
}

static void close_dirs(struct watch *w)
{
    while (w->ndirs)
        dir_remove(w, w->ndirs - 1);
}

/* ---- schema folders ---------------------------------------------------------------------- */

/* FNV-1a: a cheap, stable hash of an entry's record; collisions only cost a missed resync,
 * which `devinit sync` makes up for. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV_START 0xcbf29ce484222325ULL

/* What poll mode compares: an entry's identity and content as stat shows them. An in-place
 * save changes size or mtime (ns), a save by rename the inode. */
static uint64_t entry_hash(const char *path, const struct stat *st)
{
    const long long rec[] = {(long long)st->st_size,         (long long)st->st_mtim.tv_sec,
                             (long long)st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
                             (long long)st->st_ctim.tv_nsec, (long long)st->st_ino,
                             (long long)st->st_dev,          (long long)st->st_mode};
    return fnv(fnv(FNV_START, path, strlen(path) + 1), rec, sizeof rec);
}

static bool path_under(const char *path, const char *root)
{
    size_t n = strlen(root);
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

struct scan {
    struct watch *w;
    uint64_t sig;
    int err; /* the first directory that could not be watched */
};

static int scan_entry(const char *path, const struct stat *st, void *data)
{
    struct scan *sc = data;
    struct watch *w = sc->w;
    if (!S_ISDIR(st->st_mode)) {
        sc->sig += fnv(FNV_START, path, strlen(path) + 1);
        return 0;
    }
    size_t i;
    struct dirwatch *dw = dir_find(w, path, &i);
    if (dw && (dw->dev != st->st_dev || dw->ino != st->st_ino)) {
        /* Replaced (removed and made again, or another folder renamed over it): the watch
         * was on the old one. */
        bool fixed = dw->fixed;
        dir_remove(w, i);
        dw = NULL;
        int rc = dir_add(w, path, fixed);
        if (rc < 0 && !sc->err)
            sc->err = rc;
    } else if (dw) {
        dw->mark = true;
    } else {
        int rc = dir_add(w, path, false);
        if (rc < 0 && rc != UV_ENOENT && !sc->err)
            sc->err = rc;
    }
    return 0;
}

/* Walks schema folder t as Prisma does, watching every folder in it (new ones too) and
 * dropping the watches of folders gone. Returns whether its set of schema files changed. */
static bool tree_scan(struct watch *w, struct target *t)
{
    for (size_t i = 0; i < w->ndirs; i++)
        w->dirs[i]->mark = false;
    struct scan sc = {.w = w};
    prisma_schema_walk(t->path, scan_entry, &sc);
    for (size_t i = w->ndirs; i-- > 0;)
        if (!w->dirs[i]->mark && !w->dirs[i]->fixed && path_under(w->dirs[i]->path, t->path))
            dir_remove(w, i);
    if (sc.err && !w->dirs_warned) {
        w->dirs_warned = true;
        log_warn("watch",
                 "cannot watch every folder of the prisma schema '%s' (%s): saves there may go "
                 "unseen; `devinit sync` or [watch] mode = poll sees them",
                 t->path, sc.err == -ENOSPC ? "too many folders" : uv_strerror(sc.err));
    }
    bool moved = sc.sig != t->sig;
    t->sig = sc.sig;
    return moved;
}

/* ---- events mode ------------------------------------------------------------------------- */

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    (void)events;
    struct dirwatch *dw = h->data;
    struct watch *w = dw->w;
    if (status < 0 || !filename || w->stopping)
        return;
    /* dw may be closed by a walk below: work on a copy of its path. */
    char dir[PATH_MAX], path[PATH_MAX + 256];
    snprintf(dir, sizeof dir, "%s", dw->path);
    snprintf(path, sizeof path, "%s/%s", dir, filename);
    for (size_t i = 0; i < w->ntargets; i++) {
        struct target *t = &w->targets[i];
        if (t->kind == T_FILE) {
            if (strcmp(t->dir, dir) == 0 && strcmp(t->base, filename) == 0)
                changed(w, t, t->path);
        } else if (t->kind == T_DIR) {
            if (strcmp(t->dir, dir) == 0)
                changed(w, t, path);
        } else if (path_under(dir, t->path)) {
            /* A folder made, removed or renamed changes the set of files (and what to
             * watch); a file saved in place does not, but is a schema file now. A dangling
             * link (an editor's lock file, `.#schema.prisma`) is neither. */
            bool moved = tree_scan(w, t);
            struct stat st;
            if (moved ||
                (prisma_schema_file_name(filename) && stat(path, &st) == 0 && S_ISREG(st.st_mode)))
                changed(w, t, path);
        }
    }
}

/* Starts the events watches; the first error other than a missing directory, or 0. */
static int start_events(struct watch *w)
{
    int first_err = 0;
    for (size_t i = 0; i < w->ntargets; i++) {
        struct target *t = &w->targets[i];
        int rc = dir_add(w, t->dir, true);
        /* A directory that does not exist (yet) has nothing to report. */
        if (rc < 0 && rc != UV_ENOENT && !first_err)
            first_err = rc;
        if (t->kind == T_TREE) {
            tree_scan(w, t);
            if (w->dirs_warned && !first_err)
                first_err = UV_ENOSPC;
        }
    }
    return first_err;
}

/* ---- poll mode --------------------------------------------------------------------------- */

struct poll_sum {
    uint64_t sum;
};

static int poll_entry(const char *path, const struct stat *st, void *data)
{
    /* The folders' own times change with every editor's temporary file: files only. */
    if (!S_ISDIR(st->st_mode))
        ((struct poll_sum *)data)->sum += entry_hash(path, st);
    return 0;
}

#define ABSENT 1u /* the state of a path that does not exist: absent to absent is no change */

/* The state of what target t covers, by stat alone. Runs on the thread pool. */
static uint64_t snapshot(const struct target *t)
{
    struct stat st;
    if (t->kind == T_FILE)
        return stat(t->path, &st) == 0 ? entry_hash(t->path, &st) : ABSENT;
    if (t->kind == T_TREE) {
        struct poll_sum ps = {0};
        return prisma_schema_walk(t->path, poll_entry, &ps) == 0 ? ps.sum : ABSENT;
    }
    DIR *d = opendir(t->path);
    if (!d)
        return ABSENT;
    uint64_t sum = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", t->path, e->d_name);
        if (stat(path, &st) == 0)
            sum += entry_hash(path, &st);
    }
    closedir(d);
    return sum;
}

static void poll_work(uv_work_t *req)
{
    struct watch *w = req->data;
    for (size_t i = 0; i < w->ntargets; i++)
        w->next[i] = snapshot(&w->targets[i]);
}

static void poll_done(uv_work_t *req, int status)
{
    struct watch *w = req->data;
    w->working = false;
    if (!w->stopping && status == 0) {
        for (size_t i = 0; i < w->ntargets; i++) {
            struct target *t = &w->targets[i];
            if (w->have_baseline && w->next[i] != t->sig)
                changed(w, t, t->path);
            t->sig = w->next[i];
        }
        w->have_baseline = true;
    }
    maybe_free(w);
}

static void poll_now(struct watch *w)
{
    if (w->working || w->stopping)
        return;
    w->work.data = w;
    if (uv_queue_work(w->loop, &w->work, poll_work, poll_done) == 0) {
        w->working = true;
        w->open++;
    }
}

static void on_tick(uv_timer_t *t)
{
    poll_now(t->data);
}

/* ---- changes made before the watch began --------------------------------------------- */

static bool at_or_after(const struct timespec *t, const struct timespec *since)
{
    return t->tv_sec > since->tv_sec ||
           (t->tv_sec == since->tv_sec && t->tv_nsec >= since->tv_nsec);
}

static bool stat_newer(const struct stat *st, const struct timespec *since)
{
    /* ctime too: a file moved into place keeps its mtime. */
    return at_or_after(&st->st_mtim, since) || at_or_after(&st->st_ctim, since);
}

static int since_entry(const char *path, const struct stat *st, void *data)
{
    (void)path;
    return !S_ISDIR(st->st_mode) && stat_newer(st, data);
}

/* Whether a file target t covers changed at or after since (what snapshot() looks at). Runs
 * on the thread pool. The migrations folder is left out: with [watch] migrate a change there
 * deploys, and a time alone (a host clock ahead of the container's, on a bind mount) must
 * never do that. For the others a wrong guess costs one sync that finds nothing to do. */
static bool changed_since(const struct target *t, const struct timespec *since)
{
    struct stat st;
    if (t->kind == T_FILE)
        return stat(t->path, &st) == 0 && stat_newer(&st, since);
    if (t->kind == T_TREE)
        return prisma_schema_walk(t->path, since_entry, (void *)since) == 1;
    return false;
}

static void since_work(uv_work_t *req)
{
    struct watch *w = req->data;
    for (size_t i = 0; i < w->ntargets; i++)
        w->newer[i] = changed_since(&w->targets[i], &w->since);
}

static void since_done(uv_work_t *req, int status)
{
    struct watch *w = req->data;
    w->since_queued = false;
    for (size_t i = 0; !w->stopping && status == 0 && i < w->ntargets; i++)
        if (w->newer[i])
            changed(w, &w->targets[i], w->targets[i].path);
    maybe_free(w);
}

/* ---- the interface ----------------------------------------------------------------------- */

struct watch *watch_start(uv_loop_t *loop, const struct config *cfg, const struct timespec *since,
                          watch_fn fn, void *data)
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
    w->quiet_ms = cfg->watch.debounce_ms;
    w->cap_ms = w->quiet_ms > DEBOUNCE_CAP_MS ? w->quiet_ms : DEBOUNCE_CAP_MS;
    uv_timer_init(loop, &w->debounce);
    w->debounce.data = w;
    uv_timer_init(loop, &w->tick);
    w->tick.data = w;
    w->open = 2;
    collect(w, cfg);

    if (!w->poll) {
        int err = start_events(w);
        if (err && cfg->watch.mode == WATCH_EVENTS) {
            log_warn("watch", "cannot watch for file events: %s", uv_strerror(err));
        } else if (err) {
            /* inotify refused (limits, or a file system without it): stat instead. */
            log_warn("watch", "file events unavailable (%s): polling every %llu ms instead",
                     uv_strerror(err), (unsigned long long)w->interval_ms);
            close_dirs(w);
            w->poll = true;
        }
    }
    if (w->poll) {
        for (size_t i = 0; i < w->ntargets; i++)
            w->targets[i].sig = 0;
        poll_now(w); /* the baseline */
        uv_timer_start(&w->tick, on_tick, w->interval_ms, w->interval_ms);
    }
    if (since) {
        /* A save after the steps read the files, before the watch: a change like any other. */
        w->since = *since;
        w->since_work.data = w;
        if (uv_queue_work(loop, &w->since_work, since_work, since_done) == 0) {
            w->since_queued = true;
            w->open++;
        }
    }
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
    close_dirs(w);
    /* A snapshot under way finishes on the pool (or is cancelled) and counts itself down. */
    if (w->working)
        uv_cancel((uv_req_t *)&w->work);
    if (w->since_queued)
        uv_cancel((uv_req_t *)&w->since_work);
    uv_close((uv_handle_t *)&w->debounce, on_timer_closed);
    uv_close((uv_handle_t *)&w->tick, on_timer_closed);
}
