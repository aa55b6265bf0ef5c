#!/usr/bin/env bats
# `[migrate] mode = deploy` with the native engine against a real PostgreSQL 15: Prisma's
# deploy protocol (advisory lock, table, one row per attempt, the script as one query), its
# refusals (P3005, P3009, P3018, P1002), two deploys at once, and a signal mid-deploy.
bats_require_minimum_version 1.5.0
load ../lib/common
load ../fixtures/migrations/helpers

setup_file() { mig_setup_file; }
teardown_file() { mig_teardown_file; }

setup() {
    mig_setup
    export DEVINIT_MIGRATE_MODE=deploy
    DEVPID=
}

teardown() {
    [ -z "$DEVPID" ] || kill -KILL "$DEVPID" 2>/dev/null || true
    mig_teardown
}

rows() {
    sql -F' ' -c "SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL,
                         applied_steps_count, logs IS NOT NULL
                  FROM _prisma_migrations ORDER BY started_at"
}

# A backend runs the test migration's pg_sleep(30).
sleeping() {
    [ -n "$(sql -c "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%'
                    AND state = 'active' AND pid <> pg_backend_pid()")" ]
}

@test "native deploy on an empty database creates Prisma's table and applies every migration" {
    add_migration 20240101000000_init 'CREATE TABLE "User" (id SERIAL PRIMARY KEY, email TEXT NOT NULL);'
    add_migration 20240102000000_index 'CREATE UNIQUE INDEX "User_email_key" ON "User"(email);'
    run "$DEVINIT" --only=migrate -- touch started
    echo "$output"
    [ "$status" -eq 0 ]
    [ -e started ]
    [[ "$output" == *"applied 2 migrations: '20240101000000_init', '20240102000000_index'"* ]]
    [ "$(rows)" = "20240101000000_init t f 1 f
20240102000000_index t f 1 f" ]
    # Rows as Prisma writes them: a v4 UUID, the file's sha256.
    sql -c "SELECT id FROM _prisma_migrations" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
    [ "$(sql -c "SELECT checksum FROM _prisma_migrations WHERE migration_name = '20240101000000_init'")" = "$(checksum_of 20240101000000_init)" ]
    # The table is column for column the one Prisma's DDL makes.
    sql -c "CREATE SCHEMA ref; SET search_path = ref; $PRISMA_MIGRATIONS_DDL" >/dev/null
    describe() {
        sql -c "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
                FROM information_schema.columns WHERE table_schema = '$1'
                AND table_name = '_prisma_migrations' ORDER BY ordinal_position"
        sql -c "SELECT conname, contype FROM pg_constraint
                WHERE conrelid = '$1._prisma_migrations'::regclass"
    }
    [ "$(describe public)" = "$(describe ref)" ]
    [ -n "$(sql -c "SELECT 1 FROM pg_indexes WHERE indexname = 'User_email_key'")" ]
    # Nothing left to do the second time.
    run "$DEVINIT" check --only=migrate
    [ "$status" -eq 0 ]
}

@test "native deploy applies only the pending migrations" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    run "$DEVINIT" --only=migrate -- true
    [ "$status" -eq 0 ]
    add_migration 20240102000000_more 'CREATE TABLE b (id int);'
    run "$DEVINIT" check --only=migrate
    [ "$status" -eq 1 ]
    [[ "$output" == *"would-run  1 migration to apply: '20240102000000_more'"* ]]
    run "$DEVINIT" --only=migrate -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"applied 1 migration: '20240102000000_more'"* ]]
    [ "$(rows)" = "20240101000000_init t f 1 f
20240102000000_more t f 1 f" ]
}

@test "native deploy re-applies a rolled-back migration with a new row" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    row 20240101000000_init "$(checksum_of 20240101000000_init)" rolled_back
    run "$DEVINIT" --only=migrate -- true
    [ "$status" -eq 0 ]
    [ "$(rows)" = "20240101000000_init f t 0 f
20240101000000_init t f 1 f" ]
}

@test "native deploy refuses to apply anything after a failed migration (P3009)" {
    add_migration 20240101000000_bad 'CREATE TABLE a (id int);'
    add_migration 20240102000000_next 'CREATE TABLE b (id int);'
    create_table
    row 20240101000000_bad "$(checksum_of 20240101000000_bad)" failed "boom"
    DEVINIT_MIGRATE_FAILED=warn run "$DEVINIT" --only=migrate -- touch started
    echo "$output"
    [ "$status" -eq 65 ]
    [ ! -e started ]
    [[ "$output" == *"'20240101000000_bad'"*"P3009"*"npx prisma migrate resolve --rolled-back 20240101000000_bad"* ]]
    [ "$(rows)" = "20240101000000_bad f f 0 t" ]
    [ -z "$(sql -c "SELECT to_regclass('public.b')")" ]
}

