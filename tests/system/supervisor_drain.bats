#!/usr/bin/env bats
# After the app: what is left (the whole namespace as PID 1, devinit's descendants otherwise)
# gets SIGTERM and the stop timeout to finish before devinit exits. The grandchild of
# `app graceful-child` needs 0.5 s in its SIGTERM handler to write its file: tini, dumb-init
# and catatonit exit at once and the kernel kills it halfway.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/supervisor

setup() {
    export APP_READY=$BATS_TEST_TMPDIR/ready
    DONE=$BATS_TEST_TMPDIR/done
}

teardown() {
    di_cleanup
    # A grandchild that escaped a broken drain must not outlive the test.
    if [ -f "$DONE.pid" ]; then
        kill -KILL "$(cat "$DONE.pid")" 2>/dev/null || true
    fi
}

# The grandchild wrote its file, and devinit waited for it (not much longer).
assert_drained() {
    echo "devinit exited $DI_STATUS after $DI_MS ms; grandchild file: $(lines_of "$DONE")"
    [ "$(lines_of "$DONE")" = "done" ]
    [ "$DI_MS" -ge 450 ]
    [ "$DI_MS" -lt 2000 ]
}

@test "a grandchild finishes its SIGTERM handler when devinit is stopped, as PID 1" {
    di_start pid1 --skip=all -- "$APP" graceful-child "$DONE" term
    wait_file "$APP_READY"
    di_kill TERM
    di_wait 10
    [ "$DI_STATUS" -eq 143 ]
    assert_drained
}

@test "a grandchild finishes its SIGTERM handler when devinit is stopped, not PID 1" {
    di_start plain --skip=all -- "$APP" graceful-child "$DONE" term
    wait_file "$APP_READY"
    di_kill TERM
    di_wait 10
    [ "$DI_STATUS" -eq 143 ]
    assert_drained
}

@test "a grandchild gets SIGTERM and finishes its handler when the app exits on its own, as PID 1" {
    di_start pid1 --skip=all -- "$APP" graceful-child "$DONE" exit
    wait_file "$APP_READY"
    DI_T0=$(now_ms)
    di_wait 10
    [ "$DI_STATUS" -eq 0 ]
    assert_drained
}

@test "a grandchild gets SIGTERM and finishes its handler when the app exits on its own, not PID 1" {
    di_start plain --skip=all -- "$APP" graceful-child "$DONE" exit
    wait_file "$APP_READY"
    DI_T0=$(now_ms)
    di_wait 10
    [ "$DI_STATUS" -eq 0 ]
    assert_drained
}

@test "a detached grandchild in its own session is drained too, as PID 1 and not" {
    di_start pid1 --skip=all -- "$APP" graceful-child "$DONE" exit setsid
    wait_file "$APP_READY"
    DI_T0=$(now_ms)
    di_wait 10
    [ "$DI_STATUS" -eq 0 ]
    assert_drained

    rm -f "$DONE" "$DONE.pid" "$APP_READY"
    di_start plain --skip=all -- "$APP" graceful-child "$DONE" exit setsid
    wait_file "$APP_READY"
    DI_T0=$(now_ms)
    di_wait 10
    [ "$DI_STATUS" -eq 0 ]
    assert_drained
}

@test "leftovers that ignore SIGTERM are killed after the stop timeout" {
    local ready=$BATS_TEST_TMPDIR/sh-ready
    # The leftover itself says when it ignores SIGTERM; the app exits only then (it touching
    # the file first let a loaded machine deliver the drain's SIGTERM before the trap).
    di_start pid1 --skip=all --stop-timeout=1 -- \
        sh -c '(trap "" TERM; touch "$0"; exec sleep 30) &
               until [ -e "$0" ]; do sleep 0.01; done; exit 4' "$ready"
    wait_file "$ready"
    DI_T0=$(now_ms)
    di_wait 10
    [ "$DI_STATUS" -eq 4 ]
    [ "$DI_MS" -ge 900 ]
    [ "$DI_MS" -lt 1600 ]

    # Not PID 1: the leftover is found through /proc and killed too.
    rm -f "$ready"
    di_start plain --skip=all --stop-timeout=1 -- \
        sh -c '(trap "" TERM; touch "$0.trap"; exec sleep 30) & echo $! >"$0.pid"
               until [ -e "$0.trap" ]; do sleep 0.01; done; touch "$0"; exit 4' "$ready"
    wait_file "$ready"
    DI_T0=$(now_ms)
    di_wait 10
    [ "$DI_STATUS" -eq 4 ]
    [ "$DI_MS" -ge 900 ]
    [ "$DI_MS" -lt 1600 ]
    local left
    left=$(cat "$ready.pid")
    wait_for test ! -e "/proc/$left"
}

@test "a second SIGTERM during the drain kills what is left at once" {
    local ready=$BATS_TEST_TMPDIR/sh-ready
    di_start pid1 --skip=all --stop-timeout=10 -- \
        sh -c '(trap "" TERM; touch "$0.trap"; exec sleep 30) &
               until [ -e "$0.trap" ]; do sleep 0.01; done; touch "$0"; exit 0' "$ready"
    wait_file "$ready"
    sleep 0.3 # the app has exited; the drain's grace runs
    kill -0 "$DI_PID"
    di_kill TERM
    di_wait 5
    [ "$DI_MS" -lt 500 ]
}

@test "one deadline for the whole stop: an app that outlives the timeout and a TERM-ignoring leftover in another session end within it" {
    local ready=$BATS_TEST_TMPDIR/sh-ready
    # The app ignores SIGTERM (killed at the timeout), and its worker in a session of its own
    # ignores it too (only the drain's SIGKILL ends it).
    di_start pid1 --skip=all --stop-timeout=1 -- \
        sh -c 'trap "" TERM; setsid sh -c "trap \"\" TERM; touch \"\$0\"; exec sleep 30" "$0" &
               while :; do sleep 0.05; done' "$ready"
    wait_file "$ready"
    di_kill TERM
    di_wait 10
    [ "$DI_STATUS" -eq 137 ]
    # Before: the app's timeout, then a second one for the leftover (2 s); the compose file's
    # stop_grace_period must stay above [app] stop_timeout and the second it may take to reap.
    [ "$DI_MS" -ge 900 ]
    [ "$DI_MS" -lt 1500 ]
    grep -q "1 process still running after the stop timeout: sent SIGKILL" "$DI_ERR"
}

@test "the drain counts what kill(-1) reached: two leftovers are two processes" {
    local ready=$BATS_TEST_TMPDIR/sh-ready
    di_start pid1 --skip=all --stop-timeout=1 -- \
        sh -c '(trap "" TERM; touch "$0.1"; exec sleep 30) & (trap "" TERM; touch "$0.2"; exec sleep 30) &
               until [ -e "$0.1" ] && [ -e "$0.2" ]; do sleep 0.01; done; exit 4' "$ready"
    wait_file "$ready.1"
    di_wait 10
    [ "$DI_STATUS" -eq 4 ]
    cat "$DI_ERR"
    grep -q "2 processes still running after the stop timeout: sent SIGKILL" "$DI_ERR"
}
