#!/usr/bin/env bats
# SIGTERM during the wait step ends devinit with 143 in well under a second, whatever the wait
# is stuck on: a closed port, a server that accepts and never answers, a DNS lookup that
# never returns. Nothing in the wait may block the loop that handles the signal.
load ../lib/common

setup() {
    cd "$BATS_TEST_TMPDIR"
    DEVPID=
    PEERPID=
}

teardown() {
    [ -z "$DEVPID" ] || kill -KILL "$DEVPID" 2>/dev/null || true
    if [ -n "$PEERPID" ]; then
        kill -KILL "$PEERPID" 2>/dev/null || true
        wait "$PEERPID" 2>/dev/null || true
    fi
}

# Sends SIGTERM to devinit and checks it leaves with 143 within 1 s, without running the app.
term_and_measure() {
    kill -0 "$DEVPID"
    [ ! -e app.started ]
    local t0 t1 status=0
    t0=$(now_ms)
    kill -TERM "$DEVPID"
    wait "$DEVPID" || status=$?
    t1=$(now_ms)
    DEVPID=
    cat devinit.log
    echo "status $status after $((t1 - t0)) ms"
    [ "$status" -eq 143 ]
    [ $((t1 - t0)) -lt 1000 ]
    [ ! -e app.started ]
}

start_devinit() {
    DATABASE_URL=$1 "$DEVINIT" --only=wait -- sh -c 'touch app.started' >devinit.log 2>&1 &
    DEVPID=$!
}

@test "SIGTERM while waiting on a closed port exits 143 at once" {
    port=$(pg_free_port)
    start_devinit "postgresql://app:pw@127.0.0.1:$port/app"
    wait_for grep -q "connection refused" devinit.log
    term_and_measure
}

@test "SIGTERM while a server accepts and never answers exits 143 at once" {
    port=$(pg_free_port)
    python3 - "$port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    held.append(c)  # never answers, never closes
PY
    PEERPID=$!
    wait_for python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port)).close()"
    start_devinit "postgresql://app:pw@127.0.0.1:$port/app"
    # The first attempt is now stuck in the handshake (libpq waits for the server's answer).
    sleep 1
    term_and_measure
}

@test "SIGTERM while a DNS lookup hangs exits 143 at once" {
    command -v unshare >/dev/null || skip "unshare is not installed"
    # A resolver on a loopback address that reads queries and never answers, put in place of
    # /etc/resolv.conf in a private mount namespace.
    ns=127.0.0.$((RANDOM % 200 + 20))
    printf 'nameserver %s\noptions timeout:30 attempts:3\n' "$ns" >resolv.conf
    python3 "$DEVINIT_SOURCE_DIR/tests/lib/fake_dns.py" "$ns" silent >dns.log &
    PEERPID=$!
    wait_for grep -q listening dns.log
    cat >run.sh <<EOF
mount --bind "$BATS_TEST_TMPDIR/resolv.conf" /etc/resolv.conf || exit 99
cd "$BATS_TEST_TMPDIR"
DATABASE_URL="postgresql://app:pw@db.devinit-test.example:5432/app" "$DEVINIT" --only=wait -- sh -c 'touch app.started' >devinit.log 2>&1 &
pid=\$!
for i in \$(seq 1 100); do grep -q query dns.log && break; sleep 0.05; done
grep -q query dns.log || { echo "no DNS query seen"; exit 98; }
sleep 0.5
t0=\$(date +%s%3N)
kill -TERM \$pid
wait \$pid
echo "status \$? after \$(( \$(date +%s%3N) - t0 )) ms"
EOF
    run unshare --mount sh run.sh
    echo "$output"
    cat devinit.log
    [[ "$output" == *"status 143 after "* ]]
    ms=${output##*status 143 after }
    ms=${ms%% ms*}
    [ "$ms" -lt 1000 ]
    [ ! -e app.started ]
}
