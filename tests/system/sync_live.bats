#!/usr/bin/env bats
# Live sync and the control socket, with the real deps step (an install command of our own
# that records each run) and a long-running app. Prisma-specific sync (a schema edit
# regenerating the client) is in sync_prisma.bats.
bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/supervisor

setup() {
    cd "$BATS_TEST_TMPDIR"
    echo '{"name":"t","version":"1.0.0"}' > package.json
    echo '{"lockfileVersion":3,"v":1}' > package-lock.json
    cat > install.sh <<'SH'
#!/bin/sh
mkdir -p node_modules
echo "install $(date +%s%N)" >> installs.log
SH
    chmod +x install.sh
    export DEVINIT_DEPS_COMMAND="$PWD/install.sh"
    export DEVINIT_CONTROL_SOCKET="$BATS_TEST_TMPDIR/ctl.sock"
    export DEVINIT_WATCH_DEBOUNCE=200ms
    APP=(sh -c 'echo $$ > app.pid; exec sleep 1000')
}

teardown() {
    [ -z "${DPID:-}" ] || { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null || true; }
    [ -z "${OPEN:-}" ] || rm -rf "$OPEN"
    [ -z "${SERVER:-}" ] || { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; }
    di_cleanup
}

start_devinit() {
    "$DEVINIT" "$@" --only=deps -- "${APP[@]}" >devinit.log 2>&1 &
    DPID=$!
    wait_for test -s app.pid
}

installs() { [ -f installs.log ] && wc -l < installs.log || echo 0; }

# lines_at_least FILE N: FILE has N lines or more (for wait_for, which retries the command).
lines_at_least() { [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]; }

# Another user must reach the test's files: move into a directory every user can traverse.
open_dir() {
    OPEN=$(mktemp -d /tmp/devinit-open.XXXXXX)
    chmod 755 "$OPEN"
    cp package.json package-lock.json install.sh "$OPEN/"
    cd "$OPEN"
    export DEVINIT_DEPS_COMMAND="$OPEN/install.sh" DEVINIT_CONTROL_SOCKET="$OPEN/ctl.sock"
}

app_pid_changed_from() { [ -s app.pid ] && [ "$(cat app.pid)" != "$1" ]; }

@test "a lockfile change reinstalls and restarts the app on a new pid" {
    start_devinit
    [ "$(installs)" -eq 1 ]
    old=$(cat app.pid)
    echo '{"lockfileVersion":3,"v":2}' > package-lock.json
    wait_for app_pid_changed_from "$old"
    [ "$(installs)" -eq 2 ]
    kill -0 "$(cat app.pid)"
    run kill -0 "$old"
    [ "$status" -ne 0 ]
}

@test "a burst of 20 saves is one reinstall" {
    start_devinit
    old=$(cat app.pid)
    for i in $(seq 1 20); do echo "{\"lockfileVersion\":3,\"v\":$i}" > package-lock.json; sleep 0.02; done
    wait_for app_pid_changed_from "$old"
    sleep 1
    [ "$(installs)" -eq 2 ]
}

@test "an unchanged save does not restart the app" {
    start_devinit
    old=$(cat app.pid)
    touch package-lock.json
    sleep 1.5
    [ "$(cat app.pid)" = "$old" ]
    [ "$(installs)" -eq 1 ]
}

@test "poll mode sees a change where file events are off" {
    export DEVINIT_WATCH_MODE=poll DEVINIT_WATCH_INTERVAL=200ms
    start_devinit
    old=$(cat app.pid)
    echo '{"lockfileVersion":3,"v":3}' > package-lock.json
    wait_for app_pid_changed_from "$old"
    [ "$(installs)" -eq 2 ]
}

@test "poll mode reports no change for lockfiles that are absent at start" {
    export DEVINIT_WATCH_MODE=poll DEVINIT_WATCH_INTERVAL=100ms
    start_devinit
    # Five looks at package.json, package-lock.json and the five lockfiles that do not exist.
    sleep 0.6
    run ! grep -F "changed" devinit.log
    [ "$(installs)" -eq 1 ]
    run "$DEVINIT" status --json
    [ "$status" -eq 0 ]
    echo "$output" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["watch"]["mode"] == "poll", s["watch"]
assert s["last_sync"] is None, s["last_sync"]'
}

@test "a save that comes while the app restarts is synced once the new app runs" {
    # The app takes 1.5 s to stop: the second save lands while devinit restarts it, after the
    # install the first save caused.
    APP=(sh -c 'echo $$ > app.pid; trap "sleep 1.5; exit 0" TERM; while :; do sleep 0.1; done')
    start_devinit
    old=$(cat app.pid)
    echo '{"lockfileVersion":3,"v":2}' > package-lock.json
    wait_for lines_at_least installs.log 2
    sleep 0.3
    echo '{"lockfileVersion":3,"v":3}' > package-lock.json
    wait_for app_pid_changed_from "$old"
    second=$(cat app.pid)
    # The new app ran on the first save's install; the second save is installed and the app
    # restarted on it, once.
    wait_for lines_at_least installs.log 3 || { cat devinit.log; false; }
    wait_for app_pid_changed_from "$second"
    sleep 1
    [ "$(installs)" -eq 3 ]
    grep -F "restarting" devinit.log
}

