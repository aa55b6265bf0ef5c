# Shared by the benchmark scripts (`. "$ROOT/bench/lib.sh"`): which devinit to measure,
# hyperfine with its medians, and the interleaved timed starts of the warm-start scripts.

# bench_devinit NAME: DEVINIT from the environment, else the release build (ci preset), else
# the dev build, else any build but the static one (init.sh measures that beside it); made
# absolute, since the runs happen in scratch directories. NAME is the calling script's.
bench_devinit() {
    local root d
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    if [ -z "${DEVINIT:-}" ]; then
        for d in "$root"/build/ci "$root"/build/dev "$root"/build/*; do
            [ "$d" != "$root/build/static" ] && [ -x "$d/devinit" ] && DEVINIT=$d/devinit && break
        done
    fi
    [ -x "${DEVINIT:-}" ] || {
        echo "$1: set DEVINIT to the devinit binary, or build one: cmake --preset ci &&" \
            "cmake --build --preset ci" >&2
        exit 2
    }
    DEVINIT=$(realpath "$DEVINIT")
}

# bench_summary FIGURE DEVINIT PEER PEER_VALUE UNIT: one row of the closing table bench/run.sh
# prints (devinit's figure beside its peer's, from the same run); nothing when a script runs
# alone (BENCH_SUMMARY unset).
bench_summary() {
    [ -n "${BENCH_SUMMARY:-}" ] || return 0
    printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_SUMMARY"
}

# median_ms JSON NAME: the median of command NAME in hyperfine's JSON export, in ms.
median_ms() {
    python3 -c 'import json,sys; r={x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}; print(r[sys.argv[2]]["median"] * 1000)' "$1" "$2"
}

# hf JSON RUNS WARMUP NAME COMMAND [NAME COMMAND]...: hyperfine, quiet unless it fails (its
# output then goes to stderr and the script exits). Needs WORK, the script's scratch folder.
hf() {
    local json=$1 runs=$2 warmup=$3 args=()
    shift 3
    while [ $# -gt 0 ]; do
        args+=(--command-name "$1" "$2")
        shift 2
    done
    # The set-up's writes (lockfiles, node_modules, clients) flushed now, not during the runs.
    sync
    hyperfine --style none --warmup "$warmup" --runs "$runs" --export-json "$json" "${args[@]}" \
        >/dev/null 2>"$WORK/hyperfine.log" || { cat "$WORK/hyperfine.log" >&2; exit 1; }
}

# Starts timed side by side (bench/warm_start.sh, bench/layouts.sh): every contender's app is
# `date +%s%N`, and the time it prints minus the time just before the start is the start-to-exec
# time (plus date's own start, the same for every contender). Contender NAME's times go to
# $WORK/NAME.us, in microseconds, one a line.
BENCH_SEED_SETUP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/seed-dev-setup.sh

# bench_rounds SEED_RUNS ROUNDS ROUND: calls ROUND, a function of the calling script that starts
# every contender once (bench_start, bench_seed_start), ROUNDS times: interleaved, so a busy
# moment of the machine hits all alike. The seed starts in the first SEED_RUNS rounds only (each
# of its starts takes seconds).
bench_rounds() {
    local round
    for round in $(seq 1 "$2"); do
        BENCH_SEED_ROUND=$((round <= $1 ? 1 : 0))
        "$3"
    done
}

# bench_start NAME COMMAND...: one start of COMMAND, whose last words run the app, timed into
# $WORK/NAME.us. COMMAND's stderr is dropped.
bench_start() {
    local name=$1 t0 t1
    shift
    t0=$(date +%s%N)
    t1=$("$@" 2>/dev/null | tail -n 1)
    echo $(((t1 - t0) / 1000)) >>"$WORK/$name.us"
}

# bench_seed_start NAME DIR: in the rounds that run the seed, one start of the seed's
# dev-setup.sh in DIR (the folder that holds the schema), timed into $WORK/NAME.us. Needs PG_BIN
# (scripts/pg.sh) and PORT, the server's port.
bench_seed_start() {
    [ "$BENCH_SEED_ROUND" = 1 ] || return 0
    bench_start "$1" "$BENCH_SEED_SETUP" "$2" "$PG_BIN" "$PORT" date +%s%N
}

# bench_median NAME, bench_min NAME, bench_max NAME: of contender NAME's times, in µs (the
# median of an even count is the lower middle one).
bench_median() { sort -n "$WORK/$1.us" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
bench_min() { sort -n "$WORK/$1.us" | head -n 1; }
bench_max() { sort -n "$WORK/$1.us" | tail -n 1; }

# bench_ms US: microseconds as milliseconds, one decimal.
bench_ms() { awk -v us="$1" 'BEGIN {printf "%.1f", us / 1000}'; }
