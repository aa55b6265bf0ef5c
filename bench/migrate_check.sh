#!/usr/bin/env bash
# Cost of devinit's migration check as the migrations pile up, against two peers, side by side
# on the same database and the same migrations folder:
#   - devinit: `devinit check --only=migrate`: start, read the migrations folder and hash
#     every migration.sql, connect over TCP, one round trip (lock, tables, rows), classify,
#     print the report;
#   - psql: `psql -f <the same two statements>`: start, connect, the same round trip, print
#     the rows (a floor: it reads no file and classifies nothing);
#   - prisma: Prisma 6.19.3's `prisma migrate status`, which answers the same question. Its
#     native schema engine cannot be downloaded here; the js engine with @prisma/adapter-pg
#     runs offline (as in tests/system/migrate_prisma.bats).
# For 10, 1,000 and 10,000 migrations, all applied. Each tool's answer is checked once per
# size before it is timed ("up to date", every migration applied), and hyperfine stops on a
# non-zero exit, so no error can be timed as an answer. devinit and psql: hyperfine, warm-up
# runs then N runs each; prisma: fewer runs (PRISMA_RUNS, or 3 where one run takes more than
# 3 s) after its check run, which doubles as the warm-up. Prints medians and the ratios.
#
#     bench/migrate_check.sh [N] [PRISMA_RUNS]      (defaults 40 and 10)
#     DEVINIT=path/to/devinit (default: a build under build/)
#     SIZES="10 1000 10000"   PRISMA6_DIR=where Prisma 6 is installed (and cached)
#
# Needs root (the server runs as postgres), PostgreSQL 15, hyperfine, node and npm (Prisma is
# installed from the npm registry once, ~10 s, then reused).
set -euo pipefail

N=${1:-40}
PRISMA_RUNS=${2:-10}
read -r -a SIZES <<<"${SIZES:-10 1000 10000}"
HERE=$(cd "$(dirname "$0")/.." && pwd)
. "$HERE/bench/lib.sh"
bench_devinit migrate_check.sh
. "$HERE/scripts/pg.sh"
[ "$(id -u)" -eq 0 ] || { echo "migrate_check.sh: run as root (the server runs as postgres)" >&2; exit 2; }
for tool in hyperfine node npm python3; do
    command -v "$tool" >/dev/null || { echo "migrate_check.sh: needs $tool" >&2; exit 2; }
done

# Prisma 6 beside the build, where the system tests keep theirs (one install serves both).
. "$HERE/tests/fixtures/migrations/helpers.bash"
if [ -z "${PRISMA6_DIR:-}" ]; then
    if [ -f "$(dirname "$DEVINIT")/CMakeCache.txt" ]; then
        PRISMA6_DIR=$(dirname "$DEVINIT")/cache/prisma-$PRISMA6_VERSION
    else
        PRISMA6_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/devinit-bench/prisma-$PRISMA6_VERSION
    fi
fi
[ -x "$PRISMA6_DIR/node_modules/.bin/prisma" ] ||
    echo "installing prisma $PRISMA6_VERSION into $PRISMA6_DIR (npm)..." >&2
prisma6_install "$PRISMA6_DIR"

