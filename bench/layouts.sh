#!/usr/bin/env bash
# Warm start per project layout, and the start after a hand-run `npm ci`, side by side with
# the seed's dev-setup.sh in one run: the time from a container's start to the exec of the
# app when everything is already current, for
#
#   npm            examples/app installed with npm
#   pnpm           examples/app locked and installed with pnpm (client inside node_modules/.pnpm)
#   yarn           examples/app locked with yarn 1 and installed by hand with `yarn install
#                  --frozen-lockfile`, which devinit adopts from node_modules/.yarn-integrity
#   npm workspace  apps/api + packages/db (examples/app's Prisma part), npm workspaces
#   pnpm workspace the same with pnpm-workspace.yaml
#   after npm ci   examples/app right after `npm ci` by hand: node_modules without devinit's
#                  stamp (npm ci deletes it), which devinit adopts from npm's own record
#
# devinit runs deps, generate and wait (a real login and SELECT 1); the seed's dev-setup.sh
# generates every time and loops on pg_isready, run in the folder that holds the schema. The
# app is `date +%s%N`, as in bench/warm_start.sh. Median over the runs, interleaved.
#
# Usage: bench/layouts.sh [SEED_RUNS] [DEVINIT_RUNS]      (defaults 5 and 31)
# Env:   DEVINIT=path/to/devinit (default: the ci build, see bench/lib.sh)
set -euo pipefail

SEED_RUNS=${1:-5}
DEVINIT_RUNS=${2:-31}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/pg.sh"
. "$ROOT/bench/lib.sh"
bench_devinit layouts.sh
DEVINIT_SOURCE_DIR=$ROOT
. "$ROOT/tests/lib/workspace.bash"

WORK=$(mktemp -d /tmp/devinit-bench.XXXXXX)
chmod 755 "$WORK"
PGDATA="$WORK/pg"
cleanup() {
    pg_stop "$PGDATA"
    rm -rf "$WORK"
}
trap cleanup EXIT

export PRISMA_SCHEMA_ENGINE_BINARY=${PRISMA_SCHEMA_ENGINE_BINARY:-/bin/true}
export PRISMA_GENERATE_SKIP_AUTOINSTALL=1
export npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false

echo "preparing: PostgreSQL, six layouts, their installs and clients..." >&2
PORT=$(pg_free_port)
pg_init "$PGDATA"
pg_start "$PGDATA" "$PORT"
pg_psql "$PGDATA" "$PORT" -c 'CREATE DATABASE app'
export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/app?schema=public"

app_copy() {
    mkdir -p "$1"
    tar -C "$ROOT/examples/app" --exclude=node_modules --exclude=generated -cf - . | tar -C "$1" -xf -
}
app_copy "$WORK/npm"
app_copy "$WORK/pnpm"
(cd "$WORK/pnpm" && pnpm import >/dev/null 2>&1 && rm package-lock.json)
app_copy "$WORK/yarn"
# Yarn 1 enforces "engines": a dependency of prisma wants node 22 (tests/lib/workspace.bash).
echo 'ignore-engines true' >"$WORK/yarn/.yarnrc"
(cd "$WORK/yarn" && rm package-lock.json && yarn install --ignore-scripts --silent >/dev/null 2>&1 &&
    rm -rf node_modules && yarn install --frozen-lockfile --silent >/dev/null 2>&1)
workspace "$WORK/npmws" npm
workspace "$WORK/pnpmws" pnpm
app_copy "$WORK/npmci"

# LAYOUT: "dir|[app] dir|[prisma] config|the seed's folder"
LAYOUTS=(
    "npm|$WORK/npm|||$WORK/npm"
    "pnpm|$WORK/pnpm|||$WORK/pnpm"
    "yarn|$WORK/yarn|||$WORK/yarn"
    "npm workspace|$WORK/npmws|apps/api|../../packages/db/prisma.config.ts|$WORK/npmws/packages/db"
    "pnpm workspace|$WORK/pnpmws|apps/api|../../packages/db/prisma.config.ts|$WORK/pnpmws/packages/db"
)
devinit_in() { # devinit_in LAYOUT-LINE ARG...
    local name dir app config seed
    IFS='|' read -r name dir app config seed <<<"$1"
    shift
    (cd "$dir" && DEVINIT_APP_DIR=$app DEVINIT_PRISMA_CONFIG=$config "$DEVINIT" "$@")
}
for l in "${LAYOUTS[@]}"; do
    devinit_in "$l" --only=deps,generate -- true >"$WORK/prepare.log" 2>&1 ||
        { cat "$WORK/prepare.log"; exit 1; }
    # yarn's row is the start after yarn's own install: adopted, not installed again.
    [ "${l%%|*}" != yarn ] || grep -q 'adopted the install made by yarn' "$WORK/prepare.log" || {
        cat "$WORK/prepare.log"
        echo "devinit did not adopt the yarn 1 install: the yarn row would not be a warm start" >&2
        exit 1
    }
