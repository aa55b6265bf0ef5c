#!/usr/bin/env bats
# devinit as PID 1 of a real OCI container: podman with runc, an image FROM scratch holding the
# static devinit and busybox (tests/container/Containerfile). podman's settings come from
# tests/container/*.conf through CONTAINERS_CONF and CONTAINERS_STORAGE_CONF; nothing under
# /etc is touched. Every container and the image carry the label devinit-test, so
# tests/run.sh can remove leftovers even after a killed run.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/container

setup_file() {
    export IMAGE=localhost/devinit-test:$$
    containers_possible || return 0
    local ctx=$BATS_FILE_TMPDIR/context applet
    mkdir -p "$ctx/rootfs/bin"
    cp "$(static_bin)" "$ctx/rootfs/devinit"
    cp /bin/busybox "$ctx/rootfs/bin/busybox"
    for applet in sh sleep cat seq echo setsid tr; do
        ln -s busybox "$ctx/rootfs/bin/$applet"
    done
    build_image Containerfile "$ctx" "$IMAGE"
    export IMAGE_BUILT=1
}

teardown_file() {
    command -v podman >/dev/null || return 0
    podman rm -f --filter "label=devinit-test-run=$$" >/dev/null 2>&1 || true
    [ -n "${IMAGE_BUILT:-}" ] && podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
}

setup() {
    require_containers
    [ -n "${IMAGE_BUILT:-}" ]
    NAME=devinit-test-$$-$BATS_TEST_NUMBER
}

teardown() {
    podman rm -f "$NAME" >/dev/null 2>&1 || true
}

# run_container ARGS...: starts a detached container of the test image; ARGS replace CMD.
run_container() {
    podman run -d --name "$NAME" --label devinit-test=1 --label "devinit-test-run=$$" \
        "$IMAGE" "$@" >/dev/null
    wait_for running
}


# Stops the container with a generous podman timeout; sets STOP_MS and EXIT_CODE.
stop_container() {
    local t0
    t0=$(now_ms)
    podman stop -t 10 "$NAME" >/dev/null
    STOP_MS=$(($(now_ms) - t0))
    EXIT_CODE=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
    echo "podman stop took $STOP_MS ms; exit code $EXIT_CODE"
    podman logs "$NAME"
}

@test "podman stop ends a container whose app dies of SIGTERM at once, with code 143" {
    run_container sleep 1000
    sleep 0.3
    stop_container
    [ "$EXIT_CODE" -eq 143 ]
    [ "$STOP_MS" -lt 1000 ]
}

@test "podman stop ends a container whose app traps SIGTERM at once, with the app's code" {
    run_container sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
    sleep 0.3
    stop_container
    [ "$EXIT_CODE" -eq 0 ]
    [ "$STOP_MS" -lt 1000 ]
}

@test "the app's exit code is the container's exit code" {
    podman run --name "$NAME" --label devinit-test=1 --label "devinit-test-run=$$" \
        "$IMAGE" sh -c 'echo hello; exit 42' >"$BATS_TEST_TMPDIR/out" 2>&1 && rc=0 || rc=$?
    cat "$BATS_TEST_TMPDIR/out"
    [ "$rc" -eq 42 ]
    grep -qx hello "$BATS_TEST_TMPDIR/out"
}

@test "orphans are reaped inside the container: no zombie is left" {
    # Each ( sleep & ) leaves an orphan that PID 1 inherits and must reap when it exits.
    run_container sh -c 'for i in $(seq 1 50); do (sleep 0.2 &); done; exec sleep 1000'
    local stats i
    for i in $(seq 1 20); do
        sleep 0.2
        stats=$(podman exec "$NAME" sh -c 'cat /proc/[0-9]*/stat 2>/dev/null')
        # Sleepers gone, and none of them left as a zombie.
        if [ "$(grep -c 'sleep) ' <<<"$stats")" -eq 1 ]; then
            break
        fi
    done
    echo "$stats"
    [ "$(grep -c 'sleep) ' <<<"$stats")" -eq 1 ]
    [ "$(grep -c ') Z ' <<<"$stats")" -eq 0 ]
    grep -q '^1 (devinit) ' <<<"$stats"
    stop_container
    [ "$EXIT_CODE" -eq 143 ]
}

@test "podman stop ends on devinit's terms when the app outlives the timeout and leaves a TERM-ignoring process in another session" {
    # One deadline for the app and its leftovers: 3 s, within podman's 5. Two (the app's
    # timeout, then the leftovers') would be 6 s, and podman would SIGKILL devinit itself.
    podman run -d --name "$NAME" --label devinit-test=1 --label "devinit-test-run=$$" \
        -e DEVINIT_APP_STOP_TIMEOUT=3s "$IMAGE" \
        sh -c 'trap "" TERM; setsid sh -c "trap \"\" TERM; exec sleep 1000" & while :; do sleep 0.1; done' >/dev/null
    wait_for running
    sleep 0.5
    local t0
    t0=$(now_ms)
    podman stop -t 5 "$NAME" >/dev/null
    STOP_MS=$(($(now_ms) - t0))
    EXIT_CODE=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
    podman logs "$NAME" >"$BATS_TEST_TMPDIR/logs" 2>&1
    echo "podman stop took $STOP_MS ms; exit code $EXIT_CODE"
    cat "$BATS_TEST_TMPDIR/logs"
    [ "$EXIT_CODE" -eq 137 ]
    [ "$STOP_MS" -lt 4500 ]
    # devinit killed the leftover itself, and said so.
    grep -q "1 process still running after the stop timeout: sent SIGKILL" "$BATS_TEST_TMPDIR/logs"
}

@test "a crash restart spares a podman exec session" {
    podman run -d --name "$NAME" --label devinit-test=1 --label "devinit-test-run=$$" \
        -e DEVINIT_APP_RESTART=on-failure -e DEVINIT_APP_RESTART_DELAY=100ms "$IMAGE" \
        sh -c 'setsid sleep 1000 & sleep 2; exit 3' >/dev/null
    wait_for running
    podman exec -d "$NAME" sleep 999
    # sleeping NAME ARG: a process "sleep ARG" runs in the container.
    sleeping() {
        podman exec "$NAME" sh -c 'for f in /proc/[0-9]*/cmdline; do tr "\0" " " <$f; echo; done' |
            grep -qx "sleep $1 "
    }
    wait_for sleeping 999
    local i
    for i in $(seq 1 100); do
        podman logs "$NAME" 2>&1 | grep -q "exited with code 3" && break
        sleep 0.1
    done
    podman logs "$NAME" 2>&1 | grep -q "exited with code 3"
    sleep 0.5 # the restart's drain is over
    podman logs "$NAME"
    sleeping 999
}
