#!/usr/bin/env bats
# The README's first command: examples/demo.sh builds devinit, starts a throw-away PostgreSQL
# and runs the example app under devinit. --smoke queries the app and stops everything.
load ../lib/common

@test "the demo sets up and serves the example app, then stops cleanly" {
    work=$(mktemp -d /tmp/devinit-demo.XXXXXX)
    chmod 755 "$work"
    # A copy of the repository without build output or node_modules, as a newcomer has it.
    tar -C "$DEVINIT_SOURCE_DIR" --exclude=./build --exclude=node_modules --exclude=.git -cf - . |
        tar -C "$work" -xf -
    run env -u DATABASE_URL npm_config_prefer_offline=true bash "$work/examples/demo.sh" --smoke
    echo "$output"
    rm -rf "$work"
    [ "$status" -eq 0 ]
    [[ "$output" == *"ready: PostgreSQL"* ]]
    [[ "$output" == *"generated the prisma client"* ]]
    [[ "$output" == *"listening on"* ]]
}
