#!/usr/bin/env bats
# The migrate step's check against a real PostgreSQL 15: every state of Prisma Migrate built
# for real (the table with Prisma's DDL, rows as Prisma writes them), judged under the
# [migrate] policies, in `devinit check --json` and in the exit code.
bats_require_minimum_version 1.5.0
load ../lib/common
load ../fixtures/migrations/helpers

setup_file() { mig_setup_file; }
teardown_file() { mig_teardown_file; }
setup() { mig_setup; }
teardown() { mig_teardown; }

@test "an up-to-date database is ok" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    add_migration 20240102000000_more 'CREATE TABLE b (id int);'
    create_table
    applied 20240101000000_init 20240102000000_more
    check_json
    [ "$STATUS" -eq 0 ]
    [ "$(json_field "$JSON" status)" = ok ]
    [ "$(json_field "$JSON" applied)" = '["20240101000000_init", "20240102000000_more"]' ]
    [ "$(json_field "$JSON" pending)" = '[]' ]
    [ "$(json_field "$JSON" in_progress)" = false ]
    [[ "$(json_field "$JSON" reason)" == "2 migrations applied, database up to date" ]]
}

@test "a pending migration warns by default and fails with pending = fail" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    add_migration 20240102000000_more 'CREATE TABLE b (id int);'
    create_table
    applied 20240101000000_init
    check_json
    # The step goes on with a warning, but `check` is not ready: something needs doing.
    [ "$STATUS" -eq 1 ]
    [ "$(json_field "$JSON" status)" = warn ]
    [ "$(json_field "$JSON" pending)" = '["20240102000000_more"]' ]
    grep -q "warning: 1 migration not applied: '20240102000000_more': run 'npx prisma migrate deploy'" \
        "$BATS_TEST_TMPDIR/check.err"

    # The start-up goes on, by the policy.
    run "$DEVINIT" --only=migrate -- touch started
    [ "$status" -eq 0 ]
    [ -e started ]

    DEVINIT_MIGRATE_PENDING=fail run "$DEVINIT" --only=migrate -- true
    echo "$output"
    [ "$status" -eq 65 ]
    [[ "$output" == *"error: 1 migration not applied: '20240102000000_more': run 'npx prisma migrate deploy'"* ]]
}

@test "a failed migration exits 65 and names the resolve command" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    add_migration 20240102000000_bad 'CREATE TABLE b (id int);'
    create_table
    applied 20240101000000_init
    row 20240102000000_bad "$(checksum_of 20240102000000_bad)" failed "syntax error"
    check_json
    [ "$STATUS" -eq 65 ]
    [ "$(json_field "$JSON" status)" = error ]
    [ "$(json_field "$JSON" failed)" = '["20240102000000_bad"]' ]
    [[ "$(json_field "$JSON" reason)" == *"'npx prisma migrate resolve --rolled-back 20240102000000_bad'"* ]]

    # The app never starts.
    run "$DEVINIT" --only=migrate -- touch started
    [ "$status" -eq 65 ]
    [ ! -e started ]

    # failed = warn lets it through.
    DEVINIT_MIGRATE_FAILED=warn run "$DEVINIT" --only=migrate -- touch started
    [ "$status" -eq 0 ]
    [ -e started ]
}

@test "an edited migration warns by default and fails with edited = fail" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    applied 20240101000000_init
    add_migration 20240101000000_init 'CREATE TABLE a (id bigint);'
    check_json
    # As the README says: check fails the build on an edited migration.
    [ "$STATUS" -eq 1 ]
    [ "$(json_field "$JSON" status)" = warn ]
    [ "$(json_field "$JSON" edited)" = '["20240101000000_init"]' ]
    [ "$(json_field "$JSON" applied)" = '["20240101000000_init"]' ]

    DEVINIT_MIGRATE_EDITED=fail run "$DEVINIT" check --only=migrate
    echo "$output"
    [ "$status" -eq 65 ]
    [[ "$output" == *"changed after being applied: '20240101000000_init'"* ]]
}

