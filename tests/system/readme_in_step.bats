#!/usr/bin/env bats
# The README documents every configuration key (as config.ini.example has them) and every
# exit code devinit defines.
load ../lib/common

@test "the README's configuration table has every key of config.ini.example with its default" {
    python3 - "$DEVINIT_SOURCE_DIR" <<'PY'
import re, sys
root = sys.argv[1]
readme = open(f"{root}/README.md").read()
sec = None
missing = []
for line in open(f"{root}/config.ini.example"):
    m = re.match(r"^\[(\w+)\]", line)
    if m:
        sec = m.group(1)
        continue
    m = re.match(r"^(\w+) = ?(.*)$", line.rstrip("\n"))
    if m and sec:
        key, default = m.groups()
        want = f"| `[{sec}] {key}` | " + (f"`{default}`" if default else "(empty)")
        if want not in readme:
            missing.append(want)
assert not missing, "README lacks: " + ", ".join(missing)
PY
}

@test "the README's exit-code table has every code of exitcodes.h" {
    codes=$(grep -oE '= [0-9]+,' "$DEVINIT_SOURCE_DIR/lib/base/exitcodes.h" | grep -oE '[0-9]+')
    for c in $codes; do
        case $c in 0|1|128) continue ;; esac
        grep -qE "^\| ${c} \|" "$DEVINIT_SOURCE_DIR/README.md" || { echo "exit code $c missing"; return 1; }
    done
}

@test "every option of --help is in the README" {
    for opt in $("$DEVINIT" --help | grep -oE -- '--[a-z-]+' | sort -u); do
        grep -q -- "$opt" "$DEVINIT_SOURCE_DIR/README.md" || { echo "$opt missing"; return 1; }
    done
}
