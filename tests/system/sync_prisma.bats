#!/usr/bin/env bats
# Live sync with the example app (examples/app), real `prisma generate` (Prisma 7) and a real
# PostgreSQL 15: a schema edit of a running instance regenerates the client and restarts the
# app on it; a broken edit keeps the old app serving and fails `devinit health`; a
# whitespace-only save restarts nothing. The app runs as `npm start` (no node --watch), so
# only devinit restarts it.
#
# One npm install and one cluster for the whole file (setup_file); each test gets a fresh
# database, the original schema and migrations, and the client generated from them.
bats_require_minimum_version 1.5.0
load ../lib/common

setup_file() {
    export PGROOT
    PGROOT=$(mktemp -d /tmp/devinit-sync.XXXXXX)
    chmod 755 "$PGROOT"
    export PGDIR="$PGROOT/data" PGPORT
    PGPORT=$(pg_free_port)
    pg_init "$PGDIR"
    pg_start "$PGDIR" "$PGPORT"

    export APP="$BATS_FILE_TMPDIR/app"
    example_app "$APP"
    cd "$APP"
    rm -rf node_modules/.prisma
    "$DEVINIT" --only=deps,generate -- true >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
        { cat "$BATS_FILE_TMPDIR/install.log"; return 1; }
    # What each test starts from: the schema, and the client (with devinit's stamp) made from it.
    cp prisma/schema.prisma "$BATS_FILE_TMPDIR/schema.orig"
    cp -a node_modules/.prisma "$BATS_FILE_TMPDIR/client.orig"
    cp -a node_modules/.devinit-generate.stamp "$BATS_FILE_TMPDIR/stamp.orig"
    export CLIENT="$APP/node_modules/.prisma/client/index.js"
}

teardown_file() {
    pg_stop "$PGDIR"
    rm -rf "$PGROOT"
}

setup() {
    cd "$APP"
    cp "$BATS_FILE_TMPDIR/schema.orig" prisma/schema.prisma
    rm -rf prisma/migrations node_modules/.prisma
    cp -r "$DEVINIT_SOURCE_DIR/examples/app/prisma/migrations" prisma/
    cp -a "$BATS_FILE_TMPDIR/client.orig" node_modules/.prisma
    cp -a "$BATS_FILE_TMPDIR/stamp.orig" node_modules/.devinit-generate.stamp

    export DB="sync${BATS_TEST_NUMBER}"
    pg_psql "$PGDIR" "$PGPORT" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/$DB?schema=public"
    # The app's tables come from the example's migrations, deployed natively at start-up.
    export DEVINIT_MIGRATE_MODE=deploy
    export DEVINIT_CONTROL_SOCKET="$BATS_TEST_TMPDIR/ctl.sock"
    export HOST=127.0.0.1 PORT
    PORT=$(pg_free_port)
    LOG="$BATS_TEST_TMPDIR/devinit.log"
    DPID=
}

teardown() {
    if [ -n "$DPID" ]; then
        kill -TERM "$DPID" 2>/dev/null || true
        wait "$DPID" 2>/dev/null || true
    fi
    # A failed test shows devinit's log.
    [ -n "${BATS_TEST_COMPLETED:-}" ] || [ ! -f "$LOG" ] || cat "$LOG"
}

# wait_until SECONDS CMD...: retries CMD every 0.1 s until it succeeds or time is up. A
# generate takes 2-3 s alone, more on a busy machine: allow far more than that.
wait_until() {
    local end=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# http METHOD PATH [JSON]: the app's answer body; fails unless the status is 2xx.
http() {
    python3 - "$1" "http://127.0.0.1:$PORT$2" "${3:-}" <<'PY'
import sys, urllib.request
method, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, method=method, data=body.encode() if body else None,
                             headers={"content-type": "application/json"})
with urllib.request.urlopen(req, timeout=5) as r:
    sys.stdout.write(r.read().decode())
PY
}

serving() { http GET /health >/dev/null 2>&1; }

# status_get EXPR: EXPR (Python, over the reply d) of `devinit status --json`.
status_get() {
    "$DEVINIT" status --json | python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"
}

# The pid devinit started (npm), and the node process serving HTTP in its process group.
app_pid() { status_get 'd["app"]["pid"]'; }
server_pid() { pgrep -g "$1" -x node; }

# The app runs and serves, on another npm and another node than OLD_APP and OLD_SERVER.
restarted() {
    local app
    app=$(app_pid 2>/dev/null) || return 1
    [ "$app" != None ] && [ "$app" != "$OLD_APP" ] || return 1
    [ -n "$(server_pid "$app")" ] && [ "$(server_pid "$app")" != "$OLD_SERVER" ] && serving
}

# Starts devinit with the app and waits until it serves; OLD_APP and OLD_SERVER are its pids.
start_devinit() {
    "$DEVINIT" -- npm start >"$LOG" 2>&1 &
    DPID=$!
    wait_until 60 serving
    OLD_APP=$(app_pid)
    OLD_SERVER=$(server_pid "$OLD_APP")
    [ -n "$OLD_SERVER" ]
}

