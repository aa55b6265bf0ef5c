#!/usr/bin/env bats
# The Prisma config file, schema, migrations folder and database URL found where the Prisma
# CLI of the installed version finds them, with real npm installs of Prisma 7.10 (the example
# app) and Prisma 6.19, a real `prisma generate`, and a real PostgreSQL. Where Prisma itself
# can say what it read (it fails, or names the .env it loaded), the test asks it too.
bats_require_minimum_version 1.5.0
load ../lib/common
load ../fixtures/migrations/helpers

setup_file() {
    mig_setup_file
    export APP="$BATS_FILE_TMPDIR/app"
    example_app "$APP"
    cd "$APP"
    "$DEVINIT" --only=deps -- true >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
        { cat "$BATS_FILE_TMPDIR/install.log"; return 1; }
    cp -a prisma prisma.config.ts "$BATS_FILE_TMPDIR/"
    export PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
}

teardown_file() { mig_teardown_file; }

# Each test starts from the example's own layout, its database fresh.
setup() {
    cd "$APP"
    rm -rf prisma db .config prisma.config.* prisma7.config.* .env node_modules/.prisma \
        node_modules/.devinit-generate.stamp
    cp -a "$BATS_FILE_TMPDIR/prisma" "$BATS_FILE_TMPDIR/prisma.config.ts" .
    export DB="t${BATS_TEST_NUMBER}_$$"
    pg_psql "$PGDIR" "$PORT" -c "CREATE DATABASE $DB" >/dev/null
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/$DB?schema=public"
}

# "<status>: <reason>" of one step from `devinit check --json`.
step_of() {
    "$DEVINIT" check --only="$1" --json 2>>"$BATS_TEST_TMPDIR/check.err" |
        python3 -c 'import json,sys; d=json.load(sys.stdin)["steps"][sys.argv[1]]; print(d["status"] + ": " + d["reason"])' "$1"
}

pending_of() {
    "$DEVINIT" check --only=migrate --json 2>>"$BATS_TEST_TMPDIR/check.err" |
        python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["steps"]["migrate"]["pending"]))'
}

@test "Prisma 7.10's prisma7.config.ts wins over prisma.config.ts: its schema is generated and its migrations checked" {
    mkdir db
    mv prisma/schema.prisma prisma/migrations db/
    printf '\nmodel MovedWithTheConfig {\n  id Int @id\n}\n' >>db/schema.prisma
    cat >prisma7.config.ts <<'EOF'
import { defineConfig } from "prisma/config";
export default defineConfig({
  schema: "db/schema.prisma",
  migrations: { path: "db/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
EOF
    run step_of generate
    echo "$output"
    [ "$output" = "would-run: the output of generator 'client' ('node_modules/.prisma/client') is missing" ]
    run "$DEVINIT" --only=generate -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"generated the prisma client from db/schema.prisma"* ]]
    grep -q MovedWithTheConfig node_modules/.prisma/client/schema.prisma
    run step_of generate
    [ "$output" = "ok: the client is current with db/schema.prisma and prisma 7.10.0" ]
    # The migrations of the config's folder, all pending on the fresh database.
    run pending_of
    echo "$output"
    [ "$output" = "20250110090000_init 20250117120000_add_profile 20250124153000_add_tags" ]
    # Without the file, its schema is nowhere Prisma looks: a clear error, never "nothing to do".
    rm prisma7.config.ts prisma.config.ts
    run "$DEVINIT" check --only=generate
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"no prisma schema in '"*"' (looked for schema.prisma and prisma/schema.prisma, and no prisma7.config.* or prisma.config.* names one): nothing to generate"* ]]
}

@test "paths written with path.join(__dirname), import.meta.dirname and new URL(import.meta.url) are read as Prisma reads them" {
    mkdir -p .config
    mv prisma db
    cat >.config/prisma.ts <<'EOF'
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";
export default defineConfig({
  schema: path.join(__dirname, "..", "db", "schema.prisma"),
  migrations: { path: fileURLToPath(new URL("../db/migrations", import.meta.url)) },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
EOF
    rm prisma.config.ts
    run "$DEVINIT" --only=generate -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"generated the prisma client from"*"db/schema.prisma"* ]]
    run pending_of
    [ "$output" = "20250110090000_init 20250117120000_add_profile 20250124153000_add_tags" ]
    sed -i 's|path.join(__dirname, "..", "db", "schema.prisma")|path.join(import.meta.dirname, "../db/schema.prisma")|' .config/prisma.ts
    run step_of generate
    echo "$output"
    [ "$output" = "would-run: the prisma config '.config/prisma.ts' changed since the last generate" ]
}