@test "a migration whose SQL fails is left failed with its error in logs, and exits 65" {
    add_migration 20240101000000_ok 'CREATE TABLE a (id int);'
    add_migration 20240102000000_bad "$(printf 'CREATE TABLE half (id int);\nCREATE TABLE oops (id nosuchtype);')"
    add_migration 20240103000000_after 'CREATE TABLE c (id int);'
    run "$DEVINIT" --only=migrate -- touch started
    echo "$output"
    [ "$status" -eq 65 ]
    [ ! -e started ]
    [[ "$output" == *"migration '20240102000000_bad' failed: "*'type "nosuchtype" does not exist'*"P3018"*"npx prisma migrate resolve --rolled-back 20240102000000_bad"* ]]
    [ "$(rows)" = "20240101000000_ok t f 1 f
20240102000000_bad f f 0 t" ]
    logs=$(sql -c "SELECT logs FROM _prisma_migrations WHERE migration_name = '20240102000000_bad'")
    [[ "$logs" == *"Migration name: 20240102000000_bad"* ]]
    [[ "$logs" == *"Database error code: 42704"* ]]
    [[ "$logs" == *'type "nosuchtype" does not exist'* ]]
    # One implicit transaction: the statement before the error is gone too, and the message
    # says so rather than send the user to repair the database by hand.
    [ -z "$(sql -c "SELECT to_regclass('public.half')")" ]
    [[ "$output" == *"PostgreSQL rolled its whole script back, so nothing of it is applied"* ]]
    [[ "$output" != *"by hand"* ]]
    [ -z "$(sql -c "SELECT to_regclass('public.c')")" ]
    # And the next deploy stops on it.
    run "$DEVINIT" --only=migrate -- true
    [ "$status" -eq 65 ]
    [[ "$output" == *"P3009"* ]]
}

@test "a failing script with its own BEGIN still gets its failure recorded" {
    add_migration 20240101000000_tx "$(printf 'BEGIN;\nCREATE TABLE a (id int);\nSELECT 1/0;\nCOMMIT;')"
    run "$DEVINIT" --only=migrate -- true
    echo "$output"
    [ "$status" -eq 65 ]
    [ "$(rows)" = "20240101000000_tx f f 0 t" ]
    [[ "$(sql -c 'SELECT logs FROM _prisma_migrations')" == *"division by zero"* ]]
}

@test "a failing script that committed part of itself says that part stays applied" {
    add_migration 20240101000000_tx "$(printf 'BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nSELECT 1/0;')"
    run "$DEVINIT" --only=migrate -- true
    echo "$output"
    [ "$status" -eq 65 ]
    [ -n "$(sql -c "SELECT to_regclass('public.a')")" ]
    [[ "$output" == *"the part of its script before its own COMMIT stays applied"*"undo that part by hand"* ]]
    [[ "$output" != *"rolled its whole script back"* ]]
}

@test "a replica that waited for the lock says another instance applied the migrations" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    hold_advisory_lock
    DEVINIT_MIGRATE_LOCK_TIMEOUT=30s "$DEVINIT" --only=migrate -- touch started >devinit.log 2>&1 &
    DEVPID=$!
    wait_for grep -q "waiting for Prisma Migrate's advisory lock" devinit.log
    # The other instance, holding the lock, applies it as Prisma does, then lets go.
    create_table
    sql -c 'CREATE TABLE a (id int)' >/dev/null
    applied 20240101000000_init
    release_holder
    s=0
    wait "$DEVPID" || s=$?
    DEVPID=
    cat devinit.log
    [ "$s" -eq 0 ]
    [ -e started ]
    grep -q "1 migration to apply: '20240101000000_init'" devinit.log
    grep -q "nothing left to apply: another instance applied the 1 migration while this one waited for Prisma Migrate's advisory lock; 1 migration applied, database up to date" devinit.log
    run ! grep -q "nothing to apply" devinit.log
    [ "$(sql -c "SELECT count(*) FROM _prisma_migrations")" -eq 1 ]
}

@test "a schema that has tables but no _prisma_migrations is refused (P3005)" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    sql -c 'CREATE TABLE legacy (id int)' >/dev/null
    run "$DEVINIT" --only=migrate -- touch started
    echo "$output"
    [ "$status" -eq 65 ]
    [ ! -e started ]
    [[ "$output" == *"schema 'public' has 1 table but no _prisma_migrations table (Prisma error P3005)"* ]]
    [ -z "$(sql -c "SELECT to_regclass('public._prisma_migrations')")" ]
}

@test "deploy into a schema that does not exist yet creates it" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/$DB?schema=my%20app"
    run "$DEVINIT" --only=migrate -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [ -n "$(sql -c "SELECT to_regclass('\"my app\"._prisma_migrations')")" ]
    # The script ran with search_path set to the schema, as Prisma runs it.
    [ -n "$(sql -c "SELECT to_regclass('\"my app\".a')")" ]
    [ -z "$(sql -c "SELECT to_regclass('public.a')")" ]
}

