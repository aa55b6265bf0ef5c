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
#include "prisma/project.h"
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
    char dir[PATH_MAX];    /* where to install: the app directory as configured ("" = cwd),
                              or the root of the workspace it belongs to */
    char member[PATH_MAX]; /* in a workspace, the app directory; else "" */
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
    if (d->member[0]) {
        /* A member's dependencies are installed from the root, but declared here. */
        if (path_join(d->member, "package.json", path, sizeof path) < 0 ||
            (rc = hash_file_hex(path, PACKAGE_JSON_MAX, hex)) < 0) {
            snprintf(err, errlen, "cannot read '%s': %s", path, file_strerror(rc));
            return rc < 0 ? rc : -ENAMETOOLONG;
        }
        snprintf(value, sizeof value, "%.900s %s", d->member, hex);
        stamp_set(s, "member", value);
    }
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
    } else if (strcmp(key, "member") == 0) {
        snprintf(out, len, "'%.400s/package.json' changed since the last install", d->member);
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

/* --- installs made by the package manager itself ------------------------------------------ */

/* Whether the stamp differs from want only in what a hand install changes (the lockfile, the
 * package.json files), not in node, the platform or the command. */
static bool same_install(const struct stamp *want, const struct stamp *have)
{
    static const char *const keys[] = {"stamp", "command", "node", "platform"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *a = stamp_get(want, keys[i]), *b = stamp_get(have, keys[i]);
        if (!a || !b || strcmp(a, b) != 0)
            return false;
    }
    /* A package.json alone changed (the root's or the member's): a frozen install must say
     * whether it still fits the lockfile; a hand install changes both. */
    const char *la = stamp_get(want, "lockfile"), *lb = stamp_get(have, "lockfile");
    return !(la && lb && strcmp(la, lb) == 0);
}

struct lock_entry {
    char *key;
    const char *val;
    size_t vlen;
};

struct lock_entries {
    struct lock_entry *v;
    size_t n, cap;
};

static int collect_entry(void *data, const char *key, const char *value, size_t vlen)
{
    struct lock_entries *e = data;
    if (!key || !*key)
        return 0; /* packages[""] is the project itself, absent from npm's record */
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        struct lock_entry *grown = realloc(e->v, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        e->v = grown;
        e->cap = cap;
    }
    e->v[e->n].key = strdup(key);
    if (!e->v[e->n].key)
        return -ENOMEM;
    e->v[e->n].val = value;
    e->v[e->n].vlen = vlen;
    e->n++;
    return 0;
}

static void entries_free(struct lock_entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].key);
    free(e->v);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct lock_entry *)a)->key, ((const struct lock_entry *)b)->key);
}

static void entries_sort(struct lock_entries *e)
{
    if (e->n)
        qsort(e->v, e->n, sizeof e->v[0], cmp_entry);
}

static int load_entries(const char *path, char **text, size_t *len, struct lock_entries *e)
{
    int rc = file_read(AT_FDCWD, path, 0, LOCKFILE_MAX, text, len);
    if (rc < 0)
        return rc;
    static const char *const packages[] = {"packages", NULL};
    rc = json_each(*text, *len, packages, collect_entry, e);
    if (rc < 0)
        return rc;
    entries_sort(e);
    return 0;
}

/* Whether a field of two package entries is the same: both absent, or the same string, or
 * both the same non-string (link: true). */
static bool field_same(const struct lock_entry *a, const struct lock_entry *b, const char *name)
{
    const char *const path[] = {name, NULL};
    char va[2048], vb[2048];
    int ra = json_get_string(a->val, a->vlen, path, va, sizeof va);
    int rb = json_get_string(b->val, b->vlen, path, vb, sizeof vb);
    return ra == rb && (ra < 0 || strcmp(va, vb) == 0);
}

static int flag_true(void *data, const char *key, const char *value, size_t vlen)
{
    const char *name = data;
    return key && strcmp(key, name) == 0 && vlen == 4 && memcmp(value, "true", 4) == 0;
}