# Adds "nickname String?" to User.
add_nickname() {
    sed -i 's/^  name      String?$/  name      String?\n  nickname  String?/' prisma/schema.prisma
    grep -q nickname prisma/schema.prisma
}

# Lines of the log matching a fixed string.
count() { grep -cF -- "$1" "$LOG" || true; }

@test "a schema edit regenerates the client and restarts the app on it, the new field usable" {
    export DEVINIT_WATCH_MIGRATE=yes
    start_devinit
    run ! grep -q nickname "$CLIENT"
    # The migration that adds the column (what `prisma migrate dev` writes), staged aside and
    # renamed in whole: the watcher sees the folder appear, and a folder still being written
    # would look like one without migration.sql. The schema is saved in the same instant, so
    # both fall in one debounce window even on a loaded machine: one sync, one restart.
    mkdir -p "$BATS_TEST_TMPDIR/stage/20250201000000_add_nickname"
    printf -- '-- AlterTable\nALTER TABLE "User" ADD COLUMN     "nickname" TEXT;\n' \
        >"$BATS_TEST_TMPDIR/stage/20250201000000_add_nickname/migration.sql"
    sed 's/^  name      String?$/  name      String?\n  nickname  String?/' prisma/schema.prisma \
        >"$BATS_TEST_TMPDIR/stage/schema.prisma"
    grep -q nickname "$BATS_TEST_TMPDIR/stage/schema.prisma"
    python3 -c '
import os, sys
stage = sys.argv[1]
os.rename(stage + "/20250201000000_add_nickname", "prisma/migrations/20250201000000_add_nickname")
os.rename(stage + "/schema.prisma", "prisma/schema.prisma")' "$BATS_TEST_TMPDIR/stage"
    wait_until 60 restarted
    grep -q "'prisma/schema.prisma' changed: re-running" "$LOG" ||
        grep -q "prisma/migrations/20250201000000_add_nickname' changed: re-running" "$LOG"
    [ "$(count "generated the prisma client")" -eq 1 ]
    grep -qF "applied 1 migration: '20250201000000_add_nickname'" "$LOG"
    grep -q nickname "$CLIENT"
    [ "$(status_get 'd["app"]["restarts"], d["last_sync"]["ok"]')" = "1 True" ]
    # The old npm and node are gone, not left behind.
    run ! kill -0 "$OLD_APP"
    run ! kill -0 "$OLD_SERVER"
    # The field through a client made by the new generated code (a stale client says
    # "Unknown argument `nickname`"), then through the restarted app, which selects it.
    run env PLAIN_URL="postgresql://postgres@127.0.0.1:$PGPORT/$DB" node --input-type=module -e '
        import pc from "@prisma/client";
        import { PrismaPg } from "@prisma/adapter-pg";
        const prisma = new pc.PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.PLAIN_URL }) });
        const u = await prisma.user.create({ data: { email: "neo@example.com", nickname: "neo" } });
        console.log(JSON.stringify(u));
        await prisma.$disconnect();'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *'"nickname":"neo"'* ]]
    run http GET /users
    [ "$status" -eq 0 ]
    echo "$output" | python3 -c '
import json, sys
users = json.load(sys.stdin)
assert [u["nickname"] for u in users] == ["neo"], users'
    run http POST /users '{"email": "trinity@example.com"}'
    [ "$status" -eq 0 ]
    [[ "$output" == *'"nickname": null'* ]]
}

@test "a broken schema edit keeps the old app serving, reports Prisma's error once and fails health" {
    start_devinit
    # A model whose closing brace is missing: a syntax error.
    printf '\nmodel Comment {\n  id   Int    @id @default(autoincrement())\n  body String\n' \
        >>prisma/schema.prisma
    wait_until 60 grep -q "sync failed: 'npm' keeps running on the previous client" "$LOG"
    sleep 1 # room for a wrong second attempt to show
    [ "$(count "Error code: P1012")" -eq 1 ]
    [ "$(count "sync failed")" -eq 1 ]
    [ "$(count "generate: error: ")" -eq 1 ]
    # The same app, still answering.
    [ "$(app_pid)" = "$OLD_APP" ]
    [ "$(server_pid "$OLD_APP")" = "$OLD_SERVER" ]
    run http GET /users
    [ "$status" -eq 0 ]
    run "$DEVINIT" health
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == "unhealthy: the last sync failed: generate: "*"prisma generate --schema "*"exited with code 1"* ]]
    [ "$(status_get 'd["last_sync"]["ok"], d["healthy"], d["app"]["restarts"]')" = "False False 0" ]

    # Fixed by closing the brace: the new model is generated and the app restarted on it.
    echo '}' >>prisma/schema.prisma
    wait_until 60 restarted
    grep -q 'Comment' "$CLIENT"
    run "$DEVINIT" health
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == "healthy: 'npm' runs as pid "* ]]
    [ "$(status_get 'd["last_sync"]["ok"], d["app"]["restarts"]')" = "True 1" ]
}

