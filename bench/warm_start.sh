#!/usr/bin/env bash
# Warm start, side by side in one run: the time from a container's start to the exec of the
# app when everything is already current (node_modules installed, client generated, database
# up), for the seed's dev-setup.sh approach and for devinit, on examples/app.
#
#   seed:    install if node_modules is missing, `npx prisma generate` every time, loop on
#            pg_isready, exec the app
#   devinit: deps + generate checks (stamps), wait (a real login and SELECT 1), exec the app
#
# The app is `date +%s%N`: the time it prints minus the time just before the start is the
# start-to-exec time (plus date's own start, the same for both). Median over the runs.
#
# Usage: bench/warm_start.sh [SEED_RUNS] [DEVINIT_RUNS]      (defaults 7 and 41)
# Env:   DEVINIT=path/to/devinit (default: the ci build, see bench/lib.sh)
set -euo pipefail

SEED_RUNS=${1:-7}
DEVINIT_RUNS=${2:-41}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/pg.sh"

. "$ROOT/bench/lib.sh"
bench_devinit warm_start.sh

WORK=$(mktemp -d /tmp/devinit-bench.XXXXXX)
chmod 755 "$WORK"
PGDATA="$WORK/pg"
cleanup() {
    pg_stop "$PGDATA"
    rm -rf "$WORK"
}
trap cleanup EXIT


echo "preparing: PostgreSQL, a copy of examples/app, npm ci and prisma generate..." >&2
PORT=$(pg_free_port)
pg_init "$PGDATA"
pg_start "$PGDATA" "$PORT"
pg_psql "$PGDATA" "$PORT" -c 'CREATE DATABASE app'
export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/app?schema=public"

APP="$WORK/app"
mkdir -p "$APP"
tar -C "$ROOT/examples/app" --exclude=node_modules --exclude=generated -cf - . | tar -C "$APP" -xf -
# prisma generate does not use the schema engine; without the variable the CLI tries to
# download one (offline machines). Set the same way for both contenders.
export PRISMA_SCHEMA_ENGINE_BINARY=${PRISMA_SCHEMA_ENGINE_BINARY:-/bin/true}
export npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false
(cd "$APP" && "$DEVINIT" --only=deps,generate -- true) >"$WORK/prepare.log" 2>&1 ||
    { cat "$WORK/prepare.log"; exit 1; }

# One round: the seed's bench/seed-dev-setup.sh, devinit, and the references: devinit as a plain
# init (no step), and the app with no init at all (bench/lib.sh).
round() {
    bench_seed_start seed "$APP"
    (cd "$APP" && bench_start devinit "$DEVINIT" --skip=migrate -- date +%s%N)
    (cd "$APP" && bench_start plain "$DEVINIT" --skip=all -- date +%s%N)
    bench_start bare date +%s%N
}
echo "running: $SEED_RUNS seed starts, $DEVINIT_RUNS devinit starts..." >&2
bench_rounds "$SEED_RUNS" "$DEVINIT_RUNS" round

# Sanity: devinit really skipped both steps and passed the database check.
(cd "$APP" && "$DEVINIT" check --skip=migrate) >"$WORK/check.txt" 2>&1 || {
    cat "$WORK/check.txt"
    echo "devinit check says something is not current: the comparison would be unfair" >&2
    exit 1
}

s_med=$(bench_median seed)
d_med=$(bench_median devinit)
ratio=$(awk -v s="$s_med" -v d="$d_med" 'BEGIN {printf "%.0f", s / d}')

printf '\nwarm start of examples/app, start to app exec (node %s, %s)\n\n' "$(node --version)" \
    "prisma $(node -p 'require(process.argv[1]).version' "$APP/node_modules/prisma/package.json")"
printf '%-34s %10s %10s %10s %6s\n' "approach" "median ms" "min ms" "max ms" "runs"
row() { # row LABEL NAME RUNS
    printf '%-34s %10s %10s %10s %6s\n' "$1" "$(bench_ms "$(bench_median "$2")")" \
        "$(bench_ms "$(bench_min "$2")")" "$(bench_ms "$(bench_max "$2")")" "$3"
}
row "seed dev-setup.sh (npx generate)" seed "$SEED_RUNS"
row "devinit (deps, generate, wait)" devinit "$DEVINIT_RUNS"
printf '\nreferences:\n'
row "devinit --skip=all (plain init)" plain "$DEVINIT_RUNS"
row "the app alone (no init)" bare "$DEVINIT_RUNS"
printf '\ndevinit is %sx faster (target: >= 100x, devinit <= 40 ms)\n' "$ratio"
bench_summary "warm start of examples/app" "$(bench_ms "$d_med")" "dev-setup.sh (seed)" \
    "$(bench_ms "$s_med")" ms

ok=1
awk -v d="$d_med" 'BEGIN {exit !(d <= 40000)}' || ok=0
[ "$ratio" -ge 100 ] || ok=0
if [ "$ok" = 1 ]; then echo "targets: met"; else echo "targets: NOT met"; fi
