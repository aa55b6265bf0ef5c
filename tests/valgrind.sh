#!/usr/bin/env bash
# Runs devinit under valgrind's memcheck and fails on any memory error or definitely lost
# block: first a representative set of invocations,
#   a plain init run, the app's exit code, a crash-looping app with restarts, a signal stop,
#   a failing step, a configuration error, and against a real PostgreSQL 15 started here:
#   check --json with migrations, a native deploy, a failing migration, a wrong password;
# then whole system test files (bats) with every devinit they start under memcheck.
#
#     tests/valgrind.sh [DEVINIT]     (default: $DEVINIT, else build/dev/devinit)
#     VG_FILES="exit_codes wait_url_forms" tests/valgrind.sh    # some files; none: no files
#
# Each line says the invocation, the exit code it gave and the one expected. Exit 0 when all
# are clean, 1 otherwise. Needs root (PostgreSQL runs as the postgres user) and valgrind.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEVINIT=${1:-${DEVINIT:-$ROOT/build/dev/devinit}}
DEVINIT=$(realpath "$DEVINIT")
. "$ROOT/scripts/pg.sh"
VG=(valgrind --suppressions="$ROOT/tests/valgrind.supp" --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=99
    --trace-children=no --child-silent-after-fork=yes --quiet)

[ -x "$DEVINIT" ] || { echo "valgrind.sh: no devinit at '$DEVINIT': build it first" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }

WORK=$(mktemp -d /tmp/devinit-valgrind.XXXXXX)
chmod 755 "$WORK"
PGDIR=$WORK/pg
PORT=
cleanup() {
    pg_stop "$PGDIR"
    rm -rf "$WORK"
}
trap cleanup EXIT

export DEVINIT_CONTROL_SOCKET="" NO_COLOR=1
# devinit refuses a DEVINIT_* variable that is not a key: the one tests/run.sh exports for the
# bats files (tests/lib/common.bash takes it out of their environment) is kept from the direct
# runs below by `env -u`.
FAILED=0
RUNS=0

# vg NAME EXPECTED CMD-ARGS...: devinit ARGS under valgrind in $WORK/app; the exit code must
# be EXPECTED (99 means valgrind found an error). Its report goes to $WORK/NAME.vg.
vg() {
    local name=$1 want=$2
    shift 2
    local s=0
    (cd "$WORK/app" && env -u DEVINIT_STATIC_BIN "${VG[@]}" --log-file="$WORK/$name.vg" "$DEVINIT" "$@") \
        >"$WORK/$name.out" 2>&1 || s=$?
    report "$name" "$want" "$s"
}

report() {
    local name=$1 want=$2 s=$3
    RUNS=$((RUNS + 1))
    if [ "$s" -eq "$want" ] && [ ! -s "$WORK/$name.vg" ]; then
        printf 'ok    %-28s exit %3d\n' "$name" "$s"
    else
        FAILED=$((FAILED + 1))
        printf 'FAIL  %-28s exit %3d, expected %d\n' "$name" "$s" "$want"
        sed 's/^/      | /' "$WORK/$name.out" | tail -n 15
        sed 's/^/      vg| /' "$WORK/$name.vg"
    fi
}

# vg_signal NAME EXPECTED SIGNAL READY-FILE ARGS...: starts devinit under valgrind, waits for
# READY-FILE (written by the app), sends SIGNAL to devinit and waits for it.
vg_signal() {
    local name=$1 want=$2 sig=$3 ready=$4
    shift 4
    (cd "$WORK/app" && exec env -u DEVINIT_STATIC_BIN "${VG[@]}" --log-file="$WORK/$name.vg" "$DEVINIT" "$@") \
        >"$WORK/$name.out" 2>&1 &
    local pid=$! tries=0
    while [ ! -e "$ready" ] && [ "$tries" -lt 600 ]; do
        tries=$((tries + 1))
        sleep 0.05
    done
    sleep 0.3
    kill -s "$sig" "$pid"
    local s=0
    wait "$pid" || s=$?
    report "$name" "$want" "$s"
}

mkdir -p "$WORK/app"
cd "$WORK/app" || exit 2