@test "a migration converted to CRLF still counts as applied, and back" {
    add_migration 20240101000000_init "$(printf 'CREATE TABLE a (id int);\nCREATE TABLE b (id int);')"
    add_migration 20240102000000_win "$(printf 'CREATE TABLE c (id int);\r\nCREATE TABLE d (id int);\r')"
    create_table
    applied 20240101000000_init 20240102000000_win
    # As git would with core.autocrlf: every LF becomes CRLF, or every CRLF becomes LF.
    sed -i 's/$/\r/' prisma/migrations/20240101000000_init/migration.sql
    sed -i 's/\r$//' prisma/migrations/20240102000000_win/migration.sql
    grep -q $'\r' prisma/migrations/20240101000000_init/migration.sql
    run ! grep -q $'\r' prisma/migrations/20240102000000_win/migration.sql
    check_json
    [ "$STATUS" -eq 0 ]
    [ "$(json_field "$JSON" status)" = ok ]
    [ "$(json_field "$JSON" edited)" = '[]' ]
}

@test "a BOM or a removed trailing newline is an edit" {
    add_migration 20240101000000_bom 'CREATE TABLE a (id int);'
    add_migration 20240102000000_nonl 'CREATE TABLE b (id int);'
    create_table
    applied 20240101000000_bom 20240102000000_nonl
    printf '\xef\xbb\xbfCREATE TABLE a (id int);\n' >prisma/migrations/20240101000000_bom/migration.sql
    printf 'CREATE TABLE b (id int);' >prisma/migrations/20240102000000_nonl/migration.sql
    check_json
    [ "$(json_field "$JSON" edited)" = '["20240101000000_bom", "20240102000000_nonl"]' ]
}

@test "a legacy unpadded checksum matches its migration" {
    # sha256 of this file starts c2de7559380e...: the old engines wrote "%x" per byte.
    mkdir -p prisma/migrations/20240101000000_init
    printf 'CREATE TABLE a (id int);\n' >prisma/migrations/20240101000000_init/migration.sql
    [ "$(checksum_of 20240101000000_init)" = c2de7559380e5ebf65caa7d59e166558e80243cf7e70006cc98d1593d94203c1 ]
    create_table
    row 20240101000000_init c2de755938e5ebf65caa7d59e166558e8243cf7e7006cc98d1593d9423c1 applied
    check_json
    [ "$(json_field "$JSON" status)" = ok ]
    [ "$(json_field "$JSON" edited)" = '[]' ]
}

@test "a migration missing locally warns by default and fails with missing_locally = fail" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    applied 20240101000000_init
    row 20231231000000_gone 0000000000000000000000000000000000000000000000000000000000000000 applied
    check_json
    [ "$STATUS" -eq 0 ]
    [ "$(json_field "$JSON" status)" = warn ]
    [ "$(json_field "$JSON" missing_locally)" = '["20231231000000_gone"]' ]

    DEVINIT_MIGRATE_MISSING_LOCALLY=fail run "$DEVINIT" check --only=migrate
    [ "$status" -eq 65 ]
    [[ "$output" == *"in the database but not in 'prisma/migrations': '20231231000000_gone'"* ]]
}

@test "a rolled-back migration is reported and deploy would apply it again" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    row 20240101000000_init "$(checksum_of 20240101000000_init)" rolled_back
    check_json
    [ "$STATUS" -eq 1 ]
    [ "$(json_field "$JSON" status)" = warn ]
    [ "$(json_field "$JSON" rolled_back)" = '["20240101000000_init"]' ]
    [ "$(json_field "$JSON" failed)" = '[]' ]
    [ "$(json_field "$JSON" pending)" = '["20240101000000_init"]' ]
    DEVINIT_MIGRATE_MODE=deploy check_json
    [ "$STATUS" -eq 1 ]
    [ "$(json_field "$JSON" status)" = would-run ]
    [[ "$(json_field "$JSON" reason)" == "1 migration to apply: '20240101000000_init'" ]]
}

@test "pending lists a migration whose only row was rolled back, as deploy would apply it" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    add_migration 20240102000000_fixed 'CREATE TABLE b (id int);'
    add_migration 20240103000000_undone 'CREATE TABLE c (id int);'
    create_table
    applied 20240101000000_init
    # 20240102000000_fixed: failed, resolved --rolled-back, then deployed again: applied.
    row 20240102000000_fixed "$(checksum_of 20240102000000_fixed)" rolled_back "syntax error"
    applied 20240102000000_fixed
    # 20240103000000_undone: failed, then `migrate resolve --rolled-back`: its only row.
    row 20240103000000_undone "$(checksum_of 20240103000000_undone)" rolled_back "syntax error"
    check_json
    echo "$JSON"
    [ "$(json_field "$JSON" rolled_back)" = '["20240103000000_undone"]' ]
    [ "$(json_field "$JSON" pending)" = '["20240103000000_undone"]' ]
    [ "$(json_field "$JSON" applied)" = '["20240101000000_init", "20240102000000_fixed"]' ]
}

