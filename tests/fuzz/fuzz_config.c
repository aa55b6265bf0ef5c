/* The INI configuration, through the same code path as a file (config_load_stream). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "base/log.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet++)
        log_setup(LOG_ERROR, LOG_COLOR_NEVER);
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    struct config c;
    char err[512];
    config_init(&c);
    err[0] = '\0';
    int rc = config_load_stream(&c, f, "fuzz.ini", err, sizeof err);
    fclose(f);
    /* Every refusal is one line that names the file and line. */
    if (rc != 0 && (rc != -EINVAL || strncmp(err, "fuzz.ini:", 9) || strchr(err, '\n'))) {
        fprintf(stderr, "bad refusal %d: '%s'\n", rc, err);
        abort();
    }
    config_free(&c);
    return 0;
}
