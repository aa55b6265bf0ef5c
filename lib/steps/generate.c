/* The generate step: runs `prisma generate` when the generated client no longer matches the
 * schema, the Prisma config or the installed Prisma, and only then (a generate costs 2-4 s).
 *
 * The client is stale when:
 *   - any generator's output is missing;
 *   - our stamp (node_modules/.devinit-generate.stamp) names other inputs than the current
 *     ones: the schema files (whitespace-insensitive), the config file, the versions of prisma
 *     and @prisma/client;
 *   - with no stamp, the client's embedded inlineSchema differs from the schema, or its
 *     clientVersion from the installed CLI's.
 * The stamp also records each client file's size and mtime: a client rewritten by someone else
 * (a `prisma generate` by hand on another schema) is then judged by its content again. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/exitcodes.h"
#include "base/file.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/path.h"
#include "base/stamp.h"
#include "prisma/client.h"
#include "prisma/project.h"
#include "steps/step.h"

#define NAME       "generate"
#define STAMP_NAME ".devinit-generate.stamp"
/* Beyond these a file is not what it claims to be. */
#define SCHEMA_MAX PRISMA_SCHEMA_MAX
#define CONFIG_MAX (1u << 20)
#define CLIENT_MAX (64u << 20)

struct gen {
    char app[PATH_MAX]; /* the app directory, absolute */
    char cwd[PATH_MAX]; /* where prisma runs: the schema's package, as in a workspace */
    struct prisma_project proj;
    bool have_project;
    char prisma_version[64], client_version[64];
    char prisma_bin[PATH_MAX];
    char stamp_path[PATH_MAX];
    struct stamp want;
    char *argv[8];
    uint64_t act_started_ms;
};

static const char *getenv_wrap(const char *name)
{
    return getenv(name);
}

/* A path for messages: relative to the app directory when inside it. */
static const char *rel(const struct gen *g, const char *path)
{
    return path_inside(g->app, path);
}

/* Reads every schema file into one buffer, in path order, as Prisma concatenates them into
 * the client's inlineSchema. Caller frees. */
static int read_schema_text(const struct gen *g, char **text, size_t *len)
{
    char *all = NULL;
    size_t total = 0;
    for (size_t i = 0; i < g->proj.nfiles; i++) {
        char *t;
        size_t n;
        int rc = file_read(AT_FDCWD, g->proj.files[i], 0, SCHEMA_MAX, &t, &n);
        if (rc < 0) {
            free(all);
            return rc;
        }
        char *grown = realloc(all, total + n + 2);
        if (!grown) {
            free(t);
            free(all);
            return -ENOMEM;
        }
        all = grown;
        memcpy(all + total, t, n);
        total += n;
        all[total++] = '\n';
        free(t);
    }
    if (!all)
        return -ENOENT;
    all[total] = '\0';
    *text = all;
    *len = total;
    return 0;
}

/* The schema's identity: each file's path (outputs are relative to it) and its
 * whitespace-insensitive form, so reformatting is not a change. */
static int schema_hash(const struct gen *g, char hex[HASH_HEX_LEN + 1])
{
    struct hash h;
    int rc = hash_begin(&h);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < g->proj.nfiles; i++) {
        char *t;
        size_t n;
        rc = file_read(AT_FDCWD, g->proj.files[i], 0, SCHEMA_MAX, &t, &n);
        if (rc < 0) {
            hash_abort(&h);
            return rc;
        }
        char *norm = malloc(n + 1);
        if (!norm) {
            free(t);
            hash_abort(&h);
            return -ENOMEM;
        }
        size_t nl = prisma_schema_normalize(t, n, norm);
        hash_update_str(&h, rel(g, g->proj.files[i]));
        hash_update(&h, norm, nl);
        hash_update(&h, "", 1);
        free(norm);
        free(t);
    }
    hash_final(&h, hex);
    return 0;
}

/* The inputs the client is generated from. 0 or -errno (err says which file). */
static int compute_inputs(struct gen *g, struct stamp *s, char *err, size_t errlen)
{
    char hex[HASH_HEX_LEN + 1], value[STAMP_VALUE_MAX];
    stamp_init(s);
    stamp_set(s, "stamp", "1");
    int rc = schema_hash(g, hex);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read the prisma schema '%.400s': %s", rel(g, g->proj.schema),
                 file_strerror(rc));
        return rc;
    }
    stamp_set(s, "schema", hex);
    if (g->proj.config[0]) {
        rc = hash_file_hex(g->proj.config, CONFIG_MAX, hex);
        if (rc < 0) {
            snprintf(err, errlen, "cannot read the prisma config '%.400s': %s",
                     rel(g, g->proj.config), file_strerror(rc));
            return rc;
        }
        snprintf(value, sizeof value, "%.900s %s", rel(g, g->proj.config), hex);
        stamp_set(s, "config", value);
    } else {
        stamp_set(s, "config", "none");
    }
    stamp_set(s, "prisma", g->prisma_version);
    stamp_set(s, "client", g->client_version);
    return 0;
}

