#!/usr/bin/env bats
# A restart (live sync, or the app crashing under [app] restart) stops the app's own
# processes and nothing else: devinit is PID 1 of a PID namespace, and a shell joined with
# `nsenter --target PID --pid --mount` stands in for `docker exec` (its parent is outside the
# namespace, as runc's is). That shell, the orphan it leaves to PID 1, and the `devinit sync`
# that asked for the restart live on; the app's worker in a session of its own, which
# outlives the app's leader, is stopped with it.
load ../lib/common
load ../lib/supervisor

setup() {
    cd "$BATS_TEST_TMPDIR"
    echo '{"name":"t","version":"1.0.0"}' >package.json
    echo '{"lockfileVersion":3,"v":1}' >package-lock.json
    printf '#!/bin/sh\nmkdir -p node_modules\necho x >> installs.log\n' >install.sh
    chmod +x install.sh
    export DEVINIT_DEPS_COMMAND="$PWD/install.sh"
    export DEVINIT_CONTROL_SOCKET="$PWD/ctl.sock"
    export DEVINIT_WATCH_MODE=off
    # The app: its pid, a worker that leaves its session (pid in worker.pid, namespace pids),
    # then the leader sleeps; with CRASH set it exits 3 once the worker has run a while.
    cat >app.sh <<'SH'
#!/bin/sh
echo $$ >app.pid
setsid sh -c 'echo $$ >worker.pid; exec sleep 1000' &
until [ -s worker.pid ]; do sleep 0.01; done
if [ -n "$CRASH" ]; then sleep 1.5; exit 3; fi
exec sleep 1000
SH
    chmod +x app.sh
}

teardown() {
    [ -z "${EXEC:-}" ] || kill -KILL "$EXEC" 2>/dev/null || true
    di_cleanup
}

# in_ns CMD...: runs CMD inside devinit's namespace, as docker exec would.
in_ns() { nsenter --target "$DI_PID" --pid --mount --wd="$BATS_TEST_TMPDIR" "$@"; }

# alive PID: the namespace's process PID runs (a zombie does not count).
alive() { in_ns sh -c '[ -e /proc/$0 ] && [ "$(cut -d" " -f3 /proc/$0/stat)" != Z ]' "$1"; }
gone() { ! alive "$1"; }

# An exec session: a shell that stays (EXEC, a host pid: nsenter lives as long as it does)
# and an orphan that another exec'd shell left to PID 1 (orphan.pid, a namespace pid).
exec_sessions() {
    in_ns sh -c 'echo $$ >exec.pid; exec sleep 1000' 3>&- &
    EXEC=$!
    in_ns sh -c 'sleep 1000 & echo $! >orphan.pid' 3>&-
    wait_for test -s exec.pid
    wait_for test -s orphan.pid
    # The orphan is PID 1's child now.
    wait_for in_ns sh -c '[ "$(cut -d" " -f4 /proc/$0/stat)" = 1 ]' "$(cat orphan.pid)"
}

start_app() {
    di_start pid1 --only=deps -- ./app.sh
    wait_for test -s worker.pid
    sleep 0.3 # the app has been looked at since its worker started
}

@test "a live-sync restart spares a docker exec session, its orphan and the sync client, and stops the app's worker" {
    start_app
    local app worker
    app=$(cat app.pid) worker=$(cat worker.pid)
    exec_sessions
    rm -f worker.pid
    echo '{"lockfileVersion":3,"v":2}' >package-lock.json
    run in_ns "$DEVINIT" sync
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"app restarted"* ]]
    wait_for test -s worker.pid # the new app's
    gone "$app"
    gone "$worker"
    kill -0 "$EXEC"
    alive "$(cat exec.pid)"
    alive "$(cat orphan.pid)"
    ! grep -q "still running after the stop timeout" "$DI_ERR"
}

@test "a crash restart spares a docker exec session and its orphan, and stops the app's worker" {
    export CRASH=1 DEVINIT_APP_RESTART=on-failure DEVINIT_APP_RESTART_DELAY=100ms
    di_start pid1 --only=deps -- ./app.sh
    wait_for test -s worker.pid
    local app worker
    app=$(cat app.pid) worker=$(cat worker.pid)
    exec_sessions
    rm -f worker.pid
    wait_for grep -q "exited with code 3" "$DI_ERR"
    wait_for test -s worker.pid # the new app's
    [ "$(cat app.pid)" != "$app" ]
    gone "$worker"
    kill -0 "$EXEC"
    alive "$(cat exec.pid)"
    alive "$(cat orphan.pid)"
}

@test "a container stop still stops everything, exec sessions included" {
    start_app
    exec_sessions
    di_kill TERM
    di_wait 10
    [ "$DI_STATUS" -eq 143 ]
    # The namespace is gone, and with it nsenter's child.
    wait_for sh -c '! kill -0 "$0" 2>/dev/null' "$EXEC"
}
