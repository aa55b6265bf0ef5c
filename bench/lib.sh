# Shared by the benchmark scripts (`. "$ROOT/bench/lib.sh"`): which devinit to measure, and
# hyperfine with its medians.

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