@test "pending lists a migration another deploy is applying right now, with in_progress" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    add_migration 20240102000000_next 'CREATE TABLE b (id int);'
    create_table
    applied 20240101000000_init
    # Another replica mid-script: its unfinished row, and Prisma's advisory lock it holds.
    row 20240102000000_next "$(checksum_of 20240102000000_next)" failed
    hold_advisory_lock
    check_json
    release_holder
    echo "$JSON"
    [ "$(json_field "$JSON" in_progress)" = true ]
    [ "$(json_field "$JSON" pending)" = '["20240102000000_next"]' ]
    [ "$(json_field "$JSON" failed)" = '[]' ]
    [ "$(json_field "$JSON" applied)" = '["20240101000000_init"]' ]
}

@test "a deploy in progress elsewhere is reported, not taken for a failure" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    # What another replica's deploy looks like mid-script: its row, and the lock it holds.
    row 20240101000000_init "$(checksum_of 20240101000000_init)" failed
    hold_advisory_lock
    check_json
    release_holder
    # Not applied yet: check is not ready.
    [ "$STATUS" -eq 1 ]
    [ "$(json_field "$JSON" in_progress)" = true ]
    [ "$(json_field "$JSON" failed)" = '[]' ]
    [ "$(json_field "$JSON" status)" = warn ]
    [[ "$(json_field "$JSON" reason)" == *"a migrate deploy is in progress, applying '20240101000000_init'"* ]]

    # Without the lock the same row is a failed migration.
    check_json
    [ "$STATUS" -eq 65 ]
    [ "$(json_field "$JSON" in_progress)" = false ]
    [ "$(json_field "$JSON" failed)" = '["20240101000000_init"]' ]
}

@test "without a _prisma_migrations table every migration is pending" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    check_json
    [ "$STATUS" -eq 1 ]
    [ "$(json_field "$JSON" pending)" = '["20240101000000_init"]' ]

    rm -rf prisma/migrations/20240101000000_init
    check_json
    [ "$STATUS" -eq 0 ]
    [ "$(json_field "$JSON" status)" = ok ]
    [ "$(json_field "$JSON" reason)" = "no migrations in 'prisma/migrations' and none applied" ]
}

@test "a lock file for another provider exits 65 with P3019" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    printf 'provider = "mysql"\n' >prisma/migrations/migration_lock.toml
    run "$DEVINIT" check --only=migrate
    echo "$output"
    [ "$status" -eq 65 ]
    [[ "$output" == *"says provider 'mysql'"*"P3019"* ]]
}

@test "devinit check never writes: no table created, no lock taken" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    # Every statement of this session goes to the server log.
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/$DB?schema=public&options=-c%20log_statement%3Dall&application_name=devinit_probe"
    before=$(wc -l <"$PGDIR/server.log")
    DEVINIT_MIGRATE_MODE=deploy check_json
    [ "$STATUS" -eq 1 ]
    [ "$(json_field "$JSON" status)" = would-run ]
    [ -z "$(sql -c "SELECT to_regclass('public._prisma_migrations')")" ]
    [ -z "$(sql -c "SELECT to_regclass('public.a')")" ]
    sleep 0.2 # the server log is written asynchronously
    logged=$(tail -n +"$((before + 1))" "$PGDIR/server.log")
    echo "$logged"
    # The check ran (so the log is a real record of it)...
    [[ "$logged" == *"statement: "*"SELECT EXISTS"*"pg_locks"* ]]
    # ...and sent nothing that writes or locks.
    run ! grep -Eiq 'statement: .*(pg_advisory_lock\(|pg_try_advisory|CREATE |INSERT |UPDATE |DELETE |ALTER |DROP )' <<<"$logged"
}

