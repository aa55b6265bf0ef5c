#!/usr/bin/env bats
# The static binary resolves `[app] user` from /etc/passwd and /etc/group itself, never through
# NSS: a static glibc asked getpwnam() dlopens the modules the image's nsswitch.conf names,
# built against the image's libc, and crashes in them (exit 139, no message). Each root here is
# busybox and the static devinit as PID 1, with the image's user files and name-service set-up
# varied: `files systemd` with libnss_systemd and its libraries present (this machine's, as a
# Debian image has them), `compat` with libnss_compat, no nsswitch.conf, and no /etc at all.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/container

NSS_LIBDIR=/lib/x86_64-linux-gnu

setup() {
    STATIC=$(static_bin)
    if [ -z "${DEVINIT_STATIC_BIN:-}" ] && [ ! -x "$STATIC" ]; then
        skip "no static build: cmake --preset static && cmake --build --preset static"
    fi
    [ -x "$STATIC" ] || { echo "DEVINIT_STATIC_BIN=$STATIC is not an executable"; false; }
}

# make_root [NSSWITCH]: busybox, the static devinit, and (unless NSSWITCH is "none-etc") an
# /etc/passwd and /etc/group with an `app` user (1234) in a second group `extra` (4321).
# NSSWITCH: "systemd" or "compat" write that nsswitch.conf and copy the module with every
# library it loads; "" writes no nsswitch.conf.
make_root() {
    ROOT=$BATS_TEST_TMPDIR/root
    mkdir -p "$ROOT/bin"
    cp "$STATIC" "$ROOT/devinit"
    cp /bin/busybox "$ROOT/bin/busybox"
    local applet
    for applet in sh id echo cat; do
        ln -s busybox "$ROOT/bin/$applet"
    done
    [ "${1:-}" != none-etc ] || return 0
    mkdir -p "$ROOT/etc" "$ROOT/home/app"
    cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
app:x:1234:1234::/home/app:/bin/sh
EOF
    cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
app:x:1234:
extra:x:4321:someone,app
EOF
    case "${1:-}" in
    systemd | compat)
        local module=$NSS_LIBDIR/libnss_$1.so.2 lib
        [ -e "$module" ] || skip "$module is not installed (libnss-$1)"
        local db="files $1"
        [ "$1" = systemd ] || db=compat
        printf 'passwd: %s\ngroup: %s\nshadow: files\n' "$db" "$db" >"$ROOT/etc/nsswitch.conf"
        # A Debian image has its loader cache: static glibc's dlopen finds the module by it.
        cp /etc/ld.so.cache "$ROOT/etc/ld.so.cache"
        for lib in "$module" $(ldd "$module" | awk '/=> \// {print $3} /^\t\/[^ ]*ld-linux/ {print $1}'); do
            mkdir -p "$ROOT$(dirname "$lib")"
            cp -L "$lib" "$ROOT$lib"
            # The loader as the libraries name it too (/lib64 is a link into it on Debian).
            cp -L "$lib" "$ROOT$NSS_LIBDIR/"
        done
        ;;
    esac
}

# as_pid1 ARGS...: the root's devinit as PID 1 of a new PID namespace.
as_pid1() {
    run --separate-stderr unshare --pid --fork --mount-proc chroot "$ROOT" /devinit "$@"
    echo "exit $status; stdout: $output; stderr: $stderr"
}

ids='id -u; id -g; id -G; echo "$HOME $USER"'

@test "the static binary's --version says users come from the files, not NSS" {
    run "$STATIC" --version
    [ "$status" -eq 0 ]
    [[ "$output" == *"[app] user from /etc/passwd and /etc/group, never through NSS modules"* ]]
}

@test "with 'files systemd' and libnss_systemd present, a named user runs with its ids and groups" {
    make_root systemd
    DEVINIT_APP_USER=app as_pid1 --skip=all -- /bin/sh -c "$ids"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 1234 ]
    [ "${lines[1]}" = 1234 ]
    [ "${lines[2]}" = "1234 4321" ]
    [ "${lines[3]}" = "/home/app app" ]
}

