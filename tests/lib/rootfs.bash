# Clean Debian 12 root file systems for the release checks (tests/release/): the fresh
# machine of tests/release/fresh_machine.sh and the base images of tests/release/image.bats.
# Sourced; needs root and debootstrap.
#
#     rootfs_make DIR          a Debian 12 minbase root in DIR, as debootstrap makes it
#     rootfs_run DIR CMD...    CMD inside DIR: its own mount and PID namespaces, so every
#                              mount and every process it leaves ends with it
#
# debootstrap takes about a minute; its result is kept as a tarball in $DEVINIT_CACHE
# (default /var/cache/devinit-tests), named by a hash of this file and the mirror, so a change
# here makes a new one. Nothing else is cached: the root holds no package beyond minbase.

: "${DEVINIT_CACHE:=/var/cache/devinit-tests}"
ROOTFS_SUITE=bookworm

# The machine's Debian mirror, from its apt sources (deb822 or one-line form).
rootfs_mirror() {
    local uri
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/ {print $2}' | grep -v -- '-security' | head -n1)
    [ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" && $3 !~ /security/ {print $2; exit}')
    [ -n "$uri" ] || { echo "rootfs: no Debian mirror in /etc/apt/sources.list*" >&2; return 1; }
    echo "$uri"
}

rootfs_make() {
    local dir=$1 mirror key tarball
    mirror=$(rootfs_mirror) || return 1
    key=$({ cat "${BASH_SOURCE[0]}"; echo "$mirror"; } | sha256sum | cut -c1-12)
    tarball=$DEVINIT_CACHE/$ROOTFS_SUITE-minbase-$key.tar
    mkdir -p "$dir"
    if [ ! -s "$tarball" ]; then
        command -v debootstrap >/dev/null || { echo "rootfs: debootstrap is not installed" >&2; return 1; }
        local tmp
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/rootfs.XXXXXX")
        echo "rootfs: debootstrap --variant=minbase $ROOTFS_SUITE (cached as $tarball)" >&2
        debootstrap --variant=minbase "$ROOTFS_SUITE" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
            { tail -n 20 "$tmp/debootstrap.log" >&2; rm -rf "$tmp"; return 1; }
        # apt's downloads and lists are not part of a fresh machine.
        rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*_Packages
        mkdir -p "$DEVINIT_CACHE"
        rm -f "$DEVINIT_CACHE/$ROOTFS_SUITE-minbase-"*.tar
        tar -C "$tmp/root" --numeric-owner -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
        rm -rf "$tmp"
    fi
    tar -C "$dir" --numeric-owner -xf "$tarball"
}

# rootfs_network DIR: what the machine's network needs inside DIR, as a new machine on this
# network would be set up: its resolver, its apt sources (Debian's installer writes the
# security and updates suites too), and any local certificate authority a TLS proxy on the
# way to the npm registry signs with (ca-certificates folds them in when it is installed).
rootfs_network() {
    local dir=$1 f
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
        rm -f "$dir/etc/apt/sources.list"
        cp /etc/apt/sources.list.d/*.sources "$dir/etc/apt/sources.list.d/"
    fi
    mkdir -p "$dir/usr/local/share/ca-certificates"
    for f in /usr/local/share/ca-certificates/*.crt; do
        [ -f "$f" ] && cp "$f" "$dir/usr/local/share/ca-certificates/"
    done
    # As Debian's container images do: dpkg does not fsync every file of a throw-away root.
    echo force-unsafe-io >"$dir/etc/dpkg/dpkg.cfg.d/unsafe-io"
}

# rootfs_run DIR CMD...: runs CMD as root in DIR with a clean environment (the machine's
# proxy and CA variables kept), /proc, /dev, /dev/pts and /sys mounted, and apt's download
# cache shared with earlier runs ($DEVINIT_CACHE/apt-archives: downloads only; every package
# is still installed anew). CMD is PID 1's child in a new PID namespace: when it exits, the
# kernel ends everything it left running, and the mount namespace takes every mount with it.
rootfs_run() {
    local dir=$1
    shift
    mkdir -p "$DEVINIT_CACHE/apt-archives/partial"
    local keep=() v
    for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY NODE_EXTRA_CA_CERTS TERM; do
        [ -z "${!v:-}" ] || keep+=("$v=${!v}")
    done
    unshare --mount --pid --fork --propagation private /bin/bash -c '
        set -e
        dir=$1 cache=$2
        shift 2
        # The root a mount point of its own, or an unshare --mount inside fails to make it private.
        mount --bind "$dir" "$dir"
        mount -t proc proc "$dir/proc"
        mount --rbind /dev "$dir/dev"
        mount -t sysfs sysfs "$dir/sys"
        mkdir -p "$dir/var/cache/apt/archives"
        mount --bind "$cache" "$dir/var/cache/apt/archives"
        exec chroot "$dir" "$@"
    ' rootfs-run "$dir" "$DEVINIT_CACHE/apt-archives" \
        /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 "${keep[@]}" "$@"
}
