#!/usr/bin/env bats
# The generate step with real `prisma generate` (Prisma 7) on a copy of examples/app: it
# generates exactly when the client does not match the schema, the config or the installed
# Prisma, and skips otherwise. One npm install for the whole file; the tests run in order and
# build on each other's client.
load ../lib/common

setup_file() {
    export APP="$BATS_FILE_TMPDIR/app"
    example_app "$APP"
    cd "$APP"
    "$DEVINIT" --only=deps -- true >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
        { cat "$BATS_FILE_TMPDIR/install.log"; return 1; }
    # Some environments let @prisma/client's install scripts generate a client: start from none.
    rm -rf node_modules/.prisma
    cp prisma/schema.prisma "$BATS_FILE_TMPDIR/schema.orig"
    export CLIENT="$APP/node_modules/.prisma/client/index.js"
    export STAMP="$APP/node_modules/.devinit-generate.stamp"
}

setup() {
    cd "$APP"
}

# A start through deps and generate, then an app that says it ran.
start() {
    run env "$@" "$DEVINIT" --only=deps,generate -- sh -c 'echo APP-RAN'
    echo "$output"
}

# "<status>: <reason>" of the generate step from `devinit check --json`.
check_reason() {
    env "$@" "$DEVINIT" check --only=generate --json 2>>"$BATS_TEST_TMPDIR/check.err" |
        python3 -c 'import json,sys; d=json.load(sys.stdin)["steps"]["generate"]; print(d["status"] + ": " + d["reason"])'
}

client_id() { stat -c '%i %s %.9Y' "$CLIENT"; }

@test "a first start generates the missing client, writes the stamp and starts the app" {
    [ ! -e "$CLIENT" ]
    start
    [ "$status" -eq 0 ]
    [[ "$output" == *"the output of generator 'client' ('node_modules/.prisma/client') is missing"* ]]
    [[ "$output" == *"generate| "*"Generated Prisma Client (v7.10.0)"* ]]
    [[ "$output" == *"generated the prisma client from prisma/schema.prisma"* ]]
    [[ "${lines[-1]}" == "APP-RAN" ]] # after the client, never before
    grep -q '"clientVersion": "7.10.0"' "$CLIENT"
    grep -q '^schema [0-9a-f]\{64\}$' "$STAMP"
    grep -q '^prisma 7.10.0$' "$STAMP"
    grep -q '^config prisma.config.ts [0-9a-f]\{64\}$' "$STAMP"
}

@test "a second start with everything current skips generate" {
    before=$(client_id)
    run check_reason
    echo "$output"
    [ "$output" = "ok: the client is current with prisma/schema.prisma and prisma 7.10.0" ]
    start
    [ "$status" -eq 0 ]
    [[ "$output" != *"generate| "* ]] # prisma never ran
    [[ "$output" == *APP-RAN* ]]
    [ "$(client_id)" = "$before" ]
}

@test "a schema change regenerates" {
    sed -i 's/^  name      String?$/  name      String?\n  nickname  String?/' prisma/schema.prisma
    grep -q nickname prisma/schema.prisma
    run check_reason
    echo "$output"
    [ "$output" = "would-run: prisma/schema.prisma changed since the last generate" ]
    start
    [ "$status" -eq 0 ]
    [[ "$output" == *"prisma/schema.prisma changed since the last generate"* ]]
    [[ "$output" == *"generated the prisma client"* ]]
    grep -q 'nickname' "$CLIENT"
    run check_reason
    [[ "$output" == "ok: "* ]]
}

@test "a whitespace-only schema edit does not regenerate" {
    before=$(client_id)
    cp prisma/schema.prisma "$BATS_TEST_TMPDIR/schema"
    # Re-indent, pad, add blank lines and trailing blanks: what an editor or prisma format does.
    sed -i -e 's/^  /\t/' -e 's/ = /   =   /' -e 's/}$/}\n\n/' -e 's/$/  /' prisma/schema.prisma
    run cmp -s prisma/schema.prisma "$BATS_FILE_TMPDIR/schema.orig"
    [ "$status" -ne 0 ]
    run check_reason
    echo "$output"
    [ "$output" = "ok: the client is current with prisma/schema.prisma and prisma 7.10.0" ]
    start
    [ "$status" -eq 0 ]
    [[ "$output" != *"generate| "* ]]
    [ "$(client_id)" = "$before" ]
    cp "$BATS_TEST_TMPDIR/schema" prisma/schema.prisma
}

@test "a whitespace edit inside a string literal is a change" {
    sed -i 's/@default(MEMBER)/@default(MEMBER) @map("role")/' prisma/schema.prisma
    start
    [ "$status" -eq 0 ]
    sed -i 's/@map("role")/@map("ro le")/' prisma/schema.prisma
    run check_reason
    echo "$output"
    [ "$output" = "would-run: prisma/schema.prisma changed since the last generate" ]
    sed -i 's/ @map("ro le")//' prisma/schema.prisma
}

@test "a deleted client output regenerates" {
    rm -rf node_modules/.prisma/client
    run check_reason
    echo "$output"
    [ "$output" = "would-run: the output of generator 'client' ('node_modules/.prisma/client') is missing" ]
    start
    [ "$status" -eq 0 ]
    [[ "$output" == *"generated the prisma client"* ]]
    [ -f "$CLIENT" ]
}

