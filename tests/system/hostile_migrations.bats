#!/usr/bin/env bats
# Odd migrations folders against a real PostgreSQL 15: ten thousand migrations, the longest
# name a file system allows, names that are not UTF-8, symlink loops, FIFOs, directories and
# unreadable files in place of migration.sql, and a 100 MB migration.sql.
bats_require_minimum_version 1.5.0
load ../lib/common
load ../fixtures/migrations/helpers

setup_file() { mig_setup_file; }
teardown_file() { mig_teardown_file; }

setup() {
    mig_setup
    OPEN=
}

teardown() {
    if [ -n "$OPEN" ]; then
        chmod -R u+rwx "$OPEN" 2>/dev/null || true
        rm -rf "$OPEN"
    fi
}

M=prisma/migrations

# check_json_ok: `devinit check --only=wait,migrate --json`; its stdout must be valid JSON.
# Sets STATUS and MIGRATE (the migrate object, as JSON).
check_json_ok() {
    STATUS=0
    "$DEVINIT" check --only=wait,migrate --json >check.json 2>check.err || STATUS=$?
    cat check.err
    MIGRATE=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1], encoding="utf-8"))["steps"]["migrate"]))' check.json)
    echo "$MIGRATE"
}

@test "10,000 migrations are checked and deployed in seconds, with the timings printed" {
    # On tmpfs, through [migrate] dir: removing 10,000 folders from this machine's disk takes
    # longer than the whole test.
    OPEN=$(mktemp -d /dev/shm/devinit-10k.XXXXXX)
    cp "$M/migration_lock.toml" "$OPEN/"
    export DEVINIT_MIGRATE_DIR=$OPEN
    python3 - "$OPEN" <<'PY'
import os, sys
for i in range(10000):
    d = "%s/2024%010d_m%d" % (sys.argv[1], i, i)
    os.mkdir(d)
    with open(d + "/migration.sql", "w") as f:
        f.write("SELECT %d;\n" % i)
PY
    t0=$(now_ms)
    run "$DEVINIT" check --only=wait,migrate
    t1=$(now_ms)
    [ "$status" -eq 1 ] # pending migrations: check is not ready
    [[ "$output" == *"10000 migrations not applied: '20240000000000_m0', "*" and 9995 more"* ]]
    t2=$(now_ms)
    run env DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" -q --only=wait,migrate -- true
    t3=$(now_ms)
    [ "$status" -eq 0 ]
    [ "$(sql -c "SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL")" -eq 10000 ]
    t4=$(now_ms)
    check_json_ok
    t5=$(now_ms)
    [ "$STATUS" -eq 0 ]
    [[ "$MIGRATE" == *'"reason": "10000 migrations applied, database up to date"'* ]]
    echo "# 10,000 migrations: check (all pending) $((t1 - t0)) ms, native deploy $((t3 - t2)) ms, check --json (all applied) $((t5 - t4)) ms" >&3
    [ $((t1 - t0)) -lt 5000 ]
    [ $((t5 - t4)) -lt 5000 ]
}

@test "a migration named with 255 bytes, the most a file name holds, is deployed under its full name" {
    name="20240101000000_$(printf 'a%.0s' $(seq 240))"
    [ "${#name}" -eq 255 ]
    add_migration "$name" 'CREATE TABLE longname (id int);'
    run env DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" --only=wait,migrate -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(sql -c "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL")" = "$name" ]
    check_json_ok
    [ "$STATUS" -eq 0 ]
    [[ "$MIGRATE" == *"\"applied\": [\"$name\"]"* ]]
}

@test "a folder name that is not UTF-8 keeps check --json valid, and deploy refuses it before applying anything" {
    add_migration 20240101000000_ok 'CREATE TABLE ok (id int);'
    bad=$'20240102000000_caf\xe9'
    add_migration "$bad" 'CREATE TABLE latin1 (id int);'
    check_json_ok
    [ "$STATUS" -eq 1 ] # pending migrations: check is not ready
    # The byte that is not UTF-8 became U+FFFD; the document is readable.
    [[ "$MIGRATE" == *'"pending": ["20240101000000_ok", "20240102000000_caf\ufffd"]'* ]]
    [[ "$(cat check.err)" == *"is not named in UTF-8, which _prisma_migrations cannot store: deploy would refuse it; rename the folder"* ]]
    run env DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" --only=wait,migrate -- touch app-ran
    echo "$output"
    [ "$status" -eq 65 ]
    [ ! -e app-ran ]
    # Log lines show the byte escaped, never raw.
    shown='20240102000000_caf\xe9'
    [[ "$output" == *"migration folder '$shown' in '$M' is not named in UTF-8"* ]]
    # Refused before anything was applied: no half-done deploy.
    [ -z "$(sql -c "SELECT migration_name FROM _prisma_migrations")" ]
    [ -z "$(sql -c "SELECT to_regclass('public.ok')")" ]
    [ -z "$(sql -c "SELECT to_regclass('public.latin1')")" ]
}

