#!/usr/bin/env bats
# No secret in any output: devinit runs a set of succeeding and failing commands, at the most
# verbose level, with a known password in the database URL (from the environment, from .env,
# from devinit.ini; right, wrong, in the wrong key), and every byte it wrote to stdout or
# stderr, the control socket's answers and the logs it stored in _prisma_migrations are
# searched for the password in every spelling.
load ../lib/common

# Characters that must be percent-encoded, so the raw and the encoded spelling differ.
PW='Tr0ub4dor&S3cr3t/x+y'
secret_add "$PW" 'not-the-url-one'

setup_file() {
    export PGROOT PGDIR PGPORT_T PW_ENC
    PW_ENC=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PW")
    PGROOT=$(mktemp -d /tmp/devinit-secrets.XXXXXX)
    chmod 777 "$PGROOT"
    PGDIR="$PGROOT/data"
    PGPORT_T=$(pg_free_port)
    pg_init "$PGDIR"
    cat >"$PGDIR/pg_hba.conf" <<EOF
local all postgres trust
host all all 127.0.0.1/32 scram-sha-256
EOF
    pg_start "$PGDIR" "$PGPORT_T"
    pg_psql "$PGDIR" "$PGPORT_T" -c "CREATE ROLE app LOGIN PASSWORD '$PW'" \
        -c "CREATE ROLE other LOGIN PASSWORD 'not-the-url-one'" -c "CREATE DATABASE app OWNER app" >/dev/null
}

teardown_file() {
    pg_stop "$PGDIR"
    rm -rf "$PGROOT"
}

setup() {
    cd "$BATS_TEST_TMPDIR"
    OUT=$BATS_TEST_TMPDIR/outputs
    mkdir -p "$OUT"
    N=0
    DPID=
    mkdir -p prisma/migrations/20240101000000_ok prisma/migrations/20240102000000_bad
    printf 'datasource db {\n  provider = "postgresql"\n}\n' >prisma/schema.prisma
    echo 'CREATE TABLE ok (id int);' >prisma/migrations/20240101000000_ok/migration.sql
    echo 'SELECT 1/0;' >prisma/migrations/20240102000000_bad/migration.sql
    export GOOD="postgresql://app:$PW_ENC@127.0.0.1:$PGPORT_T/app"
    unset DATABASE_URL
}

teardown() {
    [ -z "$DPID" ] || kill -KILL "$DPID" 2>/dev/null || true
}

# capture CMD...: runs CMD, keeps its stdout and stderr (and exit code) under $OUT.
capture() {
    N=$((N + 1))
    local s=0
    "$@" >"$OUT/$N.out" 2>"$OUT/$N.err" || s=$?
    echo "$s" >"$OUT/$N.status"
    echo "$*" >"$OUT/$N.cmd"
    echo "[$N] exit $s: $*" >&2
}

# The password, raw or encoded, or a distinctive piece of it, anywhere in FILES.
assert_no_secret() {
    local f hits=0
    for f in "$@"; do
        if grep -a -F -e "$PW" -e "$PW_ENC" -e 'Tr0ub4dor' -e 'S3cr3t' "$f"; then
            echo "^ the password is in $f ($(cat "${f%.*}.cmd" 2>/dev/null))"
            hits=1
        fi
    done
    [ "$hits" -eq 0 ]
}

status_of() { cat "$OUT/$1.status"; }

