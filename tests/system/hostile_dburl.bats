#!/usr/bin/env bats
# DATABASE_URLs with odd encodings against a real PostgreSQL 15 with scram passwords: names and
# passwords in UTF-8, every reserved character percent-encoded (upper or lower case hex), a
# raw '@' and a '%' that starts no escape, a 1,000-character password all connect, for the
# wait step and the migrate step alike. Invalid URLs exit 78 and never echo the password.
# (tests/unit/test_dburl.c has the parser's table; wait_url_forms.bats the common forms.)
load ../lib/common

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
enc_lower() { enc "$1" | sed 's/%[0-9A-F][0-9A-F]/\L&/g'; }

U_USER='ünïcødé'
U_PW='pässwörd 日本 ✓'
U_DB='dätä bäse'
R_USER='we@ird:us/er'
R_PW='p@ss:w/o#r?d[]{}%&=+;,$'
RAW_PW='a@b%zzc'
LONG_PW=$(printf 'Lp%.0s' $(seq 500))
secret_add "$U_PW" "$R_PW" "$RAW_PW" "$LONG_PW" 'Hunter2-S3cret' 'Hunter2 S3cret ✓'

setup_file() {
    export PGROOT PGDIR PGPORT_T
    PGROOT=$(mktemp -d /tmp/devinit-dburl.XXXXXX)
    chmod 777 "$PGROOT"
    PGDIR="$PGROOT/data"
    PGPORT_T=$(pg_free_port)
    pg_init "$PGDIR"
    cat >"$PGDIR/pg_hba.conf" <<EOF
local all postgres trust
host all all 127.0.0.1/32 scram-sha-256
EOF
    pg_start "$PGDIR" "$PGPORT_T"
    pg_psql "$PGDIR" "$PGPORT_T" <<SQL >/dev/null
CREATE ROLE "$U_USER" LOGIN PASSWORD '$U_PW';
CREATE DATABASE "$U_DB" OWNER "$U_USER";
CREATE ROLE "$R_USER" LOGIN PASSWORD '$R_PW';
CREATE ROLE rawpw LOGIN PASSWORD '$RAW_PW';
CREATE ROLE longpw LOGIN PASSWORD '$LONG_PW';
SQL
}

teardown_file() {
    pg_stop "$PGDIR"
    rm -rf "$PGROOT"
}

setup() {
    cd "$BATS_TEST_TMPDIR"
    # One pending migration: the migrate step connects and reads the state too.
    mkdir -p prisma/migrations/20240101000000_init
    printf 'datasource db {\n  provider = "postgresql"\n}\n' >prisma/schema.prisma
    echo 'CREATE TABLE t (id int);' >prisma/migrations/20240101000000_init/migration.sql
}

# connects URL: the wait and migrate checks both reach the server through URL.
connects() {
    run env DATABASE_URL="$1" "$DEVINIT" check --only=wait,migrate
    echo "$output"
    # 1: connected, and the fixture's migration is pending (something needs doing).
    [ "$status" -eq 1 ]
    [[ "$output" == *"ready: PostgreSQL 15"* ]]
    [[ "$output" == *"1 migration not applied: '20240101000000_init'"* ]]
}

@test "a UTF-8 user, password and database name, percent-encoded, connect" {
    connects "postgresql://$(enc "$U_USER"):$(enc "$U_PW")@127.0.0.1:$PGPORT_T/$(enc "$U_DB")"
}

@test "lower-case percent escapes decode the same" {
    url="postgresql://$(enc_lower "$U_USER"):$(enc_lower "$U_PW")@127.0.0.1:$PGPORT_T/$(enc_lower "$U_DB")"
    [[ "$url" == *%c3%* ]]
    connects "$url"
}

@test "every reserved character percent-encoded in user and password connects, with postgres://" {
    connects "postgres://$(enc "$R_USER"):$(enc "$R_PW")@127.0.0.1:$PGPORT_T/postgres?schema=public&connection_limit=3"
}

@test "a raw '@' and a '%' that starts no escape in the password connect as Prisma reads them" {
    connects "postgresql://rawpw:$RAW_PW@127.0.0.1:$PGPORT_T/postgres"
}

