#!/usr/bin/env bats
# A schema folder (Prisma 6.6+ and 7 read every *.prisma file under it, subfolders included)
# with the example app's real npm install and real `prisma generate` (Prisma 7): a save in a
# subfolder, a subfolder made while the app runs, an in-place save seen by poll mode and a burst
# of saves each give one generate and one restart. No database: only the generate step runs,
# and the app is a shell that records its pid.
#
# node_modules/.bin/prisma is a shim that records when each real CLI run starts (one line per
# `prisma generate`) and then runs the real CLI.
bats_require_minimum_version 1.5.0
load ../lib/common

setup_file() {
    export APP="$BATS_FILE_TMPDIR/app"
    example_app "$APP"
    cd "$APP"
    rm -rf node_modules/.prisma prisma/schema.prisma
    mkdir -p prisma/schema/models/blog
    cat >prisma/schema/schema.prisma <<'EOF'
generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider = "postgresql"
}
EOF
    cat >prisma/schema/models/user.prisma <<'EOF'
model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
  posts Post[]
}
EOF
    cat >prisma/schema/models/blog/post.prisma <<'EOF'
model Post {
  id       Int    @id @default(autoincrement())
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
}
EOF
    sed -i 's|schema: "prisma/schema.prisma"|schema: "prisma/schema"|' prisma.config.ts
    grep -q 'schema: "prisma/schema"' prisma.config.ts
    "$DEVINIT" --only=deps,generate -- true >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
        { cat "$BATS_FILE_TMPDIR/install.log"; return 1; }
    local real
    real=$(readlink -f node_modules/.bin/prisma)
    rm node_modules/.bin/prisma
    printf '#!/bin/sh\ndate +%%s%%N >>"%s/generates.log"\nexec "%s" "$@"\n' "$APP" "$real" \
        >node_modules/.bin/prisma
    chmod +x node_modules/.bin/prisma
    cp -a prisma/schema "$BATS_FILE_TMPDIR/schema.orig"
    cp -a node_modules/.prisma "$BATS_FILE_TMPDIR/client.orig"
    cp -a node_modules/.devinit-generate.stamp "$BATS_FILE_TMPDIR/stamp.orig"
    export CLIENT_SCHEMA="$APP/node_modules/.prisma/client/schema.prisma"
}

setup() {
    cd "$APP"
    rm -rf prisma/schema node_modules/.prisma generates.log app.pid
    cp -a "$BATS_FILE_TMPDIR/schema.orig" prisma/schema
    cp -a "$BATS_FILE_TMPDIR/client.orig" node_modules/.prisma
    cp -a "$BATS_FILE_TMPDIR/stamp.orig" node_modules/.devinit-generate.stamp
    export DEVINIT_CONTROL_SOCKET="$BATS_TEST_TMPDIR/ctl.sock"
    LOG="$BATS_TEST_TMPDIR/devinit.log"
    DPID=
}

teardown() {
    if [ -n "$DPID" ]; then
        kill -TERM "$DPID" 2>/dev/null || true
        wait "$DPID" 2>/dev/null || true
    fi
    [ -n "${BATS_TEST_COMPLETED:-}" ] || [ ! -f "$LOG" ] || cat "$LOG"
}

# wait_until SECONDS CMD...: retries CMD every 0.05 s until it succeeds or time is up. A
# generate takes 2-3 s alone, more on a busy machine.
wait_until() {
    local end=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# Starts devinit (generate only: the client is current, so nothing runs) with an app that
# records its pid; OLD is that pid.
start_devinit() {
    "$DEVINIT" --only=generate -- sh -c 'echo $$ >app.pid; exec sleep 1000' >"$LOG" 2>&1 &
    DPID=$!
    wait_until 30 test -s app.pid
    OLD=$(cat app.pid)
    # The watch starts right after the app.
    sleep 0.2
}

generates() { [ -f generates.log ] && wc -l <generates.log || echo 0; }
restarted() { [ -s app.pid ] && [ "$(cat app.pid)" != "$OLD" ]; }
count() { grep -cF -- "$1" "$LOG" || true; }

@test "check counts a schema file two folders down: an edit there makes the client stale" {
    run "$DEVINIT" check --only=generate
    [ "$status" -eq 0 ]
    sed -i 's/^  title    String$/  title    String\n  subtitle String?/' prisma/schema/models/blog/post.prisma
    run "$DEVINIT" check --only=generate
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"prisma/schema changed since the last generate"* ]]
}