@test "an existing client with no stamp that matches the schema is kept and stamped" {
    rm "$STAMP"
    before=$(client_id)
    run check_reason
    echo "$output"
    [ "$output" = "ok: the client matches prisma/schema.prisma and prisma 7.10.0 (judged by its content)" ]
    [ ! -e "$STAMP" ] # check changes nothing
    start
    [ "$status" -eq 0 ]
    [[ "$output" != *"generate| "* ]]
    [ "$(client_id)" = "$before" ]
    [ -f "$STAMP" ] # adopted: the next start takes the stamp's fast path
    run check_reason
    echo "$output"
    [ "$output" = "ok: the client is current with prisma/schema.prisma and prisma 7.10.0" ]
}

@test "an existing client with no stamp whose schema differs regenerates" {
    rm "$STAMP"
    sed -i 's/^  bio    String?$/  bio    String?\n  avatar String?/' prisma/schema.prisma
    grep -q avatar prisma/schema.prisma
    run check_reason
    echo "$output"
    [ "$output" = "would-run: no stamp and the client's schema differs from prisma/schema.prisma" ]
    start
    [ "$status" -eq 0 ]
    [[ "$output" == *"no stamp and the client's schema differs from prisma/schema.prisma"* ]]
    grep -q avatar "$CLIENT"
}

@test "a client regenerated by hand from another schema is judged by its content" {
    run check_reason
    [[ "$output" == "ok: "* ]]
    cp prisma/schema.prisma "$BATS_TEST_TMPDIR/schema"
    # Someone generates from an edited schema, then reverts the file (a git checkout):
    sed -i 's/^  title     String$/  title     String\n  subtitle  String?/' prisma/schema.prisma
    node_modules/.bin/prisma generate >/dev/null 2>&1
    grep -q subtitle "$CLIENT"
    cp "$BATS_TEST_TMPDIR/schema" prisma/schema.prisma
    run check_reason
    echo "$output"
    [ "$output" = "would-run: the client changed since the last generate and the client's schema differs from prisma/schema.prisma" ]
    start
    [ "$status" -eq 0 ]
    run grep -q subtitle "$CLIENT"
    [ "$status" -ne 0 ]
}

@test "a Prisma config change makes the client stale" {
    cp prisma.config.ts "$BATS_TEST_TMPDIR/config"
    echo "// edited" >>prisma.config.ts
    run check_reason
    cp "$BATS_TEST_TMPDIR/config" prisma.config.ts
    [ "$output" = "would-run: the prisma config 'prisma.config.ts' changed since the last generate" ]
}

@test "mode always generates at every start and mode off never" {
    before=$(client_id)
    start DEVINIT_GENERATE_MODE=always
    [ "$status" -eq 0 ]
    [[ "$output" == *"[generate] mode = always"* ]]
    [[ "$output" == *"generated the prisma client"* ]]
    [ "$(client_id)" != "$before" ]
    rm -rf node_modules/.prisma/client
    start DEVINIT_GENERATE_MODE=off
    [ "$status" -eq 0 ]
    [[ "$output" != *"generate| "* ]]
    [ ! -e "$CLIENT" ]
    run check_reason DEVINIT_GENERATE_MODE=off
    [ "$output" = "skipped: [generate] mode = off" ]
}

@test "a failing generate exits 70 with Prisma's message and the app does not start" {
    echo 'model Broken { id Int @id' >>prisma/schema.prisma # no closing brace
    start
    [ "$status" -eq 70 ]
    [[ "$output" == *"generate| "*"P1012"* ]] # Prisma's own diagnosis, streamed
    [[ "$output" == *"generate: error: '"*"/node_modules/.bin/prisma generate --schema "*"' exited with code 1"* ]]
    [[ "$output" != *APP-RAN* ]]
    [ ! -e "$STAMP" ]
    # Fixed: generated again at the next start.
    cp "$BATS_FILE_TMPDIR/schema.orig" prisma/schema.prisma
    start
    [ "$status" -eq 0 ]
    [[ "$output" == *"generated the prisma client"* ]]
    [ -f "$STAMP" ]
}

@test "a schema folder is found, generated and then judged by the content of all its files" {
    mkdir prisma/schema
    # Split the schema: the generator and datasource in one file, the models in two others.
    awk '/^enum Role/{f=1} f' prisma/schema.prisma | awk '/^model Post/{exit} 1' >prisma/schema/a_users.prisma
    awk '/^model Post/{f=1} f' prisma/schema.prisma >prisma/schema/b_posts.prisma
    awk '/^enum Role/{exit} 1' prisma/schema.prisma >prisma/schema/main.prisma
    mv prisma/schema.prisma "$BATS_TEST_TMPDIR/single"
    start DEVINIT_PRISMA_SCHEMA=prisma/schema
    [ "$status" -eq 0 ]
    [[ "$output" == *"prisma/schema changed since the last generate"* ]]
    [[ "$output" == *"generated the prisma client from prisma/schema"* ]]
    run check_reason DEVINIT_PRISMA_SCHEMA=prisma/schema
    [ "$output" = "ok: the client is current with prisma/schema and prisma 7.10.0" ]
    # Without the stamp, Prisma's inlineSchema (all files, in path order) matches ours.
    rm "$STAMP"
    run check_reason DEVINIT_PRISMA_SCHEMA=prisma/schema
    [ "$output" = "ok: the client matches prisma/schema and prisma 7.10.0 (judged by its content)" ]
    echo 'model Extra { id Int @id }' >prisma/schema/c_extra.prisma
    run check_reason DEVINIT_PRISMA_SCHEMA=prisma/schema
    [ "$output" = "would-run: no stamp and the client's schema differs from prisma/schema" ]
    rm -r prisma/schema
    mv "$BATS_TEST_TMPDIR/single" prisma/schema.prisma
}
