#!/usr/bin/env bats
# The example app in a real container under podman, devinit as PID 1: node and the app, the
# source and node_modules bind-mounted, PostgreSQL on the host's loopback. The first start
# hands the root-owned node_modules to `node`, generates the client as `node`, waits for the
# database, deploys the migrations natively and serves; a restart skips what is current;
# podman stop reaches node through devinit.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/container

setup_file() {
    export IMAGE=localhost/devinit-node-test:$$ NAME=devinit-node-$$
    containers_possible || return 0

    export WORK=$(mktemp -d /tmp/devinit-node.XXXXXX)
    chmod 755 "$WORK"
    export APP=$WORK/app PGDIR=$WORK/pg
    example_app "$APP"
    (cd "$APP" && "$DEVINIT" --only=deps -- true) >"$WORK/install.log" 2>&1 ||
        { cat "$WORK/install.log" >&3; return 1; }
    rm -rf "$APP/node_modules/.prisma"

    export PGPORT_T=$(pg_free_port) APPPORT=$(pg_free_port)
    pg_init "$PGDIR"
    pg_start "$PGDIR" "$PGPORT_T"
    pg_psql "$PGDIR" "$PGPORT_T" -c "CREATE DATABASE app"

    local root=$WORK/context/rootfs lib applet
    mkdir -p "$root/bin" "$root/usr/bin" "$root/usr/local/bin" "$root/etc" "$root/app" \
        "$root/home/node" "$root/run" "$root/tmp"
    cp "$(static_bin)" "$root/usr/local/bin/devinit"
    # The same path, size and mtime as on the host: the deps stamp identifies node by them.
    cp -p /usr/bin/node "$root/usr/bin/node"
    for lib in $(ldd /usr/bin/node | grep -oE '/[^ ]+'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
    cp /bin/busybox "$root/bin/busybox"
    for applet in sh true id cat ls; do ln -s busybox "$root/bin/$applet"; done
    ln -s /bin/busybox "$root/usr/bin/env"   # npm scripts and prisma start with #!/usr/bin/env node
    printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' > "$root/etc/passwd"
    printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
    chown 1000:1000 "$root/home/node"
    chmod 1777 "$root/tmp"
    build_image Containerfile.node "$WORK/context" "$IMAGE"
    export IMAGE_BUILT=1
}

teardown_file() {
    if command -v podman >/dev/null; then
        podman rm -f "$NAME" >/dev/null 2>&1 || true
        [ -z "${IMAGE_BUILT:-}" ] || podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
    fi
    [ -z "${PGDIR:-}" ] || pg_stop "$PGDIR" immediate
    [ -z "${WORK:-}" ] || rm -rf "$WORK"
}

setup() {
    require_containers
    [ -n "${IMAGE_BUILT:-}" ]
}

serving() {
    python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$APPPORT/health', timeout=1).status == 200 else 1)" 2>/dev/null
}

@test "first start: node_modules handed to node, client generated, migrations deployed, app serving" {
    chown -R root:root "$APP"
    podman run -d --name "$NAME" --label devinit-test=1 --network host \
        -v "$APP:/app" -e PORT="$APPPORT" -e PRISMA_SCHEMA_ENGINE_BINARY=/bin/true \
        -e DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT_T/app?schema=public" \
        -e DEVINIT_MIGRATE_MODE=deploy "$IMAGE" >/dev/null
    for i in $(seq 1 600); do serving && break; sleep 0.1; done
    run podman logs "$NAME"
    echo "$output"
    serving
    [[ "$output" == *"'node_modules' belongs to root: handing it to user 'node'"* ]]
    [[ "$output" == *"devinit: generate: info:"* ]]
    [[ "$output" == *"ready: PostgreSQL"* ]]
    [[ "$output" == *"20250124153000_add_tags"* ]]
    [ "$(stat -c %U "$APP/node_modules/.prisma/client/index.js")" = "$(id -un 1000 2>/dev/null || echo 1000)" ] ||
        [ "$(stat -c %u "$APP/node_modules/.prisma/client/index.js")" = 1000 ]
    run python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$APPPORT/users', timeout=2).read().decode())"
    [ "$status" -eq 0 ]
    [[ "$output" == "["* ]]
}

@test "podman stop reaches node through devinit and the container exits cleanly" {
    serving
    t0=$(now_ms)
    podman stop -t 10 "$NAME" >/dev/null
    took=$(( $(now_ms) - t0 ))
    code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
    echo "stop took $took ms, exit code $code"
    [ "$took" -lt 3000 ]
    [ "$code" -eq 0 ] || [ "$code" -eq 143 ]
}

@test "a restart skips install and generate: both are current" {
    podman start "$NAME" >/dev/null
    for i in $(seq 1 300); do serving && break; sleep 0.1; done
    serving
    logs=$(podman logs "$NAME" 2>&1)
    echo "$logs"
    # The first start generated (once); the second start neither installed nor generated.
    [ "$(grep -c "generated the prisma client" <<<"$logs")" -eq 1 ]
    [ "$(grep -c "installed with" <<<"$logs")" -eq 0 ]
    [ "$(grep -c "listening on" <<<"$logs")" -eq 2 ]
    podman stop -t 10 "$NAME" >/dev/null
}