/* A lockfile entry npm leaves out of node_modules when it does not fit: an optional package,
 * or one for another OS or CPU. */
static bool may_be_absent(const struct lock_entry *e)
{
    static const char *const os[] = {"os", NULL}, *const cpu[] = {"cpu", NULL};
    char tmp[8];
    return json_each(e->val, e->vlen, NULL, flag_true, (void *)"optional") == 1 ||
           json_get_string(e->val, e->vlen, os, tmp, sizeof tmp) != -ENOENT ||
           json_get_string(e->val, e->vlen, cpu, tmp, sizeof tmp) != -ENOENT;
}

/* Whether the dependency object `kind` of a package.json (pkg) lists the same names and
 * specs as the lockfile's entry for that package (lock, at path). */
static bool deps_same(const char *pkg, size_t plen, const char *lock, size_t llen,
                      const char *const *lock_path, const char *kind)
{
    const char *const pk[] = {kind, NULL};
    const char *lk[4];
    lk[0] = lock_path[0];
    lk[1] = lock_path[1];
    lk[2] = kind;
    lk[3] = NULL;
    struct lock_entries a = {0}, b = {0};
    int ra = json_each(pkg, plen, pk, collect_entry, &a);
    int rb = json_each(lock, llen, lk, collect_entry, &b);
    /* An empty object is the same as none. */
    bool same = (ra == 0 || ra == -ENOENT) && (rb == 0 || rb == -ENOENT) && a.n == b.n;
    entries_sort(&a);
    entries_sort(&b);
    for (size_t i = 0; same && i < a.n; i++)
        same = strcmp(a.v[i].key, b.v[i].key) == 0 && a.v[i].vlen == b.v[i].vlen &&
               memcmp(a.v[i].val, b.v[i].val, a.v[i].vlen) == 0;
    entries_free(&a);
    entries_free(&b);
    return same;
}

/* Whether a package.json declares what the lockfile recorded for it (packages[key]): npm ci
 * refuses a lockfile out of sync, and a package.json edited after the install is not in
 * node_modules. */
static bool npm_manifest_in_sync(const char *pkgpath, const char *lock, size_t llen,
                                 const char *key)
{
    char *pkg = NULL;
    size_t plen = 0;
    if (file_read(AT_FDCWD, pkgpath, 0, PACKAGE_JSON_MAX, &pkg, &plen) < 0)
        return false;
    const char *const path[] = {"packages", key};
    static const char *const kinds[] = {"dependencies", "devDependencies", "optionalDependencies",
                                        "peerDependencies"};
    bool same = true;
    for (size_t i = 0; same && i < sizeof kinds / sizeof kinds[0]; i++)
        same = deps_same(pkg, plen, lock, llen, path, kinds[i]);
    free(pkg);
    return same;
}

/* npm's record of what it installed, node_modules/.package-lock.json, is the lockfile without
 * the project's own entry and without what was not installed: every package in it must be
 * the lockfile's (version, resolved, integrity, link), and every lockfile package in it. */
