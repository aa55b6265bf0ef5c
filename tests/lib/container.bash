# Shared by the podman tests (container_*.bats): podman's settings from the project's own
# files (nothing under /etc changes), the static devinit, and the common checks.

export CONTAINERS_CONF=$DEVINIT_SOURCE_DIR/tests/container/containers.conf
export CONTAINERS_STORAGE_CONF=$DEVINIT_SOURCE_DIR/tests/container/storage.conf

static_bin() {
    echo "${DEVINIT_STATIC_BIN:-$DEVINIT_SOURCE_DIR/build/static/devinit}"
}

# Whether the file's containers can be built here at all (for setup_file, which must not
# fail where the tests will skip).
containers_possible() {
    command -v podman >/dev/null && [ -x "$(static_bin)" ]
}

# For setup: skip without podman or a static build, but fail when CI named a static binary
# that is not there.
require_containers() {
    command -v podman >/dev/null || skip "podman is not installed"
    if [ ! -x "$(static_bin)" ]; then
        [ -z "${DEVINIT_STATIC_BIN:-}" ] || { echo "DEVINIT_STATIC_BIN is not executable"; false; }
        skip "no static build: cmake --preset static && cmake --build --preset static"
    fi
}

# build_image CONTAINERFILE CONTEXT IMAGE: builds with the devinit-test label (tests/run.sh
# removes leftovers by it); prints podman's output to the terminal on failure.
build_image() {
    podman build -q --label devinit-test=1 -f "$DEVINIT_SOURCE_DIR/tests/container/$1" \
        -t "$3" "$2" >"$2.build.log" 2>&1 || { cat "$2.build.log" >&3; return 1; }
}

# running NAME: the container is up.
running() {
    [ "$(podman inspect --format '{{.State.Running}}' "${1:-$NAME}" 2>/dev/null)" = true ]
}
