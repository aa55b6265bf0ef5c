/* Where the Prisma CLI of a project finds its database URL, so that devinit connects to the
 * database `prisma migrate deploy` would, and says so when there is none:
 *
 *   - the variable: the one the Prisma config's datasource.url reads (env("X"),
 *     process.env.X), else the one the schema's datasource url reads (Prisma 5 and 6), else
 *     DATABASE_URL ([database] url_env, when the user set it, wins over both);
 *   - its value: the environment first; then the .env files that CLI loads:
 *       Prisma 5, 6.0-6.3, and 6.x without a config file: the .env next to the project's
 *         package.json, then the first of <schema's folder>/.env, prisma/.env and ./.env
 *         (the root one wins);
 *       a Prisma config file (6.4+, 7): none, unless the config loads dotenv itself
 *         (`import "dotenv/config"`, as Prisma 7.10's `prisma init` writes it): ./.env;
 *       Prisma 7 without a config file: none;
 *   - a URL written in the config as a literal (or a literal fallback), last.
 * Reads the file system (the project, the .env files), never runs JavaScript. */
#ifndef DEVINIT_PRISMA_URL_H
#define DEVINIT_PRISMA_URL_H

#include <limits.h>
#include <stdbool.h>

#include "prisma/project.h"

struct prisma_url {
    char *url;     /* malloc'd (a secret: never printed); NULL when none was found */
    char var[128]; /* the variable Prisma reads */
    char from[PATH_MAX +
              64];     /* where url came from: "the environment", ".env", "prisma/.env", ... */
    char looked[1024]; /* every place looked at, in order, for the message when none */
    /* The project needs a URL: its schema has a datasource block, its config a datasource,
     * or its migrations folder holds a migration. devinit then fails its check when there is
     * none, rather than report ready for a database it never looked at. */
    bool needed;
    char needed_by[PATH_MAX + 64]; /* what needs it, for that message */
};

/* Fills u (caller zeroes it; prisma_url_free releases it). p (not NULL): the project
 * prisma_project_find() filled with the settings s, found or not. var_explicit: the variable
 * the user named ([database] url_env set), or NULL. 0 (u->url may still be NULL: none found),
 * -ELOOP when a .env is a link devinit refuses to follow (u->from names it), or -ENOMEM. A .env
 * that exists but cannot be read is a warning in u->looked, not a failure. */
int prisma_url_find(const struct prisma_project *p, const struct prisma_settings *s,
                    const char *var_explicit, struct prisma_url *u);

void prisma_url_free(struct prisma_url *u);

#endif
