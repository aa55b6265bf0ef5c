/* The steps' identities, defined once: the table of step descriptors (steps/table.c) in the
 * order they run, and what derives from it: names, name lookup for --skip/--only, and the
 * masks of steps that share a trait (which steps a lockfile change re-runs, which talk to
 * the database...). Pure: this header needs nothing of the steps' machinery, so the command
 * line and the configuration can use it.
 *
 * Adding a step: a value here, a descriptor in its own file (steps/<name>.c), its line in the
 * table. tests/unit/test_steps.c proves the three agree. */
#ifndef DEVINIT_STEPS_TABLE_H
#define DEVINIT_STEPS_TABLE_H

#include <stddef.h>

struct strbuf;

/* The steps, in the order they run. */
enum step_id { STEP_DEPS = 0, STEP_GENERATE, STEP_WAIT, STEP_MIGRATE, STEP_COUNT };
#define STEP_BIT(id) (1u << (id))
#define STEP_ALL     ((1u << STEP_COUNT) - 1)

/* A step's traits, in its descriptor. */
enum step_flag {
    STEP_ON_LOCKFILE = 1u << 0,   /* live sync re-runs it when package.json or the lockfile
                                     changes, and `devinit sync` does */
    STEP_ON_SCHEMA = 1u << 1,     /* ... when the schema or the Prisma config changes */
    STEP_ON_MIGRATIONS = 1u << 2, /* ... when a migration folder appears ([watch] migrate) */
    STEP_USES_DATABASE = 1u << 3, /* it talks to the database */
    STEP_STATUS_PROBE = 1u << 4,  /* `devinit status` repeats its check: "database now" */
};

/* The step's name ("deps"), as in logs, JSON, --skip/--only and the INI sections. */
const char *step_name(enum step_id id);

/* What the step does, in a few words (--help). */
const char *step_summary(enum step_id id);

/* The id of the step called name (len bytes), or -1. */
int step_lookup(const char *name, size_t len);

/* STEP_BIT()s of the steps that have any of flags. */
unsigned steps_with(unsigned flags);

/* The steps of --only lists (every step when there is none) minus those of --skip lists: each
 * list is "name,name" or "all". 0, or -EINVAL with a message naming the unknown word. */
int steps_select(const char *const *only, size_t nonly, const char *const *skip, size_t nskip,
                 unsigned *mask, char *err, size_t errlen);

/* One line per step, "  name   what it does", for --help. */
void steps_help(struct strbuf *sb);

/* "deps", "deps and generate", "deps, generate and wait": the steps of mask, in order. */
void steps_describe(unsigned mask, struct strbuf *sb);

#endif
