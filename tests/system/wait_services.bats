#!/usr/bin/env bats
# [wait] services: extra TCP dependencies, waited for in parallel with the database.
load ../lib/common

setup() {
    cd "$BATS_TEST_TMPDIR"
    unset DATABASE_URL
    PEERPIDS=()
}

teardown() {
    local p
    for p in "${PEERPIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}

# listen_after PORT SECONDS: a TCP listener on 127.0.0.1:PORT that opens after SECONDS.
listen_after() {
    python3 - "$1" "$2" <<'PY' &
import socket, sys, time
time.sleep(float(sys.argv[2]))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    s.accept()[0].close()
PY
    PEERPIDS+=($!)
}

@test "services that open late are all waited for, in parallel" {
    a=$(pg_free_port)
    b=$(pg_free_port)
    listen_after "$a" 1
    listen_after "$b" 1.5
    t0=$(now_ms)
    run env DEVINIT_WAIT_SERVICES="127.0.0.1:$a, localhost:$b" "$DEVINIT" --only=wait -- sh -c 'echo APP-RAN'
    t1=$(now_ms)
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"service '127.0.0.1:$a' open; service 'localhost:$b' open"* ]]
    [[ "$output" == *APP-RAN* ]]
    # In parallel: the later one bounds the time, not the sum.
    [ $((t1 - t0)) -ge 1500 ]
    [ $((t1 - t0)) -lt 2500 ]
}

@test "a service that never opens ends the wait at the deadline with 69 naming it" {
    a=$(pg_free_port)
    run env DEVINIT_WAIT_SERVICES="127.0.0.1:$a" DEVINIT_WAIT_TIMEOUT=1s "$DEVINIT" --only=wait -- true
    echo "$output"
    [ "$status" -eq 69 ]
    [[ "$output" == *"service '127.0.0.1:$a' not reachable within 1.0 s: connection refused"* ]]
}

@test "the database and a service are waited for together" {
    a=$(pg_free_port)
    db=$(pg_free_port)
    listen_after "$a" 0
    run env DEVINIT_WAIT_SERVICES="127.0.0.1:$a" DEVINIT_WAIT_TIMEOUT=1s \
        DATABASE_URL="postgresql://app:pw@127.0.0.1:$db/app" "$DEVINIT" --only=wait -- true
    echo "$output"
    [ "$status" -eq 69 ]
    [[ "$output" == *"database at 127.0.0.1:$db/app not reachable"* ]]
}

@test "a service name that does not resolve yet is retried until it does" {
    command -v unshare >/dev/null || skip "unshare is not installed"
    # Private /etc/hosts and /etc/resolv.conf (a loopback resolver that answers NXDOMAIN), so
    # no query leaves the machine; the name appears in /etc/hosts a second later, as compose
    # creates names late.
    a=$(pg_free_port)
    listen_after "$a" 0
    ns=127.0.0.$((RANDOM % 200 + 20))
    printf 'nameserver %s\n' "$ns" >resolv.conf
    printf '127.0.0.1 localhost\n' >hosts
    python3 "$DEVINIT_SOURCE_DIR/tests/lib/fake_dns.py" "$ns" nxdomain >dns.log &
    PEERPIDS+=($!)
    wait_for grep -q listening dns.log
    cat >run.sh <<EOF
mount --bind "$BATS_TEST_TMPDIR/resolv.conf" /etc/resolv.conf || exit 99
mount --bind "$BATS_TEST_TMPDIR/hosts" /etc/hosts || exit 99
# The name appears once a lookup has failed (and half a second later), whatever the pace.
(for i in \$(seq 400); do grep -q nxdomain "$BATS_TEST_TMPDIR/dns.log" && break; sleep 0.05; done
 sleep 0.5; echo "127.0.0.1 cache.devinit-test" >>"$BATS_TEST_TMPDIR/hosts") &
DEVINIT_WAIT_SERVICES="cache.devinit-test:$a" DEVINIT_WAIT_TIMEOUT=10s "$DEVINIT" --only=wait -- echo APP-RAN
EOF
    run unshare --mount sh run.sh
    echo "$output"
    [ "$status" -eq 0 ]
    grep -q nxdomain dns.log
    [[ "$output" == *"could not resolve 'cache.devinit-test'"* ]]
    [[ "$output" == *"service 'cache.devinit-test:$a' open"* ]]
    [[ "$output" == *APP-RAN* ]]
}

@test "check reports a closed service as 69 after one attempt" {
    a=$(pg_free_port)
    t0=$(now_ms)
    run env DEVINIT_WAIT_SERVICES="127.0.0.1:$a" "$DEVINIT" check --only=wait --json
    t1=$(now_ms)
    echo "$output"
    [ "$status" -eq 69 ]
    [[ "$output" == *'"status":"error"'*"connection refused"* ]]
    [ $((t1 - t0)) -lt 1000 ]
}

@test "a malformed services entry is a configuration error" {
    run env DEVINIT_WAIT_SERVICES="redis:6379, redis" "$DEVINIT" --only=wait -- true
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"services entry 'redis' is not host:port"* ]]
    run env DEVINIT_WAIT_SERVICES="redis:99999" "$DEVINIT" --only=wait -- true
    [ "$status" -eq 78 ]
}