@test "a config value devinit cannot read stops check with 78 naming the key and the setting to use" {
    sed -i 's|schema: "prisma/schema.prisma",|schema: process.env.SCHEMA_PATH,|' prisma.config.ts
    run "$DEVINIT" check --only=generate
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"its \`schema\` value is not a form devinit can read"*"set [prisma] schema (DEVINIT_PRISMA_SCHEMA)"* ]]
    DEVINIT_PRISMA_SCHEMA=prisma/schema.prisma run "$DEVINIT" check --only=generate
    [ "$status" -ne 78 ]
    sed -i 's|    path: "prisma/migrations",|    path: migrationsDir,|' prisma.config.ts
    DEVINIT_PRISMA_SCHEMA=prisma/schema.prisma run "$DEVINIT" check --only=generate,migrate
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"\`migrations.path\` value"*"set [migrate] dir (DEVINIT_MIGRATE_DIR)"* ]]
}

@test "a prisma.config.json, which Prisma refuses, is refused by devinit too" {
    mv prisma.config.ts "$BATS_TEST_TMPDIR/"
    echo '{"schema": "prisma/schema.prisma"}' >prisma.config.json
    run env PRISMA_SCHEMA_ENGINE_BINARY=/bin/true npx --no-install prisma generate
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"Unsupported Prisma config file extension: .json"* ]]
    run "$DEVINIT" check --only=generate
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"prisma config '"*"/prisma.config.json' has an extension Prisma does not load"* ]]
}

@test "Prisma 7 reads a schema folder only when it is named, and devinit says so" {
    mkdir prisma/schema
    mv prisma/schema.prisma prisma/schema/main.prisma
    sed -i '/schema: "prisma\/schema.prisma",/d' prisma.config.ts
    run env PRISMA_SCHEMA_ENGINE_BINARY=/bin/true npx --no-install prisma generate
    echo "$output"
    [ "$status" -ne 0 ]
    run "$DEVINIT" check --only=generate
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"reads the folder prisma/schema/ only when it is named"* ]]
    sed -i 's|export default defineConfig({|export default defineConfig({\n  schema: "prisma/schema",|' prisma.config.ts
    run "$DEVINIT" --only=generate -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"generated the prisma client from prisma/schema"* ]]
}

@test "with a Prisma 7 config, a .env is the URL's source only when the config loads dotenv" {
    echo "DATABASE_URL=$DATABASE_URL" >.env
    unset DATABASE_URL
    run "$DEVINIT" check --only=wait
    echo "$output"
    [ "$status" -eq 78 ]
    [[ "$output" == *"no DATABASE_URL, which the datasource in '"*"' needs: looked in the environment, no .env (a Prisma config file turns Prisma's .env loading off); set DATABASE_URL"* ]]
    sed -i '1i import "dotenv/config";' prisma.config.ts
    run "$DEVINIT" check --only=wait,migrate
    echo "$output"
    [ "$status" -ne 78 ]
    [[ "$output" == *"wait      ok"* ]]
}

@test "Prisma 6 without a config: the root .env, then the one next to the schema, as Prisma 6 loads them" {
    P6="$BATS_FILE_TMPDIR/p6"
    prisma6_install "$P6"
    cd "$P6"
    rm -rf prisma .env
    mkdir prisma
    printf 'datasource db {\n  provider = "postgresql"\n  url = env("P6_URL")\n}\n' >prisma/schema.prisma
    echo "P6_URL=$DATABASE_URL" >prisma/.env
    unset DATABASE_URL
    run npx --no-install prisma validate
    echo "$output"
    [[ "$output" == *"Environment variables loaded from prisma/.env"* ]]
    run "$DEVINIT" check --only=wait
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"wait      ok"* ]]
    DEVINIT_LOG_LEVEL=debug run "$DEVINIT" check --only=wait
    [[ "$output" == *"database url from P6_URL (from 'prisma/.env')"* ]]
    # The root .env wins where both define it.
    echo "P6_URL=postgresql://postgres@127.0.0.1:1/nothere" >.env
    run npx --no-install prisma validate
    echo "$output"
    [[ "$output" == *"Environment variables loaded from .env"* ]]
    DEVINIT_LOG_LEVEL=debug run "$DEVINIT" check --only=wait
    echo "$output"
    [[ "$output" == *"database url from P6_URL (from '.env')"* ]]
    rm -rf prisma .env
}

@test "a client never generated, only @prisma/client's placeholder in place, is 'not generated yet'" {
    # What Prisma 5 and 6's install script (scripts/postinstall.js) puts there.
    mkdir -p node_modules/.prisma/client
    cp node_modules/@prisma/client/scripts/default-index.js node_modules/.prisma/client/index.js
    run step_of generate
    echo "$output"
    [ "$output" = "would-run: no stamp and the client in 'node_modules/.prisma/client' is not generated yet (only @prisma/client's placeholder is there)" ]
}

@test "Prisma 7.10 with prisma-client and an output folder: generated once, then current" {
    rm -rf src/generated
    sed -i 's|  provider = "prisma-client-js"|  provider = "prisma-client"\n  output   = "../src/generated/prisma"|' prisma/schema.prisma
    run "$DEVINIT" --only=generate -- true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"generated the prisma client from prisma/schema.prisma"* ]]
    run step_of generate
    echo "$output"
    [ "$output" = "ok: the client is current with prisma/schema.prisma and prisma 7.10.0" ]
    rm -rf src/generated
}
