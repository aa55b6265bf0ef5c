#!/usr/bin/env bats
# The fully static binary (the `static` preset, or DEVINIT_STATIC_BIN as CI sets it) runs as
# PID 1 in a root filesystem that holds nothing but itself and busybox: no libc, no loader,
# no /etc, no /proc.

bats_require_minimum_version 1.5.0
load ../lib/common

setup() {
    STATIC=${DEVINIT_STATIC_BIN:-$DEVINIT_SOURCE_DIR/build/static/devinit}
    if [ -z "${DEVINIT_STATIC_BIN:-}" ] && [ ! -x "$STATIC" ]; then
        skip "no static build: cmake --preset static && cmake --build --preset static"
    fi
    [ -x "$STATIC" ] || { echo "DEVINIT_STATIC_BIN=$STATIC is not an executable"; false; }
}

# An empty root: /devinit, /bin/busybox and the applet links the tests use.
make_root() {
    ROOT=$BATS_TEST_TMPDIR/root
    mkdir -p "$ROOT/bin"
    cp "$STATIC" "$ROOT/devinit"
    cp /bin/busybox "$ROOT/bin/busybox"
    local applet
    for applet in sh sleep echo cat; do
        ln -s busybox "$ROOT/bin/$applet"
    done
}

@test "the static binary is statically linked" {
    run file -L "$STATIC"
    echo "$output"
    [[ "$output" == *"statically linked"* ]]
    run ldd "$STATIC"
    [ "$status" -ne 0 ]
}

@test "the static binary's --version says what it lacks" {
    run "$STATIC" --version
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"static build"* ]]
    [[ "$output" == *GSSAPI* ]]
    [[ "$output" == *LDAP* ]]
}

@test "the static binary runs as PID 1 in an empty root filesystem" {
    make_root
    run --separate-stderr unshare --pid --fork --mount-proc \
        chroot "$ROOT" /devinit --skip=all -- /bin/sh -c 'echo hi from $$; exit 3'
    echo "$output $stderr"
    [ "$status" -eq 3 ]
    [ "$output" = "hi from 2" ]
}

@test "the static binary in an empty root forwards SIGTERM and reports 143" {
    make_root
    unshare --pid --fork --mount-proc chroot "$ROOT" /devinit --skip=all -- /bin/sleep 30 3>&- &
    local wrapper=$! pid1 i
    for i in $(seq 1 200); do
        pid1=$(cat "/proc/$wrapper/task/$wrapper/children" 2>/dev/null || true)
        # chroot execs devinit: wait until it has, or the signal would hit chroot.
        [ -n "$pid1" ] && [ "$(cat "/proc/${pid1%% *}/comm" 2>/dev/null)" = devinit ] &&
            [ -n "$(cat "/proc/${pid1%% *}/task/${pid1%% *}/children" 2>/dev/null)" ] && break
        sleep 0.02
    done
    pid1=${pid1%% *}
    local t0
    t0=$(now_ms)
    kill -TERM "$pid1"
    local status=0
    wait "$wrapper" || status=$?
    echo "exit $status after $(($(now_ms) - t0)) ms"
    [ "$status" -eq 143 ]
    [ $(($(now_ms) - t0)) -lt 500 ]
}
