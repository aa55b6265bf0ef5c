/* Where Prisma finds the database URL: see url.h. */
#include "prisma/url.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "base/path.h"
#include "config/envfile.h"

/* Appends one place to u->looked, quoted when it is a file. */
static void looked(struct prisma_url *u, bool file, const char *what)
{
    size_t o = strlen(u->looked);
    snprintf(u->looked + o, sizeof u->looked - o, "%s%s%s%s", o ? ", " : "", file ? "'" : "", what,
             file ? "'" : "");
}

/* Whether the migrations folder holds a migration (a folder with a migration.sql). */
static bool has_migrations(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool any = false;
    struct dirent *e;
    while (!any && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sql[PATH_MAX];
        struct stat st;
        int n = snprintf(sql, sizeof sql, "%s/%s/migration.sql", dir, e->d_name);
        any = n > 0 && (size_t)n < sizeof sql && stat(sql, &st) == 0 && S_ISREG(st.st_mode);
    }
    closedir(d);
    return any;
}

/* The value of u->var in dir/.env into u->url. 0 when found; the place is listed either way.
 * shown names the file in messages. */
static int from_envfile(struct prisma_url *u, const char *dir, const char *shown)
{
    looked(u, true, shown);
    int rc = envfile_lookup(dir, u->var, &u->url, NULL);
    if (rc == 0 || rc == -ELOOP) {
        /* -ELOOP: a link root refuses to follow for the app's user (base/file.h): an error
         * for the caller, never "absent". */
        snprintf(u->from, sizeof u->from, "'%s'", shown);
        if (rc < 0)
            u->url = NULL;
        return rc;
    }
    if (rc != -ENOENT && rc != -ENOMEM) {
        /* Prisma would stop on it; devinit says so and goes on as if it were absent. */
        log_warn("prisma", "cannot read '%s': %s", shown, file_strerror(rc));
        size_t o = strlen(u->looked);
        snprintf(u->looked + o, sizeof u->looked - o, " (unreadable: %s)", file_strerror(rc));
    }
    u->url = NULL;
    return rc == -ENOMEM ? rc : -ENOENT;
}

/* The folder of the nearest package.json from dir upwards: Prisma 5 and 6 call it the
 * project root and read its .env first. "" when there is none. */
static void package_root(const char *dir, char *out, size_t outlen)
{
    char cur[PATH_MAX];
    out[0] = '\0';
    if (!realpath(*dir ? dir : ".", cur))
        return;
    do {
        char pj[PATH_MAX];
        struct stat st;
        if (path_join(cur, "package.json", pj, sizeof pj) == 0 && stat(pj, &st) == 0 &&
            S_ISREG(st.st_mode)) {
            snprintf(out, outlen, "%s", cur);
            return;
        }
    } while (path_up(cur));
}

/* The .env files Prisma 5 and 6 load without a config file, in order; the first holding the
 * variable wins (the root one wins over the schema's: Prisma loads both and keeps the root's). */
static int legacy_envfiles(struct prisma_url *u, const struct prisma_project *p)
{
    const char *app = *p->app_dir ? p->app_dir : ".";
    char root[PATH_MAX], dirs[4][PATH_MAX], app_real[PATH_MAX];
    size_t n = 0;
    package_root(app, root, sizeof root);
    if (root[0])
        snprintf(dirs[n++], PATH_MAX, "%s", root);
    /* Then the first .env that exists of these three: only that one is loaded. */
    const char *rel[3] = {NULL, "prisma", "."};
    char sdir[PATH_MAX] = "";
    /* A schema not found stays unknown, unless a config file named it. */
    if (p->schema[0] && (p->found || p->config[0])) {
        if (p->schema_is_dir)
            snprintf(sdir, sizeof sdir, "%s", p->schema);
        else
            path_dirname(p->schema, sdir, sizeof sdir);
    }
    for (int i = 0; i < 3; i++) {
        char d[PATH_MAX], f[PATH_MAX];
        struct stat st;
        if (i == 0 && !sdir[0])
            continue;
        if (i == 0)
            snprintf(d, sizeof d, "%s", sdir);
        else if (path_join(app, rel[i], d, sizeof d) < 0)
            continue;
        if (path_join(d, ".env", f, sizeof f) == 0 && lstat(f, &st) == 0) {
            snprintf(dirs[n++], PATH_MAX, "%s", d);
            break;
        }
    }
    if (!realpath(app, app_real))
        snprintf(app_real, sizeof app_real, "%s", app);
    char seen[PATH_MAX] = "";
    for (size_t i = 0; i < n; i++) {
        char real[PATH_MAX], shown[PATH_MAX + 8];
        if (!realpath(dirs[i], real))
            snprintf(real, sizeof real, "%.*s", PATH_MAX - 1, dirs[i]);
        if (!strcmp(real, seen))
            continue;
        snprintf(seen, sizeof seen, "%s", real);
        size_t al = strlen(app_real);
        if (!strcmp(real, app_real))
            snprintf(shown, sizeof shown, ".env");
        else if (!strncmp(real, app_real, al) && real[al] == '/')
            snprintf(shown, sizeof shown, "%s/.env", real + al + 1);
        else
            snprintf(shown, sizeof shown, "%s/.env", real);
        int rc = from_envfile(u, dirs[i], shown);
        if (rc != -ENOENT)
            return rc;
    }
    if (!n)
        looked(u, false, "no .env (none next to package.json, the schema, prisma/ or .)");
    return -ENOENT;
}