WORK=$(mktemp -d /tmp/devinit-bench.XXXXXX)
chmod 777 "$WORK"
DATA=$WORK/data
cleanup() {
    pg_stop "$DATA" immediate
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(pg_free_port)
pg_init "$DATA"
pg_start "$DATA" "$PORT"
PSQL=("$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$DATA" -p "$PORT" -U postgres)

# The statements devinit sends (lib/db/migrate_native.c send_state_query), for psql.
cat >"$WORK/state.sql" <<'EOF'
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public'), EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = 72707369 AND objsubid = 1 AND granted AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database())), (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname <> '_prisma_migrations' AND c.relname !~* '^(spatial_ref_sys|geometry_columns|geography_columns|raster_columns|raster_overviews)$');SELECT migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, started_at, left(logs, 2000) FROM "public"._prisma_migrations ORDER BY started_at
EOF

# An app with COUNT applied migrations (files, and rows as Prisma writes them), in its own
# database; set up for Prisma 6 too (its url in the schema, its config with the adapter).
make_case() {
    local count=$1 db=bench$1 app=$WORK/app$1
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
    mkdir -p "$app/prisma/migrations"
    ln -s "$PRISMA6_DIR/node_modules" "$app/node_modules"
    printf 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n' \
        >"$app/prisma/schema.prisma"
    printf 'provider = "postgresql"\n' >"$app/prisma/migrations/migration_lock.toml"
    cp "$HERE/tests/fixtures/migrations/prisma6.config.ts" "$app/prisma.config.ts"
    python3 - "$app/prisma/migrations" "$count" >"$WORK/rows$count.sql" <<'PY'
import hashlib, os, sys
root, count = sys.argv[1], int(sys.argv[2])
# Prisma's table (prisma-engines create_migrations_table); rows one second apart.
print("""CREATE TABLE _prisma_migrations (
    id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL,
    finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT,
    rolled_back_at TIMESTAMPTZ, started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count INTEGER NOT NULL DEFAULT 0);""")
print("INSERT INTO _prisma_migrations VALUES")
for i in range(1, count + 1):
    name = "2024%010d_migration_%d" % (i, i)
    sql = ('-- CreateTable\nCREATE TABLE "T%d" (\n    "id" SERIAL NOT NULL,\n'
           '    "name" TEXT NOT NULL,\n'
           '    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n\n'
           '    CONSTRAINT "T%d_pkey" PRIMARY KEY ("id")\n);\n' % (i, i)).encode()
    os.mkdir(os.path.join(root, name))
    with open(os.path.join(root, name, "migration.sql"), "wb") as f:
        f.write(sql)
    at = "timestamptz '2024-01-01 00:00:00+00' + interval '%d seconds'" % i
    print("  (gen_random_uuid(), '%s', %s, '%s', NULL, NULL, %s, 1)%s"
          % (hashlib.sha256(sql).hexdigest(), at, name, at, "," if i < count else ";"))
PY
    "${PSQL[@]}" -d "$db" -f "$WORK/rows$count.sql" >/dev/null
}

# Each tool's answer for COUNT, checked before it is timed.
verify() {
    local count=$1 app=$WORK/app$1 url=$2 out
    out=$(cd "$app" && DATABASE_URL=$url "$DEVINIT" check --only=migrate --json 2>/dev/null) ||
        { echo "devinit check --only=migrate: exit $? at $count migrations" >&2; return 1; }
    python3 -c '
import json, sys
count = int(sys.argv[1])
try:
    m = json.load(sys.stdin)["steps"]["migrate"]
except (ValueError, KeyError):
    sys.exit("devinit check --only=migrate --json printed no report")
bad = [k for k in ("pending", "failed", "edited", "missing_locally", "rolled_back") if m[k]]
if m["status"] != "ok" or len(m["applied"]) != count or bad:
    sys.exit("devinit at %d migrations: %s: %s %s" % (count, m["status"], m["reason"], bad))
' "$count" <<<"$out" || return 1
    out=$("${PSQL[@]}" -h 127.0.0.1 -d "bench$count" -f "$WORK/state.sql")
    [ "$(grep -c '|t|f|' <<<"$out")" -eq "$count" ] ||
        { echo "psql did not see $count applied migrations" >&2; return 1; }
    local t0 t1
    t0=$(date +%s%N)
    out=$(cd "$app" && DATABASE_URL=$url timeout 600 node_modules/.bin/prisma migrate status 2>&1) ||
        { echo "prisma migrate status: exit $? at $count migrations: $out" >&2; return 1; }
    t1=$(date +%s%N)
    [[ "$out" == *"$count migration"*" found in prisma/migrations"* && "$out" == *"Database schema is up to date!"* ]] ||
        { echo "prisma migrate status at $count migrations: $out" >&2; return 1; }
    PRISMA_ONE_MS=$(((t1 - t0) / 1000000))
}

declare -A MED_DEV MED_PSQL MED_PRISMA RUNS_PRISMA
for count in "${SIZES[@]}"; do
    echo "preparing $count migrations..." >&2
    make_case "$count"
    app=$WORK/app$count
    url="postgresql://postgres@127.0.0.1:$PORT/bench$count?schema=public"
    verify "$count" "$url"
    echo "timing $count migrations (one prisma run took $PRISMA_ONE_MS ms)..." >&2
    hf "$WORK/h$count.json" "$N" 5 \
        devinit "cd '$app' && DATABASE_URL='$url' '$DEVINIT' check --only=migrate >/dev/null 2>&1" \
        psql "'${PSQL[0]}' -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PORT -U postgres -d bench$count -f '$WORK/state.sql' >/dev/null"
    RUNS_PRISMA[$count]=$PRISMA_RUNS
    [ "$PRISMA_ONE_MS" -le 3000 ] || RUNS_PRISMA[$count]=3
    hf "$WORK/p$count.json" "${RUNS_PRISMA[$count]}" 0 \
        prisma "cd '$app' && DATABASE_URL='$url' node_modules/.bin/prisma migrate status >/dev/null 2>&1"
    MED_DEV[$count]=$(median_ms "$WORK/h$count.json" devinit)
    MED_PSQL[$count]=$(median_ms "$WORK/h$count.json" psql)
    MED_PRISMA[$count]=$(median_ms "$WORK/p$count.json" prisma)
done

echo "migration check, every migration applied: devinit check --only=migrate, psql running the"
echo "same query, prisma $PRISMA6_VERSION migrate status (offline: js engine + @prisma/adapter-pg)"
echo "(medians; devinit and psql $N runs each after 5 warm-up runs; prisma after one checked run,"
echo " runs as listed, 3 where one run took over 3 s; TCP to 127.0.0.1; devinit at $DEVINIT)"
printf '%-11s %13s %10s %12s %7s %13s %15s\n' migrations "devinit (ms)" "psql (ms)" "prisma (ms)" runs \
    devinit:psql devinit:prisma
for count in "${SIZES[@]}"; do
    python3 - "$count" "${MED_DEV[$count]}" "${MED_PSQL[$count]}" "${MED_PRISMA[$count]}" \
        "${RUNS_PRISMA[$count]}" <<'PY'
import sys
n, d, p, q, runs = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
print(f"{n:<11,} {d:13.1f} {p:10.1f} {q:12.0f} {runs:>7} {d / p:10.2f}:1 {'1:' + format(q / d, '.0f'):>15}")
PY
done
for count in "${SIZES[@]}"; do
    bench_summary "migration check, $count migrations" "${MED_DEV[$count]}" "psql, the same query" \
        "${MED_PSQL[$count]}" ms
    bench_summary "migration check, $count migrations" "${MED_DEV[$count]}" \
        "prisma $PRISMA6_VERSION migrate status" "${MED_PRISMA[$count]}" ms
done
