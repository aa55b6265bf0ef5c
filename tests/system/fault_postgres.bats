#!/usr/bin/env bats
# PostgreSQL crashing (pg_ctl -m immediate) or restarting (-m fast) under devinit: during the
# wait, during `devinit check`, and in the middle of a native deploy. devinit never hangs, a
# migration is never left half-applied without a trace, and the next start says what happened.
load ../lib/common
load ../fixtures/migrations/helpers

setup_file() { mig_setup_file; }
teardown_file() { mig_teardown_file; }

setup() {
    mig_setup
    DPID=
}

teardown() {
    [ -z "$DPID" ] || kill -KILL "$DPID" 2>/dev/null || true
    [ -z "$HOLDER" ] || kill -KILL "$HOLDER" 2>/dev/null || true
    rm -f "$PGDIR/standby.signal"
    # The next test needs the server back.
    if ! "$PG_BIN/pg_isready" -q -h "$PGDIR" -p "$PORT"; then
        pg_stop "$PGDIR" immediate
        pg_start "$PGDIR" "$PORT"
    fi
}


restart_server() {
    pg_ctl_as "$PGDIR" "-w -t 30 -m ${1:-fast} -o \"$(pg_options "$PGDIR" "$PORT")\" -l '$PGDIR/server.log' restart"
}

# waits_on_lock: a backend of our database waits for a lock (the check's query, blocked).
waits_on_lock() {
    [ -n "$(sql -c "SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
                    AND wait_event_type = 'Lock'")" ]
}

sleeping() {
    [ -n "$(sql -c "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%'
                    AND state = 'active' AND pid <> pg_backend_pid()")" ]
}

rows() {
    sql -F' ' -c "SELECT migration_name, finished_at IS NOT NULL, coalesce(logs, '') <> ''
                  FROM _prisma_migrations ORDER BY started_at"
}

# finish_within SECONDS: waits for $DPID; STATUS and MS (since T0) say how it ended.
finish_within() {
    local i
    for i in $(seq $(($1 * 20))); do
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$DPID" 2>/dev/null; then
        echo "devinit still runs after $1 s"
        cat devinit.log
        return 1
    fi
    STATUS=0
    wait "$DPID" || STATUS=$?
    MS=$(($(now_ms) - T0))
    DPID=
    cat devinit.log
    echo "devinit exited $STATUS after $MS ms"
}

@test "a crash during the wait for a server in recovery is waited out, and the app starts when it is back" {
    pg_stop "$PGDIR"
    touch "$PGDIR/standby.signal"
    chown postgres "$PGDIR/standby.signal"
    pg_ctl_as "$PGDIR" "-W -o \"$(pg_options "$PGDIR" "$PORT" hot_standby=off)\" -l '$PGDIR/server.log' start"
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
    "$DEVINIT" --only=wait -- touch app-ran >devinit.log 2>&1 &
    DPID=$!
    wait_for grep -q "not accepting connections" devinit.log
    pg_stop "$PGDIR" immediate
    sleep 0.5
    kill -0 "$DPID"
    [ ! -e app-ran ]
    rm -f "$PGDIR/standby.signal"
    pg_start "$PGDIR" "$PORT"
    T0=$(now_ms)
    finish_within 10
    [ "$STATUS" -eq 0 ]
    [ -e app-ran ]
    # The outage itself is proven above (devinit alive, no app while the server was down);
    # its reason shows only if a 2-second progress line fell inside it, so it is not asserted.
    grep -q "ready: PostgreSQL 15" devinit.log
}

@test "a crash during devinit check ends it with 69 at once, naming the database" {
    add_migration 20240101000000_a 'CREATE TABLE a (id int);'
    create_table
    applied 20240101000000_a
    # Every reader of _prisma_migrations blocks behind another session.
    hold_table 'access exclusive'
    "$DEVINIT" check --only=wait,migrate >devinit.log 2>&1 &
    DPID=$!
    wait_for waits_on_lock
    T0=$(now_ms)
    pg_stop "$PGDIR" immediate
    finish_within 5
    [ "$STATUS" -eq 69 ]
    [ "$MS" -lt 2000 ]
    grep -q "migrate: error: cannot read _prisma_migrations on '127.0.0.1:$PORT/$DB'" devinit.log
    grep -q "^not ready" devinit.log
    # Back up, the same check passes: it changed nothing.
    pg_start "$PGDIR" "$PORT"
    run "$DEVINIT" check --only=wait,migrate
    [ "$status" -eq 0 ]
}

