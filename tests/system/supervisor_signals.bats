#!/usr/bin/env bats
# Signals: forwarding to the app's process group, the stop sequence (SIGTERM/SIGINT, the grace,
# SIGKILL, the second request), as PID 1 of a PID namespace and as a plain process.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/supervisor

setup() {
    export APP_READY=$BATS_TEST_TMPDIR/ready
}

teardown() {
    di_cleanup
}

# has_lines FILE N: FILE holds at least N lines.
has_lines() {
    [ "$(lines_of "$1" | wc -l)" -ge "$2" ]
}

# Sends each signal to devinit and waits until the app has recorded it, so every delivery is
# counted on its own (two identical pending signals would merge in the kernel).
send_and_expect() {
    local rec=$1 sig n=0
    shift
    for sig in "$@"; do
        n=$((n + 1))
        di_kill "$sig"
        if ! wait_for has_lines "$rec" "$n"; then
            echo "the app did not receive SIG$sig; it recorded: $(lines_of "$rec" | tr '\n' ' ')"
            return 1
        fi
    done
}

# The signals FILE recorded, but the SIGCONT that follows the stop signal (devinit sends it
# so a stopped app can handle the stop; the app may exit before it arrives).
recorded() {
    # The SIGCONT's handler may run inside the stop signal's, so it may come just before it.
    awk '{ l[NR] = $0 } END {
        n = NR
        if (l[n] == 18) n--
        else if (n > 1 && l[n - 1] == 18 && (l[n] == 15 || l[n] == 2)) { l[n - 1] = l[n]; n-- }
        for (i = 1; i <= n; i++) print l[i]
    }' "$1"
}

expected_numbers() {
    local sig
    for sig in "$@"; do kill -l "$sig"; done
}

@test "every forwardable signal reaches the app exactly once" {
    local rec=$BATS_TEST_TMPDIR/signals
    local sigs=(HUP QUIT USR1 USR2 WINCH CONT ALRM URG VTALRM PROF XCPU XFSZ PWR STKFLT TSTP
        RTMIN RTMIN+3 RTMAX-1 RTMAX TERM)
    di_start pid1 --skip=all -- "$APP" record-signals "$rec" 20
    wait_file "$APP_READY"
    send_and_expect "$rec" "${sigs[@]}"
    di_wait 5
    [ "$DI_STATUS" -eq 0 ]
    # Late duplicates would show up here.
    diff <(expected_numbers "${sigs[@]}") <(recorded "$rec")

    rm -f "$rec" "$APP_READY"
    di_start plain --skip=all -- "$APP" record-signals "$rec" 20
    wait_file "$APP_READY"
    send_and_expect "$rec" HUP USR1 RTMIN+1 INT
    di_wait 5
    [ "$DI_STATUS" -eq 0 ]
    diff <(expected_numbers HUP USR1 RTMIN+1 INT) <(recorded "$rec")
}

@test "the kernel's fault signals are not forwarded to the app" {
    local rec=$BATS_TEST_TMPDIR/signals sig
    # In the sanitizer build, AddressSanitizer's crash handlers would catch these in devinit
    # itself; devinit's own policy is what is tested here (the variable is inert otherwise).
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0
    di_start pid1 --skip=all -- "$APP" record-signals "$rec" 20
    wait_file "$APP_READY"
    for sig in SEGV BUS FPE ILL TRAP SYS ABRT; do
        kill -s "$sig" "$DI_PID"
    done
    sleep 0.3
    # devinit survived them and the app heard none.
    kill -0 "$DI_PID"
    [ -z "$(lines_of "$rec")" ]
    send_and_expect "$rec" TERM
    di_wait 5
    [ "$DI_STATUS" -eq 0 ]
    diff <(expected_numbers TERM) <(recorded "$rec")
}

