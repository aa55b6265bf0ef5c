#!/usr/bin/env bats
# devinit's exit codes (lib/base/exitcodes.h, the README's table): the app's own code, 128+N for
# death by signal N, 126/127 when exec fails, sysexits codes where devinit itself fails.
# 65, 77 and a refused login belong to the wait and migrate tests, which own a PostgreSQL.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/supervisor

@test "every exit code 0..255 of the app is passed on" {
    local code bad=""
    for code in $(seq 0 255); do
        "$DEVINIT" --skip=all -- "$APP" exit "$code" 2>/dev/null && rc=0 || rc=$?
        [ "$rc" -eq "$code" ] || bad="$bad $code->$rc"
    done
    [ -z "$bad" ] || { echo "wrong codes:$bad"; false; }
}

@test "every exit code is passed on as PID 1" {
    local code bad=""
    for code in 0 1 2 42 64 126 127 128 137 143 255; do
        unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- "$APP" exit "$code" 2>/dev/null && rc=0 || rc=$?
        [ "$rc" -eq "$code" ] || bad="$bad $code->$rc"
    done
    [ -z "$bad" ] || { echo "wrong codes:$bad"; false; }
}

@test "death by signal N exits 128+N" {
    local sig num bad=""
    for sig in HUP INT QUIT ILL ABRT FPE KILL USR1 SEGV USR2 PIPE ALRM TERM XCPU SYS RTMIN+3; do
        num=$(kill -l "$sig")
        "$DEVINIT" --skip=all -- "$APP" kill-self "$sig" 2>/dev/null && rc=0 || rc=$?
        [ "$rc" -eq $((128 + num)) ] || bad="$bad $sig->$rc"
        unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- "$APP" kill-self "$sig" 2>/dev/null && rc=0 || rc=$?
        [ "$rc" -eq $((128 + num)) ] || bad="$bad pid1:$sig->$rc"
    done
    [ -z "$bad" ] || { echo "wrong codes:$bad"; false; }
}

@test "a command that is not executable exits 126 and the message names it and the reason" {
    local f=$BATS_TEST_TMPDIR/not-executable.sh
    printf '#!/bin/sh\necho ran\n' >"$f"
    chmod 644 "$f"
    run --separate-stderr "$DEVINIT" --skip=all -- "$f"
    echo "$stderr"
    [ "$status" -eq 126 ]
    [ -z "$output" ]
    [[ "$stderr" == *"$f"* ]]
    [[ "$stderr" == *"ermission denied"* ]]

    run --separate-stderr "$DEVINIT" --skip=all -- "$BATS_TEST_TMPDIR"
    echo "$stderr"
    [ "$status" -eq 126 ]
    [[ "$stderr" == *"$BATS_TEST_TMPDIR"* ]]
}

@test "a command that does not exist exits 127 and the message names it and the reason" {
    run -127 --separate-stderr "$DEVINIT" --skip=all -- no-such-command-4711 arg
    echo "$stderr"
    [ "$status" -eq 127 ]
    [[ "$stderr" == *"'no-such-command-4711'"* ]]
    [[ "$stderr" == *"No such file or directory"* ]]

    run -127 --separate-stderr unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- /nonexistent/app
    echo "$stderr"
    [ "$status" -eq 127 ]
    [[ "$stderr" == *"/nonexistent/app"* ]]
}

@test "a script whose #! interpreter is missing exits 127, as tini and docker run report it, and names the interpreter" {
    local f=$BATS_TEST_TMPDIR/bad-interpreter.sh
    printf '#!/nonexistent/sh\necho ran\n' >"$f"
    chmod 755 "$f"
    run -127 --separate-stderr "$DEVINIT" --skip=all -- "$f"
    echo "$stderr"
    [ "$status" -eq 127 ]
    [[ "$stderr" == *"its interpreter '/nonexistent/sh' was not found"* ]]
    [[ "$stderr" != *"PATH"* ]]
}

