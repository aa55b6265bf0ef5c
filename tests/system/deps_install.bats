#!/usr/bin/env bats
# The deps step with real npm on a copy of examples/app: it installs when node_modules is
# missing or older than its inputs, skips when it is current, and an interrupted install is
# redone. npm ci of the example takes ~10 s, so the file shares one copy and keeps the number
# of installs small: the tests run in order and build on each other's node_modules.
load ../lib/common

setup_file() {
    export APP="$BATS_FILE_TMPDIR/app"
    # Installs reuse npm's cache; none of these tests needs the network once it is warm.
    example_app "$APP"
    export STAMP="$APP/node_modules/.devinit-deps.stamp"
}

setup() {
    cd "$APP"
}

# The reason of one step from `devinit check --json`.
check_reason() { # check_reason STEP [ENV=VALUE...]
    local step=$1
    shift
    env "$@" "$DEVINIT" check --only="$step" --json 2>>"$BATS_TEST_TMPDIR/check.err" |
        python3 -c 'import json,sys; d=json.load(sys.stdin)["steps"][sys.argv[1]]; print(d["status"] + ": " + d["reason"])' "$step"
}

# No process may be left running in the app directory (an install that outlived devinit);
# bats itself, which runs the test from there, excepted.
no_process_in_app() {
    local p cwd cmd
    for p in /proc/[0-9]*; do
        cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
        cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
        [[ "$cmd" == *bats* ]] && continue
        if [[ "$cwd" == "$APP"* ]]; then
            echo "left running in $cwd: $(tr '\0' ' ' <"$p/cmdline")"
            return 1
        fi
    done
}

@test "a first start with no node_modules runs npm ci, writes the stamp, then generates" {
    [ ! -e node_modules ]
    run "$DEVINIT" --only=deps,generate -- sh -c 'echo APP-RAN'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"no node_modules: installing with 'npm ci'"* ]]
    [[ "$output" == *"installed with 'npm ci'"*"generated the prisma client"*APP-RAN* ]]
    [ -x node_modules/.bin/prisma ]
    grep -q '^lockfile package-lock.json [0-9a-f]\{64\}$' "$STAMP"
    grep -q '^command npm ci$' "$STAMP"
    [ ! -e node_modules/..devinit-deps.stamp.tmp ]
}

@test "a second start with everything current skips the install" {
    [ -f "$STAMP" ]
    touch node_modules/.kept-by-a-skipped-install # npm ci would delete it
    start=$(now_ms)
    run "$DEVINIT" -v --only=deps,generate -- sh -c 'echo APP-RAN'
    elapsed=$(($(now_ms) - start))
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"ok: node_modules is current with package-lock.json"* ]]
    [[ "$output" != *"deps| "* ]] # npm never ran
    [[ "$output" != *"generate| "* ]] # nor prisma
    [ -e node_modules/.kept-by-a-skipped-install ]
    [ "$elapsed" -lt 2000 ]
}

@test "check reports package.json changed since the last install" {
    cp package.json "$BATS_TEST_TMPDIR/package.json"
    sed -i 's/"private": true/"private": true, "license": "MIT"/' package.json
    run check_reason deps
    cp "$BATS_TEST_TMPDIR/package.json" package.json
    echo "$output"
    [ "$output" = "would-run: package.json changed since the last install: installing with 'npm ci'" ]
    run check_reason deps
    [ "$output" = "ok: node_modules is current with package-lock.json" ]
}

@test "check reports another node binary in PATH as a change" {
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    printf '#!/bin/sh\nexec /usr/bin/node "$@"\n' >"$BATS_TEST_TMPDIR/bin/node"
    chmod +x "$BATS_TEST_TMPDIR/bin/node"
    run check_reason deps PATH="$BATS_TEST_TMPDIR/bin:$PATH"
    echo "$output"
    [[ "$output" == "would-run: node changed since the last install (was '"*"', now '$BATS_TEST_TMPDIR/bin/node "* ]]
    # A symlink to the same binary is the same node.
    ln -sf "$(command -v node)" "$BATS_TEST_TMPDIR/bin/node"
    run check_reason deps PATH="$BATS_TEST_TMPDIR/bin:$PATH"
    echo "$output"
    [[ "$output" == "ok: "* ]]
}

@test "mode off skips the step and mode always installs even when current" {
    run check_reason deps DEVINIT_DEPS_MODE=off
    [ "$output" = "skipped: [deps] mode = off" ]
    run check_reason deps DEVINIT_DEPS_MODE=always
    [ "$output" = "would-run: [deps] mode = always: installing with 'npm ci'" ]
}

