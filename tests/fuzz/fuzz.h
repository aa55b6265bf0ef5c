/* Shared by the libFuzzer targets: the entry point's prototype, and CHECK for the invariants a
 * target asserts beyond memory safety (a failed one aborts, which libFuzzer reports as a crash
 * and keeps the input). */
#ifndef DEVINIT_FUZZ_H
#define DEVINIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
