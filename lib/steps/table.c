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