done
# The hand-run npm ci, timed once: what devinit did before it adopted such installs.
t0=$(date +%s%N)
(cd "$WORK/npmci" && npm ci >/dev/null 2>&1)
npm_ci_us=$((($(date +%s%N) - t0) / 1000))
(cd "$WORK/npmci" && "$DEVINIT" --only=generate -- true) >"$WORK/prepare.log" 2>&1 ||
    { cat "$WORK/prepare.log"; exit 1; }

# One round: every layout's start, then the start after a hand-run npm ci (bench/lib.sh).
round() {
    local n seed
    for n in "${!LAYOUTS[@]}"; do
        IFS='|' read -r _ _ _ _ seed <<<"${LAYOUTS[$n]}"
        bench_seed_start "seed.$n" "$seed"
        bench_start "devinit.$n" devinit_in "${LAYOUTS[$n]}" --skip=migrate -- date +%s%N
    done
    # After a hand-run npm ci: no devinit stamp, npm's record as npm ci left it.
    rm -f "$WORK/npmci/node_modules/.devinit-deps.stamp"
    bench_seed_start seed.ci "$WORK/npmci"
    rm -f "$WORK/npmci/node_modules/.devinit-deps.stamp"
    (cd "$WORK/npmci" && bench_start devinit.ci "$DEVINIT" --skip=migrate -- date +%s%N)
    grep -q '^command npm ci$' "$WORK/npmci/node_modules/.devinit-deps.stamp" # adopted, not installed
}
echo "running: $SEED_RUNS seed starts and $DEVINIT_RUNS devinit starts per layout..." >&2
bench_rounds "$SEED_RUNS" "$DEVINIT_RUNS" round

# Sanity: every layout is current (devinit acted on nothing in the runs above).
for l in "${LAYOUTS[@]}"; do
    devinit_in "$l" check --skip=migrate >"$WORK/check.txt" 2>&1 || {
        cat "$WORK/check.txt"
        echo "devinit check says '${l%%|*}' is not current: the comparison would be unfair" >&2
        exit 1
    }
done

printf '\nwarm start per layout, start to app exec (node %s, prisma 7.10.0, pnpm %s, yarn %s)\n\n' \
    "$(node --version)" "$(pnpm --version)" "$(yarn --version)"
printf '%-34s %12s %12s %8s\n' "layout" "devinit ms" "seed ms" "ratio"
ok=1
report() { # report LABEL DEVINIT-NAME SEED-NAME TARGET-MS
    local d s r
    d=$(bench_median "$2")
    s=$(bench_median "$3")
    r=$(awk -v s="$s" -v d="$d" 'BEGIN {printf "%.0f", s / d}')
    printf '%-34s %12s %12s %7sx\n' "$1" "$(bench_ms "$d")" "$(bench_ms "$s")" "$r"
    bench_summary "warm start, $1" "$(bench_ms "$d")" "dev-setup.sh (seed)" "$(bench_ms "$s")" ms
    awk -v d="$d" -v t="$4" 'BEGIN {exit !(d <= t * 1000)}' || ok=0
}
for n in "${!LAYOUTS[@]}"; do
    report "${LAYOUTS[$n]%%|*}" "devinit.$n" "seed.$n" 25
done
report "after a hand-run npm ci" devinit.ci seed.ci 50
printf '\nbefore adoption, devinit ran npm ci after a hand-run npm ci: %s ms (one run)\n' \
    "$(bench_ms "$npm_ci_us")"
printf 'targets: warm start <= 25 ms per layout, after npm ci <= 50 ms with no install\n'
if [ "$ok" = 1 ]; then echo "targets: met"; else echo "targets: NOT met"; fi
