#!/usr/bin/env bats
# Interactive use (docker run -it): with a terminal on stdin, the app's process group gets the
# terminal's foreground, so an interactive shell under devinit has job control, and Ctrl-C
# reaches the shell's foreground job, not devinit.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/supervisor

# pty_run STEPS COMMAND...: runs COMMAND on a new pseudo-terminal (its controlling terminal,
# as `docker run -it` gives one). STEPS is a JSON list of ["expect", TEXT] and ["send", TEXT]
# and ["pause", SECONDS]; each expect waits up to 10 s. Prints the transcript; the status is
# COMMAND's (128+N for a signal), 99 when an expected text never came.
pty_run() {
    PTY_STEPS=$1 python3 - "${@:2}" <<'PY'
import json, os, pty, select, sys, time

steps = json.loads(os.environ["PTY_STEPS"])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
seen = b""

def read_some(timeout):
    global seen
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return False
    try:
        data = os.read(fd, 4096)
    except OSError:
        return None
    if not data:
        return None
    seen += data
    return True

def kill_session():
    # On failure, everything on this terminal goes: a stopped shell would outlive the test.
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
                if int(stat.rsplit(")", 1)[1].split()[3]) == pid:
                    os.kill(int(entry), 9)
            except (OSError, ValueError, IndexError):
                pass

def finish(code):
    sys.stdout.write(seen.decode(errors="replace").replace("\r", ""))
    sys.exit(code)

pos = 0
for kind, arg in steps:
    if kind == "send":
        os.write(fd, arg.encode())
    elif kind == "pause":
        time.sleep(float(arg))
    elif kind == "expect":
        deadline = time.time() + 10
        while True:
            i = seen.find(arg.encode(), pos)
            if i >= 0:
                pos = i + len(arg)
                break
            if time.time() > deadline or read_some(deadline - time.time()) is None:
                print(f"\n[pty_run: never saw {arg!r}]")
                kill_session()
                finish(99)

deadline = time.time() + 10
wpid, status = 0, 0
while time.time() < deadline:
    wpid, status = os.waitpid(pid, os.WNOHANG)
    if wpid:
        break
    if read_some(0.05) is None:
        time.sleep(0.01)  # the terminal hung up; the exit is a moment away
if not wpid:
    kill_session()
    wpid, status = os.waitpid(pid, 0)
    print("\n[pty_run: the command did not exit]")
    finish(98)
while read_some(0) is True:
    pass
finish(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
PY
}

@test "the app owns the terminal's foreground process group" {
    run pty_run '[]' "$DEVINIT" --skip=all -- "$APP" tty
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *pgrp=* ]]

    run pty_run '[]' unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- "$APP" tty
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"pgrp=2 fg=2"* ]]
}

# The session a developer has in `docker run -it IMAGE bash`: a background job, jobs, kill %1,
# Ctrl-C to a foreground job, Ctrl-Z and fg, the app itself in the foreground, exit N.
job_control_steps() {
    cat <<EOF
[["expect", "bash"], ["send", "PS1='PROMPT> '\n"], ["expect", "PROMPT> "],
 ["send", "sleep 100 &\n"], ["expect", "PROMPT> "],
 ["send", "jobs\n"], ["expect", "Running"], ["expect", "PROMPT> "],
 ["send", "kill %1\n"], ["expect", "PROMPT> "], ["pause", "0.3"],
 ["send", "jobs\n"], ["expect", "Terminated"], ["expect", "PROMPT> "],
 ["send", "sleep 100\n"], ["pause", "0.3"], ["send", "\u0003"], ["expect", "PROMPT> "],
 ["send", "echo rc=\$?\n"], ["expect", "rc=130"], ["expect", "PROMPT> "],
 ["send", "sleep 100\n"], ["pause", "0.3"], ["send", "\u001a"], ["expect", "Stopped"],
 ["expect", "PROMPT> "], ["send", "fg\n"], ["pause", "0.3"], ["send", "\u0003"],
 ["expect", "PROMPT> "],
 ["send", "$APP tty; echo rc=\$?\n"], ["expect", "rc=0"], ["expect", "PROMPT> "],
 ["send", "exit 7\n"]]
EOF
}

@test "job control works in an interactive shell under devinit" {
    run pty_run "$(job_control_steps)" \
        "$DEVINIT" --skip=all -- bash --norc --noprofile -i
    echo "$output"
    [ "$status" -eq 7 ]
    [[ "$output" != *"no job control"* ]]
    [[ "$output" != *"cannot set terminal process group"* ]]
}

@test "job control works in an interactive shell under devinit as PID 1" {
    run pty_run "$(job_control_steps)" \
        unshare --pid --fork --mount-proc "$DEVINIT" --skip=all -- bash --norc --noprofile -i
    echo "$output"
    [ "$status" -eq 7 ]
    [[ "$output" != *"no job control"* ]]
    [[ "$output" != *"cannot set terminal process group"* ]]
}
