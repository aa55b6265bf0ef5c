/* The deps step: installs node_modules with the project's package manager when what is
 * installed no longer matches the lockfile, package.json, node or the platform.
 *
 * The stamp (node_modules/.devinit-deps.stamp) lives inside node_modules on purpose: a fresh
 * volume has none, and every clean install (npm ci) deletes it with the rest, so an install
 * interrupted halfway can never leave a stamp that matches. For managers that update
 * node_modules in place the stamp is removed before the install starts, for the same reason. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/exitcodes.h"
#include "base/file.h"
#include "base/hash.h"
#include "base/json.h"
#include "base/log.h"
#include "base/path.h"
#include "base/stamp.h"
#include "proc/supervisor.h"
#include "proc/user.h"
#include "steps/step.h"

#define NAME       "deps"
#define STAMP_NAME ".devinit-deps.stamp"
#define MAX_ARGS   32
/* Beyond these a file is not what it claims to be (the largest lockfiles seen are tens of MB). */
#define PACKAGE_JSON_MAX (16u << 20)
#define LOCKFILE_MAX     (256u << 20)

struct deps {
    char dir[PATH_MAX]; /* the app directory as configured ("" = cwd) */
    char stamp_path[PATH_MAX];
    char node_modules[PATH_MAX];
    const char *manager;  /* "npm", "yarn", "pnpm", "bun", or "custom" */
    const char *lockfile; /* file name, NULL when there is none */
    char command[1024];   /* for messages and the stamp */
    char argv_buf[1024];
    char *argv[MAX_ARGS + 1];
    struct stamp want;
    uint64_t act_started_ms;
};

static void path_in(const struct deps *d, const char *name, char *out, size_t len)
{
    if (path_join(d->dir, name, out, len) < 0)
        snprintf(out, len, "%s", name);
}

static bool exists(const struct deps *d, const char *name)
{
    char p[PATH_MAX];
    path_in(d, name, p, sizeof p);
    return access(p, F_OK) == 0;
}

/* The lockfiles each manager writes, in the order a project with several is resolved. */
static const struct {
    const char *file, *manager;
} lockfiles[] = {
    {"package-lock.json", "npm"}, {"npm-shrinkwrap.json", "npm"},
    {"pnpm-lock.yaml", "pnpm"},   {"yarn.lock", "yarn"},
    {"bun.lock", "bun"},          {"bun.lockb", "bun"},
};

/* package.json's "packageManager" ("pnpm@9.1.0"): copies the name, and the major version. */
static void package_manager_field(const char *pkg, size_t len, char *name, size_t nlen, int *major)
{
    static const char *const path[] = {"packageManager", NULL};
    char v[128];
    name[0] = '\0';
    *major = 0;
    if (!pkg || json_get_string(pkg, len, path, v, sizeof v) < 0)
        return;
    char *at = strchr(v, '@');
    if (at) {
        *major = atoi(at + 1);
        *at = '\0';
    }
    snprintf(name, nlen, "%.63s", v);
}

/* Splits a command on blanks into d->argv (no shell, no quoting: [deps] command is a plain
 * word list). */
static int split_command(struct deps *d, const char *cmd)
{
    snprintf(d->argv_buf, sizeof d->argv_buf, "%s", cmd);
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(d->argv_buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (n >= MAX_ARGS)
            return -E2BIG;
        d->argv[n++] = w;
    }
    d->argv[n] = NULL;
    if (n == 0)
        return -EINVAL;
    /* The canonical text, for messages and the stamp. */
    size_t off = 0;
    d->command[0] = '\0';
    for (int i = 0; i < n && off < sizeof d->command; i++)
        off += (size_t)snprintf(d->command + off, sizeof d->command - off, "%s%s", i ? " " : "",
                                d->argv[i]);
    return 0;
}

