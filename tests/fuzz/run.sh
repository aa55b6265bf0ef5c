#!/usr/bin/env bash
# Builds the fuzz preset and runs every target (or the ones named) for SECONDS each (default
# 10), one after the other, on a copy of its seed corpus (tests/fuzz/corpus/<target>/). Any
# crash, leak, timeout or sanitizer report fails the run; the reproducer is kept in
# build/fuzz/artifacts/.
#
#     bash tests/fuzz/run.sh 10                       # CI's smoke run: every target, 10 s each
#     bash tests/fuzz/run.sh 3600 dburl migrations    # a long run of two targets
#     RUNS=10000000 bash tests/fuzz/run.sh 0 config   # a fixed number of executions
#     CORPUS_OUT=dir bash tests/fuzz/run.sh 600       # keep what the run found, in dir/<target>
#
# Needs clang and libclang-rt-14-dev (libFuzzer, ASan, UBSan, LeakSanitizer).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
shift || true

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)" >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for bin in build/fuzz/fuzz/fuzz_*; do
        targets+=("${bin##*/fuzz_}")
    done
fi

# The longest input a target gets: past every fixed buffer its parser fills (PATH_MAX for
# paths, CONTROL_LINE_MAX for control lines), short enough to keep each run fast.
max_len() {
    case $1 in
    control) echo 4096 ;;
    config | dburl | prisma_schema) echo 16384 ;;
    *) echo 65536 ;;
    esac
}

# On tmpfs when there is one: the migrations target writes a folder to disk at every run.
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
# UBSan only prints by default: make every report a crash. The migrations target writes its
# folders under TMPDIR, which goes away with the run even after a crash.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export TMPDIR=$work

status=0
printf '%-14s %12s %8s %8s %s\n' target executions seconds exec/s result
for name in "${targets[@]}"; do
    bin=build/fuzz/fuzz/fuzz_$name
    seeds=tests/fuzz/corpus/$name
    [ -x "$bin" ] && [ -d "$seeds" ] || { echo "no target '$name' (or no $seeds)" >&2; exit 64; }
    out=$work/$name
    [ -z "${CORPUS_OUT:-}" ] || out=$CORPUS_OUT/$name
    mkdir -p "$out"
    limit=(-max_total_time="$seconds")
    [ -z "${RUNS:-}" ] || limit=(-runs="$RUNS")
    start=$(date +%s)
    if "$bin" "${limit[@]}" -max_len="$(max_len "$name")" -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$work/$name-" "$out" "$seeds" >"$work/$name.log" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
    fi
    secs=$(($(date +%s) - start))
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$work/$name.log" | grep -oE '[0-9]+$' || echo 0)
    printf '%-14s %12s %8s %8s %s\n' "$name" "$execs" "$secs" "$((execs / (secs > 0 ? secs : 1)))" "$result"
    if [ "$result" != ok ]; then
        # Keep the reproducers and the log where a person can find them after the run.
        mkdir -p build/fuzz/artifacts
        cp "$work/$name"-* "$work/$name.log" build/fuzz/artifacts/ 2>/dev/null || true
        grep -E "ERROR|SUMMARY|invariant|runtime error|#[0-9]+ 0x[0-9a-f]+ in [A-Za-z_]+ /" \
            "$work/$name.log" | head -20 || true
        echo "reproducers: $(cd build/fuzz/artifacts && ls | grep -- "^$name-" | tr '\n' ' ')"
        echo "replay one:  build/fuzz/fuzz/fuzz_$name build/fuzz/artifacts/<file>"
    fi
done
exit $status