@test "a save in a subfolder regenerates the client and restarts the app" {
    start_devinit
    sed -i 's/^  name  String?$/  name  String?\n  nickname String?/' prisma/schema/models/user.prisma
    wait_until 60 restarted
    grep -qF "'prisma/schema/models/user.prisma' changed: re-running generate" "$LOG"
    [ "$(generates)" -eq 1 ]
    grep -q nickname "$CLIENT_SCHEMA"
    # Two levels down, by an editor's save (a new file renamed over the old one).
    OLD=$(cat app.pid)
    sed 's/^  title    String$/  title    String\n  subtitle String?/' prisma/schema/models/blog/post.prisma \
        >prisma/schema/models/blog/.post.prisma.tmp
    mv prisma/schema/models/blog/.post.prisma.tmp prisma/schema/models/blog/post.prisma
    wait_until 60 restarted
    [ "$(generates)" -eq 2 ]
    grep -q subtitle "$CLIENT_SCHEMA"
}

@test "a subfolder made while the app runs is watched, and a schema file in it is seen" {
    start_devinit
    # Made and written at once: the file may land before the folder's watch exists.
    mkdir -p prisma/schema/comments/drafts
    printf 'model Draft {\n  id   Int    @id\n  body String\n}\n' >prisma/schema/comments/drafts/draft.prisma
    wait_until 60 restarted
    [ "$(generates)" -eq 1 ]
    grep -q 'model Draft' "$CLIENT_SCHEMA"
    # The new folder is watched itself: a later save in it is seen too.
    OLD=$(cat app.pid)
    printf 'model Draft {\n  id    Int    @id\n  body  String\n  title String?\n}\n' \
        >prisma/schema/comments/drafts/draft.prisma
    wait_until 60 restarted
    [ "$(generates)" -eq 2 ]
    grep -qE 'title +String\?' "$CLIENT_SCHEMA"
    # A folder that holds no schema file is nothing to act on.
    OLD=$(cat app.pid)
    mkdir prisma/schema/empty
    sleep 1
    [ "$(cat app.pid)" = "$OLD" ]
    [ "$(count "'prisma/schema/empty' changed")" -eq 0 ]
    # A subfolder removed with its schema file: the model goes.
    rm -r prisma/schema/comments
    wait_until 60 restarted
    [ "$(generates)" -eq 3 ]
    run ! grep -q 'model Draft' "$CLIENT_SCHEMA"
}

@test "poll mode sees a schema file in a subfolder saved in place" {
    export DEVINIT_WATCH_MODE=poll DEVINIT_WATCH_INTERVAL=200ms
    start_devinit
    ino=$(stat -c %i prisma/schema/models/blog/post.prisma)
    # Appended to, on the same inode: the folders' listings do not change.
    printf '\nmodel Tag {\n  id   Int    @id\n  name String\n}\n' >>prisma/schema/models/blog/post.prisma
    [ "$(stat -c %i prisma/schema/models/blog/post.prisma)" = "$ino" ]
    wait_until 60 restarted
    [ "$(generates)" -eq 1 ]
    grep -q 'model Tag' "$CLIENT_SCHEMA"
    [ "$(count "changed: re-running")" -eq 1 ]
}

@test "a burst of 20 saves is one generate, started as soon as the saves go quiet" {
    start_devinit
    # Each save a new field, written with no fork between saves, 10 ms apart.
    local saves=() i
    for i in $(seq 1 20); do
        saves+=("$(sed "s/^  name  String?\$/  name  String?\n  f$i String?/" \
            "$BATS_FILE_TMPDIR/schema.orig/models/user.prisma")")
    done
    exec {nap}<> <(:)
    first=$(now_ms)
    for i in $(seq 0 19); do
        printf '%s\n' "${saves[i]}" >prisma/schema/models/user.prisma
        read -r -t 0.01 -u "$nap" || true
    done
    last=$(now_ms)
    echo "20 saves in $((last - first)) ms"
    wait_until 60 restarted
    sleep 1.5 # room for a wrong second generate to start
    [ "$(generates)" -eq 1 ]
    grep -qE 'f20 +String\?' "$CLIENT_SCHEMA"
    [ "$(count "generated the prisma client")" -eq 1 ]
    started=$(($(head -n 1 generates.log) / 1000000))
    echo "last save to prisma generate: $((started - last)) ms"
    [ $((started - last)) -lt 200 ]
}
