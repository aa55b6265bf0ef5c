#!/usr/bin/env bats
# The cross-built linux/arm64 static binary (the static-arm64 preset, or DEVINIT_ARM64_BIN)
# run under qemu-aarch64-static: what it says of itself, exit codes, signal forwarding, a
# plain-init run as PID 1, and `check` against a real PostgreSQL on loopback. The apps are the
# host's own programs (sh, sleep): qemu-user hands an exec of a host binary to the kernel.

bats_require_minimum_version 1.5.0
ROOT_DIR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
export DEVINIT_ARM64_BIN=${DEVINIT_ARM64_BIN:-$ROOT_DIR/build/static-arm64/devinit}
export DEVINIT=$ROOT_DIR/tests/lib/devinit-arm64 DEVINIT_SOURCE_DIR=$ROOT_DIR
load ../lib/common
load ../lib/supervisor

setup_file() {
    [ -x "$DEVINIT_ARM64_BIN" ] || return 0
    command -v qemu-aarch64-static >/dev/null || return 0
    export WORK=$(mktemp -d "${TMPDIR:-/tmp}/devinit-arm64.XXXXXX")
    chmod 755 "$WORK"
    export PGDIR=$WORK/pg PGPORT_T=$(pg_free_port)
    pg_init "$PGDIR"
    pg_start "$PGDIR" "$PGPORT_T"
    pg_psql "$PGDIR" "$PGPORT_T" -c "CREATE DATABASE app"
}

teardown_file() {
    [ -z "${PGDIR:-}" ] || pg_stop "$PGDIR" immediate
    [ -z "${WORK:-}" ] || rm -rf "$WORK"
}

setup() {
    [ -x "$DEVINIT_ARM64_BIN" ] ||
        { echo "no arm64 build: .ci/install-deps arm64 && cmake --preset static-arm64 && cmake --build --preset static-arm64"; false; }
    command -v qemu-aarch64-static >/dev/null || { echo "qemu-user-static is not installed"; false; }
}

teardown() {
    di_cleanup
}

@test "the arm64 binary is a static aarch64 executable" {
    run file -L "$DEVINIT_ARM64_BIN"
    echo "$output"
    [[ "$output" == *"ARM aarch64"* ]]
    [[ "$output" == *"statically linked"* ]]
}

@test "under qemu the arm64 binary's --version names its libraries and what the static build lacks" {
    run --separate-stderr "$DEVINIT" --version
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == "devinit "* ]]
    [[ "$output" == *"libpq 15"* ]]
    [[ "$output" == *"static build"*GSSAPI* ]]
}

@test "the arm64 binary passes on the app's exit code, 128+N for a signal, 126, 127 and 64" {
    local code bad=""
    for code in 0 1 3 42 255; do
        "$DEVINIT" --skip=all -- sh -c "exit $code" 2>/dev/null && rc=0 || rc=$?
        [ "$rc" -eq "$code" ] || bad="$bad $code->$rc"
    done
    "$DEVINIT" --skip=all -- sh -c 'kill -USR1 $$' 2>/dev/null && rc=0 || rc=$?
    [ "$rc" -eq $((128 + $(kill -l USR1))) ] || bad="$bad USR1->$rc"
    printf '#!/bin/sh\n' >"$BATS_TEST_TMPDIR/not-executable"
    "$DEVINIT" --skip=all -- "$BATS_TEST_TMPDIR/not-executable" 2>/dev/null && rc=0 || rc=$?
    [ "$rc" -eq 126 ] || bad="$bad noexec->$rc"
    "$DEVINIT" --skip=all -- no-such-command-4711 2>/dev/null && rc=0 || rc=$?
    [ "$rc" -eq 127 ] || bad="$bad missing->$rc"
    "$DEVINIT" --no-such-flag 2>/dev/null && rc=0 || rc=$?
    [ "$rc" -eq 64 ] || bad="$bad usage->$rc"
    [ -z "$bad" ] || { echo "wrong codes:$bad"; false; }
}

@test "under qemu a plain init run of true exits 0 and prints nothing on stdout" {
    run --separate-stderr "$DEVINIT" --skip=all -- true
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "SIGTERM to the arm64 devinit reaches the app, which reports it, and devinit exits with its code" {
    di_start plain --skip=all -- sh -c 'trap "echo got TERM; exit 7" TERM; echo up; while :; do sleep 0.05; done'
    wait_for grep -q up "$DI_OUT"
    di_kill TERM
    di_wait 10
    cat "$DI_ERR"
    [ "$DI_STATUS" -eq 7 ]
    grep -q "got TERM" "$DI_OUT"
}

@test "as PID 1 of a PID namespace the arm64 devinit forwards SIGTERM and exits 143" {
    di_start pid1 --skip=all -- sh -c 'echo "pid $$"; exec sleep 30'
    wait_for grep -q pid "$DI_OUT"
    # devinit is PID 1, so the app's shell is 2 or 3 (qemu itself may take one more).
    grep -Eq '^pid [23]$' "$DI_OUT"
    di_kill TERM
    di_wait 10
    cat "$DI_ERR"
    [ "$DI_STATUS" -eq 143 ]
    [ "$DI_MS" -lt 3000 ]
}

@test "as PID 1 the arm64 devinit reaps an orphan and exits with the app's code" {
    run --separate-stderr unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- \
        sh -c 'sh -c "sleep 0.2 &" ; sleep 0.5; ps -o stat= -e | grep -c Z; exit 5'
    echo "$output / $stderr"
    [ "$status" -eq 5 ]
    [ "$output" = 0 ]
}

@test "the arm64 devinit's check reaches a real PostgreSQL on loopback" {
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT_T/app?schema=public"
    run --separate-stderr "$DEVINIT" check --only=wait
    echo "$output / $stderr"
    [ "$status" -eq 0 ]
    [[ "$output$stderr" == *"PostgreSQL 15"* ]]
}

@test "the arm64 devinit's check reports a database that does not answer with 69" {
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$(pg_free_port)/app"
    run --separate-stderr env DEVINIT_WAIT_TIMEOUT=1500ms "$DEVINIT" check --only=wait
    echo "$output / $stderr"
    [ "$status" -eq 69 ]
}