# --- without a database ---------------------------------------------------------------------
vg plain-init 0 --skip=all -- true
vg app-exit-code 3 --skip=all -- sh -c 'exit 3'
vg app-not-found 127 --skip=all -- /nonexistent/app
vg usage-error 64 --no-such-option
printf '[app]\nrestart = sometimes\n' >"$WORK/bad.ini"
vg config-error 78 --config "$WORK/bad.ini" --skip=all -- true
echo '{"name":"t","version":"1.0.0"}' >package.json
echo '{"lockfileVersion":3}' >package-lock.json
DEVINIT_DEPS_COMMAND=false vg failing-step 70 -q --only=deps -- true
DEVINIT_DEPS_COMMAND="sh -c true" vg deps-install 0 --only=deps -- true
DEVINIT_DEPS_COMMAND="sh -c true" vg deps-current 0 --only=deps -- true
rm -f "$WORK/ready"
vg_signal sigterm-stop 143 TERM "$WORK/ready" --skip=all -- sh -c "touch '$WORK/ready'; exec sleep 30"
rm -f "$WORK/ready" "$WORK/starts"
DEVINIT_APP_RESTART=always DEVINIT_APP_RESTART_DELAY=10ms DEVINIT_APP_RESTART_MAX_DELAY=20ms \
    vg_signal restart-loop-stop 143 TERM "$WORK/ready" --skip=all -- \
    sh -c "echo x >> '$WORK/starts'; [ \$(wc -l < '$WORK/starts') -lt 5 ] || { touch '$WORK/ready'; exec sleep 30; }; exit 1"
rm -f package.json package-lock.json

# --- against a real PostgreSQL 15 --------------------------------------------------------------
PORT=$(pg_free_port)
pg_init "$PGDIR" || exit 2
cat >"$PGDIR/pg_hba.conf" <<EOF
local all postgres trust
host all all 127.0.0.1/32 scram-sha-256
EOF
pg_start "$PGDIR" "$PORT" fsync=off || { cat "$PGDIR/server.log"; exit 2; }
pg_psql "$PGDIR" "$PORT" -c "CREATE ROLE app LOGIN PASSWORD 'app pw'" \
    -c "CREATE DATABASE app OWNER app" >/dev/null || exit 2

mkdir -p prisma/migrations/20240101000000_init prisma/migrations/20240102000000_more
printf 'datasource db {\n  provider = "postgresql"\n}\n' >prisma/schema.prisma
printf 'provider = "postgresql"\n' >prisma/migrations/migration_lock.toml
echo 'CREATE TABLE a (id int);' >prisma/migrations/20240101000000_init/migration.sql
echo 'CREATE TABLE b (id int);' >prisma/migrations/20240102000000_more/migration.sql
export DATABASE_URL="postgresql://app:app%20pw@127.0.0.1:$PORT/app?schema=public&connection_limit=5"

vg check-json-pending 1 check --json
DEVINIT_MIGRATE_MODE=deploy vg native-deploy 0 --only=wait,migrate -- true
vg check-json-current 0 check --json -v -v
mkdir -p prisma/migrations/20240103000000_bad
echo 'SELECT 1/0;' >prisma/migrations/20240103000000_bad/migration.sql
DEVINIT_MIGRATE_MODE=deploy vg failing-migration 65 --only=wait,migrate -- true
vg check-failed-row 65 check --json
DATABASE_URL="postgresql://app:wrong@127.0.0.1:$PORT/app" vg wrong-password 77 check --only=wait
DATABASE_URL="postgresql://app:app%20pw@127.0.0.1:1/app" DEVINIT_WAIT_TIMEOUT=1500ms \
    vg unreachable 69 --only=wait -- true
rm -f "$WORK/ready"
DEVINIT_CONTROL_SOCKET=$WORK/ctl.sock DEVINIT_MIGRATE_FAILED=warn \
    vg_signal status-then-stop 143 TERM "$WORK/ready" --only=wait,migrate -- \
    sh -c "'$DEVINIT' status --json >'$WORK/status.json' && touch '$WORK/ready'; exec sleep 30"

echo "valgrind: $RUNS runs, $FAILED failed"