int prisma_url_find(const struct prisma_project *p, const struct prisma_settings *s,
                    const char *var_explicit, struct prisma_url *u)
{
    /* Which variable, and whether the project needs a URL at all. */
    const char *schema_var = p->found ? p->datasource_var : "";
    if (p->found && p->datasource_file[0]) {
        u->needed = true;
        snprintf(u->needed_by, sizeof u->needed_by, "the datasource in '%s'", p->datasource_file);
    }
    const struct prisma_config_url *cu = &p->values.url;
    if (p->config[0] && cu->rc != -ENOENT && !u->needed) {
        u->needed = true;
        snprintf(u->needed_by, sizeof u->needed_by, "the datasource in '%s'", p->config);
    }
    char mig[PATH_MAX], warn[512];
    prisma_project_migrations(p, s, mig, sizeof mig, warn, sizeof warn);
    if (!u->needed && has_migrations(mig)) {
        u->needed = true;
        snprintf(u->needed_by, sizeof u->needed_by, "the migrations in '%s'", mig);
    }

    if (var_explicit && *var_explicit)
        snprintf(u->var, sizeof u->var, "%s", var_explicit);
    else if (p->config[0] && cu->rc == 0 && cu->var[0])
        snprintf(u->var, sizeof u->var, "%s", cu->var);
    else if (schema_var[0] && p->search != PRISMA_CONFIG_PRISMA7)
        snprintf(u->var, sizeof u->var, "%s", schema_var);
    else
        snprintf(u->var, sizeof u->var, "DATABASE_URL");

    int rc = -ENOENT;
    looked(u, false, "the environment");
    const char *env = getenv(u->var);
    if (env && *env) {
        u->url = strdup(env);
        snprintf(u->from, sizeof u->from, "the environment");
        rc = u->url ? 0 : -ENOMEM;
    } else if (p->config[0] && p->search != PRISMA_CONFIG_NONE) {
        /* A config file: Prisma loads no .env; the config may load one itself. */
        if (p->values.dotenv) {
            rc = from_envfile(u, p->app_dir, ".env");
            if (rc == 0)
                snprintf(u->from, sizeof u->from, "'.env' (the config loads dotenv)");
            if (rc == -ELOOP)
                snprintf(u->from, sizeof u->from, "'.env'");
        } else {
            looked(u, false, "no .env (a Prisma config file turns Prisma's .env loading off)");
        }
    } else if (p->prisma_version[0] && atoi(p->prisma_version) >= 7) {
        looked(u, false, "no .env (Prisma 7 loads none)");
    } else {
        rc = legacy_envfiles(u, p);
    }
    if (rc == -ENOENT && p->config[0] && cu->rc == 0 && cu->literal[0]) {
        u->url = strdup(cu->literal);
        snprintf(u->from, sizeof u->from, "'%s'", p->config);
        rc = u->url ? 0 : -ENOMEM;
    }
    return rc == -ENOMEM || rc == -ELOOP ? rc : 0;
}

void prisma_url_free(struct prisma_url *u)
{
    free(u->url);
    u->url = NULL;
}
