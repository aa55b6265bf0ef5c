#!/usr/bin/env bats
# Hostile and odd configuration files, and odd files in place of the project's own: devinit
# stops with 78 and the file and line, never accepts a file it misread, and never hangs on a
# FIFO (no signal could stop it while it is blocked there).
load ../lib/common

setup() {
    cd "$BATS_TEST_TMPDIR"
    FIRST=
}

teardown() {
    [ -z "$FIRST" ] || { kill -KILL "$FIRST" 2>/dev/null; wait "$FIRST" 2>/dev/null || true; }
}

# Runs devinit with --config FILE as a plain init; at most 5 s.
with_config() {
    run timeout -k 1 5 "$DEVINIT" --config "$1" --skip=all -- sh -c 'echo APP-RAN'
    echo "$output"
}

@test "a NUL byte in a line exits 78 naming file and line, instead of cutting the line short" {
    printf '[log]\nlevel = info\n[app]\nrestart = no\0always\n' >nul.ini
    with_config nul.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"nul.ini:4: a NUL byte: this is not a text file"* ]]
    [[ "$output" != *APP-RAN* ]]
}

@test "a binary file as configuration exits 78 naming file and line" {
    cp /bin/true binary.ini
    with_config binary.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"binary.ini:1: "* ]]
    # Bytes that are not UTF-8 and control characters, without a NUL.
    printf '[app]\n\001\002\377\376\033[31m garbage\n' >bytes.ini
    with_config bytes.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"bytes.ini:2: not a 'key = value' line or a [section] header"* ]]
    printf '[app]\nrestart = \377always\n' >value.ini
    with_config value.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"value.ini:2: 'app.restart' cannot be "*"use one of no, on-failure, always"* ]]
}

@test "a line of 100 kB exits 78 naming its line, whether a value or a comment" {
    { echo '[app]'; echo 'restart = no'; printf 'dir = %0100000d\n' 0; } >value.ini
    with_config value.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"value.ini:3: line too long"* ]]
    { echo '[app]'; printf '; %0100000d\n' 0; echo 'restart = no'; } >comment.ini
    with_config comment.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"comment.ini:2: line too long"* ]]
    # A last line without a newline is still a line.
    printf '[app]\nrestart = no' >noeol.ini
    with_config noeol.ini
    [ "$status" -eq 0 ]
    [[ "$output" == *APP-RAN* ]]
}

@test "a key set twice exits 78 naming the second line" {
    printf '[app]\nrestart = no\nstop_timeout = 1s\nrestart = always\n' >twice.ini
    with_config twice.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"twice.ini:4: 'app.restart' is set twice: keep one"* ]]
}

@test "a section given twice exits 78 naming both headers, whether or not a key repeats" {
    printf '[app]\nrestart = no\n[log]\nlevel = info\n\n[app]\nrestart = always\n' >sections.ini
    with_config sections.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"sections.ini:6: section '[app]' appears twice, first at line 1: merge the two"* ]]
    [[ "$output" != *APP-RAN* ]]
    printf '[app]\nrestart = no\n[deps]\nmode = off\n[app]\nstop_timeout = 1s\n' >devinit.ini
    run timeout -k 1 5 "$DEVINIT" check
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"devinit.ini:5: section '[app]' appears twice, first at line 1: merge the two"* ]]
}

@test "an unknown section or key among good ones exits 78 naming its line" {
    printf '[app]\nrestart = no\n[app.extra]\nrestart = always\n' >section.ini
    with_config section.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"section.ini:3: unknown section '[app.extra]': use one of [log], [app],"* ]]
    printf '[app]\nrestart = no\nrestart_policy = always\n' >key.ini
    with_config key.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"key.ini:3: unknown key 'restart_policy' in [app]"* ]]
}

@test "an unknown section with no key exits 78 naming it and the known ones" {
    printf '[log]\nlevel = info\n\n[nosuch]\n' >devinit.ini
    run timeout -k 1 5 "$DEVINIT" --skip=all -- sh -c 'echo APP-RAN'
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"devinit.ini:4: unknown section '[nosuch]': use one of [log], [app], [watch], [control], [deps], [generate], [prisma], [database], [wait], [migrate]"* ]]
    [[ "$output" != *APP-RAN* ]]
    run timeout -k 1 5 "$DEVINIT" check
    [ "$status" -eq 78 ]
    [[ "$output" == *"devinit.ini:4: unknown section '[nosuch]'"* ]]
}

@test "a raw 0x9b (CSI to an 8-bit terminal) and bytes that are not UTF-8 reach the terminal as numbers" {
    csi=$'\x9b'
    # In a value from the environment, and in the app's command line.
    DEVINIT_APP_USER=$'no\x9b31mbody\xff' run timeout -k 1 5 "$DEVINIT" --skip=all -- true
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"'no\\x9b31mbody\\xff'"* ]]
    LC_ALL=C; [[ "$output" != *"$csi"* ]]; [[ "$output" != *$'\xff'* ]]; unset LC_ALL
    run timeout -k 1 5 "$DEVINIT" --skip=all -- $'./no\x9b31msuch\xc2\x9b2J'
    echo "$output"
    [ "$status" -eq 127 ]
    [[ "$output" == *"./no\\x9b31msuch\\xc2\\x9b2J"* ]]
    LC_ALL=C; [[ "$output" != *"$csi"* ]]; unset LC_ALL
    # UTF-8 text is text.
    run timeout -k 1 5 "$DEVINIT" --skip=all -- './café-€'
    [ "$status" -eq 127 ]
    [[ "$output" == *"./café-€"* ]]
}