@test "a script saved with Windows line endings is reported as such, with the fix" {
    local f=$BATS_TEST_TMPDIR/crlf.sh
    printf '#!/bin/sh\r\necho ran\r\n' >"$f"
    chmod 755 "$f"
    run -127 --separate-stderr "$DEVINIT" --skip=all -- "$f"
    echo "$stderr"
    [ "$status" -eq 127 ]
    [[ "$stderr" == *"ends in a carriage return (\r"* ]]
    [[ "$stderr" == *"dos2unix"* ]]
    [[ "$stderr" != *"interpreter '/bin/sh' was not found"* ]]
}

@test "usage errors exit 64" {
    run "$DEVINIT"
    echo "$output"
    [ "$status" -eq 64 ]
    [[ "$output" == *"no command"* ]]
    run "$DEVINIT" --skip=all
    [ "$status" -eq 64 ]
    run "$DEVINIT" --no-such-option -- true
    [ "$status" -eq 64 ]
    run "$DEVINIT" --skip=nonsense -- true
    [ "$status" -eq 64 ]
    run "$DEVINIT" --stop-timeout=soon -- true
    [ "$status" -eq 64 ]
    run "$DEVINIT" --stop-timeout
    [ "$status" -eq 64 ]
    # Nothing was started: no file appears.
    run "$DEVINIT" --bogus -- touch "$BATS_TEST_TMPDIR/started"
    [ "$status" -eq 64 ]
    [ ! -e "$BATS_TEST_TMPDIR/started" ]
}

@test "a bad configuration exits 78 and names the variable" {
    DEVINIT_APP_STOP_TIMEOUT=forever run --separate-stderr "$DEVINIT" --skip=all -- touch "$BATS_TEST_TMPDIR/started"
    echo "$stderr"
    [ "$status" -eq 78 ]
    [[ "$stderr" == *DEVINIT_APP_STOP_TIMEOUT* ]]
    [ ! -e "$BATS_TEST_TMPDIR/started" ]

    run "$DEVINIT" --config "$BATS_TEST_TMPDIR/missing.ini" --skip=all -- true
    [ "$status" -eq 78 ]
}

@test "a failing step command exits 70 without starting the app" {
    cd "$BATS_TEST_TMPDIR"
    echo '{}' >package.json
    DEVINIT_DEPS_COMMAND="false" DEVINIT_DEPS_MODE=always \
        run --separate-stderr "$DEVINIT" --only=deps -- touch started
    echo "$stderr"
    [ "$status" -eq 70 ]
    [ ! -e started ]
}

@test "a service that never answers exits 69 after the wait timeout" {
    local port
    port=$(pg_free_port)
    DEVINIT_WAIT_TIMEOUT=1s DEVINIT_DATABASE_URL="postgresql://app@127.0.0.1:$port/app" \
        run --separate-stderr "$DEVINIT" --only=wait -- touch "$BATS_TEST_TMPDIR/started"
    echo "$stderr"
    [ "$status" -eq 69 ]
    [ ! -e "$BATS_TEST_TMPDIR/started" ]
}

@test "a 100 MB prisma schema exits 78 in check and at start, naming the file and the limit" {
    cd "$BATS_TEST_TMPDIR"
    mkdir -p prisma
    {
        printf 'datasource db {\n  provider = "postgresql"\n}\ngenerator client {\n  provider = "prisma-client-js"\n}\n'
        head -c 100000000 /dev/zero | tr '\0' 'x' | fold -w 99 | sed 's|^|//|'
    } >prisma/schema.prisma
    [ "$(stat -c %s prisma/schema.prisma)" -gt 100000000 ]
    for cmd in "check" "-- touch app-ran"; do
        # shellcheck disable=SC2086 # cmd is words
        run "$DEVINIT" --only=generate $cmd
        echo "$cmd: $output"
        [ "$status" -eq 78 ]
        [[ "$output" == *"prisma schema '$PWD/prisma/schema.prisma' is larger than 16 MiB, the most devinit reads of a schema file"* ]]
        [ ! -e app-ran ]
    done
}
