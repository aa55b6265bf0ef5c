#!/usr/bin/env bash
# The release checks, each a phase that prints its duration (CI runs all four after
# tests/run.sh):
#
#   arm64           the static-arm64 cross build, tested under qemu-user (tests/release/arm64.bats)
#   package         cmake/release.sh (both .debs, the tarball, SHA256SUMS), then
#                   tests/release/package.bats: man page, completions, install, dpkg, lintian
#   image           docker/Dockerfile.dev built by podman and run with the example app
#                   (tests/release/image.bats)
#   fresh-machine   the README's two commands in a clean Debian 12 root
#                   (tests/release/fresh_machine.sh)
#
#     bash tests/release/run.sh                  # all four
#     bash tests/release/run.sh arm64 package    # some
#
# Needs root. Installs what it needs (.ci/install-deps all arm64). Every server, container and
# mount a phase starts is stopped on every exit path.
set -euo pipefail
cd "$(dirname "$0")/../.."
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(arm64 package image fresh-machine)

bash .ci/install-deps all arm64

work=$(mktemp -d /tmp/devinit-release.XXXXXX)
chmod 755 "$work"
export TMPDIR=$work BATS_TMPDIR=$work
export CONTAINERS_CONF=$PWD/tests/container/containers.conf
export CONTAINERS_STORAGE_CONF=$PWD/tests/container/storage.conf
. scripts/pg.sh
cleanup() {
    local pidfile
    find "$work" -name postmaster.pid 2>/dev/null | while read -r pidfile; do
        pg_stop "$(dirname "$pidfile")" immediate
    done
    podman rm -f --filter label=devinit-test >/dev/null 2>&1 || true
    # The fresh machine's mounts live in its own mount namespace and end with it; a root left
    # by a killed run is only files.
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Debian's python3 before a slower shim, as tests/run.sh does.
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
    mkdir -p "$work/bin"
    ln -s /usr/bin/python3 "$work/bin/python3"
    export PATH=$work/bin:$PATH
fi

build() {
    cmake --preset "$1" >/dev/null
    cmake --build --preset "$1" -j2 2>&1 | grep -E "error|warning: [^U]" || true
    [ -x "build/$1/devinit" ] || { echo "the $1 build failed" >&2; return 1; }
}

status=0
declare -A took
for phase in "${phases[@]}"; do
    echo "=== release phase $phase ($SECONDS s) ==="
    t0=$SECONDS
    rc=0
    case $phase in
    arm64) { build static-arm64 && bats --timing tests/release/arm64.bats; } || rc=1 ;;
    package) { bash cmake/release.sh && bats --timing tests/release/package.bats; } || rc=1 ;;
    image) { build static && bats --timing tests/release/image.bats; } || rc=1 ;;
    fresh-machine) bash tests/release/fresh_machine.sh || rc=1 ;;
    *) echo "unknown phase '$phase' (arm64, package, image, fresh-machine)" >&2; rc=1 ;;
    esac
    took[$phase]=$((SECONDS - t0))
    echo "=== release phase $phase: $([ $rc = 0 ] && echo passed || echo FAILED) in ${took[$phase]} s ==="
    [ $rc = 0 ] || status=1
done
for phase in "${phases[@]}"; do printf '%-14s %4d s\n' "$phase" "${took[$phase]}"; done
exit $status
