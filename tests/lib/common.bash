# Shared by the system tests (bats). Each test file sources it with
#     load ../lib/common
# DEVINIT, DEVINIT_HELPERS, DEVINIT_SOURCE_DIR come from ctest (tests/CMakeLists.txt).

# devinit refuses every DEVINIT_ variable that is not one of its keys, so the harness's own
# (from ctest, tests/run.sh, valgrind.sh) must not reach it: each is kept as a shell variable,
# and exported as _DEVINIT_* for the next test process of bats to restore it from.
for _v in DEVINIT_HELPERS DEVINIT_SOURCE_DIR DEVINIT_BUILD_DIR DEVINIT_STATIC_BIN \
    DEVINIT_UNDER_VALGRIND DEVINIT_CACHE; do
    _s=_$_v
    if [ -n "${!_v+x}" ]; then
        export "$_s=${!_v}"
    elif [ -n "${!_s+x}" ]; then
        printf -v "$_v" '%s' "${!_s}"
    fi
    export -n "$_v"
done
unset _v _s

# The defaults only after the restore: a later bats process has the variables only as _DEVINIT_*.
: "${DEVINIT:?run the system tests through ctest, or set DEVINIT to the binary}"
: "${DEVINIT_HELPERS:=$(dirname "$DEVINIT")/helpers}"
: "${DEVINIT_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
. "$DEVINIT_SOURCE_DIR/scripts/pg.sh"
# Test clusters need no durability.
PG_SETTINGS="fsync=off"

# No test listens on the default control socket: parallel tests (and a devinit running on the
# machine) would answer each other's `status`. Tests of the socket set their own path.
export DEVINIT_CONTROL_SOCKET=""

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# wait_for CMD...: retries CMD for up to 10 s.
wait_for() {
    local i
    for i in $(seq 1 200); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

# example_app DIR: a copy of examples/app in DIR without anything a developer's run left in it
# (node_modules, generated clients), and the environment its real npm and Prisma 7 need here:
# installs from npm's cache, and a schema engine path so the CLI does not try to download one
# (Prisma 7's generate does not use it, but the CLI downloads one when none is named).
example_app() {
    mkdir -p "$1"
    tar -C "$DEVINIT_SOURCE_DIR/examples/app" --exclude=node_modules --exclude=generated -cf - . |
        tar -C "$1" -xf -
    export npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false
    export PRISMA_SCHEMA_ENGINE_BINARY=/bin/true
}

# --- no password in any output ---------------------------------------------------------------
# A test file that gives PostgreSQL or a URL a password names it with secret_add. From then on
# every `run` in that file fails its test when the output holds the password, raw or
# percent-encoded (upper- or lower-case hex): "no password in any output" checked on every
# command the suite runs, not only on the ones a test picked. Passwords under 6 bytes ("pw")
# are left out: they would match ordinary words.
TEST_SECRETS=()

# pct_encode STRING [FORMAT]: STRING with every byte but RFC 3986's unreserved ones as %XX
# (FORMAT %%%02x for lower-case hex).
pct_encode() {
    local LC_ALL=C s=$1 fmt=${2:-%%%02X} out="" c hex i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [A-Za-z0-9._~-]) out+=$c ;;
        *)
            printf -v hex "$fmt" "'$c"
            out+=$hex
            ;;
        esac
    done
    printf '%s' "$out"
}

# secret_add PASSWORD...
secret_add() {
    local s
    for s in "$@"; do
        [ ${#s} -ge 6 ] || continue
        TEST_SECRETS+=("$s" "$(pct_encode "$s")" "$(pct_encode "$s" '%%%02x')")
    done
}

# secrets_absent TEXT: fails, naming the spelling, when TEXT holds a registered password.
secrets_absent() {
    local s
    for s in "${TEST_SECRETS[@]}"; do
        if [[ "$1" == *"$s"* ]]; then
            printf 'a test password (%q) is in the output of: %s\n' "$s" "${BATS_RUN_COMMAND:-?}" >&2
            return 1
        fi
    done
}

# bats' own run, then the check above. Defined once even if this file is loaded twice, and
# only under bats (the benchmarks source this file for example_app).
if declare -F run >/dev/null && ! declare -F bats_run_unchecked >/dev/null; then
    eval "bats_run_unchecked$(declare -f run | sed '1s/^run//')"
    run() {
        local rc=0
        bats_run_unchecked "$@" || rc=$?
        secrets_absent "$output" || return 1
        return $rc
    }
fi
