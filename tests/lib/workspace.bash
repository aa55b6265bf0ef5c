# A monorepo fixture, shared by tests/system/deps_workspace.bats and bench/layouts.sh:
#     . tests/lib/workspace.bash   (or `load ../lib/workspace` in bats)
# Needs DEVINIT_SOURCE_DIR (tests/lib/common.bash sets it).

# workspace DIR MANAGER: a monorepo in DIR whose packages/db is examples/app's Prisma part and
# apps/api depends on it, locked by MANAGER (npm, pnpm, yarn), with nothing installed.
workspace() {
    local dir=$1 manager=$2 src="$DEVINIT_SOURCE_DIR/examples/app" db='"*"'
    mkdir -p "$dir/apps/api" "$dir/packages/db"
    cp -r "$src/prisma" "$src/prisma.config.ts" "$dir/packages/db/"
    case $manager in
    pnpm)
        printf 'packages:\n  - "apps/*"\n  - "packages/*"\n' >"$dir/pnpm-workspace.yaml"
        printf '{"name": "mono", "private": true}\n' >"$dir/package.json"
        db='"workspace:*"'
        ;;
    yarn)
        printf '{"name": "mono", "private": true, "workspaces": ["apps/*", "packages/*"]}\n' >"$dir/package.json"
        db='"1.0.0"'
        # Yarn 1 enforces "engines"; a dependency of prisma wants node 22, this machine has 20.
        echo 'ignore-engines true' >"$dir/.yarnrc"
        ;;
    *) printf '{"name": "mono", "private": true, "workspaces": ["apps/*", "packages/*"]}\n' >"$dir/package.json" ;;
    esac
    cat >"$dir/packages/db/package.json" <<'EOF'
{"name": "db", "version": "1.0.0", "private": true,
 "dependencies": {"@prisma/adapter-pg": "7.10.0", "@prisma/client": "7.10.0", "pg": "^8.16.0"},
 "devDependencies": {"prisma": "7.10.0"}}
EOF
    printf '{"name": "api", "version": "1.0.0", "private": true, "dependencies": {"db": %s}}\n' "$db" >"$dir/apps/api/package.json"
    case $manager in
    npm) (cd "$dir" && npm install --package-lock-only >/dev/null 2>&1) ;;
    pnpm) (cd "$dir" && pnpm install --lockfile-only >/dev/null 2>&1) ;;
    yarn) (cd "$dir" && yarn install --ignore-scripts --silent >/dev/null 2>&1 && rm -rf node_modules) ;;
    esac
}