static bool npm_record_matches(const struct deps *d)
{
    char lock[PATH_MAX], record[PATH_MAX];
    path_in(d, d->lockfile, lock, sizeof lock);
    path_in(d, "node_modules/.package-lock.json", record, sizeof record);
    char *lt = NULL, *rt = NULL;
    struct lock_entries le = {0}, re = {0};
    size_t ltlen = 0, rtlen = 0;
    bool same =
        load_entries(lock, &lt, &ltlen, &le) == 0 && load_entries(record, &rt, &rtlen, &re) == 0;
    char pkg[PATH_MAX];
    path_in(d, "package.json", pkg, sizeof pkg);
    same = same && npm_manifest_in_sync(pkg, lt, ltlen, "");
    if (same && d->member[0] && path_join(d->member, "package.json", pkg, sizeof pkg) == 0) {
        /* A workspace member's entry is under its path from the root. */
        char real[PATH_MAX], root[PATH_MAX];
        same = realpath(d->member, real) && realpath(*d->dir ? d->dir : ".", root) &&
               path_inside(root, real) != real &&
               npm_manifest_in_sync(pkg, lt, ltlen, path_inside(root, real));
    }
    static const char *const fields[] = {"version", "resolved", "integrity", "link"};
    size_t i = 0, j = 0;
    while (same && (i < le.n || j < re.n)) {
        int c = i == le.n ? 1 : j == re.n ? -1 : strcmp(le.v[i].key, re.v[j].key);
        if (c < 0) {
            same = may_be_absent(&le.v[i]);
            i++;
        } else if (c > 0) {
            same = false; /* installed, but not in the lockfile */
        } else {
            for (size_t f = 0; same && f < sizeof fields / sizeof fields[0]; f++)
                same = field_same(&le.v[i], &re.v[j], fields[f]);
            i++;
            j++;
        }
    }
    entries_free(&le);
    entries_free(&re);
    free(lt);
    free(rt);
    return same;
}

/* Whether path was modified after ms (milliseconds since the epoch), or cannot be read. */
static bool modified_after(const char *path, long long ms)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return true;
    return (long long)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 > ms;
}

/* pnpm copies the lockfile it installed from to node_modules/.pnpm/lock.yaml, and says in
 * node_modules/.modules.yaml (JSON) which kinds of dependencies it included. */
static bool pnpm_record_matches(const struct deps *d)
{
    char lock[PATH_MAX], record[PATH_MAX], modules[PATH_MAX];
    path_in(d, d->lockfile, lock, sizeof lock);
    path_in(d, "node_modules/.pnpm/lock.yaml", record, sizeof record);
    path_in(d, "node_modules/.modules.yaml", modules, sizeof modules);
    char *a = NULL, *b = NULL, *m = NULL;
    size_t alen = 0, blen = 0, mlen = 0;
    bool same = file_read(AT_FDCWD, lock, 0, LOCKFILE_MAX, &a, &alen) == 0 &&
                file_read(AT_FDCWD, record, 0, LOCKFILE_MAX, &b, &blen) == 0 && alen == blen &&
                memcmp(a, b, alen) == 0 &&
                file_read(AT_FDCWD, modules, 0, LOCKFILE_MAX, &m, &mlen) == 0;
    if (same) {
        /* devinit installs devDependencies too: a production install is not the same. */
        static const char *const included[] = {"included", NULL};
        same = json_each(m, mlen, included, flag_true, (void *)"devDependencies") == 1;
    }
    free(a);
    free(b);
    free(m);
    /* A package.json edited after the install, pnpm's own test (verifyDepsBeforeRun): newer
     * than the time its workspace state says it last validated the projects. */
    char state[PATH_MAX], *t = NULL;
    size_t tlen = 0;
    long long validated = 0;
    static const char *const ts[] = {"lastValidatedTimestamp", NULL};
    path_in(d, "node_modules/.pnpm-workspace-state-v1.json", state, sizeof state);
    if (same)
        same = file_read(AT_FDCWD, state, 0, PACKAGE_JSON_MAX, &t, &tlen) == 0 &&
               json_get_int(t, tlen, ts, &validated) == 0;
    free(t);
    char pkg[PATH_MAX];
    path_in(d, "package.json", pkg, sizeof pkg);
    same = same && !modified_after(pkg, validated);
    if (same && d->member[0] && path_join(d->member, "package.json", pkg, sizeof pkg) == 0)
        same = !modified_after(pkg, validated);
    return same;
}

/* A growing list of owned strings, sorted for comparison and lookup. */
struct strlist {
    char **v;
    size_t n, cap;
};

