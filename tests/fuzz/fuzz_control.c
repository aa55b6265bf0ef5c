/* Control-socket requests: what a client may send, byte for byte. */
#include <stdint.h>
#include <string.h>

#include "init/control.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char cmd[CONTROL_LINE_MAX];
    /* Fed as it may arrive: in two pieces, as the server sees a growing buffer. */
    size_t half = size / 2;
    control_parse_request((const char *)data, half, cmd, sizeof cmd);
    int rc = control_parse_request((const char *)data, size, cmd, sizeof cmd);
    if (rc == 1 && strlen(cmd) >= CONTROL_LINE_MAX)
        __builtin_trap();
    return 0;
}
