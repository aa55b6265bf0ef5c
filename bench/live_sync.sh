#!/usr/bin/env bash
# Live sync latency, side by side in one run, on examples/app with real `prisma generate`:
# the time from a schema save to the new app process running on the new client.
#
#   devinit: one running instance (`devinit -- APP`) watches the schema; the save is seen
#            once writes go quiet ([watch] debounce), generate runs beside the old app, then
#            the old app is stopped and the new one started.
#   before:  the same with another devinit binary (DEVINIT_BEFORE, e.g. main's build), in
#            the same run: what a change to devinit did to the figure. Left out when unset.
#   seed:    the seed's way (SEED-dev-setup.md): after the save the whole start-up is redone:
#            the old app is stopped and dev-setup.sh runs again (install check,
#            `npx prisma generate`, pg_isready loop, exec the app). The time a person needs
#            to notice and type `make prisma-sync` is not counted.
#
# Each save adds a different field, so every save really needs a generate. The app is
#     sh -c 'date +%s%N >>STARTS; exec node src/server.js'
# for both: "exec" is the time it records, "listening" the time its "app: listening" line
# (printed once the generated client is loaded) reached our log reader. prisma's own time
# comes from a shim at node_modules/.bin/prisma that records when the real CLI starts and
# ends (bash's $EPOCHREALTIME, no fork); the shim's own start (~2 ms) counts as overhead.
#
#   overhead  = save-to-exec minus generate: devinit's own cost, its debounce included
#   downtime  = no app to answer: devinit from stopping the old app to the new one listening;
#               the seed from the save (it stops the app first) to listening
#
# Usage: bench/live_sync.sh [N]     (default 7 saves for each; medians)
# Env:   DEVINIT=path/to/devinit (default: the ci build, see bench/lib.sh)
#        DEVINIT_BEFORE=path/to/another/devinit (optional: measured beside it)
#        DEVINIT_WATCH_DEBOUNCE=... passes on to both devinits (default: their own)
set -euo pipefail
export LC_ALL=C # $EPOCHREALTIME with a '.'

N=${1:-7}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/pg.sh"
[ "$N" -ge 1 ] || { echo "live_sync.sh: N must be >= 1" >&2; exit 64; }

. "$ROOT/bench/lib.sh"
bench_devinit live_sync.sh
BEFORE=${DEVINIT_BEFORE:+$(realpath "$DEVINIT_BEFORE")}

