#!/usr/bin/env bats
# docker/: the compose file is valid, the Makefile's targets call what the README says, and
# every devinit command line in them is one devinit accepts.
load ../lib/common

DOCKER_DIR="$DEVINIT_SOURCE_DIR/docker"

@test "docker-compose.dev.yml is valid for docker-compose config" {
    command -v docker-compose >/dev/null || skip "docker-compose is not installed"
    run docker-compose -f "$DOCKER_DIR/docker-compose.dev.yml" config
    [ "$status" -eq 0 ]
    [[ "$output" == *"devinit"* ]]                   # the healthcheck
    [[ "$output" == *"node_modules:/app/node_modules"* ]]
    [[ "$output" == *"pg_isready"* ]]
}

@test "the compose file's comment about the watch mode says what its setting does" {
    # The comment right above DEVINIT_WATCH_MODE, and the value.
    run awk '/^ *#/ { c = c $0 "\n"; next } /DEVINIT_WATCH_MODE:/ { print c "=" $2; exit } { c = "" }' \
        "$DOCKER_DIR/docker-compose.dev.yml"
    [ "$status" -eq 0 ]
    value=${output##*=}
    comment=${output%=*}
    echo "value: $value; comment: $comment"
    [[ "$value" =~ ^(auto|events|poll|off)$ ]]
    # The comment names the value it explains, and does not tell the reader the file polls
    # while it does not.
    [[ "$comment" == *"$value"* ]]
    if [ "$value" != poll ]; then
        ! grep -Eqi 'poll instead' <<<"$comment"
    fi
}

@test "the Makefile keeps the seed's command names as thin devinit calls" {
    expect() {
        run make -s -n -C "$DOCKER_DIR" "$1"
        [ "$status" -eq 0 ]
        [[ "$output" == *"$2"* ]] || { echo "$1: $output"; return 1; }
    }
    expect docker-up "up -d"
    expect docker-restart "restart app"
    expect docker-rebuild "build --no-cache app"
    expect prisma-sync "exec app devinit sync"
    expect prisma-generate "devinit --only=generate sync"
    expect db-check "devinit check --only=wait,migrate"
    expect db-migrate "devinit --only=wait,migrate -- true"
    expect status "exec app devinit status"
    expect logs "logs -f app"
    expect clean "down -v"
}

@test "db-reset asks before dropping and drops nothing without a yes" {
    run sh -c "echo no | make -s -C '$DOCKER_DIR' db-reset COMPOSE=false"
    [ "$status" -ne 0 ]
    [[ "$output" == *"Type yes"* ]]
    [[ "$output" == *"not dropped"* ]]
}

@test "every devinit command line of the Makefile and the Dockerfile is accepted" {
    cd "$BATS_TEST_TMPDIR"
    export DEVINIT_CONTROL_SOCKET="$BATS_TEST_TMPDIR/none.sock"
    # Parsing errors exit 64; anything else means the command line itself was understood.
    for args in "sync" "--only=generate sync" "check --only=wait,migrate" "status" "health" \
                "--only=wait,migrate -- true"; do
        run "$DEVINIT" $args
        [ "$status" -ne 64 ] || { echo "devinit $args: $output"; return 1; }
    done
    grep -q 'ENTRYPOINT \["devinit", "--"\]' "$DOCKER_DIR/Dockerfile.dev"
    grep -q 'CMD \["npm", "run", "dev"\]' "$DOCKER_DIR/Dockerfile.dev"
    grep -q 'ENV DEVINIT_APP_USER=node' "$DOCKER_DIR/Dockerfile.dev"
    grep -q 'cmake --preset "$preset"' "$DOCKER_DIR/Dockerfile.dev"
}
