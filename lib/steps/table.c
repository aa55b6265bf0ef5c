/* The step table: see table.h. */
#include "steps/table.h"

#include <string.h>

#include "base/strbuf.h"
#include "steps/step.h"

/* The steps in the order they run: each is defined in its own file. */
static const struct step_desc *const step_table[STEP_COUNT] = {
    [STEP_DEPS] = &step_deps,
    [STEP_GENERATE] = &step_generate,
    [STEP_WAIT] = &step_wait,
    [STEP_MIGRATE] = &step_migrate,
};

const struct step_desc *step_desc(enum step_id id)
{
    return step_table[id];
}

const char *step_name(enum step_id id)
{
    return step_table[id]->name;
}

const char *step_summary(enum step_id id)
{
    return step_table[id]->summary;
}

int step_lookup(const char *name, size_t len)
{
    for (int i = 0; i < STEP_COUNT; i++)
        if (strlen(step_table[i]->name) == len && strncmp(step_table[i]->name, name, len) == 0)
            return i;
    return -1;
}

unsigned steps_with(unsigned flags)
{
    unsigned mask = 0;
    for (int i = 0; i < STEP_COUNT; i++)
        if (step_table[i]->flags & flags)
            mask |= STEP_BIT(i);
    return mask;
}

/* "deps, generate, wait, migrate": every step's name, for messages. */
static void names(struct strbuf *sb)
{
    for (int i = 0; i < STEP_COUNT; i++)
        strbuf_addf(sb, "%s%s", i ? ", " : "", step_table[i]->name);
}

/* The STEP_BIT()s of one "deps,generate" or "all" list. */
static int parse_list(const char *list, unsigned *bits, char *err, size_t errlen)
{
    struct strbuf sb;
    char all[128];
    strbuf_init(&sb, all, sizeof all);
    names(&sb);
    if (!*list) {
        snprintf(err, errlen, "empty step list: name steps among %s, or all", all);
        return -EINVAL;
    }
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        int id = step_lookup(p, len);
        if (len == 3 && strncmp(p, "all", 3) == 0) {
            *bits |= STEP_ALL;
        } else if (id >= 0) {
            *bits |= STEP_BIT(id);
        } else {
            snprintf(err, errlen, "unknown step '%.*s': use %s or all", (int)len, p, all);
            return -EINVAL;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

int steps_select(const char *const *only, size_t nonly, const char *const *skip, size_t nskip,
                 unsigned *mask, char *err, size_t errlen)
{
    unsigned in = nonly ? 0 : STEP_ALL, out = 0;
    for (size_t i = 0; i < nonly; i++)
        if (parse_list(only[i], &in, err, errlen) < 0)
            return -EINVAL;
    for (size_t i = 0; i < nskip; i++)
        if (parse_list(skip[i], &out, err, errlen) < 0)
            return -EINVAL;
    *mask = in & ~out;
    return 0;
}

void steps_help(struct strbuf *sb)
{
    for (int i = 0; i < STEP_COUNT; i++)
        strbuf_addf(sb, "  %-23s %s\n", step_table[i]->name, step_table[i]->summary);
}

void steps_describe(unsigned mask, struct strbuf *sb)
{
    int left = __builtin_popcount(mask & STEP_ALL);
    bool first = true;
    for (int i = 0; i < STEP_COUNT; i++) {
        if (!(mask & STEP_BIT(i)))
            continue;
        left--;
        strbuf_addf(sb, "%s%s", first ? "" : left ? ", " : " and ", step_table[i]->name);
        first = false;
    }
}