static int strlist_add(struct strlist *l, const char *a, size_t alen, const char *b)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **grown = realloc(l->v, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        l->v = grown;
        l->cap = cap;
    }
    size_t blen = b ? strlen(b) : 0;
    char *s = malloc(alen + blen + 2);
    if (!s)
        return -ENOMEM;
    memcpy(s, a, alen);
    s[alen] = '\0';
    if (b) {
        s[alen] = '\t';
        memcpy(s + alen + 1, b, blen + 1);
    }
    l->v[l->n++] = s;
    return 0;
}

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strlist_sort(struct strlist *l)
{
    if (l->n)
        qsort(l->v, l->n, sizeof l->v[0], cmp_str);
}

/* yarn.lock (v1) as "pattern<TAB>resolved" lines: each unindented header names one or more
 * patterns ("pg@^8.16.0", "@scope/x@1"), its two-space `resolved "..."` line the tarball. */
static int yarn_lock_entries(const char *text, size_t len, struct strlist *out)
{
    const char *p = text, *end = text + len, *header = NULL, *hend = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (p < le && *p != '#' && *p != ' ' && le[-1] == ':') {
            header = p;
            hend = le - 1;
        } else if (header && le - p > 12 && memcmp(p, "  resolved \"", 12) == 0) {
            const char *r = p + 12, *rq = memchr(r, '"', (size_t)(le - r));
            if (!rq)
                return -EINVAL;
            char resolved[2048];
            snprintf(resolved, sizeof resolved, "%.*s", (int)(rq - r), r);
            for (const char *h = header; h < hend;) {
                const char *comma = memchr(h, ',', (size_t)(hend - h));
                const char *pe = comma ? comma : hend;
                while (h < pe && (*h == ' ' || *h == '"'))
                    h++;
                const char *q = pe;
                while (q > h && (q[-1] == ' ' || q[-1] == '"'))
                    q--;
                int rc = strlist_add(out, h, (size_t)(q - h), resolved);
                if (rc < 0)
                    return rc;
                h = comma ? comma + 1 : hend;
            }
            header = NULL;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static int yarn_integrity_entry(void *data, const char *key, const char *value, size_t vlen)
{
    char *v = key && vlen && value[0] == '"' ? json_decode_string(value, vlen, NULL) : NULL;
    if (!v)
        return -EINVAL;
    int rc = strlist_add(data, key, strlen(key), v);
    free(v);
    return rc;
}

static int yarn_pattern(void *data, const char *key, const char *value, size_t vlen)
{
    (void)key;
    char *v = vlen && value[0] == '"' ? json_decode_string(value, vlen, NULL) : NULL;
    if (!v)
        return -EINVAL;
    int rc = strlist_add(data, v, strlen(v), NULL);
    free(v);
    return rc;
}

struct yarn_deps {
    const struct strlist *top;
    bool all_found;
};

static int yarn_dep_found(void *data, const char *key, const char *value, size_t vlen)
{
    struct yarn_deps *y = data;
    char *spec = key && vlen && value[0] == '"' ? json_decode_string(value, vlen, NULL) : NULL;
    char pattern[1024];
    if (spec)
        snprintf(pattern, sizeof pattern, "%s@%s", key, spec);
    free(spec);
    const char *want = pattern;
    if (!spec || !bsearch(&want, y->top->v, y->top->n, sizeof y->top->v[0], cmp_str)) {
        y->all_found = false;
        return 1;
    }
    return 0;
}

/* Whether every dependency a package.json declares is one yarn installed as top-level. */
static bool yarn_manifest_installed(const char *pkgpath, const struct strlist *top)
{
    char *pkg = NULL;
    size_t plen = 0;
    if (file_read(AT_FDCWD, pkgpath, 0, PACKAGE_JSON_MAX, &pkg, &plen) < 0)
        return false;
    static const char *const kinds[] = {"dependencies", "devDependencies", "optionalDependencies"};
    struct yarn_deps y = {top, true};
    for (size_t i = 0; y.all_found && i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *const path[] = {kinds[i], NULL};
        json_each(pkg, plen, path, yarn_dep_found, &y);
    }
    free(pkg);
    return y.all_found;
}

/* Yarn 1 records in node_modules/.yarn-integrity the lockfile entries it installed (pattern
 * to resolved) and the top-level patterns of the package.json files. */
static bool yarn1_record_matches(const struct deps *d)
{
    char lock[PATH_MAX], record[PATH_MAX], pkg[PATH_MAX];
    path_in(d, d->lockfile, lock, sizeof lock);
    path_in(d, "node_modules/.yarn-integrity", record, sizeof record);
    char *lt = NULL, *rt = NULL;
    size_t llen = 0, rlen = 0;
    struct strlist le = {0}, re = {0}, top = {0};
    static const char *const entries[] = {"lockfileEntries", NULL};
    static const char *const patterns[] = {"topLevelPatterns", NULL};
    bool same = file_read(AT_FDCWD, lock, 0, LOCKFILE_MAX, &lt, &llen) == 0 &&
                file_read(AT_FDCWD, record, 0, LOCKFILE_MAX, &rt, &rlen) == 0 &&
                yarn_lock_entries(lt, llen, &le) == 0 &&
                json_each(rt, rlen, entries, yarn_integrity_entry, &re) == 0 &&
                json_each(rt, rlen, patterns, yarn_pattern, &top) == 0 && le.n == re.n;
    strlist_sort(&le);
    strlist_sort(&re);
    strlist_sort(&top);
    for (size_t i = 0; same && i < le.n; i++)
        same = strcmp(le.v[i], re.v[i]) == 0;
    path_in(d, "package.json", pkg, sizeof pkg);
    same = same && yarn_manifest_installed(pkg, &top);
    if (same && d->member[0] && path_join(d->member, "package.json", pkg, sizeof pkg) == 0)
        same = yarn_manifest_installed(pkg, &top);
    strlist_free(&le);
    strlist_free(&re);
    strlist_free(&top);
    free(lt);
    free(rt);
    return same;
}

/* Whether node_modules is, by the package manager's own record, an install of the lockfile
 * as it is now. Yarn 2+ (.yarn/install-state.gz, compressed) and bun keep no record devinit
 * can read. */
static bool adoptable(const struct deps *d)
{
    if (!d->lockfile)
        return false;
    if (strcmp(d->manager, "npm") == 0)
        return npm_record_matches(d);
    if (strcmp(d->manager, "pnpm") == 0)
        return pnpm_record_matches(d);
    if (strcmp(d->manager, "yarn") == 0 &&
        strcmp(d->command, "yarn install --frozen-lockfile") == 0)
        return yarn1_record_matches(d);
    return false;
}

static void write_stamp(struct step_run *r, struct deps *d);

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
    if (prisma_install_root(cfg->app.dir, d->dir, sizeof d->dir))
        snprintf(d->member, sizeof d->member, "%s", cfg->app.dir);
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
    const char *key = rc == 0 ? stamp_first_difference(&d->want, &have) : NULL;
    if ((rc == -ENOENT || (key && same_install(&d->want, &have))) && adoptable(d)) {
        /* node_modules was installed by the manager itself (by hand, or in an image build)
         * from the lockfile as it is: a reinstall would only reproduce it. */
        if (!r->dry_run) {
            write_stamp(r, d);
            log_info(NAME, "adopted the install made by %s", d->manager);
        }
        step_checked(r, STEP_OK, 0, "node_modules is current with %s (installed by %s)",
                     d->lockfile, d->manager);
        return;
    }
    if (rc < 0) {
        step_checked(r, STEP_WOULD_RUN, 0,
                     "node_modules has %s devinit stamp (installed by something else, or an "
                     "install was interrupted): installing with '%s'",
                     rc == -ENOENT ? "no" : "an unreadable", d->command);
        return;
    }
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
    jsonw_key(w, "root"); /* where the install runs: the workspace root of a member */
    jsonw_string(w, *d->dir ? d->dir : ".");
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