@test "--json lists every state at once" {
    add_migration 20240101000000_applied 'CREATE TABLE a (id int);'
    add_migration 20240102000000_edited 'CREATE TABLE b (id int);'
    add_migration 20240103000000_failed 'CREATE TABLE c (id int);'
    add_migration 20240104000000_rolled 'CREATE TABLE d (id int);'
    add_migration 20240105000000_pending 'CREATE TABLE e (id int);'
    create_table
    applied 20240101000000_applied
    row 20240102000000_edited 0000000000000000000000000000000000000000000000000000000000000001 applied
    row 20240103000000_failed "$(checksum_of 20240103000000_failed)" failed
    row 20240104000000_rolled "$(checksum_of 20240104000000_rolled)" rolled_back
    row 20231231000000_gone 0000000000000000000000000000000000000000000000000000000000000002 applied
    DEVINIT_MIGRATE_FAILED=warn check_json
    echo "$JSON"
    [ "$STATUS" -eq 1 ]
    [ "$(json_field "$JSON" applied)" = '["20240101000000_applied", "20240102000000_edited"]' ]
    [ "$(json_field "$JSON" pending)" = '["20240104000000_rolled", "20240105000000_pending"]' ]
    [ "$(json_field "$JSON" failed)" = '["20240103000000_failed"]' ]
    [ "$(json_field "$JSON" edited)" = '["20240102000000_edited"]' ]
    [ "$(json_field "$JSON" missing_locally)" = '["20231231000000_gone"]' ]
    [ "$(json_field "$JSON" rolled_back)" = '["20240104000000_rolled"]' ]
    [ "$(json_field "$JSON" in_progress)" = false ]
}

@test "hidden folders count as migrations, files and symlinks do not" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    add_migration .hidden 'SELECT 1;'
    mkdir -p "$BATS_TEST_TMPDIR/elsewhere/20240102000000_linked"
    printf 'SELECT 1;\n' >"$BATS_TEST_TMPDIR/elsewhere/20240102000000_linked/migration.sql"
    ln -s "$BATS_TEST_TMPDIR/elsewhere/20240102000000_linked" prisma/migrations/20240102000000_linked
    printf 'notes\n' >prisma/migrations/README.md
    mkdir prisma/migrations/20240103000000_nosql
    check_json
    [ "$(json_field "$JSON" pending)" = '[".hidden", "20240101000000_init", "20240103000000_nosql"]' ]
    grep -q "'.hidden'" "$BATS_TEST_TMPDIR/check.err" # a name outside [0-9a-z_] is warned about
}

@test "no DATABASE_URL for a project with a datasource and migrations fails the check, naming where devinit looked" {
    unset DATABASE_URL
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    check_json
    [ "$STATUS" -eq 78 ]
    [ "$(json_field "$JSON" status)" = error ]
    [[ "$(json_field "$JSON" reason)" == "no DATABASE_URL, which the datasource in 'prisma/schema.prisma' needs: looked in the environment, "* ]]
    # Nothing that needs a database: the step has nothing to do.
    rm -rf prisma
    check_json
    [ "$STATUS" -eq 0 ]
    [ "$(json_field "$JSON" status)" = skipped ]
    [ "$(json_field "$JSON" reason)" = "no DATABASE_URL" ]
}

@test "the step is skipped when the wait step failed" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$(pg_free_port)/$DB"
    STATUS=0
    JSON=$("$DEVINIT" check --only=wait,migrate --json 2>/dev/null) || STATUS=$?
    [ "$STATUS" -eq 69 ]
    [ "$(json_field "$JSON" status)" = skipped ]
}

@test "the folder is found next to the schema, in a schema folder, or from prisma.config.ts" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    # [prisma] schema pointing elsewhere: migrations/ next to that file.
    mkdir -p db/migrations/20240201000000_other
    printf 'SELECT 1;\n' >db/migrations/20240201000000_other/migration.sql
    printf 'datasource db {\n  provider = "postgresql"\n}\n' >db/schema.prisma
    DEVINIT_PRISMA_SCHEMA=db/schema.prisma check_json
    [ "$(json_field "$JSON" dir)" = db/migrations ]
    [ "$(json_field "$JSON" pending)" = '["20240201000000_other"]' ]

    # A schema folder: migrations/ inside it (Prisma 6.7+ and 7).
    rm prisma/schema.prisma
    mkdir -p prisma/schema/migrations/20240301000000_folder
    printf 'SELECT 1;\n' >prisma/schema/migrations/20240301000000_folder/migration.sql
    printf 'datasource db {\n  provider = "postgresql"\n}\n' >prisma/schema/schema.prisma
    DEVINIT_PRISMA_SCHEMA=prisma/schema check_json
    [ "$(json_field "$JSON" dir)" = prisma/schema/migrations ]

    # prisma.config.ts migrations.path wins over the schema's place...
    printf 'import path from "node:path";\nexport default {\n  schema: "prisma/schema",\n  migrations: { path: path.join("db", "migrations") },\n};\n' >prisma.config.ts
    check_json
    [ "$(json_field "$JSON" dir)" = db/migrations ]
    # ...and [migrate] dir over everything.
    DEVINIT_MIGRATE_DIR=prisma/migrations check_json
    [ "$(json_field "$JSON" dir)" = prisma/migrations ]
    [ "$(json_field "$JSON" pending)" = '["20240101000000_init"]' ]
}

