#!/usr/bin/env bats
# The deps step chooses the package manager's clean install from the lockfile, and a
# configured command overrides it. Checked with `devinit check --json` (no install runs); the
# failure of a manager that is not installed is a real start.
load ../lib/common

setup() {
    cd "$BATS_TEST_TMPDIR"
    printf '{"name": "x", "version": "1.0.0", "dependencies": {}}\n' >package.json
}

# Prints "<status>|<command>|<reason>" of the deps step.
deps_check() {
    env "$@" "$DEVINIT" check --only=deps --json 2>"$BATS_TEST_TMPDIR/stderr" |
        python3 -c 'import json,sys; d=json.load(sys.stdin)["steps"]["deps"]; print("%s|%s|%s" % (d["status"], d.get("command"), d["reason"]))'
}

@test "package-lock.json chooses npm ci" {
    echo '{}' >package-lock.json
    run deps_check
    echo "$output"
    [ "$output" = "would-run|npm ci|no node_modules: installing with 'npm ci'" ]
}

@test "npm-shrinkwrap.json chooses npm ci" {
    echo '{}' >npm-shrinkwrap.json
    run deps_check
    [[ "$output" == "would-run|npm ci|"* ]]
}

@test "yarn.lock chooses yarn with a frozen lockfile" {
    touch yarn.lock
    run deps_check
    echo "$output"
    [ "$output" = "would-run|yarn install --frozen-lockfile|no node_modules: installing with 'yarn install --frozen-lockfile'" ]
}

@test "yarn.lock with .yarnrc.yml (yarn 2+) chooses yarn install --immutable" {
    touch yarn.lock .yarnrc.yml
    run deps_check
    [[ "$output" == "would-run|yarn install --immutable|"* ]]
}

@test "pnpm-lock.yaml chooses pnpm install --frozen-lockfile" {
    touch pnpm-lock.yaml
    run deps_check
    echo "$output"
    [ "$output" = "would-run|pnpm install --frozen-lockfile|no node_modules: installing with 'pnpm install --frozen-lockfile'" ]
}

@test "bun.lock and bun.lockb choose bun install --frozen-lockfile" {
    touch bun.lock
    run deps_check
    [[ "$output" == "would-run|bun install --frozen-lockfile|"* ]]
    rm bun.lock
    touch bun.lockb
    run deps_check
    [[ "$output" == "would-run|bun install --frozen-lockfile|"* ]]
}

@test "no lockfile chooses npm install with a warning" {
    run deps_check
    echo "$output"
    [ "$output" = "would-run|npm install|no node_modules: installing with 'npm install'" ]
    grep -q "no lockfile in '.*': 'npm install' may install other versions" "$BATS_TEST_TMPDIR/stderr"
}

@test "several lockfiles: packageManager in package.json decides, with a warning" {
    printf '{"name": "x", "packageManager": "pnpm@9.1.0"}\n' >package.json
    echo '{}' >package-lock.json
    touch pnpm-lock.yaml
    run deps_check
    echo "$output"
    [[ "$output" == "would-run|pnpm install --frozen-lockfile|"* ]]
    grep -q "several lockfiles" "$BATS_TEST_TMPDIR/stderr"
}

@test "[deps] command overrides the lockfile's choice, split on blanks" {
    echo '{}' >package-lock.json
    run deps_check DEVINIT_DEPS_COMMAND="npm   ci  --prefer-offline"
    echo "$output"
    [ "$output" = "would-run|npm ci --prefer-offline|no node_modules: installing with 'npm ci --prefer-offline'" ]
}

@test "a directory without package.json has nothing to install" {
    rm package.json
    run deps_check
    [ "$output" = "ok|None|no package.json in '.': nothing to install" ]
}

@test "the app directory comes from [app] dir" {
    mkdir sub
    mv package.json sub/
    touch sub/pnpm-lock.yaml
    run deps_check DEVINIT_APP_DIR="$BATS_TEST_TMPDIR/sub"
    [[ "$output" == "would-run|pnpm install --frozen-lockfile|"* ]]
}

@test "a package manager that is not installed exits 70 and the app does not start" {
    touch pnpm-lock.yaml
    run env PATH="/usr/bin:/bin" "$DEVINIT" --only=deps -- sh -c 'echo APP-RAN'
    echo "$output"
    command -v pnpm >/dev/null && skip "pnpm is installed here"
    [ "$status" -eq 70 ]
    [[ "$output" == *"'pnpm install --frozen-lockfile' could not be run"* ]]
    [[ "$output" != *APP-RAN* ]]
}