/* A client file's identity on disk, to notice a client rewritten behind our back. */
static void file_fingerprint(const char *path, char *out, size_t len)
{
    struct stat st;
    if (stat(path, &st) < 0)
        snprintf(out, len, "absent");
    else
        snprintf(out, len, "%lld %lld.%09ld", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                 st.st_mtim.tv_nsec);
}

/* The stamp key and fingerprint of generator gn's client; false when it has no client file. */
static bool client_fingerprint(const struct prisma_generator *gn, char key[STAMP_KEY_MAX],
                               char fp[128])
{
    char file[PATH_MAX];
    if (prisma_client_file(gn, file, sizeof file) < 0)
        return false;
    snprintf(key, STAMP_KEY_MAX, "output.%.50s", gn->name);
    file_fingerprint(file, fp, 128);
    return true;
}

static void add_fingerprints(const struct gen *g, struct stamp *s)
{
    char key[STAMP_KEY_MAX], fp[128];
    for (size_t i = 0; i < g->proj.ngens; i++)
        if (client_fingerprint(&g->proj.gens[i], key, fp))
            stamp_set(s, key, fp);
}

/* Whether every client's fingerprint is the one the stamp recorded. */
static bool fingerprints_match(const struct gen *g, const struct stamp *have)
{
    char key[STAMP_KEY_MAX], fp[128];
    for (size_t i = 0; i < g->proj.ngens; i++) {
        if (!client_fingerprint(&g->proj.gens[i], key, fp))
            continue;
        const char *old = stamp_get(have, key);
        if (!old || strcmp(old, fp) != 0)
            return false;
    }
    return true;
}

/* The first input whose value differs between want and the stamp, ignoring the stamp's
 * output fingerprints (want holds inputs only). NULL when the inputs are the same. */
static const char *input_difference(const struct stamp *want, const struct stamp *have)
{
    for (unsigned i = 0; i < want->count; i++) {
        const char *v = stamp_get(have, want->fields[i].key);
        if (!v || strcmp(v, want->fields[i].value) != 0)
            return want->fields[i].key;
    }
    for (unsigned i = 0; i < have->count; i++)
        if (strncmp(have->fields[i].key, "output.", 7) != 0 &&
            !stamp_get(want, have->fields[i].key))
            return have->fields[i].key;
    return NULL;
}

/* Writes the stamp: the inputs and the fingerprints of the clients as they are now. */
static void write_stamp(struct step_run *r, const struct gen *g, const struct stamp *inputs)
{
    struct stamp *s = malloc(sizeof *s);
    if (!s)
        return;
    memcpy(s, inputs, sizeof *s);
    add_fingerprints(g, s);
    step_write_stamp(r, g->stamp_path, rel(g, g->stamp_path), s,
                     "devinit generate stamp: what the prisma client was generated from; "
                     "delete it to force a generate",
                     "the client will be generated again");
    free(s);
}

/* The words for the schema in messages: the file, or the folder. */
static const char *schema_name(const struct gen *g)
{
    return rel(g, g->proj.schema);
}

static void describe_change(const struct gen *g, const char *key, const struct stamp *have,
                            char *out, size_t len)
{
    const char *old = stamp_get(have, key);
    if (strcmp(key, "schema") == 0)
        snprintf(out, len, "%.400s changed since the last generate", schema_name(g));
    else if (strcmp(key, "config") == 0)
        snprintf(out, len, "the prisma config %s%.400s%s changed since the last generate",
                 g->proj.config[0] ? "'" : "", g->proj.config[0] ? rel(g, g->proj.config) : "",
                 g->proj.config[0] ? "'" : "");
    else if (strcmp(key, "prisma") == 0)
        snprintf(out, len, "prisma changed from %.60s to %s since the last generate",
                 old ? old : "unknown", g->prisma_version);
    else if (strcmp(key, "client") == 0)
        snprintf(out, len, "@prisma/client changed from %.60s to %s since the last generate",
                 old ? old : "unknown", g->client_version);
    else
        snprintf(out, len, "the stamp '%.400s' is from another devinit", rel(g, g->stamp_path));
}

/* Judges the existing clients by what they embed. true when every generator is provably
 * current; else why holds the first reason it is not. */
