#!/usr/bin/env bash
# Every figure of the project, side by side with its peer, in one run: builds the static and
# release binaries, then runs each benchmark script and prints its table under a heading.
# Run it on an otherwise idle machine; every script measures devinit and its peer in the same
# run, so the ratios hold even where the absolute numbers move.
#
#     bash bench/run.sh            # all
#     bash bench/run.sh init ready # some: init ready migrate scale warm sync
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
cmake --preset static >/dev/null && cmake --build --preset static -j"$(nproc)" >/dev/null 2>&1
cmake --preset ci >/dev/null && cmake --build --preset ci -j"$(nproc)" >/dev/null

# Every script measures the release (-Werror) build; init.sh also the static one.
export DEVINIT=$PWD/build/ci/devinit DEVINIT_STATIC_BIN=$PWD/build/static/devinit

ALL=(init ready migrate scale warm sync)
which=("$@")
[ ${#which[@]} -gt 0 ] || which=("${ALL[@]}")
echo "devinit benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1 /proc/loadavg)"
for w in "${which[@]}"; do
    case $w in
        init) script=bench/init.sh; title="PID 1 overhead, memory and reaping (vs tini, dumb-init, catatonit)" ;;
        ready) script=bench/db_ready.sh; title="database-ready detection lag (vs pg_isready loops)" ;;
        migrate) script=bench/migrate_check.sh; title="migration check at 10 to 10,000 migrations (vs psql running the same query, and Prisma 6's migrate status)" ;;
        scale) script=bench/scale.sh; title="staleness checks as the lockfile and the schema grow (vs the seed's checks, npm install and npx prisma generate)" ;;
        warm) script=bench/warm_start.sh; title="warm start of examples/app (vs the seed's dev-setup.sh)" ;;
        sync) script=bench/live_sync.sh; title="live sync: schema save to the new app (vs restarting the seed's start-up)" ;;
        *) echo "unknown benchmark '$w': use ${ALL[*]}" >&2; exit 64 ;;
    esac
    echo
    echo "== $title =="
    bash "$script"
done
