#!/usr/bin/env bats
# Reaping: every child, orphans included, as PID 1 and as a child subreaper. The app counts:
# a zombie still answers kill(pid, 0), so "gone" means "reaped".

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/supervisor

teardown() {
    di_cleanup
}

@test "100 orphans of double forks are reaped as PID 1 and no zombie remains" {
    run unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- "$APP" orphans 100 100
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"orphans=100 unreaped=0 zombies=0"* ]]
}

@test "a burst of 5000 zombies is reaped as PID 1" {
    run unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- "$APP" zombies 5000
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"zombies=5000 unreaped=0"* ]]
    # The benchmark measures the speed; this only rules out reaping one zombie per wake-up.
    local ms
    ms=$(sed -n 's/.*reap_ms=\([0-9]*\).*/\1/p' <<<"$output")
    [ "$ms" -lt 1000 ]
}

@test "a burst of 5000 zombies is reaped by a subreaper that is not PID 1" {
    run "$DEVINIT" --skip=all -- "$APP" zombies 5000
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"zombies=5000 unreaped=0"* ]]
}

@test "not PID 1, devinit is the subreaper: an orphan is reparented to it and reaped by it" {
    local file=$BATS_TEST_TMPDIR/orphan ppid pid
    di_start plain --skip=all -- "$APP" orphan-parent "$file"
    wait_file "$file"
    read -r ppid pid <"$file"
    echo "orphan $pid reparented to $ppid; devinit is $DI_PID"
    [ "$ppid" -eq "$DI_PID" ]
    # It exits 0.1 s after writing; devinit, its parent now, must reap it while the app runs.
    wait_for test ! -e "/proc/$pid"
    kill -0 "$DI_PID"
    [ "$(awk '{print $3}' "/proc/$DI_PID/stat")" != Z ]
    di_wait 10
    [ "$DI_STATUS" -eq 0 ]
}