@test "a broken edit reverted to the schema the app runs on recovers health without a restart" {
    start_devinit
    cp prisma/schema.prisma "$BATS_TEST_TMPDIR/schema"
    echo 'model Broken {' >>prisma/schema.prisma
    wait_until 60 grep -q "sync failed" "$LOG"
    run "$DEVINIT" health
    [ "$status" -eq 1 ]
    cp "$BATS_TEST_TMPDIR/schema" prisma/schema.prisma
    wait_until 60 "$DEVINIT" health
    # The running client is the one the schema describes again: judged by its content (the
    # failed generate removed the stamp).
    [ "$(status_get 'd["last_sync"]["reason"]')" = "generate: the client matches prisma/schema.prisma and prisma 7.10.0 (judged by its content)" ]
    [ "$(count "generated the prisma client")" -eq 0 ]
    [ "$(app_pid)" = "$OLD_APP" ]
    [ "$(status_get 'd["app"]["restarts"]')" = 0 ]
}

@test "a whitespace-only schema save does not regenerate or restart the app" {
    start_devinit
    before=$(stat -c '%i %s %.9Y' "$CLIENT")
    # Re-indent with tabs and add trailing blanks and blank lines: what an editor may do.
    sed -i -e 's/^  /\t/' -e 's/$/  /' -e 's/^}  $/}\n/' prisma/schema.prisma
    run ! cmp -s prisma/schema.prisma "$BATS_FILE_TMPDIR/schema.orig"
    # The watcher saw it and the sync ran to its end ...
    wait_until 30 grep -q "'prisma/schema.prisma' changed: re-running generate" "$LOG"
    wait_until 30 status_get '(d["last_sync"] or {}).get("ok") or sys.exit(1)'
    [ "$(status_get 'd["last_sync"]["reason"]')" = "generate: the client is current with prisma/schema.prisma and prisma 7.10.0" ]
    # ... and did nothing.
    sleep 0.5
    [ "$(count "generate| ")" -eq 0 ]
    [ "$(stat -c '%i %s %.9Y' "$CLIENT")" = "$before" ]
    [ "$(app_pid)" = "$OLD_APP" ]
    [ "$(server_pid "$OLD_APP")" = "$OLD_SERVER" ]
    [ "$(status_get 'd["app"]["restarts"]')" = 0 ]
    [ "$(count "restarting 'npm'")" -eq 0 ]
}

@test "status --json after a sync shows the last sync ok and one restart" {
    start_devinit
    [ "$(status_get 'd["last_sync"]')" = None ]
    add_nickname
    wait_until 60 restarted
    run "$DEVINIT" status --json
    [ "$status" -eq 0 ]
    echo "$output" | NEW_APP=$(app_pid) python3 -c '
import json, os, sys
s = json.load(sys.stdin)
assert s["state"] == "running", s
assert s["healthy"] is True, s
assert s["app"]["running"] is True and s["app"]["pid"] == int(os.environ["NEW_APP"]), s["app"]
assert s["app"]["restarts"] == 1, s["app"]
sync = s["last_sync"]
assert sync["ok"] is True, sync
assert sync["reason"].startswith("generate: generated the prisma client from prisma/schema.prisma in "), sync
assert 0 <= sync["ago_ms"] < 60000, sync
assert s["watch"]["mode"] == "events", s["watch"]
assert "prisma/schema.prisma" in s["watch"]["paths"], s["watch"]
'
}

@test "devinit sync regenerates a schema edited behind a watcher that is off and answers after the restart" {
    export DEVINIT_WATCH_MODE=off
    start_devinit
    add_nickname
    sleep 0.5
    [ "$(app_pid)" = "$OLD_APP" ] # nobody watches
    run "$DEVINIT" sync
    echo "$output"
    [ "$status" -eq 0 ]
    new=$(app_pid)
    [ "$new" != "$OLD_APP" ]
    [[ "$output" == *"; generate: generated the prisma client from prisma/schema.prisma in "*"; app restarted (pid $new)" ]]
    grep -q nickname "$CLIENT"
    wait_until 30 serving
}

@test "devinit sync on a broken schema exits 70 with the failure and keeps the app" {
    export DEVINIT_WATCH_MODE=off
    start_devinit
    echo 'model Broken {' >>prisma/schema.prisma
    run "$DEVINIT" sync
    echo "$output"
    [ "$status" -eq 70 ]
    [[ "$output" == *"; generate: '"*"prisma generate --schema "*"' exited with code 1"* ]]
    [ "$(app_pid)" = "$OLD_APP" ]
    serving
    run "$DEVINIT" health
    [ "$status" -eq 1 ]
}