@test "two devinit processes deploying at once apply each migration exactly once" {
    add_migration 20240101000000_slow "$(printf 'SELECT pg_sleep(1);\nCREATE TABLE a (id int);')"
    add_migration 20240102000000_next 'CREATE TABLE b (id int);'
    "$DEVINIT" --only=migrate -- touch one >one.log 2>&1 &
    P1=$!
    "$DEVINIT" --only=migrate -- touch two >two.log 2>&1 &
    P2=$!
    s1=0 s2=0
    wait $P1 || s1=$?
    wait $P2 || s2=$?
    cat one.log two.log
    [ "$s1" -eq 0 ]
    [ "$s2" -eq 0 ]
    [ -e one ]
    [ -e two ]
    [ "$(rows)" = "20240101000000_slow t f 1 f
20240102000000_next t f 1 f" ]
    # One of them applied both; the other found, under the lock, nothing left to do.
    [ "$(cat one.log two.log | grep -c "applied 2 migrations")" -eq 1 ]
    [ "$(cat one.log two.log | grep -c "nothing left to apply: another instance applied the 2 migrations while this one waited")" -eq 1 ]
}

@test "a lock held elsewhere past lock_timeout exits 69 with P1002" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    hold_advisory_lock
    t0=$(now_ms)
    DEVINIT_MIGRATE_LOCK_TIMEOUT=300ms run "$DEVINIT" --only=migrate -- touch started
    t1=$(now_ms)
    echo "$output"
    [ "$status" -eq 69 ]
    [ ! -e started ]
    [[ "$output" == *"timed out after 300 ms waiting for Prisma Migrate's advisory lock"*"P1002"* ]]
    [ $((t1 - t0)) -lt 3000 ]
    [ -z "$(sql -c "SELECT to_regclass('public._prisma_migrations')")" ]
}

@test "SIGTERM while waiting for the advisory lock exits 143 at once" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    hold_advisory_lock
    "$DEVINIT" --only=migrate -- touch started >devinit.log 2>&1 &
    DEVPID=$!
    wait_for grep -q "1 migration to apply" devinit.log
    sleep 0.2
    t0=$(now_ms)
    kill -TERM "$DEVPID"
    s=0
    wait "$DEVPID" || s=$?
    t1=$(now_ms)
    DEVPID=
    cat devinit.log
    echo "status $s after $((t1 - t0)) ms"
    [ "$s" -eq 143 ]
    [ $((t1 - t0)) -lt 1000 ]
    [ ! -e started ]
    # Our session is gone: it neither waits for the lock any more nor got it.
    [ "$(sql -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707369")" -eq 1 ]
}

@test "SIGTERM during a migration exits 143 promptly and leaves its row failed with logs" {
    add_migration 20240101000000_ok 'CREATE TABLE a (id int);'
    add_migration 20240102000000_slow "$(printf 'CREATE TABLE half (id int);\nSELECT pg_sleep(30);')"
    "$DEVINIT" --only=migrate -- touch started >devinit.log 2>&1 &
    DEVPID=$!
    wait_for grep -q "applying '20240102000000_slow'" devinit.log
    wait_for sleeping
    sleep 0.3
    t0=$(now_ms)
    kill -TERM "$DEVPID"
    s=0
    wait "$DEVPID" || s=$?
    t1=$(now_ms)
    DEVPID=
    cat devinit.log
    echo "status $s after $((t1 - t0)) ms"
    [ "$s" -eq 143 ]
    [ $((t1 - t0)) -lt 2000 ]
    [ ! -e started ]
    # The statement was cancelled: no backend still sleeps, the lock is free, the script's
    # transaction rolled back, and the row says failed, with the reason.
    run ! sleeping
    for i in $(seq 20); do advisory_held || break; sleep 0.05; done
    run ! advisory_held
    [ -z "$(sql -c "SELECT to_regclass('public.half')")" ]
    [ "$(rows)" = "20240101000000_ok t f 1 f
20240102000000_slow f f 0 t" ]
    logs=$(sql -c "SELECT logs FROM _prisma_migrations WHERE migration_name = '20240102000000_slow'")
    [[ "$logs" == *"Database error code: 57014"* ]]
    [[ "$logs" == *"stopped by a signal"* ]]
    # Prisma's rule from here: the next deploy refuses, naming the way out.
    run "$DEVINIT" --only=migrate -- true
    [ "$status" -eq 65 ]
    [[ "$output" == *"npx prisma migrate resolve --rolled-back 20240102000000_slow"* ]]
}

@test "SIGKILL during a migration: the server aborts the script and frees the lock" {
    add_migration 20240101000000_slow "$(printf 'CREATE TABLE half (id int);\nSELECT pg_sleep(30);')"
    "$DEVINIT" --only=migrate -- true >devinit.log 2>&1 &
    DEVPID=$!
    wait_for sleeping
    wait_for grep -q "applying" devinit.log
    kill -KILL "$DEVPID"
    wait "$DEVPID" || true
    DEVPID=
    # client_connection_check_interval: the backend notices the closed socket within ~1 s.
    for i in $(seq 60); do sleeping || break; sleep 0.1; done
    run ! sleeping
    run ! advisory_held
    [ -z "$(sql -c "SELECT to_regclass('public.half')")" ]
    [ "$(rows)" = "20240101000000_slow f f 0 f" ]
}