@test "a save made while the start-up installs is synced once the app runs" {
    # The first install takes a second; the lockfile is saved during it, after devinit read
    # it. Before the watch began such a save was lost until the next one.
    printf '#!/bin/sh\nmkdir -p node_modules\necho "install $(date +%%s%%N)" >> installs.log\n[ -e slow ] && rm slow && sleep 1\nexit 0\n' >install.sh
    touch slow
    "$DEVINIT" --only=deps -- "${APP[@]}" >devinit.log 2>&1 &
    DPID=$!
    wait_for lines_at_least installs.log 1
    echo '{"lockfileVersion":3,"v":2}' > package-lock.json
    wait_for test -s app.pid
    first=$(cat app.pid)
    wait_for lines_at_least installs.log 2 || { cat devinit.log; false; }
    wait_for app_pid_changed_from "$first"
    grep -F "'package-lock.json' changed: re-running deps" devinit.log
    sleep 1
    [ "$(installs)" -eq 2 ]
}

# install_ms N: the time (ms since the epoch) of the Nth install.
install_ms() { local ns; ns=$(sed -n "${1}p" installs.log | cut -d' ' -f2); echo $((ns / 1000000)); }

@test "a single save is acted on once writes go quiet, not after a fixed wait" {
    unset DEVINIT_WATCH_DEBOUNCE # the default
    start_devinit
    sleep 0.2
    t0=$(now_ms)
    echo '{"lockfileVersion":3,"v":10}' > package-lock.json
    wait_for lines_at_least installs.log 2 || { cat devinit.log; false; }
    echo "save to reinstall: $(( $(install_ms 2) - t0 )) ms"
    [ $(( $(install_ms 2) - t0 )) -lt 200 ]
}

@test "a tool that keeps saving is acted on within the cap, not when it stops" {
    unset DEVINIT_WATCH_DEBOUNCE
    start_devinit
    sleep 0.2
    t0=$(now_ms)
    # A save every 20 ms for 2.5 s: never 50 ms of quiet.
    exec {nap}<> <(:)
    for i in $(seq 1 100); do
        echo "{\"lockfileVersion\":3,\"v\":$((100 + i))}" > package-lock.json
        read -r -t 0.02 -u "$nap" || true
    done
    last=$(now_ms)
    wait_for lines_at_least installs.log 2
    echo "first reinstall $(( $(install_ms 2) - t0 )) ms after the first save, the last at $((last - t0)) ms"
    [ $(( $(install_ms 2) - t0 )) -lt 1600 ]
    [ "$(install_ms 2)" -lt "$last" ]
}

@test "a failed reinstall keeps the old app running and health fails" {
    start_devinit
    old=$(cat app.pid)
    printf '#!/bin/sh\necho "boom: registry down" >&2\nexit 3\n' > install.sh
    echo '{"lockfileVersion":3,"v":9}' > package-lock.json
    wait_for grep -q "keeps running on the previous client" devinit.log
    [ "$(cat app.pid)" = "$old" ]
    kill -0 "$old"
    run "$DEVINIT" health
    [ "$status" -eq 1 ]
    [[ "$output" == *"last sync failed"* ]]
}

@test "devinit sync asks the running instance and reports what happened" {
    start_devinit
    old=$(cat app.pid)
    echo '{"lockfileVersion":3,"v":4}' > package-lock.json.new
    DEVINIT_WATCH_MODE=off true
    run "$DEVINIT" sync
    [ "$status" -eq 0 ]
    [[ "$output" == *"nothing to do"* || "$output" == *"current"* ]]
    [ "$(cat app.pid)" = "$old" ]
}

@test "devinit sync reinstalls and restarts when the lockfile changed behind the watcher" {
    export DEVINIT_WATCH_MODE=off
    start_devinit
    old=$(cat app.pid)
    echo '{"lockfileVersion":3,"v":5}' > package-lock.json
    run "$DEVINIT" sync
    [ "$status" -eq 0 ]
    [[ "$output" == *"app restarted (pid"* ]]
    [ "$(installs)" -eq 2 ]
    app_pid_changed_from "$old"
}

@test "devinit sync without a running instance runs the steps itself" {
    run "$DEVINIT" --only=deps sync
    [ "$status" -eq 0 ]
    [[ "$output" == *"running the steps here"* ]]
    [ "$(installs)" -eq 1 ]
}

