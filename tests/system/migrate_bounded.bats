#!/usr/bin/env bats
# Every query of the migrate step on _prisma_migrations is bounded by [migrate] timeout (and the
# advisory lock by [migrate] lock_timeout) against a real PostgreSQL 15, with a real psql
# session holding the lock: devinit says what it waits for and who holds it, and exits 69 at
# the deadline instead of hanging in silence.
bats_require_minimum_version 1.5.0
load ../lib/common
load ../fixtures/migrations/helpers

setup_file() { mig_setup_file; }
teardown_file() { mig_teardown_file; }

setup() { mig_setup; }
teardown() { mig_teardown; }

@test "check exits 69 at [migrate] timeout while another session locks _prisma_migrations, naming it" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    applied 20240101000000_init
    hold_table 'access exclusive'
    t0=$(now_ms)
    # timeout: a devinit without the bound would hang here for ever.
    DEVINIT_MIGRATE_TIMEOUT=3s run timeout 30 "$DEVINIT" check --only=migrate
    t1=$(now_ms)
    echo "$output"
    echo "after $((t1 - t0)) ms"
    [ "$status" -eq 69 ]
    [[ "$output" == *"migrate: info: waiting for the lock on _prisma_migrations held by pid $PID ('psql', active)"* ]]
    [[ "$output" == *"migrate: error: timed out after 3 s waiting for the lock on _prisma_migrations"*"held by pid $PID"*"raise [migrate] timeout"* ]]
    [ $((t1 - t0)) -ge 3000 ]
    [ $((t1 - t0)) -lt 8000 ]
}

@test "the start-up step is bounded the same way and the app never starts" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    applied 20240101000000_init
    hold_table 'access exclusive'
    DEVINIT_MIGRATE_TIMEOUT=2s run timeout 30 "$DEVINIT" --only=migrate -- touch started
    echo "$output"
    [ "$status" -eq 69 ]
    [ ! -e started ]
    [[ "$output" == *"held by pid $PID"* ]]
}

@test "once the lock is released within the timeout, check goes on and answers" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    applied 20240101000000_init
    hold_table 'access exclusive'
    (sleep 1.5 && release_holder) >/dev/null 2>&1 &
    DEVINIT_MIGRATE_TIMEOUT=20s run timeout 30 "$DEVINIT" check --only=migrate
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"waiting for the lock on _prisma_migrations held by pid $PID"* ]]
    [[ "$output" == *"1 migration applied, database up to date"* ]]
}

@test "a deploy that cannot record its migration in time exits 69 and leaves no row" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    # EXCLUSIVE lets the state be read but not a row be inserted.
    hold_table exclusive
    DEVINIT_MIGRATE_MODE=deploy DEVINIT_MIGRATE_TIMEOUT=2s run timeout 30 "$DEVINIT" --only=migrate -- touch started
    echo "$output"
    [ "$status" -eq 69 ]
    [ ! -e started ]
    [[ "$output" == *"waiting for the lock on _prisma_migrations held by pid $PID"* ]]
    release_holder
    wait_for eval '! table_held ExclusiveLock'
    [ "$(sql -c "SELECT count(*) FROM _prisma_migrations")" -eq 0 ]
    [ -z "$(sql -c "SELECT to_regclass('public.a')")" ]
    # Nothing was left half done: the next deploy applies it.
    DEVINIT_MIGRATE_MODE=deploy run "$DEVINIT" --only=migrate -- true
    [ "$status" -eq 0 ]
    [ "$(sql -c "SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL")" -eq 1 ]
}

@test "a deploy waiting for Prisma's advisory lock says which session holds it" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    hold_advisory_lock
    DEVINIT_MIGRATE_MODE=deploy DEVINIT_MIGRATE_LOCK_TIMEOUT=2500ms run timeout 30 "$DEVINIT" --only=migrate -- true
    echo "$output"
    [ "$status" -eq 69 ]
    [[ "$output" == *"migrate: info: waiting for Prisma Migrate's advisory lock held by pid $PID ('psql', active)"* ]]
    [[ "$output" == *"timed out after 2.5 s waiting for Prisma Migrate's advisory lock (72707369)"*"held by pid $PID"*"P1002"* ]]
}

@test "[migrate] timeout is a documented key with its environment variable" {
    grep -q '^timeout = 30s' "$DEVINIT_SOURCE_DIR/config.ini.example"
    printf '[migrate]\ntimeout = soon\n' >devinit.ini
    run "$DEVINIT" check --only=migrate
    [ "$status" -eq 78 ]
    rm devinit.ini
    DEVINIT_MIGRATE_TIMEOUT=soon run "$DEVINIT" check --only=migrate
    echo "$output"
    [ "$status" -eq 78 ]
}