# --- whole system test files under memcheck ---------------------------------------------------
# The bats files whose assertions hold at valgrind's pace run with DEVINIT set to a wrapper
# that execs devinit under memcheck: the same process, so a PID 1 test keeps its meaning and an
# exit code is devinit's own (99 when valgrind found an error). Every devinit the tests start
# writes a report of its own; any non-empty report fails its file. Files left out measure time
# (reaping bursts, backoff, deadlines of a second), use the static binary or a container, run
# npm and prisma (whose minutes would be valgrind's overhead on node), or repeat one behaviour
# hundreds of times (exit_codes: its cases are among the runs above). Two files at a time:
# each starts its own servers, and valgrind keeps one core busy.
VG_FILES=(${VG_FILES:-fault_steps hostile_argv hostile_config hostile_dburl hostile_secrets
    migrate_deploy migrate_states privileges_user supervisor_cli supervisor_environment
    supervisor_startup wait_signals wait_url_forms})
VG_JOBS=${VG_JOBS:-2}

# vg_file NAME: runs tests/system/NAME.bats under the wrapper; its verdict goes to
# $WORK/NAME.result, its memcheck reports to $WORK/vg-logs-NAME/.
vg_file() {
    local f=$1 logs=$WORK/vg-logs-$1 s=0 t0 reports runs tests
    mkdir -p "$logs"
    chmod 1777 "$logs" # devinit run as another user writes its report too
    t0=$(date +%s)
    (cd "$ROOT" && VG_LOGDIR=$logs DEVINIT_UNDER_VALGRIND=1 DEVINIT=$WORK/vg-bin/devinit \
        DEVINIT_HELPERS=$HELPERS DEVINIT_SOURCE_DIR=$ROOT DEVINIT_BUILD_DIR=$(dirname "$DEVINIT") \
        bats "tests/system/$f.bats") >"$WORK/$f.tap" 2>&1 || s=$?
    reports=$(find "$logs" -name '*.vg' -size +0 | sort)
    runs=$(find "$logs" -name '*.vg' | wc -l)
    tests=$(grep -c '^ok ' "$WORK/$f.tap" || true)
    if [ "$s" -eq 0 ] && [ -z "$reports" ]; then
        printf 'ok    %-28s %3d tests, %3d devinit runs, %3d s\n' "$f.bats" "$tests" "$runs" \
            $(($(date +%s) - t0)) >"$WORK/$f.result"
    else
        {
            printf 'FAIL  %-28s bats exit %d, %d memcheck reports\n' "$f.bats" "$s" \
                "$(printf '%s' "$reports" | grep -c . || true)"
            grep -v '^ok ' "$WORK/$f.tap" | sed 's/^/      | /' | tail -n 40
            for r in $reports; do sed 's/^/      vg| /' "$r"; done
        } >"$WORK/$f.result"
    fi
}

if [ "${VG_FILES[*]}" != none ]; then
    HELPERS=$(dirname "$DEVINIT")/helpers
    [ -d "$HELPERS" ] || { echo "valgrind.sh: no test helpers at '$HELPERS': build the tests" >&2; exit 2; }
    mkdir -p "$WORK/vg-bin" "$WORK/vg-tmp"
    chmod 1777 "$WORK/vg-tmp"
    # bash, not sh: dash drops environment variables whose names are not identifiers, and a
    # test hands devinit such a name. valgrind writes a file in TMPDIR at start: a devinit run
    # as another user gets a TMPDIR it may write to.
    printf '#!/bin/bash\n[ -w "${TMPDIR:-/tmp}" ] || export TMPDIR=%s/vg-tmp\nexec %s --log-file="$VG_LOGDIR/%%p.vg" %s "$@"\n' \
        "$WORK" "${VG[*]}" "$DEVINIT" >"$WORK/vg-bin/devinit"
    chmod 755 "$WORK/vg-bin/devinit"
    running=0
    for f in "${VG_FILES[@]}"; do
        if [ "$running" -ge "$VG_JOBS" ]; then
            wait -n || true
            running=$((running - 1))
        fi
        vg_file "$f" &
        running=$((running + 1))
    done
    wait
    FILES_FAILED=0
    for f in "${VG_FILES[@]}"; do
        [ -f "$WORK/$f.result" ] || echo "FAIL  $f.bats: no result" >"$WORK/$f.result"
        cat "$WORK/$f.result"
        grep -q '^ok ' "$WORK/$f.result" || FILES_FAILED=$((FILES_FAILED + 1))
    done
    echo "valgrind: ${#VG_FILES[@]} system test files, $FILES_FAILED failed"
    FAILED=$((FAILED + FILES_FAILED))
fi
[ "$FAILED" -eq 0 ]
