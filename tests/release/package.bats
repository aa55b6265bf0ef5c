#!/usr/bin/env bats
# What a release ships (cmake/release.sh, cmake/packaging.cmake): the man page renders, the
# completions complete, `cmake --install` places every file, each .deb installs with dpkg
# into a throw-away root and is lintian-clean of errors, and the tarball carries both static
# binaries with checksums that verify. Run after cmake/release.sh (tests/release/run.sh does).

bats_require_minimum_version 1.5.0
ROOT_DIR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
REL=$ROOT_DIR/build/release
BUILD=$ROOT_DIR/build/static

setup() {
    [ -f "$REL/SHA256SUMS" ] || { echo "no release files: bash cmake/release.sh"; false; }
    VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
}

@test "the man page renders with man -l, without warnings, and lexgrog finds its NAME line" {
    run --separate-stderr env MANWIDTH=80 man --warnings -l "$BUILD/doc/devinit.1"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ] || { echo "$stderr"; false; }
    [[ "$output" == *"devinit - prepare a Node.js and Prisma dev container"* ]]
    for word in check sync status health --skip --only --stop-timeout --json "EXIT STATUS" 78; do
        [[ "$output" == *"$word"* ]] || { echo "the page lacks $word"; false; }
    done
    run lexgrog "$BUILD/doc/devinit.1"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *'"devinit - prepare'* ]]
}

@test "cmake --install places the binary, the man page, the license and both completions" {
    local dest=$BATS_TEST_TMPDIR/prefix
    run cmake --install "$BUILD" --prefix "$dest"
    [ "$status" -eq 0 ]
    for f in bin/devinit share/man/man1/devinit.1.gz share/doc/devinit/LICENSE \
        share/doc/devinit/copyright share/doc/devinit/CHANGELOG.md \
        share/bash-completion/completions/devinit share/zsh/vendor-completions/_devinit; do
        [ -f "$dest/$f" ] || { echo "missing: $f"; false; }
    done
    [ -x "$dest/bin/devinit" ]
    cmp "$dest/share/doc/devinit/LICENSE" "$ROOT_DIR/LICENSE"
}

# complete WORDS...: what the bash completion offers for the last word.
complete_bash() {
    bash -c 'source /usr/share/bash-completion/bash_completion
             source "$1"; shift
             COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
             _devinit; printf "%s\n" "${COMPREPLY[@]}"' complete "$ROOT_DIR/completions/devinit.bash" "$@"
}

@test "the bash completion offers the commands, the options and the step names" {
    [ -f /usr/share/bash-completion/bash_completion ] || { echo "bash-completion is not installed"; false; }
    run complete_bash devinit ""
    for w in check sync status health; do grep -qx "$w" <<<"$output" || { echo "no $w: $output"; false; }; done
    run complete_bash devinit --
    for w in --config --skip= --only= --stop-timeout= --json --verbose --quiet --help --version; do
        grep -qx -- "$w" <<<"$output" || { echo "no $w: $output"; false; }
    done
    run complete_bash devinit --skip=g
    [ "$output" = generate ]
    run complete_bash devinit --only=deps,m
    [ "$output" = deps,migrate ]
}

@test "the zsh completion is valid zsh" {
    command -v zsh >/dev/null || { echo "zsh is not installed"; false; }
    run zsh -n "$ROOT_DIR/completions/_devinit"
    [ "$status" -eq 0 ]
}

@test "each .deb installs with dpkg into an empty root, dpkg -L lists its files, and it removes cleanly" {
    local arch root
    for arch in amd64 arm64; do
        root=$BATS_TEST_TMPDIR/root-$arch
        mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
        touch "$root/var/lib/dpkg/status"
        run dpkg --root="$root" --force-architecture -i "$REL/devinit_${VERSION}_$arch.deb"
        echo "$output"
        [ "$status" -eq 0 ]
        run dpkg --root="$root" -L devinit
        echo "$output"
        for f in /usr/bin/devinit /usr/share/man/man1/devinit.1.gz /usr/share/doc/devinit/copyright \
            /usr/share/doc/devinit/changelog.gz /usr/share/bash-completion/completions/devinit \
            /usr/share/zsh/vendor-completions/_devinit; do
            grep -qx "$f" <<<"$output" || { echo "$arch: dpkg -L lacks $f"; false; }
        done
        run dpkg-deb -f "$REL/devinit_${VERSION}_$arch.deb" Architecture Depends
        [ "$output" = "Architecture: $arch" ]
        run dpkg --root="$root" -r devinit
        [ "$status" -eq 0 ]
        [ ! -e "$root/usr/bin/devinit" ]
    done
    # The amd64 package's binary runs and names its revision.
    dpkg --root="$root-run" --force-architecture -i "$REL/devinit_${VERSION}_amd64.deb" >/dev/null 2>&1 || {
        mkdir -p "$root-run/var/lib/dpkg/info" "$root-run/var/lib/dpkg/updates"
        touch "$root-run/var/lib/dpkg/status"
        dpkg --root="$root-run" -i "$REL/devinit_${VERSION}_amd64.deb" >/dev/null
    }
    run "$root-run/usr/bin/devinit" --version
    [[ "${lines[0]}" == "devinit $VERSION (revision "* ]]
}

@test "lintian finds no error in either .deb" {
    local arch
    for arch in amd64 arm64; do
        run --separate-stderr lintian --tag-display-limit 0 "$REL/devinit_${VERSION}_$arch.deb"
        echo "$arch: $output"
        ! grep -q '^E:' <<<"$output"
    done
}

@test "the release tarball holds both static binaries, the docs and SHA256SUMS that verify" {
    local dir=$BATS_TEST_TMPDIR/unpacked
    (cd "$REL" && sha256sum -c SHA256SUMS)
    mkdir -p "$dir"
    tar -C "$dir" -xzf "$REL/devinit-$VERSION-linux.tar.gz"
    cd "$dir/devinit-$VERSION"
    run sha256sum -c SHA256SUMS
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"devinit-linux-amd64: OK"* ]]
    [[ "$output" == *"devinit-linux-arm64: OK"* ]]
    run file devinit-linux-amd64 devinit-linux-arm64
    echo "$output"
    [[ "$(sed -n 1p <<<"$output")" == *"x86-64"*"statically linked"* ]]
    [[ "$(sed -n 2p <<<"$output")" == *"ARM aarch64"*"statically linked"* ]]
    for f in LICENSE README.md CHANGELOG.md devinit.1 completions/devinit.bash completions/_devinit; do
        [ -f "$f" ] || { echo "missing: $f"; false; }
    done
}