@test "a password of 1,000 characters connects" {
    [ "${#LONG_PW}" -eq 1000 ]
    connects "postgresql://longpw:$LONG_PW@127.0.0.1:$PGPORT_T/postgres"
}

# refused URL PART: 78 before any connection, naming PART, and not a piece of the password.
refused() {
    run env DATABASE_URL="$1" "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"$2"* ]]
    [[ "$output" != *Hunter* ]]
    [[ "$output" != *S3cret* ]]
}

@test "invalid URLs exit 78 naming the fault, without a piece of the password" {
    refused "postgresql://u:Hunter2-S3cret@127.0.0.1:99999/db" "port is not a number"
    refused "postgresql://u:Hunter2/S3cret@127.0.0.1:$PGPORT_T/db" "must be percent-encoded"
    refused "postgresql://u:Hunter2%00S3cret@127.0.0.1:$PGPORT_T/db" "encoded NUL"
    refused "postgresql://u:Hunter2-S3cret@[::1/db" "closing ']'"
    refused "mysql://u:Hunter2-S3cret@127.0.0.1/db" "must start with 'postgresql://'"
    refused "postgresql://u:Hunter2-S3cret@127.0.0.1:$PGPORT_T/db?connect_timeout=abc" "'connect_timeout'"
    refused "postgresql://u:Hunter2-S3cret@127.0.0.1:$PGPORT_T/db?options=-c%20x%3D%00" "encoded NUL"
    refused "Hunter2-S3cret" "must start with 'postgresql://'"
}

@test "a password with an unencoded '/' whose first piece reads as a port exits 78 and no piece of it shows, in check, check --json and at start" {
    secret_add '2024/Summer!'
    for url in "postgresql://app:2024/Summer!@127.0.0.1:$PGPORT_T/app" \
        "postgresql://2024/Summer!@127.0.0.1:$PGPORT_T/app" \
        "postgresql://app:2024?Summer!@127.0.0.1:$PGPORT_T/app"; do
        for cmd in "check" "check --json" "-v -v -- true"; do
            # shellcheck disable=SC2086 # cmd is words
            run env DATABASE_URL="$url" "$DEVINIT" $cmd
            echo "$cmd: $output"
            [ "$status" -eq 78 ]
            [[ "$output" == *"an '@' after its host part"* ]]
            [[ "$output" != *Summer* ]]
            [[ "$output" != *2024* ]]
        done
    done
}

@test "an empty host with a port or credentials exits 78, in check and at start, and never reaches libpq's default host" {
    pw=$(enc "$RAW_PW")
    # Each of these reached the server on 127.0.0.1:$PGPORT_T (libpq's default host).
    for url in "postgresql://rawpw:$pw@:$PGPORT_T/postgres" \
        "postgresql://rawpw:$pw@/postgres?port=$PGPORT_T&host=127.0.0.1" \
        "postgresql://:$PGPORT_T/postgres"; do
        for cmd in "check" "-- touch app-ran"; do
            # shellcheck disable=SC2086 # cmd is words
            run env DATABASE_URL="$url" PGHOST=127.0.0.1 PGPORT="$PGPORT_T" "$DEVINIT" --only=wait,migrate $cmd
            echo "$cmd: $output"
            [ "$status" -eq 78 ]
            [[ "$output" == *"but no host: write the host after"* ]]
            [ ! -e app-ran ]
        done
    done
}

@test "a wrong password in an odd encoding exits 77 and shows neither form of it" {
    pw='Hunter2 S3cret ✓'
    run env DATABASE_URL="postgresql://$(enc "$U_USER"):$(enc "$pw")@127.0.0.1:$PGPORT_T/$(enc "$U_DB")" \
        "$DEVINIT" check --only=wait,migrate --json
    echo "$output"
    [ "$status" -eq 77 ]
    [[ "$output" == *"password authentication failed"* ]]
    [[ "$output" != *Hunter* ]]
    [[ "$output" != *S3cret* ]]
    [[ "$output" != *"$(enc "$pw")"* ]]
}
