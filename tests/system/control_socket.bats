#!/usr/bin/env bats
# The control socket from the outside: a devinit that is not root (a `USER node` image), a
# client that may not use the socket, a socket directory another user can write, a flood of
# connections, and an instance that closes without an answer. What sync, status and health
# do with a healthy instance is in sync_live.bats.
bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/supervisor

# A user of its own: /tmp/devinit-<uid>/ is that user's, whatever other files run.
NR=devinit-nr

setup() {
    id "$NR" >/dev/null 2>&1 || useradd -M -s /bin/sh "$NR"
    NR_UID=$(id -u "$NR")
    rm -rf "/tmp/devinit-$NR_UID"
    # A directory the user owns, every user can traverse, and the tests can clean.
    WORK=$(mktemp -d /tmp/devinit-ctl.XXXXXX)
    chmod 755 "$WORK"
    cd "$WORK"
    echo '{"name":"t","version":"1.0.0"}' > package.json
    echo '{"lockfileVersion":3,"v":1}' > package-lock.json
    cat > install.sh <<'SH'
#!/bin/sh
mkdir -p node_modules
echo "install $(id -u)" >> installs.log
SH
    chmod +x install.sh
    export DEVINIT_DEPS_COMMAND="$WORK/install.sh" DEVINIT_WATCH_MODE=off
    APP=(sh -c 'echo $$ > app.pid; exec sleep 1000')
}

# stop PID...: SIGTERM, then SIGKILL after 10 s; never waits longer (a teardown that hangs
# would hang the whole file).
stop() {
    local p i
    for p in "$@"; do
        [ -n "$p" ] || continue
        kill -TERM "$p" 2>/dev/null || continue
        for i in $(seq 1 100); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null || true
    done
}

teardown() {
    # unshare --fork ignores SIGTERM and waits for its child, the namespace's PID 1.
    stop "${PID1:-}" "${DPID:-}" "${SERVER:-}" "${FLOOD:-}"
    cd /
    rm -rf "$WORK" "/tmp/devinit-$NR_UID"
}

# as_nr CMD...: CMD as the test user, without root's groups or capabilities.
as_nr() {
    setpriv --reuid="$NR" --regid="$NR" --clear-groups --inh-caps=-all "$@"
}

installs() { [ -f installs.log ] && wc -l < installs.log || echo 0; }

app_pid_changed_from() { [ -s app.pid ] && [ "$(cat app.pid)" != "$1" ]; }

# start_nr_pid1 [ENV...]: devinit as PID 1 of a new PID namespace, running as the test user
# with the default socket path (what a `USER node` image without [app] user has).
start_nr_pid1() {
    chown -R "$NR" "$WORK"
    unshare --pid --fork --mount-proc env -u DEVINIT_CONTROL_SOCKET -u XDG_RUNTIME_DIR "$@" \
        setpriv --reuid="$NR" --regid="$NR" --clear-groups --inh-caps=-all \
        "$DEVINIT" --only=deps -- "${APP[@]}" >devinit.log 2>&1 3>&- &
    DPID=$!
    PID1=$(di_child_of "$DPID")
    wait_for test -s app.pid
}

