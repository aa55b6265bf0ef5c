#!/usr/bin/env bash
# Every figure of the project, side by side with its peer, in one run: builds the static and
# release binaries, then runs each benchmark script and prints its table under a heading, and
# at the end one table of every figure beside its peer's (each script adds its rows through
# bench_summary in bench/lib.sh).
# Run it on an otherwise idle machine; every script measures devinit and its peer in the same
# run, so the ratios hold even where the absolute numbers move.
#
#     bash bench/run.sh            # all
#     bash bench/run.sh init ready # some: init ready migrate scale warm layouts sync
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
cmake --preset static >/dev/null && cmake --build --preset static -j"$(nproc)" >/dev/null 2>&1
cmake --preset ci >/dev/null && cmake --build --preset ci -j"$(nproc)" >/dev/null

# Every script measures the static binary, the one an image ships (docker/Dockerfile.dev);
# init.sh measures the dynamic release build (ci preset) beside it.
# Not exported: devinit refuses DEVINIT_ variables that are not its keys (init.sh's default is
# the same path).
DEVINIT_STATIC_BIN=$PWD/build/static/devinit
export -n DEVINIT_STATIC_BIN

ALL=(init ready migrate scale warm layouts sync)
which=("$@")
[ ${#which[@]} -gt 0 ] || which=("${ALL[@]}")
echo "devinit benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1 /proc/loadavg)"
export BENCH_SUMMARY
BENCH_SUMMARY=$(mktemp /tmp/devinit-bench-summary.XXXXXX)
trap 'rm -f "$BENCH_SUMMARY"' EXIT
for w in "${which[@]}"; do
    case $w in
        init) script=bench/init.sh; title="PID 1 overhead, memory and reaping (vs tini, dumb-init, catatonit)" ;;
        ready) script=bench/db_ready.sh; title="database-ready detection lag (vs pg_isready loops)" ;;
        migrate) script=bench/migrate_check.sh; title="migration check at 10 to 10,000 migrations (vs psql running the same query, and Prisma 6's migrate status)" ;;
        scale) script=bench/scale.sh; title="staleness checks as the lockfile and the schema grow (vs the seed's checks, npm install and npx prisma generate)" ;;
        warm) script=bench/warm_start.sh; title="warm start of examples/app (vs the seed's dev-setup.sh)" ;;
        layouts) script=bench/layouts.sh; title="warm start per layout (npm, pnpm, yarn 1, workspaces) and after a hand-run npm ci (vs the seed's dev-setup.sh)" ;;
        sync) script=bench/live_sync.sh; title="live sync: schema save to the new app (vs restarting the seed's start-up)" ;;
        *) echo "unknown benchmark '$w': use ${ALL[*]}" >&2; exit 64 ;;
    esac
    echo
    echo "== $title =="
    if [ "$w" = init ]; then
        DEVINIT=$PWD/build/ci/devinit bash "$script"
    else
        DEVINIT=$DEVINIT_STATIC_BIN bash "$script"
    fi
done

# One table: every figure beside its peer's, as the scripts above measured them.
echo
echo "== summary: devinit beside its peer, this run =="
awk -F'\t' '
    function ratio(d, p) {
        if (d <= 0 || p <= 0) return "-"
        return d >= p ? sprintf("%.2f:1", d / p) : sprintf(p / d >= 10 ? "1:%.0f" : "1:%.2f", p / d)
    }
    BEGIN { printf "%-40s %12s  %-36s %12s  %12s\n", "figure", "devinit", "peer", "peer", "devinit:peer" }
    { printf "%-40s %12s  %-36s %12s  %12s\n", $1, sprintf("%.1f %s", $2, $5), $3,
          sprintf("%.1f %s", $4, $5), ratio($2, $4) }
' "$BENCH_SUMMARY"
echo "(devinit:peer compares time or memory: 1:N, devinit needs an Nth of the peer's; N:1, N times)"