/* Chooses the install command from the lockfile (or [deps] command). */
static int choose_command(struct deps *d, const struct config *cfg, const char *pkg, size_t pkglen)
{
    char pm[64];
    int pm_major;
    package_manager_field(pkg, pkglen, pm, sizeof pm, &pm_major);

    d->lockfile = NULL;
    d->manager = NULL;
    int found = 0;
    for (size_t i = 0; i < sizeof lockfiles / sizeof lockfiles[0]; i++) {
        if (!exists(d, lockfiles[i].file))
            continue;
        found++;
        /* Several lockfiles: the one of the declared packageManager wins, else the first. */
        if (!d->lockfile ||
            (strcmp(pm, lockfiles[i].manager) == 0 && strcmp(pm, d->manager) != 0)) {
            d->lockfile = lockfiles[i].file;
            d->manager = lockfiles[i].manager;
        }
    }
    if (found > 1)
        log_warn(NAME, "several lockfiles in '%s': using '%s'; delete the others",
                 *d->dir ? d->dir : ".", d->lockfile);

    const char *cmd;
    if (!d->manager)
        cmd = "npm install";
    else if (strcmp(d->manager, "npm") == 0)
        cmd = "npm ci";
    else if (strcmp(d->manager, "pnpm") == 0)
        cmd = "pnpm install --frozen-lockfile";
    else if (strcmp(d->manager, "bun") == 0)
        cmd = "bun install --frozen-lockfile";
    else if (exists(d, ".yarnrc.yml") || (strcmp(pm, "yarn") == 0 && pm_major >= 2))
        cmd = "yarn install --immutable"; /* Yarn 2+ dropped --frozen-lockfile */
    else
        cmd = "yarn install --frozen-lockfile";
    if (!d->manager)
        d->manager = "npm";

    if (cfg->deps.command && *cfg->deps.command) {
        cmd = cfg->deps.command;
        d->manager = "custom";
    }
    return split_command(d, cmd);
}

/* Finds the `node` that the install and the app will run: the first executable in PATH. */
static bool find_node(char *out, size_t len)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    const char *p = path;
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        char cand[PATH_MAX];
        if (n == 0)
            snprintf(cand, sizeof cand, "node");
        else
            snprintf(cand, sizeof cand, "%.*s/node", (int)n, p);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
            snprintf(out, len, "%s", cand);
            return true;
        }
        p += n + (colon ? 1 : 0);
    }
    return false;
}

/* Identifies the node binary without running it. `node --version` costs ~40 ms, more than
 * the rest of devinit's start; the binary's resolved path, size and modification time change
 * whenever the installed node does (a package upgrade, another image, an nvm switch), which is
 * what invalidates native addons. A binary touched without a new version only costs one
 * needless install; a new version that kept path, size and mtime is not a real case. */