@test "check exits 1 and does not say ready while migrations are pending, whatever [migrate] mode" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    for mode in check deploy; do
        DEVINIT_MIGRATE_MODE=$mode run "$DEVINIT" check --only=migrate
        echo "$output"
        [ "$status" -eq 1 ]
        [[ "$output" == *"not ready: something needs doing"* ]]
        run ! grep -qx ready <<<"$output"
    done
    # Up to date: 0 and ready.
    applied 20240101000000_init
    run "$DEVINIT" check --only=migrate
    [ "$status" -eq 0 ]
    grep -qx ready <<<"$output"
}

@test "check exits 1 on a schema with tables but no _prisma_migrations, without advising deploy" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    sql -c 'CREATE TABLE legacy (id int)' >/dev/null
    check_json
    [ "$STATUS" -eq 1 ]
    [ "$(json_field "$JSON" status)" = warn ]
    reason=$(json_field "$JSON" reason)
    echo "$reason"
    [[ "$reason" == *"1 migration not applied: '20240101000000_init'"*"schema 'public' has 1 table and no _prisma_migrations table, so deploy would refuse (Prisma error P3005)"*"npx prisma migrate resolve --applied NAME"* ]]
    [[ "$reason" != *"run 'npx prisma migrate deploy'"* ]]
    [[ "$reason" != *"mode = deploy"* ]]
}

@test "pending migrations behind a failed one are not sent to deploy, which would refuse (P3009)" {
    add_migration 20240101000000_bad 'CREATE TABLE a (id int);'
    add_migration 20240102000000_next 'CREATE TABLE b (id int);'
    create_table
    row 20240101000000_bad "$(checksum_of 20240101000000_bad)" failed "syntax error"
    DEVINIT_MIGRATE_FAILED=warn check_json
    [ "$STATUS" -eq 1 ]
    cat "$BATS_TEST_TMPDIR/check.err"
    grep -q "1 migration not applied: '20240102000000_next': deploy applies nothing until the failed migration is resolved (Prisma error P3009)" \
        "$BATS_TEST_TMPDIR/check.err"
    run ! grep -q "run 'npx prisma migrate deploy'" "$BATS_TEST_TMPDIR/check.err"
    # Nor does it tell to fix by hand what PostgreSQL may have rolled back whole.
    run ! grep -q "fix the database by hand" "$BATS_TEST_TMPDIR/check.err"
}

@test "a migration missing locally alone leaves check at 0: deploy neither applies nor refuses" {
    add_migration 20240101000000_init 'CREATE TABLE a (id int);'
    create_table
    applied 20240101000000_init
    row 20231231000000_gone 0000000000000000000000000000000000000000000000000000000000000000 applied
    check_json
    [ "$STATUS" -eq 0 ]
    [ "$(json_field "$JSON" status)" = warn ]
}

@test "each warning is printed once, also when they do not fit on one line" {
    long=$(printf 'x%.0s' $(seq 150))
    for i in 1 2 3 4 5; do
        add_migration "2024010${i}000000_${long}" "CREATE TABLE t$i (id int);"
    done
    create_table
    for i in 1 2 3 4 5; do
        row "2024010${i}000000_${long}" 00000000000000000000000000000000000000000000000000000000000000$i$i applied
        row "2023010${i}000000_gone_${long}" 00000000000000000000000000000000000000000000000000000000000000$i$i applied
    done
    check_json
    [ "$(grep -c "changed after being applied" "$BATS_TEST_TMPDIR/check.err")" -eq 1 ]
    [ "$(grep -c "in the database but not in 'prisma/migrations'" "$BATS_TEST_TMPDIR/check.err")" -eq 1 ]
    [ "$STATUS" -eq 1 ]
}
