#!/usr/bin/env bash
# The README's first command: builds devinit, starts a throwaway PostgreSQL (or uses
# DATABASE_URL), and runs `devinit -- npm run dev` in examples/app. devinit installs the
# dependencies, generates the Prisma client, waits for the database, deploys the migrations
# and then supervises the app. Ctrl-C stops the app; PostgreSQL is stopped on the way out.
#
#   examples/demo.sh            run until Ctrl-C
#   examples/demo.sh --smoke    start, query /health and /users, stop (for CI and a quick look)
#
# Environment: DATABASE_URL (use this database instead of a throwaway one), APP_PORT (default:
# a free port), PG_BIN (PostgreSQL's server programs; scripts/pg.sh finds them),
# DEVINIT (a devinit binary to use instead of building one).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APP_DIR="$ROOT/examples/app"
. "$ROOT/scripts/pg.sh"
SMOKE=0
case "${1:-}" in
--smoke) SMOKE=1 ;;
"") ;;
*)
    echo "usage: $0 [--smoke]" >&2
    exit 64
    ;;
esac

say() {
    if [ -t 2 ]; then printf '\033[1mdemo:\033[0m %s\n' "$*" >&2; else printf 'demo: %s\n' "$*" >&2; fi
}

# --- what a fresh Debian 12 machine needs -------------------------------------------------
# The project's one list (.ci/install-deps), its demo group: the build, PostgreSQL, and a node
# new enough for Prisma 7 (Debian 12's is 18: a pinned one comes from the npm registry).
bash "$ROOT/.ci/install-deps" demo
node_ok=$(node -p 'const [a, b] = process.versions.node.split(".").map(Number); a > 20 || (a === 20 && b >= 19)')
if [ "$node_ok" != true ]; then
    echo "demo: node $(node --version) is too old: Prisma 7 needs node 20.19 or newer" >&2
    exit 69
fi

# --- build ----------------------------------------------------------------------------------
if [ -z "${DEVINIT:-}" ]; then
    say "building devinit (cmake preset dev)"
    (cd "$ROOT" && cmake --preset dev >/dev/null && cmake --build --preset dev -j"$(nproc)" >/dev/null)
    DEVINIT="$ROOT/build/dev/devinit"
fi


# --- PostgreSQL -------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/devinit-demo.XXXXXX)
chmod 755 "$WORK"
PGDATA="$WORK/pg"
cleanup() {
    local rc=$?
    if [ -f "$PGDATA/postmaster.pid" ]; then
        say "stopping PostgreSQL"
        pg_stop "$PGDATA"
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${DATABASE_URL:-}" ]; then
    PGPORT=$(pg_free_port)
    say "starting PostgreSQL on 127.0.0.1:$PGPORT (data in $PGDATA)"
    pg_init "$PGDATA" || exit 1
    pg_start "$PGDATA" "$PGPORT"
    pg_psql "$PGDATA" "$PGPORT" -c 'CREATE DATABASE app'
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/app?schema=public"
else
    say "using the database in DATABASE_URL"
fi

# --- the app ----------------------------------------------------------------------------------
APP_PORT=${APP_PORT:-$(pg_free_port)}
export PORT="$APP_PORT" HOST=127.0.0.1
# Migrations are deployed by devinit itself (no Prisma schema engine needed).
export DEVINIT_MIGRATE_MODE=deploy DEVINIT_MIGRATE_DEPLOY_WITH=native
# prisma generate does not use the schema engine, but the CLI downloads one when this is unset
# and none is installed; on a machine that cannot reach Prisma's binary host that fails.
if [ -z "${PRISMA_SCHEMA_ENGINE_BINARY:-}" ] &&
    ! ls "$APP_DIR"/node_modules/@prisma/engines/schema-engine* >/dev/null 2>&1; then
    export PRISMA_SCHEMA_ENGINE_BINARY=/bin/true
fi
# The demo's devinit is not PID 1 and not the container's: keep its control socket private.
export DEVINIT_CONTROL_SOCKET="$WORK/devinit.sock"

URL="http://127.0.0.1:$APP_PORT"
say "starting: devinit -- npm run dev   (in examples/app)"
say "the app will answer on $URL/health and $URL/users; Ctrl-C stops it"

cd "$APP_DIR"
if [ "$SMOKE" = 0 ]; then
    # In the foreground, so Ctrl-C reaches devinit (which stops the app) and no second signal
    # from this script follows; not exec, so the EXIT trap still stops PostgreSQL afterwards.
    rc=0
    "$DEVINIT" -- npm run dev || rc=$?
    exit "$rc"
fi

"$DEVINIT" -- npm run dev >"$WORK/devinit.log" 2>&1 &
pid=$!
for _ in $(seq 1 1200); do
    curl -fsS "$URL/health" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
ok=1
curl -fsS "$URL/health" || ok=0
# 201, or 409 when a database given in DATABASE_URL already has her.
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' \
    -d '{"email": "ada@example.com", "name": "Ada", "bio": "first programmer"}' "$URL/users") || true
[ "$code" = 201 ] || [ "$code" = 409 ] || ok=0
curl -fsS "$URL/users" || ok=0
kill -TERM "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
cat "$WORK/devinit.log" >&2
if [ "$ok" = 1 ]; then
    say "smoke test passed (devinit exited with $rc after SIGTERM)"
else
    say "smoke test FAILED"
    exit 1
fi
