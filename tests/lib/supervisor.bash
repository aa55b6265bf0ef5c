# Shared by the supervisor's system tests: start devinit in the background (as PID 1 of a new
# PID namespace, or as a plain process), signal it, and wait for it with a deadline so a hung
# init fails its test instead of hanging the suite. Load after ../lib/common.
#
#     di_start pid1|plain ARGS...   starts "$DEVINIT" ARGS...; stdout and stderr go to
#                                   $DI_OUT and $DI_ERR
#     DI_PID                        the devinit process to signal (a host pid)
#     di_wait SECONDS               waits for devinit to exit; sets DI_STATUS and DI_MS (time
#                                   since the last di_kill, or since di_start); 1 on timeout
#     di_kill SIG                   sends SIG to devinit and starts the clock

APP="$DEVINIT_HELPERS/app"

# The direct child of pid (unshare --fork's child is the namespace's PID 1).
di_child_of() {
    local pid=$1 i kids
    for i in $(seq 1 200); do
        kids=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
        if [ -n "$kids" ]; then
            echo "${kids%% *}"
            return 0
        fi
        sleep 0.01
    done
    return 1
}

di_start() {
    local mode=$1
    shift
    DI_OUT=$BATS_TEST_TMPDIR/devinit.out
    DI_ERR=$BATS_TEST_TMPDIR/devinit.err
    DI_T0=$(now_ms)
    # fd 3 is bats' own: a background process that keeps it open makes bats wait for it.
    if [ "$mode" = pid1 ]; then
        unshare --pid --fork --mount-proc "$DEVINIT" "$@" >"$DI_OUT" 2>"$DI_ERR" 3>&- &
        DI_WAIT=$!
        DI_PID=$(di_child_of "$DI_WAIT")
    else
        "$DEVINIT" "$@" >"$DI_OUT" 2>"$DI_ERR" 3>&- &
        DI_WAIT=$!
        DI_PID=$DI_WAIT
    fi
}

di_kill() {
    DI_T0=$(now_ms)
    kill -s "$1" "$DI_PID"
}

di_wait() {
    local limit_ms=$(($1 * 1000)) start
    start=$(now_ms)
    while kill -0 "$DI_WAIT" 2>/dev/null; do
        # A zombie still answers kill -0: ask the kernel for the state.
        if [ "$(awk '{print $3}' "/proc/$DI_WAIT/stat" 2>/dev/null)" = Z ]; then
            break
        fi
        if [ $(($(now_ms) - start)) -gt "$limit_ms" ]; then
            echo "devinit still runs after $1 s" >&2
            di_cleanup
            return 1
        fi
        sleep 0.005
    done
    DI_STATUS=0
    wait "$DI_WAIT" || DI_STATUS=$?
    DI_MS=$(($(now_ms) - DI_T0))
    unset DI_WAIT
    echo "devinit exited $DI_STATUS after $DI_MS ms" >&2
}

# Teardown: nothing a test started may outlive it. SIGKILL to a namespace's PID 1 ends the
# whole namespace.
di_cleanup() {
    if [ -n "${DI_WAIT:-}" ]; then
        kill -KILL "$DI_PID" "$DI_WAIT" 2>/dev/null || true
        wait "$DI_WAIT" 2>/dev/null || true
        unset DI_WAIT
    fi
}

# Waits until FILE exists (up to 10 s).
wait_file() {
    wait_for test -e "$1"
}

# Prints the lines of FILE (or nothing).
lines_of() {
    cat "$1" 2>/dev/null || true
}
