#!/usr/bin/env bash
# Detection lag of "the database is ready": the time from PostgreSQL logging "database system
# is ready to accept connections" to the moment the waiter lets the app start, for
#   - devinit's wait step (the app is `sh -c 'date +%s%3N >file'`, exec'd by devinit),
#   - the usual shell loop `until pg_isready ...; do sleep 1; done`,
#   - the same loop with `sleep 0.05`.
# All three wait side by side on the same server start, N times (default 15); the server logs
# with millisecond timestamps (log_line_prefix '%m'). Prints medians, p90 and ratios.
#
#     bench/db_ready.sh [N]          DEVINIT=path/to/devinit (default: the ci build, see bench/lib.sh)
#
# Needs root (the server runs as postgres) and PostgreSQL (scripts/pg.sh finds it).
set -euo pipefail

N=${1:-15}
HERE=$(cd "$(dirname "$0")/.." && pwd)
. "$HERE/bench/lib.sh"
bench_devinit db_ready.sh
. "$HERE/scripts/pg.sh"
[ "$(id -u)" -eq 0 ] || { echo "db_ready.sh: run as root (the server runs as postgres)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/devinit-bench.XXXXXX)
chmod 777 "$WORK"
DATA=$WORK/data
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    pg_stop "$DATA" immediate
    rm -rf "$WORK"
}
trap cleanup EXIT


pg_init "$DATA"
PORT=$(pg_free_port)
URL="postgresql://postgres@127.0.0.1:$PORT/postgres"

# The log line's "%m" timestamp, in ms since the epoch.
ready_ms() {
    local line ts
    line=$(grep -m1 'ready to accept connections' "$1")
    ts=$(echo "$line" | awk '{print $1" "$2" "$3}')
    date -u -d "$ts" +%s%3N
}

declare -a L_DEV L_1S L_50MS
for i in $(seq 1 "$N"); do
    run=$WORK/run$i
    mkdir -p "$run"
    chmod 777 "$run"
    DATABASE_URL=$URL DEVINIT_CONTROL_SOCKET='' "$DEVINIT" -q --only=wait -- sh -c "date +%s%3N >'$run/devinit'" &
    PIDS+=($!)
    (until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; do sleep 1; done; date +%s%3N >"$run/sleep1") &
    PIDS+=($!)
    (until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; do sleep 0.05; done; date +%s%3N >"$run/sleep005") &
    PIDS+=($!)
    # A random phase between the waiters' start and the server's start, as in real life.
    sleep "0.$((RANDOM % 9 + 1))"
    pg_ctl_as "$DATA" "-W -o \"$(pg_options "$DATA" "$PORT" fsync=off "log_line_prefix='%m '" log_timezone=UTC)\" -l '$run/server.log' start"
    wait "${PIDS[@]}"
    PIDS=()
    r=$(ready_ms "$run/server.log")
    L_DEV+=($(($(cat "$run/devinit") - r)))
    L_1S+=($(($(cat "$run/sleep1") - r)))
    L_50MS+=($(($(cat "$run/sleep005") - r)))
    pg_stop "$DATA"
    printf 'run %2d/%d: devinit %4d ms, sleep 1 %4d ms, sleep 0.05 %4d ms\n' "$i" "$N" \
        "${L_DEV[-1]}" "${L_1S[-1]}" "${L_50MS[-1]}" >&2
done

stat() { # stat p VALUES... -> the p-th percentile (nearest rank)
    local p=$1
    shift
    printf '%s\n' "$@" | sort -n | awk -v p="$p" '{v[NR]=$1} END {i=int((p*NR+99)/100); if (i<1) i=1; print v[i]}'
}

md=$(stat 50 "${L_DEV[@]}")
m1=$(stat 50 "${L_1S[@]}")
m5=$(stat 50 "${L_50MS[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 1; printf "%.1fx", a / b }'; }

echo
echo "detection lag: 'ready to accept connections' logged -> app started ($N runs, $(nproc) cores)"
printf '%-40s %10s %8s %8s %14s\n' waiter "median ms" "p90 ms" "max ms" "vs devinit"
printf '%-40s %10s %8s %8s %14s\n' "devinit --only=wait (wait step)" "$md" "$(stat 90 "${L_DEV[@]}")" "$(stat 100 "${L_DEV[@]}")" "1.0x"
printf '%-40s %10s %8s %8s %14s\n' "until pg_isready; do sleep 0.05; done" "$m5" "$(stat 90 "${L_50MS[@]}")" "$(stat 100 "${L_50MS[@]}")" "$(ratio "$m5" "$md")"
printf '%-40s %10s %8s %8s %14s\n' "until pg_isready; do sleep 1; done" "$m1" "$(stat 90 "${L_1S[@]}")" "$(stat 100 "${L_1S[@]}")" "$(ratio "$m1" "$md")"
echo "(lag includes the app's own start: fork+exec of sh and date; devinit also logs in with SELECT 1)"
bench_summary "database-ready lag, median" "$md" "pg_isready + sleep 0.05 loop" "$m5" ms
bench_summary "database-ready lag, median" "$md" "pg_isready + sleep 1 loop" "$m1" ms