# A server on the control socket that accepts and never answers (a wedged instance); it adds
# a line to accepted for each connection.
wedged_server() {
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
open(sys.argv[2], "w").close()
held = []
while True:
    c, _ = s.accept(); held.append(c)
    with open(sys.argv[2], "a") as f: f.write("x\n")
' "$DEVINIT_CONTROL_SOCKET" accepted &
    SERVER=$!
    wait_for test -e accepted
}

# client MODE CMD: `devinit CMD` started by di_start (DI_PID, di_kill, di_wait), as a
# terminal's foreground command has it: a script's background job starts with SIGINT ignored,
# so python resets it and execs devinit. Returns once the server has its connection.
client() {
    local devinit=$DEVINIT n
    n=$(($(wc -l <accepted) + 1))
    DEVINIT=python3 di_start "$1" -c \
        'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
        "$devinit" "$2"
    wait_for lines_at_least accepted "$n"
}

@test "Ctrl-C or SIGTERM ends a sync or status that waits for an instance that does not answer" {
    wedged_server
    local mode cmd sig
    for mode in plain pid1; do
        for cmd in sync status; do
            for sig in INT TERM; do
                client "$mode" "$cmd"
                # A terminal resize is no reason to stop waiting.
                kill -s WINCH "$DI_PID"
                sleep 0.1
                kill -0 "$DI_PID"
                di_kill "$sig"
                di_wait 2 # sync would wait 30 minutes
                echo "$mode $cmd $sig: $DI_STATUS in $DI_MS ms: $(cat "$DI_ERR")"
                [ "$DI_STATUS" -eq $((128 + $(kill -l "$sig"))) ]
                [ "$DI_MS" -lt 1500 ]
            done
        done
    done
}

@test "a status run as a script's background job keeps its ignored SIGINT" {
    wedged_server
    di_start plain status
    wait_for lines_at_least accepted 1
    kill -s INT "$DI_PID"
    sleep 0.3
    kill -0 "$DI_PID"
    di_kill TERM
    di_wait 2
    [ "$DI_STATUS" -eq 143 ]
}

@test "a sync whose client was interrupted still finishes in the running instance" {
    export DEVINIT_WATCH_MODE=off
    start_devinit
    old=$(cat app.pid)
    echo '{"lockfileVersion":3,"v":6}' > package-lock.json
    # The reinstall takes a second: the client is interrupted while it waits.
    printf '#!/bin/sh\ntouch installing\nsleep 1\nmkdir -p node_modules\necho "install $(date +%%s%%N)" >> installs.log\n' > install.sh
    di_start plain sync
    wait_for test -e installing
    di_kill TERM
    di_wait 2
    [ "$DI_STATUS" -eq 143 ]
    wait_for app_pid_changed_from "$old"
    [ "$(installs)" -eq 2 ]
    run "$DEVINIT" health
    [ "$status" -eq 0 ]
}

@test "status --json reports the app, restarts, steps and watched files" {
    start_devinit
    run "$DEVINIT" status --json
    [ "$status" -eq 0 ]
    echo "$output" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["state"] == "running", s
assert s["app"]["running"] is True and s["app"]["pid"] > 1
assert s["app"]["restarts"] == 0
assert s["startup"]["steps"]["deps"]["status"] == "ok", s["startup"]
assert any(p.endswith("package-lock.json") for p in s["watch"]["paths"]), s["watch"]
assert s["healthy"] is True
'
}

@test "health is 0 while the app runs" {
    start_devinit
    run "$DEVINIT" health
    [ "$status" -eq 0 ]
    [[ "$output" == healthy* ]]
}

@test "the control socket is private and refuses another user" {
    id devinit-u >/dev/null 2>&1 || useradd -M -s /bin/sh devinit-u
    open_dir
    start_devinit
    [ "$(stat -c %a "$DEVINIT_CONTROL_SOCKET")" = 600 ]
    # The mode keeps others from connecting; the peer check stands behind it.
    run su devinit-u -s /bin/sh -c "DEVINIT_CONTROL_SOCKET='$DEVINIT_CONTROL_SOCKET' '$DEVINIT' status"
    [ "$status" -ne 0 ]
    chmod 666 "$DEVINIT_CONTROL_SOCKET"
    run su devinit-u -s /bin/sh -c "DEVINIT_CONTROL_SOCKET='$DEVINIT_CONTROL_SOCKET' '$DEVINIT' status"
    [ "$status" -eq 77 ]
    [[ "$output" == *"permission denied"* ]]
    grep -q "refused a connection from uid" devinit.log
}

