#!/usr/bin/env bats
# docker/Dockerfile.dev built for real by podman, unchanged, against stand-ins for
# debian:bookworm and node:22-bookworm-slim made on this machine (tests/lib/baseimages.bash:
# no registry is reachable); then the image runs the example app as `node`, with the source
# bind-mounted and PostgreSQL on the host's loopback as docker/docker-compose.dev.yml has it,
# and stops on podman stop.

bats_require_minimum_version 1.5.0
ROOT_DIR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
export DEVINIT=${DEVINIT:-$ROOT_DIR/build/static/devinit} DEVINIT_SOURCE_DIR=$ROOT_DIR
load ../lib/common
load ../lib/container
source "$ROOT_DIR/tests/lib/rootfs.bash"
source "$ROOT_DIR/tests/lib/baseimages.bash"

setup_file() {
    export IMAGE=localhost/devinit-dockerfile-test:$$ NAME=devinit-dockerfile-$$
    export WORK=$(mktemp -d "${TMPDIR:-/tmp}/devinit-image.XXXXXX")
    chmod 755 "$WORK"
    baseimages_make "$WORK" >"$WORK/base.log" 2>&1 || { cat "$WORK/base.log" >&3; return 1; }
    # The layers stay in podman's cache: a second run rebuilds only what changed.
    local t0=$SECONDS
    podman build --pull=never --format docker --label devinit-test=1 -f docker/Dockerfile.dev \
        --build-arg REVISION="$(git -C "$ROOT_DIR" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
        -t "$IMAGE" "$ROOT_DIR" >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log" >&3; return 1; }
    echo "# podman build: $((SECONDS - t0)) s" >&3
    export IMAGE_BUILT=1
    podman build --pull=never --format docker --label devinit-test=1 -f docker/Dockerfile.dev \
        --target build -t "$IMAGE-build" "$ROOT_DIR" >"$WORK/build-stage.log" 2>&1 ||
        { tail -n 20 "$WORK/build-stage.log" >&3; return 1; }

    export APP=$WORK/app PGDIR=$WORK/pg PGPORT_T=$(pg_free_port) APPPORT=$(pg_free_port)
    example_app "$APP"
    pg_init "$PGDIR"
    pg_start "$PGDIR" "$PGPORT_T"
    pg_psql "$PGDIR" "$PGPORT_T" -c "CREATE DATABASE app"
}

teardown_file() {
    podman rm -f "$NAME" >/dev/null 2>&1 || true
    [ -z "${IMAGE_BUILT:-}" ] || podman rmi -f "$IMAGE" "$IMAGE-build" >/dev/null 2>&1 || true
    [ -z "${PGDIR:-}" ] || pg_stop "$PGDIR" immediate
    [ -z "${WORK:-}" ] || rm -rf "$WORK"
}

setup() {
    [ -n "${IMAGE_BUILT:-}" ]
}

serving() {
    python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$APPPORT/health', timeout=1).status == 200 else 1)" 2>/dev/null
}

@test "docker/Dockerfile.dev builds unchanged and its devinit is the static binary of this revision" {
    run --separate-stderr podman run --rm --no-healthcheck --entrypoint devinit "$IMAGE" --version
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "devinit "*"(revision $(git -C "$ROOT_DIR" rev-parse --short=12 HEAD))" ]]
    [[ "$output" == *"static build on glibc"* ]]
    run podman image inspect --format '{{.Config.Entrypoint}} {{.Config.Cmd}} {{.Config.User}}' "$IMAGE"
    [ "$output" = "[devinit --] [npm run dev] " ]
}

@test "the build stage holds only what the static link needs: no clang, LLVM or PostgreSQL server headers" {
    run podman run --rm --no-healthcheck "$IMAGE-build" sh -c \
        "dpkg-query -W -f='\${Package} \${Installed-Size}\n' | awk '{print \$1; s += \$2} END {print \"total\", s}'"
    [ "$status" -eq 0 ]
    echo "installed: $(echo "$output" | tail -n1) KiB" >&3
    ! grep -Eq '^(clang|llvm|postgresql-server-dev)' <<<"$output"
    grep -qx libpq-dev <<<"$output"
    run podman run --rm --no-healthcheck "$IMAGE-build" ls /src/tests
    [ "$status" -ne 0 ]
}

