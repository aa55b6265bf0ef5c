/* The one clock of devinit's deadlines, grace periods and elapsed times: monotonic (a change of
 * the wall clock moves none of them), in milliseconds. */
#ifndef DEVINIT_CLOCK_H
#define DEVINIT_CLOCK_H

#include <stdint.h>

uint64_t clock_ms(void);

#endif
