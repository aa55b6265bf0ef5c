#!/usr/bin/env bash
# devinit as a plain init (--skip=all) side by side with tini, tini-static, dumb-init and
# catatonit (Debian packages), all measured in the same run:
#   - start+exit overhead of `INIT -- /bin/true`: hyperfine, N runs each (default 300) in
#     ROUNDS interleaved rounds (default 10), median, ratio to tini-static; "own" is the same
#     minus a bare /bin/true, the part the init itself costs. Extra rows: the static devinit without its control socket (what
#     that feature costs), and two reference floors from bench/min_init.c (fork, exec, wait
#     in a static binary, then the same with libcrypto linked in, as devinit must be);
#   - peak RSS of the init (VmHWM) while it supervises a sleeping app, as PID 1 of a new PID
#     namespace;
#   - reap time of a 5,000-zombie burst, as PID 1: the app's middle process forks 5,000
#     children that exit, then exits itself, and the app times from the middle's end until
#     kill(pid, 0) says ESRCH for every one of them (tests/helpers/app.c `zombies`). The same
#     method for every init; median of R runs (default 11).
# Targets: overhead <= 1.0x tini-static, RSS <= 2 MiB, burst <= 50 ms.
#
#     bench/init.sh [N] [R]     DEVINIT=dynamic devinit (default: first of build/{ci,dev,*})
#                               DEVINIT_STATIC_BIN=static devinit (default build/static/devinit)
#
# Needs root (unshare --pid), hyperfine, tini, dumb-init, catatonit, libssl-dev (static
# libcrypto for the reference floor).
set -euo pipefail

N=${1:-300}
R=${2:-11}
HERE=$(cd "$(dirname "$0")/.." && pwd)
. "$HERE/bench/lib.sh"
bench_devinit init.sh
STATIC=${DEVINIT_STATIC_BIN:-$HERE/build/static/devinit}
export -n DEVINIT_STATIC_BIN # the bench's, not a devinit key: devinit would refuse it
# Absolute: the runs happen in a scratch directory.
STATIC=$(realpath -m "$STATIC")
[ "$(id -u)" -eq 0 ] || { echo "init.sh: run as root (unshare --pid)" >&2; exit 2; }
for tool in hyperfine tini tini-static dumb-init catatonit cc; do
    command -v "$tool" >/dev/null || { echo "init.sh: '$tool' is missing: apt-get install -y hyperfine tini dumb-init catatonit gcc" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/devinit-bench-init.XXXXXX)