@test "with 'files systemd' and libnss_systemd present, an unknown user exits 78 naming the files" {
    make_root systemd
    DEVINIT_APP_USER=nosuchuser as_pid1 --skip=all -- /bin/true
    [ "$status" -eq 78 ]
    [[ "$stderr" == *"user 'nosuchuser' is not in /etc/passwd (devinit reads /etc/passwd and /etc/group, not NSS)"* ]]
}

@test "with 'files systemd', an unknown group exits 78 naming the files" {
    make_root systemd
    DEVINIT_APP_USER=app:nosuchgroup as_pid1 --skip=all -- /bin/true
    [ "$status" -eq 78 ]
    [[ "$stderr" == *"group 'nosuchgroup' is not in /etc/group"* ]]
}

@test "with 'compat' and libnss_compat present, a named user runs with its ids and groups" {
    make_root compat
    # compat's netgroup lines: devinit reads only the plain entries and does not stumble.
    echo '+@netgroup::::::' >>"$ROOT/etc/passwd"
    DEVINIT_APP_USER=app as_pid1 --skip=all -- /bin/sh -c "$ids"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 1234 ]
    [ "${lines[2]}" = "1234 4321" ]
    DEVINIT_APP_USER=nosuchuser as_pid1 --skip=all -- /bin/true
    [ "$status" -eq 78 ]
}

@test "without nsswitch.conf, a named user and a named group resolve from the files" {
    make_root
    DEVINIT_APP_USER=app:extra as_pid1 --skip=all -- /bin/sh -c "$ids"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 1234 ]
    [ "${lines[1]}" = 4321 ]
    [ "${lines[2]}" = "4321" ]
    [ "${lines[3]}" = "/home/app app" ]
}

@test "in a busybox-only root without /etc, a numeric UID:GID needs no lookup" {
    make_root none-etc
    DEVINIT_APP_USER=1234:4321 as_pid1 --skip=all -- /bin/sh -c "$ids"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 1234 ]
    [ "${lines[1]}" = 4321 ]
    [ "${lines[2]}" = 4321 ]
    [ "${lines[3]}" = "/ 1234" ]
}

@test "in a busybox-only root without /etc, a name exits 78 naming the files read" {
    make_root none-etc
    DEVINIT_APP_USER=node as_pid1 --skip=all -- /bin/true
    [ "$status" -eq 78 ]
    [[ "$stderr" == *"user 'node' is not in /etc/passwd (devinit reads /etc/passwd and /etc/group, not NSS)"* ]]
}

@test "as PID 1 of a podman container with 'files systemd' and libnss_systemd, the app runs as the user" {
    require_containers
    make_root systemd
    local ctx=$BATS_TEST_TMPDIR/context image=localhost/devinit-test-nss:$$ name=devinit-test-nss-$$
    mkdir -p "$ctx"
    mv "$ROOT" "$ctx/rootfs"
    printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin DEVINIT_APP_USER=app\nENTRYPOINT ["/devinit", "--skip=all", "--"]\n' \
        >"$ctx/Containerfile"
    podman build -q --label devinit-test=1 -f "$ctx/Containerfile" -t "$image" "$ctx" >"$ctx/build.log" 2>&1 ||
        { cat "$ctx/build.log"; false; }
    run --separate-stderr podman run --rm --name "$name" --label devinit-test=1 "$image" /bin/sh -c "$ids"
    local st=$status out=$output err=$stderr
    run podman run --rm --label devinit-test=1 -e DEVINIT_APP_USER=nosuchuser "$image" /bin/true
    local st2=$status out2=$output
    podman rmi -f "$image" >/dev/null 2>&1 || true
    echo "exit $st: $out $err / exit $st2: $out2"
    [ "$st" -eq 0 ]
    [ "$out" = $'1234\n1234\n1234 4321\n/home/app app' ]
    [ "$st2" -eq 78 ]
    [[ "$out2" == *"user 'nosuchuser' is not in /etc/passwd"* ]]
}
