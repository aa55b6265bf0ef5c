#!/usr/bin/env bats
# Start-up: a signal during a step stops the step's process and the pipeline, and devinit
# leaves with 128+N without starting the app. The long step is the deps step running a custom
# install command (`sleep 30`), so no database or npm is needed.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/supervisor

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    echo '{}' >package.json
    export DEVINIT_DEPS_COMMAND="sleep 30" DEVINIT_DEPS_MODE=always
}

teardown() {
    di_cleanup
    if [ -n "${STEP_PID:-}" ]; then
        kill -KILL "$STEP_PID" 2>/dev/null || true
    fi
}

# Prints the pid of the first descendant of $1 whose command name is $2 (waits up to 10 s).
descendant_named() {
    local root=$1 name=$2 i pid queue kids
    for i in $(seq 1 200); do
        queue=$root
        while [ -n "$queue" ]; do
            # shellcheck disable=SC2086 # a space-separated queue of pids
            set -- $queue
            pid=$1
            shift
            queue=$*
            if [ "$pid" != "$root" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
                echo "$pid"
                return 0
            fi
            kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
            queue="$queue $kids"
            queue=${queue# }
        done
        sleep 0.05
    done
    return 1
}

# stop_step_with MODE SIG: starts devinit, waits for the step's sleep, sends SIG, checks the
# exit code, the time, that the step's process is gone and that the app never ran.
stop_step_with() {
    local mode=$1 sig=$2
    rm -f started
    di_start "$mode" --only=deps -- touch started
    STEP_PID=$(descendant_named "$DI_PID" sleep) || {
        echo "the deps step never started its command"
        cat "$DI_ERR"
        return 1
    }
    di_kill "$sig"
    di_wait 10
    cat "$DI_ERR"
    [ "$DI_STATUS" -eq $((128 + $(kill -l "$sig"))) ]
    [ "$DI_MS" -lt 1000 ]
    [ ! -e started ]
    wait_for test ! -e "/proc/$STEP_PID"
    unset STEP_PID
}

@test "SIGTERM during a step stops it and exits 143 without starting the app" {
    stop_step_with plain TERM
}

@test "SIGTERM during a step stops it and exits 143 without starting the app, as PID 1" {
    stop_step_with pid1 TERM
}

@test "SIGINT during a step stops it and exits 130 without starting the app" {
    stop_step_with plain INT
}

@test "the app starts once the step is done" {
    DEVINIT_DEPS_COMMAND="true" run "$DEVINIT" --only=deps -- touch started
    echo "$output"
    [ "$status" -eq 0 ]
    [ -e started ]
}
