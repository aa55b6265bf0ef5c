#!/usr/bin/env bash
# Cost of devinit's migration check against psql running the same query, side by side.
#   - devinit: `devinit check --only=migrate`: start, read the migrations folder and hash
#     every migration.sql, connect over TCP, one round trip (lock, tables, rows), classify,
#     print the report;
#   - psql: `psql -c '<the same two statements>'` to the same server: start, connect, the
#     same round trip, print the rows.
# For 20 and 1,000 applied migrations (a realistic project and a large one), with hyperfine
# (warm-up runs, then N runs each, alternating). Prints medians, the ratio and the targets
# (<= 30 ms, <= 1.5x psql).
#
#     bench/migrate_check.sh [N]     DEVINIT=path/to/devinit (default: a build under build/)
#
# Needs root (the server runs as postgres), PostgreSQL 15 and hyperfine.
set -euo pipefail

N=${1:-60}
HERE=$(cd "$(dirname "$0")/.." && pwd)
DEVINIT=${DEVINIT:-}
if [ -z "$DEVINIT" ]; then
    for d in "$HERE"/build/release "$HERE"/build/migrate "$HERE"/build/*; do
        [ -x "$d/devinit" ] && DEVINIT=$d/devinit && break
    done
fi
[ -x "${DEVINIT:-}" ] || { echo "migrate_check.sh: set DEVINIT to the devinit binary" >&2; exit 2; }
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ "$(id -u)" -eq 0 ] || { echo "migrate_check.sh: run as root (the server runs as postgres)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "migrate_check.sh: needs hyperfine" >&2; exit 2; }

WORK=$(mktemp -d /tmp/devinit-bench.XXXXXX)
chmod 777 "$WORK"
DATA=$WORK/data
cleanup() {
    su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$DATA' -m immediate -w stop" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$DATA"
chown postgres:postgres "$DATA"
chmod 700 "$DATA"
(cd / && su postgres -s /bin/sh -c "$PG_BIN/initdb -D '$DATA' -A trust -U postgres >'$WORK/initdb.log' 2>&1")
(cd / && su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$DATA' -w -o \"-p $PORT -k '$DATA' -c listen_addresses=127.0.0.1\" -l '$DATA/server.log' start >/dev/null")
PSQL=("$PG_BIN/psql" -X -q -A -t -h "$DATA" -p "$PORT" -U postgres)

# The statements devinit sends (lib/step_migrate.c send_state_query), for psql.
state_sql() {
    cat <<'EOF'
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public'), EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = 72707369 AND objsubid = 1 AND granted AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database())), (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname <> '_prisma_migrations' AND c.relname !~* '^(spatial_ref_sys|geometry_columns|geography_columns|raster_columns|raster_overviews)$');SELECT migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, started_at, left(logs, 2000) FROM "public"._prisma_migrations ORDER BY started_at
EOF
}

# An app with COUNT applied migrations (files and rows), in its own database.
make_case() {
    local count=$1 db=bench$1 app=$WORK/app$1
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
    mkdir -p "$app/prisma/migrations"
    printf 'datasource db {\n  provider = "postgresql"\n}\n' >"$app/prisma/schema.prisma"
    printf 'provider = "postgresql"\n' >"$app/prisma/migrations/migration_lock.toml"
    "${PSQL[@]}" -d "$db" -c 'CREATE TABLE _prisma_migrations (
        id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL,
        finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT,
        rolled_back_at TIMESTAMPTZ, started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        applied_steps_count INTEGER NOT NULL DEFAULT 0)' >/dev/null
    local i name sql rows=$WORK/rows$count.sql
    : >"$rows"
    for i in $(seq 1 "$count"); do
        name=$(printf '2024%010d_migration_%d' "$i" "$i")
        mkdir -p "$app/prisma/migrations/$name"
        sql="-- CreateTable
CREATE TABLE \"T$i\" (
    \"id\" SERIAL NOT NULL,
    \"name\" TEXT NOT NULL,
    \"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT \"T${i}_pkey\" PRIMARY KEY (\"id\")
);
"
        printf '%s' "$sql" >"$app/prisma/migrations/$name/migration.sql"
        printf "INSERT INTO _prisma_migrations VALUES (gen_random_uuid(), '%s', now(), '%s', NULL, NULL, clock_timestamp(), 1);\n" \
            "$(printf '%s' "$sql" | sha256sum | cut -d' ' -f1)" "$name" >>"$rows"
    done
    "${PSQL[@]}" -d "$db" -f "$rows" >/dev/null
}

declare -A MED_DEV MED_PSQL
for count in 20 1000; do
    make_case "$count"
    app=$WORK/app$count
    url="postgresql://postgres@127.0.0.1:$PORT/bench$count?schema=public"
    # Both must see the same thing before they are timed.
    (cd "$app" && DATABASE_URL=$url "$DEVINIT" check --only=migrate >/dev/null)
    [ "$("${PSQL[@]}" -h 127.0.0.1 -d "bench$count" -c "$(state_sql)" | wc -l)" -eq $((count + 1)) ]
    state_sql >"$WORK/state.sql"
    hyperfine --style none --warmup 5 --runs "$N" --export-json "$WORK/h$count.json" \
        --command-name devinit "cd '$app' && DATABASE_URL='$url' '$DEVINIT' check --only=migrate >/dev/null 2>&1" \
        --command-name psql "'${PSQL[0]}' -X -q -A -t -h 127.0.0.1 -p $PORT -U postgres -d bench$count -f '$WORK/state.sql' >/dev/null" \
        >/dev/null
    read -r MED_DEV[$count] MED_PSQL[$count] < <(python3 - "$WORK/h$count.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print(r["devinit"]["median"] * 1000, r["psql"]["median"] * 1000)
PY
)
done

echo "migration check: devinit check --only=migrate vs psql running the same query"
echo "($N runs each after 5 warm-up runs, medians; TCP to 127.0.0.1; $(basename "$DEVINIT") at $DEVINIT)"
printf '%-12s %14s %14s %10s %10s\n' migrations "devinit (ms)" "psql (ms)" ratio target
for count in 20 1000; do
    python3 - "$count" "${MED_DEV[$count]}" "${MED_PSQL[$count]}" <<'PY'
import sys
n, d, p = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
ok = "met" if d <= 30 and d <= 1.5 * p else "missed"
print(f"{n:<12} {d:14.1f} {p:14.1f} {d / p:9.2f}x {ok:>10}")
PY
done