static void node_fingerprint(char *out, size_t len)
{
    char found[PATH_MAX], real[PATH_MAX];
    if (!find_node(found, sizeof found)) {
        snprintf(out, len, "none");
        return;
    }
    if (!realpath(found, real))
        snprintf(real, sizeof real, "%s", found);
    struct stat st;
    if (stat(real, &st) < 0) {
        snprintf(out, len, "%.900s unreadable", real);
        return;
    }
    snprintf(out, len, "%.900s %lld %lld.%09ld", real, (long long)st.st_size,
             (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* Native addons are built for an OS, a CPU and a C library. */
static void platform_name(char *out, size_t len)
{
    struct utsname u;
    if (uname(&u) < 0) {
        snprintf(out, len, "unknown");
        return;
    }
    char musl[sizeof u.machine + 32];
    snprintf(musl, sizeof musl, "/lib/ld-musl-%s.so.1", u.machine);
    snprintf(out, len, "%s-%s-%s", u.sysname, u.machine, access(musl, F_OK) == 0 ? "musl" : "gnu");
}

/* What node_modules must have been installed from. 0, or -errno with the reason in err. */
static int compute_stamp(struct deps *d, struct stamp *s, char *err, size_t errlen)
{
    char path[PATH_MAX], hex[HASH_HEX_LEN + 1], value[STAMP_VALUE_MAX];
    stamp_init(s);
    stamp_set(s, "stamp", "1");
    stamp_set(s, "command", d->command);
    if (d->lockfile) {
        path_in(d, d->lockfile, path, sizeof path);
        int rc = hash_file_hex(path, LOCKFILE_MAX, hex);
        if (rc < 0) {
            snprintf(err, errlen, "cannot read '%s': %s", path, file_strerror(rc));
            return rc;
        }
        snprintf(value, sizeof value, "%s %s", d->lockfile, hex);
    } else {
        snprintf(value, sizeof value, "none");
    }
    stamp_set(s, "lockfile", value);
    path_in(d, "package.json", path, sizeof path);
    int rc = hash_file_hex(path, PACKAGE_JSON_MAX, hex);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, file_strerror(rc));
        return rc;
    }
    stamp_set(s, "package.json", hex);
    node_fingerprint(value, sizeof value);
    stamp_set(s, "node", value);
    platform_name(value, sizeof value);
    stamp_set(s, "platform", value);
    return 0;
}

/* Says which input changed, in the words a person would use. */
static void describe_change(const struct deps *d, const char *key, const struct stamp *have,
                            char *out, size_t len)
{
    const char *old = stamp_get(have, key), *now = stamp_get(&d->want, key);
    if (strcmp(key, "lockfile") == 0) {
        if (d->lockfile && old && strncmp(old, d->lockfile, strlen(d->lockfile)) == 0)
            snprintf(out, len, "%s changed since the last install", d->lockfile);
        else
            snprintf(out, len, "the lockfile changed from '%.64s' to '%s' since the last install",
                     old ? old : "none", d->lockfile ? d->lockfile : "none");
    } else if (strcmp(key, "package.json") == 0) {
        snprintf(out, len, "package.json changed since the last install");
    } else if (strcmp(key, "node") == 0) {
        snprintf(out, len, "node changed since the last install (was '%.200s', now '%.200s')",
                 old ? old : "unknown", now ? now : "unknown");
    } else if (strcmp(key, "platform") == 0) {
        snprintf(out, len, "the platform changed since the last install (was '%.64s', now '%.64s')",
                 old ? old : "unknown", now ? now : "unknown");
    } else if (strcmp(key, "command") == 0) {
        snprintf(out, len, "the install command changed since the last install (was '%.200s')",
                 old ? old : "unknown");
    } else {
        snprintf(out, len, "the stamp '%.400s' is from another devinit", d->stamp_path);
    }
}

static void deps_check(struct step_run *r)
{
    const struct config *cfg = r->cfg;
    if (cfg->deps.mode == MODE_OFF) {
        step_checked(r, STEP_SKIPPED, 0, "[deps] mode = off");
        return;
    }
    free(r->priv); /* a check run again (live sync) starts afresh */
    r->priv = NULL;
    struct deps *d = calloc(1, sizeof *d);
    if (!d) {
        step_checked(r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    r->priv = d;
    snprintf(d->dir, sizeof d->dir, "%s", cfg->app.dir ? cfg->app.dir : "");
    path_in(d, "node_modules", d->node_modules, sizeof d->node_modules);
    path_in(d, "node_modules/" STAMP_NAME, d->stamp_path, sizeof d->stamp_path);

    char pkgpath[PATH_MAX];
    path_in(d, "package.json", pkgpath, sizeof pkgpath);
    char *pkg = NULL;
    size_t pkglen = 0;
    int rc = file_read(AT_FDCWD, pkgpath, 0, PACKAGE_JSON_MAX, &pkg, &pkglen);
    if (rc == -ENOENT) {
        step_checked(r, STEP_OK, 0, "no package.json in '%s': nothing to install",
                     *d->dir ? d->dir : ".");
        return;
    }
    if (rc < 0) {
        step_checked(r, STEP_ERROR, file_exit_code(rc), "cannot read '%s': %s", pkgpath,
                     file_strerror(rc));
        return;
    }
    rc = choose_command(d, cfg, pkg, pkglen);
    free(pkg);
    if (rc < 0) {
        step_checked(
            r, STEP_ERROR, EXIT_CONFIG,
            "[deps] command '%s' is not a usable command: give a program and its arguments",
            cfg->deps.command);
        return;
    }
    if (!d->lockfile)
        log_warn(NAME,
                 "no lockfile in '%s': '%s' may install other versions than last time; "
                 "commit a lockfile",
                 *d->dir ? d->dir : ".", d->command);
    char err[PATH_MAX + 256];
    if ((rc = compute_stamp(d, &d->want, err, sizeof err)) < 0) {
        step_checked(r, STEP_ERROR, file_exit_code(rc), "%s", err);
        return;
    }

    if (cfg->deps.mode == MODE_ALWAYS) {
        step_checked(r, STEP_WOULD_RUN, 0, "[deps] mode = always: installing with '%s'",
                     d->command);
        return;
    }
    struct stat st;
    if (stat(d->node_modules, &st) < 0 || !S_ISDIR(st.st_mode)) {
        step_checked(r, STEP_WOULD_RUN, 0, "no node_modules: installing with '%s'", d->command);
        return;
    }
    struct stamp have;
    rc = stamp_read(d->stamp_path, &have);
    if (rc < 0) {
        step_checked(r, STEP_WOULD_RUN, 0,
                     "node_modules has %s devinit stamp (installed by something else, or an "
                     "install was interrupted): installing with '%s'",
                     rc == -ENOENT ? "no" : "an unreadable", d->command);
        return;
    }
    const char *key = stamp_first_difference(&d->want, &have);
    if (key) {
        char why[512];
        describe_change(d, key, &have, why, sizeof why);
        step_checked(r, STEP_WOULD_RUN, 0, "%s: installing with '%s'", why, d->command);
        return;
    }
    step_checked(r, STEP_OK, 0, "node_modules is current with %s",
                 d->lockfile ? d->lockfile : "package.json");
}

static void write_stamp(struct step_run *r, struct deps *d)
{
    /* Hash the inputs again: a lockfile edited while a frozen install ran must not be stamped
     * as installed. `npm install` without a lockfile writes one, after which the next check
     * chooses `npm ci`: stamp what that check will compare. */
    struct deps *next = malloc(sizeof *next);
    if (!next)
        return;
    memcpy(next, d, sizeof *next);
    if (!d->lockfile) {
        char pkgpath[PATH_MAX], *pkg = NULL;
        size_t pkglen = 0;
        path_in(d, "package.json", pkgpath, sizeof pkgpath);
        int rc = file_read(AT_FDCWD, pkgpath, 0, PACKAGE_JSON_MAX, &pkg, &pkglen);
        if (rc == 0)
            rc = choose_command(next, r->cfg, pkg, pkglen);
        free(pkg);
        if (rc < 0) {
            free(next);
            return;
        }
    }
    struct stamp *now = &next->want;
    char err[PATH_MAX + 256];
    if (compute_stamp(next, now, err, sizeof err) < 0) {
        log_warn(NAME, "%s; the install will run again at the next start", err);
        free(next);
        return;
    }
    const char *changed = d->lockfile ? stamp_first_difference(&d->want, now) : NULL;
    if (changed && strcmp(changed, "node") != 0) {
        log_warn(NAME, "%s changed while '%s' ran: it will be installed again at the next start",
                 strcmp(changed, "lockfile") == 0 ? d->lockfile : changed, d->command);
        free(next);
        return;
    }
    /* An install of a package without dependencies may create no node_modules. */
    if (mkdir(d->node_modules, 0755) == 0) {
        /* Made by root: the app's user's, or its next `npm ci` fails with EACCES. lchown: the
         * user may have swapped it for a link since. */
        const struct user_spec *u = supervisor_user();
        if (u->set && geteuid() == 0 && lchown(d->node_modules, u->uid, u->gid) < 0)
            log_warn(NAME, "cannot hand '%s' to user '%s': %s", d->node_modules, u->name,
                     strerror(errno));
    } else if (errno != EEXIST) {
        log_warn(NAME, "cannot create '%s': %s; the install will run again at the next start",
                 d->node_modules, strerror(errno));
        free(next);
        return;
    }
    step_write_stamp(r, d->stamp_path, d->stamp_path, now,
                     "devinit deps stamp: what node_modules was installed from; delete it to "
                     "force an install",
                     "the install will run again");
    free(next);
}

static void deps_done(struct step_run *r, int wstatus)
{
    struct deps *d = r->priv;
    if (r->child.exec_errno || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        step_fail_command(r, d->argv, wstatus);
        return;
    }
    write_stamp(r, d);
    uint64_t ms = clock_ms() - d->act_started_ms;
    step_acted(r, 0, "installed with '%s' in %llu.%01llu s", d->command,
               (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000 / 100));
}

static void deps_act(struct step_run *r)
{
    struct deps *d = r->priv;
    /* From here until a successful end there is no stamp: an interrupted install is redone. */
    int rc = stamp_remove(d->stamp_path);
    if (rc == -ELOOP) {
        step_acted(r, EXIT_CONFIG,
                   "'%s' is a symbolic link: devinit runs as root for [app] user '%s' and "
                   "follows no link that user could have planted; replace it with a directory",
                   d->node_modules, r->cfg->app.user);
        return;
    }
    if (rc < 0) {
        step_acted(r, EXIT_OSERR, "cannot remove stamp '%s': %s; check the permissions of '%s'",
                   d->stamp_path, strerror(-rc), d->node_modules);
        return;
    }
    d->act_started_ms = clock_ms();
    rc = step_exec(r, d->argv, NULL, *d->dir ? d->dir : NULL, deps_done);
    if (rc < 0)
        step_acted(r, EXIT_OSERR, "cannot start '%s': %s", d->command, strerror(-rc));
}

static void deps_json(struct step_run *r, struct jsonw *w)
{
    const struct deps *d = r->priv;
    if (!d)
        return;
    jsonw_key(w, "manager");
    jsonw_string(w, d->manager);
    jsonw_key(w, "command");
    jsonw_string(w, d->command[0] ? d->command : NULL);
    jsonw_key(w, "lockfile");
    jsonw_string(w, d->lockfile);
    jsonw_key(w, "stamp");
    jsonw_string(w, d->stamp_path);
}

static void deps_cleanup(struct step_run *r)
{
    free(r->priv);
    r->priv = NULL;
}

const struct step_desc step_deps = {
    .name = NAME,
    .summary = "install the packages (npm ci, pnpm, yarn, bun)",
    .flags = STEP_ON_LOCKFILE,
    .needs = 0,
    .check = deps_check,
    .act = deps_act,
    .cancel = NULL,
    .json = deps_json,
    .cleanup = deps_cleanup,
};
