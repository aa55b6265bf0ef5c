#!/usr/bin/env bats
# What the app starts with: default signal dispositions and an empty mask, no fd of devinit's
# own, the caller's working directory and stdin, a process group of its own.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/supervisor

teardown() {
    di_cleanup
}

@test "the app starts with an empty signal mask and default dispositions even when devinit inherits blocked and ignored signals" {
    # The hostile parent really does leak into a plain exec: the check can fail.
    run "$APP" spawn-masked "$APP" mask
    [ "$status" -eq 1 ]
    [[ "$output" == *"blocked: 1 2 3"* ]]

    run --separate-stderr "$APP" spawn-masked "$DEVINIT" --skip=all -- "$APP" mask
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = $'blocked:\nignored:\ncaught:' ]

    run --separate-stderr unshare --pid --fork --mount-proc "$APP" spawn-masked "$DEVINIT" --skip=all -- "$APP" mask
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = $'blocked:\nignored:\ncaught:' ]
}

@test "the app inherits no internal fd, only the ones devinit inherited" {
    local direct via pid1
    [ -z "${DEVINIT_UNDER_VALGRIND:-}" ] || skip "valgrind's --log-file descriptor reaches the app"
    # Compare with the app run directly under the same redirections (bats holds fds too).
    direct=$("$APP" fds 7</dev/null 9<"$BATS_TEST_FILENAME" | awk '{print $1}' | sort -n | tr '\n' ' ')
    via=$("$DEVINIT" --skip=all -- "$APP" fds 7</dev/null 9<"$BATS_TEST_FILENAME" 2>/dev/null | awk '{print $1}' | sort -n | tr '\n' ' ')
    pid1=$(unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- "$APP" fds 7</dev/null 9<"$BATS_TEST_FILENAME" 2>/dev/null | awk '{print $1}' | sort -n | tr '\n' ' ')
    echo "direct: $direct"
    echo "devinit: $via"
    echo "devinit as PID 1: $pid1"
    [[ "$direct" == "0 1 2 "*"7 "*"9 "* ]]
    [ "$via" = "$direct" ]
    [ "$pid1" = "$direct" ]
    "$DEVINIT" --skip=all -- "$APP" fds 9<"$BATS_TEST_FILENAME" 2>/dev/null | grep -qx "9 $BATS_TEST_FILENAME"
}

@test "the app runs in the caller's working directory" {
    mkdir -p "$BATS_TEST_TMPDIR/work dir"
    cd "$BATS_TEST_TMPDIR/work dir"
    run --separate-stderr "$DEVINIT" --skip=all -- "$APP" cwd
    [ "$status" -eq 0 ]
    [ "$output" = "$BATS_TEST_TMPDIR/work dir" ]
    run --separate-stderr unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- "$APP" cwd
    [ "$status" -eq 0 ]
    [ "$output" = "$BATS_TEST_TMPDIR/work dir" ]
}

@test "the app reads the caller's stdin" {
    local input=$BATS_TEST_TMPDIR/input
    printf 'line one\nline two\n' >"$input"
    run --separate-stderr "$DEVINIT" --skip=all -- cat <"$input"
    [ "$status" -eq 0 ]
    [ "$output" = $'line one\nline two' ]
    run --separate-stderr bash -c 'echo piped | unshare --pid --fork --mount-proc "$0" --skip=all -- cat' "$DEVINIT"
    [ "$status" -eq 0 ]
    [ "$output" = piped ]
    "$DEVINIT" --skip=all -- "$APP" fds <"$input" 2>/dev/null | grep -qx "0 $input"
}

@test "the app leads its own process group" {
    export APP_READY=$BATS_TEST_TMPDIR/ready
    local app
    di_start plain --skip=all -- "$APP" sleep 30
    wait_file "$APP_READY"
    app=$(di_child_of "$DI_PID")
    local app_pgrp devinit_pgrp
    app_pgrp=$(sed 's/.*) //' "/proc/$app/stat" | awk '{print $3}')
    devinit_pgrp=$(sed 's/.*) //' "/proc/$DI_PID/stat" | awk '{print $3}')
    echo "app $app in group $app_pgrp, devinit $DI_PID in group $devinit_pgrp"
    [ "$app_pgrp" -eq "$app" ]
    [ "$app_pgrp" -ne "$devinit_pgrp" ]
    di_kill TERM
    di_wait 5
    [ "$DI_STATUS" -eq 143 ]
}
