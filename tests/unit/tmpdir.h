/* A temporary directory per test, for unit tests of modules that read files. Include it in
 * one test file only (its functions are static). */
#ifndef DEVINIT_TEST_TMPDIR_H
#define DEVINIT_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir[128];

static int tmpdir_setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/devinit-unit.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmpdir_teardown(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to rel inside the directory, creating its folders. */
static void tmpdir_put(const char *rel, const char *text)
{
    char path[512], cmd[600];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#endif