@test "a lockfile change reinstalls, and the client the install removed is generated again" {
    touch node_modules/.kept-by-a-skipped-install
    # Same packages, other bytes: the lockfile is compared by content, not by meaning. With
    # npm's own record of the install gone, nothing says node_modules is that lockfile's
    # (deps_adopt.bats: a record that agrees is adopted instead).
    python3 -c 'import json; d=json.load(open("package-lock.json")); json.dump(d, open("package-lock.json","w"), indent=1)'
    rm node_modules/.package-lock.json
    run check_reason deps
    [ "$output" = "would-run: package-lock.json changed since the last install: installing with 'npm ci'" ]
    run "$DEVINIT" --only=deps,generate -- sh -c 'echo APP-RAN'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"package-lock.json changed since the last install: installing with 'npm ci'"* ]]
    [[ "$output" == *"installed with 'npm ci'"*"('node_modules/.prisma/client') is missing"*"generated the prisma client"*APP-RAN* ]]
    [ ! -e node_modules/.kept-by-a-skipped-install ]
    run check_reason deps
    [ "$output" = "ok: node_modules is current with package-lock.json" ]
}

@test "an install interrupted by SIGTERM leaves no stamp and is redone at the next start" {
    [ -f "$STAMP" ]
    DEVINIT_DEPS_MODE=always "$DEVINIT" --only=deps -- sh -c 'echo APP-RAN' >"$BATS_TEST_TMPDIR/log" 2>&1 &
    pid=$!
    # The stamp goes before npm starts; give npm a moment to be in the middle of its work.
    wait_for test ! -e "$STAMP"
    wait_for grep -q 'installing with' "$BATS_TEST_TMPDIR/log"
    sleep 1
    kill -TERM "$pid"
    status=0
    wait "$pid" || status=$?
    cat "$BATS_TEST_TMPDIR/log"
    [ "$status" -eq 143 ]
    run grep -q APP-RAN "$BATS_TEST_TMPDIR/log"
    [ "$status" -ne 0 ]
    [ ! -e "$STAMP" ]
    no_process_in_app
    run check_reason deps
    echo "$output"
    [[ "$output" == "would-run: "*"installing with 'npm ci'" ]]

    run "$DEVINIT" --only=deps -- sh -c 'echo APP-RAN'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"installed with 'npm ci'"* ]]
    [[ "$output" == *APP-RAN* ]]
    [ -f "$STAMP" ]
    [ -x node_modules/.bin/prisma ]
}

# reason_line: the line of $output that gives the step's reason (the failed command's).
reason_line() { grep -E "exited with code [0-9]+; " <<<"$output" | head -1; }

@test "npm ci with a lockfile out of sync quotes npm's error code and message, not its log file's path" {
    mkdir "$BATS_TEST_TMPDIR/sync"
    cd "$BATS_TEST_TMPDIR/sync"
    echo '{"name":"sync","version":"1.0.0","dependencies":{}}' >package.json
    npm install --offline --no-audit --no-fund >/dev/null 2>&1
    [ -f package-lock.json ]
    echo '{"name":"sync","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}' >package.json
    run "$DEVINIT" -q --only=deps -- sh -c 'echo APP-RAN'
    echo "$output"
    [ "$status" -eq 70 ]
    line=$(reason_line)
    echo "reason: $line"
    [[ "$line" == *"'npm ci' exited with code 1; npm error code EUSAGE: \`npm ci\` can only install packages when your package.json and package-lock.json"* ]]
    [[ "$line" != *"complete log"* ]]
    [[ "$output" != *APP-RAN* ]]
}

@test "pnpm with a lockfile out of sync quotes its ERR_PNPM headline, not the dump after it" {
    command -v pnpm >/dev/null || skip "pnpm is not installed"
    mkdir "$BATS_TEST_TMPDIR/pnpm"
    cd "$BATS_TEST_TMPDIR/pnpm"
    echo '{"name":"p","version":"1.0.0","dependencies":{}}' >package.json
    pnpm install --offline </dev/null >/dev/null 2>&1
    [ -f pnpm-lock.yaml ]
    echo '{"name":"p","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}' >package.json
    run "$DEVINIT" -q --only=deps -- sh -c 'echo APP-RAN'
    echo "$output"
    [ "$status" -eq 70 ]
    line=$(reason_line)
    echo "reason: $line"
    [[ "$line" == *"'pnpm install --frozen-lockfile' exited with code 1; ERR_PNPM_OUTDATED_LOCKFILE Cannot install with \"frozen-lockfile\" because pnpm-lock.yaml is not up to date"* ]]
    [[ "$output" != *APP-RAN* ]]
}

@test "a failing install exits 70 naming the command and its exit code, and the app does not start" {
    mkdir "$BATS_TEST_TMPDIR/broken"
    cd "$BATS_TEST_TMPDIR/broken"
    cp "$APP/package.json" .
    echo '{ "this is": not json' >package-lock.json
    run "$DEVINIT" --only=deps -- sh -c 'echo APP-RAN'
    echo "$output"
    [ "$status" -eq 70 ]
    [[ "$output" == *"'npm ci' exited with code 1"* ]]
    [[ "$output" == *"deps| npm error"* ]] # npm's own words, streamed under the step's name
    [[ "$output" != *APP-RAN* ]]
    [ ! -e node_modules/.devinit-deps.stamp ]
}