BG=()
cleanup() {
    local p
    for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
# The app of the system tests, built here so the benchmark needs no test build.
cc -O2 -std=c17 -D_GNU_SOURCE -o "$WORK/app" "$HERE/tests/helpers/app.c"
APP=$WORK/app
# Reference floors (bench/min_init.c): fork, exec, wait, static; then the same with libcrypto.
cc -O2 -std=c17 -static -o "$WORK/min-init" "$HERE/bench/min_init.c"
# glibc warns about dlopen in a static binary (libcrypto's engines): kept out of the table,
# shown when the link fails (no libssl-dev).
cc -O2 -std=c17 -static -DWITH_CRYPTO -o "$WORK/min-init-crypto" "$HERE/bench/min_init.c" \
    -lcrypto -lpthread -ldl 2>"$WORK/cc.log" || { cat "$WORK/cc.log" >&2; exit 1; }
# devinit's control socket stays on (it is part of the default start-up), out of /run's way.
export DEVINIT_CONTROL_SOCKET=$WORK/devinit.sock

# name|environment (one VAR=value, added with env(1), which execs in place: the pid the RSS
# row reads is the init's parent's)|command prefix (the app's argv follows)
INITS=()
[ -x "${DEVINIT:-}" ] && INITS+=("devinit|BENCH_ROW=1|$DEVINIT --skip=all --")
if [ -x "$STATIC" ]; then
    INITS+=("devinit (static)|BENCH_ROW=1|$STATIC --skip=all --")
    # What the control socket (an inode made and removed on this file system) costs.
    INITS+=("  without socket|DEVINIT_CONTROL_SOCKET=|$STATIC --skip=all --")
fi
# tini warns on stderr when it is neither PID 1 nor a subreaper: -s, as devinit is one.
INITS+=("tini|BENCH_ROW=1|tini -s --"
        "tini-static|BENCH_ROW=1|tini-static -s --"
        "dumb-init|BENCH_ROW=1|dumb-init --"
        "catatonit|BENCH_ROW=1|catatonit --"
        "min static init|BENCH_ROW=1|$WORK/min-init --"
        "  with libcrypto|BENCH_ROW=1|$WORK/min-init-crypto --")
# The reference floors reap nothing but their child: no RSS or burst row for them.
is_reference() { [ "$1" = "min static init" ] || [ "$1" = "  with libcrypto" ]; }

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# --- start+exit overhead --------------------------------------------------------------------
# In ROUNDS rounds, each running every init (and a bare /bin/true) N/ROUNDS times: a machine
# whose speed drifts during the run then moves every row alike, where one long run per init
# would charge the drift to whichever init ran at the time. Medians over the pooled runs.
ROUNDS=${ROUNDS:-10}
per=$(((N + ROUNDS - 1) / ROUNDS))
ROWS=("${INITS[@]}" "bare|BENCH_ROW=1|")
for round in $(seq 1 "$ROUNDS"); do
    for entry in "${ROWS[@]}"; do
        IFS='|' read -r name envv cmd <<<"$entry"
        env "$envv" hyperfine -N --warmup 5 --runs "$per" --export-json "$WORK/h.json" \
            "${cmd:+$cmd }/bin/true" >/dev/null 2>&1
        python3 -c 'import json,sys; print("\n".join("%.6f" % (t * 1000) for t in json.load(open(sys.argv[1]))["results"][0]["times"]))' \
            "$WORK/h.json" >>"$WORK/times.$(echo "$name" | tr -c 'a-z0-9' _)"
    done
    echo "overhead: round $round of $ROUNDS done" >&2
done
pooled_median() { sort -n "$WORK/times.$(echo "$1" | tr -c 'a-z0-9' _)" | awk '{v[NR]=$1} END {printf "%.3f", (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
declare -A OVER
for entry in "${INITS[@]}"; do
    IFS='|' read -r name envv cmd <<<"$entry"
    OVER[$name]=$(pooled_median "$name")
    echo "overhead: $name ${OVER[$name]} ms" >&2
done
BARE=$(pooled_median bare)

# --- peak RSS while supervising, as PID 1 -------------------------------------------------------
declare -A RSS
for entry in "${INITS[@]}"; do
    IFS='|' read -r name envv cmd <<<"$entry"
    if is_reference "$name"; then RSS[$name]=-; continue; fi
    rm -f "$WORK/ready"
    # shellcheck disable=SC2086
    APP_READY=$WORK/ready env "$envv" unshare --pid --fork --mount-proc $cmd "$APP" sleep 3 >/dev/null 2>&1 &
    wrapper=$!
    BG+=("$wrapper")
    for _ in $(seq 1 500); do [ -e "$WORK/ready" ] && break; sleep 0.01; done
    sleep 0.2
    pid1=$(cut -d' ' -f1 "/proc/$wrapper/task/$wrapper/children")
    RSS[$name]=$(awk '/^VmHWM/ {print $2}' "/proc/$pid1/status")
    kill -KILL "$pid1" 2>/dev/null || true
    wait "$wrapper" 2>/dev/null || true
    echo "rss: $name ${RSS[$name]} KiB" >&2
done

# --- 5,000-zombie burst, as PID 1 ---------------------------------------------------------------
declare -A BURST
for entry in "${INITS[@]}"; do
    IFS='|' read -r name envv cmd <<<"$entry"
    if is_reference "$name"; then BURST[$name]=-; continue; fi
    times=()
    for _ in $(seq 1 "$R"); do
        # shellcheck disable=SC2086
        out=$(env "$envv" unshare --pid --fork --mount-proc $cmd "$APP" zombies 5000 2>/dev/null) || {
            echo "burst: $name failed: $out" >&2
            out="reap_ms=NaN"
        }
        times+=("$(sed -n 's/.*reap_ms=\([0-9.NaN]*\).*/\1/p' <<<"$out")")
    done
    BURST[$name]=$(median "${times[@]}")
    echo "burst: $name ${times[*]} -> ${BURST[$name]} ms" >&2
done

# --- the table ----------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
ref=${OVER[tini-static]}
own_ref=$(minus "$ref" "$BARE")
echo
echo "init benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -srm), $(nproc) cores," \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "start+exit: median of $((per * ROUNDS)) runs of 'INIT -- /bin/true' in $ROUNDS rounds; own: the same minus bare /bin/true" \
    "($BARE ms); RSS: VmHWM as PID 1; burst: median of $R runs, 5,000 zombies, as PID 1;" \
    "min static init: bench/min_init.c, a reference floor, not an init"
printf '%-18s %11s %9s %9s %9s %12s %9s\n' init "start+exit" "vs tini-s" "own ms" "vs tini-s" \
    "peak RSS KiB" "burst ms"
for entry in "${INITS[@]}"; do
    IFS='|' read -r name envv cmd <<<"$entry"
    own=$(minus "${OVER[$name]}" "$BARE")
    printf '%-18s %11s %9s %9s %9s %12s %9s\n' "$name" "${OVER[$name]}" \
        "$(ratio "${OVER[$name]}" "$ref")" "$own" "$(ratio "$own" "$own_ref")" "${RSS[$name]}" \
        "${BURST[$name]}"
done
echo "targets for devinit: start+exit <= 1.00x tini-static, RSS <= 2048 KiB, burst <= 50 ms"
bench_summary "PID 1 start + exit (static)" "${OVER[devinit (static)]}" tini-static "$ref" ms
bench_summary "PID 1 peak RSS (static)" "${RSS[devinit (static)]}" tini-static "${RSS[tini-static]}" KiB
bench_summary "5,000-zombie burst (static)" "${BURST[devinit (static)]}" tini-static \
    "${BURST[tini-static]}" ms
