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

@test "a root uid with another gid runs with that gid and no other group" {
    run env DEVINIT_APP_USER=0:4242 "$DEVINIT" --skip=all -- sh -c 'id -u; id -g; id -G'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 0 ]
    [ "${lines[1]}" = 4242 ]
    [ "${lines[2]}" = 4242 ]
}

@test "a user's supplementary groups come from /etc/group, the named group first" {
    run env DEVINIT_APP_USER=devinit-u:devinit-extra "$DEVINIT" --skip=all -- sh -c 'id -g; id -G'
    echo "$output"
    [ "$status" -eq 0 ]
    local extra
    extra=$(getent group devinit-extra | cut -d: -f3)
    [ "${lines[0]}" = "$extra" ]
    [[ " ${lines[1]} " == " $extra "* ]]
}

@test "an unknown group is a configuration error naming the files read" {
    run env DEVINIT_APP_USER=devinit-u:no-such-group "$DEVINIT" --skip=all -- true
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"group 'no-such-group' is not in /etc/group"* ]]
}

@test "a misspelt DEVINIT_APP_USER stops devinit instead of running the app as root" {
    local v
    for v in DEVINIT_APPUSER DEVINIT_APP_USR; do
        run env "$v=devinit-u" "$DEVINIT" --skip=all -- id -u
        echo "$output"
        [ "$status" -eq 78 ]
        [[ "$output" == *"'$v' is not a configuration key: did you mean DEVINIT_APP_USER?"* ]]
        [[ "$output" != *$'\n'0* ]]
    done
}

@test "the app has no way back to root" {
    run env DEVINIT_APP_USER=devinit-u "$DEVINIT" --skip=all -- python3 -c 'import os; os.setuid(0)'
    [ "$status" -ne 0 ]
    [[ "$output" == *"PermissionError"* ]]
}

@test "an unknown user is a configuration error naming it" {
    run env DEVINIT_APP_USER=nobody-here "$DEVINIT" --skip=all -- true
    [ "$status" -eq 78 ]
    [[ "$output" == *"user 'nobody-here' is not in /etc/passwd (devinit reads /etc/passwd and /etc/group, not NSS)"* ]]
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