@test "control characters of the file or the environment reach the terminal escaped" {
    esc=$'\e'
    # An ESC sequence in a key name (clear screen), in a value (red) and in a section name.
    printf '[log]\nlevel = info\nle\033[2Jvel = warn\n' >key.ini
    with_config key.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"key.ini:3: unknown key 'le\\x1b[2Jvel' in [log]"* ]]
    [[ "$output" != *"$esc"* ]]
    printf '[app]\nrestart = \033[31mred\177\n' >value.ini
    with_config value.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"value.ini:2: 'app.restart' cannot be '\\x1b[31mred\\x7f'"* ]]
    [[ "$output" != *"$esc"* ]]
    printf '[a\033[2Jb\007]\n' >section.ini
    with_config section.ini
    [ "$status" -eq 78 ]
    [[ "$output" == *"section.ini:1: unknown section '[a\\x1b[2Jb\\x07]'"* ]]
    [[ "$output" != *"$esc"* ]]
    # From the environment: a bad value and an unknown key are errors; neither prints the ESC.
    DEVINIT_APP_RESTART="${esc}[31mred" run timeout -k 1 5 "$DEVINIT" --skip=all -- true
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"DEVINIT_APP_RESTART: 'app.restart' cannot be '\\x1b[31mred'"* ]]
    [[ "$output" != *"$esc"* ]]
    [ -z "${DEVINIT_UNDER_VALGRIND:-}" ] ||
        skip "valgrind rebuilds the environment without names that are not identifiers"
    run env "DEVINIT_APP_X${esc}[2J=1" timeout -k 1 5 "$DEVINIT" --skip=all -- true
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"environment variable 'DEVINIT_APP_X\\x1b[2J' is not a configuration key"* ]]
    [[ "$output" != *"$esc"* ]]
}

@test "a directory as configuration exits 78 instead of reading as empty" {
    mkdir conf.d
    with_config conf.d
    [ "$status" -eq 78 ]
    [[ "$output" == *"cannot read configuration 'conf.d': Is a directory"* ]]
    DEVINIT_CONFIG=$PWD/conf.d run "$DEVINIT" --skip=all -- true
    [ "$status" -eq 78 ]
}

@test "a FIFO as configuration does not hang, and a pipe with content is read" {
    mkfifo nobody-writes.ini
    with_config nobody-writes.ini
    [ "$status" -eq 0 ]
    [[ "$output" == *APP-RAN* ]]
    # Process substitution hands devinit a pipe: its content counts like a file's.
    run timeout -k 1 5 "$DEVINIT" --config <(printf '[app]\nrestart = sometimes\n') --skip=all -- true
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *":2: 'app.restart' cannot be 'sometimes'"* ]]
}

# check_within_5s ARGS...: `devinit check ARGS` must end by itself within 5 s (timeout's
# SIGKILL would make it 137: a hang, which SIGTERM could not end either).
check_within_5s() {
    run timeout -s KILL 5 "$DEVINIT" check "$@"
    echo "$output"
    [ "$status" -ne 137 ]
}

@test "FIFOs in place of package.json, the lockfile, the schema, .env and the stamps do not hang devinit" {
    mkfifo package.json
    check_within_5s --only=deps
    [ "$status" -eq 78 ]
    [[ "$output" == *"cannot read 'package.json': not a regular file"* ]]
    rm package.json
    echo '{"name":"t","version":"1.0.0"}' >package.json
    mkfifo package-lock.json
    check_within_5s --only=deps
    [ "$status" -eq 78 ]
    [[ "$output" == *"cannot read 'package-lock.json': not a regular file"* ]]
    rm package-lock.json
    mkdir -p node_modules prisma
    mkfifo node_modules/.devinit-deps.stamp node_modules/.devinit-generate.stamp
    check_within_5s --only=deps
    [ "$status" -eq 1 ]
    printf 'generator client {\n  provider = "prisma-client-js"\n}\n' >prisma/schema.prisma
    check_within_5s --only=generate
    rm prisma/schema.prisma
    mkfifo prisma/schema.prisma
    check_within_5s --only=generate
    mkfifo .env
    run env -u DATABASE_URL timeout -s KILL 5 "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"cannot read '.env': not a regular file"* ]]
}

@test "a control socket path that names an existing file leaves the file alone" {
    echo precious >precious.txt
    run env DEVINIT_CONTROL_SOCKET="$PWD/precious.txt" "$DEVINIT" --skip=all -- cat precious.txt
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"'$PWD/precious.txt' exists and is not a socket: no control socket"* ]]
    [ "$(cat precious.txt)" = precious ]
}

@test "a stale control socket is replaced; one another devinit answers on is left to it" {
    local sock=$PWD/d.sock
    # Stale: bound by a process that is gone, the file left behind.
    python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
    [ -S "$sock" ]
    export DEVINIT_CONTROL_SOCKET=$sock
    "$DEVINIT" --skip=all -- sleep 60 2>first.log 3>&- &
    FIRST=$!
    wait_for "$DEVINIT" health
    run "$DEVINIT" status
    echo "$output"
    [ "$status" -eq 0 ]
    # Live: a second devinit must neither take nor remove the first one's socket.
    run timeout 5 "$DEVINIT" --skip=all -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"another devinit answers on '$sock': no control socket here"* ]]
    [ -S "$sock" ]
    run "$DEVINIT" health
    [ "$status" -eq 0 ]
    kill -TERM "$FIRST"
    local code=0
    wait "$FIRST" || code=$?
    FIRST=
    echo "the first devinit: $code: $(cat first.log)"
    [ "$code" -eq 143 ]
    [ ! -e "$sock" ]
}
