#!/usr/bin/env bats
# The wait step while PostgreSQL comes and goes: a server started late is found at once, a
# server that refuses logins while in recovery (57P03) is waited for, a restart in the middle
# of the wait is survived, and the deadline ends the wait with 69 and the last reason.
load ../lib/common

setup_file() {
    export PGROOT
    PGROOT=$(mktemp -d /tmp/devinit-wait.XXXXXX)
    chmod 777 "$PGROOT"
    export PGDIR="$PGROOT/data"
    pg_init "$PGDIR"
}

teardown_file() {
    pg_stop "$PGDIR"
    rm -rf "$PGROOT"
}

setup() {
    cd "$BATS_TEST_TMPDIR"
    PORT=$(pg_free_port)
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
    DEVPID=
}

teardown() {
    [ -z "$DEVPID" ] || kill -KILL "$DEVPID" 2>/dev/null || true
    pg_stop "$PGDIR" immediate
    rm -f "$PGDIR/standby.signal"
}

# Starts devinit's wait step in the background; the app records when it started.
start_devinit() {
    "$DEVINIT" --only=wait -- sh -c 'date +%s%3N >app.started' >devinit.log 2>&1 &
    DEVPID=$!
}

# A server that stays in recovery and refuses every login with 57P03 ("the database system
# is not accepting connections", hot standby disabled) until promoted or restarted.
start_recovering() {
    touch "$PGDIR/standby.signal"
    chown postgres "$PGDIR/standby.signal"
    pg_ctl_as "$PGDIR" "-W -o \"$(pg_options "$PGDIR" "$PORT" hot_standby=off)\" -l '$PGDIR/server.log' start"
    wait_for sh -c "'$PG_BIN/psql' -X -h 127.0.0.1 -p $PORT -U postgres -c 'select 1' 2>&1 | grep -q 'not accepting connections'"
}

@test "a server started after devinit is detected within a second" {
    start_devinit
    sleep 1
    kill -0 "$DEVPID"
    [ ! -e app.started ]
    pg_start "$PGDIR" "$PORT"
    ready=$(now_ms)
    wait "$DEVPID"
    status=$?
    DEVPID=
    cat devinit.log
    [ "$status" -eq 0 ]
    grep -q "waiting for database at 127.0.0.1:$PORT/postgres: connection refused" devinit.log
    grep -q "ready: PostgreSQL 15" devinit.log
    # pg_ctl -w itself polls; the app must have started no later than a second after it saw
    # the server ready.
    [ "$(cat app.started)" -lt $((ready + 1000)) ]
}

@test "a server refusing logins in recovery (57P03) is waited for until it accepts" {
    start_recovering
    start_devinit
    sleep 1.5
    kill -0 "$DEVPID"
    [ ! -e app.started ]
    grep -q "not accepting connections" devinit.log
    pg_ctl_as "$PGDIR" "-w promote"
    wait "$DEVPID"
    status=$?
    DEVPID=
    cat devinit.log
    [ "$status" -eq 0 ]
    [ -e app.started ]
}

@test "a server restarting in the middle of the wait is survived" {
    start_recovering
    start_devinit
    sleep 1
    kill -0 "$DEVPID"
    rm -f "$PGDIR/standby.signal"
    t0=$(now_ms)
    pg_ctl_as "$PGDIR" "-w -m fast -o \"$(pg_options "$PGDIR" "$PORT")\" restart"
    wait "$DEVPID"
    status=$?
    DEVPID=
    cat devinit.log
    [ "$status" -eq 0 ]
    grep -q "not accepting connections" devinit.log
    [ "$(cat app.started)" -ge "$t0" ]
}

@test "the deadline ends the wait with 69, the last reason and progress on the way" {
    t0=$(now_ms)
    run env DEVINIT_WAIT_TIMEOUT=2500ms "$DEVINIT" --only=wait -- sh -c 'echo APP-RAN'
    t1=$(now_ms)
    echo "$output"
    [ "$status" -eq 69 ]
    [[ "$output" == *"not reachable within 2.5 s: connection refused"* ]]
    [[ "$output" == *"(2.0 s of 2.5 s)"* ]]
    [[ "$output" != *APP-RAN* ]]
    [ $((t1 - t0)) -ge 2500 ]
    [ $((t1 - t0)) -lt 4000 ]
}

@test "check makes one attempt round and does not wait" {
    t0=$(now_ms)
    run "$DEVINIT" check --only=wait --json
    t1=$(now_ms)
    echo "$output"
    [ "$status" -eq 69 ]
    [[ "$output" == *'"wait":{"status":"error"'*"connection refused"* ]]
    [ $((t1 - t0)) -lt 1000 ]
}