@test "symlink loops: a looping migration.sql is unreadable, looping folder links are ignored, a looping folder exits 78" {
    add_migration 20240101000000_ok 'CREATE TABLE ok (id int);'
    mkdir "$M/20240102000000_loop"
    ln -s migration.sql "$M/20240102000000_loop/migration.sql"
    ln -s 20240199000000_self "$M/20240199000000_self"
    ln -s . "$M/20240198000000_dot"
    run timeout -s KILL 10 "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 1 ] # pending migrations: check is not ready
    [[ "$output" == *"2 migrations not applied: '20240101000000_ok', '20240102000000_loop'"* ]]
    [[ "$output" != *20240199000000_self* ]]
    [[ "$output" != *20240198000000_dot* ]]
    run timeout -s KILL 10 env DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" --only=wait,migrate -- touch app-ran
    echo "$output"
    [ "$status" -eq 65 ]
    [[ "$output" == *"'20240102000000_loop' cannot be applied: '$M/20240102000000_loop/migration.sql': Too many levels of symbolic links (Prisma error P3015)"* ]]
    [ ! -e app-ran ]
    # The migrations folder itself a loop.
    mv prisma/migrations prisma/real
    ln -s migrations prisma/migrations
    run timeout -s KILL 10 "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"cannot open the migrations folder '$M': Too many levels of symbolic links"* ]]
}

@test "a FIFO or a directory in place of migration.sql neither hangs check nor gets deployed" {
    mkdir "$M/20240101000000_fifo" "$M/20240102000000_dir"
    mkfifo "$M/20240101000000_fifo/migration.sql"
    mkdir "$M/20240102000000_dir/migration.sql"
    run timeout -s KILL 10 "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 1 ] # pending migrations: check is not ready
    [[ "$output" == *"2 migrations not applied"* ]]
    run timeout -s KILL 10 env DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" --only=wait,migrate -- touch app-ran
    echo "$output"
    [ "$status" -eq 65 ]
    [[ "$output" == *"'20240101000000_fifo' cannot be applied"*"(Prisma error P3015)"* ]]
    [ ! -e app-ran ]
    [ -z "$(sql -c "SELECT 1 FROM _prisma_migrations")" ]
    rm -rf "$M/20240101000000_fifo"
    run timeout -s KILL 10 env DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" --only=wait,migrate -- touch app-ran
    echo "$output"
    [ "$status" -eq 65 ]
    [[ "$output" == *"'$M/20240102000000_dir/migration.sql': Is a directory (Prisma error P3015)"* ]]
}

@test "migration.sql files a non-root devinit cannot read are reported, and never deployed" {
    # Root reads a mode 000 file anyway: run devinit as nobody, in a folder nobody can enter.
    OPEN=$(mktemp -d /tmp/devinit-open.XXXXXX)
    chmod 755 "$OPEN"
    cp -r prisma "$OPEN/"
    cd "$OPEN"
    add_migration 20240101000000_a 'CREATE TABLE a (id int);'
    add_migration 20240102000000_b 'CREATE TABLE b (id int);'
    create_table
    applied 20240101000000_a
    chmod -R a+rX "$OPEN"
    chmod 000 "$M/20240101000000_a/migration.sql" "$M/20240102000000_b/migration.sql"
    as_nobody() {
        su nobody -s /bin/sh -c 'cd "$1" && shift && exec env DEVINIT_CONTROL_SOCKET= "$@"' -- sh "$OPEN" "$@"
    }
    run as_nobody DATABASE_URL="$DATABASE_URL" "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 1 ] # pending migrations: check is not ready
    [[ "$output" == *"1 migration not applied: '20240102000000_b'"* ]]
    [[ "$output" == *"1 applied migration has no readable migration.sql in '$M': '20240101000000_a' (Permission denied) (Prisma error P3015): restore the file from version control or make it a readable file"* ]]
    run as_nobody DATABASE_URL="$DATABASE_URL" DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" --only=wait,migrate -- touch app-ran
    echo "$output"
    [ "$status" -eq 65 ]
    [[ "$output" == *"'20240102000000_b' cannot be applied: '$M/20240102000000_b/migration.sql': Permission denied (Prisma error P3015)"* ]]
    [ ! -e app-ran ]
    [ "$(sql -c "SELECT migration_name FROM _prisma_migrations")" = 20240101000000_a ]
}