@test "a signal that arrives before devinit watches it still reaches the app" {
    # Pending when devinit starts (blocked by its parent, sent, then exec): devinit keeps them
    # blocked and reads them from its signalfd once its loop runs. The app sleeps and dies of
    # any signal; devinit's log says the app was started and what killed it (a devinit
    # killed by the signal itself would give the same exit code).
    local start=$(now_ms) sig code
    for sig in USR1 RTMIN+3 HUP TERM; do
        code=$((128 + $(kill -l "$sig")))
        run timeout -s KILL 10 "$APP" spawn-pending "$sig" "$DEVINIT" --skip=all -- "$APP" sleep 8
        echo "$sig as a subreaper: $status: $output"
        [ "$status" -eq "$code" ]
        [[ "$output" == *"'$APP' was killed by SIG$sig"* ]]
        run timeout -s KILL 10 unshare --pid --fork --mount-proc \
            "$APP" spawn-pending "$sig" "$DEVINIT" --skip=all -- "$APP" sleep 8
        echo "$sig as PID 1: $status: $output"
        [ "$status" -eq "$code" ]
        [[ "$output" == *"'$APP' was killed by SIG$sig"* ]]
    done
    [ $(($(now_ms) - start)) -lt 8000 ]
}

@test "SIGTERM stops the app promptly as PID 1" {
    di_start pid1 --skip=all -- "$APP" sleep 30
    wait_file "$APP_READY"
    di_kill TERM
    di_wait 5
    [ "$DI_STATUS" -eq 143 ]
    [ "$DI_MS" -lt 500 ]
}

@test "SIGTERM stops the app promptly as a subreaper that is not PID 1" {
    di_start plain --skip=all -- "$APP" sleep 30
    wait_file "$APP_READY"
    di_kill TERM
    di_wait 5
    [ "$DI_STATUS" -eq 143 ]
    [ "$DI_MS" -lt 500 ]
}

@test "SIGINT reaches the whole group of a shell app and exits 130 promptly" {
    local sh sleeper
    di_start pid1 --skip=all -- sh -c 'sleep 30; echo after-sleep'
    sh=$(di_child_of "$DI_PID")
    sleeper=$(di_child_of "$sh")
    [ "$(cat "/proc/$sleeper/comm")" = sleep ]
    di_kill INT
    di_wait 5
    [ "$DI_STATUS" -eq 130 ]
    [ "$DI_MS" -lt 500 ]
    run ! grep -q after-sleep "$DI_OUT"
}

@test "an app that ignores SIGTERM is killed after the stop timeout" {
    di_start pid1 --skip=all --stop-timeout=1 -- "$APP" ignore-term 30
    wait_file "$APP_READY"
    di_kill TERM
    di_wait 10
    [ "$DI_STATUS" -eq 137 ]
    [ "$DI_MS" -ge 950 ]
    [ "$DI_MS" -lt 1500 ]
}

@test "the stop timeout takes milliseconds, seconds and plain numbers" {
    rm -f "$APP_READY"
    di_start plain --skip=all --stop-timeout=500ms -- "$APP" ignore-term 30
    wait_file "$APP_READY"
    di_kill TERM
    di_wait 10
    [ "$DI_STATUS" -eq 137 ]
    [ "$DI_MS" -ge 450 ]
    [ "$DI_MS" -lt 1000 ]

    rm -f "$APP_READY"
    DEVINIT_APP_STOP_TIMEOUT=300ms di_start plain --skip=all -- "$APP" ignore-term 30
    wait_file "$APP_READY"
    di_kill TERM
    di_wait 10
    [ "$DI_STATUS" -eq 137 ]
    [ "$DI_MS" -ge 250 ]
    [ "$DI_MS" -lt 800 ]

    run "$DEVINIT" --skip=all --stop-timeout=2s -- true
    [ "$status" -eq 0 ]
    run "$DEVINIT" --skip=all --stop-timeout 2 -- true
    [ "$status" -eq 0 ]
}

