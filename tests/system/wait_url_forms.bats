#!/usr/bin/env bats
# The wait step against a real PostgreSQL 15: every DATABASE_URL form Prisma accepts connects,
# and the failures that must be final are final, with their exit codes, and never show the
# password. One server for the whole file (host lines need scram-sha-256 or md5).
load ../lib/common

# Characters that must be percent-encoded in a URL, and a '+' that must stay a '+'.
APP_PW='p@ss/w:rd#?%+x'
APP_PW_ENC='p%40ss%2Fw%3Ard%23%3F%25+x'
MD5_PW='md5 pw+%'
MD5_PW_ENC='md5%20pw+%25'
secret_add "$APP_PW" "$APP_PW_ENC" "$MD5_PW" "$MD5_PW_ENC" 'Wr0ng-S3cret-pw' 'Secr3tPw'

setup_file() {
    # Under /tmp itself: the postgres user cannot enter bats' private temp directories.
    export PGROOT
    PGROOT=$(mktemp -d /tmp/devinit-wait.XXXXXX)
    chmod 777 "$PGROOT"
    export PGDIR="$PGROOT/data"
    pg_init "$PGDIR"
    export PGPORT_T
    PGPORT_T=$(pg_free_port)
    local listen=127.0.0.1
    if ip -6 addr show lo 2>/dev/null | grep -q '::1/128'; then
        listen='127.0.0.1,::1'
        export HAVE_V6=1
    fi
    cat >"$PGDIR/pg_hba.conf" <<EOF
local all postgres trust
local all all scram-sha-256
host all md5user 127.0.0.1/32 md5
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
EOF
    pg_start "$PGDIR" "$PGPORT_T" "listen_addresses='$listen'"
    pg_psql "$PGDIR" "$PGPORT_T" -c "CREATE ROLE app LOGIN PASSWORD '$APP_PW'"
    pg_psql "$PGDIR" "$PGPORT_T" -c "CREATE DATABASE app OWNER app"
    pg_psql "$PGDIR" "$PGPORT_T" -c "SET password_encryption = 'md5'" -c "CREATE ROLE md5user LOGIN PASSWORD '$MD5_PW'"
}

teardown_file() {
    pg_stop "$PGDIR"
    rm -rf "$PGROOT"
}

setup() {
    cd "$BATS_TEST_TMPDIR"
    unset DATABASE_URL
}

url() { # url HOSTPART [DB] [QUERY]
    echo "postgresql://app:$APP_PW_ENC@$1/${2:-app}${3:+?$3}"
}

# Runs devinit's wait step then an app that says it ran.
run_wait() {
    run env "$@" "$DEVINIT" --only=wait -- sh -c 'echo APP-RAN'
}

@test "a TCP URL to 127.0.0.1 with a percent-encoded scram password connects" {
    run_wait DATABASE_URL="$(url "127.0.0.1:$PGPORT_T")"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"ready: PostgreSQL 15"* ]]
    [[ "$output" == *APP-RAN* ]]
}

@test "a URL with localhost connects" {
    run_wait DATABASE_URL="$(url "localhost:$PGPORT_T")"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *APP-RAN* ]]
}

@test "a URL with [::1] connects when the server listens there" {
    [ -n "${HAVE_V6:-}" ] || skip "no IPv6 loopback here"
    run_wait DATABASE_URL="$(url "[::1]:$PGPORT_T")"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"[::1]:$PGPORT_T/app ready"* ]]
}

@test "a unix socket directory given by ?host= connects" {
    run_wait DATABASE_URL="$(url "ignored.invalid:$PGPORT_T" app "host=$PGDIR")"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"$PGDIR:$PGPORT_T/app ready"* ]]
}

@test "a percent-encoded socket directory with the port in the URL connects" {
    enc=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PGDIR")
    run_wait DATABASE_URL="postgresql://app:$APP_PW_ENC@localhost:$PGPORT_T/app?host=$enc&schema=public&connection_limit=5"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *APP-RAN* ]]
}

@test "an md5 password with a space, '+' and '%' connects" {
    run_wait DATABASE_URL="postgresql://md5user:$MD5_PW_ENC@127.0.0.1:$PGPORT_T/postgres"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *APP-RAN* ]]
}

@test "a database host name that resolves only later is retried until it does" {
    command -v unshare >/dev/null || skip "unshare is not installed"
    # Private /etc/hosts and /etc/resolv.conf (a loopback resolver answering NXDOMAIN): no
    # query leaves the machine. The name appears a second later, as compose creates names.
    ns=127.0.0.$((RANDOM % 200 + 20))
    printf 'nameserver %s\n' "$ns" >resolv.conf
    printf '127.0.0.1 localhost\n' >hosts
    python3 "$DEVINIT_SOURCE_DIR/tests/lib/fake_dns.py" "$ns" nxdomain >dns.log &
    dnspid=$!
    wait_for grep -q listening dns.log
    cat >run.sh <<EOF
mount --bind "$BATS_TEST_TMPDIR/resolv.conf" /etc/resolv.conf || exit 99
mount --bind "$BATS_TEST_TMPDIR/hosts" /etc/hosts || exit 99
# The name appears once a lookup has failed (and half a second later), whatever the pace.
(for i in \$(seq 400); do grep -q nxdomain "$BATS_TEST_TMPDIR/dns.log" && break; sleep 0.05; done
 sleep 0.5; echo "127.0.0.1 pgdb.devinit-test" >>"$BATS_TEST_TMPDIR/hosts") &
DATABASE_URL="$(url "pgdb.devinit-test:$PGPORT_T")" DEVINIT_WAIT_TIMEOUT=10s "$DEVINIT" --only=wait -- echo APP-RAN
EOF
    run unshare --mount sh run.sh
    kill "$dnspid"
    wait "$dnspid" 2>/dev/null || true
    echo "$output"
    [ "$status" -eq 0 ]
    grep -q nxdomain dns.log
    [[ "$output" == *"could not resolve host 'pgdb.devinit-test'"* ]]
    [[ "$output" == *"pgdb.devinit-test:$PGPORT_T/app ready"* ]]
}