@test "the image runs the example app as node against PostgreSQL on the host, serving" {
    local ca=()
    # A TLS proxy on the way to the npm registry: its CA as node on this machine has it.
    if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
        ca=(-v "$NODE_EXTRA_CA_CERTS:/etc/devinit-test-ca.crt:ro" -e NODE_EXTRA_CA_CERTS=/etc/devinit-test-ca.crt)
    fi
    # node_modules in a volume of its own, root-owned and empty, as the compose file has it:
    # devinit hands it to node.
    mkdir -p "$WORK/node_modules"
    podman run -d --name "$NAME" --label devinit-test=1 --network host --no-healthcheck \
        -v "$APP:/app" -v "$WORK/node_modules:/app/node_modules" "${ca[@]}" \
        -e PORT="$APPPORT" -e HOST=127.0.0.1 -e PRISMA_SCHEMA_ENGINE_BINARY=/bin/true \
        -e DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT_T/app?schema=public" \
        -e DEVINIT_MIGRATE_MODE=deploy -e npm_config_audit=false -e npm_config_fund=false -e npm_config_update_notifier=false \
        "$IMAGE" >/dev/null
    for _ in $(seq 1 1800); do serving && break; running || break; sleep 0.1; done
    run podman logs "$NAME"
    echo "$output"
    serving
    [[ "$output" == *"'node_modules' belongs to root: handing it to user 'node'"* ]]
    [[ "$output" == *"installed with 'npm ci'"* ]]
    [[ "$output" == *"generated the prisma client"* ]]
    [[ "$output" == *"applied 3 migrations"* ]]
    # The app (node) runs as uid 1000; devinit, PID 1, as root.
    run podman exec "$NAME" sh -c 'for s in /proc/[0-9]*/status; do
        awk "/^Name:/ {n=\$2} /^Uid:/ {print n, \$2}" "$s"; done'
    echo "$output"
    [[ "$output" == *"node 1000"* ]]
    [[ "$output" != *"node 0"* ]]
    [[ "$output" == *"devinit 0"* ]]
    run python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$APPPORT/users', timeout=2).read().decode())"
    [ "$status" -eq 0 ]
    [[ "$output" == "["* ]]
}

@test "podman stop reaches the app through devinit and the container exits promptly" {
    running
    t0=$(now_ms)
    podman stop -t 10 "$NAME" >/dev/null
    took=$(( $(now_ms) - t0 ))
    code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
    echo "stop took $took ms, exit code $code"
    [ "$took" -lt 5000 ]
    [ "$code" -eq 0 ] || [ "$code" -eq 143 ]
    run podman logs "$NAME"
    [[ "$output" == *"SIGTERM"* ]]
}

@test "with TARGETARCH=arm64 the build stage cross-builds a static aarch64 devinit" {
    # BuildKit sets TARGETARCH from --platform; podman 4.3 finds no amd64 builder image for
    # FROM --platform=$BUILDPLATFORM under --platform linux/arm64, so the argument is given.
    podman build --pull=never --format docker --label devinit-test=1 -f docker/Dockerfile.dev \
        --build-arg TARGETARCH=arm64 --target build -t "$IMAGE-arm64" "$ROOT_DIR" \
        >"$WORK/build-arm64.log" 2>&1 || { tail -n 30 "$WORK/build-arm64.log"; false; }
    local id
    id=$(podman create "$IMAGE-arm64")
    podman cp "$id:/devinit" "$BATS_TEST_TMPDIR/devinit-arm64"
    podman rm "$id" >/dev/null
    podman rmi -f "$IMAGE-arm64" >/dev/null
    run file "$BATS_TEST_TMPDIR/devinit-arm64"
    echo "$output"
    [[ "$output" == *"ARM aarch64"*"statically linked"* ]]
    run qemu-aarch64-static "$BATS_TEST_TMPDIR/devinit-arm64" --skip=all -- true
    [ "$status" -eq 0 ]
}
