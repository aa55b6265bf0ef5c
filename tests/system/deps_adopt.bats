#!/usr/bin/env bats
# Installs made by the package manager itself (a `npm ci` by hand, an `npm install left-pad`
# that also updated the lockfile, an image built with `RUN npm ci`): devinit compares the
# manager's own record of what it installed with the lockfile, adopts a match by writing its
# stamp, and reinstalls only when they disagree. Real npm and pnpm on copies of examples/app;
# the tests of each manager build on each other's node_modules, in order.
load ../lib/common

setup_file() {
    export NPM_APP="$BATS_FILE_TMPDIR/npm" PNPM_APP="$BATS_FILE_TMPDIR/pnpm"
    example_app "$NPM_APP"
    example_app "$PNPM_APP"
    # The pnpm project: the same dependencies, locked by pnpm.
    (cd "$PNPM_APP" && pnpm import >/dev/null 2>&1 && rm package-lock.json)
}

# A start that runs only the deps step; the app prints APP-RAN.
start_deps() {
    run "$DEVINIT" --only=deps -- sh -c 'echo APP-RAN'
    echo "$output"
}

@test "npm ci by hand: the next start adopts it and installs nothing" {
    cd "$NPM_APP"
    npm ci >/dev/null 2>&1
    [ ! -e node_modules/.devinit-deps.stamp ]
    touch node_modules/.kept # a reinstall would delete it
    start_deps
    [ "$status" -eq 0 ]
    [[ "$output" == *"adopted the install made by npm"* ]]
    [[ "$output" != *"deps| "* ]] # npm never ran
    [[ "$output" == *APP-RAN* ]]
    [ -e node_modules/.kept ]
    grep -q '^lockfile package-lock.json [0-9a-f]\{64\}$' node_modules/.devinit-deps.stamp
    run "$DEVINIT" check --only=deps
    [ "$status" -eq 0 ]
    [[ "$output" == *"node_modules is current with package-lock.json"* ]]
}

@test "npm install of a new package by hand: the next start installs nothing" {
    cd "$NPM_APP"
    npm install left-pad@1.3.0 >/dev/null 2>&1
    grep -q left-pad package.json
    start_deps
    [ "$status" -eq 0 ]
    [[ "$output" == *"adopted the install made by npm"* ]]
    [[ "$output" != *"deps| "* ]]
    [ -e node_modules/.kept ]
    [ -d node_modules/left-pad ]
}

@test "package.json edited after the install: npm ci runs" {
    cd "$NPM_APP"
    cp package.json "$BATS_FILE_TMPDIR/package.json.npm"
    sed -i 's/"left-pad": "[^"]*"/"left-pad": "1.3.0"/' package.json
    run "$DEVINIT" check --only=deps
    echo "$output"
    cp "$BATS_FILE_TMPDIR/package.json.npm" package.json
    [ "$status" -eq 1 ]
    [[ "$output" == *"would-run"*"package.json changed since the last install: installing with 'npm ci'"* ]]
}

@test "a lockfile edited on the host: npm ci runs" {
    cd "$NPM_APP"
    # As a git pull would: the lockfile (and package.json) now name another version of
    # left-pad, made elsewhere; node_modules and npm's record of it are untouched.
    mkdir "$BATS_TEST_TMPDIR/host"
    cp package.json package-lock.json "$BATS_TEST_TMPDIR/host/"
    (cd "$BATS_TEST_TMPDIR/host" && npm install --package-lock-only left-pad@1.2.0 >/dev/null 2>&1)
    cp "$BATS_TEST_TMPDIR/host/package.json" "$BATS_TEST_TMPDIR/host/package-lock.json" .
    grep -q '"version": "1.3.0"' node_modules/left-pad/package.json
    run "$DEVINIT" check --only=deps
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"package-lock.json changed since the last install: installing with 'npm ci'"* ]]
    start_deps
    [ "$status" -eq 0 ]
    [[ "$output" == *"installed with 'npm ci'"* ]]
    [[ "$output" != *"adopted"* ]]
    [ ! -e node_modules/.kept ]
    grep -q '"version": "1.2.0"' node_modules/left-pad/package.json
}

@test "pnpm install by hand: the next start adopts it and installs nothing" {
    cd "$PNPM_APP"
    pnpm install --frozen-lockfile >/dev/null 2>&1
    touch node_modules/.kept
    start_deps
    [ "$status" -eq 0 ]
    [[ "$output" == *"adopted the install made by pnpm"* ]]
    [[ "$output" != *"deps| "* ]]
    [ -e node_modules/.kept ]
    grep -q '^lockfile pnpm-lock.yaml ' node_modules/.devinit-deps.stamp
}

@test "pnpm add by hand: the next start installs nothing" {
    cd "$PNPM_APP"
    pnpm add left-pad@1.3.0 >/dev/null 2>&1
    start_deps
    [ "$status" -eq 0 ]
    [[ "$output" == *"adopted the install made by pnpm"* ]]
    [[ "$output" != *"deps| "* ]]
    [ -e node_modules/.kept ]
}

@test "a pnpm lockfile or package.json edited on the host: pnpm installs" {
    cd "$PNPM_APP"
    rm node_modules/.devinit-deps.stamp
    run "$DEVINIT" check --only=deps
    [ "$status" -eq 0 ] # the record still matches
    cp package.json "$BATS_FILE_TMPDIR/package.json.pnpm"
    sed -i 's/"pg": "[^"]*"/"pg": "8.16.3"/' package.json
    run "$DEVINIT" check --only=deps
    echo "$output"
    cp -p "$BATS_FILE_TMPDIR/package.json.pnpm" package.json
    [ "$status" -eq 1 ]
    [[ "$output" == *"would-run"*"no devinit stamp"*"pnpm install --frozen-lockfile"* ]]
    touch -d '1 hour ago' package.json
    echo "# edited" >>pnpm-lock.yaml
    run "$DEVINIT" check --only=deps
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"would-run"*"pnpm install --frozen-lockfile"* ]]
}
