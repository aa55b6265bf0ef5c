#!/usr/bin/env bats
# [app] user: the steps and the app run as another user, set up in the right order.
load ../lib/common

setup_file() {
    id devinit-u >/dev/null 2>&1 || useradd -M -d /home/devinit-u -s /bin/sh devinit-u
    getent group devinit-extra >/dev/null || groupadd devinit-extra
    usermod -a -G devinit-extra devinit-u
}

setup() {
    cd "$BATS_TEST_TMPDIR"
    chmod 755 "$BATS_TEST_TMPDIR"
}

@test "the app runs with the user's uid, gid and supplementary groups" {
    run env DEVINIT_APP_USER=devinit-u "$DEVINIT" --skip=all -- id
    [ "$status" -eq 0 ]
    [[ "$output" == *"uid=$(id -u devinit-u)(devinit-u)"* ]]
    [[ "$output" == *"gid=$(id -g devinit-u)(devinit-u)"* ]]
    [[ "$output" == *"devinit-extra"* ]]
}

@test "HOME, USER and LOGNAME are the user's" {
    run env DEVINIT_APP_USER=devinit-u HOME=/root USER=root "$DEVINIT" --skip=all -- sh -c 'echo "$HOME $USER $LOGNAME"'
    [ "$status" -eq 0 ]
    [ "$output" = "/home/devinit-u devinit-u devinit-u" ]
}

@test "a numeric UID:GID that has no passwd entry works" {
    run env DEVINIT_APP_USER=4321:4322 "$DEVINIT" --skip=all -- sh -c 'id -u; id -g; id -G; echo $HOME'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 4321 ]
    [ "${lines[1]}" = 4322 ]
    [ "${lines[2]}" = 4322 ]
    [ "${lines[3]}" = / ]
}

@test "the app has no way back to root" {
    run env DEVINIT_APP_USER=devinit-u "$DEVINIT" --skip=all -- python3 -c 'import os; os.setuid(0)'
    [ "$status" -ne 0 ]
    [[ "$output" == *"PermissionError"* ]]
}

@test "an unknown user is a configuration error naming it" {
    run env DEVINIT_APP_USER=nobody-here "$DEVINIT" --skip=all -- true
    [ "$status" -eq 78 ]
    [[ "$output" == *"'nobody-here' does not exist"* ]]
}

@test "a non-root devinit with another user set refuses clearly" {
    run su devinit-u -s /bin/sh -c "DEVINIT_APP_USER=root '$DEVINIT' --skip=all -- true"
    [ "$status" -eq 78 ]
    [[ "$output" == *"not root"* ]]
}

@test "a non-root devinit without a user runs the app as itself" {
    run su devinit-u -s /bin/sh -c "'$DEVINIT' --skip=all -- id -un"
    [ "$status" -eq 0 ]
    [ "$output" = devinit-u ]
}

@test "a root-owned node_modules is handed to the user before anything runs" {
    mkdir -p node_modules/.bin node_modules/pkg
    touch node_modules/pkg/index.js
    chown -R root:root node_modules
    run env DEVINIT_APP_USER=devinit-u "$DEVINIT" --skip=all -- sh -c 'touch node_modules/pkg/new.js && echo ok'
    [ "$status" -eq 0 ]
    [[ "$output" == *ok* ]]
    [ "$(stat -c %U node_modules)" = devinit-u ]
    [ "$(stat -c %U node_modules/pkg/index.js)" = devinit-u ]
    [ "$(stat -c %U node_modules/pkg/new.js)" = devinit-u ]
}