# nr_client [ENV...] CMD: `devinit CMD` as the test user with the default socket path.
nr_client() {
    local cmd=${!#}
    run env -u DEVINIT_CONTROL_SOCKET -u XDG_RUNTIME_DIR "${@:1:$#-1}" \
        setpriv --reuid="$NR" --regid="$NR" --clear-groups --inh-caps=-all \
        timeout -k 1 30 "$DEVINIT" "$cmd"
    echo "$cmd: $status: $output"
}

@test "a devinit that is not root, as PID 1, answers health, status and sync at /tmp/devinit-<uid>/" {
    start_nr_pid1
    sock=/tmp/devinit-$NR_UID/devinit.sock
    wait_for test -S "$sock"
    [ "$(stat -c '%U %a' "/tmp/devinit-$NR_UID")" = "$NR 700" ]
    [ "$(stat -c '%U %a' "$sock")" = "$NR 600" ]
    nr_client health
    [ "$status" -eq 0 ]
    [[ "$output" == healthy* ]]
    nr_client status
    [ "$status" -eq 0 ]
    [[ "$output" == *"app: 'sh' running"* ]]
    old=$(cat app.pid)
    echo '{"lockfileVersion":3,"v":2}' > package-lock.json
    nr_client sync
    [ "$status" -eq 0 ]
    [[ "$output" == *"app restarted (pid"* ]]
    [[ "$output" != *"running the steps here"* ]]
    wait_for app_pid_changed_from "$old"
    # Root in the container (`docker exec -u root`) finds the socket where PID 1 keeps it.
    run nsenter --target "$PID1" --pid --mount env -u DEVINIT_CONTROL_SOCKET -u XDG_RUNTIME_DIR \
        timeout -k 1 30 "$DEVINIT" health
    echo "root: $status: $output"
    [ "$status" -eq 0 ]
    [[ "$output" == healthy* ]]
    # Every install ran in PID 1's devinit, as the user.
    [ "$(installs)" -eq 2 ]
    [ "$(sort -u installs.log)" = "install $NR_UID" ]
}

@test "a devinit that is not root keeps its socket in \$XDG_RUNTIME_DIR, and its client looks there" {
    run_dir=$WORK/run
    mkdir -m 700 "$run_dir"
    chown "$NR" "$run_dir"
    start_nr_pid1 XDG_RUNTIME_DIR="$run_dir"
    wait_for test -S "$run_dir/devinit.sock"
    nr_client XDG_RUNTIME_DIR="$run_dir" health
    [ "$status" -eq 0 ]
    [ ! -e "/tmp/devinit-$NR_UID" ]
}

@test "a client refused by the socket's permissions exits 77 and never runs the steps itself" {
    # devinit as root, without [app] user: its socket is root's, mode 0600.
    export DEVINIT_CONTROL_SOCKET=$WORK/ctl.sock
    "$DEVINIT" --only=deps -- "${APP[@]}" >devinit.log 2>&1 3>&- &
    DPID=$!
    wait_for test -s app.pid
    wait_for test -S "$DEVINIT_CONTROL_SOCKET"
    echo '{"lockfileVersion":3,"v":3}' > package-lock.json
    chmod 777 "$WORK"
    for cmd in sync status health; do
        run as_nr env DEVINIT_CONTROL_SOCKET="$DEVINIT_CONTROL_SOCKET" timeout -k 1 30 "$DEVINIT" --only=deps "$cmd"
        echo "$cmd: $status: $output"
        [ "$status" -eq 77 ]
        [[ "$output" == *"permission denied on the control socket '$DEVINIT_CONTROL_SOCKET' (the socket belongs to uid 0)"* ]]
        [[ "$output" != *"no running devinit"* ]]
        [[ "$output" != *"running the steps here"* ]]
    done
    # The one install is PID 1's: no second one beside it.
    [ "$(installs)" -eq 1 ]
}

@test "root refuses to make its socket in a directory the app's user can write" {
    # The app's user owns the directory: between bind() and chown() it could swap the socket
    # for a link. No socket, a warning that says why, and the app runs.
    chown -R "$NR" "$WORK"
    mkdir -m 755 "$WORK/run"
    chown "$NR" "$WORK/run"
    export DEVINIT_CONTROL_SOCKET=$WORK/run/ctl.sock
    DEVINIT_APP_USER=$NR "$DEVINIT" --only=deps -- "${APP[@]}" >devinit.log 2>&1 3>&- &
    DPID=$!
    wait_for test -s app.pid
    wait_for grep -q "belongs to another user" devinit.log
    cat devinit.log
    grep -q "the socket's directory '$WORK/run' belongs to another user (uid $NR_UID" devinit.log
    [ ! -e "$DEVINIT_CONTROL_SOCKET" ]
    kill -0 "$(cat app.pid)"
    # A directory every user may write, without the sticky bit: the same.
    kill -TERM "$DPID"; wait "$DPID" || true; DPID=; rm -f app.pid devinit.log
    chown root "$WORK/run"; chmod 777 "$WORK/run"
    DEVINIT_APP_USER=$NR "$DEVINIT" --only=deps -- "${APP[@]}" >devinit.log 2>&1 3>&- &
    DPID=$!
    wait_for grep -q "is writable by other users and not sticky" devinit.log
    [ ! -e "$DEVINIT_CONTROL_SOCKET" ]
    # A sticky one (like /tmp), or root's own: the socket, handed to the app's user.
    kill -TERM "$DPID"; wait "$DPID" || true; DPID=; rm -f app.pid
    chmod 1777 "$WORK/run"
    DEVINIT_APP_USER=$NR "$DEVINIT" --only=deps -- "${APP[@]}" >devinit.log 2>&1 3>&- &
    DPID=$!
    wait_for test -S "$DEVINIT_CONTROL_SOCKET"
    [ "$(stat -c %U "$DEVINIT_CONTROL_SOCKET")" = "$NR" ]
}

@test "swapping the socket for a link between bind and chown hands no file to the app's user" {
    command -v strace >/dev/null || skip "strace is not installed"
    # The race made certain: strace holds every chown for 2 s after it is called, and the
    # app's user (who owns the directory) uses those 2 s to put a link to a root-only file
    # where the socket was.
    chown -R "$NR" "$WORK"
    mkdir -m 755 "$WORK/run"
    chown "$NR" "$WORK/run"
    echo secret > "$WORK/victim"
    chmod 600 "$WORK/victim"
    export DEVINIT_CONTROL_SOCKET=$WORK/run/ctl.sock
    DEVINIT_APP_USER=$NR strace -f -qq -o strace.log -e trace=chown,lchown,fchownat \
        -e inject=chown,lchown,fchownat:delay_enter=2000000 \
        "$DEVINIT" --only=deps -- "${APP[@]}" >devinit.log 2>&1 3>&- &
    DPID=$!
    PID1=$(di_child_of "$DPID")  # devinit, under strace
    # Either the socket appears (then the swap), or devinit refuses the directory.
    wait_for eval 'test -S "$DEVINIT_CONTROL_SOCKET" || grep -q "belongs to another user" devinit.log'
    if [ -S "$DEVINIT_CONTROL_SOCKET" ]; then
        as_nr sh -c "ln -s '$WORK/victim' '$WORK/run/link' && mv -fT '$WORK/run/link' '$DEVINIT_CONTROL_SOCKET'"
    fi
    wait_for test -s app.pid
    sleep 2.5
    cat devinit.log
    [ "$(stat -c %U "$WORK/victim")" = root ]
}

@test "a flood of idle connections leaves room for a sync, and the app restarts" {
    export DEVINIT_CONTROL_SOCKET=$WORK/ctl.sock
    # Few descriptors, as a container's limit is for a client that opens thousands.
    (ulimit -n 64; exec "$DEVINIT" --only=deps -- "${APP[@]}" >devinit.log 2>&1 3>&-) &
    DPID=$!
    wait_for test -s app.pid
    wait_for test -S "$DEVINIT_CONTROL_SOCKET"
    # 8 processes, each opening 50 connections and holding them without a word.
    python3 - "$DEVINIT_CONTROL_SOCKET" >flood.log 2>&1 3>&- <<'PY' &
import os, socket, sys, time
for _ in range(7):
    if os.fork() == 0:
        break
held = []
for _ in range(50):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); held.append(s)
    except OSError as e:
        print(e)
open("flood.%d" % os.getpid(), "w").close()
time.sleep(30)
PY
    FLOOD=$!
    wait_for eval '[ "$(ls flood.* 2>/dev/null | grep -vc log)" -ge 8 ]'
    old=$(cat app.pid)
    for v in 2 3 4; do
        echo "{\"lockfileVersion\":3,\"v\":$v}" > package-lock.json
        run timeout -k 1 30 "$DEVINIT" sync
        echo "sync $v: $status: $output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"app restarted (pid"* ]]
        # The new app writes its pid file a moment after the answer.
        wait_for app_pid_changed_from "$old"
        old=$(cat app.pid)
    done
    [ "$(installs)" -eq 4 ]
    ! grep -q "Too many open files" devinit.log
    kill -0 "$(cat app.pid)"
}

@test "an instance that closes without answering is 69 for health, status and sync, never 70" {
    export DEVINIT_CONTROL_SOCKET=$WORK/ctl.sock
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept(); c.recv(256); c.close()
' "$DEVINIT_CONTROL_SOCKET" 3>&- &
    SERVER=$!
    wait_for test -S "$DEVINIT_CONTROL_SOCKET"
    for cmd in health status sync; do
        run timeout -k 1 30 "$DEVINIT" --only=deps "$cmd"
        echo "$cmd: $status: $output"
        [ "$status" -eq 69 ]
        [[ "$output" == *"no answer from '$DEVINIT_CONTROL_SOCKET': the connection closed without one"* ]]
    done
    [ "$(installs)" -eq 0 ]
}

@test "status shows the app's command escaped: no control byte reaches the terminal" {
    export DEVINIT_CONTROL_SOCKET=$WORK/ctl.sock
    name=$'sh\e]0;owned\a\xc2\x9b2J\x9b31m'
    ln -s /bin/sh "$WORK/$name"
    APP=("./$name" -c 'echo $$ > app.pid; exec sleep 1000')
    "$DEVINIT" --only=deps -- "${APP[@]}" >devinit.log 2>&1 3>&- &
    DPID=$!
    wait_for test -s app.pid
    wait_for test -S "$DEVINIT_CONTROL_SOCKET"
    for args in status health "status --json"; do
        run timeout -k 1 30 "$DEVINIT" $args
        echo "$args: $status: $output"
        [ "$status" -eq 0 ]
        LC_ALL=C
        [[ "$output" != *$'\e'* && "$output" != *$'\a'* && "$output" != *$'\x9b'* ]]
        unset LC_ALL
    done
    run timeout -k 1 30 "$DEVINIT" status
    # (The raw 0x9b travels as U+FFFD in the reply's JSON.)
    [[ "$output" == *"app: './sh\\x1b]0;owned\\x07\\xc2\\x9b2J"*"31m' running"* ]]
}