@test "a fast restart during devinit check ends it with 69 at once, and a second check passes" {
    add_migration 20240101000000_a 'CREATE TABLE a (id int);'
    create_table
    applied 20240101000000_a
    # Every reader of _prisma_migrations blocks behind another session.
    hold_table 'access exclusive'
    "$DEVINIT" check --only=wait,migrate --json >devinit.log 2>devinit.err &
    DPID=$!
    wait_for waits_on_lock
    T0=$(now_ms)
    restart_server fast
    finish_within 5
    cat devinit.err
    [ "$STATUS" -eq 69 ]
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["steps"]["migrate"]["status"] == "error", d' devinit.log
    grep -q "terminating connection due to administrator command" devinit.log
    run "$DEVINIT" check --only=wait,migrate
    [ "$status" -eq 0 ]
}

# deploy_then CRASH: a native deploy of two migrations, the second of which sleeps between
# two statements; CRASH (immediate or fast) hits the server during the sleep.
deploy_then() {
    add_migration 20240101000000_a 'CREATE TABLE a (id int);'
    add_migration 20240102000000_b "$(printf 'CREATE TABLE half (id int);\nSELECT pg_sleep(3);\nCREATE TABLE b (id int);')"
    DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" --only=wait,migrate -- touch app-ran >devinit.log 2>&1 &
    DPID=$!
    wait_for sleeping
    T0=$(now_ms)
    if [ "$1" = immediate ]; then
        pg_stop "$PGDIR" immediate
        finish_within 10
        pg_start "$PGDIR" "$PORT"
    else
        restart_server fast
        finish_within 10
    fi
}

# The row of the interrupted migration: failed (never finished) and never half-applied.
assert_not_half_applied() {
    [ "$(rows)" = "20240101000000_a t f
20240102000000_b f f" ]
    # Without logs, the script's transaction must be gone with the server's session: a row
    # that says nothing while the tables exist would be a silent half-application.
    [ -n "$(sql -c "SELECT to_regclass('public.a')")" ]
    [ -z "$(sql -c "SELECT to_regclass('public.half')")" ]
    [ -z "$(sql -c "SELECT to_regclass('public.b')")" ]
}

# The next start: the failed row stops it with 65, naming the migration and the way out.
assert_next_start_reports_it() {
    run env DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" --only=wait,migrate -- touch app-ran
    echo "$output"
    [ "$status" -eq 65 ]
    [[ "$output" == *"failed migration in the database: '20240102000000_b'"*"npx prisma migrate resolve --rolled-back 20240102000000_b"* ]]
    [ ! -e app-ran ]
    # Once resolved, the deploy applies it again from the start, and the app runs.
    sql -c "UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '20240102000000_b'" >/dev/null
    run env DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" --only=wait,migrate -- touch app-ran
    echo "$output"
    [ "$status" -eq 0 ]
    [ -e app-ran ]
    [ -n "$(sql -c "SELECT to_regclass('public.b')")" ]
}

@test "a crash in the middle of a native deploy exits 69 naming the migration, which is left failed, not half-applied" {
    deploy_then immediate
    [ "$STATUS" -eq 69 ]
    [ "$MS" -lt 3000 ]
    [ ! -e app-ran ]
    grep -q "lost the connection to '127.0.0.1:$PORT/$DB' while applying '20240102000000_b'" devinit.log
    assert_not_half_applied
    assert_next_start_reports_it
}

@test "a fast restart in the middle of a native deploy exits 69 naming the migration, which is left failed, not half-applied" {
    deploy_then fast
    [ "$STATUS" -eq 69 ]
    [ ! -e app-ran ]
    grep -q "while applying '20240102000000_b': terminating connection due to administrator command" devinit.log
    assert_not_half_applied
    assert_next_start_reports_it
}
