/* The init's state machine: run the pipeline, then the app, then drain what is left, and
 * say which code devinit exits with. Events (a signal, the pipeline's end, the app's exit,
 * the end of the drain) move it through the phases; each phase handles each event in one
 * place (init.c's on_signal and the phase callbacks). */
#ifndef DEVINIT_INIT_H
#define DEVINIT_INIT_H

#include <stdbool.h>
#include <uv.h>

#include "config/config.h"

/* RUN: the pipeline, then the app. CHECK: the dry run. SYNC: `devinit sync` with no running
 * instance: deps and generate here, no app. */
enum init_mode { INIT_RUN, INIT_CHECK, INIT_SYNC };

struct init_opts {
    enum init_mode mode;
    char **argv; /* the app's command (INIT_RUN) */
    bool json;   /* INIT_CHECK: print JSON */
};

/* Sets up the supervisor and its signal watch. Call before anything else. 0 or -errno. */
int init_prepare(uv_loop_t *loop);

/* Runs to the end and returns devinit's exit code. When a signal stopped the start-up it does
 * not return: it leaves with _exit(128+N) (libuv would hang in exit() on a pending DNS
 * lookup). */
int init_run(uv_loop_t *loop, const struct config *cfg, const struct init_opts *opts);

#endif