@test "every Prisma-only parameter is accepted, not handed to libpq" {
    q="schema=s1&connection_limit=3&pool_timeout=0&socket_timeout=5&pgbouncer=false&statement_cache_size=0&max_connection_lifetime=0&max_idle_connection_lifetime=5&sslmode=prefer&connect_timeout=3&application_name=devinit+test&unknown_thing=1"
    run_wait DATABASE_URL="$(url "127.0.0.1:$PGPORT_T" app "$q")"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *APP-RAN* ]]
}

@test "the URL is read from .env in the app directory when the environment lacks it" {
    mkdir app
    printf '# comment\nexport DATABASE_URL="%s"\n' "$(url "127.0.0.1:$PGPORT_T")" >app/.env
    run_wait DEVINIT_APP_DIR="$BATS_TEST_TMPDIR/app"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *APP-RAN* ]]
}

@test "the environment wins over .env" {
    printf 'DATABASE_URL=postgresql://app:x@127.0.0.1:1/app\n' >.env
    run_wait DATABASE_URL="$(url "127.0.0.1:$PGPORT_T")"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "[database] url_env names another variable" {
    run_wait DEVINIT_DATABASE_URL_ENV=MY_DB MY_DB="$(url "127.0.0.1:$PGPORT_T")" DATABASE_URL=postgresql://app:x@127.0.0.1:1/app
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "a wrong password fails at once with 77 and the password never appears" {
    secret='Wr0ng-S3cret-pw'
    t0=$(now_ms)
    run_wait DATABASE_URL="postgresql://app:$secret@127.0.0.1:$PGPORT_T/app"
    t1=$(now_ms)
    echo "$output"
    [ "$status" -eq 77 ]
    [ $((t1 - t0)) -lt 3000 ]
    [[ "$output" == *"password authentication failed"* ]]
    [[ "$output" != *"$secret"* ]]
    [[ "$output" != *APP-RAN* ]]
    # Not in debug logs or the JSON report either.
    run env DATABASE_URL="postgresql://app:$secret@127.0.0.1:$PGPORT_T/app" "$DEVINIT" -v -v check --only=wait --json
    echo "$output"
    [ "$status" -eq 77 ]
    [[ "$output" == *'"status":"error"'* ]]
    [[ "$output" != *"$secret"* ]]
}

@test "an unknown role fails at once with 77" {
    run_wait DATABASE_URL="postgresql://nobody:pw@127.0.0.1:$PGPORT_T/app"
    echo "$output"
    [ "$status" -eq 77 ]
}

@test "an unknown database fails with 69 and a remedy" {
    run_wait DATABASE_URL="$(url "127.0.0.1:$PGPORT_T" nosuchdb)"
    echo "$output"
    [ "$status" -eq 69 ]
    [[ "$output" == *'database "nosuchdb" does not exist'* ]]
    [[ "$output" == *"create it"* ]]
}

@test "sslmode=require against a server without TLS is a configuration error" {
    run_wait DATABASE_URL="$(url "127.0.0.1:$PGPORT_T" app sslmode=require)"
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"does not support SSL"* ]]
}

@test "an invalid URL is a configuration error naming the part, without the password" {
    run_wait DATABASE_URL="postgresql://app:Secr3tPw@127.0.0.1:notaport/app"
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"port"* ]]
    [[ "$output" != *Secr3tPw* ]]
}

@test "check --json reports the server version for a reachable database" {
    run env DATABASE_URL="$(url "127.0.0.1:$PGPORT_T")" "$DEVINIT" check --only=wait --json
    echo "$output"
    [ "$status" -eq 0 ]
    python3 - "$output" <<'PY'
import json, sys
doc = json.loads(sys.argv[1].strip().splitlines()[-1])
w = doc["steps"]["wait"]
assert w["status"] == "ok", w
assert w["server_version"].startswith("15."), w
assert isinstance(w["elapsed_ms"], int), w
PY
}

@test "without any DATABASE_URL the wait step is skipped" {
    run env -u DATABASE_URL "$DEVINIT" check --only=wait --json
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *'"wait":{"status":"skipped","reason":"no DATABASE_URL"'* ]]
    run env -u DATABASE_URL "$DEVINIT" --only=wait -- sh -c 'echo APP-RAN'
    [ "$status" -eq 0 ]
    [[ "$output" == *APP-RAN* ]]
}
