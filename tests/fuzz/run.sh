#!/usr/bin/env bash
# Builds the fuzz preset and runs every target for SECONDS (default 10) on a copy of its seed
# corpus (tests/fuzz/corpus/<target>/). Any crash, leak or sanitizer report fails the run.
#
#     bash tests/fuzz/run.sh 10          # CI's smoke run
#     bash tests/fuzz/run.sh 3600        # a long run
#     RUNS=10000000 bash tests/fuzz/run.sh   # a fixed number of executions per target
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
printf '%-16s %12s %10s %s\n' target executions seconds result
for bin in build/fuzz/fuzz/fuzz_*; do
    name=${bin##*/fuzz_}
    mkdir -p "$work/$name"
    seeds=tests/fuzz/corpus/$name
    limit=(-max_total_time="$seconds")
    [ -z "${RUNS:-}" ] || limit=(-runs="$RUNS")
    start=$(date +%s)
    if "$bin" "${limit[@]}" -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/$name-" \
        "$work/$name" "$seeds" >"$work/$name.log" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
    fi
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$work/$name.log" | grep -oE '[0-9]+$' || echo '?')
    printf '%-16s %12s %10s %s\n' "$name" "$execs" "$(( $(date +%s) - start ))" "$result"
    if [ "$result" != ok ]; then
        # Keep the reproducers where a person can find them after the run.
        mkdir -p build/fuzz/artifacts
        cp "$work/$name"-* build/fuzz/artifacts/ 2>/dev/null || true
        grep -E "ERROR|SUMMARY|#[0-9]+ 0x[0-9a-f]+ in [a-z_]+ /" "$work/$name.log" | head -20
        echo "reproducers: $(ls build/fuzz/artifacts | grep -- "$name-" | tr '\n' ' ')"
    fi
done
exit $status
