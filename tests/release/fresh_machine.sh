#!/usr/bin/env bash
# The README's two commands on a fresh machine: a clean Debian 12 root (debootstrap minbase,
# no package beyond it), a clean clone of this repository's HEAD copied in, and inside it,
# as root, exactly the README's first command and then the test command's fast subset:
#
#     bash examples/demo.sh --smoke
#     bash tests/run.sh --fast
#
# Each installs what it needs itself (.ci/install-deps); nothing is installed beforehand.
# Needs root, debootstrap, unshare. Everything it starts ends with it (tests/lib/rootfs.bash).
#
#     bash tests/release/fresh_machine.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/rootfs.bash

work=$(mktemp -d "${TMPDIR:-/tmp}/devinit-fresh.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

t0=$SECONDS
rootfs_make "$root"
rootfs_network "$root"
# Where any user may read it: the tests run devinit as an unprivileged user too.
git clone -q --no-hardlinks "$PWD" "$root/usr/src/devinit"
echo "fresh machine: a clean Debian 12 root and a clone of $(git rev-parse --short HEAD) ($((SECONDS - t0)) s)"

# shellcheck disable=SC2016
rootfs_run "$root" /bin/bash -c '
    set -e
    cd /usr/src/devinit
    t=$SECONDS
    echo "+ bash examples/demo.sh --smoke"
    bash examples/demo.sh --smoke
    echo "fresh machine: the demo passed ($((SECONDS - t)) s; node $(node --version), npm $(npm --version))"
    t=$SECONDS
    echo "+ bash tests/run.sh --fast"
    bash tests/run.sh --fast
    echo "fresh machine: the fast tests passed ($((SECONDS - t)) s)"
'
echo "fresh machine: passed in $((SECONDS - t0)) s"
