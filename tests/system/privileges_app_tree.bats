#!/usr/bin/env bats
# devinit as root with `[app] user` set: the app's tree belongs to that user, who may plant
# links in it for root to follow. Root refuses them (78, naming the link); it follows links
# as before when there is no other user to guard against. What root creates in the tree for
# the user is the user's.
load ../lib/common

setup_file() {
    id devinit-u >/dev/null 2>&1 || useradd -M -d /home/devinit-u -s /bin/sh devinit-u
}

setup() {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
    cd "$BATS_TEST_TMPDIR"
    chmod 755 "$BATS_TEST_TMPDIR"
    # Root's secrets, out of the user's reach.
    mkdir -m 700 secret
    echo 'DATABASE_URL=postgresql://root:TOPSECRET@127.0.0.1:1/root' >secret/root.env
    chmod 600 secret/root.env
    # The app's tree, the user's own.
    mkdir app
    echo '{"name":"a","version":"1.0.0"}' >app/package.json
    echo '{"name":"a","version":"1.0.0","lockfileVersion":3,"packages":{}}' >app/package-lock.json
    chown -R devinit-u: app
    export -n DATABASE_URL
    unset DATABASE_URL
}

as_user() {
    su devinit-u -s /bin/sh -c "$1"
}

@test "a .env the app's user linked to a root-only file is refused, its URL never used" {
    as_user "ln -s '$PWD/secret/root.env' app/.env"
    run env DEVINIT_APP_USER=devinit-u DEVINIT_APP_DIR=app DEVINIT_WAIT_TIMEOUT=2s \
        timeout -k 1 10 "$DEVINIT" --only=wait -- true
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"'.env' is a symbolic link: devinit runs as root for [app] user 'devinit-u'"* ]]
    [[ "$output" != *TOPSECRET* ]]
    [[ "$output" != *"127.0.0.1:1"* ]]
}

@test "a node_modules the app's user linked elsewhere gets no stamp written through it" {
    mkdir -m 700 target
    as_user "ln -s '$PWD/target' app/node_modules"
    run env DEVINIT_APP_USER=devinit-u DEVINIT_APP_DIR=app DEVINIT_DEPS_COMMAND=true \
        "$DEVINIT" --only=deps -- true
    echo "$output"
    ls -la target
    [ "$status" -eq 78 ]
    [[ "$output" == *"'app/node_modules' is a symbolic link: devinit runs as root for [app] user 'devinit-u'"* ]]
    [ -z "$(ls -A target)" ]
}

@test "a lockfile the app's user linked to a root-only file is refused" {
    rm app/package-lock.json
    as_user "ln -s '$PWD/secret/root.env' app/package-lock.json"
    run env DEVINIT_APP_USER=devinit-u DEVINIT_APP_DIR=app DEVINIT_DEPS_COMMAND=true \
        "$DEVINIT" --only=deps -- true
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"app/package-lock.json"*"a symbolic link devinit does not follow"* ]]
}

@test "without [app] user, root follows the links of its own tree as before" {
    ln -s "$PWD/secret/root.env" app/.env
    run env DEVINIT_APP_DIR=app DEVINIT_WAIT_TIMEOUT=1s timeout -k 1 10 "$DEVINIT" --only=wait -- true
    echo "$output"
    # The URL was read through the link: the wait for its port gives up.
    [ "$status" -eq 69 ]
    [[ "$output" == *"database at 127.0.0.1:1/root not reachable"* ]]
}

@test "a node_modules devinit creates itself belongs to the app's user" {
    [ ! -e app/node_modules ]
    run env DEVINIT_APP_USER=devinit-u DEVINIT_APP_DIR=app DEVINIT_DEPS_COMMAND=true \
        "$DEVINIT" --only=deps -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(stat -c %U:%G app/node_modules)" = "devinit-u:$(id -gn devinit-u)" ]
    # The user's next install can replace its contents.
    as_user "mkdir app/node_modules/pkg && rm -rf app/node_modules/* app/node_modules/.devinit*"
}
