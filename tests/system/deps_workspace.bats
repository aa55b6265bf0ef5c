#!/usr/bin/env bats
# Monorepos: the lockfile at the workspace root, the Prisma schema and config in packages/db,
# the app in apps/api. The user sets [app] dir = apps/api and [prisma] config (or schema) to
# the one in packages/db; devinit installs with the workspace's frozen install from the root,
# stamps and watches the root lockfile, generates where Prisma does (prisma runs in
# packages/db) and starts the app in apps/api. Real npm, pnpm and yarn 1 with Prisma 7.
load ../lib/common
load ../lib/workspace

setup_file() {
    export npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false
    export PRISMA_SCHEMA_ENGINE_BINARY=/bin/true PRISMA_GENERATE_SKIP_AUTOINSTALL=1
    for m in npm pnpm yarn; do workspace "$BATS_FILE_TMPDIR/$m" "$m"; done
}

# The recipe: the app's folder, and the Prisma config of the package that holds the schema.
recipe() {
    export DEVINIT_APP_DIR=apps/api DEVINIT_PRISMA_CONFIG=../../packages/db/prisma.config.ts
}

# first_start MANAGER INSTALL-COMMAND
first_start() {
    cd "$BATS_FILE_TMPDIR/$1"
    recipe
    run "$DEVINIT" --only=deps,generate -- sh -c 'echo "APP-IN $PWD"'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"installed with '$2'"*"generated the prisma client"* ]]
    [[ "$output" == *"APP-IN $BATS_FILE_TMPDIR/$1/apps/api"* ]]
    [[ "$output" != *"no lockfile"* ]]
    [ -f node_modules/.devinit-deps.stamp ]
    [ ! -e apps/api/package-lock.json ] && [ ! -e apps/api/pnpm-lock.yaml ] && [ ! -e apps/api/yarn.lock ]
}

# second_start MANAGER: check says ready, and a start installs and generates nothing.
second_start() {
    cd "$BATS_FILE_TMPDIR/$1"
    recipe
    run "$DEVINIT" check --only=deps,generate
    echo "$output"
    [ "$status" -eq 0 ]
    run "$DEVINIT" -v --only=deps,generate -- sh -c 'echo APP-RAN'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" != *"deps| "* ]]
    [[ "$output" != *"generate| "* ]]
    [[ "$output" == *APP-RAN* ]]
}

@test "npm workspace: npm ci from the root, generate in packages/db, the app in apps/api" {
    first_start npm "npm ci"
    [ -f node_modules/.prisma/client/index.js ] # hoisted to the root
}

@test "npm workspace: a second start installs and generates nothing" {
    second_start npm
    root=$("$DEVINIT" check --only=deps --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["steps"]["deps"]["root"])')
    [ "$root" = "$BATS_FILE_TMPDIR/npm" ]
}

@test "pnpm workspace: a frozen pnpm install from the root, the client next to the real @prisma/client" {
    first_start pnpm "pnpm install --frozen-lockfile"
    ls node_modules/.pnpm/@prisma+client@7.10.0*/node_modules/.prisma/client/index.js
}

@test "pnpm workspace: a second start installs and generates nothing" {
    second_start pnpm
}

@test "yarn 1 workspace: a frozen yarn install from the root" {
    first_start yarn "yarn install --frozen-lockfile"
    [ -f node_modules/.prisma/client/index.js ]
}

@test "yarn 1 workspace: a second start installs and generates nothing" {
    second_start yarn
}

@test "yarn 1 workspace: an install by hand is adopted, unless a package.json declares more" {
    cd "$BATS_FILE_TMPDIR/yarn"
    recipe
    yarn install --frozen-lockfile --silent >/dev/null 2>&1
    rm node_modules/.devinit-deps.stamp
    run "$DEVINIT" --only=deps -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"adopted the install made by yarn"* ]]
    [[ "$output" != *"deps| "* ]]
    rm node_modules/.devinit-deps.stamp
    cp apps/api/package.json "$BATS_TEST_TMPDIR/"
    sed -i 's/"db": "1.0.0"/"db": "1.0.0", "left-pad": "1.3.0"/' apps/api/package.json
    run "$DEVINIT" check --only=deps
    cp "$BATS_TEST_TMPDIR/package.json" apps/api/
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"no devinit stamp"*"installing with 'yarn install --frozen-lockfile'"* ]]
}

@test "a member's package.json edit is an install from the root" {
    cd "$BATS_FILE_TMPDIR/npm"
    recipe
    cp apps/api/package.json "$BATS_TEST_TMPDIR/"
    sed -i 's/"private": true/"private": true, "license": "MIT"/' apps/api/package.json
    run "$DEVINIT" check --only=deps
    cp "$BATS_TEST_TMPDIR/package.json" apps/api/
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"'apps/api/package.json' changed since the last install: installing with 'npm ci'"* ]]
}

@test "live sync watches the root lockfile of a workspace member" {
    # A workspace of our own with an install command that records each run in the root.
    local dir="$BATS_TEST_TMPDIR/w"
    mkdir -p "$dir/apps/api"
    cd "$dir"
    printf '{"name": "mono", "private": true, "workspaces": ["apps/*"]}\n' >package.json
    printf '{"name": "api", "version": "1.0.0"}\n' >apps/api/package.json
    echo '{"lockfileVersion": 3, "v": 1}' >package-lock.json
    printf '#!/bin/sh\nmkdir -p node_modules\necho "$PWD" >>installs.log\n' >install.sh
    chmod +x install.sh
    DEVINIT_APP_DIR=apps/api DEVINIT_DEPS_COMMAND="$dir/install.sh" DEVINIT_WATCH_DEBOUNCE=100ms \
        DEVINIT_CONTROL_SOCKET="$dir/ctl.sock" \
        "$DEVINIT" --only=deps -- sh -c 'echo $$ >>app.pids; exec sleep 1000' >devinit.log 2>&1 &
    DPID=$!
    wait_for test -s apps/api/app.pids
    [ "$(cat installs.log)" = "$dir" ] # installed from the root
    echo '{"lockfileVersion": 3, "v": 2}' >package-lock.json
    wait_for eval '[ "$(wc -l <apps/api/app.pids)" -ge 2 ]'
    kill -TERM "$DPID"
    wait "$DPID" || true
    DPID=
    cat devinit.log
    [ "$(wc -l <installs.log)" -eq 2 ]
    grep -q "package-lock.json changed since the last install" devinit.log
}

teardown() {
    [ -z "${DPID:-}" ] || { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null || true; }
    unset DEVINIT_APP_DIR DEVINIT_PRISMA_CONFIG
}
