/* Unit tests of lib/steps/table.c: the step table is the one definition of each step, and
 * everything derived from it (names, lookup, masks, the descriptors' own fields) agrees. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "base/strbuf.h"
#include <errno.h>
#include "steps/step.h"

static void test_steps_table_is_complete_and_in_order(void **state)
{
    static const char *const order[STEP_COUNT] = {"deps", "generate", "wait", "migrate"};
    for (int i = 0; i < STEP_COUNT; i++) {
        const struct step_desc *d = step_desc(i);
        assert_non_null(d);
        assert_string_equal(d->name, order[i]);
        assert_string_equal(step_name(i), d->name);
        assert_non_null(d->summary);
        assert_non_null(d->check);
        assert_non_null(d->act);
        /* needs only earlier steps: the pipeline walks the table in order */
        assert_int_equal(d->needs & ~(STEP_BIT(i) - 1), 0);
    }
}

static void test_steps_lookup_matches_names(void **state)
{
    for (int i = 0; i < STEP_COUNT; i++)
        assert_int_equal(step_lookup(step_name(i), strlen(step_name(i))), i);
    assert_int_equal(step_lookup("gen", 3), -1);
    assert_int_equal(step_lookup("generates", 9), -1);
    assert_int_equal(step_lookup("all", 3), -1);
}

static void test_steps_select_from_only_and_skip(void **state)
{
    unsigned mask;
    char err[256];
    const char *only[] = {"migrate,deps"}, *skip[] = {"deps", "all"}, *bad[] = {"deps,wiat"},
               *empty[] = {""};
    assert_int_equal(steps_select(only, 1, NULL, 0, &mask, err, sizeof err), 0);
    assert_int_equal(mask, STEP_BIT(STEP_MIGRATE) | STEP_BIT(STEP_DEPS));
    assert_int_equal(steps_select(NULL, 0, skip, 1, &mask, err, sizeof err), 0);
    assert_int_equal(mask, STEP_ALL & ~STEP_BIT(STEP_DEPS));
    assert_int_equal(steps_select(only, 1, skip, 1, &mask, err, sizeof err), 0);
    assert_int_equal(mask, STEP_BIT(STEP_MIGRATE));
    assert_int_equal(steps_select(NULL, 0, skip, 2, &mask, err, sizeof err), 0);
    assert_int_equal(mask, 0);
    assert_int_equal(steps_select(bad, 1, NULL, 0, &mask, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "unknown step 'wiat': use deps, generate, wait, migrate or all"));
    assert_int_equal(steps_select(NULL, 0, empty, 1, &mask, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "empty step list"));
}

static void test_steps_masks_follow_the_flags(void **state)
{
    /* What live sync re-runs after each kind of change, as the descriptors say it. */
    assert_int_equal(steps_with(STEP_ON_LOCKFILE), STEP_BIT(STEP_DEPS) | STEP_BIT(STEP_GENERATE));
    assert_int_equal(steps_with(STEP_ON_SCHEMA), STEP_BIT(STEP_GENERATE));
    assert_int_equal(steps_with(STEP_ON_MIGRATIONS), STEP_BIT(STEP_WAIT) | STEP_BIT(STEP_MIGRATE));
    assert_int_equal(steps_with(STEP_USES_DATABASE), STEP_BIT(STEP_WAIT) | STEP_BIT(STEP_MIGRATE));
    assert_int_equal(steps_with(STEP_STATUS_PROBE), STEP_BIT(STEP_WAIT));
    for (int i = 0; i < STEP_COUNT; i++)
        for (unsigned f = 1; f <= STEP_STATUS_PROBE; f <<= 1)
            assert_int_equal(!!(steps_with(f) & STEP_BIT(i)), !!(step_desc(i)->flags & f));
    /* A step that uses the database needs the step that waits for it, or is it. */
    unsigned db = steps_with(STEP_USES_DATABASE), probe = steps_with(STEP_STATUS_PROBE);
    for (int i = 0; i < STEP_COUNT; i++)
        if (db & STEP_BIT(i) && !(probe & STEP_BIT(i)))
            assert_true(step_desc(i)->needs & probe);
}

static void test_steps_describe_names_a_mask(void **state)
{
    char buf[128];
    struct strbuf sb;
    strbuf_init(&sb, buf, sizeof buf);
    steps_describe(STEP_BIT(STEP_GENERATE), &sb);
    assert_string_equal(buf, "generate");
    strbuf_init(&sb, buf, sizeof buf);
    steps_describe(STEP_BIT(STEP_DEPS) | STEP_BIT(STEP_GENERATE), &sb);
    assert_string_equal(buf, "deps and generate");
    strbuf_init(&sb, buf, sizeof buf);
    steps_describe(STEP_ALL, &sb);
    assert_string_equal(buf, "deps, generate, wait and migrate");
}

#define T(name) cmocka_unit_test(name)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_steps_table_is_complete_and_in_order), T(test_steps_lookup_matches_names),
        T(test_steps_select_from_only_and_skip),      T(test_steps_masks_follow_the_flags),
        T(test_steps_describe_names_a_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
