#!/usr/bin/env bats
# devinit as the ENTRYPOINT of a dev image under podman, the way docker/Dockerfile.dev uses it:
# privilege drop to `node`, the stop timeout against podman's, the control socket reached
# with `podman exec`, and an interactive shell with job control under `podman run -it`.
# The image is FROM scratch (no registry here): the static devinit, busybox and /etc files.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/container

setup_file() {
    export IMAGE=localhost/devinit-dev-test:$$
    containers_possible || return 0
    local root=$BATS_FILE_TMPDIR/context/rootfs applet
    mkdir -p "$root/bin" "$root/usr/local/bin" "$root/etc" "$root/app" "$root/home/node" "$root/run" "$root/tmp"
    cp "$(static_bin)" "$root/usr/local/bin/devinit"
    cp /bin/busybox "$root/bin/busybox"
    for applet in sh sleep cat echo id ps kill ls; do ln -s busybox "$root/bin/$applet"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' > "$root/etc/passwd"
    printf 'root:x:0:\nnode:x:1000:\nstaff:x:50:node\n' > "$root/etc/group"
    chown 1000:1000 "$root/home/node"
    chmod 1777 "$root/tmp"
    build_image Containerfile.dev "$BATS_FILE_TMPDIR/context" "$IMAGE"
    export IMAGE_BUILT=1
}

teardown_file() {
    command -v podman >/dev/null || return 0
    podman rm -f --filter "label=devinit-dev-run=$$" >/dev/null 2>&1 || true
    [ -n "${IMAGE_BUILT:-}" ] && podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
}

setup() {
    require_containers
    [ -n "${IMAGE_BUILT:-}" ]
    NAME=devinit-dev-$$-$BATS_TEST_NUMBER
}

teardown() {
    podman rm -f "$NAME" >/dev/null 2>&1 || true
}

run_container() {
    podman run -d --name "$NAME" --label devinit-test=1 --label "devinit-dev-run=$$" "$@" >/dev/null
    wait_for running
}


@test "the app runs as the image's node user while devinit stays root" {
    run_container "$IMAGE" sh -c 'id; echo "HOME=$HOME USER=$USER"; exec sleep 1000'
    sleep 0.5
    run podman logs "$NAME"
    [[ "$output" == *"uid=1000(node) gid=1000(node) groups="* ]]
    [[ "$output" == *"50(staff)"* ]]
    [[ "$output" == *"HOME=/home/node USER=node"* ]]
    run podman exec "$NAME" cat /proc/1/status
    [[ "$output" == *"Uid:	0	0	0	0"* ]]
}

@test "podman exec devinit status and health talk to PID 1" {
    run_container "$IMAGE" sleep 1000
    wait_for podman exec "$NAME" ls /run/devinit/devinit.sock
    run podman exec "$NAME" devinit status
    [ "$status" -eq 0 ]
    [[ "$output" == *"app: 'sleep' running, pid "* ]]
    run podman exec "$NAME" devinit status --json
    [ "$status" -eq 0 ]
    echo "$output" | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["pid"]==1 and s["app"]["running"], s'
    run podman exec "$NAME" devinit health
    [ "$status" -eq 0 ]
    # The app's own user may ask too.
    run podman exec --user node "$NAME" devinit health
    [ "$status" -eq 0 ]
}

@test "a TERM-ignoring app is killed after devinit's grace, before podman's own timeout" {
    run_container -e DEVINIT_APP_STOP_TIMEOUT=1s "$IMAGE" sh -c 'trap "" TERM; while :; do sleep 0.1; done'
    sleep 0.3
    t0=$(now_ms)
    podman stop -t 10 "$NAME" >/dev/null
    took=$(( $(now_ms) - t0 ))
    echo "stop took $took ms"
    [ "$took" -ge 900 ]
    [ "$took" -lt 5000 ]
    [ "$(podman inspect --format '{{.State.ExitCode}}' "$NAME")" -eq 137 ]
    run podman logs "$NAME"
    [[ "$output" == *"still running after the stop timeout: sending SIGKILL"* ]]
}

@test "podman run -it gives an interactive shell with job control" {
    run python3 - "$IMAGE" "$NAME" <<'PY'
import os, pty, sys, time, select
image, name = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("podman", ["podman", "run", "-it", "--rm", "--name", name,
                         "--label", "devinit-test=1", image, "sh", "-i"])
out = b""
def read_for(seconds):
    global out
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
def send(line, wait=0.7):
    os.write(fd, line.encode() + b"\r")
    read_for(wait)
read_for(3)
send("sleep 100 &")
send("jobs")
send("kill %1")
send("jobs")
send("sleep 30")
os.write(fd, b"\x03")   # Ctrl-C reaches the foreground job, not the shell
read_for(1)
send("echo alive")
send("exit 7", 2)
_, status = os.waitpid(pid, 0)
text = out.decode(errors="replace")
print(text)
print("EXIT", os.waitstatus_to_exitcode(status))
PY
    echo "$output"
    [[ "$output" == *"[1]"*"sleep 100"* ]]
    [[ "$output" == *"Terminated"* ]]
    [[ "$output" == *"alive"* ]]
    [[ "$output" == *"EXIT 7"* ]]
}