static bool judge_by_content(const struct gen *g, const char *prefix, char *why, size_t len)
{
    char *schema = NULL;
    size_t slen = 0;
    int rc = read_schema_text(g, &schema, &slen);
    if (rc < 0) {
        snprintf(why, len, "%scannot read the schema '%.400s': %s", prefix, schema_name(g),
                 file_strerror(rc));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < g->proj.ngens; i++) {
        const struct prisma_generator *gn = &g->proj.gens[i];
        char file[PATH_MAX];
        if (gn->kind == PRISMA_GEN_OTHER || !gn->resolved[0]) {
            snprintf(why, len, "%sgenerator '%s' (%s) cannot be checked by its output", prefix,
                     gn->name, gn->provider);
            ok = false;
            break;
        }
        if (prisma_client_file(gn, file, sizeof file) < 0) {
            snprintf(why, len, "%sthe client in '%s' is incomplete", prefix, rel(g, gn->resolved));
            ok = false;
            break;
        }
        char *text = NULL, *inline_schema = NULL, version[64];
        size_t tlen = 0;
        rc = file_read(AT_FDCWD, file, 0, CLIENT_MAX, &text, &tlen);
        /* @prisma/client's install puts a placeholder there that only throws "did not
         * initialize yet": a client never generated, not a broken one. */
        bool placeholder = rc == 0 && memmem(text, tlen, "did not initialize yet", 22) != NULL;
        if (rc == 0 && !placeholder)
            rc = prisma_client_extract(text, tlen, version, sizeof version, &inline_schema);
        free(text);
        if (placeholder) {
            snprintf(why, len,
                     "%sthe client in '%s' is not generated yet (only @prisma/client's "
                     "placeholder is there)",
                     prefix, rel(g, gn->resolved));
            ok = false;
        } else if (rc < 0) {
            snprintf(why, len,
                     "%s'%.400s' is not a client devinit can read (no embedded schema and "
                     "version): it is generated again",
                     prefix, rel(g, file));
            ok = false;
        } else if (strcmp(version, g->prisma_version) != 0) {
            snprintf(why, len,
                     "%sthe client in '%s' was generated by prisma %.60s, installed is %s", prefix,
                     rel(g, gn->resolved), version, g->prisma_version);
            ok = false;
        } else if (!prisma_schema_equivalent(schema, slen, inline_schema, strlen(inline_schema))) {
            snprintf(why, len, "%sthe client's schema differs from %.400s", prefix, schema_name(g));
            ok = false;
        }
        free(inline_schema);
    }
    free(schema);
    return ok;
}

/* Every generator's output directory (and, for a client, its main file) exists. */
static bool outputs_present(const struct gen *g, char *why, size_t len)
{
    for (size_t i = 0; i < g->proj.ngens; i++) {
        const struct prisma_generator *gn = &g->proj.gens[i];
        if (!gn->resolved[0])
            continue; /* an output we cannot know: the stamp and content checks decide */
        struct stat st;
        char file[PATH_MAX];
        if (stat(gn->resolved, &st) < 0 || !S_ISDIR(st.st_mode) ||
            (gn->kind != PRISMA_GEN_OTHER && prisma_client_file(gn, file, sizeof file) < 0)) {
            snprintf(why, len, "the output of generator '%s' ('%s') is missing", gn->name,
                     rel(g, gn->resolved));
            return false;
        }
    }
    return true;
}

static void generate_cleanup(struct step_run *r)
{
    struct gen *g = r->priv;
    if (g)
        prisma_project_free(&g->proj);
    free(g);
    r->priv = NULL;
}

