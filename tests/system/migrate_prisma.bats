#!/usr/bin/env bats
# devinit's migrations against Prisma's own: Prisma 6.19's `migrate status` (the js schema
# engine with @prisma/adapter-pg runs offline here) must agree with what a native deploy
# left, and `deploy_with = prisma` runs Prisma's CLI as a supervised child.
#
# Prisma is installed with real npm once into the build directory and reused (~15 s the
# first time, from the npm registry).
load ../lib/common
load ../fixtures/migrations/helpers

setup_file() {
    mig_setup_file
    export PEER="${DEVINIT_BUILD_DIR:-$BATS_FILE_TMPDIR}/cache/prisma-$PRISMA6_VERSION"
    prisma6_install "$PEER" 2>&3
}

teardown_file() { mig_teardown_file; }

setup() {
    mig_setup
    ln -s "$PEER/node_modules" node_modules
    # Prisma 6 wants a url even when the adapter makes the connection.
    printf 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n' \
        >prisma/schema.prisma
    cp "$DEVINIT_SOURCE_DIR/tests/fixtures/migrations/prisma6.config.ts" prisma.config.ts
    add_migration 20240101000000_init "$(printf -- '-- CreateTable\nCREATE TABLE "User" (\n    "id" SERIAL NOT NULL,\n    "email" TEXT NOT NULL,\n\n    CONSTRAINT "User_pkey" PRIMARY KEY ("id")\n);')"
    add_migration 20240102000000_email 'CREATE UNIQUE INDEX "User_email_key" ON "User"("email");'
}

prisma_status() {
    run timeout 60 node_modules/.bin/prisma migrate status
    echo "prisma migrate status: exit $status"
    echo "$output"
}

@test "Prisma 6.19 migrate status finds a natively deployed database up to date" {
    DEVINIT_MIGRATE_MODE=deploy run "$DEVINIT" --only=migrate -- true
    echo "$output"
    [ "$status" -eq 0 ]
    prisma_status
    [ "$status" -eq 0 ]
    [[ "$output" == *"2 migrations found in prisma/migrations"* ]]
    [[ "$output" == *"Database schema is up to date!"* ]]

    # And the other way round: what Prisma calls pending, devinit calls pending.
    add_migration 20240103000000_more 'CREATE TABLE "Post" (id int);'
    prisma_status
    [ "$status" -ne 0 ]
    [[ "$output" == *"20240103000000_more"* ]]
    check_json
    [ "$(json_field "$JSON" pending)" = '["20240103000000_more"]' ]
}

@test "Prisma 6.19 migrate status sees the failed migration a native deploy left" {
    add_migration 20240103000000_bad 'CREATE TABLE "Broken" (id nosuchtype);'
    DEVINIT_MIGRATE_MODE=deploy run "$DEVINIT" --only=migrate -- true
    [ "$status" -eq 65 ]
    prisma_status
    [ "$status" -ne 0 ]
    [[ "$output" == *"have failed"* ]]
    [[ "$output" == *"20240103000000_bad"* ]]
    check_json
    [ "$(json_field "$JSON" failed)" = '["20240103000000_bad"]' ]
}

@test "deploy_with = prisma runs Prisma's CLI as a supervised child with its output prefixed" {
    # Prisma 6.19's js engine cannot apply migrations (it fails reading pg_class.relname,
    # a `name` column): the run shows devinit starting the real CLI, streaming its output
    # under the step's name and reporting its exit status.
    DEVINIT_MIGRATE_MODE=deploy DEVINIT_MIGRATE_DEPLOY_WITH=prisma \
        run "$DEVINIT" --only=migrate -- touch started
    echo "$output"
    [ "$status" -eq 70 ]
    [ ! -e started ]
    [[ "$output" == *"devinit: migrate| "*"2 migrations found in prisma/migrations"* ]]
    # It reached the database through the URL devinit had.
    [[ "$output" == *"devinit: migrate| Datasource \"db\": PostgreSQL database \"$DB\""* ]]
    [[ "$output" == *"'node_modules/.bin/prisma migrate deploy' exited with code 1"* ]]
}

@test "deploy_with = prisma without an installed CLI says how to fix it" {
    rm node_modules
    DEVINIT_MIGRATE_MODE=deploy DEVINIT_MIGRATE_DEPLOY_WITH=prisma \
        run "$DEVINIT" --only=migrate -- touch started
    echo "$output"
    [ "$status" -eq 70 ]
    [[ "$output" == *"node_modules/.bin/prisma"*"set [migrate] deploy_with = native"* ]]
}

@test "deploy_with = prisma in a workspace runs the schema package's CLI there, with the config" {
    # npm workspaces: the app in apps/api, Prisma's config, schema, migrations and CLI in
    # packages/db (its own node_modules, as pnpm lays a member out).
    WS="$BATS_TEST_TMPDIR/ws"
    mkdir -p "$WS/apps/api" "$WS/packages"
    echo '{"name":"ws","private":true,"workspaces":["apps/*","packages/*"]}' >"$WS/package.json"
    echo '{"name":"api","version":"1.0.0"}' >"$WS/apps/api/package.json"
    mv "$APP" "$WS/packages/db"
    echo '{"name":"db","version":"1.0.0"}' >"$WS/packages/db/package.json"
    cd "$WS"
    DEVINIT_APP_DIR=apps/api DEVINIT_PRISMA_CONFIG=../../packages/db/prisma.config.ts \
        DEVINIT_MIGRATE_MODE=deploy DEVINIT_MIGRATE_DEPLOY_WITH=prisma \
        run "$DEVINIT" --only=migrate -- touch started
    echo "$output"
    [ "$status" -eq 70 ] # Prisma 6.19's js engine cannot apply them (see above)
    [[ "$output" == *"devinit: migrate| "*"2 migrations found in prisma/migrations"* ]]
    [[ "$output" == *"devinit: migrate| Datasource \"db\": PostgreSQL database \"$DB\""* ]]
    [[ "$output" == *"'node_modules/.bin/prisma migrate deploy --config=prisma.config.ts' exited with code 1"* ]]
}