WORK=$(mktemp -d /tmp/devinit-bench-sync.XXXXXX)
chmod 755 "$WORK"
PGDATA="$WORK/pg"
DPID=
BPID=
SPID=
READERS=()
cleanup() {
    local p
    for p in "${READERS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    [ -z "$DPID" ] || { kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null; } || true
    [ -z "$BPID" ] || { kill -TERM "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null; } || true
    [ -z "$SPID" ] || { kill -TERM "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null; } || true
    pg_stop "$PGDATA"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# Microseconds since the epoch, without a fork.
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# Sleeps without a fork (the loaded machine's forks are what we measure against).
exec {NAPFD}<> <(:)
nap() { read -r -t "$1" -u "$NAPFD" || true; }

# Prefixes each line of stdin with its arrival time (us): the log's clock.
stamp_lines() {
    local line t
    while IFS= read -r line; do
        t=$EPOCHREALTIME
        printf '%s %s\n' "${t/./}" "$line"
    done
}

echo "preparing: PostgreSQL, copies of examples/app, npm ci and prisma generate..." >&2
PORT=$(pg_free_port)
pg_init "$PGDATA"
pg_start "$PGDATA" "$PORT"
pg_psql "$PGDATA" "$PORT" -c 'CREATE DATABASE app'
export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/app?schema=public"

# prisma generate does not use the schema engine; without the variable the CLI tries to
# download one (offline machines). Set the same way for both contenders.
export PRISMA_SCHEMA_ENGINE_BINARY=${PRISMA_SCHEMA_ENGINE_BINARY:-/bin/true}
export npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false
export DEVINIT_CONTROL_SOCKET="$WORK/devinit.sock"
export HOST=127.0.0.1

D_APP="$WORK/devinit-app"
B_APP="$WORK/before-app"
S_APP="$WORK/seed-app"
mkdir -p "$D_APP"
tar -C "$ROOT/examples/app" --exclude=node_modules --exclude=generated -cf - . | tar -C "$D_APP" -xf -
(cd "$D_APP" && "$DEVINIT" --only=deps,generate -- true) >"$WORK/prepare.log" 2>&1 ||
    { cat "$WORK/prepare.log"; exit 1; }
cp -a "$D_APP" "$S_APP"
APPS=("$D_APP" "$S_APP")
if [ -n "$BEFORE" ]; then
    cp -a "$D_APP" "$B_APP"
    APPS+=("$B_APP")
fi
cp "$D_APP/prisma/schema.prisma" "$WORK/schema.orig"

# The timing shim, in each copy: the real CLI, with its start and end.
for app in "${APPS[@]}"; do
    rm "$app/node_modules/.bin/prisma"
    cat >"$app/node_modules/.bin/prisma" <<EOF
#!/bin/bash
s=\$EPOCHREALTIME
"$app/node_modules/prisma/build/index.js" "\$@"
rc=\$?
e=\$EPOCHREALTIME
echo "\${s/./} \${e/./} \$rc" >>"$app.gen"
exit \$rc
EOF
    chmod +x "$app/node_modules/.bin/prisma"
    : >"$app.gen"
    : >"$app.starts"
    : >"$app.log"
done

# The seed's approach: bench/seed-dev-setup.sh.
SEED_SETUP=$ROOT/bench/seed-dev-setup.sh

# app STARTS: the app's command line for the copy whose start times go to STARTS.
app_cmd() { printf '%s\n' sh -c "date +%s%N >>'$1'; exec node src/server.js"; }

# schema N: the original schema with a field of its own for save N.
schema_for() {
    sed "s/^  name  String @unique\$/  name  String @unique\n  f$1    String?/" "$WORK/schema.orig"
}
schema_for 0 | grep -q '^  f0    String?$' || { echo "live_sync.sh: cannot edit the Tag model" >&2; exit 1; }

lines() { local n=0; [ -f "$1" ] && n=$(wc -l <"$1"); echo "$n"; }

# wait_lines FILE PATTERN COUNT: until FILE has COUNT lines matching PATTERN (60 s at most).
wait_lines() {
    local i
    for ((i = 0; i < 12000; i++)); do
        [ "$(grep -c -- "$2" "$1" || true)" -ge "$3" ] && return 0
        nap 0.01
    done
    echo "live_sync.sh: timed out waiting for '$2' in $1" >&2
    tail -n 30 "$1" >&2
    exit 1
}

# log_time FILE FROM PATTERN: the stamp of the first line after line FROM matching PATTERN.
log_time() { tail -n +"$(($2 + 1))" "$1" | grep -m1 -- "$3" | cut -d' ' -f1; }

# save APP N: writes schema N beside the schema and renames it over, as editors save.
save() {
    schema_for "$2" >"$1/prisma/.schema.prisma.tmp"
    mv "$1/prisma/.schema.prisma.tmp" "$1/prisma/schema.prisma"
}

# --- the contenders' running apps
# Their output goes through a FIFO to a log reader that is our child. (A process substitution
# would make the reader a child of the contender: devinit, a subreaper, stops every process
# of its own when it restarts the app, the reader too.) The reader holds the FIFO open for
# writing itself, so it sees no end when the seed's app is stopped.
for app in "${APPS[@]}"; do
    mkfifo "$app.fifo"
    stamp_lines <>"$app.fifo" >>"$app.log" &
    READERS+=($!)
done
D_PORT=$(pg_free_port)
S_PORT=$(pg_free_port)
mapfile -t D_CMD < <(app_cmd "$D_APP.starts")
mapfile -t S_CMD < <(app_cmd "$S_APP.starts")

(cd "$D_APP" && PORT=$D_PORT exec "$DEVINIT" --skip=migrate -- "${D_CMD[@]}") >"$D_APP.fifo" 2>&1 &
DPID=$!
wait_lines "$D_APP.log" "app: listening" 1
if [ -n "$BEFORE" ]; then
    B_PORT=$(pg_free_port)
    mapfile -t B_CMD < <(app_cmd "$B_APP.starts")
    (cd "$B_APP" && PORT=$B_PORT DEVINIT_CONTROL_SOCKET="$WORK/before.sock" exec "$BEFORE" \
        --skip=migrate -- "${B_CMD[@]}") >"$B_APP.fifo" 2>&1 &
    BPID=$!
    wait_lines "$B_APP.log" "app: listening" 1
fi

start_seed() {
    # The app listens on S_PORT; the database is on PORT.
    env PORT="$S_PORT" "$SEED_SETUP" "$S_APP" "$PG_BIN" "$PORT" "${S_CMD[@]}" >"$S_APP.fifo" 2>&1 &
    SPID=$!
}
start_seed
wait_lines "$S_APP.log" "app: listening" 1

# devinit_save APP N ROWS: save N in APP, which a devinit runs; wait for the new app to
# listen; append the row (us): total exec listening generate overhead downtime, then the
# phases: seen, check, after generate, restart, all but the debounce.
devinit_save() {
    local app=$1 i=$2 from t0 exec_ns g0 g1 grc seen restart listen exec_us
    from=$(lines "$app.log")
    t0=$(now_us)
    save "$app" "$i"
    wait_lines "$app.log" "app: listening" $((i + 1))
    exec_ns=$(sed -n "$((i + 1))p" "$app.starts")
    read -r g0 g1 grc < <(tail -n 1 "$app.gen")
    if [ "$(lines "$app.gen")" -ne "$i" ] || [ "$grc" -ne 0 ]; then
        echo "live_sync.sh: devinit did not run generate exactly once for save $i ($app)" >&2
        exit 1
    fi
    seen=$(log_time "$app.log" "$from" "watch: info: '.*' changed")
    restart=$(log_time "$app.log" "$from" "restarting '.*' on the new client")
    listen=$(log_time "$app.log" "$from" "app: listening")
    exec_us=$((exec_ns / 1000))
    echo "$((exec_us - t0)) $((listen - t0)) $((g1 - g0)) $((exec_us - t0 - (g1 - g0))) $((listen - restart))" \
        "$((seen - t0)) $((g0 - seen)) $((restart - g1)) $((exec_us - restart))" \
        "$((exec_us - seen - (g1 - g0)))" >>"$3"
}

# One row per save: total exec listening generate overhead downtime [breakdown...] (us).
: >"$WORK/devinit.rows"
: >"$WORK/before.rows"
: >"$WORK/seed.rows"
machine_load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE=$(machine_load)

echo "running: $N saves for each, interleaved..." >&2
for i in $(seq 1 "$N"); do
    # devinit (and the other devinit): save, then wait for the new app to listen.
    devinit_save "$D_APP" "$i" "$WORK/devinit.rows"
    [ -z "$BEFORE" ] || devinit_save "$B_APP" "$i" "$WORK/before.rows"

    # The seed: save, stop the app, run the whole start-up again.
    from=$(lines "$S_APP.log")
    t0=$(now_us)
    save "$S_APP" "$i"
    kill -TERM "$SPID"
    wait "$SPID" || true
    start_seed
    wait_lines "$S_APP.log" "app: listening" $((i + 1))
    exec_ns=$(sed -n "$((i + 1))p" "$S_APP.starts")
    read -r g0 g1 grc < <(tail -n 1 "$S_APP.gen")
    # One more than devinit's: the seed's first start generated too.
    if [ "$(lines "$S_APP.gen")" -ne $((i + 1)) ] || [ "$grc" -ne 0 ]; then
        echo "live_sync.sh: the seed did not run generate exactly once for save $i" >&2
        exit 1
    fi
    listen=$(log_time "$S_APP.log" "$from" "app: listening")
    exec_us=$((exec_ns / 1000))
    echo "$((exec_us - t0)) $((listen - t0)) $((g1 - g0)) $((exec_us - t0 - (g1 - g0))) $((listen - t0))" \
        >>"$WORK/seed.rows"
    # Let both settle (the new node processes finish loading) before the next save.
    nap 1
done

# Sanity: both apps run on the last schema's client.
for app in "${APPS[@]}"; do
    grep -q "f$N " "$app/node_modules/.prisma/client/schema.prisma" ||
        { echo "live_sync.sh: $app's client is not the last save's" >&2; exit 1; }
done

# median FILE COLUMN (1-based), in us.
median() { awk -v c="$2" '{print $c}' "$1" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'; }
ms() { awk -v us="$1" 'BEGIN {printf "%.0f", us / 1000}'; }

d_total=$(median "$WORK/devinit.rows" 1)
d_listen=$(median "$WORK/devinit.rows" 2)
d_gen=$(median "$WORK/devinit.rows" 3)
d_over=$(median "$WORK/devinit.rows" 4)
d_down=$(median "$WORK/devinit.rows" 5)
s_total=$(median "$WORK/seed.rows" 1)
s_listen=$(median "$WORK/seed.rows" 2)
s_gen=$(median "$WORK/seed.rows" 3)
s_over=$(median "$WORK/seed.rows" 4)
s_down=$(median "$WORK/seed.rows" 5)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1fx", a / b}'; }

printf '\nlive sync: schema save to the new app on the new client, examples/app, median of %s saves each\n' "$N"
printf '%s; %s; %s cores, %s; load average %s (before) %s (after)\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(uname -srm)" "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" "$LOAD_BEFORE" "$(machine_load)"
printf 'node %s, prisma %s, %s, [watch] debounce %s\n' "$(node --version)" \
    "$(node -p 'require(process.argv[1]).version' "$D_APP/node_modules/prisma/package.json")" \
    "$("$DEVINIT" --version 2>/dev/null | head -n 1)" "${DEVINIT_WATCH_DEBOUNCE:-each binary default}"
[ -z "$BEFORE" ] || printf 'before: %s (%s)\n' "$BEFORE" "$("$BEFORE" --version 2>/dev/null | head -n 1)"
echo
row() { printf '%-32s %10s %10s %10s %10s %10s\n' "$@"; }
row "approach (ms)" "generate" "overhead" "to exec" "listening" "downtime"
row "devinit live sync" "$(ms "$d_gen")" "$(ms "$d_over")" "$(ms "$d_total")" "$(ms "$d_listen")" \
    "$(ms "$d_down")"
if [ -n "$BEFORE" ]; then
    b_over=$(median "$WORK/before.rows" 4)
    row "devinit before" "$(ms "$(median "$WORK/before.rows" 3)")" "$(ms "$b_over")" \
        "$(ms "$(median "$WORK/before.rows" 1)")" "$(ms "$(median "$WORK/before.rows" 2)")" \
        "$(ms "$(median "$WORK/before.rows" 5)")"
fi
row "seed: stop + dev-setup.sh again" "$(ms "$s_gen")" "$(ms "$s_over")" "$(ms "$s_total")" \
    "$(ms "$s_listen")" "$(ms "$s_down")"
row "seed / devinit" "$(ratio "$s_gen" "$d_gen")" "$(ratio "$s_over" "$d_over")" \
    "$(ratio "$s_total" "$d_total")" "$(ratio "$s_listen" "$d_listen")" "$(ratio "$s_down" "$d_down")"
[ -z "$BEFORE" ] || row "before / devinit" "" "$(ratio "$b_over" "$d_over")" \
    "$(ratio "$(median "$WORK/before.rows" 1)" "$d_total")" "" ""

phases() {
    printf '\n%s overhead, by phase (medians, ms):\n' "$1"
    printf '  save -> change seen (debounce)        %6s\n' "$(ms "$(median "$2" 6)")"
    printf '  change seen -> prisma starts (check)  %6s\n' "$(ms "$(median "$2" 7)")"
    printf '  prisma ends -> old app stopping       %6s\n' "$(ms "$(median "$2" 8)")"
    printf '  old app stopping -> new app exec      %6s\n' "$(ms "$(median "$2" 9)")"
    printf '  all but the debounce                  %6s\n' "$(ms "$(median "$2" 10)")"
}
phases devinit "$WORK/devinit.rows"
[ -z "$BEFORE" ] || phases "devinit before" "$WORK/before.rows"
printf '\nper save (ms):\n  devinit generate:'
awk '{printf " %.0f", $3 / 1000}' "$WORK/devinit.rows"
printf '\n  seed generate:   '
awk '{printf " %.0f", $3 / 1000}' "$WORK/seed.rows"
printf '\n  devinit overhead:'
awk '{printf " %.0f", $4 / 1000}' "$WORK/devinit.rows"
printf '\n  seed overhead:   '
awk '{printf " %.0f", $4 / 1000}' "$WORK/seed.rows"
if [ -n "$BEFORE" ]; then
    printf '\n  before overhead: '
    awk '{printf " %.0f", $4 / 1000}' "$WORK/before.rows"
fi
printf '\n(overhead = to exec - generate; the seed also waits for a person to notice and restart it)\n'

bench_summary "live sync: overhead beyond generate" "$(ms "$d_over")" \
    "stop + dev-setup.sh again (seed)" "$(ms "$s_over")" ms
bench_summary "live sync: app downtime" "$(ms "$d_down")" "stop + dev-setup.sh again (seed)" \
    "$(ms "$s_down")" ms

verdict="NOT met"
awk -v o="$d_over" 'BEGIN {exit !(o <= 150000)}' && verdict=met
echo "target (devinit overhead <= 150 ms beyond generate): $verdict" \
    "($(ms "$d_over") ms, of which $(ms "$(median "$WORK/devinit.rows" 6)") ms until the debounce ends)"