static void generate_check(struct step_run *r)
{
    const struct config *cfg = r->cfg;
    if (cfg->generate.mode == MODE_OFF) {
        step_checked(r, STEP_SKIPPED, 0, "[generate] mode = off");
        return;
    }
    generate_cleanup(r); /* a check run again (live sync) starts afresh */
    struct gen *g = calloc(1, sizeof *g);
    if (!g) {
        step_checked(r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    r->priv = g;
    const char *dir = cfg->app.dir && *cfg->app.dir ? cfg->app.dir : ".";
    if (!realpath(dir, g->app)) {
        step_checked(r, STEP_ERROR, EXIT_CONFIG, "app directory '%s': %s", dir, strerror(errno));
        return;
    }

    char err[1024];
    struct prisma_settings ps = step_prisma_settings(cfg);
    ps.app_dir = g->app;
    int rc = prisma_project_find(&g->proj, &ps, getenv_wrap, err, sizeof err);
    if (rc == -ENOENT && !(cfg->prisma.schema && *cfg->prisma.schema)) {
        prisma_project_free(&g->proj);
        step_checked(r, STEP_OK, 0, "%s: nothing to generate", err);
        return;
    }
    if (rc < 0) {
        /* A schema too large, a link or not a file is the user's input to fix: 78. */
        step_checked(r, STEP_ERROR, rc == -ENOENT ? EXIT_CONFIG : file_exit_code(rc), "%s", err);
        return;
    }
    g->have_project = true;
    if (g->proj.ngens == 0) {
        step_checked(r, STEP_OK, 0, "%s declares no generator: nothing to generate",
                     schema_name(g));
        return;
    }

    /* Prisma and Node resolve prisma and @prisma/client from the schema's folder: in a
     * workspace the schema's package may have its own node_modules (pnpm) or none (hoisted). */
    char from[PATH_MAX], pkgdir[PATH_MAX];
    if (g->proj.schema_is_dir)
        snprintf(from, sizeof from, "%s", g->proj.schema);
    else
        path_dirname(g->proj.schema, from, sizeof from);
    prisma_package_root(from, g->app, g->cwd, sizeof g->cwd);
    rc = prisma_package_version(from, "prisma", g->prisma_version, sizeof g->prisma_version, pkgdir,
                                sizeof pkgdir);
    if (rc < 0) {
        /* In a dry run the deps step may be about to install it. */
        if (r->dry_run)
            step_checked(r, STEP_WOULD_RUN, 0, "the prisma CLI is not installed yet");
        else
            step_checked(r, STEP_ERROR, EXIT_SOFTWARE,
                         "the prisma CLI is not installed in '%s/node_modules': add 'prisma' to "
                         "devDependencies",
                         dir);
        return;
    }
    /* node_modules/prisma -> node_modules/.bin/prisma, as npm, yarn, pnpm and bun link it. */
    char nm[PATH_MAX];
    path_dirname(pkgdir, nm, sizeof nm);
    snprintf(g->prisma_bin, sizeof g->prisma_bin, "%.4000s/.bin/prisma", nm);
    if (prisma_package_version(from, "@prisma/client", g->client_version, sizeof g->client_version,
                               NULL, 0) < 0)
        snprintf(g->client_version, sizeof g->client_version, "none");
    /* The stamp lives in the node_modules prisma is in, which an install replaces along
     * with the client: the app's own, or in a hoisted workspace the root's. */
    snprintf(g->stamp_path, sizeof g->stamp_path, "%.4000s/%s", nm, STAMP_NAME);

    if (compute_inputs(g, &g->want, err, sizeof err) < 0) {
        step_checked(r, STEP_ERROR, EXIT_OSERR, "%s", err);
        return;
    }
    if (cfg->generate.mode == MODE_ALWAYS) {
        step_checked(r, STEP_WOULD_RUN, 0, "[generate] mode = always: generating the client");
        return;
    }
    char why[1024];
    if (!outputs_present(g, why, sizeof why)) {
        step_checked(r, STEP_WOULD_RUN, 0, "%s", why);
        return;
    }

    struct stamp *have = malloc(sizeof *have);
    if (!have) {
        step_checked(r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    rc = stamp_read(g->stamp_path, have);
    const char *prefix = "no stamp and ";
    if (rc == 0) {
        const char *key = input_difference(&g->want, have);
        if (key) {
            describe_change(g, key, have, why, sizeof why);
            free(have);
            step_checked(r, STEP_WOULD_RUN, 0, "%s", why);
            return;
        }
        if (fingerprints_match(g, have)) {
            free(have);
            step_checked(r, STEP_OK, 0, "the client is current with %s and prisma %s",
                         schema_name(g), g->prisma_version);
            return;
        }
        prefix = "the client changed since the last generate and ";
    }
    free(have);

    if (!judge_by_content(g, prefix, why, sizeof why)) {
        step_checked(r, STEP_WOULD_RUN, 0, "%s", why);
        return;
    }
    /* Proven current by its content: record that, so the next start takes the stamp's fast
     * path. Not in a dry run, which changes nothing. */
    if (!r->dry_run)
        write_stamp(r, g, &g->want);
    step_checked(r, STEP_OK, 0, "the client matches %s and prisma %s (judged by its content)",
                 schema_name(g), g->prisma_version);
}

static void generate_done(struct step_run *r, int wstatus)
{
    struct gen *g = r->priv;
    if (r->child.exec_errno || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        step_fail_command(r, g->argv, wstatus);
        return;
    }
    /* Prisma said it generated; if its output is not where devinit looks, every start would
     * generate again: say where devinit looked rather than "missing" once more. */
    char why[1024];
    if (!outputs_present(g, why, sizeof why))
        log_warn(NAME,
                 "prisma generate succeeded, but %s: devinit looks where Prisma writes by "
                 "default; set `output` in the generator block to make the place explicit",
                 why);
    /* Hash the inputs again: a schema saved while Prisma ran is not what it generated from. */
    struct stamp *now = malloc(sizeof *now);
    char err[1024];
    if (now && compute_inputs(g, now, err, sizeof err) == 0) {
        const char *changed = stamp_first_difference(&g->want, now);
        if (changed)
            log_warn(NAME,
                     "%s changed while prisma generate ran: generating again at the next "
                     "start",
                     strcmp(changed, "schema") == 0 ? schema_name(g) : changed);
        else
            write_stamp(r, g, now);
    }
    free(now);
    uint64_t ms = clock_ms() - g->act_started_ms;
    step_acted(r, 0, "generated the prisma client from %s in %llu.%01llu s", schema_name(g),
               (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000 / 100));
}

static void generate_act(struct step_run *r)
{
    struct gen *g = r->priv;
    if (!g->have_project || !g->prisma_bin[0]) {
        step_acted(r, EXIT_SOFTWARE,
                   "the prisma CLI is not installed: add 'prisma' to "
                   "devDependencies");
        return;
    }
    /* Until a generate succeeds there is no stamp: an interrupted one is redone. */
    int rc = stamp_remove(g->stamp_path);
    if (rc == -ELOOP) {
        step_acted(r, EXIT_CONFIG,
                   "the folder of stamp '%s' is a symbolic link: devinit runs as root for [app] "
                   "user '%s' and follows no link that user could have planted; replace it "
                   "with a directory",
                   rel(g, g->stamp_path), r->cfg->app.user);
        return;
    }
    if (rc < 0) {
        step_acted(r, EXIT_OSERR, "cannot remove stamp '%s': %s", rel(g, g->stamp_path),
                   strerror(-rc));
        return;
    }
    /* The CLI itself, not npx, which may go to the network. --schema makes Prisma generate
     * from exactly the files devinit hashed. PRISMA_SCHEMA_ENGINE_BINARY and the rest of the
     * environment pass through as they are: generate does not use the schema engine, but
     * only the environment knows whether one exists. */
    int n = 0;
    g->argv[n++] = g->prisma_bin;
    g->argv[n++] = "generate";
    g->argv[n++] = "--schema";
    g->argv[n++] = g->proj.schema;
    if (r->cfg->prisma.config && *r->cfg->prisma.config) {
        g->argv[n++] = "--config";
        g->argv[n++] = g->proj.config;
    }
    g->argv[n] = NULL;
    g->act_started_ms = clock_ms();
    rc = step_exec(r, g->argv, NULL, g->cwd[0] ? g->cwd : g->app, generate_done);
    if (rc < 0)
        step_acted(r, EXIT_OSERR, "cannot start '%s': %s", g->prisma_bin, strerror(-rc));
}

static void generate_json(struct step_run *r, struct jsonw *w)
{
    const struct gen *g = r->priv;
    if (!g || !g->have_project)
        return;
    jsonw_key(w, "schema");
    jsonw_string(w, rel(g, g->proj.schema));
    jsonw_key(w, "config");
    jsonw_string(w, g->proj.config[0] ? rel(g, g->proj.config) : NULL);
    jsonw_key(w, "prisma_version");
    jsonw_string(w, g->prisma_version[0] ? g->prisma_version : NULL);
    jsonw_key(w, "client_version");
    jsonw_string(w, g->client_version[0] ? g->client_version : NULL);
    jsonw_key(w, "generators");
    jsonw_array_begin(w);
    for (size_t i = 0; i < g->proj.ngens; i++) {
        const struct prisma_generator *gn = &g->proj.gens[i];
        jsonw_object_begin(w);
        jsonw_key(w, "name");
        jsonw_string(w, gn->name);
        jsonw_key(w, "provider");
        jsonw_string(w, gn->provider);
        jsonw_key(w, "output");
        jsonw_string(w, gn->resolved[0] ? rel(g, gn->resolved) : NULL);
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
}

const struct step_desc step_generate = {
    .name = NAME,
    .summary = "prisma generate, when the client is stale",
    .flags = STEP_ON_LOCKFILE | STEP_ON_SCHEMA,
    .needs = 0,
    .check = generate_check,
    .act = generate_act,
    .cancel = NULL,
    .json = generate_json,
    .cleanup = generate_cleanup,
};
