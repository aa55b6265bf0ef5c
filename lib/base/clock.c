#include "base/clock.h"

#include <uv.h>

uint64_t clock_ms(void)
{
    /* libuv's own monotonic clock (CLOCK_MONOTONIC), the one its timers run on. */
    return uv_hrtime() / 1000000u;
}