# A 100 MB migration.sql: one statement, then a million comment lines.
big_migration() {
    mkdir -p "$M/20240101000000_big"
    python3 - "$M/20240101000000_big/migration.sql" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("CREATE TABLE big (id int);\n")
    line = "-- " + "x" * 96 + "\n"
    for _ in range(1000000):
        f.write(line)
PY
}

@test "a 100 MB migration.sql gets its checksum computed and compared" {
    big_migration
    create_table
    applied 20240101000000_big
    run "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"1 migration applied, database up to date"* ]]
    # One byte changed at the very end is an edit.
    printf 'y' >>"$M/20240101000000_big/migration.sql"
    run "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [[ "$output" == *"1 migration was changed after being applied: '20240101000000_big'"* ]]
}

@test "checking a 100 MB migration.sql keeps devinit's peak memory under 50 MB" {
    # A file over 1 MiB is hashed while it is read (raw, CRLF and LF variants) and not kept.
    big_migration
    create_table
    applied 20240101000000_big
    run /usr/bin/time -f 'max-rss-kb %M' "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 0 ]
    kb=$(echo "$output" | awk '/^max-rss-kb/ {print $2}')
    echo "# check of a 100 MB migration.sql: VmHWM $kb kB" >&3
    [ "$kb" -lt 51200 ]
}

@test "a 100 MB migration.sql is deployed from the file, its checksum recorded as Prisma would" {
    big_migration
    run env DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" --only=wait,migrate -- touch app-ran
    echo "$output"
    [ "$status" -eq 0 ]
    [ -e app-ran ]
    [ "$(sql -c "SELECT checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL")" = \
        "$(sha256sum "$M/20240101000000_big/migration.sql" | cut -d' ' -f1)" ]
    [ "$(sql -c "SELECT to_regclass('public.big')")" = big ]
}

@test "a NUL byte in migration.sql exits 65 in check and at start, naming the file and its offset, before anything runs" {
    add_migration 20240101000000_ok 'CREATE TABLE ok (id int);'
    mkdir -p "$M/20240102000000_nul"
    # What the server would see of it: only the statement before the NUL.
    printf 'CREATE TABLE before_nul (id int);\0CREATE TABLE after_nul (id int);\n' \
        >"$M/20240102000000_nul/migration.sql"
    want="'$M/20240102000000_nul/migration.sql' holds a NUL byte at offset 33"
    run "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 65 ]
    [[ "$output" == *"$want"* ]]
    check_json_ok
    [ "$STATUS" -eq 65 ]
    [[ "$MIGRATE" == *"holds a NUL byte at offset 33"* ]]
    for mode in deploy check; do
        run env DEVINIT_MIGRATE_MODE=$mode "$DEVINIT" --only=wait,migrate -- touch app-ran
        echo "$output"
        [ "$status" -eq 65 ]
        [ ! -e app-ran ]
        [[ "$output" == *"$want"* ]]
    done
    # Nothing ran: not the good migration before it, not the part before the NUL.
    [ -z "$(sql -c "SELECT to_regclass('public._prisma_migrations')")" ]
    [ -z "$(sql -c "SELECT to_regclass('public.ok')")" ]
    [ -z "$(sql -c "SELECT to_regclass('public.before_nul')")" ]
}

@test "a NUL byte 2 MB into a streamed migration.sql is found at its offset, applied row or not" {
    mkdir -p "$M/20240101000000_bignul"
    python3 - "$M/20240101000000_bignul/migration.sql" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"CREATE TABLE bignul (id int);\n" + b"-" * (2000000 - 30) + b"\0tail\n")
PY
    create_table
    applied 20240101000000_bignul
    run "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 65 ]
    [[ "$output" == *"20240101000000_bignul/migration.sql' holds a NUL byte at offset 2000000"* ]]
}

@test "a migration named with control characters and a newline is shown escaped, on one line" {
    bad=$'20240101000000_a\e[31mred\nnext'
    add_migration "$bad" 'CREATE TABLE esc (id int);'
    run "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 1 ] # pending migrations: check is not ready
    [[ "$output" == *"'20240101000000_a\x1b[31mred next'"* ]]
    [[ "$output" != *$'\e'* ]]
    # The newline in the name started no line of its own.
    [[ "$output" != *$'\n'"next"* ]]
}
