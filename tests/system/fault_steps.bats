#!/usr/bin/env bats
# A step's process or the app killed from outside, and a disk that fills up under the stamp:
# devinit says what died, writes no stamp that would lie, and redoes the work next time.
load ../lib/common

setup_file() {
    # One real install of the example app (npm ci, real Prisma 7) for the generate test.
    export EXAMPLE="$BATS_FILE_TMPDIR/example"
    example_app "$EXAMPLE"
    (cd "$EXAMPLE" && "$DEVINIT" --only=deps -- true) >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
        { cat "$BATS_FILE_TMPDIR/install.log"; return 1; }
    rm -rf "$EXAMPLE/node_modules/.prisma" "$EXAMPLE/node_modules/.devinit-generate.stamp"
}

setup() {
    cd "$BATS_TEST_TMPDIR"
    DPID=
    HOLDER=
    LEFTOVER=
}

teardown() {
    [ -z "$DPID" ] || kill -KILL "$DPID" 2>/dev/null || true
    if [ -n "$HOLDER" ]; then
        kill -KILL "$HOLDER" 2>/dev/null || true
        wait "$HOLDER" 2>/dev/null || true
    fi
    [ -z "$LEFTOVER" ] || kill -KILL "$LEFTOVER" 2>/dev/null || true
}

# A project whose install is install.sh: it records each run, then sleeps in the foreground
# (pid in install.pid) with a background child holding its output, as npm's children do.
install_project() {
    echo '{"name":"t","version":"1.0.0"}' >package.json
    echo '{"lockfileVersion":3}' >package-lock.json
    cat >install.sh <<'SH'
#!/bin/sh
echo run >> installs.log
mkdir -p node_modules
touch node_modules/half-installed
if [ -e slow ]; then
    sleep 30 &
    echo $! > leftover.pid
    echo $$ > install.pid
    exec sleep 31
fi
SH
    chmod +x install.sh
    export DEVINIT_DEPS_COMMAND="$PWD/install.sh"
}

installs() { [ -f installs.log ] && wc -l <installs.log || echo 0; }

# The first child of $DPID whose command line contains $1.
child_matching() {
    local c
    for c in $(cat "/proc/$DPID/task/$DPID/children" 2>/dev/null); do
        if tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | grep -q -- "$1"; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

@test "an install killed with SIGKILL exits 70 naming it, leaves no stamp and is redone" {
    install_project
    touch slow
    "$DEVINIT" --only=deps -- touch app-ran >devinit.log 2>&1 &
    DPID=$!
    wait_for test -s install.pid
    LEFTOVER=$(cat leftover.pid)
    t0=$(now_ms)
    kill -KILL "$(cat install.pid)"
    status=0
    wait "$DPID" || status=$?
    t1=$(now_ms)
    DPID=
    cat devinit.log
    [ "$status" -eq 70 ]
    # Promptly, although the install's child still holds its output pipe.
    [ $((t1 - t0)) -lt 3000 ]
    kill -0 "$LEFTOVER"
    grep -q "deps: error: '$PWD/install.sh' was killed by SIGKILL" devinit.log
    [ ! -e app-ran ]
    [ -e node_modules/half-installed ]
    [ ! -e node_modules/.devinit-deps.stamp ]
    # The next start sees the interrupted install and runs it again, to the end this time.
    rm slow
    run "$DEVINIT" --only=deps -- touch app-ran
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"node_modules has no devinit stamp"*"installing with"* ]]
    [ "$(installs)" -eq 2 ]
    [ -e app-ran ]
    [ -s node_modules/.devinit-deps.stamp ]
}

@test "prisma generate killed with SIGKILL exits 70 naming it, leaves no stamp and is redone" {
    cd "$EXAMPLE"
    "$DEVINIT" --only=generate -- touch app-ran >devinit.log 2>&1 &
    DPID=$!
    wait_for child_matching "prisma generate"
    kill -KILL "$(child_matching "prisma generate")"
    status=0
    wait "$DPID" || status=$?
    DPID=
    cat devinit.log
    [ "$status" -eq 70 ]
    grep -Eq "generate: error: '[^']*/node_modules/.bin/prisma generate [^']*' was killed by SIGKILL" devinit.log
    [ ! -e app-ran ]
    [ ! -e node_modules/.devinit-generate.stamp ]
    run "$DEVINIT" check --only=generate
    echo "$output"
    [ "$status" -eq 1 ]
    run "$DEVINIT" --only=generate -- touch app-ran
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"generated the prisma client"* ]]
    [ -e app-ran ]
    [ -s node_modules/.devinit-generate.stamp ]
}