@test "a second SIGTERM or SIGINT during the grace kills at once" {
    di_start pid1 --skip=all --stop-timeout=10 -- "$APP" ignore-term 30
    wait_file "$APP_READY"
    di_kill TERM
    sleep 0.2
    di_kill TERM
    di_wait 5
    [ "$DI_STATUS" -eq 137 ]
    [ "$DI_MS" -lt 300 ]

    rm -f "$APP_READY"
    di_start plain --skip=all --stop-timeout=10 -- "$APP" ignore-term 30
    wait_file "$APP_READY"
    di_kill INT
    sleep 0.2
    di_kill INT
    di_wait 5
    [ "$DI_STATUS" -eq 137 ]
    [ "$DI_MS" -lt 300 ]
}

# state PID: the process's state letter (T: stopped).
state_of() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
is_stopped() { [ "$(state_of "$1")" = T ]; }

@test "an app stopped by a forwarded SIGTSTP gets SIGCONT after SIGTERM and runs its handler" {
    local done=$BATS_TEST_TMPDIR/handled app
    di_start pid1 --skip=all --stop-timeout=3 -- \
        sh -c 'trap "echo handled >$0; exit 0" TERM; touch "$0.ready"; while :; do sleep 0.05; done' "$done"
    wait_file "$done.ready"
    app=$(di_child_of "$DI_PID")
    di_kill TSTP
    wait_for is_stopped "$app"
    di_kill TERM
    di_wait 6
    # Not SIGKILLed after the 3 s timeout (137): the handler ran and the app exited 0.
    [ "$DI_STATUS" -eq 0 ]
    [ "$DI_MS" -lt 1500 ]
    [ "$(lines_of "$done")" = handled ]
}

@test "a SIGPIPE sent to devinit reaches the app, as tini forwards it" {
    local rec=$BATS_TEST_TMPDIR/signals
    di_start pid1 --skip=all -- "$APP" record-signals "$rec" 20
    wait_file "$APP_READY"
    send_and_expect "$rec" PIPE TERM
    di_wait 5
    [ "$DI_STATUS" -eq 0 ]
    diff <(expected_numbers PIPE TERM) <(recorded "$rec")

    rm -f "$rec" "$APP_READY"
    di_start plain --skip=all -- "$APP" record-signals "$rec" 20
    wait_file "$APP_READY"
    send_and_expect "$rec" PIPE INT
    di_wait 5
    [ "$DI_STATUS" -eq 0 ]
    diff <(expected_numbers PIPE INT) <(recorded "$rec")
}

@test "devinit's own write to a closed pipe neither kills it nor reaches the app as SIGPIPE" {
    local rec=$BATS_TEST_TMPDIR/signals
    cd "$BATS_TEST_TMPDIR"
    echo '{"name":"t","version":"1.0.0"}' >package.json
    echo '{"lockfileVersion":3,"v":1}' >package-lock.json
    printf '#!/bin/sh\nmkdir -p node_modules\n' >install.sh
    chmod +x install.sh
    export DEVINIT_DEPS_COMMAND=$PWD/install.sh DEVINIT_CONTROL_SOCKET=$PWD/ctl.sock
    export DEVINIT_WATCH_DEBOUNCE=100ms
    mkfifo log
    # devinit's stderr is a pipe whose reader goes away after the first byte.
    unshare --pid --fork --mount-proc "$DEVINIT" --only=deps -- "$APP" record-signals "$rec" 30 \
        2>log 3>&- &
    DI_WAIT=$!
    head -c 1 log >/dev/null
    DI_PID=$(di_child_of "$DI_WAIT")
    wait_file "$APP_READY"
    rm -f "$APP_READY"
    # devinit logs the change (its write fails: EPIPE), reinstalls and restarts the app.
    echo '{"lockfileVersion":3,"v":2}' >package-lock.json
    wait_file "$APP_READY"
    kill -0 "$DI_PID"
    ! grep -qx 13 "$rec"
    di_kill TERM
    di_wait 5
    [ "$DI_STATUS" -eq 0 ]
    ! grep -qx 13 "$rec"
}
