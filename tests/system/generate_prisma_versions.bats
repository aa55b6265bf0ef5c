#!/usr/bin/env bats
# Prisma 5.22 and 6.19 projects, installed for real from the npm registry by npm, generated for
# real by their own CLI: devinit generates once, then knows the client is current, for both
# generators (prisma-client-js and prisma-client). No engine can be downloaded here: the CLI's
# engine variables name /bin/true, which `prisma generate` copies but never runs; devinit runs
# the CLI with the environment as it is, so it sees the same.
bats_require_minimum_version 1.5.0
load ../lib/common

setup_file() {
    export npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false
    export PRISMA_SCHEMA_ENGINE_BINARY=/bin/true PRISMA_QUERY_ENGINE_LIBRARY=/bin/true
    export PRISMA_GENERATE_SKIP_AUTOINSTALL=1 PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
}

# project DIR VERSION GENERATOR-BLOCK: package.json and lockfile for prisma and @prisma/client
# VERSION, a schema with that generator, installed by devinit's deps step.
project() {
    local dir=$1 version=$2 gen=$3
    mkdir -p "$dir/prisma"
    cd "$dir"
    cat >package.json <<EOF
{ "name": "p", "version": "1.0.0", "private": true,
  "dependencies": { "@prisma/client": "$version" }, "devDependencies": { "prisma": "$version" } }
EOF
    printf '%s\n\ndatasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n\nmodel User {\n  id    Int    @id @default(autoincrement())\n  email String @unique\n}\n' \
        "$gen" >prisma/schema.prisma
    npm install --package-lock-only --ignore-scripts >npm.log 2>&1 || { cat npm.log; return 1; }
    run "$DEVINIT" --only=deps -- true
    echo "$output"
    [ "$status" -eq 0 ]
    # @prisma/client 5 and 6 may have generated at install (their postinstall): start from none.
    rm -rf node_modules/.prisma src/generated
}

# generates_then_current: the first start generates, the second does not, check says current.
generates_then_current() {
    local version=$1 schema=$2
    run "$DEVINIT" --only=generate -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"generated the prisma client from prisma/schema.prisma"* ]]
    run "$DEVINIT" --only=generate -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" != *"generate| "* ]]
    run "$DEVINIT" check --only=generate
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"the client is current with prisma/schema.prisma and prisma $version"* ]]
    # An edit is seen, and a generate makes it current again.
    printf '\nmodel Post {\n  id Int @id\n}\n' >>prisma/schema.prisma
    run "$DEVINIT" check --only=generate
    [ "$status" -eq 1 ]
    [[ "$output" == *"prisma/schema.prisma changed since the last generate"* ]]
}

@test "Prisma 5.22 with prisma-client-js: generated once, then current" {
    project "$BATS_TEST_TMPDIR/p5" 5.22.0 'generator client {
  provider = "prisma-client-js"
}'
    generates_then_current 5.22.0
    grep -q '"clientVersion": "5.22.0"' node_modules/.prisma/client/index.js
}

@test "Prisma 6.19 with prisma-client-js: generated once, then current" {
    project "$BATS_TEST_TMPDIR/p6" 6.19.3 'generator client {
  provider = "prisma-client-js"
}'
    generates_then_current 6.19.3
    grep -q '"clientVersion": "6.19.3"' node_modules/.prisma/client/index.js
}

@test "Prisma 6.19 with prisma-client and an output folder: generated once, then current" {
    project "$BATS_TEST_TMPDIR/p6c" 6.19.3 'generator client {
  provider = "prisma-client"
  output   = "../src/generated/prisma"
}'
    generates_then_current 6.19.3
    [ -d src/generated/prisma ]
}
