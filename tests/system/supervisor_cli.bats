#!/usr/bin/env bats
# The command line of the init: --help, --version, the app's command after `--` or without it.
# Usage errors (exit 64) are in exit_codes.bats.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/supervisor

@test "--help prints the usage and exits 0" {
    run --separate-stderr "$DEVINIT" --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"usage: devinit [OPTIONS] [--] COMMAND [ARG...]"* ]]
    [[ "$output" == *"--skip=STEP"* ]]
    [[ "$output" == *"--stop-timeout"* ]]
    run "$DEVINIT" -h
    [ "$status" -eq 0 ]
}

@test "--help lists sync, status and health and says --json works for check and status" {
    run --separate-stderr "$DEVINIT" --help
    [ "$status" -eq 0 ]
    for cmd in 'check \[--json\]' 'sync ' 'status \[--json\]' 'health '; do
        grep -Eq "^ +devinit \[OPTIONS\] $cmd" <<<"$output" || { echo "missing: $cmd"; return 1; }
    done
    grep -Eq -- '--json +.*\(check and status\)' <<<"$output"
    # Every exit code the usage names for sync/status/health is one the README documents.
    for code in 69 75 77; do
        grep -Eq "^\| $code \|" "$DEVINIT_SOURCE_DIR/README.md"
    done
}

@test "--version prints the version and exits 0" {
    run --separate-stderr "$DEVINIT" --version
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^devinit\ [0-9]+\.[0-9]+\.[0-9]+\ \(revision\ [^\)]+\)$ ]]
    [[ "$output" == *"build on glibc "* ]] || [[ "$output" == *"build on musl"* ]]
    [[ "$output" == *libuv* ]]
    [[ "$output" == *libpq* ]]
}

@test "the app's command and arguments are passed as they are, with or without --" {
    run --separate-stderr "$DEVINIT" --skip=all -- printf '<%s>' 'a b' '' '--skip=all' '-v'
    [ "$status" -eq 0 ]
    [ "$output" = '<a b><><--skip=all><-v>' ]
    run --separate-stderr "$DEVINIT" --skip=all printf '<%s>' x --help
    [ "$status" -eq 0 ]
    [ "$output" = '<x><--help>' ]
}
