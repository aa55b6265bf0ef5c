#!/usr/bin/env bash
# The test command (README): builds each named CMake preset and runs its whole suite, unit
# and system tests, with ctest. Default: the dev preset. The static preset is always built
# too, because the chroot and container tests run the static binary.
#
#     bash tests/run.sh            # dev
#     bash tests/run.sh ci asan    # what CI runs
#     bash tests/run.sh --fast     # the fast subset (ctest label fast, dev preset): the unit
#                                  # tests and a system file or more per area, no static build,
#                                  # no containers, npm, valgrind or fuzzing; a few minutes
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
if [ "${1:-}" = --fast ]; then
    fast=1
    shift
fi
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(dev)

if [ "$fast" = 1 ]; then
    bash .ci/install-deps test
else
    bash .ci/install-deps
fi

# Everything the tests create lives under one directory, so every server and container they
# start can be found and stopped on any exit path, even if a test is killed mid-way.
work=$(mktemp -d /tmp/devinit-tests.XXXXXX)
chmod 755 "$work"
export TMPDIR=$work BATS_TMPDIR=$work
. scripts/pg.sh
cleanup() {
    local pidfile
    for pidfile in $(find "$work" -name postmaster.pid 2>/dev/null); do
        pg_stop "$(dirname "$pidfile")" immediate
    done
    if command -v podman >/dev/null 2>&1 && [ -f tests/container/containers.conf ]; then
        CONTAINERS_CONF=$PWD/tests/container/containers.conf \
        CONTAINERS_STORAGE_CONF=$PWD/tests/container/storage.conf \
            podman rm -f --filter label=devinit-test >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# pyenv's python3 shim, first in PATH on the project's machines, takes 0.4 s to start a
# python3; the tests start one hundreds of times (free ports, small servers, JSON checks).
# Debian's own (installed by .ci/install-deps) starts in 30 ms.
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
    mkdir -p "$work/bin"
    ln -s /usr/bin/python3 "$work/bin/python3"
    export PATH=$work/bin:$PATH
fi

# Formatting first: it takes a second and fails early.
echo "=== format ==="
bash tests/format.sh || status_format=1

jobs=$(nproc)
if [ "$fast" = 1 ]; then
    status=0
    for preset in "${presets[@]}"; do
        echo "=== preset $preset, fast subset ($SECONDS s) ==="
        cmake --preset "$preset" >/dev/null
        cmake --build --preset "$preset" -j"$jobs"
        ctest --preset "$preset" --timeout 600 -L '^fast$' || status=1
    done
    echo "=== done in $SECONDS s ==="
    exit $status
fi

cmake --preset static >/dev/null
cmake --build --preset static -j"$jobs" 2>&1 | grep -v "requires at runtime the shared libraries" | grep -E "error|warning:" || true
export DEVINIT_STATIC_BIN=$PWD/build/static/devinit
[ -x "$DEVINIT_STATIC_BIN" ] || { echo "static build failed" >&2; exit 1; }

status=${status_format:-0}
for preset in "${presets[@]}"; do
    echo "=== preset $preset ($SECONDS s) ==="
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j"$jobs"
    if [ "$preset" = asan ]; then
        # Leaks are errors; the supervisor's deliberate _exit after a signal skips the check.
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    fi
    # Two labels run with one preset only. static: these run build/static/devinit whatever the
    # preset, so with the first. npm: these spend minutes in npm and prisma around a few
    # devinit runs each, so with the last (asan in CI, where devinit is checked most), two at
    # a time. The other tests then run one by one, their timing unperturbed.
    skip=()
    [ "$preset" = "${presets[0]}" ] || skip+=(static)
    if [ "$preset" = "${presets[-1]}" ]; then
        ctest --preset "$preset" --timeout 900 -L '^npm$' -j2 || status=1
        echo "--- the other tests ($SECONDS s) ---"
    fi
    skip+=(npm)
    ctest --preset "$preset" --timeout 900 -LE "^($(IFS='|'; echo "${skip[*]}"))\$" || status=1
    unset ASAN_OPTIONS UBSAN_OPTIONS
done

# Memcheck on a representative set of runs, and a short run of every fuzz target.
echo "=== valgrind ($SECONDS s) ==="
bash tests/valgrind.sh "build/${presets[0]}/devinit" || status=1
echo "=== fuzz smoke (${FUZZ_SECONDS:=10} s per target; $SECONDS s) ==="
bash tests/fuzz/run.sh "$FUZZ_SECONDS" || status=1
echo "=== done in $SECONDS s ==="
exit $status