@test "the app's user may use the control socket" {
    id devinit-u >/dev/null 2>&1 || useradd -M -s /bin/sh devinit-u
    open_dir
    chmod 1777 "$OPEN"
    DEVINIT_APP_USER=devinit-u start_devinit
    [ "$(stat -c %U "$DEVINIT_CONTROL_SOCKET")" = devinit-u ]
    run su devinit-u -s /bin/sh -c "DEVINIT_CONTROL_SOCKET='$DEVINIT_CONTROL_SOCKET' '$DEVINIT' health"
    [ "$status" -eq 0 ]
}

@test "garbage, huge lines and silent clients do not disturb the app" {
    start_devinit
    pid=$(cat app.pid)
    python3 - "$DEVINIT_CONTROL_SOCKET" <<'PY'
import socket, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(path); return s
s = conn(); s.sendall(b"\x00\xff garbage\n"); print(s.recv(4096))
s = conn()
try:
    s.sendall(b"x" * 100000)
except OSError:
    pass
s = conn(); s.sendall(b"status"); s.close()   # half a line, then gone
silent = [conn() for _ in range(20)]          # never send anything
time.sleep(0.2)
for c in silent: c.close()
PY
    run "$DEVINIT" health
    [ "$status" -eq 0 ]
    [ "$(cat app.pid)" = "$pid" ]
    kill -0 "$pid"
}

@test "a crash-looping app is restarted with a growing delay and SIGTERM still stops it at once" {
    export DEVINIT_APP_RESTART=on-failure DEVINIT_APP_RESTART_DELAY=100ms DEVINIT_APP_RESTART_MAX_DELAY=800ms
    "$DEVINIT" --skip=all -- sh -c 'date +%s%N >> starts.log; exit 3' >devinit.log 2>&1 &
    DPID=$!
    wait_for lines_at_least starts.log 5
    grep -q "restarting 'sh' in 100 ms" devinit.log
    grep -q "restarting 'sh' in 200 ms" devinit.log
    grep -q "restarting 'sh' in 400 ms" devinit.log
    t0=$(now_ms)
    kill -TERM "$DPID"
    status=0; wait "$DPID" || status=$?
    DPID=
    # 143, or 3 when the app was between its start and its own exit as the signal came.
    [ "$status" -eq 143 ] || [ "$status" -eq 3 ]
    [ $(( $(now_ms) - t0 )) -lt 500 ]
}

@test "restart = no passes the app's exit code on" {
    run "$DEVINIT" --skip=all -- sh -c 'exit 3'
    [ "$status" -eq 3 ]
}

@test "restart = always restarts a clean exit too" {
    export DEVINIT_APP_RESTART=always DEVINIT_APP_RESTART_DELAY=50ms
    "$DEVINIT" --skip=all -- sh -c 'echo x >> starts.log; exit 0' >devinit.log 2>&1 &
    DPID=$!
    wait_for lines_at_least starts.log 3
}

@test "SIGTERM during a live reinstall stops everything promptly" {
    start_devinit
    printf '#!/bin/sh\nmkdir -p node_modules\nexec sleep 31.7\n' > install.sh
    echo '{"lockfileVersion":3,"v":7}' > package-lock.json
    wait_for pgrep -f "sleep 31.7"
    t0=$(now_ms)
    kill -TERM "$DPID"
    status=0; wait "$DPID" || status=$?
    DPID=
    [ "$status" -eq 143 ]
    [ $(( $(now_ms) - t0 )) -lt 1000 ]
    run pgrep -f "sleep 31.7"
    [ "$status" -ne 0 ]
}

@test "a lockfile that becomes a link to /dev/zero, then a FIFO with a writer, leaves devinit answering and forwarding signals" {
    start_devinit
    old=$(cat app.pid)
    ln -sf /dev/zero package-lock.json
    wait_for grep -q "package-lock.json.*not a regular file" devinit.log
    local t0
    t0=$(now_ms)
    run timeout -k 1 5 "$DEVINIT" status
    echo "$output"
    [ "$status" -eq 0 ]
    [ $(($(now_ms) - t0)) -lt 2000 ]
    rm package-lock.json
    mkfifo package-lock.json
    # A writer that holds the FIFO open with data waiting: a blocking read would never end.
    exec 5<>package-lock.json
    printf '{"lockfileVersion":3}' >&5
    sleep 1 # past the debounce: the resync has met the FIFO
    t0=$(now_ms)
    run timeout -k 1 5 "$DEVINIT" status
    echo "$output"
    [ "$status" -eq 0 ]
    [ $(($(now_ms) - t0)) -lt 2000 ]
    [ "$(cat app.pid)" = "$old" ]
    cat devinit.log
    # SIGTERM still reaches the app (sleep dies of it) and devinit exits with its code.
    t0=$(now_ms)
    kill -TERM "$DPID"
    local st=0
    wait "$DPID" || st=$?
    DPID=
    exec 5>&-
    echo "exit $st after $(($(now_ms) - t0)) ms"
    [ "$st" -eq 143 ]
    [ $(($(now_ms) - t0)) -lt 2000 ]
}
