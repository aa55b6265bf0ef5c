#!/usr/bin/env bats
# The app's command line reaches the app byte for byte: no shell anywhere between the two, so
# spaces, quotes, globs, variables, newlines, empty strings and bytes that are not UTF-8 are
# passed exactly, as PID 1 and not.
bats_require_minimum_version 1.5.0
load ../lib/common

setup() {
    cd "$BATS_TEST_TMPDIR"
    touch would-match-a-glob.txt
    ARGS=("two words" "  lead and trail  " "'single'" '"double"' 'back\slash' '*' '*.txt'
        '?' '[a-z]' '$HOME' '${PATH}' '$(touch pwned)' '`touch pwned`' '; touch pwned'
        '| cat' '&& touch pwned' '> redirected' $'line1\nline2' $'tab\there' $'cr\r' ''
        '' '-' '--' '--help' '-v' '--skip=all' $'\xff\xfe not utf-8 \xc3' 'é ü 日本' '%s%n%x')
}

# The NUL-separated argv that printf receives (after its format argument).
expected() { printf '%s\0' "${ARGS[@]}"; }

@test "arguments with spaces, quotes, globs, newlines and empty strings reach the app exactly" {
    "$DEVINIT" --skip=all -- printf '%s\0' "${ARGS[@]}" >got 2>devinit.err
    cat devinit.err
    cmp got <(expected)
    [ ! -e pwned ]
    [ ! -e redirected ]
    [ ! -e '> redirected' ]
}

@test "arguments reach the app exactly when devinit is PID 1" {
    unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- printf '%s\0' "${ARGS[@]}" >got
    cmp got <(expected)
    [ ! -e pwned ]
}

@test "a program path with spaces and quotes is run as it is, not split" {
    mkdir -p "dir with 'quotes' and spaces"
    printf '#!/bin/sh\nprintf "%%s|" "$0" "$@"\n' >"dir with 'quotes' and spaces/my app"
    chmod +x "dir with 'quotes' and spaces/my app"
    run "$DEVINIT" --skip=all -- "./dir with 'quotes' and spaces/my app" "a b" ''
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "./dir with 'quotes' and spaces/my app|a b||" ]
    # A glob as the program name is a name, not a pattern.
    run -127 "$DEVINIT" --skip=all -- '*'
    [[ "$output" == *"cannot run '*'"* ]]
}

@test "10,000 arguments and one of 100 kB reach the app exactly" {
    mapfile -t many < <(seq -f 'arg %g' 10000)
    big=$(head -c 100000 /dev/zero | tr '\0' 'x')
    "$DEVINIT" --skip=all -- printf '%s\0' "${many[@]}" "$big" >got
    cmp got <(printf '%s\0' "${many[@]}" "$big")
}
