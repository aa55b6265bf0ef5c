#!/usr/bin/env bash
# The release files, in build/release/:
#
#   devinit-VERSION-linux.tar.gz   devinit-VERSION/: devinit-linux-amd64, devinit-linux-arm64
#                                  (the static binaries), devinit.1, completions/, LICENSE,
#                                  README.md, CHANGELOG.md, and SHA256SUMS of those files
#   devinit_VERSION_amd64.deb      CPack's .deb of each static build
#   devinit_VERSION_arm64.deb
#   SHA256SUMS                     of the tarball and the .debs (sha256sum -c SHA256SUMS)
#
# Builds the static and static-arm64 presets (.ci/install-deps static arm64 first).
set -euo pipefail
cd "$(dirname "$0")/.."

for preset in static static-arm64; do
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j"${JOBS:-2}" 2>&1 | grep -E "error|warning: [^U]" || true
    [ -x "build/$preset/devinit" ] || { echo "release: the $preset build failed" >&2; exit 1; }
    rm -rf "build/$preset/packages"
    (cd "build/$preset" && cpack -G DEB >/dev/null)
done

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' build/static/CMakeCache.txt)
out=build/release
name=devinit-$version
rm -rf "$out"
mkdir -p "$out/$name/completions"
cp build/static/devinit "$out/$name/devinit-linux-amd64"
cp build/static-arm64/devinit "$out/$name/devinit-linux-arm64"
cp build/static/doc/devinit.1 LICENSE README.md CHANGELOG.md "$out/$name/"
cp completions/devinit.bash completions/_devinit "$out/$name/completions/"
(cd "$out/$name" && find . -type f ! -name SHA256SUMS | sort | sed 's|^\./||' | xargs sha256sum >SHA256SUMS)
# The same tree gives the same bytes: fixed owner, order and time (the last commit's).
mtime=$(git log -1 --format=%ct 2>/dev/null || date +%s)
tar -C "$out" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -cf - "$name" |
    gzip -9n >"$out/$name-linux.tar.gz"
rm -rf "${out:?}/$name"
cp build/static/packages/*.deb build/static-arm64/packages/*.deb "$out/"
(cd "$out" && sha256sum -- *.tar.gz *.deb >SHA256SUMS)
ls -l "$out"