@test "an app killed with SIGKILL from outside exits 137" {
    "$DEVINIT" --skip=all -- sh -c 'echo $$ > app.pid; exec sleep 30' >devinit.log 2>&1 &
    DPID=$!
    wait_for test -s app.pid
    kill -KILL "$(cat app.pid)"
    status=0
    wait "$DPID" || status=$?
    DPID=
    cat devinit.log
    [ "$status" -eq 137 ]
    grep -q "'sh' was killed by SIGKILL" devinit.log
}

# ns_run DIR CMD...: runs CMD in DIR inside the mount namespace of $HOLDER. cd inside it:
# nsenter --wd would open DIR in our own namespace, outside the test's tmpfs.
ns_run() {
    local dir=$1
    shift
    nsenter -t "$HOLDER" -m sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" "$@"
}

own_mount_ns() { [ "$(readlink "/proc/$HOLDER/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]; }

# A private mount namespace (held open by a sleeping process) with a tmpfs of OPTIONS on
# node_modules. The install writes only there: a guard in install.sh checks it is the tmpfs.
tiny_node_modules() {
    unshare -m --propagation private sleep 120 3>&- &
    HOLDER=$!
    wait_for own_mount_ns
    mkdir -p node_modules
    nsenter -t "$HOLDER" -m mount -t tmpfs -o "$1" tmpfs "$PWD/node_modules"
    [ "$(ns_run "$PWD" stat -f -c %T node_modules)" = tmpfs ]
}

fill_project() {
    echo '{"name":"t","version":"1.0.0"}' >package.json
    echo '{"lockfileVersion":3}' >package-lock.json
    # Fills node_modules (a bounded write: never more than 256 kB) while ./fill exists.
    cat >install.sh <<'SH'
#!/bin/sh
echo run >> installs.log
[ "$(stat -f -c %T node_modules)" = tmpfs ] || { echo "node_modules is not the test's tmpfs" >&2; exit 9; }
rm -f node_modules/fill*
if [ -e fill ]; then
    dd if=/dev/zero of=node_modules/fill bs=4k count=64 2>/dev/null
    i=0; while [ $i -lt 64 ] && touch node_modules/fill$i 2>/dev/null; do i=$((i + 1)); done
fi
exit 0
SH
    chmod +x install.sh
    export DEVINIT_DEPS_COMMAND="$PWD/install.sh"
}

@test "a full disk under the deps stamp: the file is named, nothing is left half-written, and the install is redone" {
    fill_project
    tiny_node_modules size=64k
    touch fill
    run ns_run "$PWD" "$DEVINIT" --only=deps -- sh -c 'echo APP-RAN'
    echo "$output"
    # The install itself succeeded: the app runs, and the missing stamp is said plainly.
    [ "$status" -eq 0 ]
    [[ "$output" == *"cannot write stamp 'node_modules/.devinit-deps.stamp': no space left on device"* ]]
    [[ "$output" == *APP-RAN* ]]
    run ns_run "$PWD" ls -A node_modules
    echo "$output"
    [[ "$output" != *stamp* ]] # neither the stamp nor its temporary file
    [ "$(installs)" -eq 1 ]
    # With space again, the next start installs again and stamps.
    rm fill
    run ns_run "$PWD" "$DEVINIT" --only=deps -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"node_modules has no devinit stamp"* ]]
    [ "$(installs)" -eq 2 ]
    run ns_run "$PWD" cat node_modules/.devinit-deps.stamp
    [[ "$output" == *"lockfile package-lock.json "* ]]
    run ns_run "$PWD" "$DEVINIT" check --only=deps
    [ "$status" -eq 0 ]
}

@test "no inode left for the stamp's temporary file: named, no stamp, and redone" {
    fill_project
    tiny_node_modules size=1m,nr_inodes=8
    touch fill
    run ns_run "$PWD" "$DEVINIT" --only=deps -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"cannot write stamp 'node_modules/.devinit-deps.stamp': no space left on device"* ]]
    run ns_run "$PWD" ls -A node_modules
    [[ "$output" != *stamp* ]]
    run ns_run "$PWD" "$DEVINIT" check --only=deps
    [ "$status" -eq 1 ]
}
