#!/usr/bin/env bash
# Every C file of the project against the repo's .clang-format. Without arguments it checks
# and fails naming each file that differs (CI); with --fix it formats them in place.
#
#     bash tests/format.sh          # check
#     bash tests/format.sh --fix    # format
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format: clang-format is not installed" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find lib entrypoint tests bench -name '*.[ch]')
if [ "${1:-}" = --fix ]; then
    clang-format -i "${files[@]}"
    exit 0
fi
bad=0
for f in "${files[@]}"; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "format: $f differs from .clang-format: run bash tests/format.sh --fix" >&2
        bad=1
    fi
done
exit $bad