@test "no spelling of the password appears in any output of failing and succeeding commands" {
    local v=(-v -v)
    # Succeeding: check, check --json, a deploy of the good migration.
    rm -rf prisma/migrations/20240102000000_bad
    capture env DATABASE_URL="$GOOD" "$DEVINIT" "${v[@]}" check
    capture env DATABASE_URL="$GOOD" "$DEVINIT" "${v[@]}" check --json
    capture env DATABASE_URL="$GOOD" DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" "${v[@]}" --only=wait,migrate -- true
    [ "$(status_of 3)" -eq 0 ]
    # A migration that fails: its error goes to the terminal and into _prisma_migrations.
    mkdir -p prisma/migrations/20240102000000_bad
    echo 'SELECT 1/0;' >prisma/migrations/20240102000000_bad/migration.sql
    capture env DATABASE_URL="$GOOD" DEVINIT_MIGRATE_MODE=deploy "$DEVINIT" "${v[@]}" --only=wait,migrate -- true
    [ "$(status_of 4)" -eq 65 ]
    capture env DATABASE_URL="$GOOD" "$DEVINIT" "${v[@]}" check --json
    [ "$(status_of 5)" -eq 65 ]
    # The password given to another role, an unknown database, a closed port, a refused TLS.
    capture env DATABASE_URL="postgresql://other:$PW_ENC@127.0.0.1:$PGPORT_T/app" "$DEVINIT" "${v[@]}" check --json
    [ "$(status_of 6)" -eq 77 ]
    capture env DATABASE_URL="postgresql://other:$PW_ENC@127.0.0.1:$PGPORT_T/app" "$DEVINIT" "${v[@]}" --only=wait -- true
    [ "$(status_of 7)" -eq 77 ]
    capture env DATABASE_URL="postgresql://app:$PW_ENC@127.0.0.1:$PGPORT_T/nosuchdb" "$DEVINIT" "${v[@]}" check
    [ "$(status_of 8)" -eq 69 ]
    capture env DATABASE_URL="postgresql://app:$PW_ENC@127.0.0.1:1/app" "$DEVINIT" "${v[@]}" check --json
    [ "$(status_of 9)" -eq 69 ]
    capture env DATABASE_URL="postgresql://app:$PW_ENC@127.0.0.1:1/app" DEVINIT_WAIT_TIMEOUT=1s "$DEVINIT" "${v[@]}" --only=wait -- true
    [ "$(status_of 10)" -eq 69 ]
    capture env DATABASE_URL="$GOOD?sslmode=require" "$DEVINIT" "${v[@]}" check
    [ "$(status_of 11)" -eq 78 ]
    # Unparseable URLs: a raw password with '/', a bad port, an encoded NUL.
    capture env DATABASE_URL="postgresql://app:$PW@127.0.0.1:$PGPORT_T/app" "$DEVINIT" "${v[@]}" check
    capture env DATABASE_URL="postgresql://app:$PW_ENC@127.0.0.1:99999/app" "$DEVINIT" "${v[@]}" check --json
    capture env DATABASE_URL="postgresql://app:$PW_ENC%00@127.0.0.1/app" "$DEVINIT" "${v[@]}" check
    [ "$(status_of 12)" -eq 78 ]
    [ "$(status_of 13)" -eq 78 ]
    [ "$(status_of 14)" -eq 78 ]
    # The URL from .env, and from devinit.ini.
    printf 'DATABASE_URL="postgresql://other:%s@127.0.0.1:%s/app"\n' "$PW_ENC" "$PGPORT_T" >.env
    capture "$DEVINIT" "${v[@]}" check --json
    [ "$(status_of 15)" -eq 77 ]
    rm .env
    printf '[database]\nurl = postgresql://other:%s@127.0.0.1:%s/app\n' "$PW_ENC" "$PGPORT_T" >devinit.ini
    capture "$DEVINIT" "${v[@]}" check
    [ "$(status_of 16)" -eq 77 ]
    rm devinit.ini
    # The URL put in the wrong place by mistake: a key that names a variable, a service list,
    # a duration.
    capture env DEVINIT_DATABASE_URL_ENV="$GOOD" "$DEVINIT" "${v[@]}" check --json
    capture env DEVINIT_WAIT_SERVICES="$GOOD" "$DEVINIT" "${v[@]}" check
    capture env DEVINIT_WAIT_TIMEOUT="$GOOD" "$DEVINIT" "${v[@]}" check
    [ "$(status_of 17)" -eq 78 ]
    [ "$(status_of 18)" -eq 78 ]
    [ "$(status_of 19)" -eq 78 ]
    assert_no_secret "$OUT"/*.out "$OUT"/*.err
    # The failure Prisma's protocol stores for the next deploy holds the error, not the URL.
    logs=$(PGDATABASE=app pg_psql "$PGDIR" "$PGPORT_T" -c "SELECT logs FROM _prisma_migrations WHERE migration_name = '20240102000000_bad'")
    [[ "$logs" == *"division by zero"* ]]
    echo "$logs" >"$OUT/logs.out"
    assert_no_secret "$OUT/logs.out"
}

@test "status, status --json and health of a running instance show no password" {
    export DEVINIT_CONTROL_SOCKET=$BATS_TEST_TMPDIR/ctl.sock
    # A schema of its own: the failed migration of the other test is not in the way.
    DATABASE_URL="$GOOD?schema=status" "$DEVINIT" -v -v --only=wait,migrate -- sh -c 'echo $$ > app.pid; exec sleep 60' \
        >"$OUT/run.out" 2>"$OUT/run.err" 3>&- &
    DPID=$!
    wait_for test -s app.pid || { cat "$OUT/run.err"; false; }
    capture "$DEVINIT" status --json
    capture "$DEVINIT" status
    capture "$DEVINIT" health
    capture "$DEVINIT" -v -v status --json
    [ "$(status_of 1)" -eq 0 ]
    [ "$(status_of 3)" -eq 0 ]
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["database"]["status"] == "ok", s["database"]' "$OUT/1.out"
    kill -TERM "$DPID"
    s=0
    wait "$DPID" || s=$?
    DPID=
    [ "$s" -eq 143 ]
    assert_no_secret "$OUT"/*.out "$OUT"/*.err
}
